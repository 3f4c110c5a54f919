/* Uncertainty in results: the interval columns against each cell's own
 * per-item rows (--per-item), the hits files against the same rows, a cell
 * without its hits computed again, and limitnet compare's paired bootstrap
 * (seeded, containing its point estimate, refusing a damaged hits.csv). */
#include "testutil.h"

#include <glob.h>
#include <math.h>

#include "util/util.h"

#define COUNT 150

static const char *scenario =
    "{\"name\": \"spread\", \"seed\": 5,\n"
    " \"dataset\": {\"name\": \"fashion-mnist\", \"first\": 300, \"count\": %d},\n"
    " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": [10, 50]},\n"
    "             {\"name\": \"limitnet\", \"weights\": \"%s/models/limitnet-fmnist.safetensors\",\n"
    "              \"keep\": [0.1, 1]}],\n"
    " \"channel\": {\"model\": \"link\", \"bitrate\": 5470, \"payload\": 51, \"header\": 13,\n"
    "             \"loss\": {\"model\": \"independent\", \"p\": 0.1}},\n"
    " \"deadlines\": [0.1, 1],\n"
    " \"budgets\": [32, 64, 128],\n"
    " \"task\": {\"classifier\": \"%s/models/fmnist-classifier.safetensors\"},\n"
    " \"output\": \"%s/out\"}\n";

#define NCUTS 5
#define NCELLS 4

/* The i-th comma-separated field of line (0-based) into buf. */
static void field(const char *line, int i, char *buf, size_t len)
{
    const char *p = line;
    for (; i > 0; i--) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, ",\n");
    assert_true(n < len);
    memcpy(buf, p, n);
    buf[n] = 0;
}

static double num(const char *line, int i)
{
    char buf[64];
    field(line, i, buf, sizeof buf);
    return atof(buf);
}

/* The per-item file of the cell whose label is codec. */
static char *items_of(const char *dir, const char *codec)
{
    char pat[256];
    glob_t g;
    snprintf(pat, sizeof pat, "%s/out/cells/%s-*.items.csv", dir, codec);
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 1);
    char *text = tu_read_file(g.gl_pathv[0], NULL);
    globfree(&g);
    assert_non_null(text);
    return text;
}

/* Checks one row of results.csv (line) against the items of its cut and
 * its line of hits.csv. */
static void check_row(const char *line, const char *items, int cut, const char *hits)
{
    double psnr[COUNT], sum = 0;
    int right = 0, n = 0;
    char hex[2 * ((COUNT + 7) / 8) + 1];
    field(hits, 5, hex, sizeof hex);
    const char *p = strchr(items, '\n') + 1;
    for (int k = 0; *p; k++, p = strchr(p, '\n') + 1) {
        if (k % NCUTS != cut)
            continue;
        psnr[n] = num(p, 10);
        sum += psnr[n];
        int ok = (int)num(p, 12);
        unsigned byte;
        sscanf(hex + 2 * (n / 8), "%2x", &byte);
        assert_int_equal(ok, (byte >> (n % 8)) & 1);
        right += ok;
        n++;
    }
    assert_int_equal(n, COUNT);
    double psnr_se = num(line, 15), acc = num(line, 14);
    assert_true(fabs(sum / n - num(line, 12)) < 1e-9);
    assert_true(fabs(util_mean_se(psnr, (size_t)n) - psnr_se) < 1e-12 * (1 + psnr_se));
    assert_true(fabs(acc - (double)right / n) < 1e-12);
    double lo, hi;
    util_wilson(right, n, 0.95, &lo, &hi);
    assert_true(fabs(num(line, 17) - lo) < 1e-15 && fabs(num(line, 18) - hi) < 1e-15);
    assert_true(lo <= acc && acc <= hi && hi - lo > 0.05);
}

static void run(const char *dir, const char *flags, int want)
{
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd, "%s run %s/s.json -j 2 --quiet %s", LIMITNET_BIN, dir, flags);
    int st = tu_run(cmd, out, sizeof out);
    if (st != want)
        fail_msg("%s: exit %d: %s", cmd, st, out);
}

static void setup(char *dir)
{
    char path[128], json[4096];
    tu_tempdir(dir);
    snprintf(json, sizeof json, scenario, COUNT, SOURCE_DIR, SOURCE_DIR, dir);
    snprintf(path, sizeof path, "%s/s.json", dir);
    tu_write_file(path, json, strlen(json));
}

static void test_intervals_against_items(void **state)
{
    (void)state;
    char dir[64], path[128];
    setup(dir);
    run(dir, "--per-item", 0);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *csv = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/out/hits.csv", dir);
    char *hits = tu_read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(hits);
    assert_non_null(strstr(csv, ",accuracy,psnr_se,ssim_se,accuracy_lo,accuracy_hi\n"));
    const char *line = strchr(csv, '\n') + 1, *h = strchr(hits, '\n') + 1;
    for (int r = 0; r < NCELLS * NCUTS; r++) {
        char codec[64], hcodec[64];
        field(line, 0, codec, sizeof codec);
        field(h, 0, hcodec, sizeof hcodec);
        assert_string_equal(codec, hcodec);
        char *items = items_of(dir, codec);
        check_row(line, items, r % NCUTS, h);
        free(items);
        line = strchr(line, '\n') + 1;
        h = strchr(h, '\n') + 1;
    }
    assert_int_equal(*line, 0);
    assert_int_equal(*h, 0);
    free(csv);
    free(hits);
    tu_rmtree(dir);
}

/* A cell whose hits file is gone is not complete: the next run computes
 * it again, to the same numbers; merge refuses it by name. */
static void test_hits_make_a_cell_whole(void **state)
{
    (void)state;
    char dir[64], pat[160], cmd[1024], out[8192], path[128];
    setup(dir);
    run(dir, "", 0);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *before = tu_read_file(path, NULL);
    snprintf(pat, sizeof pat, "%s/out/cells/limitnet-k1-*.hits", dir);
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    char copy[96];
    snprintf(copy, sizeof copy, "%s/spare", dir);
    snprintf(cmd, sizeof cmd, "mkdir %s && cp %s/out/cells/*.csv %s/out/cells/*.hits %s && "
             "rm %s/%s", copy, dir, dir, copy, copy, strrchr(g.gl_pathv[0], '/') + 1);
    assert_int_equal(system(cmd), 0);
    unlink(g.gl_pathv[0]);
    globfree(&g);
    run(dir, "", 0);
    snprintf(path, sizeof path, "%s/out/summary.json", dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(strstr(summary, "\"reused\":\tfalse"));
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *after = tu_read_file(path, NULL);
    assert_string_equal(before, after);
    /* merge into a fresh output: the cell without hits is refused */
    snprintf(cmd, sizeof cmd, "sed 's#%s/out#%s/merged#' %s/s.json > %s/m.json && "
             "%s merge %s/m.json %s", dir, dir, dir, dir, LIMITNET_BIN, dir, copy);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "limitnet-k1-"));
    assert_non_null(strstr(out, "refused: not a whole cell file with its hits file"));
    free(before);
    free(after);
    free(summary);
    tu_rmtree(dir);
}

static char *compare(const char *dir, const char *flags, int want)
{
    char cmd[512];
    static char out[16384];
    snprintf(cmd, sizeof cmd, "%s compare %s/out --clean 0.9393 --ref jpeg-abbreviated %s",
             LIMITNET_BIN, dir, flags);
    int st = tu_run(cmd, out, sizeof out);
    if (st != want)
        fail_msg("%s: exit %d: %s", cmd, st, out);
    return strdup(out);
}

/* "| limitnet | M % | G [LO, HI] |": the gain and its interval. */
static void gain_of(const char *md, const char *fam, double *g, double *lo, double *hi)
{
    char key[64];
    snprintf(key, sizeof key, "\n| %s | ", fam);
    const char *p = strstr(md, key);
    assert_non_null(p);
    p = strchr(p + strlen(key), '|');
    assert_int_equal(sscanf(p, "| %lf [%lf, %lf] |", g, lo, hi), 3);
}

static void test_compare_bootstrap(void **state)
{
    (void)state;
    char dir[64], path[128];
    setup(dir);
    run(dir, "", 0);
    char *none = compare(dir, "--boot 0", 0), *c = compare(dir, "--seed 2 --boot 400", 0);
    char *a = compare(dir, "", 0), *b = compare(dir, "", 0);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_non_null(strstr(a, "Intervals: 95 % paired percentile bootstrap over the 150 "
                              "items (1000 resamplings of hits.csv, seed 1;"));
    assert_non_null(strstr(none, "Intervals: none (--boot 0)."));
    double g, lo, hi, g2, lo2, hi2;
    gain_of(a, "limitnet", &g, &lo, &hi);
    gain_of(c, "limitnet", &g2, &lo2, &hi2);
    assert_true(g == g2 && lo <= g && g <= hi && lo < hi);
    assert_true(lo2 != lo || hi2 != hi);
    /* the reference against itself: no spread at all */
    gain_of(a, "jpeg-abbreviated", &g, &lo, &hi);
    assert_true(g == 0 && lo == 0 && hi == 0);
    snprintf(path, sizeof path, "%s/out/comparison.csv", dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(strstr(csv, ",limitnet_lo,limitnet_hi\n"));
    free(csv);
    char cmd[256], out[4096];
    /* a gzip'd copy (as results/reference keeps it) gives the same */
    snprintf(cmd, sizeof cmd, "gzip %s/out/hits.csv", dir);
    assert_int_equal(system(cmd), 0);
    char *gz = compare(dir, "", 0);
    assert_string_equal(a, gz);
    free(gz);
    snprintf(cmd, sizeof cmd, "gunzip %s/out/hits.csv.gz", dir);
    assert_int_equal(system(cmd), 0);
    /* a damaged hits.csv is an error that names it and the line */
    snprintf(cmd, sizeof cmd, "sed -i '3s/.$//' %s/out/hits.csv", dir);
    assert_int_equal(system(cmd), 0);
    char *bad = compare(dir, "", 1);
    snprintf(out, sizeof out, "%s/out/hits.csv: line 3: ", dir);
    assert_non_null(strstr(bad, out));
    assert_non_null(strstr(bad, "hex digits"));
    snprintf(cmd, sizeof cmd, "%s compare %s/out --clean 0.9 --boot 1e9", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--boot wants a whole number of resamplings"));
    free(a);
    free(b);
    free(c);
    free(none);
    free(bad);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intervals_against_items),
        cmocka_unit_test(test_hits_make_a_cell_whole),
        cmocka_unit_test(test_compare_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
