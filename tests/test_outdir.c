/* The output directory as a shared place (sim/outdir.c): a whole run
 * refused while another process holds the output's lock, shards beside
 * shards allowed, the holder named; cell files of other fingerprints
 * counted, and removed with their sidecars by run --prune, which leaves
 * everything else and the results as they were. The lock is held here by
 * util-linux's flock(1), which takes the same flock(2) lock. */
#include "testutil.h"

static const char *scenario =
    "{\"name\": \"od\", \"seed\": 2,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"split\": \"test\", \"count\": 20},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"baseline\", \"quality\": [5, 50]}],\n"
    " \"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51, \"header\": 13,\n"
    "             \"loss\": {\"model\": \"none\"}},\n"
    " \"budgets\": [128, 512],\n"
    " \"task\": {\"classifier\": \"%s/models/fmnist-classifier.safetensors\"},\n"
    " \"output\": \"%s/out\"}\n";

static void setup(char *dir)
{
    char path[128], json[2048];
    tu_tempdir(dir);
    snprintf(json, sizeof json, scenario, SOURCE_DIR, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, json, strlen(json));
}

/* limitnet ARGS on the scenario while flock(1) holds the output's lock
 * (FLOCK_ARGS: "" exclusive, "-s" shared) with note written into the lock
 * file; the exit status, the output in out. */
static int held(const char *dir, const char *flock_args, const char *note,
                const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/out && printf '%s' > %s/out/.lock && "
             "flock %s %s/out/.lock %s %s %s/s.json", dir, note, dir, flock_args, dir,
             LIMITNET_BIN, args, dir);
    return tu_run(cmd, out, cap);
}

static void test_lock(void **state)
{
    (void)state;
    char dir[64], out[4096];
    setup(dir);
    /* a whole run, and a merge, while a whole run holds it: refused,
     * naming the holder, and nothing written */
    assert_int_equal(held(dir, "", "pid 7 on elsewhere, since 2026-01-01 00:00:00 UTC\\n",
                          "run --quiet", out, sizeof out), 1);
    assert_non_null(strstr(out, "/out: another limitnet run is writing there (pid 7 on "
                                "elsewhere, since 2026-01-01 00:00:00 UTC); wait for it"));
    assert_int_equal(held(dir, "", "", "merge", out, sizeof out), 1);
    assert_non_null(strstr(out, "another limitnet run is writing there; wait"));
    char path[128];
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a shard while it is held exclusively: refused too */
    assert_int_equal(held(dir, "", "", "run --quiet --shard 1/2", out, sizeof out), 1);
    /* shards beside a shard, and merge beside one, go on; a whole run does not */
    assert_int_equal(held(dir, "-s", "", "run --quiet --shard 1/2", out, sizeof out), 0);
    assert_int_equal(held(dir, "-s", "", "run --quiet --cells 1", out, sizeof out), 0);
    assert_int_equal(held(dir, "-s", "", "merge", out, sizeof out), 0);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(held(dir, "-s", "", "run --quiet", out, sizeof out), 1);
    /* once free, a whole run goes on, and leaves no note behind */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s run %s/s.json --quiet", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/out/.lock", dir);
    size_t len = 1;
    free(tu_read_file(path, &len));
    assert_int_equal(len, 0);
    tu_rmtree(dir);
}

static void test_prune(void **state)
{
    (void)state;
    char dir[64], cmd[1024], out[4096], path[128];
    setup(dir);
    snprintf(cmd, sizeof cmd, "%s run %s/s.json --quiet", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *before = tu_read_file(path, NULL);
    assert_non_null(before);
    /* an old cell with its sidecars and a part, and files that are not ours */
    snprintf(cmd, sizeof cmd, "cd %s/out/cells && f=$(ls jpeg-baseline-q5-*.csv) && "
             "s=jpeg-baseline-q5-0123456789abcdef && cp $f $s.csv && "
             "cp ${f%%.csv}.hits $s.hits && cp ${f%%.csv}.meta.json $s.meta.json && "
             "touch $s.part-0-9.csv notes.txt jpeg-baseline-q5-12.csv", dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s run %s/s.json", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "limitnet: ignored 4 files in "));
    assert_non_null(strstr(out, "run --prune removes them"));
    snprintf(cmd, sizeof cmd, "%s run %s/s.json --prune", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "limitnet: removed 4 files of other fingerprints"));
    snprintf(cmd, sizeof cmd, "ls %s/out/cells | tr '\\n' ' '", dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "0123456789abcdef"));
    assert_non_null(strstr(out, "notes.txt"));
    assert_non_null(strstr(out, "jpeg-baseline-q5-12.csv"));
    /* the two cells' six files (CSV, hits, meta), and jpeg-baseline-q5-12.csv,
     * which has no fingerprint */
    int ours = 0;
    for (const char *p = strstr(out, "jpeg-baseline-q"); p; p = strstr(p + 1, "jpeg-baseline-q"))
        ours++;
    assert_int_equal(ours, 7);
    snprintf(cmd, sizeof cmd, "%s run %s/s.json", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_null(strstr(out, "ignored"));
    char *after = tu_read_file(path, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
