/*
 * What every model family's trainer shares (train/train.h): config
 * integers, the optimiser sections, checkpoints, the training and held-out
 * items, each epoch's order, output directories and progress lines.
 */
#include "train/train.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int train_load_config(const char *path,
                      int (*parse)(const cJSON *root, void *cfg, util_err *err),
                      void *cfg, char **text, util_err *err)
{
    cJSON *root;
    int rc = util_json_load(path, &root, err);
    if (!rc)
        rc = parse(root, cfg, err);
    if (!rc && !(*text = cJSON_PrintUnformatted(root)))
        rc = util_errf(err, "out of memory");
    cJSON_Delete(root);
    return rc ? util_err_prefix(err, "%s: ", path) : 0;
}

int train_config_int(const cJSON *obj, const char *path, const char *key,
                     int def, int lo, int hi, int *out, util_err *err)
{
    double v;
    if (util_json_int(obj, path, key, def, lo, hi, &v, err))
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_optimizer(const cJSON *o, train_optim *c, util_err *err)
{
    static const char *const keys[] = {"type", "lr", "beta1", "beta2", "eps",
                                       "momentum", "nesterov", "weight_decay", NULL};
    char type[16];
    double b1, b2, eps, mom, wd;
    int nest;
    if (util_json_keys(o, "optimizer", keys, err) ||
        util_json_str(o, "optimizer", "type", "adam", type, sizeof type, err) ||
        util_json_num(o, "optimizer", "lr", 1e-3, 1e-8, 10, &c->lr, err) ||
        util_json_num(o, "optimizer", "beta1", 0.9, 0, 0.999999, &b1, err) ||
        util_json_num(o, "optimizer", "beta2", 0.999, 0, 0.999999, &b2, err) ||
        util_json_num(o, "optimizer", "eps", 1e-8, 1e-12, 1, &eps, err) ||
        util_json_num(o, "optimizer", "momentum", 0.9, 0, 0.999999, &mom, err) ||
        util_json_bool(o, "optimizer", "nesterov", 0, &nest, err) ||
        util_json_num(o, "optimizer", "weight_decay", 0, 0, 1, &wd, err))
        return -1;
    if (strcmp(type, "adam") && strcmp(type, "sgd"))
        return util_errf(err, "optimizer.type: expected \"adam\" or \"sgd\"");
    c->opt = (nn_optim_cfg){strcmp(type, "adam") ? NN_OPTIM_SGD : NN_OPTIM_ADAM,
                            (float)b1, (float)b2, (float)eps, (float)mom,
                            nest, (float)wd};
    return 0;
}

int train_parse_optim(const cJSON *root, train_optim *c, util_err *err)
{
    static const char *const skeys[] = {"type", "warmup_epochs", "min_lr", NULL};
    static const char *const nkeys[] = {"mean", "std", NULL};
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "schedule");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "normalize");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "optimizer");
    cJSON *empty = cJSON_CreateObject();
    int rc = !empty || parse_optimizer(o ? o : empty, c, err) ||
             util_json_keys(s ? s : empty, "schedule", skeys, err) ||
             util_json_str(s, "schedule", "type", "cosine", c->schedule, sizeof c->schedule, err) ||
             util_json_num(s, "schedule", "warmup_epochs", 0, 0, 1000, &c->warmup_epochs, err) ||
             util_json_num(s, "schedule", "min_lr", 0, 0, 10, &c->min_lr, err) ||
             util_json_keys(n ? n : empty, "normalize", nkeys, err) ||
             util_json_num(n, "normalize", "mean", 0.0, -10, 10, &c->mean, err) ||
             util_json_num(n, "normalize", "std", 1.0, 1e-3, 100, &c->std, err);
    cJSON_Delete(empty);
    if (rc)
        return -1;
    if (strcmp(c->schedule, "cosine") && strcmp(c->schedule, "constant"))
        return util_errf(err, "schedule.type: expected \"cosine\" or \"constant\"");
    return 0;
}

nn_lr_sched train_schedule(const train_optim *o, long steps, int epochs)
{
    return (nn_lr_sched){strcmp(o->schedule, "cosine") ? NN_LR_CONST : NN_LR_COSINE,
                         (float)o->lr, (float)o->min_lr,
                         (long)(o->warmup_epochs * (double)steps), steps * epochs, 0, 1.0f};
}

int train_checkpoint_save(const char *path, const nn_model *m, const nn_optim *opt,
                          const char *config_text, int epoch, double seconds,
                          util_err *err)
{
    char ep[32], secs[32];
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(secs, sizeof secs, "%.3f", seconds);
    nn_st_writer *w;
    if (nn_st_writer_create(&w, err))
        return -1;
    int rc = nn_st_writer_model(w, m, "", err) || nn_optim_write(opt, w, err) ||
             nn_st_writer_meta(w, "train.config", config_text, err) ||
             nn_st_writer_meta(w, "train.epoch", ep, err) ||
             nn_st_writer_meta(w, "train.seconds", secs, err) ||
             train_make_parents(path, err) || nn_st_writer_save(w, path, err);
    nn_st_writer_destroy(w);
    return rc ? -1 : 0;
}

int train_checkpoint_resume(const char *path, const char *config_file,
                            const char *config_text, int max_epoch, nn_model *m,
                            nn_optim *opt, int *epoch, double *seconds, util_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        train_progress("train: no checkpoint %s, starting afresh\n", path);
        return 0;
    }
    nn_st_file *f;
    if (nn_st_open(path, &f, err))
        return -1;
    const char *cfg = nn_st_meta(f, "train.config");
    double ep, secs;
    int rc = 0;
    /* The numbers are checked before the casts: the file may say "1x",
     * "4294967297" or "nan". */
    if (!cfg || strcmp(cfg, config_text) != 0)
        rc = util_errf(err, "%s: made with a different config than %s", path, config_file);
    else if (nn_st_meta_num(f, "train.epoch", 1, 0, max_epoch, &ep, err) ||
             nn_st_meta_num(f, "train.seconds", 0, 0, 1e12, &secs, err) ||
             nn_st_read_model(f, m, "", err) || nn_optim_read(opt, f, err))
        rc = -1;
    if (!rc) {
        *epoch = (int)ep;
        *seconds = secs;
    }
    nn_st_close(f);
    if (!rc && *epoch)
        train_progress("train: resuming after epoch %d of %d\n", *epoch, max_epoch);
    return rc;
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
        util_json_int(j, "dataset", "size", data_scene_default_size(d->name),
                      DATA_SCENE_MIN_SIZE, DATA_SCENE_MAX_SIZE, &size, err) ||
        util_json_int(j, "dataset", "seed", DATA_SCENE_DEFAULT_SEED, 0, 4294967295.0,
                      &seed, err) ||
        util_json_int(j, "dataset", "count", 0, 1, DATA_SCENE_MAX_COUNT, &count, err) ||
        util_json_int(j, "dataset", "test_count", 5000, 1, DATA_SCENE_MAX_COUNT, &test,
                      err))
        return -1;
    if (!data_is_scene(d->name)) {
        /* a file dataset: only how much of it (quick trials, tests) */
        static const char *const fkeys[] = {"name", "count", "test_count", NULL};
        if (util_json_keys(j, "dataset", fkeys, err))
            return util_err_prefix(err, "(\"%s\" is no scene dataset) ", d->name);
        d->count = count < 1 ? 0 : (size_t)count;
        d->test_count = cJSON_GetObjectItemCaseSensitive(j, "test_count") ? (size_t)test : 0;
        return 0;
    }
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
    data_opts o = {.name = d->name, .split = split, .dir = d->dir[0] ? d->dir : NULL,
                   .first = first, .count = count, .size = d->size, .seed = d->seed};
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
    n = d->count && d->count < n ? d->count : n;
    if ((size_t)validation + (size_t)batch > n)
        return util_errf(err, "validation: %d held out of %zu leaves less than a batch",
                         validation, n);
    *ntrain = n - (size_t)validation;
    o = opts_of(d, "train", 0, *ntrain);
    if (data_open_ex(&o, train, err))
        return -1;
    o = opts_of(d, "train", *ntrain, (size_t)validation);
    if (validation && data_open_ex(&o, val, err))
        return -1;
    return 0;
}

int train_open_test(const train_dataset *d, data_set **out, util_err *err)
{
    data_opts o = opts_of(d, "test", 0, d->test_count);
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
