/*
 * What a dataset reader provides. Only data/ includes this header.
 */
#ifndef DATA_DATA_IMPL_H
#define DATA_DATA_IMPL_H

#include <stdint.h>

#include "data/data.h"

/* Every reader fills the same in-memory layout: items stored back to back,
 * each w*h*c bytes, labels two bytes each (ImageNet has 1,000 classes). */
typedef struct data_scene_annot {
    int n;
    int label[DATA_MAX_OBJECTS];
    data_box box[DATA_MAX_OBJECTS];
} data_scene_annot;

struct data_set {
    int w, h, c, classes;
    size_t n;
    uint8_t *px;
    uint16_t *labels;
    /* classes names (each its own allocation), or NULL for the
     * Fashion-MNIST ones */
    char **class_names;
    int nnames;
    /* Composed datasets only (NULL otherwise): */
    uint8_t *masks;              /* n * w * h */
    data_scene_annot *annots;    /* n */
    int32_t *sources;            /* n * DATA_SCENE_MAX_SOURCES, -1 unused */
    const char *source_split;    /* the file sources index: "train" or "test" */
};

/* Checks that items [first, first + *count) lie within n (what names the
 * dataset or file for the message), *count 0 becoming all from first on. */
int data_subset(const char *what, size_t n, size_t first, size_t *count,
                util_err *err);

/* ds->class_names for k classes: names[i], or "class I" where names is
 * NULL. */
int data_set_names(struct data_set *ds, int k, char *const *names, util_err *err);

/* Reads the items [first, first+count) of split from dir into ds. */
int data_fmnist_read(const char *dir, const char *split, size_t first,
                     size_t count, struct data_set *ds, util_err *err);

/* Composes o->count scenes of o->name from the Fashion-MNIST files in dir. */
int data_scene_read(const char *dir, const data_opts *o, struct data_set *ds,
                    util_err *err);

/* Reads one IDX file (gzip'd or not) with the given magic and dimension
 * count: checks the header, the counts and the exact file length. On
 * success *data holds the whole payload (free it) and dims the sizes. */
int data_idx_read(const char *path, uint32_t magic, int ndims, uint32_t *dims,
                  uint8_t **data, size_t *len, util_err *err);
/* The same for an IDX file of unsigned bytes in lo..hi dimensions (magic
 * 0x0000080N, N the rank, which *ndims receives; dims holds hi). */
int data_idx_read_ranks(const char *path, int lo, int hi, int *ndims, uint32_t *dims,
                        uint8_t **data, size_t *len, util_err *err);

/* The readers of data/folder.c, data/cifar.c and data/idxset.c: o's items
 * from dir (idx: from o->images and o->labels) into ds. The folder reader
 * converts each file as o asks (data_convert), since files may differ;
 * data_open_ex converts the others' items after reading. */
int data_folder_read(const char *dir, const data_opts *o, struct data_set *ds,
                     util_err *err);
int data_cifar_read(const char *dir, const data_opts *o, struct data_set *ds,
                    util_err *err);
int data_idxset_read(const char *dir, const data_opts *o, struct data_set *ds,
                     util_err *err);

#endif
