/*
 * What every model family's trainer shares (train/train.h): config
 * integers, the training and held-out items, each epoch's order, output
 * directories and progress lines.
 */
#include "train/train.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int train_config_int(const cJSON *obj, const char *path, const char *key,
                     int def, int lo, int hi, int *out, util_err *err)
{
    double v;
    if (util_json_int(obj, path, key, def, lo, hi, &v, err))
        return -1;
    *out = (int)v;
    return 0;
}

int train_parse_dataset(const cJSON *root, train_dataset *d, util_err *err)
{
    static const char *const keys[] = {"name", "size", "seed", "count", "test_count",
                                       NULL};
    memset(d, 0, sizeof *d);
    d->size = DATA_SCENE_DEFAULT_SIZE;
    d->seed = DATA_SCENE_DEFAULT_SEED;
    if (util_json_str(root, "", "data_dir", "", d->dir, sizeof d->dir, err))
        return -1;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "dataset");
    if (!cJSON_IsObject(j))
        return util_json_str(root, "", "dataset", "fashion-mnist", d->name,
                             sizeof d->name, err);
    double size, seed, count, test;
    if (util_json_keys(j, "dataset", keys, err) ||
        util_json_str(j, "dataset", "name", NULL, d->name, sizeof d->name, err) ||
        util_json_int(j, "dataset", "size", DATA_SCENE_DEFAULT_SIZE, DATA_SCENE_MIN_SIZE,
                      DATA_SCENE_MAX_SIZE, &size, err) ||
        util_json_int(j, "dataset", "seed", DATA_SCENE_DEFAULT_SEED, 0, 4294967295.0,
                      &seed, err) ||
        util_json_int(j, "dataset", "count", 0, 1, DATA_SCENE_MAX_COUNT, &count, err) ||
        util_json_int(j, "dataset", "test_count", 5000, 1, DATA_SCENE_MAX_COUNT, &test,
                      err))
        return -1;
    if (!data_is_scene(d->name))
        return util_errf(err, "dataset.name: \"%s\" is not a scene dataset; name "
                         "other datasets as a string", d->name);
    if (count < 1)
        return util_errf(err, "dataset.count: required for scenes");
    d->size = (int)size;
    d->seed = (uint64_t)seed;
    d->count = (size_t)count;
    d->test_count = (size_t)test;
    return 0;
}

static data_opts opts_of(const train_dataset *d, const char *split, size_t first,
                         size_t count)
{
    data_opts o = {d->name, split, d->dir[0] ? d->dir : NULL, first, count, d->size,
                   d->seed};
    return o;
}

static int open_scenes(const train_dataset *d, int validation, int batch,
                       data_set **train, data_set **val, size_t *ntrain,
                       util_err *err)
{
    if (d->count < (size_t)batch)
        return util_errf(err, "dataset.count: %zu scenes are less than a batch",
                         d->count);
    data_opts o = opts_of(d, "train", 0, d->count);
    if (data_open_ex(&o, train, err))
        return -1;
    *ntrain = d->count;
    o = opts_of(d, "val", 0, (size_t)validation);
    return validation && data_open_ex(&o, val, err) ? -1 : 0;
}

int train_open_data(const train_dataset *d, int validation, int batch,
                    data_set **train, data_set **val, size_t *ntrain,
                    util_err *err)
{
    *train = *val = NULL;
    if (data_is_scene(d->name))
        return open_scenes(d, validation, batch, train, val, ntrain, err);
    data_set *all;
    data_opts o = opts_of(d, "train", 0, 0);
    if (data_open_ex(&o, &all, err))
        return -1;
    size_t n = data_count(all);
    data_free(all);
    if ((size_t)validation + (size_t)batch > n)
        return util_errf(err, "validation: %d held out of %zu leaves less than a batch",
                         validation, n);
    *ntrain = n - (size_t)validation;
    o = opts_of(d, "train", 0, *ntrain);
    if (data_open_ex(&o, train, err))
        return -1;
    o = opts_of(d, "train", *ntrain, 0);
    if (validation && data_open_ex(&o, val, err))
        return -1;
    return 0;
}

int train_open_test(const train_dataset *d, data_set **out, util_err *err)
{
    data_opts o = opts_of(d, "test", 0, data_is_scene(d->name) ? d->test_count : 0);
    return data_open_ex(&o, out, err);
}

void train_shuffle(size_t *perm, size_t n, util_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) { /* swaps item i - 1 with one of 0..i-1 */
        size_t j = (size_t)util_rng_below(rng, i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}

void train_epoch_start(uint64_t seed, uint64_t stream, size_t *perm, size_t n,
                       util_rng *rng)
{
    util_rng_seed(rng, util_seed_mix(seed, stream));
    train_shuffle(perm, n, rng);
}

int train_make_parents(const char *path, util_err *err)
{
    char dir[TRAIN_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0; /* the current directory, or the root */
    *slash = 0;
    return util_mkdirs(dir, err);
}

void train_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
