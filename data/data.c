/* Dataset dispatch: one entry per supported dataset, and what they share. */
#include "data/data_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*read_fn)(const char *dir, const data_opts *o, struct data_set *ds,
                       util_err *err);

typedef struct reader {
    const char *name;
    const char *dir;   /* the standard place of its files; NULL: none */
    const char *const *splits;
    int scene;         /* composed by data/scene.c from Fashion-MNIST: the
                        * default canvas side; 0 for files */
    read_fn read;
    int folder;        /* converts its items itself, file by file */
    const char *holds; /* what dir must hold, where there is no standard place */
} reader;

static const char *const file_splits[] = {"train", "test", NULL};
static const char *const scene_splits[] = {"train", "val", "test", NULL};
static const char *const idx_splits[] = {"test", NULL};

static int read_fmnist(const char *dir, const data_opts *o, struct data_set *ds,
                       util_err *err)
{
    return data_fmnist_read(dir, o->split, o->first, o->count, ds, err);
}

static const reader readers[] = {
    {"fashion-mnist", DATA_FMNIST_DIR, file_splits, 0, read_fmnist, 0, NULL},
    {"fmnist-cluttered", DATA_FMNIST_DIR, scene_splits, DATA_SCENE_DEFAULT_SIZE,
     data_scene_read, 0, NULL},
    {"fmnist-multi", DATA_FMNIST_DIR, scene_splits, DATA_MULTI_DEFAULT_SIZE,
     data_scene_read, 0, NULL},
    {"image-folder", NULL, scene_splits, 0, data_folder_read, 1,
     "a folder per split (train/, test/, val/) of class folders of PNG and JPEG files"},
    {"cifar-10", NULL, file_splits, 0, data_cifar_read, 0,
     "data_batch_1.bin to data_batch_5.bin and test_batch.bin (cifar-10-batches-bin; "
     "no Debian package ships CIFAR)"},
    {"cifar-100", NULL, file_splits, 0, data_cifar_read, 0,
     "train.bin and test.bin (cifar-100-binary; no Debian package ships CIFAR)"},
    {"idx", NULL, idx_splits, 0, data_idxset_read, 0, NULL},
};

static const char *const names[] = {"fashion-mnist", "fmnist-cluttered", "fmnist-multi",
                                    "image-folder", "cifar-10", "cifar-100", "idx",
                                    NULL};

const char *const *data_names(void)
{
    return names;
}

static const reader *find(const char *name)
{
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (strcmp(readers[i].name, name) == 0)
            return &readers[i];
    return NULL;
}

int data_is_scene(const char *name)
{
    const reader *r = find(name);
    return r && r->scene;
}

const char *data_dir_holds(const char *name)
{
    const reader *r = find(name);
    return r ? r->holds : NULL;
}

int data_is_folder(const char *name)
{
    const reader *r = find(name);
    return r && r->folder;
}

int data_scene_default_size(const char *name)
{
    const reader *r = find(name);
    return r && r->scene ? r->scene : DATA_SCENE_DEFAULT_SIZE;
}

const char *const *data_splits(const char *name)
{
    const reader *r = find(name);
    return r ? r->splits : NULL;
}

const char *data_splits_text(const char *name, char *buf, size_t len)
{
    const reader *r = find(name);
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; r && r->splits[i]; i++)
        util_appendf(buf, len, &off, "%s\"%s\"",
                     i == 0 ? "" : r->splits[i + 1] ? ", " : " or ", r->splits[i]);
    return buf;
}

static int known_split(const reader *r, const char *split, util_err *err)
{
    for (int i = 0; r->splits[i]; i++)
        if (strcmp(r->splits[i], split) == 0)
            return 0;
    char list[64];
    return util_errf(err, "unknown split \"%s\" for %s (expected %s)", split,
                     r->name, data_splits_text(r->name, list, sizeof list));
}

/* The options that only some datasets take are refused by the others, so
 * that none is silently ignored. */
static int check_opts(const reader *r, const data_opts *o, util_err *err)
{
    if (r->scene && (o->resize_w || o->resize_h || o->channels))
        return util_errf(err, "%s: resize and channels are for datasets read from "
                         "files; scenes are composed at their size", r->name);
    if (strcmp(r->name, "idx") != 0 && (o->images || o->labels || o->classes))
        return util_errf(err, "%s: images, labels and classes are the idx dataset's",
                         r->name);
    if ((o->resize_w > 0) != (o->resize_h > 0) || o->resize_w < 0 || o->resize_h < 0 ||
        o->resize_w > DATA_MAX_SIDE || o->resize_h > DATA_MAX_SIDE)
        return util_errf(err, "%s: resize %dx%d: expected a width and a height in "
                         "1..%d", r->name, o->resize_w, o->resize_h, DATA_MAX_SIDE);
    if (o->channels != 0 && o->channels != 1 && o->channels != 3)
        return util_errf(err, "%s: channels %d: expected 1 (grey) or 3 (RGB)", r->name,
                         o->channels);
    if (!o->dir && !r->dir && r->holds)
        return util_errf(err, "%s has no standard place: dir must name the folder "
                         "that holds %s", r->name, r->holds);
    return 0;
}

int data_subset(const char *what, size_t n, size_t first, size_t *count,
                util_err *err)
{
    if (first >= n)
        return util_errf(err, "%s: first item %zu is past the end (%zu items)",
                         what, first, n);
    if (*count == 0)
        *count = n - first;
    if (*count > n - first)
        return util_errf(err, "%s: asked for %zu items from item %zu, but only %zu "
                         "exist from there (%zu in all)", what, *count, first,
                         n - first, n);
    return 0;
}

int data_set_names(struct data_set *ds, int k, char *const *names, util_err *err)
{
    ds->class_names = calloc((size_t)k, sizeof *ds->class_names);
    if (!ds->class_names)
        return util_errf(err, "out of memory for %d class names", k);
    ds->nnames = k;
    for (int i = 0; i < k; i++) {
        char def[32];
        snprintf(def, sizeof def, "class %d", i);
        if (!(ds->class_names[i] = strdup(names ? names[i] : def)))
            return util_errf(err, "out of memory for %d class names", k);
    }
    return 0;
}

/* o's resize and channels applied to every item of a dataset read whole. */
static int convert_all(struct data_set *ds, const data_opts *o, util_err *err)
{
    int c = o->channels ? o->channels : ds->c;
    int w = o->resize_w ? o->resize_w : ds->w, h = o->resize_h ? o->resize_h : ds->h;
    if (c == ds->c && w == ds->w && h == ds->h)
        return 0;
    size_t sz = (size_t)w * h * c;
    uint8_t *px = ds->n <= SIZE_MAX / sz ? malloc(ds->n * sz) : NULL;
    if (!px)
        return util_errf(err, "%s: out of memory for %zu items of %dx%dx%d", o->name,
                         ds->n, w, h, c);
    for (size_t i = 0; i < ds->n; i++) {
        util_image in, out;
        data_get(ds, i, &in, NULL);
        if (data_convert(&in, c, o->resize_w, o->resize_h, &out, err)) {
            free(px);
            return util_err_prefix(err, "%s: item %zu: ", o->name, o->first + i);
        }
        memcpy(px + i * sz, out.px, sz);
        util_image_free(&out);
    }
    free(ds->px);
    ds->px = px;
    ds->w = w;
    ds->h = h;
    ds->c = c;
    return 0;
}

int data_open_ex(const data_opts *o, data_set **out, util_err *err)
{
    *out = NULL;
    const reader *r = find(o->name);
    if (!r)
        return util_errf(err, "unknown dataset \"%s\"", o->name);
    if (known_split(r, o->split, err) || check_opts(r, o, err))
        return -1;
    data_set *ds = calloc(1, sizeof *ds);
    if (!ds)
        return util_errf(err, "out of memory");
    const char *dir = o->dir ? o->dir : r->dir;
    int rc = r->read(dir, o, ds, err);
    if (!rc && !r->folder && !r->scene)
        rc = convert_all(ds, o, err);
    if (rc) {
        data_free(ds);
        return -1;
    }
    *out = ds;
    return 0;
}

int data_open(const char *name, const char *split, const char *dir,
              size_t first, size_t count, data_set **out, util_err *err)
{
    data_opts o = {.name = name, .split = split, .dir = dir, .first = first,
                   .count = count, .size = data_scene_default_size(name),
                   .seed = DATA_SCENE_DEFAULT_SEED};
    return data_open_ex(&o, out, err);
}

void data_free(data_set *ds)
{
    if (!ds)
        return;
    free(ds->px);
    free(ds->labels);
    free(ds->masks);
    free(ds->annots);
    free(ds->sources);
    for (int k = 0; ds->class_names && k < ds->nnames; k++)
        free(ds->class_names[k]);
    free(ds->class_names);
    free(ds);
}

size_t data_count(const data_set *ds)
{
    return ds->n;
}

int data_classes(const data_set *ds)
{
    return ds->classes;
}

void data_dims(const data_set *ds, int *w, int *h, int *c)
{
    *w = ds->w;
    *h = ds->h;
    *c = ds->c;
}

void data_get(const data_set *ds, size_t i, util_image *view, int *label)
{
    size_t sz = (size_t)ds->w * ds->h * ds->c;
    view->w = ds->w;
    view->h = ds->h;
    view->c = ds->c;
    view->px = ds->px + i * sz;
    if (label)
        *label = ds->labels[i];
}

int data_annotation(const data_set *ds, size_t i, data_annot *a)
{
    memset(a, 0, sizeof *a);
    if (!ds->annots)
        return -1;
    const data_scene_annot *s = &ds->annots[i];
    a->n = s->n;
    memcpy(a->label, s->label, sizeof a->label);
    memcpy(a->box, s->box, sizeof a->box);
    a->mask = ds->masks + i * (size_t)ds->w * ds->h;
    return 0;
}

size_t data_sources(const data_set *ds, size_t i, const char **file,
                    long *items, size_t max)
{
    *file = ds->source_split;
    if (!ds->sources)
        return 0;
    const int32_t *s = ds->sources + i * DATA_SCENE_MAX_SOURCES;
    size_t n = 0;
    for (size_t k = 0; k < DATA_SCENE_MAX_SOURCES && n < max && s[k] >= 0; k++)
        items[n++] = s[k];
    return n;
}

/* Datasets without names of their own are Fashion-MNIST or made from it;
 * the names are those of Xiao et al. (2017). */
const char *data_class_name(const data_set *ds, int k)
{
    static const char *const fmnist[] = {"T-shirt/top", "Trouser", "Pullover",
                                         "Dress", "Coat", "Sandal", "Shirt",
                                         "Sneaker", "Bag", "Ankle boot"};
    if (ds->class_names)
        return k >= 0 && k < ds->nnames ? ds->class_names[k] : "?";
    return k >= 0 && k < ds->classes && k < 10 ? fmnist[k] : "?";
}
