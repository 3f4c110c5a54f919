/* The detector (tasks/detector.c, train/detector.c): decoding of its
 * heads on hand-made maps, the weight file's defences, and the training
 * command end to end on a tiny model (that --resume gives the same
 * weights, and the file it writes loads and detects). */
#include "testutil.h"

#include <math.h>

#include "data/data.h"
#include "tasks/task.h"

#define OH 6
#define OW 8
#define CL 3
#define HW (OH * OW)

static util_err err;

typedef struct maps {
    float heat[CL * HW], size[2 * HW], off[2 * HW];
} maps;

static float logit(float p)
{
    return logf(p / (1 - p));
}

static void empty(maps *m)
{
    for (int i = 0; i < CL * HW; i++)
        m->heat[i] = logit(0.001f);
    memset(m->size, 0, sizeof m->size);
    memset(m->off, 0, sizeof m->off);
}

static void put(maps *m, int c, int y, int x, float p, float w, float h, float ox, float oy)
{
    int i = y * OW + x;
    m->heat[c * HW + i] = logit(p);
    m->size[i] = w, m->size[HW + i] = h;
    m->off[i] = ox, m->off[HW + i] = oy;
}

static const task_detect_cfg cfg = {CL, OH, OW, 4, 0.1f, 5};

/* One peak: its class, score, and box from centre (cell + offset) x
 * stride and size x stride. */
static void test_decode_one(void **state)
{
    (void)state;
    maps m;
    empty(&m);
    put(&m, 1, 2, 3, 0.9f, 2.0f, 3.0f, 0.5f, 0.25f);
    task_det d[5];
    assert_int_equal(task_detect_decode(&cfg, m.heat, m.size, m.off, d), 1);
    assert_int_equal(d[0].label, 1);
    assert_float_equal(d[0].score, 0.9f, 1e-5);
    /* centre (3.5, 2.25) cells = (14, 9) px; 8 x 12 px */
    assert_float_equal(d[0].box.x0, 10.0f, 1e-4);
    assert_float_equal(d[0].box.x1, 18.0f, 1e-4);
    assert_float_equal(d[0].box.y0, 3.0f, 1e-4);
    assert_float_equal(d[0].box.y1, 15.0f, 1e-4);
}

/* A neighbour below the peak is not a detection; the same cell in another
 * class is; below the threshold nothing is; boxes are clipped. */
static void test_decode_peaks(void **state)
{
    (void)state;
    maps m;
    empty(&m);
    put(&m, 0, 0, 0, 0.8f, 4.0f, 4.0f, 0.0f, 0.0f);
    put(&m, 0, 0, 1, 0.7f, 1.0f, 1.0f, 0.0f, 0.0f); /* neighbour: suppressed */
    put(&m, 2, 0, 1, 0.6f, 1.0f, 1.0f, 0.5f, 0.5f); /* another class: kept */
    put(&m, 1, 5, 7, 0.05f, 1.0f, 1.0f, 0.0f, 0.0f); /* below 0.1 */
    task_det d[5];
    assert_int_equal(task_detect_decode(&cfg, m.heat, m.size, m.off, d), 2);
    assert_int_equal(d[0].label, 0);
    assert_int_equal(d[1].label, 2);
    assert_true(d[0].score > d[1].score);
    assert_float_equal(d[0].box.x0, 0.0f, 1e-6); /* centre 0, 16 px wide: clipped */
    assert_float_equal(d[0].box.x1, 8.0f, 1e-5);
}

/* At most max_dets, the best ones, in order; equal scores by class then
 * cell. */
static void test_decode_cap_and_ties(void **state)
{
    (void)state;
    maps m;
    empty(&m);
    for (int k = 0; k < 8; k++)
        put(&m, k % CL, (k / 4) * 3, (k % 4) * 2, k < 4 ? 0.5f : 0.3f + 0.05f * k, 1, 1, 0, 0);
    task_det d[5];
    assert_int_equal(task_detect_decode(&cfg, m.heat, m.size, m.off, d), 5);
    assert_float_equal(d[0].score, 0.65f, 1e-5);
    assert_float_equal(d[1].score, 0.6f, 1e-5);
    assert_float_equal(d[2].score, 0.55f, 1e-5);
    assert_float_equal(d[3].score, 0.5f, 1e-5);
    assert_float_equal(d[4].score, 0.5f, 1e-5);
    for (int k = 3; k < 4; k++) { /* five at 0.5, two kept: by class then cell */
        assert_true(d[k].label < d[k + 1].label ||
                    (d[k].label == d[k + 1].label && d[k].box.x0 < d[k + 1].box.x0));
    }
}

static void test_load_refuses(void **state)
{
    (void)state;
    task_detector *d;
    const char *cls = SOURCE_DIR "/models/fmnist-classifier.safetensors";
    assert_int_equal(task_detector_load(cls, &d, &err), -1);
    assert_null(d);
    assert_non_null(strstr(err.msg, cls));
    assert_non_null(strstr(err.msg, "not a detector"));
    assert_int_equal(task_detector_load("/nonexistent.safetensors", &d, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent.safetensors"));
}

/* ---- training end to end ------------------------------------------------------- */

static const char *tiny_config =
    "{\"task\": \"detector\", \"dataset\": {\"name\": \"fmnist-multi\", \"size\": 32,"
    " \"seed\": 3, \"count\": 64, \"test_count\": 16}, \"seed\": 5, \"epochs\": 2,"
    " \"batch\": 16, \"validation\": 16, \"output\": \"%s/%s.safetensors\","
    " \"checkpoint\": \"%s/%s.ckpt.safetensors\", \"normalize\": {\"mean\": 0.5, \"std\": 0.25},"
    " \"detect\": {\"threshold\": 0.01, \"max_detections\": 10},"
    " \"model\": {\"input\": [3, 32, 32], \"layers\": ["
    "  {\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"b1\", \"type\": \"batchnorm\"}, {\"name\": \"r1\", \"type\": \"relu\"},"
    "  {\"name\": \"c2\", \"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"r2\", \"type\": \"relu\"},"
    "  {\"name\": \"heatmap\", \"type\": \"conv2d\", \"out\": 10, \"kernel\": 1, \"input\": \"r2\"},"
    "  {\"name\": \"size\", \"type\": \"conv2d\", \"out\": 2, \"kernel\": 1, \"input\": \"r2\"},"
    "  {\"name\": \"offset\", \"type\": \"conv2d\", \"out\": 2, \"kernel\": 1, \"input\": \"r2\"}"
    "]}}";

static void write_config(const char *dir, const char *name, char *path)
{
    char text[4096];
    snprintf(text, sizeof text, tiny_config, dir, name, dir, name);
    snprintf(path, 256, "%s/%s.json", dir, name);
    tu_write_file(path, text, strlen(text));
}

static void test_train_resume_detect(void **state)
{
    (void)state;
    char dir[64], a[256], b[256], cmd[1024], out[4096];
    tu_tempdir(dir);
    write_config(dir, "a", a);
    write_config(dir, "b", b);
    snprintf(cmd, sizeof cmd, "%s train detector --config %s --check", LIMITNET_BIN, a);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s train detector --config %s", LIMITNET_BIN, a);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "test mAP@0.5"));
    snprintf(cmd, sizeof cmd, "%s train detector --config %s --stop-after 1", LIMITNET_BIN, b);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s train detector --config %s --resume", LIMITNET_BIN, b);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    /* Same weights whether interrupted or not: the tensors' bytes match
     * (the metadata differs in the paths and times). */
    char wa[300], wb[300];
    snprintf(wa, sizeof wa, "%s/a.safetensors", dir);
    snprintf(wb, sizeof wb, "%s/b.safetensors", dir);
    task_detector *da, *db;
    assert_int_equal(task_detector_load(wa, &da, &err), 0);
    assert_int_equal(task_detector_load(wb, &db, &err), 0);
    data_opts o = {.name = "fmnist-multi", .split = "test", .count = 8, .size = 32,
                   .seed = 3};
    data_set *ds;
    assert_int_equal(data_open_ex(&o, &ds, &err), 0);
    util_image imgs[8];
    for (int i = 0; i < 8; i++)
        data_get(ds, (size_t)i, &imgs[i], NULL);
    task_det ra[80], rb[80];
    int na[8], nb[8];
    assert_int_equal(task_detector_detect(da, imgs, 8, ra, na, &err), 0);
    assert_int_equal(task_detector_detect(db, imgs, 8, rb, nb, &err), 0);
    assert_memory_equal(na, nb, sizeof na);
    assert_memory_equal(ra, rb, sizeof ra);
    task_detect_cfg c = task_detector_cfg(da);
    assert_int_equal(c.stride, 4);
    assert_int_equal(c.max_dets, 10);
    /* A config without the heads is refused by --check, naming them. */
    char bad[256], text[512];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(text, sizeof text, "{\"task\": \"detector\", \"dataset\": {\"name\": "
             "\"fmnist-multi\", \"count\": 64}, \"output\": \"x\", \"checkpoint\": \"y\","
             " \"model\": {\"input\": [3, 96, 96], \"layers\": [{\"name\": \"c\", "
             "\"type\": \"conv2d\", \"out\": 4, \"kernel\": 1}]}}");
    tu_write_file(bad, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s train detector --config %s --check", LIMITNET_BIN, bad);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "heatmap"));
    data_free(ds);
    task_detector_free(da);
    task_detector_free(db);
    tu_rmtree(dir);
}

/* DIR/NAME/boot.csv (free it). */
static char *boot_of(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/boot.csv", dir, name);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

/* The runs of test_scenario_map: their replicates (boot.csv) alike for
 * -j 1, -j 2, the rerun, the parts and a merge; a damaged replicates file makes
 * its cell be computed again, to the same numbers. */
static void check_boot(const char *dir)
{
    static const char *const names[] = {"j2", "parts", "merged"};
    char *want = boot_of(dir, "j1"), cmd[1024], out[8192];
    assert_non_null(strstr(want, "codec,channel,cut,limit,images,replicates\n"));
    /* merge copies each cell's replicates with it */
    snprintf(cmd, sizeof cmd, "sed 's#%s/j2#%s/merged#' %s/s1.json > %s/m.json && "
             "%s merge %s/m.json %s/j2", dir, dir, dir, dir, LIMITNET_BIN, dir, dir);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s: %s", cmd, out);
    for (int k = 0; k < 3; k++) {
        char *got = boot_of(dir, names[k]);
        assert_string_equal(want, got);
        free(got);
    }
    /* a damaged replicates file: its cell is computed again */
    snprintf(cmd, sizeof cmd, "f=$(ls %s/j1/cells/webp-*.boot) && sed -i '2s/ [^ ]*$//' $f && "
             "%s run %s/s0.json --quiet -j 2 && grep -c . %s/j1/summary.json >/dev/null",
             dir, LIMITNET_BIN, dir, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "grep -o '\"reused\":[^,]*' %s/j1/summary.json | sort | uniq -c",
             dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "false"));
    char *again = boot_of(dir, "j1");
    assert_string_equal(want, again);
    free(again);
    free(want);
}

/* A detection scenario end to end, with a detector trained here: the
 * results carry map50 and map50_95 for every cut, the same for -j 1 and
 * -j 2 and for a rerun that reuses the cells; a scenario naming a
 * detector over a dataset without boxes is refused. */
static void test_scenario_map(void **state)
{
    (void)state;
    char dir[64], cfg[256], cmd[1024], out[4096], path[512];
    tu_tempdir(dir);
    write_config(dir, "d", cfg);
    snprintf(cmd, sizeof cmd, "%s train detector --config %s", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    const char *fmt =
        "{\"name\": \"det\", \"seed\": 2, \"dataset\": {\"name\": \"%s\", "
        "\"split\": \"test\", %s \"count\": 12}, \"codecs\": [{\"name\": \"jpeg\", "
        "\"mode\": \"baseline\", \"quality\": [20, 80]}, {\"name\": \"webp\", "
        "\"quality\": 30}], \"channel\": {\"model\": \"link\", \"bitrate\": 5470, "
        "\"payload\": 51, \"header\": 13, \"loss\": {\"model\": \"independent\", "
        "\"p\": 0.1}}, \"budgets\": [100, 400, 100000], \"task\": {\"detector\": "
        "\"%s/d.safetensors\"}, \"output\": \"%s/%s\"}";
    char text[2048];
    const char *outs[3] = {"j1", "j2", "j1"};
    const char *jobs[3] = {"-j 1", "-j 2", "-j 2"};
    char *csv[3];
    for (int k = 0; k < 3; k++) {
        snprintf(text, sizeof text, fmt, "fmnist-multi", "\"size\": 32,", dir, dir, outs[k]);
        snprintf(path, sizeof path, "%s/s%d.json", dir, k);
        tu_write_file(path, text, strlen(text));
        snprintf(cmd, sizeof cmd, "%s run %s %s --quiet", LIMITNET_BIN, path, jobs[k]);
        assert_int_equal(tu_run(cmd, out, sizeof out), 0);
        snprintf(path, sizeof path, "%s/%s/results.csv", dir, outs[k]);
        assert_non_null(csv[k] = tu_read_file(path, NULL));
    }
    assert_non_null(strstr(csv[0], ",accuracy,map50,map50_95,psnr_se,ssim_se,accuracy_lo,"
                                   "accuracy_hi,map50_lo,map50_hi,map50_95_lo,map50_95_hi\n"));
    assert_string_equal(csv[0], csv[1]);
    assert_string_equal(csv[0], csv[2]); /* the rerun read its cells back */
    snprintf(path, sizeof path, "%s/j1/summary.json", dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(summary);
    assert_null(strstr(summary, "\"reused\":\tfalse"));
    free(summary);
    /* Every row's two mAPs are in [0, 1], each inside its bootstrap
     * interval; the accuracy columns are empty without a classifier. */
    int rows = 0;
    for (char *line = strchr(csv[0], '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char *f[32], *end = strchr(line, '\n');
        int n = 0;
        for (char *p = line; n < 32 && p && p <= end; p = strchr(p, ','), p = p ? p + 1 : p)
            f[n++] = p;
        assert_int_equal(n, 25);
        double m50 = atof(f[15]), m95 = atof(f[16]);
        assert_true(f[15][0] != ',' && m50 >= 0 && m50 <= 1 && m95 >= 0 && m95 <= m50);
        assert_true(f[14][0] == ',' && f[19][0] == ',' && f[20][0] == ',');
        assert_true(atof(f[21]) <= m50 && m50 <= atof(f[22]));
        assert_true(atof(f[23]) <= m95 && m95 <= atof(f[24]));
        rows++;
    }
    assert_int_equal(rows, 3 * 3);
    /* the cells split by items (their detections kept in the parts) give
     * the same mAPs and intervals, byte for byte */
    snprintf(text, sizeof text, fmt, "fmnist-multi", "\"size\": 32,", dir, dir, "parts");
    snprintf(path, sizeof path, "%s/parts.json", dir);
    tu_write_file(path, text, strlen(text));
    static const char *const ranges[] = {"7-11", "0-6"};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s run %s --quiet --items %s", LIMITNET_BIN, path, ranges[k]);
        assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    }
    snprintf(path, sizeof path, "%s/parts/results.csv", dir);
    char *parts = tu_read_file(path, NULL);
    assert_non_null(parts);
    assert_string_equal(csv[0], parts);
    free(parts);
    for (int k = 0; k < 3; k++)
        free(csv[k]);
    check_boot(dir);
    snprintf(text, sizeof text, fmt, "fashion-mnist", "", dir, dir, "fm");
    snprintf(path, sizeof path, "%s/fm.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s check %s", LIMITNET_BIN, path);
    assert_int_not_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "task.detector"));
    assert_non_null(strstr(out, "annotations"));
    tu_rmtree(dir);
}

/* compare --metric map50 and map50_95 over the committed detector: paired
 * intervals from the run's replicates that hold each gain, capped at the
 * replicates there are; none without boot.csv, and a damaged one named. */
static void test_compare_map(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[1024], out[8192];
    tu_tempdir(dir);
    snprintf(out, sizeof out,
             "{\"name\": \"dm\", \"seed\": 2, \"dataset\": {\"name\": \"fmnist-multi\", "
             "\"split\": \"test\", \"count\": 24}, \"codecs\": [{\"name\": \"jpeg\", "
             "\"mode\": \"baseline\", \"quality\": [5, 50]}, {\"name\": \"webp\", "
             "\"quality\": [5, 30], \"header\": \"none\"}], \"channel\": {\"model\": "
             "\"link\", \"bitrate\": 5470, \"payload\": 51, \"header\": 13, \"loss\": "
             "{\"model\": \"none\"}}, \"budgets\": [256, 512, 1024, 4096], \"task\": "
             "{\"detector\": \"%s/models/multi-detector.safetensors\"}, "
             "\"output\": \"%s/out\"}", SOURCE_DIR, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, out, strlen(out));
    snprintf(cmd, sizeof cmd, "%s run %s --quiet -j 2", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    static const char *const metric[] = {"map50", "map50_95"};
    for (int m = 0; m < 2; m++) {
        snprintf(cmd, sizeof cmd, "%s compare %s/out --clean 0.8 --metric %s --ref "
                 "jpeg-baseline --boot %d", LIMITNET_BIN, dir, metric[m], m ? 5000 : 300);
        assert_int_equal(tu_run(cmd, out, sizeof out), 0);
        char want[160];
        snprintf(want, sizeof want, "over the 24 images (the first %d of the run's own "
                 "resamplings, in boot.csv", m ? 1000 : 300);
        assert_non_null(strstr(out, want));
        const char *row = strstr(out, "| webp-nohdr | ");
        double mean, g, lo, hi;
        assert_non_null(row);
        assert_int_equal(sscanf(row, "| webp-nohdr | %lf %% | %lf [%lf, %lf]", &mean, &g,
                                &lo, &hi), 4);
        if (!(lo <= g && g <= hi && lo < hi))
            fail_msg("%s: webp's gain %g [%g, %g]: %s", metric[m], g, lo, hi, out);
    }
    snprintf(path, sizeof path, "%s/out/comparison.csv", dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, ",webp-nohdr_lo,webp-nohdr_hi\n"));
    free(csv);
    /* a damaged boot.csv is an error naming it and the line */
    snprintf(cmd, sizeof cmd, "sed -i '3s/ [^ ]*$/ 7/' %s/out/boot.csv && %s compare %s/out "
             "--clean 0.8 --metric map50 --ref jpeg-baseline", dir, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "boot.csv: line 3: replicate 2000: '7' is not a score"));
    /* without it: no intervals, and why */
    snprintf(cmd, sizeof cmd, "rm %s/out/boot.csv && %s compare %s/out --clean 0.8 "
             "--metric map50 --ref jpeg-baseline", dir, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "Intervals: none (no boot.csv (or boot.csv.gz) beside"));
    tu_rmtree(dir);
}

/* LimitNet's phase 3 through a frozen detector (multi-object scenes): a
 * tiny model trains its three phases on 32-pixel scenes, reports the
 * detector's mAP in its progress lines, and writes a codec file that a
 * detection scenario runs; naming both a classifier and a detector, or
 * neither, is refused. */
static const char *ln_config =
    "{\"task\": \"limitnet\", \"dataset\": {\"name\": \"fmnist-multi\", \"size\": 32,"
    " \"seed\": 3, \"count\": 64}, \"seed\": 2, \"batch\": 16, \"validation\": 16,"
    " %s \"grid\": 4, \"bits\": 4, \"output\": \"%s/ln.safetensors\","
    " \"checkpoint\": \"%s/ln.ckpt.safetensors\","
    " \"phases\": [{\"epochs\": 1}, {\"epochs\": 1}, {\"epochs\": 1, \"lr\": 5e-5}],"
    " \"encoder\": {\"input\": [3, 32, 32], \"layers\": ["
    "  {\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"r1\", \"type\": \"relu\"},"
    "  {\"name\": \"c2\", \"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"r2\", \"type\": \"relu\"}]},"
    " \"saliency\": {\"input\": [4, 8, 8], \"layers\": ["
    "  {\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 1, \"kernel\": 3, \"pad\": 1},"
    "  {\"name\": \"s\", \"type\": \"sigmoid\"}]},"
    " \"decoder\": {\"input\": [4, 8, 8], \"layers\": ["
    "  {\"name\": \"d1\", \"type\": \"deconv2d\", \"out\": 8, \"kernel\": 4, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"r1\", \"type\": \"relu\"},"
    "  {\"name\": \"d2\", \"type\": \"deconv2d\", \"out\": 3, \"kernel\": 4, \"stride\": 2, \"pad\": 1},"
    "  {\"name\": \"s\", \"type\": \"sigmoid\"}]}}";

static void test_limitnet_through_detector(void **state)
{
    (void)state;
    char dir[64], cfg[256], cmd[1024], out[8192], text[4096], cloud[512], path[512];
    tu_tempdir(dir);
    write_config(dir, "d", cfg);
    snprintf(cmd, sizeof cmd, "%s train detector --config %s", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    static const char *const bad[] = {"",
        "\"classifier\": \"models/cluttered-classifier.safetensors\", \"detector\": \"x\","};
    for (int k = 0; k < 2; k++) {
        snprintf(text, sizeof text, ln_config, bad[k], dir, dir);
        snprintf(path, sizeof path, "%s/bad.json", dir);
        tu_write_file(path, text, strlen(text));
        snprintf(cmd, sizeof cmd, "%s train limitnet --config %s --check", LIMITNET_BIN, path);
        assert_int_equal(tu_run(cmd, out, sizeof out), 2);
        assert_non_null(strstr(out, "exactly one"));
    }
    snprintf(cloud, sizeof cloud, "\"detector\": \"%s/d.safetensors\",", dir);
    snprintf(text, sizeof text, ln_config, cloud, dir, dir);
    snprintf(path, sizeof path, "%s/ln.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s", LIMITNET_BIN, path);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "mAP@0.5"));
    snprintf(text, sizeof text,
             "{\"name\": \"lnd\", \"dataset\": {\"name\": \"fmnist-multi\", \"split\": \"test\","
             " \"size\": 32, \"count\": 6}, \"codecs\": [{\"name\": \"limitnet\", \"weights\":"
             " \"%s/ln.safetensors\", \"keep\": [0.25, 1]}], \"channel\": {\"model\": \"link\","
             " \"bitrate\": 5470, \"payload\": 51, \"header\": 13}, \"budgets\": [60, 10000],"
             " \"task\": {\"detector\": \"%s/d.safetensors\"}, \"output\": \"%s/out\"}",
             dir, dir, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s run %s --quiet", LIMITNET_BIN, path);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "mAP@0.5"));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_one),
        cmocka_unit_test(test_decode_peaks),
        cmocka_unit_test(test_decode_cap_and_ties),
        cmocka_unit_test(test_load_refuses),
        cmocka_unit_test(test_train_resume_detect),
        cmocka_unit_test(test_scenario_map),
        cmocka_unit_test(test_compare_map),
        cmocka_unit_test(test_limitnet_through_detector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
