/* The Fashion-MNIST reader: real files, and small synthetic ones that are
 * good, truncated, mislabelled or of the wrong kind. */
#include "testutil.h"

#include <zlib.h>

#include "data/data.h"

/* Writes an IDX file (gzip'd when gz) with the given magic, dims and data;
 * cut > 0 drops that many bytes from the end of the uncompressed content. */
static void write_idx(const char *path, uint32_t magic, const uint32_t *dims,
                      int ndims, const uint8_t *data, size_t len, int gz,
                      size_t cut)
{
    uint8_t buf[4 + 16 + 8192];
    size_t n = 0;
    uint32_t words[5] = {magic};
    for (int i = 0; i < ndims; i++)
        words[i + 1] = dims[i];
    for (int i = 0; i <= ndims; i++) {
        buf[n++] = (uint8_t)(words[i] >> 24);
        buf[n++] = (uint8_t)(words[i] >> 16);
        buf[n++] = (uint8_t)(words[i] >> 8);
        buf[n++] = (uint8_t)words[i];
    }
    assert_true(n + len <= sizeof buf);
    memcpy(buf + n, data, len);
    n += len - cut;
    if (!gz) {
        tu_write_file(path, buf, n);
        return;
    }
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, buf, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
}

typedef struct fixture {
    char dir[64];
    char images[128], labels[128];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    tu_tempdir(fx->dir);
    snprintf(fx->images, sizeof fx->images, "%s/t10k-images-idx3-ubyte.gz", fx->dir);
    snprintf(fx->labels, sizeof fx->labels, "%s/t10k-labels-idx1-ubyte.gz", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

/* Five 28x28 images whose pixels encode their index, labels 0..4. */
static void write_good(const fixture *fx, int gz)
{
    static uint8_t px[5 * 784], lab[5] = {0, 1, 2, 3, 4};
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i / 784 * 40 + i % 7);
    uint32_t idims[3] = {5, 28, 28}, ldims[1] = {5};
    write_idx(fx->images, 0x803, idims, 3, px, sizeof px, gz, 0);
    write_idx(fx->labels, 0x801, ldims, 1, lab, 5, gz, 0);
}

static void test_real_files(void **state)
{
    (void)state;
    util_err err;
    data_set *ds;
    assert_int_equal(data_open("fashion-mnist", "test", NULL, 0, 0, &ds, &err), 0);
    assert_int_equal(data_count(ds), 10000);
    int w, h, c, label;
    data_dims(ds, &w, &h, &c);
    assert_int_equal(w * 100 + h * 10 + c, 28 * 100 + 28 * 10 + 1);
    assert_int_equal(data_classes(ds), 10);
    util_image img;
    data_get(ds, 0, &img, &label);
    assert_int_equal(label, 9); /* the first test item is an ankle boot */
    data_free(ds);
    assert_int_equal(data_open("fashion-mnist", "train", NULL, 59990, 0, &ds, &err), 0);
    assert_int_equal(data_count(ds), 10);
    data_free(ds);
}

static void test_good_subset(void **state)
{
    fixture *fx = *state;
    for (int gz = 0; gz <= 1; gz++) {
        write_good(fx, gz);
        util_err err;
        data_set *ds;
        assert_int_equal(data_open("fashion-mnist", "test", fx->dir, 2, 3, &ds, &err), 0);
        assert_int_equal(data_count(ds), 3);
        util_image img;
        int label;
        data_get(ds, 1, &img, &label);
        assert_int_equal(label, 3);
        assert_int_equal(img.px[0], 3 * 40);
        assert_int_equal(img.px[783], 3 * 40 + 783 % 7);
        data_free(ds);
    }
}

/* Opens the fixture's files and checks the error mentions all of needles. */
static void expect_error(const fixture *fx, size_t first, size_t count,
                         const char *file, const char *what)
{
    util_err err;
    data_set *ds = (data_set *)1;
    assert_int_equal(data_open("fashion-mnist", "test", fx->dir, first, count, &ds, &err), -1);
    assert_null(ds);
    if (!strstr(err.msg, file) || !strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, file, what);
}

static void test_truncated(void **state)
{
    fixture *fx = *state;
    static uint8_t px[5 * 784];
    uint32_t dims[3] = {5, 28, 28};
    write_good(fx, 1);
    write_idx(fx->images, 0x803, dims, 3, px, sizeof px, 1, 100);
    expect_error(fx, 0, 0, fx->images, "truncated");
    write_idx(fx->images, 0x803, dims, 3, px, sizeof px, 0, 1);
    expect_error(fx, 0, 0, fx->images, "ends after 3919 of 3920 bytes");
    /* A header claiming the whole training set over five items' data: the
     * reader grows its buffer with the file, and says how far it got. */
    uint32_t many[3] = {60000, 28, 28};
    write_idx(fx->images, 0x803, many, 3, px, sizeof px, 1, 0);
    expect_error(fx, 0, 0, fx->images, "ends after 3920 of 47040000 bytes");
    /* A gzip stream cut short is an error too, not a short read. */
    write_good(fx, 1);
    size_t len = 0;
    char *gz = tu_read_file(fx->images, &len);
    tu_write_file(fx->images, gz, len / 2);
    free(gz);
    util_err err;
    data_set *ds;
    assert_int_equal(data_open("fashion-mnist", "test", fx->dir, 0, 0, &ds, &err), -1);
    assert_non_null(strstr(err.msg, fx->images));
}

static void test_wrong_magic(void **state)
{
    fixture *fx = *state;
    write_good(fx, 1);
    static uint8_t px[5 * 784];
    uint32_t dims[3] = {5, 28, 28};
    write_idx(fx->images, 0x801, dims, 3, px, sizeof px, 1, 0);
    expect_error(fx, 0, 0, fx->images, "magic");
    /* Labels in place of images. */
    write_good(fx, 1);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", fx->labels, fx->images);
    assert_int_equal(system(cmd), 0);
    expect_error(fx, 0, 0, fx->images, "magic");
}

static void test_inconsistent(void **state)
{
    fixture *fx = *state;
    write_good(fx, 1);
    uint8_t lab[4] = {0, 1, 2, 3};
    uint32_t ldims[1] = {4};
    write_idx(fx->labels, 0x801, ldims, 1, lab, 4, 1, 0);
    expect_error(fx, 0, 0, fx->labels, "4 labels");
    uint8_t bad[5] = {0, 1, 2, 3, 200};
    ldims[0] = 5;
    write_idx(fx->labels, 0x801, ldims, 1, bad, 5, 1, 0);
    expect_error(fx, 0, 0, fx->labels, "outside 0..9");
    static uint8_t px[5 * 784 + 1];
    uint32_t dims[3] = {5, 28, 28};
    write_good(fx, 1);
    write_idx(fx->images, 0x803, dims, 3, px, sizeof px, 1, 0);
    expect_error(fx, 0, 0, fx->images, "longer");
    uint32_t small[3] = {5, 27, 29};
    write_idx(fx->images, 0x803, small, 3, px, 5 * 27 * 29, 1, 0);
    expect_error(fx, 0, 0, fx->images, "28x28");
}

static void test_bad_range_and_names(void **state)
{
    fixture *fx = *state;
    write_good(fx, 1);
    expect_error(fx, 5, 0, fx->images, "past the end");
    expect_error(fx, 3, 3, fx->images, "only 2 exist");
    util_err err;
    data_set *ds;
    assert_int_equal(data_open("mnist", "test", NULL, 0, 0, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "unknown dataset"));
    assert_int_equal(data_open("fashion-mnist", "val", NULL, 0, 0, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "split"));
    assert_int_equal(data_open("fashion-mnist", "test", "/nonexistent", 0, 0, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/t10k-images-idx3-ubyte.gz"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_files),
        cmocka_unit_test_setup_teardown(test_good_subset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_range_and_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
