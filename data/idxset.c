/*
 * "idx": any pair of IDX files of unsigned bytes (data/idx.c reads them,
 * gzip'd or not), named by the options rather than found in a folder:
 * images [n, h, w] (grey) or [n, h, w, c] with c 1 or 3 (interleaved RGB,
 * the last dimension varying fastest), and labels [n]. The classes are
 * o->classes, or the largest label + 1; class K is named "class K".
 */
#include "data/data_impl.h"

#include <stdlib.h>
#include <string.h>

static int read_images(const data_opts *o, uint32_t *dims, int *c, uint8_t **px,
                       util_err *err)
{
    int rank;
    size_t len;
    if (data_idx_read_ranks(o->images, 3, 4, &rank, dims, px, &len, err))
        return -1;
    *c = rank == 4 ? (int)dims[3] : 1;
    if (*c != 1 && *c != 3)
        return util_errf(err, "%s: items of %u channels (expected [n, h, w] grey, or "
                         "[n, h, w, 1] or [n, h, w, 3])", o->images, dims[3]);
    if (dims[1] > DATA_MAX_SIDE || dims[2] > DATA_MAX_SIDE)
        return util_errf(err, "%s: items of %ux%u, more than %d a side", o->images,
                         dims[2], dims[1], DATA_MAX_SIDE);
    return 0;
}

/* Checks every label against the class count (o->classes, or found here
 * as the largest label + 1). */
static int check_labels(const data_opts *o, const uint8_t *lab, size_t n, int *classes,
                        util_err *err)
{
    int top = 0;
    for (size_t i = 0; i < n; i++)
        top = lab[i] > top ? lab[i] : top;
    *classes = o->classes ? o->classes : top + 1;
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= *classes)
            return util_errf(err, "%s: label %zu is %u, outside 0..%d (classes is %d)",
                             o->labels, i, lab[i], *classes - 1, *classes);
    return 0;
}

static int keep(const data_opts *o, const uint32_t *dims, int c, const uint8_t *px,
                const uint8_t *lab, size_t count, struct data_set *ds, util_err *err)
{
    size_t sz = (size_t)dims[1] * dims[2] * c;
    ds->px = malloc(count * sz);
    ds->labels = malloc(count * sizeof *ds->labels);
    if (!ds->px || !ds->labels)
        return util_errf(err, "%s: out of memory for %zu items", o->images, count);
    memcpy(ds->px, px + o->first * sz, count * sz);
    for (size_t i = 0; i < count; i++)
        ds->labels[i] = lab[o->first + i];
    ds->w = (int)dims[2];
    ds->h = (int)dims[1];
    ds->c = c;
    ds->n = count;
    return 0;
}

int data_idxset_read(const char *dir, const data_opts *o, struct data_set *ds,
                     util_err *err)
{
    (void)dir;
    if (!o->images || !o->labels)
        return util_errf(err, "idx: needs images and labels, the two IDX files");
    if (o->dir)
        return util_errf(err, "idx: takes images and labels, not dir");
    if (o->classes < 0 || o->classes > 256)
        return util_errf(err, "idx: classes %d: expected 1..256 (labels are bytes), "
                         "or 0 for the largest label + 1", o->classes);
    uint32_t dims[4], ldims[1];
    uint8_t *px = NULL, *lab = NULL;
    size_t len, count = o->count;
    int c, rank, classes = 0;
    int rc = read_images(o, dims, &c, &px, err) ||
             data_idx_read_ranks(o->labels, 1, 1, &rank, ldims, &lab, &len, err);
    if (!rc && ldims[0] != dims[0])
        rc = util_errf(err, "%s: %u labels, but %s has %u images", o->labels, ldims[0],
                       o->images, dims[0]);
    rc = rc || check_labels(o, lab, len, &classes, err) ||
         data_subset(o->images, dims[0], o->first, &count, err) ||
         keep(o, dims, c, px, lab, count, ds, err) ||
         data_set_names(ds, classes, NULL, err);
    free(px);
    free(lab);
    if (rc)
        return -1;
    ds->classes = classes;
    return 0;
}
