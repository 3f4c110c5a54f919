/*
 * Sweeps on real engines: a small scenario split into 4 shards through
 * scripts/sweep-parallel.sh (GNU parallel) and scripts/sweep-slurm.sh (a
 * Slurm job array and a dependent merge job, on the one-node cluster of
 * scripts/slurm-local.sh), each merged results.csv compared byte for byte
 * with a single-process `limitnet run` of the same scenario. A test skips,
 * saying why, when its engine is not installed or cannot start.
 */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

/* Five cells (codec settings over one channel), 40 items: a fraction of a
 * second in all, and enough cells for 4 shards. */
static const char *scenario =
    "{\"name\": \"sweep\", \"seed\": 11,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 200, \"count\": 40},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": [\"baseline\", \"progressive\"],\n"
    "              \"quality\": [20, 70]},\n"
    "             {\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": 50}],\n"
    " \"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51,\n"
    "             \"header\": 13, \"duty_cycle\": 0.01,\n"
    "             \"loss\": {\"model\": \"gilbert_elliott\", \"p_gb\": 0.1,\n"
    "                      \"p_bg\": 0.4, \"loss_bad\": 0.7}},\n"
    " \"deadlines\": [0.05, 1, 10, 30, 120],\n"
    " \"budgets\": [40, 200, 400],\n"
    " \"output\": \"%s\"}\n";

#define NCELLS 5

/* Writes DIR/NAME.json: the scenario with "output": "NAME" (relative: the
 * scripts and jobs run in DIR). */
static void write_scenario(const char *dir, const char *name)
{
    char path[256], json[2048];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    snprintf(json, sizeof json, scenario, name);
    tu_write_file(path, json, strlen(json));
}

/* The single-process reference: DIR/ref/results.csv (free it). */
static char *reference(const char *dir, size_t *len)
{
    char cmd[1024], msg[8192], path[256];
    write_scenario(dir, "ref");
    snprintf(cmd, sizeof cmd, "cd %s && %s run ref.json --quiet -j 1", dir, LIMITNET_BIN);
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("limitnet run failed (%d): %s", st, msg);
    snprintf(path, sizeof path, "%s/ref/results.csv", dir);
    char *csv = tu_read_file(path, len);
    assert_non_null(csv);
    assert_true(*len > 100);
    return csv;
}

/* DIR/NAME/results.csv must be byte for byte the reference. */
static void same_results(const char *dir, const char *name, const char *ref,
                         size_t ref_len)
{
    char path[256];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s/results.csv", dir, name);
    char *csv = tu_read_file(path, &len);
    if (!csv)
        fail_msg("%s was not written", path);
    if (len != ref_len || memcmp(csv, ref, len) != 0)
        fail_msg("%s (%zu bytes) differs from the single-process run's "
                 "(%zu bytes)", path, len, ref_len);
    free(csv);
}

/* Lines of `text` that contain `what`. */
static int count_lines(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        n += strstr(line, what) != NULL;
        p = end ? end + 1 : NULL;
    }
    return n;
}

/* True when `name` is a program on PATH. */
static int have(const char *name)
{
    char cmd[256], msg[256];
    snprintf(cmd, sizeof cmd, "command -v %s", name);
    return tu_run(cmd, msg, sizeof msg) == 0;
}

/* A whole /proc file (free it): tu_read_file goes by the file's size,
 * which /proc says is 0. */
static char *read_proc(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* Processes whose command line or environment mention `dir` (the sandbox
 * daemons name it in their arguments, the job steps in SLURM_CONF). */
static int procs_mentioning(const char *dir, char *who, size_t cap)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    who[0] = 0;
    long self = (long)getpid();
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        const char *files[] = {"cmdline", "environ"};
        for (int f = 0; f < 2; f++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%ld/%s", pid, files[f]);
            size_t len = 0;
            char *text = read_proc(path, &len);
            if (!text)
                continue;
            for (size_t i = 0; i < len; i++)
                if (!text[i])
                    text[i] = ' ';
            int hit = strstr(text, dir) != NULL;
            free(text);
            if (hit) {
                char comm[64] = "?", cpath[64];
                snprintf(cpath, sizeof cpath, "/proc/%ld/comm", pid);
                char *c = read_proc(cpath, NULL);
                if (c) {
                    snprintf(comm, sizeof comm, "%.*s", (int)strcspn(c, "\n"), c);
                    free(c);
                }
                size_t used = strlen(who);
                snprintf(who + used, cap - used, " %s(%ld)", comm, pid);
                n++;
                break;
            }
        }
    }
    closedir(d);
    return n;
}

/* ---- usage: no engine needed */

static void test_usage(void **state)
{
    (void)state;
    char dir[64], cmd[1024];
    static char msg[16384];
    tu_tempdir(dir);
    const char *scripts[] = {"sweep-parallel.sh", "sweep-slurm.sh", "slurm-local.sh"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "%s/scripts/%s --help", SOURCE_DIR, scripts[i]);
        assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
        assert_non_null(strstr(msg, "usage: scripts/"));
        snprintf(cmd, sizeof cmd, "cd %s && %s/scripts/%s", dir, SOURCE_DIR, scripts[i]);
        assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
        snprintf(cmd, sizeof cmd, "cd %s && %s/scripts/%s nope.json --bogus", dir,
                 SOURCE_DIR, scripts[i]);
        assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    }
    /* A scenario that is not there, or not valid: exit 2, named. */
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s %s/scripts/%s nope.json",
                 dir, LIMITNET_BIN, SOURCE_DIR, scripts[i]);
        assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
        assert_non_null(strstr(msg, "nope.json"));
    }
    snprintf(cmd, sizeof cmd, "cd %s && echo '{' > bad.json && LIMITNET=%s "
             "%s/scripts/sweep-slurm.sh bad.json --dry-run", dir, LIMITNET_BIN, SOURCE_DIR);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "bad.json"));
    /* The dry run shows the array, the dependency and absolute paths. */
    write_scenario(dir, "dry");
    snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s %s/scripts/sweep-slurm.sh dry.json "
             "--shards 4 --cpus-per-task 2 --time 5 --dry-run", dir, LIMITNET_BIN, SOURCE_DIR);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    char want[256];
    const char *parts[] = {"--array=1-4", "--dependency=afterok:", "--cpus-per-task=2",
                           "--time=5", "--kill-on-invalid-dep=yes", "/dry/slurm/%A_%a.out",
                           "--shard \"$SLURM_ARRAY_TASK_ID/4\"",
                           "-j \"${SLURM_CPUS_PER_TASK:-1}\"", " merge "};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (!strstr(msg, parts[i]))
            fail_msg("dry run lacks %s:\n%s", parts[i], msg);
    snprintf(want, sizeof want, "run %s/dry.json", dir);
    if (!strstr(msg, want))
        fail_msg("dry run lacks the absolute scenario path %s:\n%s", want, msg);
    /* A dry run submits nothing and writes nothing. */
    struct stat sb;
    snprintf(want, sizeof want, "%s/dry", dir);
    assert_int_not_equal(stat(want, &sb), 0);
    tu_rmtree(dir);
}

/* ---- GNU parallel */

static void test_parallel(void **state)
{
    (void)state;
    if (!have("parallel")) {
        print_message("skipped: GNU parallel is not installed (Debian: parallel)\n");
        skip();
    }
    char dir[64], cmd[1536], path[256];
    static char msg[65536];
    tu_tempdir(dir);
    size_t ref_len = 0;
    char *ref = reference(dir, &ref_len);

    /* Four shards, then the merge. */
    write_scenario(dir, "par");
    snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s %s/scripts/sweep-parallel.sh par.json "
             "--shards 4 --jobs 2", dir, LIMITNET_BIN, SOURCE_DIR);
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("sweep-parallel.sh failed (%d): %s", st, msg);
    same_results(dir, "par", ref, ref_len);
    snprintf(path, sizeof path, "%s/par/sweep-parallel-4.joblog", dir);
    char *log = tu_read_file(path, NULL);
    assert_non_null(log);
    assert_int_equal(count_lines(log, "--shard "), 4);
    free(log);

    /* A shard killed (SIGKILL, before it wrote anything): the sweep fails
     * naming it, leaves no results.csv, keeps the other shards' cells;
     * rerun, only that shard runs again, and the result is the same. */
    write_scenario(dir, "res");
    snprintf(path, sizeof path, "%s/wrap.sh", dir);
    char wrap[1024];
    snprintf(wrap, sizeof wrap,
             "#!/bin/bash\n"
             "echo \"$*\" >> %s/calls\n"
             "if [ \"$1\" = run ] && [ \"$4\" = 2/4 ] && [ -e %s/kill-shard-2 ]; then\n"
             "  kill -KILL $$\n"
             "fi\n"
             "exec %s \"$@\"\n", dir, dir, LIMITNET_BIN);
    tu_write_file(path, wrap, strlen(wrap));
    assert_int_equal(chmod(path, 0755), 0);
    snprintf(path, sizeof path, "%s/kill-shard-2", dir);
    tu_write_file(path, "", 0);
    snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s/wrap.sh %s/scripts/sweep-parallel.sh "
             "res.json --shards 4 --jobs 2", dir, dir, SOURCE_DIR);
    st = tu_run(cmd, msg, sizeof msg);
    if (st != 1)
        fail_msg("a killed shard: sweep-parallel.sh exited %d, not 1: %s", st, msg);
    assert_non_null(strstr(msg, "shard(s) 2 of 4 failed"));
    snprintf(path, sizeof path, "%s/res/results.csv", dir);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    snprintf(cmd, sizeof cmd, "cd %s && %s plan res.json", dir, LIMITNET_BIN);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    int todo = count_lines(msg, " todo");
    if (todo < 1 || todo >= NCELLS)
        fail_msg("after shard 2 was killed, %d cells to do: %s", todo, msg);
    snprintf(path, sizeof path, "%s/kill-shard-2", dir);
    assert_int_equal(unlink(path), 0);
    snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s/wrap.sh %s/scripts/sweep-parallel.sh "
             "res.json --shards 4 --jobs 2", dir, dir, SOURCE_DIR);
    st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("the rerun failed (%d): %s", st, msg);
    same_results(dir, "res", ref, ref_len);
    snprintf(path, sizeof path, "%s/calls", dir);
    char *calls = tu_read_file(path, NULL);
    assert_non_null(calls);
    if (count_lines(calls, "--shard 2/4 ") != 2 || count_lines(calls, "--shard ") != 5 ||
        count_lines(calls, "merge ") != 1)
        fail_msg("the rerun ran more than shard 2 and the merge:\n%s", calls);
    free(calls);

    /* Run again, all done: no shard runs, the merge gives the same. */
    st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("the second rerun failed (%d): %s", st, msg);
    calls = tu_read_file(path, NULL);
    assert_int_equal(count_lines(calls, "--shard "), 5);
    assert_int_equal(count_lines(calls, "merge "), 2);
    free(calls);
    same_results(dir, "res", ref, ref_len);

    /* A joblog of another shard count is refused, not misread. */
    snprintf(cmd, sizeof cmd, "cd %s && LIMITNET=%s %s/scripts/sweep-parallel.sh res.json "
             "--shards 3 --joblog res/sweep-parallel-4.joblog", dir, LIMITNET_BIN, SOURCE_DIR);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "another shard count"));
    free(ref);
    tu_rmtree(dir);
}

/* ---- Slurm */

typedef struct slurm_state {
    char dir[64];     /* the test's directory */
    char sandbox[128]; /* the cluster's, DIR/cluster */
    int started;
} slurm_state;

static void stop_cluster(slurm_state *s)
{
    char cmd[512], msg[8192];
    snprintf(cmd, sizeof cmd, "%s/scripts/slurm-local.sh stop %s", SOURCE_DIR, s->sandbox);
    int st = tu_run(cmd, msg, sizeof msg);
    s->started = 0;
    if (st != 0)
        fail_msg("slurm-local.sh stop failed (%d): %s", st, msg);
}

static int slurm_setup(void **state)
{
    slurm_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    strcpy(s->dir, "/tmp/limitnet-test-XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    /* munged runs as user munge and must reach DIR/cluster/munge. */
    chmod(s->dir, 0711);
    snprintf(s->sandbox, sizeof s->sandbox, "%s/cluster", s->dir);
    *state = s;
    return 0;
}

/* Stops the cluster if the test did not (it failed or skipped midway),
 * then checks that nothing of it is left running. */
static int slurm_teardown(void **state)
{
    slurm_state *s = *state;
    int rc = 0;
    if (s->started) {
        char cmd[512], msg[8192];
        snprintf(cmd, sizeof cmd, "%s/scripts/slurm-local.sh stop %s", SOURCE_DIR, s->sandbox);
        if (tu_run(cmd, msg, sizeof msg) != 0) {
            print_error("slurm-local.sh stop failed: %s\n", msg);
            rc = -1;
        }
    }
    char who[1024];
    if (procs_mentioning(s->sandbox, who, sizeof who) > 0) {
        print_error("still running after slurm-local.sh stop:%s\n", who);
        rc = -1;
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        rc = -1;
    free(s);
    return rc;
}

static void test_slurm(void **state)
{
    slurm_state *s = *state;
    const char *progs[] = {"munged", "munge", "slurmctld", "slurmd", "sbatch", "sinfo",
                           "scontrol", "runuser"};
    for (size_t i = 0; i < sizeof progs / sizeof *progs; i++)
        if (!have(progs[i])) {
            print_message("skipped: %s is not installed (Debian: munge slurm-wlm)\n", progs[i]);
            skip();
        }
    if (geteuid() != 0) {
        print_message("skipped: the sandbox Slurm cluster needs root (slurmd)\n");
        skip();
    }
    char cmd[1536], conf[256];
    static char msg[65536];
    /* The daemons start before the reference runs, so that a cluster that
     * cannot start skips at once. */
    snprintf(cmd, sizeof cmd, "%s/scripts/slurm-local.sh start %s", SOURCE_DIR, s->sandbox);
    s->started = 1; /* whatever it started, teardown stops */
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0) {
        print_message("skipped: the sandbox Slurm cluster did not start (%d): %s\n", st, msg);
        skip();
    }
    snprintf(conf, sizeof conf, "export SLURM_CONF=%s/slurm.conf", s->sandbox);
    if (!strstr(msg, conf))
        fail_msg("slurm-local.sh start did not print \"%s\": %s", conf, msg);

    size_t ref_len = 0;
    char *ref = reference(s->dir, &ref_len);
    write_scenario(s->dir, "slurm");
    snprintf(cmd, sizeof cmd, "cd %s && SLURM_CONF=%s/slurm.conf LIMITNET=%s timeout 90 "
             "%s/scripts/sweep-slurm.sh slurm.json --shards 4 --wait", s->dir, s->sandbox,
             LIMITNET_BIN, SOURCE_DIR);
    st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("sweep-slurm.sh --wait failed (%d): %s", st, msg);
    same_results(s->dir, "slurm", ref, ref_len);
    /* Four array tasks ran, each wrote its log. */
    long array = -1;
    const char *a = strstr(msg, "array ");
    assert_non_null(a);
    assert_int_equal(sscanf(a, "array %ld (4 tasks)", &array), 1);
    for (int k = 1; k <= 4; k++) {
        char path[256];
        struct stat sb;
        snprintf(path, sizeof path, "%s/slurm/slurm/%ld_%d.out", s->dir, array, k);
        if (stat(path, &sb) != 0)
            fail_msg("no log %s from array task %d", path, k);
    }
    free(ref);

    /* Every daemon stops, and nothing of the cluster is left. */
    stop_cluster(s);
    char who[1024];
    if (procs_mentioning(s->sandbox, who, sizeof who) > 0)
        fail_msg("still running after slurm-local.sh stop:%s", who);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test_setup_teardown(test_slurm, slurm_setup, slurm_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
