/* End to end: a tiny scenario through bin/limitnet, then its files. */
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>

#include <cJSON.h>

#include "util/util.h"

#define COLUMNS "codec,channel,cut,limit,images,encoded_bytes,sent_bytes," \
    "sent_packets,received_bytes,received_packets,lost_packets,complete,"  \
    "psnr,ssim,accuracy,psnr_se,ssim_se,accuracy_lo,accuracy_hi\n"

static const char *scenario =
    "{\"name\": \"tiny\", \"seed\": 7,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 100, \"count\": 40},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": [\"baseline\", \"progressive\"],\n"
    "              \"quality\": [20, 70]},\n"
    "             {\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": 50}],\n"
    " \"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51,\n"
    "             \"header\": 13, \"duty_cycle\": 0.01,\n"
    "             \"loss\": {\"model\": \"gilbert_elliott\", \"p_gb\": 0.1,\n"
    "                      \"p_bg\": 0.4, \"loss_bad\": 0.7}},\n"
    " \"deadlines\": [0.05, 1, 10, 20, 30, 60, 120],\n"
    " \"budgets\": [40, 100, 200, 400],\n"
    " \"output\": \"%s\"}\n";

typedef struct row {
    char codec[64], cut[16];
    double limit, images, encoded, sent, recv, recv_pk, lost, complete, psnr, ssim;
} row;

static size_t read_rows(const char *csv, row *rows, size_t cap)
{
    const char *p = strchr(csv, '\n') + 1;
    size_t n = 0;
    while (*p && n < cap) {
        row *r = &rows[n];
        double sent_pk;
        int got = sscanf(p, "%63[^,],%*[^,],%15[^,],%lf,%lf,%lf,%lf,%lf,%lf,%lf,"
                         "%lf,%lf,%lf,%lf", r->codec, r->cut, &r->limit,
                         &r->images, &r->encoded, &r->sent, &sent_pk, &r->recv,
                         &r->recv_pk, &r->lost, &r->complete, &r->psnr, &r->ssim);
        assert_int_equal(got, 13);
        n++;
        p = strchr(p, '\n') + 1;
    }
    return n;
}

static void run_tiny(const char *dir, const char *flags, char *csv_out,
                     size_t cap)
{
    char file[128], out[128], json[2048], cmd[512], msg[8192], path[256];
    snprintf(file, sizeof file, "%s/tiny.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(json, sizeof json, scenario, out);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s %s", LIMITNET_BIN, file, flags);
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("limitnet run failed (%d): %s", st, msg);
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    snprintf(csv_out, cap, "%s", csv);
    free(csv);
}

/* The CompressAI file of jpeg-baseline (issue 15, point 11): its two
 * settings, q20 and q70, each at its cut with the most bytes received,
 * in increasing bpp = 8 bytes / 784 pixels, PSNR and SSIM from the same
 * rows; no accuracy without a classifier. */
static void check_compressai(const char *dir, const row *rows, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/out/compressai/jpeg-baseline.json", dir);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    cJSON *o = cJSON_Parse(text);
    free(text);
    assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "jpeg-baseline");
    const cJSON *res = cJSON_GetObjectItem(o, "results");
    const cJSON *bpp = cJSON_GetObjectItem(res, "bpp"), *psnr = cJSON_GetObjectItem(res, "psnr");
    assert_int_equal(cJSON_GetArraySize(bpp), 2);
    assert_null(cJSON_GetObjectItem(res, "accuracy"));
    const char *settings[2] = {"jpeg-baseline-q20", "jpeg-baseline-q70"};
    for (int k = 0; k < 2; k++) {
        const row *best = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(rows[i].codec, settings[k]) && (!best || rows[i].recv > best->recv))
                best = &rows[i];
        assert_non_null(best);
        double b = cJSON_GetArrayItem(bpp, k)->valuedouble;
        if (fabs(b - 8 * best->recv / 784) > 1e-6 * b ||
            fabs(cJSON_GetArrayItem(psnr, k)->valuedouble - best->psnr) > 1e-9)
            fail_msg("%s: bpp %g, PSNR %g; its row: %g bytes, %g dB", settings[k], b,
                     cJSON_GetArrayItem(psnr, k)->valuedouble, best->recv, best->psnr);
    }
    assert_true(cJSON_GetArrayItem(bpp, 0)->valuedouble < cJSON_GetArrayItem(bpp, 1)->valuedouble);
    cJSON_Delete(o);
}

/* Every number of results.csv in its shortest exact form, and
 * summary.json's table the same rows. */
static void check_numbers(const char *dir, const char *csv, const row *rows, size_t n)
{
    for (const char *p = strchr(csv, '\n') + 1; *p; p++) {
        size_t len = strcspn(p, ",\n");
        char tok[64], t[UTIL_NUM_LEN];
        if (len < sizeof tok && len > 0 && (isdigit((unsigned char)*p) || *p == '-')) {
            memcpy(tok, p, len);
            tok[len] = 0;
            util_num_text(t, strtod(tok, NULL));
            if (strcmp(t, tok))
                fail_msg("results.csv has %s, shortest is %s", tok, t);
        }
        p += len;
        if (!*p)
            break;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *text = tu_read_file(path, NULL);
    cJSON *o = cJSON_Parse(text);
    const cJSON *t = cJSON_GetObjectItem(o, "table");
    assert_int_equal(cJSON_GetArraySize(t), (int)n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(t, (int)i);
        assert_string_equal(cJSON_GetObjectItem(e, "codec")->valuestring, rows[i].codec);
        assert_string_equal(cJSON_GetObjectItem(e, "cut")->valuestring, rows[i].cut);
        assert_true(cJSON_GetObjectItem(e, "limit")->valuedouble == rows[i].limit);
        if (cJSON_GetObjectItem(e, "psnr")->valuedouble != rows[i].psnr)
            fail_msg("row %zu: psnr %.17g in summary.json, %.17g in results.csv", i,
                     cJSON_GetObjectItem(e, "psnr")->valuedouble, rows[i].psnr);
        assert_true(cJSON_GetObjectItem(e, "received_bytes")->valuedouble == rows[i].recv);
        /* no task model in this scenario: its score is null, not absent */
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "accuracy")));
    }
    cJSON_Delete(o);
    free(text);
}

static void test_tiny_run(void **state)
{
    (void)state;
    char dir[64];
    static char csv[65536];
    static row rows[64];
    tu_tempdir(dir);
    run_tiny(dir, "-j 2", csv, sizeof csv);
    assert_memory_equal(csv, COLUMNS, strlen(COLUMNS));
    size_t n = read_rows(csv, rows, 64);
    assert_int_equal(n, 5 * (7 + 4));
    for (size_t i = 0; i < n; i++) {
        row *r = &rows[i];
        assert_true(r->images == 40);
        assert_true(r->recv <= r->sent + 1e-9 && r->sent <= r->encoded + 1e-9);
        assert_true(r->psnr > 0 && r->ssim <= 1.0 + 1e-12);
        assert_true(r->complete >= 0 && r->complete <= 1);
        if (strcmp(r->cut, "budget") == 0)
            assert_true(r->recv <= r->limit);
        /* JPEG decodes a prefix: a later cut never lowers quality. */
        if (i > 0 && strcmp(rows[i - 1].codec, r->codec) == 0 &&
            strcmp(rows[i - 1].cut, r->cut) == 0) {
            if (r->psnr < rows[i - 1].psnr - 1e-9 ||
                r->recv < rows[i - 1].recv - 1e-9)
                fail_msg("%s %s %g: PSNR %g after %g", r->codec, r->cut,
                         r->limit, r->psnr, rows[i - 1].psnr);
        }
    }
    /* Before the first packet can arrive nothing is there: flat grey. */
    assert_true(rows[0].recv == 0 && rows[0].limit == 0.05);
    /* Two minutes cover the small streams: most images complete. */
    assert_true(rows[6].complete > 0.3);
    check_compressai(dir, rows, n);
    check_numbers(dir, csv, rows, n);
    tu_rmtree(dir);
}

static void test_rerun_and_threads(void **state)
{
    (void)state;
    char dir[64], path[256], msg[8192], cmd[512];
    static char first[65536], second[65536], third[65536];
    tu_tempdir(dir);
    run_tiny(dir, "-j 1", first, sizeof first);
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *sum = tu_read_file(path, NULL);
    assert_non_null(strstr(sum, "\"reused\":\tfalse"));
    assert_non_null(strstr(sum, "\"version\""));
    free(sum);
    /* A rerun reuses every cell and gives the same table. */
    run_tiny(dir, "-j 2", second, sizeof second);
    assert_string_equal(first, second);
    sum = tu_read_file(path, NULL);
    assert_null(strstr(sum, "\"reused\":\tfalse"));
    free(sum);
    /* Forced, with another thread count: the same numbers again. */
    run_tiny(dir, "-j 3 --force", third, sizeof third);
    assert_string_equal(first, third);
    sum = tu_read_file(path, NULL);
    assert_null(strstr(sum, "\"reused\":\ttrue"));
    free(sum);
    /* A failing rerun leaves the earlier results as they were. */
    snprintf(cmd, sizeof cmd, "sed -i 's/\"seed\": 7/\"seed\": \"x\"/' %s/tiny.json"
             " && %s run %s/tiny.json", dir, LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *after = tu_read_file(path, NULL);
    assert_string_equal(after, first);
    free(after);
    tu_rmtree(dir);
}

static void test_plot(void **state)
{
    (void)state;
    char dir[64], cmd[1024], msg[8192], path[256];
    static char csv[65536];
    tu_tempdir(dir);
    run_tiny(dir, "", csv, sizeof csv);
    snprintf(cmd, sizeof cmd, "%s/scripts/plot.sh %s/out", SOURCE_DIR, dir);
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("plot.sh failed: %s", msg);
    const char *files[] = {"quality-vs-bytes.png", "quality-vs-bytes.svg",
                           "quality-vs-deadline.png", "quality-vs-deadline.svg"};
    for (size_t i = 0; i < 4; i++) {
        size_t len = 0;
        snprintf(path, sizeof path, "%s/out/%s", dir, files[i]);
        char *data = tu_read_file(path, &len);
        assert_non_null(data);
        assert_true(len > 1000);
        free(data);
    }
    /* What the scripts ask gnuplot, kept by a stand-in gnuplot first on
     * PATH: error bars where results.csv has the interval columns, and
     * the plot as before (no bars) for a file without them. */
    snprintf(cmd, sizeof cmd, "mkdir %s/fake && printf '#!/bin/sh\\ncat >> %s/gp\\n' "
             "> %s/fake/gnuplot && chmod +x %s/fake/gnuplot", dir, dir, dir, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    snprintf(path, sizeof path, "%s/gp", dir);
    snprintf(cmd, sizeof cmd, "PATH=%s/fake:$PATH %s/scripts/plot.sh %s/out --out %s/fp",
             dir, SOURCE_DIR, dir, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot.sh (stand-in gnuplot) failed: %s", msg);
    char *gp = tu_read_file(path, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "with yerrorlines"));
    assert_non_null(strstr(gp, "set bars"));
    free(gp);
    unlink(path);
    snprintf(cmd, sizeof cmd, "mkdir %s/old && cut -d, -f1-15 %s/out/results.csv > "
             "%s/old/results.csv && PATH=%s/fake:$PATH %s/scripts/plot.sh %s/old",
             dir, dir, dir, dir, SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot.sh (old columns) failed: %s", msg);
    gp = tu_read_file(path, NULL);
    assert_non_null(gp);
    assert_null(strstr(gp, "yerrorlines"));
    assert_non_null(strstr(gp, "with linespoints"));
    free(gp);
    unlink(path);
    /* plot-compare.sh: a band per family from its _lo/_hi columns (which
     * are not families themselves), none without them. */
    static const char *cmp =
        "bytes,best_reference,jpeg,limitnet,jpeg_lo,jpeg_hi,limitnet_lo,limitnet_hi\n"
        "16.000,0.10,0.10,0.20,0.05,0.15,0.10,0.30\n"
        "32.000,0.30,0.30,0.50,0.20,0.40,0.40,0.60\n"
        "64.000,0.50,0.50,0.70,0.40,0.60,0.60,0.80\n";
    char file[128];
    snprintf(file, sizeof file, "%s/comparison.csv", dir);
    tu_write_file(file, cmp, strlen(cmp));
    snprintf(cmd, sizeof cmd, "%s/scripts/plot-compare.sh %s", SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot-compare.sh failed: %s", msg);
    size_t len = 0;
    snprintf(file, sizeof file, "%s/accuracy-vs-bytes.png", dir);
    char *png = tu_read_file(file, &len);
    assert_non_null(png);
    assert_true(len > 1000);
    free(png);
    snprintf(cmd, sizeof cmd, "PATH=%s/fake:$PATH %s/scripts/plot-compare.sh %s",
             dir, SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot-compare.sh (stand-in gnuplot) failed: %s", msg);
    gp = tu_read_file(path, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "with filledcurves fs transparent solid 0.15"));
    assert_non_null(strstr(gp, "for [i=3:4] "));
    free(gp);
    unlink(path);
    snprintf(cmd, sizeof cmd, "mkdir %s/cmp-old && cut -d, -f1-4 %s/comparison.csv > "
             "%s/cmp-old/comparison.csv && PATH=%s/fake:$PATH "
             "%s/scripts/plot-compare.sh %s/cmp-old", dir, dir, dir, dir, SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot-compare.sh (no bands) failed: %s", msg);
    gp = tu_read_file(path, NULL);
    assert_non_null(gp);
    assert_null(strstr(gp, "filledcurves"));
    assert_non_null(strstr(gp, "for [i=3:4] "));
    free(gp);
    unlink(path);
    /* plot-loss.sh: the mean loss from each channel's label (iidP; geA_B_C_D
     * is A/(A+B) C + B/(A+B) D), a lossless channel in both panels, only
     * the deadline asked for. */
    static const char *loss_csv =
        "codec,channel,cut,limit,images,encoded_bytes,sent_bytes,sent_packets,"
        "received_bytes,received_packets,lost_packets,complete,psnr,ssim,accuracy,"
        "psnr_se,ssim_se,accuracy_lo,accuracy_hi\n"
        "c,link-p51,deadline,60,10,100,100,2,100,2,0,1,20,0.8,0.9,0,0,0.6,0.98\n"
        "c,link-p51-iid0.2,deadline,60,10,100,100,2,80,1.6,0.4,0.6,18,0.7,0.7,0,0,0.4,0.9\n"
        "c,link-p51-ge0.1_0.3_1_0,deadline,60,10,100,100,2,75,1.5,0.5,0.5,17,0.6,0.6,0,0,0.3,0.8\n"
        "c,link-p51-ge0.1_0.1_0.5_0.1,deadline,60,10,100,100,2,70,1.4,0.6,0.4,16,0.5,0.5,0,0,0.2,0.8\n"
        "c,link-p51-iid0.2,deadline,120,10,100,100,2,80,1.6,0.4,0.6,18,0.7,0.1,0,0,0.0,0.3\n";
    snprintf(cmd, sizeof cmd, "mkdir %s/loss", dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    snprintf(file, sizeof file, "%s/loss/results.csv", dir);
    tu_write_file(file, loss_csv, strlen(loss_csv));
    snprintf(cmd, sizeof cmd, "PATH=%s/fake:$PATH %s/scripts/plot-loss.sh %s/loss --deadline 60",
             dir, SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot-loss.sh failed: %s", msg);
    snprintf(file, sizeof file, "%s/loss/loss.csv", dir);
    char *table = tu_read_file(file, NULL);
    static const char *const want[] = {
        "c,gilbert_elliott,0.0000,link-p51,100.0,0.9000,0.6000,0.9800\n",
        "c,gilbert_elliott,0.2500,link-p51-ge0.1_0.3_1_0,",
        "c,gilbert_elliott,0.3000,link-p51-ge0.1_0.1_0.5_0.1,",
        "c,independent,0.0000,link-p51,",
        "c,independent,0.2000,link-p51-iid0.2,100.0,0.7000,",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(table, want[i]))
            fail_msg("loss.csv lacks %s: %s", want[i], table);
    assert_null(strstr(table, "0.1000")); /* the 120 s row is not plotted */
    free(table);
    gp = tu_read_file(path, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "with yerrorlines"));
    free(gp);
    snprintf(cmd, sizeof cmd, "%s/scripts/plot-loss.sh %s/loss --deadline 7", SOURCE_DIR, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "no deadline cut at 7 s"));
    tu_rmtree(dir);
}

/* A run killed after its first cell keeps that cell: the rerun reuses it
 * and ends with the same table as an uninterrupted run. */
static void test_interrupted_run(void **state)
{
    (void)state;
    char dir[64], file[128], out[128], json[2048], cmd[1024], msg[8192], path[256];
    tu_tempdir(dir);
    snprintf(file, sizeof file, "%s/big.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(json, sizeof json,
             "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 3000},\n"
             " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"progressive\",\n"
             "              \"quality\": [10, 20, 30, 40, 50, 60, 70, 80]}],\n"
             " \"channel\": {\"loss\": {\"model\": \"independent\", \"p\": 0.1}},\n"
             " \"deadlines\": [1, 30, 60, 120, 240], \"output\": \"%s\"}\n", out);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s -j 1 >/dev/null 2>&1 & pid=$!; "
             "for i in $(seq 2000); do ls %s/cells/*.csv >/dev/null 2>&1 && break; "
             "sleep 0.01; done; kill -9 $pid; wait $pid 2>/dev/null; ls %s/cells/*.csv | wc -l",
             LIMITNET_BIN, file, out, out);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    int kept = atoi(msg);
    if (kept < 1 || kept >= 8)
        skip(); /* the machine was too slow or too fast to catch it mid-run */
    snprintf(path, sizeof path, "%s/results.csv", out);
    assert_null(tu_read_file(path, NULL));
    snprintf(cmd, sizeof cmd, "%s run %s", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *sum = tu_read_file(path, NULL);
    assert_non_null(strstr(sum, "\"reused\":\ttrue"));
    assert_non_null(strstr(sum, "\"reused\":\tfalse"));
    free(sum);
    snprintf(path, sizeof path, "%s/results.csv", out);
    char *resumed = tu_read_file(path, NULL);
    snprintf(cmd, sizeof cmd, "%s run %s --force", LIMITNET_BIN, file);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 0);
    char *fresh = tu_read_file(path, NULL);
    assert_string_equal(resumed, fresh);
    free(resumed);
    free(fresh);
    tu_rmtree(dir);
}

/* A channel sweep: every codec setting over every channel setting, grouped
 * by channel; each channel's rows equal a run over that channel alone; a
 * rerun after changing one channel recomputes only that channel's cells. */
static const char *sweep =
    "{\"seed\": 3,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 200, \"count\": 30},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": [10, 40]}],\n"
    " \"channel\": %s,\n"
    " \"deadlines\": [5, 30, 120], \"budgets\": [60],\n"
    " \"output\": \"%s\"}\n";

#define SWEEP_LORA "{\"model\": \"lora\", \"sf\": [7, 9], \"distance\": 150}"
#define SWEEP_LINK "{\"loss\": {\"model\": \"independent\", \"p\": %s}}"

static void run_sweep(const char *dir, const char *name, const char *channel,
                      const char *flags, char **csv, char **summary)
{
    char file[128], out[128], json[2048], cmd[512], msg[8192], path[256];
    snprintf(file, sizeof file, "%s/%s.json", dir, name);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    snprintf(json, sizeof json, sweep, channel, out);
    tu_write_file(file, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s %s", LIMITNET_BIN, file, flags);
    int st = tu_run(cmd, msg, sizeof msg);
    if (st != 0)
        fail_msg("limitnet run failed (%d): %s", st, msg);
    snprintf(path, sizeof path, "%s/results.csv", out);
    *csv = tu_read_file(path, NULL);
    assert_non_null(*csv);
    if (summary) {
        snprintf(path, sizeof path, "%s/summary.json", out);
        *summary = tu_read_file(path, NULL);
        assert_non_null(*summary);
    }
}

/* The rows of csv whose channel column is label, header first. */
static void rows_of(const char *csv, const char *label, char *out, size_t cap)
{
    size_t off = 0;
    const char *p = csv;
    char pat[300];
    snprintf(pat, sizeof pat, ",%s,", label);
    for (int first = 1; *p; first = 0) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p) + 1;
        const char *comma = strchr(p, ',');
        if (first || strncmp(comma, pat, strlen(pat)) == 0) {
            assert_true(off + len < cap);
            memcpy(out + off, p, len);
            off += len;
        }
        p = nl + 1;
    }
    out[off] = 0;
}

static void test_channel_sweep(void **state)
{
    (void)state;
    char dir[64], chans[512], link[128];
    static char a[16384], b[16384];
    tu_tempdir(dir);
    snprintf(link, sizeof link, SWEEP_LINK, "[0, 0.3]");
    snprintf(chans, sizeof chans, "[" SWEEP_LORA ", %s]", link);
    char *csv, *sum, *csv2, *sum2;
    run_sweep(dir, "sweep", chans, "-j 1", &csv, &sum);
    /* 4 channel settings x 2 codec settings x 4 cuts, grouped by channel
     * in the order given. */
    const char *labels[] = {"lora-eu868-sf7bw125-d150", "lora-eu868-sf9bw125-d150",
                            "link-5470bps-p51-iid0", "link-5470bps-p51-iid0.3"};
    size_t nrows = 0;
    int order_ok = 1;
    for (const char *p = strchr(csv, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        const char *ch = strchr(p, ',') + 1;
        size_t k = nrows / 8;
        order_ok &= k < 4 && strncmp(ch, labels[k], strlen(labels[k])) == 0 &&
                    ch[strlen(labels[k])] == ',';
        nrows++;
    }
    assert_int_equal(nrows, 32);
    assert_true(order_ok);
    assert_non_null(strstr(sum, "\"reused\":\tfalse"));
    /* Thread count and reuse do not change the table. */
    run_sweep(dir, "sweep", chans, "-j 2 --force", &csv2, NULL);
    assert_string_equal(csv, csv2);
    free(csv2);
    /* Each channel's rows equal a run over that channel alone. */
    run_sweep(dir, "alone", link, "-j 2", &csv2, NULL);
    rows_of(csv, "link-5470bps-p51-iid0.3", a, sizeof a);
    rows_of(csv2, "link-5470bps-p51-iid0.3", b, sizeof b);
    assert_true(strlen(b) > 200);
    assert_string_equal(a, b);
    free(csv2);
    /* Changing one channel recomputes only its cells. */
    snprintf(link, sizeof link, SWEEP_LINK, "[0, 0.2]");
    snprintf(chans, sizeof chans, "[" SWEEP_LORA ", %s]", link);
    run_sweep(dir, "sweep", chans, "-j 2", &csv2, &sum2);
    size_t reused = 0, computed = 0;
    for (const char *p = sum2; (p = strstr(p, "\"reused\":\t")); p++)
        p[10] == 't' ? reused++ : computed++;
    assert_int_equal(reused, 6);
    assert_int_equal(computed, 2);
    rows_of(csv, "lora-eu868-sf9bw125-d150", a, sizeof a);
    rows_of(csv2, "lora-eu868-sf9bw125-d150", b, sizeof b);
    assert_string_equal(a, b);
    assert_non_null(strstr(csv2, ",link-5470bps-p51-iid0.2,"));
    assert_null(strstr(csv2, ",link-5470bps-p51-iid0.3,"));
    free(csv);
    free(csv2);
    free(sum);
    free(sum2);
    /* plot.sh draws a panel per channel (against bytes and against the
     * deadline, under the single-channel plots' names) and a panel per
     * codec. */
    char cmd[512], msg[8192], path[256];
    snprintf(cmd, sizeof cmd, "%s/scripts/plot.sh %s/sweep", SOURCE_DIR, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot.sh failed: %s", msg);
    assert_non_null(strstr(msg, "quality-vs-bytes.png"));
    assert_null(strstr(msg, "by-channel"));
    const char *plots[] = {"bytes", "deadline", "deadline-by-codec"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/sweep/quality-vs-%s.png", dir, plots[i]);
        size_t len = 0;
        char *png = tu_read_file(path, &len);
        assert_non_null(png);
        assert_true(len > 1000);
        free(png);
    }
    /* --channels keeps the matching channel settings, --out moves the
     * plots; a pattern that matches nothing is an error. */
    snprintf(cmd, sizeof cmd, "%s/scripts/plot.sh %s/sweep --channels '^lora-' "
             "--out %s/lora && ls %s/lora", SOURCE_DIR, dir, dir, dir);
    if (tu_run(cmd, msg, sizeof msg) != 0)
        fail_msg("plot.sh --channels failed: %s", msg);
    assert_non_null(strstr(msg, "quality-vs-deadline-by-codec.svg"));
    snprintf(cmd, sizeof cmd, "%s/scripts/plot.sh %s/sweep --channels '^nbiot'",
             SOURCE_DIR, dir);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "no channel matches"));
    tu_rmtree(dir);
}

/* A copy of the Fashion-MNIST classifier that always answers class 0: its
 * last layer's first bias made huge (the safetensors header says where),
 * and that tensor's checksum taken out of the metadata, as a file from
 * elsewhere would lack it (nn/safetensors.c). */
static void write_biased(const char *from, const char *to)
{
    size_t len;
    unsigned char *b = (unsigned char *)tu_read_file(from, &len);
    assert_non_null(b);
    uint64_t n = 0;
    memcpy(&n, b, 8); /* little-endian, as safetensors and x86 are */
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, (size_t)n);
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(h, "fc2.bias");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(bias, "data_offsets");
    assert_non_null(at);
    float big = 1e6f;
    memcpy(b + 8 + n + (size_t)cJSON_GetArrayItem(at, 0)->valuedouble, &big, sizeof big);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(meta, "nn.fnv1a64.fc2.bias"));
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "nn.fnv1a64.fc2.bias");
    char *head = cJSON_PrintUnformatted(h);
    assert_non_null(head);
    uint64_t hn = (strlen(head) + 7) / 8 * 8; /* padded with spaces, as allowed */
    size_t data = len - 8 - (size_t)n, total = 8 + (size_t)hn + data;
    unsigned char *o = malloc(total);
    assert_non_null(o);
    memcpy(o, &hn, 8);
    memset(o + 8, ' ', (size_t)hn);
    memcpy(o + 8, head, strlen(head));
    memcpy(o + 8 + hn, b + 8 + n, data);
    tu_write_file(to, o, total);
    free(o);
    cJSON_free(head);
    cJSON_Delete(h);
    free(b);
}

/* A codec entry's own classifier (issue 17, point 3): it scores that
 * entry's cells, the scenario's scores the others; summary.json says
 * which scored each cell; the file's contents are in the cell's
 * fingerprint; without the scenario's classifier, or with a file that is
 * no classifier, it is refused. */
static void test_codec_classifier(void **state)
{
    (void)state;
    char dir[64], path[160], cmd[512], out[8192], biased[160], text[2048];
    tu_tempdir(dir);
    snprintf(biased, sizeof biased, "%s/class0.safetensors", dir);
    write_biased(SOURCE_DIR "/models/fmnist-classifier.safetensors", biased);
    const char *fmt =
        "{\"name\": \"cc\", \"dataset\": {\"name\": \"fashion-mnist\", \"split\": "
        "\"test\", \"count\": 60}, \"codecs\": [{\"name\": \"jpeg\", \"quality\": 50}, "
        "{\"name\": \"jpeg\", \"quality\": [30, 70]%s}], \"channel\": {\"model\": "
        "\"link\", \"bitrate\": 5470, \"payload\": 51, \"header\": 13}, \"budgets\": "
        "[100000], %s\"output\": \"%s/out\"}";
    char own[256], task[160];
    snprintf(own, sizeof own, ", \"task\": {\"classifier\": \"%s\"}", biased);
    snprintf(task, sizeof task, "\"task\": {\"classifier\": \"%s/models/"
             "fmnist-classifier.safetensors\"}, ", SOURCE_DIR);
    snprintf(text, sizeof text, fmt, own, task, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s run %s --quiet", LIMITNET_BIN, path);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s: %s", cmd, out);
    /* q30 and q70 answer class 0 for everything: the share of class 0 */
    double acc[3];
    const char *names[3] = {"jpeg-baseline-q50 ", "jpeg-baseline-q30 ", "jpeg-baseline-q70 "};
    for (int k = 0; k < 3; k++) {
        const char *line = strstr(out, names[k]);
        assert_non_null(line);
        assert_int_equal(sscanf(line + strlen(names[k]), "%*f %lf", &acc[k]), 1);
    }
    if (!(acc[0] > 70 && acc[1] < 25 && acc[1] == acc[2]))
        fail_msg("q50 %.1f %%, q30 %.1f %%, q70 %.1f %%: %s", acc[0], acc[1], acc[2], out);
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(summary);
    snprintf(text, sizeof text, "\"codec\":\t\"jpeg-baseline-q30\",\n"
             "\t\t\t\"channel\":\t\"link-5470bps-p51\",\n\t\t\t\"classifier\":\t\"%s\"",
             biased);
    if (!strstr(summary, text) ||
        !strstr(summary, "\"classifier\":\t\"" SOURCE_DIR "/models/fmnist-classifier"))
        fail_msg("summary.json does not say which classifier scored each cell: %s", summary);
    free(summary);
    /* the same entry without its own classifier: those cells are others */
    snprintf(text, sizeof text, fmt, "", task, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s plan %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "3 cells, 1 done, 2 to do"));
    /* refused: no scenario classifier; a file that is none */
    snprintf(text, sizeof text, fmt, own, "", dir);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "%s check %s", LIMITNET_BIN, path);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "codecs[1].task.classifier: a codec's own classifier "
                                "needs the scenario's task.classifier"));
    snprintf(own, sizeof own, ", \"task\": {\"classifier\": \"%s/s.json\"}", dir);
    snprintf(text, sizeof text, fmt, own, task, dir);
    tu_write_file(path, text, strlen(text));
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "codecs[1].task.classifier: "));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_run),
        cmocka_unit_test(test_rerun_and_threads),
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_interrupted_run),
        cmocka_unit_test(test_channel_sweep),
        cmocka_unit_test(test_codec_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
