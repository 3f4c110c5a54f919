/*
 * data: labelled image datasets behind one interface: Fashion-MNIST, the
 * scenes composed from it, and one's own data (a folder of PNG and JPEG
 * files per class, CIFAR binaries, any IDX pair), which callers open alike.
 *
 * A dataset is opened by name and split, optionally restricted to a range of
 * items, and held in memory. Reading checks the files fully (magic numbers,
 * counts, dimensions, length); any problem is an error naming the file.
 */
#ifndef DATA_DATA_H
#define DATA_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct data_set data_set;

#define DATA_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* name: "fashion-mnist", or any other of data_names. split: "train" or
 * "test". dir: where the files are, or NULL for the dataset's standard
 * place (data_dir_holds says which datasets have none). Keeps items
 * [first, first + count); count 0 means all from first on. Scene
 * datasets opened this way get the default size and seed. */
int data_open(const char *name, const char *split, const char *dir,
              size_t first, size_t count, data_set **out, util_err *err);
void data_free(data_set *ds);

/* ---- generated scenes ------------------------------------------------------ */
/* "fmnist-cluttered": one Fashion-MNIST item, scaled, tinted and placed at
 * random on an RGB canvas over a procedural background with clutter
 * (data/scene.c says how). Scenes are composed when the dataset is opened,
 * from (seed, split, index), and never stored. Their splits: "train"
 * (items from the first DATA_SCENE_TRAIN_ITEMS training items), "val"
 * (the other training items) and "test" (the test file); no two splits
 * share an item. first and count count scenes; count is required.
 * "fmnist-multi": 1-4 items on the same backgrounds, for detection, each
 * with its own mask id, class and box (data_annotation). */

#define DATA_SCENE_TRAIN_ITEMS 55000
#define DATA_SCENE_DEFAULT_SIZE 64  /* fmnist-cluttered */
#define DATA_MULTI_DEFAULT_SIZE 96  /* fmnist-multi: room for four items */
#define DATA_SCENE_DEFAULT_SEED 1
#define DATA_SCENE_MIN_SIZE 32
#define DATA_SCENE_MAX_SIZE 256
#define DATA_SCENE_MAX_COUNT 1000000
#define DATA_SCENE_MAX_SOURCES 8 /* main items and clutter per scene */

typedef struct data_opts {
    const char *name, *split;
    const char *dir;     /* NULL: the standard place of the source files */
    size_t first, count;
    int size;            /* scenes: canvas side in pixels */
    uint64_t seed;       /* scenes: the layout's seed */
    /* Datasets read from files (not scenes); 0 or NULL: unset. */
    int resize_w, resize_h; /* every item scaled and centre-cropped to this */
    int channels;        /* 1: every item grey, 3: RGB; 0: as the files are */
    const char *images, *labels; /* "idx": the two IDX files */
    int classes;         /* "idx": the class count; 0: the largest label + 1 */
} data_opts;

/* data_open with every option; size and seed matter only for scenes. */
int data_open_ex(const data_opts *o, data_set **out, util_err *err);
/* True for the datasets that are composed (and so take size and seed). */
int data_is_scene(const char *name);
/* What dir must hold for the datasets that have no standard place of
 * their files ("image-folder", "cifar-10", "cifar-100"); NULL for others. */
const char *data_dir_holds(const char *name);
/* True for the datasets whose items are files of their own ("image-folder"),
 * each of which may be damaged without the others being: a check must read
 * every item, not the first and the last. */
int data_is_folder(const char *name);
/* The splits of a dataset as messages spell them: "\"train\" or \"test\"";
 * "" for an unknown name. Returns buf. */
const char *data_splits_text(const char *name, char *buf, size_t len);
/* A composed dataset's default canvas side (DATA_SCENE_DEFAULT_SIZE for
 * other names). */
int data_scene_default_size(const char *name);
/* The splits a dataset has, NULL-terminated; NULL for an unknown name. */
const char *const *data_splits(const char *name);

/* ---- annotations ------------------------------------------------------------- */

#define DATA_MAX_OBJECTS 8

/* A box in pixels: [x0, x1) x [y0, y1). */
typedef struct data_box {
    int x0, y0, x1, y1;
} data_box;

typedef struct data_annot {
    int n;                          /* objects */
    int label[DATA_MAX_OBJECTS];
    data_box box[DATA_MAX_OBJECTS];
    const uint8_t *mask;            /* w*h: 0 background, k+1 object k */
} data_annot;

/* Item i's objects, boxes and mask (a view into the dataset). Returns 0,
 * or -1 for a dataset without annotations (Fashion-MNIST: the item is the
 * frame), leaving a->n 0 and a->mask NULL. */
int data_annotation(const data_set *ds, size_t i, data_annot *a);

/* Which items of the source files scene i was composed from: up to max
 * indices into the training file (*file "train") or the test file
 * ("test"), the main item first, then the clutter. Returns how many; 0
 * for datasets that are not composed. For the tests that prove that
 * splits never share an item. */
size_t data_sources(const data_set *ds, size_t i, const char **file,
                    long *items, size_t max);

size_t data_count(const data_set *ds);
int data_classes(const data_set *ds);
/* Dimensions shared by every item. */
void data_dims(const data_set *ds, int *w, int *h, int *c);
/* Item i as a view into the dataset's memory (do not free px), and its
 * label. i must be below data_count(). */
void data_get(const data_set *ds, size_t i, util_image *view, int *label);

/* The name of class k (0 <= k < data_classes()), e.g. "Ankle boot". */
const char *data_class_name(const data_set *ds, int k);

/* Names of the supported datasets, NULL-terminated. */
const char *const *data_names(void);

/* ---- files of one's own ------------------------------------------------------ */
/* "image-folder": dir/SPLIT/CLASS/FILE, PNG or JPEG (.png, .jpg, .jpeg in
 * any case), the layout of ImageNet and torchvision's ImageFolder. Classes
 * are the class folders in strcmp order, items class by class, files in
 * strcmp order within one; names starting with '.' are skipped. Splits
 * "train", "val" and "test", each a folder of its own (classes are counted
 * per split, as torchvision does). Only the items kept are decoded.
 * "cifar-10", "cifar-100": the binary versions in dir (data/cifar.c).
 * "idx": o->images and o->labels, any IDX pair of unsigned bytes: images
 * [n, h, w] grey or [n, h, w, 3] RGB, labels [n]; its one split is "test".
 *
 * Without resize, every item must have the first one's width, height and
 * channels; resize_w x resize_h scales each item, keeping its aspect ratio,
 * until it covers that size and crops the middle (torchvision's Resize of
 * the shorter side, then CenterCrop), by PIL's antialiased bilinear filter
 * (a triangle as wide as a source pixel when enlarging, as wide as an
 * output pixel when shrinking). channels converts grey to RGB by copying
 * and RGB to grey by ITU-R BT.601 luma (util_luma). */

#define DATA_MAX_SIDE DATA_PNG_MAX_SIDE /* of any image read, and of resize */
#define DATA_MAX_CLASSES 65536

/* Converts img to c channels (1 or 3), then, with w > 0, to w x h as the
 * resize above says, into out (allocated; free it with util_image_free). */
int data_convert(const util_image *img, int c, int w, int h, util_image *out,
                 util_err *err);

/* ---- PNG files ---------------------------------------------------------- */

/* Writes img, 8-bit grey (c = 1) or RGB (c = 3), to path as a PNG. The file
 * is written under a temporary name in the same directory, synced and
 * renamed over path, so an interrupted write leaves the old file or the new
 * one, never half of one; on any failure (directory missing or unwritable,
 * disk full, a libpng error, path naming something other than a regular
 * file) the error names path and no temporary file is left behind. */
int data_png_write(const char *path, const util_image *img, util_err *err);

/* The largest width or height data_png_read accepts: guards the allocation
 * against a header that claims absurd dimensions. */
#define DATA_PNG_MAX_SIDE 16384

/* Reads a PNG into out (free it with util_image_free) as 8-bit grey (c = 1)
 * from grey files, or RGB (c = 3) from RGB and palette files, whatever their
 * bit depth (16 bits are rounded to 8); alpha is dropped, not composited, and
 * gamma is not corrected. Errors name the file: not a PNG, truncated, corrupt
 * or larger than DATA_PNG_MAX_SIDE a side. */
int data_png_read(const char *path, util_image *out, util_err *err);

/* ---- JPEG files --------------------------------------------------------- */

/* Reads a JPEG file (baseline or progressive) into out (free it with
 * util_image_free) as 8-bit grey (c = 1) from grey files or RGB (c = 3)
 * from colour ones. Errors name the file: not a JPEG, CMYK, larger than
 * DATA_MAX_SIDE a side, or truncated or corrupt (any libjpeg warning: it
 * would pad a truncated file with grey and succeed). */
int data_jpeg_read(const char *path, util_image *out, util_err *err);

#endif
