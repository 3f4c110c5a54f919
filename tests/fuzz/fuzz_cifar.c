/*
 * The CIFAR readers (data/cifar.c) through data_open_ex: the input as
 * CIFAR-10's test_batch.bin and as CIFAR-100's test.bin, each read once
 * with no class-name file beside it and once with the input as that file
 * too. Every item read must be 32x32 RGB with a label below the classes.
 * Input: the file's bytes.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include <errno.h>
#include <sys/stat.h>

#include "data/data.h"

/* A folder of this process's own for the files a dataset reads. */
static void workdir(char *dir, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/limitnet-fuzz-%ld-cifar", tmp && tmp[0] ? tmp : "/tmp",
             (long)getpid());
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        FUZZ_FAIL("%s: cannot make the folder", dir);
}

static void put(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        FUZZ_FAIL("%s: cannot write the input", path);
}

static void drop(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void open_as(const char *dir, const char *name)
{
    data_opts o = {.name = name, .split = "test", .dir = dir};
    data_set *ds = NULL;
    util_err err = {{0}};
    if (data_open_ex(&o, &ds, &err) != 0) {
        if (!err.msg[0])
            FUZZ_FAIL("%s: failed without saying why", name);
        return;
    }
    int w, h, c, classes = data_classes(ds);
    data_dims(ds, &w, &h, &c);
    if (w != 32 || h != 32 || c != 3 || classes != (strcmp(name, "cifar-10") ? 100 : 10))
        FUZZ_FAIL("%s: %dx%dx%d items, %d classes", name, w, h, c, classes);
    for (size_t i = 0; i < data_count(ds); i++) {
        util_image v;
        int label;
        data_get(ds, i, &v, &label);
        if (label < 0 || label >= classes)
            FUZZ_FAIL("%s: item %zu has label %d", name, i, label);
    }
    for (int k = 0; k < classes; k++)
        if (!data_class_name(ds, k)[0])
            FUZZ_FAIL("%s: class %d has no name", name, k);
    data_free(ds);
}

FUZZ_TARGET(cifar)
{
    char dir[256];
    workdir(dir, sizeof dir);
    put(dir, "test_batch.bin", data, size);
    put(dir, "test.bin", data, size);
    open_as(dir, "cifar-10");
    open_as(dir, "cifar-100");
    put(dir, "batches.meta.txt", data, size);
    put(dir, "fine_label_names.txt", data, size);
    open_as(dir, "cifar-10");
    open_as(dir, "cifar-100");
    drop(dir, "test_batch.bin");
    drop(dir, "test.bin");
    drop(dir, "batches.meta.txt");
    drop(dir, "fine_label_names.txt");
    rmdir(dir);
    return 0;
}
