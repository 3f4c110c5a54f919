/*
 * CIFAR-10 and CIFAR-100 (Krizhevsky 2009), the binary versions as their
 * archives unpack (cifar-10-batches-bin, cifar-100-binary): 32x32 RGB
 * images in records of the label byte(s) and then the red, green and blue
 * planes of 1024 bytes each, row by row. CIFAR-10: data_batch_1..5.bin
 * (train) and test_batch.bin, records <label><3072 px>; CIFAR-100:
 * train.bin and test.bin, records <coarse label><fine label><3072 px>,
 * whose fine label (100 classes) is the label kept.
 *
 * As for Fashion-MNIST, the split's files are read whole and every
 * record's labels checked, whatever first and count keep, so a damaged
 * file is found however little of it a run uses.
 */
#include "data/data_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define PIXELS (3 * PLANE)
#define MAX_FILES 5
#define NAME_LEN 256
#define MAX_CLASSES 100

typedef struct kind {
    const char *name;
    int label_bytes;       /* 1: <label>; 2: <coarse><fine> */
    int classes, coarse;   /* coarse: CIFAR-100's superclasses */
    const char *train[MAX_FILES + 1], *test[2];
    const char *names;     /* the class names, one a line, when present */
} kind;

static const kind kinds[] = {
    {"cifar-10", 1, 10, 0,
     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
      "data_batch_5.bin", NULL},
     {"test_batch.bin", NULL}, "batches.meta.txt"},
    {"cifar-100", 2, 100, 20, {"train.bin", NULL}, {"test.bin", NULL},
     "fine_label_names.txt"},
};

/* The split's files, each of a whole number of records. */
typedef struct split_files {
    char path[MAX_FILES][4096];
    size_t records[MAX_FILES], nfiles, total;
} split_files;

static int size_files(const kind *k, const char *dir, const char *split,
                      split_files *sf, util_err *err)
{
    const char *const *files = strcmp(split, "train") == 0 ? k->train : k->test;
    size_t rec = (size_t)k->label_bytes + PIXELS;
    sf->total = 0;
    for (sf->nfiles = 0; files[sf->nfiles]; sf->nfiles++) {
        char *path = sf->path[sf->nfiles];
        struct stat st;
        if (snprintf(path, sizeof sf->path[0], "%s/%s", dir, files[sf->nfiles]) >=
            (int)sizeof sf->path[0])
            return util_errf(err, "%s/%s: the path is too long", dir, files[sf->nfiles]);
        if (stat(path, &st) != 0)
            return util_errf(err, "%s: cannot open: %s (dir must hold the %s binary "
                             "files)", path, strerror(errno), k->name);
        size_t len = (size_t)st.st_size;
        if (!S_ISREG(st.st_mode) || len == 0)
            return util_errf(err, "%s: %s (expected %zu-byte records)", path,
                             len == 0 ? "the file is empty" : "not a regular file", rec);
        if (len % rec)
            return util_errf(err, "%s: the file is truncated: %zu bytes are not a whole "
                             "number of %zu-byte records (record %zu, at byte offset "
                             "%zu, has %zu bytes)", path, len, rec, len / rec,
                             len / rec * rec, len % rec);
        sf->records[sf->nfiles] = len / rec;
        sf->total += len / rec;
    }
    return 0;
}

/* Checks record r's labels (at byte offset off of path) and returns the
 * one kept in *label. */
static int check_labels(const kind *k, const uint8_t *rec, const char *path, size_t r,
                        int *label, util_err *err)
{
    size_t off = r * ((size_t)k->label_bytes + PIXELS);
    if (k->coarse && rec[0] >= k->coarse)
        return util_errf(err, "%s: record %zu (byte offset %zu): coarse label %u is "
                         "outside 0..%d", path, r, off, rec[0], k->coarse - 1);
    *label = rec[k->label_bytes - 1];
    if (*label >= k->classes)
        return util_errf(err, "%s: record %zu (byte offset %zu): label %d is outside "
                         "0..%d", path, r, off, *label, k->classes - 1);
    return 0;
}

/* Planar RGB to interleaved (util_image's layout). */
static void interleave(const uint8_t *planes, uint8_t *px)
{
    for (int i = 0; i < PLANE; i++)
        for (int c = 0; c < 3; c++)
            px[3 * i + c] = planes[c * PLANE + i];
}

/* Reads file f of the split, whose first record is item `base` of it,
 * keeping items [first, first + count). */
static int read_file(const kind *k, const split_files *sf, size_t f, size_t base,
                     size_t first, size_t count, struct data_set *ds, util_err *err)
{
    FILE *in = fopen(sf->path[f], "rb");
    if (!in)
        return util_errf(err, "%s: cannot open: %s", sf->path[f], strerror(errno));
    uint8_t rec[2 + PIXELS];
    size_t len = (size_t)k->label_bytes + PIXELS;
    int rc = 0;
    for (size_t r = 0; !rc && r < sf->records[f]; r++) {
        int label = 0;
        size_t i = base + r;
        if (fread(rec, 1, len, in) != len)
            rc = util_errf(err, "%s: the file is truncated: record %zu (byte offset "
                           "%zu) is cut short", sf->path[f], r, r * len);
        else
            rc = check_labels(k, rec, sf->path[f], r, &label, err);
        if (!rc && i >= first && i - first < count) {
            interleave(rec + k->label_bytes, ds->px + (i - first) * PIXELS);
            ds->labels[i - first] = (uint16_t)label;
        }
    }
    fclose(in);
    return rc;
}

/* Removes trailing white space (and a '\r' of a file from Windows). */
static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = 0;
}

/* The class names from k->names in dir when it is there, one a line
 * (blank lines skipped); "class K" when it is not. */
static int read_names(const kind *k, const char *dir, struct data_set *ds, util_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, k->names);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? data_set_names(ds, k->classes, NULL, err)
                               : util_errf(err, "%s: cannot open: %s", path,
                                           strerror(errno));
    char (*lines)[NAME_LEN] = calloc((size_t)k->classes, NAME_LEN);
    char *ptrs[MAX_CLASSES], line[NAME_LEN];
    int n = 0, rc = lines ? 0 : util_errf(err, "%s: out of memory", path);
    while (!rc && fgets(line, sizeof line, f)) {
        trim(line);
        if (!line[0])
            continue;
        if (n == k->classes)
            rc = util_errf(err, "%s: more than %d class names", path, k->classes);
        else
            strcpy(lines[n++], line);
    }
    if (!rc && n < k->classes)
        rc = util_errf(err, "%s: %d class names, expected %d", path, n, k->classes);
    for (int i = 0; !rc && i < n; i++)
        ptrs[i] = lines[i];
    if (!rc)
        rc = data_set_names(ds, k->classes, ptrs, err);
    free(lines);
    fclose(f);
    return rc;
}

int data_cifar_read(const char *dir, const data_opts *o, struct data_set *ds,
                    util_err *err)
{
    const kind *k = strcmp(o->name, "cifar-10") == 0 ? &kinds[0] : &kinds[1];
    split_files *sf = malloc(sizeof *sf);
    if (!sf)
        return util_errf(err, "out of memory");
    char what[4200];
    snprintf(what, sizeof what, "%s (%s %s)", dir, k->name, o->split);
    size_t count = o->count;
    int rc = size_files(k, dir, o->split, sf, err) ||
             data_subset(what, sf->total, o->first, &count, err);
    if (!rc) {
        ds->px = count <= SIZE_MAX / PIXELS ? malloc(count * PIXELS) : NULL;
        ds->labels = malloc(count * sizeof *ds->labels);
        if (!ds->px || !ds->labels)
            rc = util_errf(err, "%s: out of memory for %zu items", what, count);
    }
    for (size_t f = 0, base = 0; !rc && f < sf->nfiles; base += sf->records[f++])
        rc = read_file(k, sf, f, base, o->first, count, ds, err);
    if (!rc)
        rc = read_names(k, dir, ds, err);
    free(sf);
    if (rc)
        return -1;
    ds->w = ds->h = SIDE;
    ds->c = 3;
    ds->classes = k->classes;
    ds->n = count;
    return 0;
}
