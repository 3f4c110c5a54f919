/* Dataset dispatch: one entry per supported dataset. */
#include "data/data_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const char *name;
    const char *dir;   /* the standard place of its files */
    int (*read)(const char *dir, const char *split, size_t first,
                size_t count, struct data_set *ds, util_err *err);
} reader;

static const reader readers[] = {
    {"fashion-mnist", DATA_FMNIST_DIR, data_fmnist_read},
};

static const char *const names[] = {"fashion-mnist", NULL};

const char *const *data_names(void)
{
    return names;
}

int data_open(const char *name, const char *split, const char *dir,
              size_t first, size_t count, data_set **out, util_err *err)
{
    *out = NULL;
    const reader *r = NULL;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (strcmp(readers[i].name, name) == 0)
            r = &readers[i];
    if (!r)
        return util_errf(err, "unknown dataset \"%s\"", name);
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return util_errf(err, "unknown split \"%s\" (expected \"train\" or "
                         "\"test\")", split);
    data_set *ds = calloc(1, sizeof *ds);
    if (!ds)
        return util_errf(err, "out of memory");
    if (r->read(dir ? dir : r->dir, split, first, count, ds, err)) {
        data_free(ds);
        return -1;
    }
    *out = ds;
    return 0;
}

void data_free(data_set *ds)
{
    if (!ds)
        return;
    free(ds->px);
    free(ds->labels);
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
