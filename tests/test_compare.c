/* `limitnet compare`: families, envelopes, interpolation, the figures, and
 * refusals, on small hand-written results files whose answers are worked
 * out in the comments. */
#include "tests/testutil.h"

#define HEADER "codec,channel,cut,limit,images,encoded_bytes,sent_bytes,sent_packets," \
               "received_bytes,received_packets,lost_packets,complete,psnr,ssim,accuracy\n"

static void row(FILE *f, const char *codec, const char *chan, double bytes, double acc)
{
    fprintf(f, "%s,%s,budget,%g,100,%g,%g,1,%g,1,0,1,20,0.5,%g\n", codec, chan,
            bytes, bytes, bytes, bytes, acc);
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

static void test_figures(void **state)
{
    (void)state;
    char dir[64], cmd[512], out[8192];
    tu_tempdir(dir);
    write_results(dir, 0);
    snprintf(cmd, sizeof cmd, "%s compare %s --clean 0.9 --from 16", LIMITNET_BIN, dir);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    /* The reference reaches 0.9 - 0.005 at 100 + 100 * 0.395 / 0.4 bytes:
     * 198.8, the grid's end. 90 % of clean is 81 %: the reference needs
     * 100 + 100 * 0.31 / 0.4 = 177.5 bytes, limitnet 20 + 80 * 0.21 / 0.3
     * = 76 bytes, 42.8 % of it. */
    assert_non_null(strstr(out, "16 to 198.8 bytes"));
    assert_non_null(strstr(out, "| limitnet | "));
    assert_non_null(strstr(out, "| 76.0 | 42.8 % |"));
    assert_non_null(strstr(out, "| jpeg-baseline | "));
    assert_non_null(strstr(out, "| 177.5 | 100.0 % |"));
    /* nosal (80 % at 100 bytes, linear from 10 % at 0) loses nowhere to
     * limitnet below 50 bytes. */
    assert_non_null(strstr(out, "0 of "));
    char path[128];
    snprintf(path, sizeof path, "%s/comparison.csv", dir);
    size_t len;
    char *csv = tu_read_file(path, &len);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "bytes,best_reference,jpeg-baseline,limitnet,limitnet-nosal"));
    free(csv);
    tu_rmtree(dir);
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
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
