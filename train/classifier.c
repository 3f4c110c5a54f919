/*
 * The classifier family: trains the cloud classifier from a JSON config
 * (models/README.md, models/fmnist-classifier.md), run by
 * `limitnet train classifier --config FILE [--resume] [--stop-after N]`.
 *
 * Seeded and reproducible, one progress line per epoch on stderr, a
 * checkpoint after every epoch that a resumed run continues from exactly,
 * and a summary on stdout. Only the training split is used for training;
 * its last `validation` items are held out, and the test split is read
 * once, at the end, to report the final accuracy through the task
 * interface. stop_after N ends the call after N more epochs, leaving the
 * checkpoint to resume from (long runs in slices; the resume test).
 *
 * Every random choice of epoch e (order, shifts, flips, dropout) comes from
 * a generator seeded with mix(seed, 1 + e) (train_epoch_start), so a
 * resumed run needs no saved generator state and gives the same weights as
 * an uninterrupted one.
 *
 * Adaptation (`limitnet train adapt`, task "adapt"): the same loop started
 * from a trained classifier's file ("from": its architecture, input
 * normalisation and weights) and shown, instead of each clean item, a
 * reconstruction of it by a codec at a random cut (train_recon, which the
 * caller builds from a scenario's codec family), except a fraction
 * "adapt.clean" of items left clean. Validation and the final report are
 * on reconstructions too, each held-out or test item with a generator of
 * its own (mix(seed, RECON_STREAM + item)), so every epoch and every run
 * scores the same reconstructions; the report also scores the starting
 * classifier on them, which is what the adaptation is worth.
 */
#include "train/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "nn/nn.h"
#include "tasks/task.h"

#define EVAL_CHUNK 500
#define RECON_STREAM (1ULL << 40) /* the evaluation items' generators */

typedef struct cls_cfg {
    const char *file;
    char *text;       /* the config, canonical, for checkpoint matching */
    char *model_json;
    train_dataset data;
    char output[TRAIN_PATH_LEN];
    char checkpoint[TRAIN_PATH_LEN];
    uint64_t seed;
    int epochs, batch, validation;
    train_optim o;
    double smoothing;
    int shift, flip;
    int adapt;                   /* task "adapt" */
    char from[TRAIN_PATH_LEN];   /* adapt: the classifier it starts from */
    char scenario[TRAIN_PATH_LEN], family[64]; /* adapt: the codecs */
    double clean;                /* adapt: fraction of items left clean */
} cls_cfg;

typedef struct trainer {
    cls_cfg cfg;
    data_set *train, *val;
    size_t ntrain;
    nn_model *m;
    nn_ws *ws;
    nn_optim *opt;
    nn_lr_sched sched;
    int out;
    nn_tensor x, g;
    const train_recon *recon; /* adapt: what the items become, else NULL */
    util_image item;          /* a view of the item being loaded */
    util_image rec;           /* adapt: one reconstruction */
    int *labels;
    size_t *perm;
    int done;        /* epochs completed */
    double seconds;  /* training wall time so far, across resumes */
    double val_acc;
} trainer;

/* ---- config ------------------------------------------------------------------ */

static int parse_sections(const cJSON *root, cls_cfg *c, util_err *err)
{
    static const char *const akeys[] = {"shift", "flip", NULL};
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "augment");
    cJSON *empty = cJSON_CreateObject();
    int rc = !empty || train_parse_optim(root, &c->o, err) ||
             util_json_keys(a ? a : empty, "augment", akeys, err) ||
             train_config_int(a, "augment", "shift", 0, 0, 8, &c->shift, err) ||
             util_json_bool(a, "augment", "flip", 0, &c->flip, err);
    cJSON_Delete(empty);
    return rc ? -1 : 0;
}

/* "adapt": {"scenario": FILE, "family": NAME, "clean": F} */
static int parse_adapt(const cJSON *root, cls_cfg *c, util_err *err)
{
    static const char *const keys[] = {"scenario", "family", "clean", NULL};
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "adapt");
    if (!cJSON_IsObject(a))
        return util_errf(err, "adapt: required, an object {\"scenario\": FILE, "
                         "\"family\": NAME, \"clean\": F}");
    if (util_json_keys(a, "adapt", keys, err) ||
        util_json_str(a, "adapt", "scenario", NULL, c->scenario, sizeof c->scenario, err) ||
        util_json_str(a, "adapt", "family", NULL, c->family, sizeof c->family, err) ||
        util_json_num(a, "adapt", "clean", 0.1, 0, 1, &c->clean, err) ||
        util_json_str(root, "", "from", NULL, c->from, sizeof c->from, err))
        return -1;
    /* the file says what it is: a second say would only disagree */
    if (cJSON_GetObjectItemCaseSensitive(root, "model") ||
        cJSON_GetObjectItemCaseSensitive(root, "normalize"))
        return util_errf(err, "model, normalize: come from the \"from\" file when adapting");
    return 0;
}

static int parse_config(const cJSON *root, cls_cfg *c, util_err *err)
{
    static const char *const keys[] = {
        "task", "dataset", "data_dir", "seed", "epochs", "batch", "validation",
        "label_smoothing", "optimizer", "schedule", "augment", "normalize",
        "output", "checkpoint", "model", "from", "adapt", NULL};
    char task[32];
    double seed;
    if (util_json_keys(root, "", keys, err) ||
        util_json_str(root, "", "task", "", task, sizeof task, err) ||
        train_parse_dataset(root, &c->data, err) ||
        util_json_num(root, "", "seed", 1, 0, 9007199254740991.0, &seed, err) ||
        train_config_int(root, "", "epochs", 10, 1, 10000, &c->epochs, err) ||
        train_config_int(root, "", "batch", 128, 1, 65536, &c->batch, err) ||
        train_config_int(root, "", "validation", 5000, 0, 1000000, &c->validation, err) ||
        util_json_num(root, "", "label_smoothing", 0, 0, 0.5, &c->smoothing, err) ||
        util_json_str(root, "", "output", "", c->output, sizeof c->output, err) ||
        util_json_str(root, "", "checkpoint", "", c->checkpoint, sizeof c->checkpoint, err) ||
        parse_sections(root, c, err))
        return -1;
    c->adapt = strcmp(task, "adapt") == 0;
    if (strcmp(task, "classifier") != 0 && !c->adapt)
        return util_errf(err, "task: expected \"classifier\" or \"adapt\"");
    if (!c->output[0] || !c->checkpoint[0])
        return util_errf(err, "output and checkpoint: both paths are required");
    c->seed = (uint64_t)seed;
    if (c->adapt)
        return parse_adapt(root, c, err);
    if (cJSON_GetObjectItemCaseSensitive(root, "from") ||
        cJSON_GetObjectItemCaseSensitive(root, "adapt"))
        return util_errf(err, "from, adapt: only for task \"adapt\"");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!m || !(c->model_json = cJSON_PrintUnformatted(m)))
        return util_errf(err, "model: required");
    return 0;
}

static int parse_any(const cJSON *root, void *c, util_err *err)
{
    return parse_config(root, c, err);
}

static int load_config(const char *path, cls_cfg *c, util_err *err)
{
    memset(c, 0, sizeof *c);
    c->file = path;
    return train_load_config(path, parse_any, c, &c->text, err);
}

static void free_config(cls_cfg *c)
{
    cJSON_free(c->text);
    cJSON_free(c->model_json);
}

/* ---- setup ------------------------------------------------------------------- */

static int open_data(trainer *t, util_err *err)
{
    const cls_cfg *c = &t->cfg;
    return train_open_data(&c->data, c->validation, c->batch,
                           &t->train, &t->val, &t->ntrain, err);
}

static int check_shapes(trainer *t, util_err *err)
{
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    nn_shape in = nn_model_node_shape(t->m, NN_INPUT);
    nn_shape out = nn_model_node_shape(t->m, t->out);
    if (in.w != w || in.h != h || in.c != ch)
        return util_errf(err, "model.input: %dx%dx%d, but %s images are %dx%dx%d",
                         in.c, in.h, in.w, t->cfg.data.name, ch, h, w);
    if (out.c != data_classes(t->train) || out.h != 1 || out.w != 1)
        return util_errf(err, "model: last layer gives %dx%dx%d, expected %d class scores",
                         out.c, out.h, out.w, data_classes(t->train));
    return 0;
}

/* Adapting: the architecture, normalisation and weights of the "from"
 * classifier, checked as task_classifier_load checks them. */
static int load_from(trainer *t, util_err *err)
{
    cls_cfg *c = &t->cfg;
    nn_st_file *f;
    if (nn_st_open(c->from, &f, err))
        return -1;
    const char *task = nn_st_meta(f, "limitnet.task"), *spec = nn_st_meta(f, "limitnet.model");
    int rc = 0;
    if (!task || strcmp(task, "classifier") != 0 || !spec)
        rc = util_errf(err, "%s: not a classifier (metadata limitnet.task and "
                       "limitnet.model missing)", c->from);
    else if (nn_st_meta_num(f, "limitnet.mean", 0, -TASK_MEAN_MAX, TASK_MEAN_MAX,
                            &c->o.mean, err) ||
             nn_st_meta_num(f, "limitnet.std", 0, TASK_STD_MIN, TASK_STD_MAX, &c->o.std,
                            err))
        rc = -1;
    else if (!(c->model_json = malloc(strlen(spec) + 1)))
        rc = util_errf(err, "out of memory");
    else {
        memcpy(c->model_json, spec, strlen(spec) + 1);
        if (nn_model_from_json(spec, &t->m, err) || nn_st_load_model(f, t->m, err))
            rc = util_err_prefix(err, "%s: ", c->from);
    }
    nn_st_close(f);
    return rc;
}

static int setup(trainer *t, util_err *err)
{
    const cls_cfg *c = &t->cfg;
    if (open_data(t, err))
        return -1;
    if (c->adapt ? load_from(t, err) : nn_model_from_json(c->model_json, &t->m, err))
        return c->adapt ? -1 : util_err_prefix(err, "%s: ", c->file);
    t->out = nn_model_nodes(t->m) - 1;
    if (check_shapes(t, err) || nn_ws_create(t->m, &t->ws, err) ||
        nn_optim_create(t->m, &c->o.opt, &t->opt, err))
        return -1;
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(c->seed, 0));
    if (!c->adapt)
        nn_model_init(t->m, &rng);
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    if (c->adapt && util_image_alloc(&t->rec, w, h, ch, err))
        return -1;
    long steps = (long)(t->ntrain / (size_t)c->batch);
    t->sched = train_schedule(&c->o, steps, c->epochs);
    t->labels = malloc((size_t)c->batch * sizeof *t->labels);
    t->perm = malloc(t->ntrain * sizeof *t->perm);
    if (!t->labels || !t->perm)
        return util_errf(err, "out of memory");
    return 0;
}

static void teardown(trainer *t)
{
    data_free(t->train);
    data_free(t->val);
    nn_ws_destroy(t->ws);
    nn_optim_destroy(t->opt);
    nn_model_destroy(t->m);
    nn_tensor_free(&t->x);
    nn_tensor_free(&t->g);
    free(t->labels);
    free(t->perm);
    util_image_free(&t->rec);
}

/* ---- checkpoints --------------------------------------------------------------- */

static int save_checkpoint(const trainer *t, util_err *err)
{
    return train_checkpoint_save(t->cfg.checkpoint, t->m, t->opt, t->cfg.text, t->done,
                                 t->seconds, err);
}

/* ---- one epoch ------------------------------------------------------------------ */

/* im into dst, normalised, shifted by (dx, dy) with zero (background)
 * fill and optionally mirrored. */
static void put_image(const cls_cfg *c, const util_image *img, int dx, int dy, int flip,
                      float *dst)
{
    const util_image im = *img;
    float k = (float)(1.0 / (255.0 * c->o.std)), b = (float)(-c->o.mean / c->o.std);
    for (int ch = 0; ch < im.c; ch++)
        for (int y = 0; y < im.h; y++)
            for (int x = 0; x < im.w; x++) {
                int sy = y + dy, sx = (flip ? im.w - 1 - x : x) + dx;
                int in = sy >= 0 && sy < im.h && sx >= 0 && sx < im.w;
                float v = in ? im.px[((size_t)sy * im.w + sx) * im.c + ch] : 0.0f;
                dst[((size_t)ch * im.h + y) * im.w + x] = v * k + b;
            }
}

/* Item i of ds as the model is shown it: adapting, its reconstruction
 * (drawn from rng) unless rng leaves it clean (clean_p of the time);
 * else the item itself. */
static int item_image(trainer *t, const data_set *ds, size_t i, double clean_p,
                      util_rng *rng, const util_image **im, int *label, util_err *err)
{
    data_get(ds, i, &t->item, label);
    *im = &t->item;
    if (!t->recon || util_rng_uniform(rng) < clean_p)
        return 0;
    if (t->recon->reconstruct(t->recon->ctx, &t->item, rng, &t->rec, err))
        return util_err_prefix(err, "item %zu: ", i);
    *im = &t->rec;
    return 0;
}

static int fill_batch(trainer *t, size_t first, util_rng *rng, util_err *err)
{
    const cls_cfg *c = &t->cfg;
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    if (nn_tensor_resize(&t->x, c->batch, ch, h, w, err))
        return -1;
    size_t per = (size_t)ch * h * w;
    for (int i = 0; i < c->batch; i++) {
        int s = c->shift;
        int dx = s ? (int)util_rng_below(rng, 2 * (uint64_t)s + 1) - s : 0;
        int dy = s ? (int)util_rng_below(rng, 2 * (uint64_t)s + 1) - s : 0;
        int flip = c->flip && util_rng_below(rng, 2);
        const util_image *im;
        if (item_image(t, t->train, t->perm[first + (size_t)i], c->clean, rng, &im,
                       &t->labels[i], err))
            return -1;
        put_image(c, im, dx, dy, flip, t->x.data + (size_t)i * per);
    }
    return 0;
}

typedef struct epoch_stats {
    double loss;
    long hits, seen;
    float lr;
} epoch_stats;

static int train_step(trainer *t, epoch_stats *st, util_rng *rng, util_err *err)
{
    float loss, lr = nn_lr_at(&t->sched, nn_optim_steps(t->opt));
    int hits;
    nn_model_zero_grad(t->m);
    if (nn_forward(t->m, t->ws, &t->x, rng, err) ||
        nn_loss_softmax_ce(nn_ws_out(t->ws, t->out), t->labels,
                           (float)t->cfg.smoothing, &loss, &t->g, &hits, err))
        return -1;
    const nn_tensor *g = &t->g;
    if (nn_backward(t->m, t->ws, 1, &t->out, &g, err))
        return -1;
    nn_optim_step(t->opt, lr);
    st->loss += loss * t->cfg.batch;
    st->hits += hits;
    st->seen += t->cfg.batch;
    st->lr = lr;
    return 0;
}

static int run_epoch(trainer *t, int e, epoch_stats *st, util_err *err)
{
    util_rng rng;
    train_epoch_start(t->cfg.seed, 1 + (uint64_t)e, t->perm, t->ntrain, &rng);
    memset(st, 0, sizeof *st);
    size_t steps = t->ntrain / (size_t)t->cfg.batch;
    for (size_t s = 0; s < steps; s++)
        if (fill_batch(t, s * (size_t)t->cfg.batch, &rng, err) ||
            train_step(t, st, &rng, err))
            return util_err_prefix(err, "epoch %d: ", e + 1);
    return 0;
}

/* Top-1 accuracy on ds in inference mode; adapting, on each item's
 * reconstruction from a generator of its own (never clean). */
static int evaluate(trainer *t, const data_set *ds, double *acc, util_err *err)
{
    size_t n = data_count(ds);
    int w, h, ch, lab;
    data_dims(ds, &w, &h, &ch);
    size_t per = (size_t)ch * h * w;
    long hits = 0;
    int *labels = malloc(EVAL_CHUNK * sizeof *labels);
    if (!labels)
        return util_errf(err, "out of memory");
    for (size_t at = 0; at < n; at += EVAL_CHUNK) {
        int m = (int)(n - at < EVAL_CHUNK ? n - at : EVAL_CHUNK), hit;
        float loss;
        if (nn_tensor_resize(&t->x, m, ch, h, w, err))
            break;
        int bad = 0;
        for (int i = 0; !bad && i < m; i++) {
            util_rng rng;
            util_rng_seed(&rng, util_seed_mix(t->cfg.seed, RECON_STREAM + at + (size_t)i));
            const util_image *im;
            bad = item_image(t, ds, at + (size_t)i, 0, &rng, &im, &lab, err);
            if (!bad)
                put_image(&t->cfg, im, 0, 0, 0, t->x.data + i * per);
            labels[i] = lab;
        }
        if (bad || nn_infer(t->m, t->ws, &t->x, err) ||
            nn_loss_softmax_ce(nn_ws_out(t->ws, t->out), labels, 0, &loss, NULL, &hit, err))
            break;
        hits += hit;
        if (at + (size_t)m >= n) {
            free(labels);
            *acc = (double)hits / (double)n;
            return 0;
        }
    }
    free(labels);
    return -1;
}

/* ---- the whole run -------------------------------------------------------------- */

/* A percentage, or "none" where there is no held-out set (v < 0). */
static const char *pct(double v, char *buf, size_t len)
{
    if (v < 0)
        return "none";
    snprintf(buf, len, "%.2f%%", 100 * v);
    return buf;
}

static int run_epochs(trainer *t, int last, util_err *err)
{
    for (int e = t->done; e < last; e++) {
        double t0 = util_now();
        epoch_stats st;
        if (run_epoch(t, e, &st, err))
            return -1;
        double dt = util_now() - t0;
        t->val_acc = -1;
        if (t->val && evaluate(t, t->val, &t->val_acc, err))
            return -1;
        t->done = e + 1;
        t->seconds += util_now() - t0;
        char vbuf[32];
        train_progress("epoch %3d/%d  loss %.4f  train %.2f%%  val %s  lr %.2e  "
                "%.0f img/s  %.1f s\n", e + 1, t->cfg.epochs, st.loss / (double)st.seen,
                100.0 * (double)st.hits / (double)st.seen,
                pct(t->val_acc, vbuf, sizeof vbuf),
                st.lr, (double)st.seen / dt, t->seconds);
        if (save_checkpoint(t, err))
            return -1;
    }
    return 0;
}

static int save_output(trainer *t, util_err *err)
{
    char mean[32], std[32], seed[32], epochs[16], val[32], secs[32];
    snprintf(mean, sizeof mean, "%.9g", t->cfg.o.mean);
    snprintf(std, sizeof std, "%.9g", t->cfg.o.std);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->cfg.seed);
    snprintf(epochs, sizeof epochs, "%d", t->done);
    snprintf(val, sizeof val, "%.4f", t->val_acc);
    snprintf(secs, sizeof secs, "%.1f", t->seconds);
    const char *meta[] = {
        "limitnet.task", "classifier", "limitnet.model", t->cfg.model_json,
        "limitnet.mean", mean, "limitnet.std", std, "train.seed", seed,
        "train.epochs", epochs, "train.val_accuracy", val,
        "train.seconds", secs, "train.config", t->cfg.text,
        /* adapting: where it started and what it was shown */
        "train.from", t->cfg.from, "train.adapted_to", t->recon ? t->recon->what : ""};
    size_t nmeta = sizeof meta / sizeof meta[0] / 2 - (t->recon ? 0 : 2);
    if (train_make_parents(t->cfg.output, err))
        return -1;
    return nn_model_save(t->m, t->cfg.output, meta, nmeta, err);
}

/* The test items as the report scores them: clean, or (r) each one's
 * reconstruction from a generator of its own; imgs[i] owned when r. */
static int test_images(const cls_cfg *c, const train_recon *r, const data_set *ds,
                       util_image *imgs, int *truth, util_err *err)
{
    size_t n = data_count(ds);
    for (size_t i = 0; i < n; i++) {
        util_image im;
        data_get(ds, i, &im, &truth[i]);
        if (!r) {
            imgs[i] = im;
            continue;
        }
        util_rng rng;
        util_rng_seed(&rng, util_seed_mix(c->seed, 2 * RECON_STREAM + i));
        if (util_image_alloc(&imgs[i], im.w, im.h, im.c, err) ||
            r->reconstruct(r->ctx, &im, &rng, &imgs[i], err))
            return util_err_prefix(err, "test item %zu: ", i);
    }
    return 0;
}

/* Test accuracy of each of the nw weight files through the task interface,
 * as the experiments will see them, on the test items (clean, or their
 * reconstructions by r). */
static int test_accuracy(const cls_cfg *c, const train_recon *r, const char *const *weights,
                         int nw, double *acc, size_t *n, util_err *err)
{
    data_set *ds;
    if (train_open_test(&c->data, &ds, err))
        return -1;
    *n = data_count(ds);
    util_image *imgs = calloc(*n, sizeof *imgs);
    int *truth = malloc(*n * sizeof *truth), *pred = malloc(*n * sizeof *pred);
    int rc = imgs && truth && pred ? test_images(c, r, ds, imgs, truth, err)
                                   : util_errf(err, "out of memory");
    for (int k = 0; !rc && k < nw; k++) {
        task_classifier *cls;
        rc = task_classifier_load(weights[k], &cls, err) ||
             task_classifier_predict(cls, imgs, *n, pred, err);
        long hits = 0;
        for (size_t i = 0; !rc && i < *n; i++)
            hits += pred[i] == truth[i];
        acc[k] = (double)hits / (double)*n;
        task_classifier_free(cls);
    }
    for (size_t i = 0; r && imgs && i < *n; i++)
        util_image_free(&imgs[i]);
    free(imgs);
    free(truth);
    free(pred);
    data_free(ds);
    return rc;
}

/* Builds everything and, when asked, continues from the checkpoint. */
static int start(trainer *t, int want_resume, util_err *err)
{
    if (setup(t, err))
        return -1;
    return want_resume ? train_checkpoint_resume(t->cfg.checkpoint, t->cfg.file, t->cfg.text,
                                                 t->cfg.epochs, t->m, t->opt, &t->done,
                                                 &t->seconds, err)
                       : 0;
}

/* Final validation, the weight file, and the test accuracy through the
 * task interface from that file. */
static int finish(trainer *t, util_err *err)
{
    double acc = 0, vacc = -1, rec[2] = {0, 0};
    size_t ntest = 0;
    if (t->val && evaluate(t, t->val, &vacc, err))
        return -1;
    t->val_acc = vacc;
    const char *files[2] = {t->cfg.output, t->cfg.from};
    if (save_output(t, err) || test_accuracy(&t->cfg, NULL, files, 1, &acc, &ntest, err) ||
        (t->recon && test_accuracy(&t->cfg, t->recon, files, 2, rec, &ntest, err)))
        return -1;
    if (t->recon)
        printf("adapted to %s: test %.2f%% on reconstructions at random cuts, where "
               "%s scores %.2f%%\n", t->recon->what, 100 * rec[0], t->cfg.from,
               100 * rec[1]);
    char vbuf[32];
    printf("classifier: test %.2f%% (%zu images), validation %s (%d), "
           "%d epochs, %.1f s training, seed %llu\n"
           "weights: %s (%zu parameters, %.2f M MACs per image)\n",
           100 * acc, ntest, pct(vacc, vbuf, sizeof vbuf), t->cfg.validation, t->done,
           t->seconds,
           (unsigned long long)t->cfg.seed, t->cfg.output,
           nn_model_param_count(t->m), nn_model_macs(t->m) / 1e6);
    return 0;
}

int train_classifier_check(const char *config, util_err *err)
{
    cls_cfg c;
    nn_model *m = NULL;
    int rc = load_config(config, &c, err);
    /* adapting, the architecture is the "from" file's, not read here */
    if (!rc && !c.adapt && nn_model_from_json(c.model_json, &m, err))
        rc = util_err_prefix(err, "%s: ", config);
    nn_model_destroy(m);
    free_config(&c);
    return rc ? 2 : 0;
}

int train_adapt_source(const char *config, char *scenario, size_t slen, char *family,
                       size_t flen, util_err *err)
{
    cls_cfg c;
    int rc = load_config(config, &c, err) ? 2 : 0;
    if (!rc && !c.adapt) {
        util_errf(err, "%s: task: expected \"adapt\"", config);
        rc = 2;
    }
    if (!rc) {
        snprintf(scenario, slen, "%s", c.scenario);
        snprintf(family, flen, "%s", c.family);
    }
    free_config(&c);
    return rc;
}

int train_classifier(const char *config, int want_resume, int stop_after,
                     util_err *err)
{
    return train_classifier_adapt(config, NULL, want_resume, stop_after, err);
}

int train_classifier_adapt(const char *config, const train_recon *recon, int want_resume,
                           int stop_after, util_err *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    if (load_config(config, &t.cfg, err)) {
        free_config(&t.cfg);
        return 2;
    }
    if (t.cfg.adapt != (recon != NULL)) {
        util_errf(err, "%s: task \"%s\" is trained by `limitnet train %s`", config,
                  t.cfg.adapt ? "adapt" : "classifier", t.cfg.adapt ? "adapt" : "classifier");
        free_config(&t.cfg);
        return 2;
    }
    t.recon = recon;
    int rc = start(&t, want_resume, err);
    int last = t.cfg.epochs;
    if (stop_after > 0 && t.done + stop_after < last)
        last = t.done + stop_after;
    if (!rc)
        rc = run_epochs(&t, last, err);
    if (!rc && t.done < t.cfg.epochs)
        train_progress("train: stopped after epoch %d of %d; continue with --resume\n",
                t.done, t.cfg.epochs);
    else if (!rc)
        rc = finish(&t, err);
    teardown(&t);
    free_config(&t.cfg);
    return rc ? 1 : 0;
}
