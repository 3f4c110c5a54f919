/*
 * `limitnet plan SCENARIO.json`
 *
 *   int sim_cmd_plan(int argc, char **argv);   (declared in sim/cli.h)
 *
 * The scenario's cells, one line each, in the order `run` computes them:
 * a stable index, the cell's fingerprint (the hash in its cell file's
 * name: it changes when anything that decides the cell's numbers does),
 * its codec setting and channel labels, and whether it is already
 * complete in the output directory (`done`: a run reuses it) or not
 * (`todo`). The manifest for splitting a sweep among machines; reads no
 * dataset and writes nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/cli.h"
#include "sim/sim.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet plan SCENARIO.json [--set PATH=VALUE]...\n"
        "\n"
        "Lists the scenario's cells (codec setting x channel setting) in the order\n"
        "`run` computes them, one line each: index, fingerprint (the hash in the\n"
        "cell file's name), codec setting, channel, and done (complete in the\n"
        "output directory, so a run reuses it) or todo. Then a line of totals.\n"
        "Reads no dataset, writes nothing.\n"
        "\n"
        "  SCENARIO.json   the scenario\n"
        "  --set PATH=VALUE  an override, as run takes it (run --help)\n"
        "  -h, --help      this help\n");
}

int sim_cmd_plan(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *file = NULL, *sets[SIM_MAX_SETS];
    size_t nsets = 0;
    for (int i = 1; i < argc; i++) {
        int set = sim_arg_set(argc, argv, &i, "plan", sets, &nsets);
        if (set < 0)
            return 2;
        if (set)
            continue;
        if (argv[i][0] == '-' || file)
            return sim_arg_unknown("plan", argv[i]);
        file = argv[i];
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load_set(file, sets, nsets, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    sim_plan_cell *cells;
    size_t n, done = 0;
    int rc = sim_plan(sc, &cells, &n, &err);
    if (rc)
        fprintf(stderr, "limitnet plan: %s: %s\n", file, err.msg);
    for (size_t i = 0; !rc && i < n; i++) {
        printf("%zu %016" PRIx64 " %s %s %s\n", cells[i].index, cells[i].fingerprint,
               cells[i].codec, cells[i].channel, cells[i].done ? "done" : "todo");
        done += cells[i].done != 0;
    }
    if (!rc)
        printf("%zu cells, %zu done, %zu to do; output %s\n", n, done, n - done,
               sc->output);
    if (!rc)
        free(cells);
    sim_scenario_free(sc);
    return rc ? 1 : 0;
}
