/*
 * data: labelled image datasets behind one interface, so that callers do not
 * change when CIFAR binaries or folders of PNGs are added.
 *
 * A dataset is opened by name and split, optionally restricted to a range of
 * items, and held in memory. Reading checks the files fully (magic numbers,
 * counts, dimensions, length); any problem is an error naming the file.
 */
#ifndef DATA_DATA_H
#define DATA_DATA_H

#include <stddef.h>

#include "util/util.h"

typedef struct data_set data_set;

#define DATA_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* name: "fashion-mnist". split: "train" or "test". dir: where the files
 * are, or NULL for the dataset's standard place. Keeps items
 * [first, first + count); count 0 means all from first on. */
int data_open(const char *name, const char *split, const char *dir,
              size_t first, size_t count, data_set **out, util_err *err);
void data_free(data_set *ds);

size_t data_count(const data_set *ds);
int data_classes(const data_set *ds);
/* Dimensions shared by every item. */
void data_dims(const data_set *ds, int *w, int *h, int *c);
/* Item i as a view into the dataset's memory (do not free px), and its
 * label. i must be below data_count(). */
void data_get(const data_set *ds, size_t i, util_image *view, int *label);

/* Names of the supported datasets, NULL-terminated. */
const char *const *data_names(void);

#endif
