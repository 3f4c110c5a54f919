/*
 * The IDX reader (data_idx_read) behind the Fashion-MNIST dataset, gzip'd
 * or not (zlib reads both), as an image file (magic 2051, three
 * dimensions) and as a label file (2049, one); and as the idx dataset
 * reads it (data_idx_read_ranks), an image file of three or four
 * dimensions and a label file. Input: the file's bytes.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "data/data_impl.h"

static void read_as(const char *path, uint32_t magic, int ndims)
{
    uint32_t dims[3];
    uint8_t *payload = NULL;
    size_t len = 0;
    util_err err = {{0}};
    if (data_idx_read(path, magic, ndims, dims, &payload, &len, &err) == 0) {
        size_t want = 1;
        for (int i = 0; i < ndims; i++)
            want *= dims[i];
        if (len != want)
            FUZZ_FAIL("data_idx_read: %zu bytes for %zu items", len, want);
        free(payload);
    } else if (!err.msg[0]) {
        FUZZ_FAIL("data_idx_read failed without saying why");
    }
}

static void read_ranks(const char *path, int lo, int hi)
{
    uint32_t dims[4];
    uint8_t *payload = NULL;
    size_t len = 0;
    int rank = 0;
    util_err err = {{0}};
    if (data_idx_read_ranks(path, lo, hi, &rank, dims, &payload, &len, &err) == 0) {
        size_t want = 1;
        if (rank < lo || rank > hi)
            FUZZ_FAIL("data_idx_read_ranks: rank %d outside %d..%d", rank, lo, hi);
        for (int i = 0; i < rank; i++)
            want *= dims[i];
        if (len != want)
            FUZZ_FAIL("data_idx_read_ranks: %zu bytes for %zu items", len, want);
        free(payload);
    } else if (!err.msg[0]) {
        FUZZ_FAIL("data_idx_read_ranks failed without saying why");
    }
}

FUZZ_TARGET(idx)
{
    char path[256];
    fuzz_file("data.idx", data, size, path);
    read_as(path, 2051, 3);
    read_as(path, 2049, 1);
    read_ranks(path, 3, 4);
    read_ranks(path, 1, 1);
    unlink(path);
    return 0;
}
