/* Dataset dispatch: one entry per supported dataset. */
#include "data/data_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const char *name;
    const char *dir;   /* the standard place of its files */
    const char *const *splits;
    int scene;         /* composed by data/scene.c from Fashion-MNIST: the
                        * default canvas side; 0 for files */
} reader;

static const char *const file_splits[] = {"train", "test", NULL};
static const char *const scene_splits[] = {"train", "val", "test", NULL};

static const reader readers[] = {
    {"fashion-mnist", DATA_FMNIST_DIR, file_splits, 0},
    {"fmnist-cluttered", DATA_FMNIST_DIR, scene_splits, DATA_SCENE_DEFAULT_SIZE},
    {"fmnist-multi", DATA_FMNIST_DIR, scene_splits, DATA_MULTI_DEFAULT_SIZE},
};

static const char *const names[] = {"fashion-mnist", "fmnist-cluttered", "fmnist-multi",
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

static int known_split(const reader *r, const char *split, util_err *err)
{
    for (int i = 0; r->splits[i]; i++)
        if (strcmp(r->splits[i], split) == 0)
            return 0;
    return util_errf(err, "unknown split \"%s\" for %s (expected %s)", split,
                     r->name, r->scene ? "\"train\", \"val\" or \"test\""
                                       : "\"train\" or \"test\"");
}

int data_open_ex(const data_opts *o, data_set **out, util_err *err)
{
    *out = NULL;
    const reader *r = find(o->name);
    if (!r)
        return util_errf(err, "unknown dataset \"%s\"", o->name);
    if (known_split(r, o->split, err))
        return -1;
    data_set *ds = calloc(1, sizeof *ds);
    if (!ds)
        return util_errf(err, "out of memory");
    const char *dir = o->dir ? o->dir : r->dir;
    int rc = r->scene ? data_scene_read(dir, o, ds, err)
                      : data_fmnist_read(dir, o->split, o->first, o->count, ds, err);
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
    data_opts o = {name, split, dir, first, count, data_scene_default_size(name),
                   DATA_SCENE_DEFAULT_SEED};
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

/* Every dataset so far is Fashion-MNIST or made from it; the names are
 * those of Xiao et al. (2017). */
const char *data_class_name(const data_set *ds, int k)
{
    static const char *const fmnist[] = {"T-shirt/top", "Trouser", "Pullover",
                                         "Dress", "Coat", "Sandal", "Shirt",
                                         "Sneaker", "Bag", "Ankle boot"};
    return k >= 0 && k < ds->classes && k < 10 ? fmnist[k] : "?";
}
