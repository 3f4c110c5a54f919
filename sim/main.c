/*
 * bin/limitnet: the command line. Results go to files, a short summary to
 * stdout, progress and errors to stderr.
 */
#include <cblas.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/sim.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet <command> [options]\n"
        "\n"
        "  run SCENARIO.json [-j N] [--force] [--quiet]\n"
        "        run an experiment; results go to the scenario's output directory\n"
        "        -j N      worker threads (default: all cores)\n"
        "        --force   recompute cells that an earlier run completed\n"
        "        --quiet   no progress lines on stderr\n"
        "  check SCENARIO.json\n"
        "        check a scenario and list its codec settings; writes nothing\n"
        "  train MODEL --config FILE [--check] [--resume] [--stop-after N]\n"
        "        train a model: classifier or limitnet (see models/README.md);\n"
        "        --check only checks the config; --stop-after: classifier only\n"
        "  compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES] [--out NAME]\n"
        "        accuracy-against-bytes curves per codec family, compared at\n"
        "        equal bytes; writes NAME.csv and NAME.md (default comparison)\n"
        "  capture --kind generic|loratap|semtech -o FILE.pcap [options] [KEY=VALUE ...]\n"
        "        write an example capture for the trace channel from a channel model\n"
        "        (limitnet capture --help)\n"
        "  scenes --kind cluttered --out DIR [--split S] [--count N] [--first N]\n"
        "         [--size PX] [--seed N] [--cols N] [--scale N]\n"
        "        a contact sheet (PNG) of composed scenes with their boxes, mask\n"
        "        outlines and classes\n"
        "  gallery SCENARIO.json --budgets B1,B2,... --out FILE.png [--count N]\n"
        "          [--first N] [--codecs LABEL,...] [--scale N]\n"
        "        what the cloud sees: each codec setting's reconstructions of a few\n"
        "        items from the packets that fit in each byte budget\n"
        "  version\n");
}

/* The signal that asked a run to stop, 0 if none. The handler only stores
 * it: a lock-free atomic is async-signal-safe, and the workers read it
 * between items (sim_options.stop). */
#if ATOMIC_INT_LOCK_FREE != 2
#error "the stop flag needs a lock-free atomic int"
#endif
static atomic_int stop_signal;

static void on_stop(int sig)
{
    atomic_store(&stop_signal, sig);
}

/* SA_RESETHAND: a second SIGINT or SIGTERM kills at once, for a user who
 * will not wait for the item in progress. A signal ignored when we started
 * (nohup, a background job's SIGINT) stays ignored. */
static void catch_stop(int sig)
{
    struct sigaction old, sa;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler == SIG_IGN)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(sig, &sa, NULL);
}

static void progress(void *ctx, const sim_cell *cell, size_t index, size_t total)
{
    (void)ctx;
    fprintf(stderr, "[%zu/%zu] %-28s %s %s (%.2f s)\n", index + 1, total,
            cell->codec, cell->channel, cell->reused ? "reused" : "done",
            cell->seconds);
}

/* One line per codec setting, one column per cut: accuracy (%) when a
 * classifier is configured, PSNR (dB) otherwise; a block per channel
 * setting when there are several. */
static void print_table(const sim_scenario *sc, const sim_result *res)
{
    int acc = sc->classifier[0] != 0;
    printf("%s: %s over %s (%zu images), %s\n", sc->name,
           acc ? "top-1 accuracy %" : "PSNR dB",
           sc->nchans > 1 ? "each channel" : res->ncells ? res->cells[0].channel : "",
           res->ncells ? res->cells[0].rows[0].images : 0,
           "rows: codec setting, columns: deadline (s) or budget (B)");
    for (size_t c = 0; c < res->ncells; c++) {
        const sim_cell *cell = &res->cells[c];
        if (c % sc->ncodecs == 0) {
            if (sc->nchans > 1)
                printf("channel %s\n", cell->channel);
            printf("%-26s %8s", "codec", "bytes");
            for (size_t i = 0; i < sc->ndeadlines; i++)
                printf(" %6gs", sc->deadlines[i]);
            for (size_t i = 0; i < sc->nbudgets; i++)
                printf(" %6ldB", sc->budgets[i]);
            printf("\n");
        }
        printf("%-26s %8.1f", cell->codec, cell->rows[0].encoded_bytes);
        for (size_t i = 0; i < cell->nrows; i++)
            printf(" %7.1f", acc ? 100 * cell->rows[i].accuracy
                                 : cell->rows[i].psnr);
        printf("\n");
    }
    printf("results: %s/results.csv, %s/summary.json (%.1f s, %d threads)\n",
           sc->output, sc->output, res->seconds, res->threads);
}

static int cmd_run(int argc, char **argv)
{
    sim_options opt = {.progress = progress, .stop = &stop_signal};
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-j") == 0 && i + 1 < argc) {
            long j;
            if (sim_arg_long(argv[++i], 1, 1024, &j)) {
                fprintf(stderr, "limitnet run: -j wants a thread count, got %s\n",
                        argv[i]);
                return 2;
            }
            opt.threads = (int)j;
        } else if (strcmp(argv[i], "--force") == 0) {
            opt.force = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            opt.progress = NULL;
        } else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "limitnet run: unexpected argument %s\n", argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    if (opt.progress && !isatty(STDERR_FILENO))
        opt.progress = NULL;
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load(file, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    /* Workers already run in parallel; OpenBLAS threads inside each would
     * only oversubscribe the cores. */
    openblas_set_num_threads(1);
    catch_stop(SIGTERM);
    catch_stop(SIGINT);
    sim_result res;
    int rc = sim_run(sc, &opt, &res, &err);
    int sig = atomic_load(&stop_signal);
    size_t total = sc->ncodecs * sc->nchans;
    if (rc && res.interrupted)
        fprintf(stderr, "limitnet: %s: stopped by %s: %zu of %zu cells are "
                "complete in %s/cells and kept, the one in progress was "
                "dropped; running the same command again resumes\n", sc->file,
                sig == SIGINT ? "SIGINT" : "SIGTERM", res.ncomplete, total,
                sc->output);
    else if (rc) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        if (res.ncomplete > 0)
            fprintf(stderr, "limitnet: %zu of %zu cells are complete in "
                    "%s/cells and kept; running the same command again "
                    "reuses them\n", res.ncomplete, total, sc->output);
    } else
        print_table(sc, &res);
    int interrupted = rc && res.interrupted;
    sim_result_free(&res);
    sim_scenario_free(sc);
    /* Ended by the signal, as the caller asked: a shell loop or make sees a
     * process killed by SIGINT/SIGTERM (SA_RESETHAND restored the default
     * action), not just a failure. 128 + sig if it somehow returns. */
    if (interrupted && sig) {
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    return rc ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load(argv[1], &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    printf("%s: ok: %zu codec settings, %zu channel settings, %zu deadlines, "
           "%zu budgets, output %s\n", sc->file, sc->ncodecs, sc->nchans,
           sc->ndeadlines, sc->nbudgets, sc->output);
    for (size_t i = 0; i < sc->ncodecs; i++)
        printf("  %s (%s)\n", sc->codecs[i].label, sc->codecs[i].where);
    for (size_t i = 0; i < sc->nchans; i++)
        printf("  %s (%s)\n", sc->chans[i].label, sc->chans[i].where);
    sim_scenario_free(sc);
    return 0;
}

int main(int argc, char **argv)
{
    /* Past a file-size limit (ulimit -f) the kernel sends SIGXFSZ, whose
     * default action kills us without a word; ignored, the write fails with
     * EFBIG and the error path names the file and keeps what was done. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0)
        return sim_cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return sim_cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "capture") == 0)
        return sim_cmd_capture(argc - 1, argv + 1);
    if (strcmp(cmd, "scenes") == 0)
        return sim_cmd_scenes(argc - 1, argv + 1);
    if (strcmp(cmd, "gallery") == 0)
        return sim_cmd_gallery(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("limitnet %s\n", SIM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "limitnet: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
