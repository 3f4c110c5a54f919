/* The command line's conventions (issue 15, point 4), for the program and
 * every subcommand: -h/--help anywhere prints that command's usage to
 * stdout and exits 0 before any file is opened; missing arguments print
 * the usage to stderr, exit 2; an unknown option is named, exit 2;
 * --version; run's four spellings of -j; the plot scripts' --help; and
 * the README's usage lines are the program's. */
#include "testutil.h"

#include <ctype.h>
#include <dirent.h>

#include "sim/sim.h"

/* Every subcommand, with arguments that would open or write files if the
 * command got past its options: help among them must win, and write
 * nothing. test_program_help fails if the program's usage lists a command
 * this table lacks, or the other way round. */
static const struct sub {
    const char *name, *args;
} subs[] = {
    {"run", "missing.json -j 2"},
    {"check", "missing.json"},
    {"plan", "missing.json"},
    {"merge", "missing.json"},
    {"train", "classifier --config missing.json"},
    {"compare", "missing-dir --clean 0.9"},
    {"capture", "--kind generic -o x.pcap"},
    {"scenes", "--kind cluttered --out sheet"},
    {"gallery", "missing.json --budgets 100 --out x.png"},
    {"device-export", "--config missing.json --weights missing --name x --out out"},
};
#define NSUBS (sizeof subs / sizeof subs[0])

typedef struct fixture {
    char cwd[64];   /* the commands' working directory, kept empty */
    char logs[64];  /* their stdout and stderr */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tu_tempdir(f->cwd);
    tu_tempdir(f->logs);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->cwd);
    tu_rmtree(f->logs);
    free(f);
    return 0;
}

typedef struct result {
    int status;
    char *out, *err; /* free with result_free */
} result;

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

/* Runs `PROG ARGS` in f->cwd with stdout and stderr kept apart (the
 * subshell's redirections win over the 2>&1 tu_run adds). */
static result run_prog(const fixture *f, const char *prog, const char *args)
{
    char cmd[1024], log[256], outp[128], errp[128];
    snprintf(outp, sizeof outp, "%s/out", f->logs);
    snprintf(errp, sizeof errp, "%s/err", f->logs);
    snprintf(cmd, sizeof cmd, "(cd %s && %s %s >%s 2>%s)", f->cwd, prog, args,
             outp, errp);
    result r;
    r.status = tu_run(cmd, log, sizeof log);
    r.out = tu_read_file(outp, NULL);
    r.err = tu_read_file(errp, NULL);
    assert_non_null(r.out);
    assert_non_null(r.err);
    return r;
}

static result run_cli(const fixture *f, const char *args)
{
    return run_prog(f, LIMITNET_BIN, args);
}

/* Nothing was written to the working directory. */
static void assert_cwd_empty(const fixture *f, const char *what)
{
    DIR *d = opendir(f->cwd);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("%s wrote %s in its working directory", what, e->d_name);
    closedir(d);
}

static int known_sub(const char *name, size_t len)
{
    for (size_t i = 0; i < NSUBS; i++)
        if (strlen(subs[i].name) == len && !strncmp(subs[i].name, name, len))
            return 1;
    return 0;
}

/* The commands the program's usage lists: the first word of each line
 * indented by two spaces after "commands:". */
static size_t usage_commands(const char *usage, char names[][32], size_t cap)
{
    const char *p = strstr(usage, "\ncommands:\n");
    assert_non_null(p);
    size_t n = 0;
    for (p = strchr(p + 1, '\n') + 1; *p && n < cap; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "  ", 2) != 0 || !islower((unsigned char)p[2]))
            break;
        size_t len = strcspn(p + 2, " \n");
        snprintf(names[n++], 32, "%.*s", (int)len, p + 2);
        if (!strchr(p, '\n'))
            break;
    }
    return n;
}

static void test_program_help(void **state)
{
    fixture *f = *state;
    static const char *const spellings[] = {"-h", "--help", "help"};
    for (size_t s = 0; s < 3; s++) {
        result r = run_cli(f, spellings[s]);
        if (r.status != 0 || strncmp(r.out, "usage: limitnet ", 16) || r.err[0])
            fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", spellings[s],
                     r.status, r.out, r.err);
        assert_non_null(strstr(r.out, "--help"));
        assert_non_null(strstr(r.out, "--version"));
        char names[32][32];
        size_t n = usage_commands(r.out, names, 32);
        for (size_t i = 0; i < n; i++)
            if (!known_sub(names[i], strlen(names[i])))
                fail_msg("the usage lists %s, which this test does not check",
                         names[i]);
        /* and the other way round: the table holds no stale name */
        for (size_t k = 0; k < NSUBS; k++) {
            size_t i = 0;
            while (i < n && strcmp(names[i], subs[k].name))
                i++;
            if (i == n)
                fail_msg("the usage does not list %s", subs[k].name);
        }
        result_free(&r);
        assert_cwd_empty(f, spellings[s]);
    }
}

static void test_program_version(void **state)
{
    fixture *f = *state;
    static const char *const spellings[] = {"--version", "version"};
    for (size_t s = 0; s < 2; s++) {
        result r = run_cli(f, spellings[s]);
        assert_int_equal(r.status, 0);
        assert_string_equal(r.out, "limitnet " SIM_VERSION "\n");
        assert_string_equal(r.err, "");
        result_free(&r);
    }
}

static void test_program_bad_usage(void **state)
{
    fixture *f = *state;
    result r = run_cli(f, "");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "usage: limitnet "));
    result_free(&r);
    static const char *const bad[] = {"frobnicate", "--frobnicate", "help frobnicate"};
    for (size_t s = 0; s < 3; s++) {
        r = run_cli(f, bad[s]);
        if (r.status != 2 || r.out[0] || !strstr(r.err, "frobnicate"))
            fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", bad[s],
                     r.status, r.out, r.err);
        result_free(&r);
    }
    assert_cwd_empty(f, "limitnet with bad usage");
}

/* The usage's first line and its indented continuations, whitespace
 * collapsed: "limitnet run SCENARIO.json [-j N] ...". */
static void synopsis(const char *usage, char *out, size_t cap)
{
    assert_memory_equal(usage, "usage: ", 7);
    size_t n = 0;
    int space = 0;
    for (const char *p = usage + 7; *p && n + 1 < cap; p++) {
        if (*p == '\n' && p[1] != ' ')
            break;
        if (isspace((unsigned char)*p)) {
            space = 1;
            continue;
        }
        if (space && n)
            out[n++] = ' ';
        space = 0;
        out[n++] = *p;
    }
    out[n] = 0;
}

/* The README's Commands section's command lines (those indented as
 * code), whitespace collapsed, each between newlines: "\nbin/limitnet
 * check SCENARIO.json\n...". */
static char *readme_commands(void)
{
    char *text = tu_read_file(SOURCE_DIR "/README.md", NULL);
    assert_non_null(text);
    char *start = strstr(text, "## Commands\n");
    assert_non_null(start);
    char *end = strstr(start + 1, "\n## ");
    if (end)
        *end = 0;
    char *out = malloc(strlen(start) + 2);
    assert_non_null(out);
    size_t n = 0;
    out[n++] = '\n';
    for (const char *p = start; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "    ", 4) != 0)
            continue;
        int space = 0;
        for (const char *q = p + 4; *q && *q != '\n'; q++) {
            if (isspace((unsigned char)*q)) {
                space = 1;
                continue;
            }
            if (space)
                out[n++] = ' ';
            space = 0;
            out[n++] = *q;
        }
        out[n++] = '\n';
    }
    out[n] = 0;
    free(text);
    return out;
}

/* Its usage line in the README is the one the program prints. */
static void assert_in_readme(const char *readme, const char *prefix,
                             const char *usage)
{
    char syn[1024], line[1100];
    synopsis(usage, syn, sizeof syn);
    snprintf(line, sizeof line, "\n%s%s\n", prefix, syn);
    if (!strstr(readme, line))
        fail_msg("README.md's Commands section lacks the line \"%s%s\"", prefix,
                 syn);
}

static void test_subcommand_help(void **state)
{
    fixture *f = *state;
    char *readme = readme_commands();
    for (size_t k = 0; k < NSUBS; k++) {
        char args[6][256], head[64];
        snprintf(args[0], 256, "%s --help", subs[k].name);
        snprintf(args[1], 256, "%s -h", subs[k].name);
        snprintf(args[2], 256, "%s %s --help", subs[k].name, subs[k].args);
        snprintf(args[3], 256, "%s -h %s", subs[k].name, subs[k].args);
        snprintf(args[4], 256, "%s %s -h --bogus-option", subs[k].name, subs[k].args);
        snprintf(args[5], 256, "help %s", subs[k].name);
        snprintf(head, sizeof head, "usage: limitnet %s ", subs[k].name);
        char *first = NULL;
        for (int a = 0; a < 6; a++) {
            result r = run_cli(f, args[a]);
            if (r.status != 0 || strncmp(r.out, head, strlen(head)) || r.err[0])
                fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", args[a],
                         r.status, r.out, r.err);
            assert_cwd_empty(f, args[a]);
            if (!first)
                first = strdup(r.out);
            else
                assert_string_equal(r.out, first);
            result_free(&r);
        }
        /* one screen: what each option does fits a terminal */
        int lines = 0;
        for (const char *p = first; *p; p++)
            lines += *p == '\n';
        if (lines > 30)
            fail_msg("%s --help is %d lines long", subs[k].name, lines);
        assert_in_readme(readme, "bin/", first);
        free(first);
    }
    free(readme);
}

static void test_subcommand_missing_arguments(void **state)
{
    fixture *f = *state;
    for (size_t k = 0; k < NSUBS; k++) {
        char head[64];
        snprintf(head, sizeof head, "usage: limitnet %s ", subs[k].name);
        result r = run_cli(f, subs[k].name);
        if (r.status != 2 || r.out[0] || !strstr(r.err, head))
            fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", subs[k].name,
                     r.status, r.out, r.err);
        result_free(&r);
        assert_cwd_empty(f, subs[k].name);
    }
}

static void test_subcommand_unknown_option(void **state)
{
    fixture *f = *state;
    for (size_t k = 0; k < NSUBS; k++) {
        char args[2][256], msg[128], hint[64];
        snprintf(args[0], 256, "%s --bogus-option", subs[k].name);
        snprintf(args[1], 256, "%s %s --bogus-option", subs[k].name, subs[k].args);
        snprintf(msg, sizeof msg, "limitnet %s: unknown option --bogus-option",
                 subs[k].name);
        snprintf(hint, sizeof hint, "limitnet %s --help", subs[k].name);
        for (int a = 0; a < 2; a++) {
            result r = run_cli(f, args[a]);
            if (r.status != 2 || r.out[0] || !strstr(r.err, msg) ||
                !strstr(r.err, hint))
                fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", args[a],
                         r.status, r.out, r.err);
            result_free(&r);
            assert_cwd_empty(f, args[a]);
        }
    }
}

/* A few items and one codec setting: enough to see that the thread count
 * was taken and changes nothing. */
static const char *tiny =
    "{\"name\": \"tiny\", \"seed\": 3,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 10, \"count\": 6},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"progressive\", \"quality\": 50}],\n"
    " \"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51,\n"
    "             \"loss\": {\"model\": \"independent\", \"p\": 0.2}},\n"
    " \"deadlines\": [1, 30], \"budgets\": [100],\n"
    " \"output\": \"%s/out-%d\"}\n";

static void test_run_jobs_spellings(void **state)
{
    fixture *f = *state;
    static const char *const spellings[] = {"-j 2", "-j2", "--jobs 2", "--jobs=2"};
    char *first = NULL;
    for (int s = 0; s < 4; s++) {
        char json[1024], file[128], args[256], path[160];
        snprintf(json, sizeof json, tiny, f->logs, s);
        snprintf(file, sizeof file, "%s/tiny-%d.json", f->logs, s);
        tu_write_file(file, json, strlen(json));
        snprintf(args, sizeof args, "run %s %s", file, spellings[s]);
        result r = run_cli(f, args);
        if (r.status != 0 || !strstr(r.out, ", 2 threads)"))
            fail_msg("limitnet %s: exit %d, stdout %s, stderr %s", args, r.status,
                     r.out, r.err);
        result_free(&r);
        snprintf(path, sizeof path, "%s/out-%d/results.csv", f->logs, s);
        char *csv = tu_read_file(path, NULL);
        assert_non_null(csv);
        if (!first)
            first = csv;
        else {
            if (strcmp(first, csv))
                fail_msg("%s gave another results.csv than -j 2", spellings[s]);
            free(csv);
        }
    }
    free(first);
    assert_cwd_empty(f, "run");
    /* Bad counts in each spelling: usage errors, and no output directory. */
    static const char *const bad[] = {"-j 0", "-j0", "-jx", "--jobs 1025",
                                      "--jobs=", "--jobs=-1", "-j 2x", "--jobs"};
    char json[1024], file[128];
    snprintf(json, sizeof json, tiny, f->logs, 9);
    snprintf(file, sizeof file, "%s/tiny-9.json", f->logs);
    tu_write_file(file, json, strlen(json));
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        char args[256], path[160];
        snprintf(args, sizeof args, "run %s %s", file, bad[b]);
        result r = run_cli(f, args);
        if (r.status != 2 || !strstr(r.err, "-j/--jobs wants a number of threads"))
            fail_msg("limitnet %s: exit %d, stderr %s", args, r.status, r.err);
        result_free(&r);
        snprintf(path, sizeof path, "%s/out-9", f->logs);
        assert_int_equal(access(path, F_OK), -1);
    }
}

static void test_plot_scripts(void **state)
{
    fixture *f = *state;
    static const char *const scripts[] = {"plot.sh", "plot-compare.sh", "plot-loss.sh"};
    char *readme = readme_commands();
    for (int s = 0; s < 3; s++) {
        char prog[512], head[64];
        snprintf(prog, sizeof prog, "%s/scripts/%s", SOURCE_DIR, scripts[s]);
        snprintf(head, sizeof head, "usage: scripts/%s RESULTS_DIR", scripts[s]);
        static const char *const helps[] = {"--help", "-h", "missing-dir --help"};
        for (int a = 0; a < 3; a++) {
            result r = run_prog(f, prog, helps[a]);
            if (r.status != 0 || strncmp(r.out, head, strlen(head)) || r.err[0])
                fail_msg("%s %s: exit %d, stdout %s, stderr %s", scripts[s],
                         helps[a], r.status, r.out, r.err);
            if (a == 0)
                assert_in_readme(readme, "", r.out);
            result_free(&r);
        }
        result r = run_prog(f, prog, "");
        if (r.status != 2 || r.out[0] || !strstr(r.err, head))
            fail_msg("%s without arguments: exit %d, stderr %s", scripts[s],
                     r.status, r.err);
        result_free(&r);
        r = run_prog(f, prog, "missing-dir --bogus-option");
        if (r.status != 2 || r.out[0] || !strstr(r.err, "unknown option --bogus-option"))
            fail_msg("%s --bogus-option: exit %d, stderr %s", scripts[s], r.status,
                     r.err);
        result_free(&r);
        assert_cwd_empty(f, scripts[s]);
    }
    free(readme);
}

/* text with its first from replaced by to, into buf (room: len). */
static void replace_once(const char *text, const char *from, const char *to, char *buf,
                         size_t len)
{
    const char *at = from ? strstr(text, from) : NULL;
    if (!at) {
        snprintf(buf, len, "%s", text);
        return;
    }
    snprintf(buf, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* `check` refuses what `run` would (issue 15, point 5), before anything
 * is written: items past the dataset's end, a missing dataset, an output
 * below a file, a model that does not take the dataset's images; and its
 * messages say what is wanted in words, and count in the singular when
 * there is one. */
static void test_check_catches(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *says;
    } cases[] = {
        {"\"count\": 20", "\"count\": 20000", "dataset: 20000 items from item 0: "},
        {"\"split\": \"test\"", "\"split\": \"test\", \"dir\": \"/nonexistent\"",
         "/nonexistent/t10k-images-idx3-ubyte.gz: cannot open"},
        {"/out\"", "/f/out\"", "/f is not a directory"},
        {"\"codecs\": [", "\"codecs\": [{\"name\": \"limitnet\", \"weights\": "
         "\"" SOURCE_DIR "/models/limitnet-cluttered.safetensors\", \"keep\": 0.5}, ",
         "limitnet-k0.5 over link-5470bps-p51: item 0: the model takes 64x64x3 images"},
        {"[128, 512]", "[128, -5]", "budgets[1]: expected a whole number of bytes > 0, got -5"},
        {"\"jpeg\"", "\"jpg\"", "unknown codec \"jpg\" (known: \"jpeg\", \"j2k\""},
        {NULL, NULL, NULL}, /* as it is: fine */
    };
    const char *fmt =
        "{\"name\": \"ck\", \"dataset\": {\"name\": \"fashion-mnist\", \"split\": "
        "\"test\", \"count\": 20}, \"codecs\": [{\"name\": \"jpeg\", \"quality\": 50}], "
        "\"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51, "
        "\"header\": 13}, \"budgets\": [128, 512], \"output\": \"%s/out\"}";
    char dir[64], path[128], cmd[512], out[4096], base[1024], text[1024];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    tu_write_file(path, "x", 1);
    snprintf(base, sizeof base, fmt, dir);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        replace_once(base, cases[k].from, cases[k].to, text, sizeof text);
        snprintf(path, sizeof path, "%s/s.json", dir);
        tu_write_file(path, text, strlen(text));
        snprintf(cmd, sizeof cmd, "%s check %s", LIMITNET_BIN, path);
        int st = tu_run(cmd, out, sizeof out);
        if (!cases[k].from) {
            assert_int_equal(st, 0);
            assert_non_null(strstr(out, "ok: 1 codec setting, 1 channel setting, "
                                        "0 deadlines, 2 budgets"));
            continue;
        }
        if (st != 2 || !strstr(out, cases[k].says))
            fail_msg("case %zu: exit %d, wanted 2 and \"%s\": %s (%s)", k, st,
                     cases[k].says, out, text);
        snprintf(path, sizeof path, "%s/out", dir);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    tu_rmtree(dir);
}

/* --set (issue 15, point 6): overrides of the scenario's JSON, checked as
 * the file is, echoed in summary.json, and part of what the cells'
 * fingerprints cover; merge and plan take the same ones. */
static void test_set_overrides(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[1024], out[8192], text[1024];
    tu_tempdir(dir);
    snprintf(text, sizeof text,
             "{\"name\": \"st\", \"dataset\": {\"name\": \"fashion-mnist\", \"split\": "
             "\"test\", \"count\": 20}, \"codecs\": [{\"name\": \"jpeg\", \"quality\": 50}], "
             "\"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51, "
             "\"header\": 13}, \"budgets\": [128, 512], \"output\": \"%s/out\"}", dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, text, strlen(text));
    const char *sets = "--set dataset.count=10 --set 'codecs[0].quality=[10, 90]' "
                       "--set output=%s/o10";
    char setv[256];
    snprintf(setv, sizeof setv, sets, dir);
    snprintf(cmd, sizeof cmd, "%s run %s --quiet %s", LIMITNET_BIN, path, setv);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "(10 images)"));
    assert_non_null(strstr(out, "jpeg-baseline-q10"));
    assert_non_null(strstr(out, "jpeg-baseline-q90"));
    snprintf(path, sizeof path, "%s/o10/summary.json", dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(summary);
    assert_non_null(strstr(summary, "\"overrides\":\t[\"dataset.count=10\", "
                                    "\"codecs[0].quality=[10, 90]\""));
    assert_non_null(strstr(summary, "\"count\":\t10"));
    free(summary);
    /* plan with the same overrides finds the cells done; the 20-item
     * scenario's cells (same codecs, other count) are not these */
    snprintf(cmd, sizeof cmd, "%s plan %s/s.json %s", LIMITNET_BIN, dir, setv);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "2 done, 0 to do"));
    snprintf(cmd, sizeof cmd, "%s plan %s/s.json --set 'codecs[0].quality=[10, 90]' "
             "--set output=%s/o10", LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "0 done, 2 to do"));
    static const struct {
        const char *set, *says;
    } bad[] = {
        {"'codecs[3].quality=5'", "--set codecs[3].quality=5: the scenario has no such place"},
        {"dataset.count=many", "dataset.count: expected an integer"},
        {"budgets.x=3", "--set budgets.x=3: the scenario has no such place"},
        {"colour=red", "colour: unknown key"},
        {"count", "--set wants PATH=VALUE"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(cmd, sizeof cmd, "%s check %s/s.json --set %s", LIMITNET_BIN, dir, bad[k].set);
        int st = tu_run(cmd, out, sizeof out);
        if (st != 2 || !strstr(out, bad[k].says))
            fail_msg("--set %s: exit %d, wanted 2 and \"%s\": %s", bad[k].set, st,
                     bad[k].says, out);
    }
    tu_rmtree(dir);
}

/* Progress within a cell (issue 15, point 7): on a terminal (a pty from
 * script(1)) one line rewritten in place with items, rate and time left,
 * then the cell's line over it; --progress gives plain lines there
 * instead, and stderr to a file or pipe gets a plain line per cell. */
static void test_progress(void **state)
{
    (void)state;
    if (system("command -v script >/dev/null 2>&1") != 0) {
        skip(); /* util-linux's script: installed with Debian's bsdutils */
        return;
    }
    char dir[64], path[128], cmd[1024], out[16384], text[1024];
    tu_tempdir(dir);
    snprintf(text, sizeof text,
             "{\"name\": \"pg\", \"dataset\": {\"name\": \"fashion-mnist\", \"split\": "
             "\"test\", \"count\": 1200}, \"codecs\": [{\"name\": \"limitnet\", "
             "\"weights\": \"%s/models/limitnet-fmnist.safetensors\", \"keep\": 1}], "
             "\"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51, "
             "\"header\": 13}, \"budgets\": [64, 256, 1024], \"task\": {\"classifier\": "
             "\"%s/models/fmnist-classifier.safetensors\"}, \"output\": \"%s/out\"}",
             SOURCE_DIR, SOURCE_DIR, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "script -qec '%s run %s -j 1' /dev/null", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    const char *line = strstr(out, "\r\033[K[1/1] limitnet-k1 ");
    if (!line || !strstr(line, "/1200 items, ") || !strstr(line, "/s, about ") ||
        !strstr(line, "\r\033[K[1/1] limitnet-k1                  link-5470bps-p51 done ("))
        fail_msg("no progress rewritten in place: %s", out);
    /* done cells are reused: plain lines, a pipe and --progress alike */
    snprintf(cmd, sizeof cmd, "script -qec '%s run %s -j 1 --progress' /dev/null",
             LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "\033[K"));
    assert_non_null(strstr(out, "[1/1] limitnet-k1                  link-5470bps-p51 reused"));
    snprintf(cmd, sizeof cmd, "%s run %s -j 1 2>&1 >/dev/null | cat", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    /* one line, the cell's (with the seconds it took when computed) */
    assert_int_equal(strncmp(out, "[1/1] limitnet-k1                  link-5470bps-p51 "
                                  "reused (", 52), 0);
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_help),
        cmocka_unit_test(test_program_version),
        cmocka_unit_test(test_program_bad_usage),
        cmocka_unit_test(test_subcommand_help),
        cmocka_unit_test(test_subcommand_missing_arguments),
        cmocka_unit_test(test_subcommand_unknown_option),
        cmocka_unit_test(test_run_jobs_spellings),
        cmocka_unit_test(test_plot_scripts),
        cmocka_unit_test(test_check_catches),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
