/* Malformed scenarios: each must exit non-zero with one line naming the
 * file and the JSON path, and must write nothing to the output directory. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

/* A valid scenario with %s for the output directory. */
#define BASE_DATASET "\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 4}"
#define BASE_CODECS "\"codecs\": [{\"name\": \"jpeg\", \"quality\": [10, 50]}]"
#define BASE_CHANNEL_OBJ "{\"model\": \"link\", \"duty_cycle\": 0.01, " \
    "\"loss\": {\"model\": \"independent\", \"p\": 0.1}}"
#define BASE_CHANNEL "\"channel\": " BASE_CHANNEL_OBJ
#define BASE_CUTS "\"deadlines\": [1, 10]"
#define OUT "\"output\": \"%s\""

typedef struct bad_case {
    const char *json;     /* printf format taking the output directory */
    const char *path;     /* what the message must name */
    int status;           /* expected exit status */
} bad_case;

static const bad_case cases[] = {
    {"{" BASE_DATASET ", " BASE_CODECS ", " OUT ",", "line", 2},
    {"[1, 2, 3]", "(top level)", 2},
    {"{\"seeed\": 3, " BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", "
     BASE_CUTS ", " OUT "}", "seeed: unknown key", 2},
    {"{" BASE_DATASET ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}",
     "codecs: missing", 2},
    {"{" BASE_DATASET ", \"codecs\": [], " BASE_CHANNEL ", " BASE_CUTS ", "
     OUT "}", "codecs: expected a non-empty list", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpg\"}], " BASE_CHANNEL ", "
     BASE_CUTS ", " OUT "}", "codecs[0].name", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\"}, {\"name\": \"jpeg\", "
     "\"quality\": [10, 0]}], " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}",
     "codecs[1].quality", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"qualty\": 5}], "
     BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "codecs[0].qualty: unknown key", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"lossless\"}], "
     BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "codecs[0].mode", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"loss\": {\"model\": "
     "\"independent\", \"p\": 1.5}}, " BASE_CUTS ", " OUT "}", "channel.loss.p", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"bitrate\": \"fast\"}, "
     BASE_CUTS ", " OUT "}", "channel.bitrate", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"loss\": {\"model\": "
     "\"bursty\"}}, " BASE_CUTS ", " OUT "}", "channel.loss.model", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"retries\": -1}, "
     BASE_CUTS ", " OUT "}", "channel.retries", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"model\": \"pigeon\"}, "
     BASE_CUTS ", " OUT "}", "channel.model", 2},
    /* Channel sweeps: a list of channel objects, lists inside them. */
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": [], " BASE_CUTS ", " OUT
     "}", "channel: expected an object or a non-empty list", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": [" BASE_CHANNEL_OBJ ", 3], "
     BASE_CUTS ", " OUT "}", "channel[1]: expected an object", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": [" BASE_CHANNEL_OBJ ", "
     "{\"loss\": {\"model\": \"independent\", \"p\": [0.1, 1.5]}}], " BASE_CUTS
     ", " OUT "}", "channel[1].loss.p", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": [{\"model\": \"link\"}, "
     "{\"bitrate\": [100, 5470]}], " BASE_CUTS ", " OUT "}",
     "channel[1]: setting \"link-5470bps-p51\" is also made by channel[0]", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": [{\"model\": \"lora\", "
     "\"sf\": [7, 12], \"payload\": 100}], " BASE_CUTS ", " OUT "}",
     "channel[0].payload: 100 bytes exceed EU868 DR0", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", \"channel\": {\"model\": [\"link\"]}, "
     BASE_CUTS ", " OUT "}", "channel.model", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", \"deadlines\": [1, -2], "
     OUT "}", "deadlines[1]", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", \"deadlines\": 5, "
     OUT "}", "deadlines: expected", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", \"budgets\": [100.5], "
     OUT "}", "budgets[0]", 2},
    {"{" BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", " OUT "}",
     "deadlines: missing", 2},
    {"{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 1.5}, " BASE_CODECS
     ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.count", 2},
    {"{\"dataset\": {\"name\": \"fashion-mnist\", \"split\": \"val\"}, "
     BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.split", 2},
    {"{\"dataset\": {\"name\": \"cifar-1000\"}, " BASE_CODECS ", " BASE_CHANNEL
     ", " BASE_CUTS ", " OUT "}", "dataset.name", 2},
    {"{\"seed\": -1, " BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", "
     BASE_CUTS ", " OUT "}", "seed: expected an integer", 2},
    {"{\"task\": {\"classifier\": \"/nonexistent.safetensors\"}, " BASE_DATASET
     ", " BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}",
     "task.classifier", 2},
    {"{" BASE_DATASET ", " BASE_DATASET ", " BASE_CODECS ", " BASE_CHANNEL ", "
     BASE_CUTS ", " OUT "}", "dataset: key appears twice", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"quality\": 10}, "
     "{\"name\": \"jpeg\", \"quality\": [20, 10]}], " BASE_CHANNEL ", " BASE_CUTS
     ", " OUT "}", "codecs[1]: setting \"jpeg-baseline-q10\"", 2},
    /* A tag is a word; the same setting twice needs one to tell them apart. */
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"tag\": \"a b\"}], "
     BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "codecs[0].tag: expected a word", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"tag\": 3}], "
     BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "codecs[0].tag", 2},
    {"{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", \"tag\": \"x\"}, "
     "{\"name\": \"jpeg\", \"tag\": \"x\"}], " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}",
     "codecs[1]: setting \"jpeg-baseline-q75-x\" is also made by codecs[0]", 2},
    /* Scene datasets: their own keys, checked; not for other datasets. */
    {"{\"dataset\": {\"name\": \"fashion-mnist\", \"size\": 64}, " BASE_CODECS
     ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.size: only scene datasets", 2},
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\"}, " BASE_CODECS
     ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.count", 2},
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\", \"count\": 4, \"size\": 20}, "
     BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.size", 2},
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\", \"count\": 4, \"seed\": 1.5}, "
     BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.seed", 2},
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\", \"count\": 4, \"split\": \"dev\"}, "
     BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.split", 2},
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\", \"count\": 4, \"sise\": 64}, "
     BASE_CODECS ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset.sise: unknown key", 2},
    /* Well-formed, but the dataset has no item 20000: found when the run
     * opens the data, still before anything is written. */
    {"{\"dataset\": {\"name\": \"fashion-mnist\", \"first\": 20000}, " BASE_CODECS
     ", " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "dataset: ", 1},
    /* A LimitNet for 28x28 grey items over 64x64 RGB scenes: found by
     * check's probe, which run makes too, before its output exists. */
    {"{\"dataset\": {\"name\": \"fmnist-cluttered\", \"count\": 2}, \"codecs\": "
     "[{\"name\": \"limitnet\", \"weights\": \"" SOURCE_DIR "/models/limitnet-fmnist."
     "safetensors\"}], " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}",
     "the model takes 28x28x1 images, got 64x64x3", 1},
};

static void test_malformed(void **state)
{
    (void)state;
    char dir[64], file[128], out[128], json[2048], cmd[512], msg[4096];
    tu_tempdir(dir);
    snprintf(file, sizeof file, "%s/bad.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, cases[i].json, out);
        tu_write_file(file, json, strlen(json));
        snprintf(cmd, sizeof cmd, "%s run %s", LIMITNET_BIN, file);
        int st = tu_run(cmd, msg, sizeof msg);
        char *nl = strchr(msg, '\n');
        int one_line = nl && nl[1] == 0;
        struct stat sb;
        if (st != cases[i].status || !strstr(msg, file) ||
            !strstr(msg, cases[i].path) || !one_line || stat(out, &sb) == 0)
            fail_msg("case %zu: status %d (want %d), message \"%s\" (want the "
                     "file and \"%s\" on one line), output %s", i, st,
                     cases[i].status, msg, cases[i].path,
                     stat(out, &sb) == 0 ? "exists" : "absent");
    }
    tu_rmtree(dir);
}

static void test_valid_checks(void **state)
{
    (void)state;
    char dir[64], file[128], json[2048], cmd[512], msg[4096];
    tu_tempdir(dir);
    snprintf(file, sizeof file, "%s/good.json", dir);
    snprintf(json, sizeof json, "{" BASE_DATASET ", \"codecs\": [{\"name\": \"jpeg\", "
             "\"quality\": [10, 50]}, {\"name\": \"jpeg\", \"quality\": 10, \"tag\": "
             "\"v2.b_1\"}], " BASE_CHANNEL ", " BASE_CUTS ", " OUT "}", "/tmp/unused");
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s check %s", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "3 codec settings"));
    assert_non_null(strstr(msg, "jpeg-baseline-q50"));
    /* the tag ends the label; the codec never sees it as a parameter */
    assert_non_null(strstr(msg, "jpeg-baseline-q10-v2.b_1 (codecs[1])"));
    snprintf(cmd, sizeof cmd, "%s run %s/missing.json", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "missing.json: cannot open"));
    tu_rmtree(dir);
}

/* LimitNet over the smallest payloads the channel models offer (Sigfox's
 * 12 bytes, US915 DR0's 11) runs; a payload below what a codec setting
 * needs is refused by check and by run before anything is written. */
static void test_small_payloads(void **state)
{
    (void)state;
    char dir[64], file[128], out[128], json[2048], cmd[512], msg[4096];
    tu_tempdir(dir);
    snprintf(file, sizeof file, "%s/small.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    static const char *const fmt =
        "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 3}, "
        "\"codecs\": [{\"name\": \"limitnet\", \"weights\": "
        "\"" SOURCE_DIR "/models/limitnet-fmnist.safetensors\"}], "
        "\"channel\": [%s], \"deadlines\": [100000], \"output\": \"%s\"}";
    snprintf(json, sizeof json, fmt, "{\"model\": \"sigfox\"}, {\"model\": \"lora\", "
             "\"region\": \"us915\", \"dr\": 0}", out);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s", LIMITNET_BIN, file);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("%s", msg);
    char csv[256];
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    assert_int_equal(access(csv, F_OK), 0);
    tu_rmtree(out);
    snprintf(json, sizeof json, fmt, "{\"model\": \"link\", \"payload\": 4}", out);
    tu_write_file(file, json, strlen(json));
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s %s %s", LIMITNET_BIN, k ? "run" : "check", file);
        assert_true(tu_run(cmd, msg, sizeof msg) != 0);
        assert_non_null(strstr(msg, "limitnet-k1 over link-5470bps-p4: the channel's "
                                    "4-byte payload is below the 5 bytes"));
        assert_int_equal(access(out, F_OK), -1);
    }
    tu_rmtree(dir);
}

/* Relative paths are taken beside the scenario file when the file is
 * there (so a scenario kept with its models runs from any directory),
 * else from the working directory; summary.json echoes the one used. */
static void test_paths_beside_scenario(void **state)
{
    (void)state;
    char dir[64], file[128], json[2048], cmd[1024], msg[8192], path[192];
    tu_tempdir(dir);
    snprintf(cmd, sizeof cmd, "mkdir %s/m && ln -s %s/models/fmnist-classifier.safetensors "
             "%s/m/cls.safetensors && ln -s %s/models/limitnet-fmnist.safetensors "
             "%s/m/ln.safetensors", dir, SOURCE_DIR, dir, SOURCE_DIR, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    snprintf(file, sizeof file, "%s/s.json", dir);
    snprintf(json, sizeof json,
             "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 2},"
             " \"codecs\": [{\"name\": \"limitnet\", \"weights\": [\"m/ln.safetensors\"],"
             " \"task\": {\"classifier\": \"m/cls.safetensors\"}}],"
             " \"channel\": {\"model\": \"link\"}, \"deadlines\": [60],"
             " \"task\": {\"classifier\": \"m/cls.safetensors\"}, \"output\": \"%s/out\"}",
             dir);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "cd / && %s run %s --quiet", LIMITNET_BIN, file);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("run from /: %s", msg);
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *sum = tu_read_file(path, NULL);
    char want[192];
    snprintf(want, sizeof want, "\"%s/m/cls.safetensors\"", dir);
    assert_non_null(strstr(sum, want));
    snprintf(want, sizeof want, "\"%s/m/ln.safetensors\"", dir);
    assert_non_null(strstr(sum, want));
    free(sum);
    /* Not beside it, and not in the working directory: named by its path. */
    snprintf(cmd, sizeof cmd, "rm %s/m/cls.safetensors && cd / && %s check %s", dir,
             LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "classifier"));
    assert_non_null(strstr(msg, "m/cls.safetensors"));
    /* The working directory's still works where nothing is beside the
     * scenario: the repository's own models/ from its top. */
    snprintf(cmd, sizeof cmd, "sed -i 's#m/cls.safetensors#models/fmnist-classifier."
             "safetensors#g' %s && cd %s && %s check %s", file, SOURCE_DIR, LIMITNET_BIN,
             file);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("check from the repository: %s", msg);
    tu_rmtree(dir);
}

static void test_shipped_scenarios_check(void **state)
{
    (void)state;
    char cmd[1024], msg[8192];
#ifdef LIMITNET_NS3
    snprintf(cmd, sizeof cmd, "cd %s && for f in scenarios/*.json; do %s check "
             "$f || exit 1; done", SOURCE_DIR, LIMITNET_BIN);
#else
    /* Built without ns-3, its scenarios must be refused, saying why. */
    snprintf(cmd, sizeof cmd, "cd %s && for f in scenarios/*.json; do "
             "case $f in scenarios/ns3_*) %s check $f 2>&1 | grep -q "
             "'ns-3, which was not found at build time' || exit 1;; "
             "*) %s check $f || exit 1;; esac; done", SOURCE_DIR,
             LIMITNET_BIN, LIMITNET_BIN);
#endif
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("%s", msg);
}

/* `limitnet plan`: every cell in run order with its fingerprint, todo
 * before a run and done after it; changing one codec setting makes only
 * its cell todo again, and the other keeps its fingerprint. */
static void test_plan(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[512], before[4096], after[4096], edited[4096];
    tu_tempdir(dir);
    const char *fmt = "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 6}, "
                      "\"codecs\": [{\"name\": \"jpeg\", \"quality\": [10, %d]}], "
                      BASE_CHANNEL ", \"budgets\": [100, 1000], \"output\": \"%s/out\"}";
    char text[1024];
    snprintf(path, sizeof path, "%s/s.json", dir);
    snprintf(text, sizeof text, fmt, 50, dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s plan %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, before, sizeof before), 0);
    assert_non_null(strstr(before, "2 cells, 0 done, 2 to do"));
    assert_non_null(strstr(before, "\n1 "));
    snprintf(cmd, sizeof cmd, "%s run %s --quiet", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, after, sizeof after), 0);
    snprintf(cmd, sizeof cmd, "%s plan %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, after, sizeof after), 0);
    assert_non_null(strstr(after, "2 cells, 2 done, 0 to do"));
    /* The same lines but for todo -> done. */
    char *l0 = strstr(after, " done\n");
    assert_non_null(l0);
    assert_memory_equal(before, after, (size_t)(l0 - after));
    snprintf(text, sizeof text, fmt, 60, dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s plan %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, edited, sizeof edited), 0);
    assert_non_null(strstr(edited, "2 cells, 1 done, 1 to do"));
    assert_memory_equal(edited, after, (size_t)(l0 - after) + 6); /* cell 0 kept */
    assert_non_null(strstr(edited, "jpeg-baseline-q60"));
    snprintf(cmd, sizeof cmd, "%s plan %s/missing.json", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, edited, sizeof edited), 2);
    tu_rmtree(dir);
}

/* `run --cells`: a run of cell 0 alone writes its cell and no results.csv;
 * a second of cell 1 completes the sweep, and its results.csv is the one a
 * single run writes, byte for byte; so do three --shard runs (one of them
 * with no cell: two cells for three shards). Bad lists are refused. */
static void test_run_cells(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[512], out[4096];
    tu_tempdir(dir);
    const char *fmt = "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 6}, "
                      "\"codecs\": [{\"name\": \"jpeg\", \"quality\": [10, 50]}], "
                      BASE_CHANNEL ", \"budgets\": [100, 1000], \"output\": \"%s/%s\"}";
    char text[1024], *csv[2];
    const char *outs[2] = {"split", "whole"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s.json", dir, outs[k]);
        snprintf(text, sizeof text, fmt, dir, outs[k]);
        tu_write_file(path, text, strlen(text));
    }
    snprintf(cmd, sizeof cmd, "%s run %s/split.json --quiet --cells 0", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "1 to do"));
    snprintf(path, sizeof path, "%s/split/results.csv", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(cmd, sizeof cmd, "%s run %s/split.json --quiet --cells 1", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s run %s/whole.json --quiet", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s/results.csv", dir, outs[k]);
        assert_non_null(csv[k] = tu_read_file(path, NULL));
    }
    assert_string_equal(csv[0], csv[1]);
    /* Three shards of the same sweep, one after another, complete it too. */
    snprintf(path, sizeof path, "%s/shards.json", dir);
    snprintf(text, sizeof text, fmt, dir, "shards");
    tu_write_file(path, text, strlen(text));
    for (int k = 1; k <= 3; k++) {
        snprintf(cmd, sizeof cmd, "%s run %s --quiet --shard %d/3", LIMITNET_BIN, path, k);
        assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    }
    snprintf(path, sizeof path, "%s/shards/results.csv", dir);
    char *sh = tu_read_file(path, NULL);
    assert_non_null(sh);
    assert_string_equal(sh, csv[1]);
    free(sh);
    snprintf(cmd, sizeof cmd, "%s run %s/split.json --shard 3/2", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    static const char *const bad[] = {"2", "1-0", "x", "0,", "-1", ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(cmd, sizeof cmd, "%s run %s/split.json --quiet --cells '%s'", LIMITNET_BIN,
                 dir, bad[k]);
        if (tu_run(cmd, out, sizeof out) != 2 || !strstr(out, "--cells"))
            fail_msg("--cells '%s': %s", bad[k], out);
    }
    free(csv[0]);
    free(csv[1]);
    tu_rmtree(dir);
}

/* `merge`: shards run on "two machines" (two output directories), their
 * cells gathered into a third, give the single run's results.csv byte for
 * byte; a missing cell is named and the merge fails; a file with a foreign
 * fingerprint or cut short is refused by name and does not count. */
static void test_merge(void **state)
{
    (void)state;
    char dir[64], path[256], cmd[1024], out[8192];
    tu_tempdir(dir);
    const char *fmt = "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 6}, "
                      "\"codecs\": [{\"name\": \"jpeg\", \"quality\": [10, 50]}], "
                      BASE_CHANNEL ", \"budgets\": [100, 1000], \"output\": \"%s/%s\"}";
    const char *outs[] = {"whole", "m1", "m2", "merged", "bad"};
    for (int k = 0; k < 5; k++) {
        char text[1024];
        snprintf(path, sizeof path, "%s/%s.json", dir, outs[k]);
        snprintf(text, sizeof text, fmt, dir, outs[k]);
        tu_write_file(path, text, strlen(text));
    }
    snprintf(cmd, sizeof cmd, "%s run %s/whole.json --quiet && %s run %s/m1.json --quiet "
             "--shard 1/2 && %s run %s/m2.json --quiet --shard 2/2", LIMITNET_BIN, dir,
             LIMITNET_BIN, dir, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    /* One machine's cells alone: the other cell is named as missing. */
    snprintf(cmd, sizeof cmd, "%s merge %s/merged.json %s/m1", LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    if (!strstr(out, "1 of 2 cells are missing") || !strstr(out, "\n  1 jpeg-baseline-q50"))
        fail_msg("merge of one shard: %s", out);
    snprintf(path, sizeof path, "%s/merged/results.csv", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(cmd, sizeof cmd, "%s merge %s/merged.json %s/m2", LIMITNET_BIN, dir, dir);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("merge: %s", out);
    char *whole, *merged;
    snprintf(path, sizeof path, "%s/whole/results.csv", dir);
    assert_non_null(whole = tu_read_file(path, NULL));
    snprintf(path, sizeof path, "%s/merged/results.csv", dir);
    assert_non_null(merged = tu_read_file(path, NULL));
    assert_string_equal(whole, merged);
    free(merged);
    snprintf(path, sizeof path, "%s/merged/summary.json", dir);
    assert_non_null(merged = tu_read_file(path, NULL));
    assert_non_null(strstr(merged, "\"hosts\""));
    free(merged);
    /* A foreign fingerprint and a cut-short cell are refused by name. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/copied && cp %s/m1/cells/*.csv %s/m2/cells/*.csv "
             "%s/copied/ && cd %s/copied && for f in *.csv; do head -c 60 $f > t && mv t $f; "
             "done && echo x > jpeg-baseline-q10-0123456789abcdef.csv", dir, dir, dir, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s merge %s/bad.json %s/copied", LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    if (!strstr(out, "copied/jpeg-baseline-q10-0123456789abcdef.csv: refused: a cell of "
                     "this codec setting, but its fingerprint") ||
        !strstr(out, "refused: not a whole cell file") || !strstr(out, "2 of 2 cells are missing"))
        fail_msg("merge of bad files: %s", out);
    snprintf(cmd, sizeof cmd, "%s merge %s/bad.json %s/nowhere", LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "nowhere: not a directory"));
    /* A dead process's temporary files are removed on its own host only:
     * another host's process ids mean nothing here. */
    char host[64] = "";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = 0;
    host[strcspn(host, "./")] = 0;
    const char *temps[] = {"a.csv.tmp.999999.0", "a.csv.tmp.999999.1.%s",
                           "a.csv.tmp.999999.2.other-host"};
    for (int k = 0; k < 3; k++) {
        char name[128];
        snprintf(name, sizeof name, temps[k], host);
        snprintf(path, sizeof path, "%s/whole/cells/%s", dir, name);
        tu_write_file(path, "x", 1);
    }
    snprintf(cmd, sizeof cmd, "%s run %s/whole.json --quiet >/dev/null && ls %s/whole/cells | grep tmp",
             LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_string_equal(out, "a.csv.tmp.999999.2.other-host\n");
    free(whole);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_valid_checks),
        cmocka_unit_test(test_small_payloads),
        cmocka_unit_test(test_shipped_scenarios_check),
        cmocka_unit_test(test_paths_beside_scenario),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_run_cells),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
