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

/* -j's upper bound: far above any machine this runs on, low enough that a
 * typo (-j 10000) is caught rather than starting that many threads. */
#define MAX_JOBS 1024

/* The subcommands, for dispatch and for the program's usage alike, so
 * that the usage lists exactly what main() runs. Each prints its own
 * usage for -h/--help (sim_arg_help). */
static int cmd_run(int argc, char **argv);
static int cmd_check(int argc, char **argv);

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *what;
} commands[] = {
    {"run", cmd_run, "run an experiment: each codec setting over each channel setting"},
    {"check", cmd_check, "check a scenario and list its settings; writes nothing"},
    {"plan", sim_cmd_plan, "list a scenario's cells, their fingerprints, and which are done"},
    {"merge", sim_cmd_merge, "gather a sharded run's cells and write its results"},
    {"train", sim_cmd_train, "train a model (classifier, detector or limitnet) from a config"},
    {"compare", sim_cmd_compare, "accuracy against bytes per codec family, at equal bytes"},
    {"capture", sim_cmd_capture, "write an example capture for the trace channel"},
    {"scenes", sim_cmd_scenes, "a contact sheet (PNG) of composed scenes and their boxes"},
    {"gallery", sim_cmd_gallery, "what the cloud sees: reconstructions at byte budgets"},
    {"device-export", sim_cmd_device_export, "the device's int8 encoder as C, from a LimitNet weight file"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet COMMAND [ARGUMENTS]\n"
        "       limitnet COMMAND --help    what COMMAND's arguments and options do\n"
        "       limitnet help [COMMAND]    this, or COMMAND's help\n"
        "       limitnet --version         the version (also: limitnet version)\n"
        "\n"
        "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
    fprintf(f,
        "\n"
        "Results go to files, a short summary to stdout, progress and errors to\n"
        "stderr. Exit status: 0 success, 1 failure, 2 bad usage or input.\n");
}

static void usage_run(FILE *f)
{
    fprintf(f,
        "usage: limitnet run SCENARIO.json [-j N] [--force] [--quiet|--progress]\n"
        "         [--cells LIST] [--shard K/N] [--items A-B] [--per-item] [--prune]\n"
        "         [--set P=V]...\n"
        "\n"
        "Runs an experiment: each codec setting over each channel setting (a cell),\n"
        "each stored in the output directory (cells/) and reused by a rerun;\n"
        "results.csv and summary.json go there too, the table to stdout. Stopped\n"
        "by Ctrl-C, it keeps the finished cells; the same command resumes it.\n"
        "\n"
        "  SCENARIO.json   the experiment (scenarios/README.md)\n"
        "  -j, --jobs N    worker threads, 1..%d (default: all cores); the\n"
        "                  results do not depend on it (also -jN, --jobs=N)\n"
        "  --force         recompute the cells an earlier run completed\n"
        "  --quiet         no progress on stderr (a line rewritten in place on a\n"
        "                  terminal, else a line per cell and every 10 s in one)\n"
        "  --progress      those plain lines even on a terminal\n"
        "  --cells LIST    compute only these cells (indices as `limitnet plan`\n"
        "                  prints them: 3,7-9); the rest are reused when done,\n"
        "                  and results.csv is written once every cell is done\n"
        "  --shard K/N     compute shard K of N of the cells: a fixed split\n"
        "                  balanced by each codec's cost, the same whenever the\n"
        "                  shards run; done cells are reused\n"
        "  --items A-B     only items A..B (0..count-1) of the selected cells, as\n"
        "                  parts; parts that cover a cell make it, byte for byte\n"
        "  --per-item      also write each item's row at every cut beside each\n"
        "                  cell; done cells without them are computed again\n"
        "  --prune         first remove the output's cell files of other\n"
        "                  fingerprints (older builds, weights or settings)\n"
        "  --set P=V       set the scenario's P to V first (dataset.count=200)\n"
        "  -h, --help      this help\n", MAX_JOBS);
}

static void usage_check(FILE *f)
{
    fprintf(f,
        "usage: limitnet check SCENARIO.json [--set PATH=VALUE]...\n"
        "\n"
        "Reads and checks a scenario as run would, and lists its codec and\n"
        "channel settings, each with where in the file it comes from. Also\n"
        "what run would meet before writing: that the dataset holds the\n"
        "items, that the task models take its images, that every codec\n"
        "setting encodes and decodes the first item at every channel's\n"
        "payload, and that the output directory can be made. Writes nothing;\n"
        "exit status 2 and the file and JSON path of the first error when it\n"
        "is wrong.\n"
        "\n"
        "  SCENARIO.json   the experiment (scenarios/README.md)\n"
        "  --set PATH=VALUE  PATH of the scenario as its errors spell it\n"
        "                  (dataset.count, codecs[0].quality) set to VALUE, JSON or\n"
        "                  else a string, before it is checked; as run takes it\n"
        "  -h, --help      this help\n");
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

/* How progress is shown: on a terminal one line rewritten in place a few
 * times a second; elsewhere (a file, a cluster's log) a plain line every
 * PLAIN_EVERY seconds within a cell, and one per cell. */
#define PLAIN_EVERY 10.0

typedef struct progress_view {
    int tty;
    int open;        /* a line being rewritten is on the terminal */
    double last;     /* when the last plain line within a cell was written */
} progress_view;

static void progress(void *ctx, const sim_cell *cell, size_t index, size_t total)
{
    progress_view *sh = ctx;
    fprintf(stderr, "%s[%zu/%zu] %-28s %s %s (%.2f s)\n", sh->open ? "\r\033[K" : "",
            index + 1, total, cell->codec, cell->channel,
            cell->reused ? "reused" : "done", cell->seconds);
    sh->open = 0;
    sh->last = 0;
}

/* "1h02m", "3m05s" or "12s". */
static void duration(char *buf, size_t len, double s)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

static void item_progress(void *ctx, const sim_item_progress *p)
{
    progress_view *sh = ctx;
    if (!sh->tty && p->seconds - sh->last < PLAIN_EVERY)
        return;
    sh->last = p->seconds;
    double rate = p->seconds > 0 ? (double)p->done / p->seconds : 0;
    char eta[32] = "?";
    if (rate > 0)
        duration(eta, sizeof eta, (double)(p->total - p->done) / rate);
    fprintf(stderr, "%s[%zu/%zu] %-28s %s: %zu/%zu items, %.1f/s, about %s left%s",
            sh->tty ? "\r\033[K" : "", p->cell + 1, p->ncells, p->codec, p->channel,
            p->done, p->total, rate, eta, sh->tty ? "" : "\n");
    sh->open = sh->tty;
}

/* One line per codec setting, one column per cut: mAP@0.5 (%) when a
 * detector is configured, else accuracy (%) when a classifier is, PSNR
 * (dB) otherwise; a block per channel setting when there are several. */
static double shown(int what, const sim_row *r)
{
    return what == 2 ? 100 * r->map50 : what == 1 ? 100 * r->accuracy : r->psnr;
}

static void print_table(const sim_scenario *sc, const sim_result *res)
{
    int what = sc->detector[0] ? 2 : sc->classifier[0] ? 1 : 0;
    printf("%s: %s over %s (%zu images), %s\n", sc->name,
           what == 2 ? "mAP@0.5 %" : what == 1 ? "top-1 accuracy %" : "PSNR dB",
           sc->nchans * sc->nseeds > 1 ? "each channel" : res->ncells ? res->cells[0].channel : "",
           res->ncells ? res->cells[0].rows[0].images : 0,
           "rows: codec setting, columns: deadline (s) or budget (B)");
    for (size_t c = 0; c < res->ncells; c++) {
        const sim_cell *cell = &res->cells[c];
        if (c % sc->ncodecs == 0) {
            if (sc->nchans * sc->nseeds > 1)
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
            printf(" %7.1f", shown(what, &cell->rows[i]));
        printf("\n");
    }
    printf("results: %s/results.csv, %s/summary.json (%.1f s, %d threads)\n",
           sc->output, sc->output, res->seconds, res->threads);
}

/* "A-B" into opt's item range: 0 or -1. */
static int parse_items(const char *v, sim_options *opt)
{
    const char *dash = strchr(v, '-');
    char a[32];
    long lo, hi;
    if (!dash || (size_t)(dash - v) >= sizeof a)
        return -1;
    snprintf(a, sizeof a, "%.*s", (int)(dash - v), v);
    if (sim_arg_long(a, 0, 1000000000, &lo) || sim_arg_long(dash + 1, lo, 1000000000, &hi))
        return -1;
    opt->has_items = 1;
    opt->items_lo = (size_t)lo;
    opt->items_hi = (size_t)hi;
    return 0;
}

/* "3,7-9" into only[0..n-1]: 0 or -1 (naming what is wrong) for an index
 * at or past n, a range that runs backwards, or anything but digits,
 * commas and dashes. */
static int parse_cells(const char *list, size_t n, uint8_t *only)
{
    char buf[4096];
    size_t len = strlen(list);
    /* strtok would skip an empty item: "0," and "1,,2" are typos */
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf || !len ||
        list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,"))
        return -1;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        long a, b;
        if (dash)
            *dash = 0;
        if (sim_arg_long(tok, 0, (long)n - 1, &a) ||
            (dash && sim_arg_long(dash + 1, 0, (long)n - 1, &b)) || (dash && b < a))
            return -1;
        for (long i = a; i <= (dash ? b : a); i++)
            only[i] = 1;
    }
    return 0;
}

/* A cell's relative cost for balancing shards: what its codec costs per
 * image, roughly: the learned codec runs a decoder network per cut, JPEG
 * 2000 decodes layer by layer, the rest are cheap. Every cell of a
 * scenario has the same images and cuts. */
static double cell_cost(const char *codec)
{
    if (!strncmp(codec, "limitnet", 8))
        return 8;
    return strcmp(codec, "j2k") == 0 ? 2 : 1;
}

/* Shard k of n (0-based): the cells, costliest first (ties by index),
 * each given to the shard with the least cost so far (ties to the
 * lowest). The split covers every cell, done or not, so that it is the
 * same whenever and in whatever order the shards run: a shard run again
 * after dying reuses what it finished and computes the rest of its own. */
static void shard_cells(const sim_scenario *sc, long k, long n, size_t total,
                        uint8_t *only, size_t *order, double *load)
{
    for (size_t i = 0; i < total; i++)
        order[i] = i;
    for (size_t i = 1; i < total; i++) /* insertion sort: stable, by cost */
        for (size_t j = i; j > 0 && cell_cost(sc->codecs[order[j] % sc->ncodecs].codec) >
                                        cell_cost(sc->codecs[order[j - 1] % sc->ncodecs].codec);
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < total; i++) {
        long best = 0;
        for (long s = 1; s < n; s++)
            best = load[s] < load[best] ? s : best;
        load[best] += cell_cost(sc->codecs[order[i] % sc->ncodecs].codec);
        only[order[i]] = best == k;
    }
}

static int cmd_run(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage_run(stdout);
        return 0;
    }
    progress_view sh = {.tty = isatty(STDERR_FILENO)};
    sim_options opt = {.progress = progress, .item_progress = item_progress,
                       .progress_ctx = &sh, .stop = &stop_signal};
    const char *file = NULL, *v, *cells = NULL;
    long shard_k = -1, shard_n = 0;
    const char *sets[SIM_MAX_SETS];
    size_t nsets = 0;
    for (int i = 1; i < argc; i++) {
        int set = sim_arg_set(argc, argv, &i, "run", sets, &nsets);
        if (set < 0)
            return 2;
        if (set)
            continue;
        int m = sim_arg_value(argc, argv, &i, "-j", "--jobs", &v);
        long j;
        if (!m && (m = sim_arg_value(argc, argv, &i, NULL, "--shard", &v)) != 0) {
            char kbuf[32];
            const char *slash = m > 0 ? strchr(v, '/') : NULL;
            if (!slash || slash - v >= (long)sizeof kbuf ||
                sim_arg_long(slash + 1, 1, 1000000, &shard_n) ||
                (snprintf(kbuf, sizeof kbuf, "%.*s", (int)(slash - v), v),
                 sim_arg_long(kbuf, 1, shard_n, &shard_k))) {
                fprintf(stderr, "limitnet run: --shard wants K/N with 1 <= K <= N\n");
                return 2;
            }
            shard_k--;
        } else if (!m && (m = sim_arg_value(argc, argv, &i, NULL, "--items", &v)) != 0) {
            if (m < 0 || parse_items(v, &opt)) {
                fprintf(stderr, "limitnet run: --items wants a range of item positions "
                        "A-B with 0 <= A <= B, got %s\n", m < 0 ? "nothing" : v);
                return 2;
            }
        } else if (!m && (m = sim_arg_value(argc, argv, &i, NULL, "--cells", &v)) != 0) {
            if (m < 0) {
                fprintf(stderr, "limitnet run: --cells wants a list of cell indices\n");
                return 2;
            }
            cells = v;
        } else if (m) {
            if (m < 0 || sim_arg_long(v, 1, MAX_JOBS, &j)) {
                fprintf(stderr, "limitnet run: -j/--jobs wants a number of "
                        "threads, 1..%d, got %s\n", MAX_JOBS,
                        m < 0 ? "nothing" : v);
                return 2;
            }
            opt.threads = (int)j;
        } else if (strcmp(argv[i], "--force") == 0) {
            opt.force = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            opt.progress = NULL;
            opt.item_progress = NULL;
        } else if (strcmp(argv[i], "--progress") == 0) {
            sh.tty = 0; /* plain lines, wherever stderr goes */
        } else if (strcmp(argv[i], "--prune") == 0) {
            opt.prune = 1;
        } else if (strcmp(argv[i], "--per-item") == 0) {
            opt.per_item = 1;
        } else if ((argv[i][0] == '-' && argv[i][1]) || file) {
            return sim_arg_unknown("run", argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        usage_run(stderr);
        return 2;
    }
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load_set(file, sets, nsets, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    size_t total = sim_scenario_cells(sc);
    uint8_t *only = NULL;
    if (cells && shard_n) {
        fprintf(stderr, "limitnet run: --cells and --shard: give one of them\n");
        sim_scenario_free(sc);
        return 2;
    }
    if (cells && (!(only = calloc(total, 1)) || parse_cells(cells, total, only))) {
        fprintf(stderr, "limitnet run: --cells %s: expected indices 0..%zu as in "
                "`limitnet plan`, e.g. 3,7-9\n", cells, total - 1);
        free(only);
        sim_scenario_free(sc);
        return 2;
    }
    if (shard_n) {
        size_t *order = malloc(total * sizeof *order);
        double *load = calloc((size_t)shard_n, sizeof *load);
        only = calloc(total, 1);
        if (order && load && only)
            shard_cells(sc, shard_k, shard_n, total, only, order, load);
        free(order);
        free(load);
        if (!order || !load || !only) {
            fprintf(stderr, "limitnet run: --shard: out of memory\n");
            free(only);
            sim_scenario_free(sc);
            return 1;
        }
    }
    opt.only = only;
    opt.nonly = total;
    /* Workers already run in parallel; OpenBLAS threads inside each would
     * only oversubscribe the cores. */
    openblas_set_num_threads(1);
    catch_stop(SIGTERM);
    catch_stop(SIGINT);
    sim_result res;
    int rc = sim_run(sc, &opt, &res, &err);
    int sig = atomic_load(&stop_signal);
    if (res.nstale && opt.progress) /* not with --quiet */
        fprintf(stderr, opt.prune ? "limitnet: removed %zu files of other fingerprints "
                "from %s/cells\n" : "limitnet: ignored %zu files in %s/cells of other "
                "fingerprints (older builds, weights or settings); run --prune "
                "removes them\n", res.nstale, sc->output);
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
    } else if (res.ntodo)
        printf("%s: %zu of %zu cells complete in %s/cells, %zu to do "
               "(limitnet plan lists them); results.csv is written when all are "
               "done\n", sc->file, res.ncomplete, total, sc->output, res.ntodo);
    else
        print_table(sc, &res);
    free(only);
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

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static int cmd_check(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage_check(stdout);
        return 0;
    }
    const char *file = NULL, *sets[SIM_MAX_SETS];
    size_t nsets = 0;
    for (int i = 1; i < argc; i++) {
        int set = sim_arg_set(argc, argv, &i, "check", sets, &nsets);
        if (set < 0)
            return 2;
        if (set)
            continue;
        if ((argv[i][0] == '-' && argv[i][1]) || file)
            return sim_arg_unknown("check", argv[i]);
        file = argv[i];
    }
    if (!file) {
        usage_check(stderr);
        return 2;
    }
    util_err err;
    sim_scenario *sc;
    if (sim_scenario_load_set(file, sets, nsets, &sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        return 2;
    }
    /* what run would meet on its first item and at its output, too */
    if (sim_check(sc, &err)) {
        fprintf(stderr, "limitnet: %s\n", err.msg);
        sim_scenario_free(sc);
        return 2;
    }
    printf("%s: ok: %zu codec setting%s, %zu channel setting%s, %zu deadline%s, "
           "%zu budget%s, output %s\n", sc->file, sc->ncodecs, plural(sc->ncodecs),
           sc->nchans, plural(sc->nchans), sc->ndeadlines, plural(sc->ndeadlines),
           sc->nbudgets, plural(sc->nbudgets), sc->output);
    for (size_t i = 0; i < sc->ncodecs; i++)
        printf("  %s (%s)\n", sc->codecs[i].label, sc->codecs[i].where);
    for (size_t i = 0; i < sc->nchans; i++)
        printf("  %s (%s)\n", sc->chans[i].label, sc->chans[i].where);
    if (sc->nseeds > 1) {
        printf("  %zu seeds (seed), each a channel realisation:", sc->nseeds);
        for (size_t i = 0; i < sc->nseeds; i++)
            printf(" %llu", (unsigned long long)sc->seeds[i]);
        printf("\n");
    }
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
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("limitnet %s\n", SIM_VERSION);
        return 0;
    }
    /* `limitnet help run` (or --help run) is `limitnet run --help`. */
    int help = strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
               strcmp(cmd, "-h") == 0;
    if (help && argc == 2) {
        usage(stdout);
        return 0;
    }
    if (help && argc > 3) {
        fprintf(stderr, "limitnet: %s takes at most a command name\n", cmd);
        usage(stderr);
        return 2;
    }
    const char *name = help ? argv[2] : cmd;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        if (help) {
            char *args[] = {argv[2], "--help", NULL};
            return commands[i].fn(2, args);
        }
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "limitnet: unknown %s \"%s\"\n",
            name[0] == '-' ? "option" : "command", name);
    usage(stderr);
    return 2;
}
