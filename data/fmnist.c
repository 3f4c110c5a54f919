/*
 * Fashion-MNIST (Xiao et al. 2017): 28x28 grey clothing items in 10 classes,
 * 60k train / 10k test, as the four gzip'd IDX files of Debian's
 * dataset-fashion-mnist package.
 */
#include "data/data_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u

static int read_labels(const char *path, size_t first, size_t count,
                       size_t expect, struct data_set *ds, util_err *err)
{
    uint32_t dims[1];
    uint8_t *all;
    size_t len;
    if (data_idx_read(path, IDX_LABELS, 1, dims, &all, &len, err))
        return -1;
    int rc = 0;
    if (dims[0] != expect)
        rc = util_errf(err, "%s: %u labels, but the image file has %zu images",
                       path, dims[0], expect);
    for (size_t i = 0; !rc && i < len; i++)
        if (all[i] > 9)
            rc = util_errf(err, "%s: label %zu is %u, outside 0..9", path, i,
                           all[i]);
    if (!rc) {
        ds->labels = malloc(count * sizeof *ds->labels);
        if (!ds->labels)
            rc = util_errf(err, "%s: out of memory", path);
        for (size_t i = 0; !rc && i < count; i++)
            ds->labels[i] = all[first + i];
    }
    free(all);
    return rc;
}

int data_fmnist_read(const char *dir, const char *split, size_t first,
                     size_t count, struct data_set *ds, util_err *err)
{
    const char *stem = strcmp(split, "train") == 0 ? "train" : "t10k";
    char ipath[1024], lpath[1024];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, stem);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, stem);

    uint32_t dims[3];
    uint8_t *all;
    size_t len;
    if (data_idx_read(ipath, IDX_IMAGES, 3, dims, &all, &len, err))
        return -1;
    int rc = 0;
    if (dims[1] != 28 || dims[2] != 28)
        rc = util_errf(err, "%s: images are %ux%u, expected 28x28", ipath,
                       dims[1], dims[2]);
    if (!rc)
        rc = data_subset(ipath, dims[0], first, &count, err);
    if (!rc)
        rc = read_labels(lpath, first, count, dims[0], ds, err);
    if (!rc) {
        ds->px = malloc(count * 28 * 28);
        if (!ds->px)
            rc = util_errf(err, "%s: out of memory", ipath);
        else
            memcpy(ds->px, all + first * 28 * 28, count * 28 * 28);
    }
    free(all);
    if (rc)
        return -1;
    ds->w = ds->h = 28;
    ds->c = 1;
    ds->classes = 10;
    ds->n = count;
    return 0;
}
