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
    /* plan sees every cell done; a merge of whole cells with their hits
     * gives the same files */
    snprintf(cmd, sizeof cmd, "%s plan %s/s.json", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "4 cells, 4 done, 0 to do"));
    snprintf(cmd, sizeof cmd, "sed 's#%s/out#%s/whole#' %s/s.json > %s/w.json && "
             "%s merge %s/w.json %s/out", dir, dir, dir, dir, LIMITNET_BIN, dir, dir);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s: %s", cmd, out);
    snprintf(path, sizeof path, "%s/whole/results.csv", dir);
    char *merged = tu_read_file(path, NULL);
    assert_string_equal(before, merged);
    free(merged);
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/whole/hits.csv", dir);
    snprintf(b, sizeof b, "%s/out/hits.csv", dir);
    char *ha = tu_read_file(a, NULL), *hb = tu_read_file(b, NULL);
    assert_non_null(ha);
    assert_string_equal(ha, hb);
    free(ha);
    free(hb);
    /* merge into a fresh output: the cell without hits is refused */
    snprintf(cmd, sizeof cmd, "sed 's#%s/out#%s/merged#' %s/s.json > %s/m.json && "
             "%s merge %s/m.json %s", dir, dir, dir, dir, LIMITNET_BIN, dir, copy);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "limitnet-k1-"));
    assert_non_null(strstr(out, "refused: not a whole cell file with its hits or"));
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

/* Seeds as a sweep dimension: each seed's cells are those of a run with
 * that seed alone (the channel column says which), and seeds.csv holds
 * each row's mean and spread across the seeds. Bad seed lists are
 * refused before anything is written. */
static void test_seeds(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[1024], out[8192];
    setup(dir);
    run(dir, "", 0);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *one = tu_read_file(path, NULL);
    snprintf(cmd, sizeof cmd, "sed -i 's/\"seed\": 5,/\"seed\": [5, 9],/; s#%s/out#%s/two#' "
             "%s/s.json", dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    run(dir, "", 0);
    snprintf(path, sizeof path, "%s/two/results.csv", dir);
    char *two = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/two/seeds.csv", dir);
    char *seeds = tu_read_file(path, NULL);
    assert_non_null(two);
    assert_non_null(seeds);
    /* seed 5's rows are the single run's, the channel label marked */
    const char *a = strchr(one, '\n') + 1, *b = strchr(two, '\n') + 1;
    const char *c = strchr(seeds, '\n') + 1;
    assert_non_null(strstr(seeds, "codec,channel,cut,limit,seeds,received_bytes_mean,"));
    for (int r = 0; r < NCELLS * NCUTS; r++) {
        char ch[128], fa[100], fb[128];
        field(b, 1, ch, sizeof ch);
        field(a, 1, fa, sizeof fa);
        snprintf(fb, sizeof fb, "%s-seed5", fa);
        assert_string_equal(ch, fb);
        const char *ra = strchr(strchr(a, ',') + 1, ',') + 1;
        const char *rb = strchr(strchr(b, ',') + 1, ',') + 1;
        assert_memory_equal(ra, rb, strcspn(ra, "\n") + 1);
        /* the seed-9 row of the same cell and cut */
        const char *b9 = b;
        for (int k = 0; k < NCELLS * NCUTS; k++)
            b9 = strchr(b9, '\n') + 1;
        field(b9, 1, ch, sizeof ch);
        snprintf(fb, sizeof fb, "%s-seed9", fa);
        assert_string_equal(ch, fb);
        double x = num(b, 14), y = num(b9, 14), mean = (x + y) / 2;
        double sd = fabs(x - y) / sqrt(2);
        /* accuracy: columns 17..20 of seeds.csv (mean, sd, min, max) */
        assert_int_equal((int)num(c, 4), 2);
        assert_true(fabs(num(c, 17) - mean) < 1e-12 && fabs(num(c, 18) - sd) < 1e-12);
        assert_true(num(c, 19) == fmin(x, y) && num(c, 20) == fmax(x, y));
        a = strchr(a, '\n') + 1;
        b = strchr(b, '\n') + 1;
        c = strchr(c, '\n') + 1;
    }
    assert_int_equal(*c, 0);
    snprintf(path, sizeof path, "%s/two/summary.json", dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(strstr(summary, "\"seed_list\":\t[5, 9]"));
    static const char *const bad[][2] = {
        {"[]", "a list of 1..100 distinct integers, got a list of 0"},
        {"[5, 5]", "seed[1]: 5 is seed[0] already"},
        {"[5, 1.5]", "seed[1]: expected an integer"},
        {"[5, \\\"x\\\"]", "seed[1]: expected an integer in 0..2^53-1, got a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "sed 's/\"seed\": \\[5, 9\\],/\"seed\": %s,/; "
                 "s#%s/two#%s/bad#' %s/s.json > %s/b.json && %s run %s/b.json",
                 bad[i][0], dir, dir, dir, dir, LIMITNET_BIN, dir);
        assert_int_equal(tu_run(cmd, out, sizeof out), 2);
        if (!strstr(out, bad[i][1]))
            fail_msg("%s: %s", bad[i][0], out);
        snprintf(path, sizeof path, "%s/bad", dir);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    free(one);
    free(two);
    free(seeds);
    free(summary);
    tu_rmtree(dir);
}

/* One cell split by items (run --items): the parts, in any order and
 * however many, give the cell one run gives, byte for byte; a cell is to
 * do until its parts cover its items; merge puts copied parts together;
 * a range past the items is an error. */
static void test_items(void **state)
{
    (void)state;
    char dir[64], path[128], cmd[1024], out[8192];
    setup(dir);
    run(dir, "", 0);
    snprintf(path, sizeof path, "%s/out/results.csv", dir);
    char *one = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/out/hits.csv", dir);
    char *hits = tu_read_file(path, NULL);
    snprintf(cmd, sizeof cmd, "sed 's#%s/out#%s/p#' %s/s.json > %s/p.json", dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    static const char *const steps[] = {
        "--cells 2,3 --items 100-149", "--cells 2 --items 0-99", "--cells 3 --items 0-9",
        "--cells 0,1", "--cells 3 --items 10-99"};
    for (int k = 0; k < 5; k++) {
        snprintf(cmd, sizeof cmd, "%s run %s/p.json --quiet %s", LIMITNET_BIN, dir, steps[k]);
        int st = tu_run(cmd, out, sizeof out);
        if (st != 0)
            fail_msg("%s: %s", cmd, out);
        snprintf(path, sizeof path, "%s/p/results.csv", dir);
        /* results only once every cell is whole */
        assert_int_equal(access(path, F_OK) == 0, k == 4);
    }
    char *parts = tu_read_file(path, NULL);
    assert_string_equal(one, parts);
    snprintf(path, sizeof path, "%s/p/hits.csv", dir);
    char *phits = tu_read_file(path, NULL);
    assert_string_equal(hits, phits);
    /* merge from a directory of copied parts and whole cells */
    snprintf(cmd, sizeof cmd, "mkdir %s/copy && cp %s/p/cells/*.part-* %s/p/cells/jpeg* "
             "%s/copy/ && sed 's#%s/out#%s/m#' %s/s.json > %s/m.json && %s merge %s/m.json "
             "%s/copy", dir, dir, dir, dir, dir, dir, dir, dir, LIMITNET_BIN, dir, dir);
    if (tu_run(cmd, out, sizeof out) != 0)
        fail_msg("%s: %s", cmd, out);
    snprintf(path, sizeof path, "%s/m/results.csv", dir);
    char *merged = tu_read_file(path, NULL);
    assert_string_equal(one, merged);
    snprintf(cmd, sizeof cmd, "%s run %s/p.json --cells 1 --items 100-150 --force", LIMITNET_BIN,
             dir);
    assert_int_not_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "--items 100-150: the scenario has 150 items (0-149)"));
    snprintf(cmd, sizeof cmd, "%s run %s/p.json --items 7", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--items wants a range of item positions A-B"));
    free(one);
    free(hits);
    free(parts);
    free(phits);
    free(merged);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intervals_against_items),
        cmocka_unit_test(test_hits_make_a_cell_whole),
        cmocka_unit_test(test_compare_bootstrap),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
