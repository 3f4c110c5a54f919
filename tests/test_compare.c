/* `limitnet compare`: families, envelopes, the step rule, the figures, the
 * grid's end, --help and refusals, on small hand-written results files
 * whose answers are worked out in the comments. */
#include "tests/testutil.h"

#define HEADER "codec,channel,cut,limit,images,encoded_bytes,sent_bytes,sent_packets," \
               "received_bytes,received_packets,lost_packets,complete,psnr,ssim,accuracy\n"

static void row(FILE *f, const char *codec, const char *chan, double bytes, double acc)
{
    fprintf(f, "%s,%s,budget,%g,100,%g,%g,1,%g,1,0,1,20,0.5,%g\n", codec, chan,
            bytes, bytes, bytes, bytes, acc);
}

/* A row of one cut: `limit` is a budget in bytes, or 0 for a deadline that
 * lets the whole stream through. */
static void cut(FILE *f, const char *codec, double limit, double encoded,
                double received, double acc)
{
    fprintf(f, "%s,c,%s,%g,100,%g,%g,1,%g,1,0,%d,20,0.5,%g\n", codec,
            limit > 0 ? "budget" : "deadline", limit > 0 ? limit : 1e6, encoded,
            received, received, received >= encoded, acc);
}

static void write_results(const char *dir, int two_channels)
{
    char path[128];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER, f);
    /* Reference: nothing at 0 bytes (10 %), 50 % at 100, 90 % at 200 (the
     * clean accuracy, so the grid ends at 200 bytes). q20 is dominated. */
    row(f, "jpeg-baseline-q10", "c", 0, 0.10);
    row(f, "jpeg-baseline-q10", "c", 100, 0.50);
    row(f, "jpeg-baseline-q20", "c", 150, 0.40);
    row(f, "jpeg-baseline-q30", "c", 200, 0.90);
    /* The learned codec: 60 % at 20 bytes, 90 % at 100. */
    row(f, "limitnet-k0.1", "c", 0, 0.10);
    row(f, "limitnet-k0.1", "c", 20, 0.60);
    row(f, "limitnet-k1", "c", 100, 0.90);
    row(f, "limitnet-nosal-k1", two_channels ? "d" : "c", 100, 0.80);
    fclose(f);
}

/*
 * The hand-worked file: 51-byte packets, clean accuracy 90 %, --from 20.
 *
 *   jpeg-baseline   0 B 9 % (nothing fits a 1-byte budget), 70 B 50 %,
 *                   110 B 80 %, 120 B 75 % (dominated: dropped), 130 B 83 %,
 *                   160 B 90 %
 *   limitnet        0 B 9 % (a 40-byte budget over 51-byte packets), 10 B
 *                   8 % (below the empty reception: dropped), 51 B 85.5 %
 *                   (one packet), 102 B 89 % (two); nothing between 0 and
 *                   51 bytes
 *   limitnet-nosal  0 B 9 %, 25 B 40 %, 51 B 80 %, 102 B 86 %
 *
 * The reference first comes within 0.5 pp of 90 % (89.5 %) at its 160-byte
 * point, so the grid is b_g = 20 * 8^(g/63) = 20 * 2^(g/21), g = 0..63:
 * 20, 40 (g 21), 80 (g 42) and 160 (g 63) bytes, and between them
 * b_6 = 24.380, b_7 = 25.198, b_28 = 50.397, b_29 = 52.088,
 * b_37 = 67.829, b_38 = 70.105, b_49 = 100.794, b_50 = 104.176,
 * b_51 = 107.672, b_52 = 111.285, b_56 = 126.992, b_57 = 131.254.
 * Each step curve takes a point's value from the first b_g at or above
 * its bytes:
 *
 *   jpeg-baseline   g 0-37 9 %, 38-51 50 %, 52-56 80 %, 57-62 83 %, 63 90 %
 *                   sum 38*.09 + 14*.5 + 5*.8 + 6*.83 + .9 = 20.30
 *   limitnet        g 0-28 9 %, 29-49 85.5 %, 50-63 89 %
 *                   sum 29*.09 + 21*.855 + 14*.89 = 33.025
 *   limitnet-nosal  g 0-6 9 %, 7-28 40 %, 29-49 80 %, 50-63 86 %
 *                   sum 7*.09 + 22*.4 + 21*.8 + 14*.86 = 38.27
 *
 * Means over the 64 budgets: 31.72 %, 51.60 % (33.025 / 64 = .516016),
 * 59.80 % (.597969); gains over the reference (the only one): limitnet
 * 12.725 / 64 = +19.88 pp, nosal 17.97 / 64 = +28.08 pp. 90 % of clean is
 * 81 %: the reference's first point there is 130 B, limitnet's 51 B
 * (39.2 % of 130), nosal's 102 B (78.5 %). limitnet's full stream is
 * 102 bytes; below half of it (51: g 0-28, 29 budgets) limitnet loses to
 * nosal at g 7-28, 22 budgets, each by 31 pp, first at 25.2 bytes.
 *
 * At 40 bytes limitnet scores 9 %: the old linear rule read
 * 9 + 40/51 * (85.5 - 9) = 69 % there, issue 15's example.
 */
static void write_steps(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(HEADER, f);
    cut(f, "jpeg-baseline-q5", 1, 70, 0, 0.09);
    cut(f, "jpeg-baseline-q5", 0, 70, 70, 0.50);
    cut(f, "jpeg-baseline-q20", 0, 110, 110, 0.80);
    cut(f, "jpeg-baseline-q25", 0, 120, 120, 0.75);
    cut(f, "jpeg-baseline-q30", 0, 130, 130, 0.83);
    cut(f, "jpeg-baseline-q50", 0, 160, 160, 0.90);
    cut(f, "limitnet-k0.1", 40, 51, 0, 0.09);
    cut(f, "limitnet-k0.1", 64, 51, 51, 0.855);
    cut(f, "limitnet-k0.05", 0, 10, 10, 0.08);
    cut(f, "limitnet-k0.2", 0, 102, 102, 0.89);
    cut(f, "limitnet-nosal-k0.1", 16, 51, 0, 0.09);
    cut(f, "limitnet-nosal-k0.05", 0, 25, 25, 0.40);
    cut(f, "limitnet-nosal-k0.1", 0, 51, 51, 0.80);
    cut(f, "limitnet-nosal-k0.2", 0, 102, 102, 0.86);
    fclose(f);
}

/* Line g+1 of comparison.csv (line 0 is the header), or fails. */
static void csv_line(const char *csv, int g, char *line, size_t cap)
{
    const char *p = csv;
    for (int i = 0; i <= g; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, "\n");
    assert_true(n < cap);
    memcpy(line, p, n);
    line[n] = 0;
}

static void test_step_curves(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[8192], path[128];
    tu_tempdir(dir);
    write_steps(dir);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9 --from 20", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);

    snprintf(path, sizeof path, "%s/comparison.csv", dir);
    size_t len = 0;
    char *csv = tu_read_file(path, &len);
    assert_non_null(csv);
    const char *head = "bytes,best_reference,jpeg-baseline,limitnet,limitnet-nosal\n";
    assert_true(!strncmp(csv, head, strlen(head)));
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += csv[i] == '\n';
    assert_int_equal(lines, 65);
    /* bytes, best reference, jpeg-baseline, limitnet, limitnet-nosal */
    static const struct {
        int g;
        const char *line;
    } want[] = {
        {0, "20.000,0.09000,0.09000,0.09000,0.09000"},
        {6, "24.380,0.09000,0.09000,0.09000,0.09000"},
        {7, "25.198,0.09000,0.09000,0.09000,0.40000"},
        /* a 40-byte budget buys no 51-byte packet: 9 %, not 69 % */
        {21, "40.000,0.09000,0.09000,0.09000,0.40000"},
        {28, "50.397,0.09000,0.09000,0.09000,0.40000"},
        {29, "52.088,0.09000,0.09000,0.85500,0.80000"},
        {37, "67.829,0.09000,0.09000,0.85500,0.80000"},
        {38, "70.105,0.50000,0.50000,0.85500,0.80000"},
        {42, "80.000,0.50000,0.50000,0.85500,0.80000"},
        {49, "100.794,0.50000,0.50000,0.85500,0.80000"},
        {50, "104.176,0.50000,0.50000,0.89000,0.86000"},
        /* the dominated 120-byte point leaves 80 % held to 130 bytes */
        {56, "126.992,0.80000,0.80000,0.89000,0.86000"},
        {57, "131.254,0.83000,0.83000,0.89000,0.86000"},
        /* the grid ends on the reference's 160-byte point, exactly */
        {63, "160.000,0.90000,0.90000,0.89000,0.86000"},
    };
    char line[256];
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        csv_line(csv, want[i].g, line, sizeof line);
        assert_string_equal(line, want[i].line);
    }
    free(csv);

    snprintf(path, sizeof path, "%s/comparison.md", dir);
    char *md = tu_read_file(path, &len);
    assert_non_null(md);
    assert_string_equal(md, out); /* what it prints is what it writes */
    assert_non_null(strstr(md, "Grid: 64 log-spaced budgets, 20 to 160.0 bytes: "
                           "where the best reference, jpeg-baseline, comes within "
                           "0.5 pp of the clean 90.00 % (a measured point).\n"));
    assert_non_null(strstr(md, "| bytes for 90 % of clean (81.00 %) |"));
    assert_non_null(strstr(md, "\n| jpeg-baseline | 31.72 % | +0.00 | 130.0 | 100.0 % |\n"));
    assert_non_null(strstr(md, "\n| limitnet | 51.60 % | +19.88 | 51.0 | 39.2 % |\n"));
    assert_non_null(strstr(md, "\n| limitnet-nosal | 59.80 % | +28.08 | 102.0 | 78.5 % |\n"));
    assert_non_null(strstr(md, "below half of limitnet's full stream (51.0 bytes): "
                           "22 of 29 grid budgets lose (worst -31.00 pp at 25.2 bytes); "
                           "limitnet minus limitnet-nosal, averaged over them: -23.52 pp.\n"));
    /* by hand from the rows above: 7 budgets level, 22 at 9 - 40 = -31 pp,
     * 22 * -31 / 29 = -23.52 */
    free(md);
    tu_rmtree(dir);
}

/* The grid's end when no reference comes within 0.5 pp of clean, and when
 * the reference gets there below --from: the text says which, and the
 * bytes. */
static void test_grid_end_fallback(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[8192];
    tu_tempdir(dir);
    write_steps(dir);
    /* Clean 99 %: the reference tops out at 90 %, so the grid runs to its
     * largest point, 160 bytes, the same grid as above and the same means
     * and gains. 90 % of clean is 89.1 %: only the reference's 160-byte
     * point reaches it; limitnet's best is 89 %. */
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.99 --from 20", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "Grid: 64 log-spaced budgets, 20 to 160.0 bytes: "
                           "the largest reference point, since no reference comes "
                           "within 0.5 pp of the clean 99.00 % (the best reaches "
                           "90.00 %).\n"));
    assert_null(strstr(out, "where the best reference"));
    assert_non_null(strstr(out, "\n| jpeg-baseline | 31.72 % | +0.00 | 160.0 | 100.0 % |\n"));
    assert_non_null(strstr(out, "\n| limitnet | 51.60 % | +19.88 | never | — |\n"));
    /* --from 200: the reference is within 0.5 pp of 90 % at 160 bytes,
     * already below the grid's start, which then runs to twice --from. */
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9 --from 200", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "Grid: 64 log-spaced budgets, 200 to 400.0 bytes: "
                           "twice --from, since the best reference, jpeg-baseline, "
                           "comes within 0.5 pp of the clean 90.00 % already at "
                           "160.0 bytes.\n"));
    /* both: no reference within 0.5 pp of 99 %, its largest point below 200 */
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.99 --from 200", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "200 to 400.0 bytes: twice --from, since no "
                           "reference comes within 0.5 pp of the clean 99.00 % "
                           "(the best reaches 90.00 %) and the largest reference "
                           "point, 160.0 bytes, is not above --from.\n"));
    tu_rmtree(dir);
}

/* The first file, under the step rule: the reference reaches 89.5 % at its
 * 200-byte point, the grid's end; 90 % of clean (81 %) takes the reference
 * 200 bytes and limitnet 100 (50 % of it); nosal (80 % at 100 bytes) loses
 * nowhere to limitnet below 50 bytes. */
static void test_figures(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[8192];
    tu_tempdir(dir);
    write_results(dir, 0);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9 --from 16", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "16 to 200.0 bytes: where the best reference"));
    assert_non_null(strstr(out, "| limitnet | "));
    assert_non_null(strstr(out, "| 100.0 | 50.0 % |"));
    assert_non_null(strstr(out, "| jpeg-baseline | "));
    assert_non_null(strstr(out, "| 200.0 | 100.0 % |"));
    assert_non_null(strstr(out, ": 0 of "));
    char path[128];
    snprintf(path, sizeof path, "%s/comparison.csv", dir);
    size_t len = 0;
    char *csv = tu_read_file(path, &len);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "bytes,best_reference,jpeg-baseline,limitnet,limitnet-nosal"));
    free(csv);
    tu_rmtree(dir);
}

/* -h and --help: the usage on stdout, exit 0, even after a bad argument;
 * a usage error puts it on stderr with exit 2. */
static void test_help(void **state)
{
    (void)state;
    char cmd[512], out[4096];
    const char *forms[] = {"-h", "--help", "results --bogus --help"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "(%s compare %s 2>/dev/null)", LIMITNET_BIN, forms[i]);
        assert_int_equal(tu_run(cmd, out, sizeof out), 0);
        assert_non_null(strstr(out, "usage: limitnet compare RESULTS_DIR --clean ACC"));
        assert_non_null(strstr(out, "-h, --help"));
        assert_non_null(strstr(out, "step curve"));
    }
    snprintf(cmd, sizeof cmd, "(%s compare >/dev/null)", LIMITNET_BIN);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "usage: limitnet compare"));
    /* a bad argument is named, and so is an option left without its value */
    snprintf(cmd, sizeof cmd, "%s compare results --bogus --clean 0.9", LIMITNET_BIN);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "limitnet compare: unknown option --bogus\n"));
    assert_non_null(strstr(out, "limitnet compare --help lists"));
    snprintf(cmd, sizeof cmd, "%s compare results --clean", LIMITNET_BIN);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "limitnet compare: --clean: missing value\n"));
}

static void test_refusals(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[4096];
    tu_tempdir(dir);
    write_results(dir, 1);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "one channel setting"));
    write_results(dir, 0);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9 --ref webp", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "none of the reference families"));
    snprintf(cmd, sizeof cmd, "%s compare %s", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    char path[128];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    tu_write_file(path, "codec,channel\nx,y\n", 18);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "results.csv: header lacks"));
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_curves),
        cmocka_unit_test(test_grid_end_fallback),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
