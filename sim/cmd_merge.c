/*
 * `limitnet merge SCENARIO.json [DIR ...]`
 *
 *   int sim_cmd_merge(int argc, char **argv);   (declared in sim/cli.h)
 *
 * The last step of a sweep split into shards (`run --shard`, `--cells`)
 * on other processes or machines: gathers their cell files into the
 * scenario's output directory and, once every cell is there, writes
 * results.csv and summary.json by the very code a single `run` uses, from
 * the same cell files, so results.csv is byte for byte what one process
 * would have written. It computes nothing: a missing cell is named, and
 * rerunning its shard completes the sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"
#include "sim/sim.h"
#include "sim/sim_impl.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet merge SCENARIO.json [DIR ...] [--set PATH=VALUE]...\n"
        "\n"
        "Gathers the cell files of a sweep run in shards (run --shard K/N or\n"
        "--cells) into the scenario's output directory, and when every cell is\n"
        "complete writes results.csv and summary.json there, byte for byte as\n"
        "one `limitnet run` would (summary.json lists the hosts that computed\n"
        "the cells). Computes nothing.\n"
        "\n"
        "  SCENARIO.json   the scenario the shards ran\n"
        "  DIR             more places holding cell files copied back from other\n"
        "                  machines: an output directory (its cells/) or a\n"
        "                  directory of cell files. Files whose fingerprint is\n"
        "                  not one of this scenario's cells, or that do not read\n"
        "                  back whole, are refused by name and left alone.\n"
        "  --set PATH=VALUE  the overrides the shards ran with (run --help)\n"
        "  -h, --help      this help\n"
        "\n"
        "Exit status: 0 when results.csv was written; 1 when cells are missing\n"
        "(they are listed: rerun their shards, then merge again) or a file\n"
        "cannot be written; 2 for bad usage, a bad scenario or an unreadable DIR.\n");
}

/* Gathers each DIR's cells; says what was refused. 0, or the exit status. */
static int gather(const sim_scenario *sc, int ndirs, char **dirs, size_t *copied)
{
    for (int i = 0; i < ndirs; i++) {
        util_err err;
        sim_gather g = {0};
        struct stat sb;
        if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "limitnet merge: %s: not a directory\n", dirs[i]);
            return 2;
        }
        int rc = sim_gather_cells(sc, dirs[i], &g, &err);
        for (size_t k = 0; k < g.nrefused; k++)
            fprintf(stderr, "limitnet merge: %s\n", g.refused[k]);
        if (rc)
            fprintf(stderr, "limitnet merge: %s\n", err.msg);
        else
            fprintf(stderr, "limitnet merge: %s: %zu cells copied, %zu already "
                    "present, %zu refused, %zu of other codec settings ignored%s\n",
                    dirs[i], g.copied, g.present, g.nrefused, g.foreign,
                    g.parts ? "; parts of cells copied too" : "");
        *copied += g.copied;
        sim_gather_free(&g);
        if (rc)
            return 1;
    }
    return 0;
}

int sim_cmd_merge(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2)
            return sim_arg_unknown("merge", argv[1]);
        usage(stderr);
        return 2;
    }
    /* the DIRs, and the overrides the shards ran with */
    const char *sets[SIM_MAX_SETS];
    size_t nsets = 0;
    int ndirs = 0;
    for (int i = 2; i < argc; i++) {
        int set = sim_arg_set(argc, argv, &i, "merge", sets, &nsets);
        if (set < 0)
            return 2;
        if (set)
            continue;
        if (argv[i][0] == '-')
            return sim_arg_unknown("merge", argv[i]);
        argv[2 + ndirs++] = argv[i];
    }
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load_set(argv[1], sets, nsets, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    size_t copied = 0, total = sim_scenario_cells(sc);
    /* Shared, as a shard's: merge computes no cell (it puts parts
     * together), so it may run beside shards, but not beside a whole run. */
    int lock = -1, rc = 0;
    if (util_mkdirs(sc->output, &err) || sim_outdir_lock(sc->output, 1, &lock, &err)) {
        fprintf(stderr, "limitnet merge: %s\n", err.msg);
        rc = 1;
    }
    if (!rc)
        rc = gather(sc, ndirs, argv + 2, &copied);
    /* Nothing selected: every cell is reused or left to do, and results
     * are written only when none is left, as for `run --cells`. */
    uint8_t *none = rc ? NULL : calloc(total, 1);
    if (!rc && !none) {
        fprintf(stderr, "limitnet merge: out of memory\n");
        rc = 1;
    }
    sim_options opt = {.threads = 1, .only = none, .nonly = total, .lock_held = 1};
    sim_result res = {0};
    if (!rc && sim_run(sc, &opt, &res, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        rc = 1;
    } else if (!rc && res.ntodo) {
        fprintf(stderr, "limitnet merge: %s: %zu of %zu cells are missing from "
                "%s/cells:\n", sc->file, res.ntodo, total, sc->output);
        for (size_t k = 0; k < res.ncells; k++)
            if (!res.cells[k].rows)
                fprintf(stderr, "  %zu %s %s\n", k, res.cells[k].codec,
                        res.cells[k].channel);
        fprintf(stderr, "limitnet merge: rerun the shards that computed them (or "
                "run --cells with these indices), then merge again\n");
        rc = 1;
    } else if (!rc) {
        printf("%s: %zu cells merged (%zu copied in); results: %s/results.csv, "
               "%s/summary.json\n", sc->file, total, copied, sc->output, sc->output);
    }
    sim_outdir_unlock(lock, 1);
    free(none);
    sim_result_free(&res);
    sim_scenario_free(sc);
    return rc;
}
