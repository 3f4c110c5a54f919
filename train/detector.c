/*
 * The detector family: an anchor-free detector (tasks/detector.c) trained
 * from a JSON config (models/multi-detector.md), run by
 * `limitnet train detector --config FILE [--resume] [--stop-after N]`.
 *
 * Targets as CenterNet's: per class a heatmap with a Gaussian bump at
 * each object's centre cell (sigma a sixth of the object's size in cells,
 * at least sigma_min; where bumps of one class meet, the larger value),
 * and at each centre cell the box's width and height and the centre's
 * offset in the cell. Loss: the penalty-reduced focal loss on the heatmap
 * (alpha 2, beta 4), plus L1 on size (size_weight) and offset
 * (offset_weight) at the centre cells, each over the number of objects.
 *
 * Epochs, seeds, checkpoints and resume as the classifier's
 * (train/classifier.c); validation reports mAP@0.5 on the held-out
 * scenes, and the end the test mAP@0.5 and mAP@[.5:.95] through the task
 * interface from the written file.
 */
#include "train/train_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "nn/nn.h"
#include "tasks/task.h"

#define EVAL_CHUNK 100
#define PRIOR_BIAS -2.19f /* heatmap logits start at p = 0.1 (CenterNet) */

typedef struct det_cfg {
    const char *file;
    char *text, *model_json;
    train_dataset data;
    char output[TRAIN_PATH_LEN], checkpoint[TRAIN_PATH_LEN];
    uint64_t seed;
    int epochs, batch, validation, max_dets;
    train_optim o;
    double sigma_min, size_weight, offset_weight, threshold;
} det_cfg;

typedef struct trainer {
    det_cfg cfg;
    data_set *train, *val;
    size_t ntrain;
    nn_model *m;
    nn_ws *ws;
    nn_optim *opt;
    nn_lr_sched sched;
    int node[3];              /* heatmap, size, offset */
    task_detect_cfg dc;
    nn_tensor x, heat, grad[3];
    train_det_target *obj;
    int nobj;
    size_t *perm;
    int done;
    double seconds, val_map;
} trainer;

/* ---- config ------------------------------------------------------------------- */

static int parse_detect(const cJSON *root, det_cfg *c, util_err *err)
{
    static const char *const keys[] = {"sigma_min", "size_weight", "offset_weight",
                                       "threshold", "max_detections", NULL};
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "detect");
    cJSON *empty = cJSON_CreateObject();
    int rc = !empty || util_json_keys(d ? d : empty, "detect", keys, err) ||
             util_json_num(d, "detect", "sigma_min", 0.5, 0.1, 10, &c->sigma_min, err) ||
             util_json_num(d, "detect", "size_weight", 0.1, 0, 100, &c->size_weight, err) ||
             util_json_num(d, "detect", "offset_weight", 1, 0, 100, &c->offset_weight, err) ||
             util_json_num(d, "detect", "threshold", 0.05, 0, 1, &c->threshold, err) ||
             train_config_int(d, "detect", "max_detections", 20, 1, TASK_DETECT_MAX,
                              &c->max_dets, err);
    cJSON_Delete(empty);
    return rc ? -1 : 0;
}

static int parse_config(const cJSON *root, det_cfg *c, util_err *err)
{
    static const char *const keys[] = {
        "task", "dataset", "data_dir", "seed", "epochs", "batch", "validation",
        "optimizer", "schedule", "normalize", "detect", "output", "checkpoint",
        "model", NULL};
    char task[32];
    double seed;
    if (util_json_keys(root, "", keys, err) ||
        util_json_str(root, "", "task", "", task, sizeof task, err) ||
        train_parse_dataset(root, &c->data, err) ||
        util_json_num(root, "", "seed", 1, 0, 9007199254740991.0, &seed, err) ||
        train_config_int(root, "", "epochs", 10, 1, 10000, &c->epochs, err) ||
        train_config_int(root, "", "batch", 64, 1, 65536, &c->batch, err) ||
        train_config_int(root, "", "validation", 1000, 0, 1000000, &c->validation, err) ||
        util_json_str(root, "", "output", "", c->output, sizeof c->output, err) ||
        util_json_str(root, "", "checkpoint", "", c->checkpoint, sizeof c->checkpoint, err) ||
        train_parse_optim(root, &c->o, err) || parse_detect(root, c, err))
        return -1;
    if (strcmp(task, "detector") != 0)
        return util_errf(err, "task: expected \"detector\"");
    if (!data_is_scene(c->data.name))
        return util_errf(err, "dataset: a detector trains on annotated scenes "
                         "(fmnist-multi), not %s", c->data.name);
    if (!c->output[0] || !c->checkpoint[0])
        return util_errf(err, "output and checkpoint: both paths are required");
    c->seed = (uint64_t)seed;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!m || !(c->model_json = cJSON_PrintUnformatted(m)))
        return util_errf(err, "model: required");
    return 0;
}

static int parse_any(const cJSON *root, void *c, util_err *err)
{
    return parse_config(root, c, err);
}

static int load_config(const char *path, det_cfg *c, util_err *err)
{
    memset(c, 0, sizeof *c);
    c->file = path;
    return train_load_config(path, parse_any, c, &c->text, err);
}

static void free_config(det_cfg *c)
{
    cJSON_free(c->text);
    cJSON_free(c->model_json);
}

/* The heads and their grid, checked against the data. */
static int find_heads(nn_model *m, const det_cfg *c, int w, int h, int classes,
                      int *node, task_detect_cfg *dc, util_err *err)
{
    nn_shape in = nn_model_node_shape(m, NN_INPUT);
    if (task_detector_heads(m, node, dc, err))
        return util_err_prefix(err, "model: ");
    if (in.w != w || in.h != h || in.c != 3)
        return util_errf(err, "model.input: %dx%dx%d, but the scenes are 3x%dx%d",
                         in.c, in.h, in.w, h, w);
    if (dc->classes != classes)
        return util_errf(err, "model: the heatmap has %d channels for %d classes",
                         dc->classes, classes);
    dc->threshold = (float)c->threshold;
    dc->max_dets = c->max_dets;
    return 0;
}

/* ---- setup --------------------------------------------------------------------- */

static void init_prior(nn_model *m)
{
    /* The heatmap head's bias starts at the prior, so that the focal loss
     * of the many background cells does not swamp the first steps. */
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i);
        if (strcmp(p->name, "heatmap.bias") == 0)
            for (size_t k = 0; k < p->numel; k++)
                p->data[k] = PRIOR_BIAS;
    }
}

static int setup(trainer *t, util_err *err)
{
    const det_cfg *c = &t->cfg;
    if (train_open_data(&c->data, c->validation, c->batch, &t->train, &t->val,
                        &t->ntrain, err))
        return -1;
    if (nn_model_from_json(c->model_json, &t->m, err))
        return util_err_prefix(err, "%s: ", c->file);
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    if (find_heads(t->m, c, w, h, data_classes(t->train), t->node, &t->dc, err))
        return util_err_prefix(err, "%s: ", c->file);
    if (nn_ws_create(t->m, &t->ws, err) || nn_optim_create(t->m, &c->o.opt, &t->opt, err))
        return -1;
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(c->seed, 0));
    nn_model_init(t->m, &rng);
    init_prior(t->m);
    t->sched = train_schedule(&c->o, (long)(t->ntrain / (size_t)c->batch), c->epochs);
    t->perm = malloc(t->ntrain * sizeof *t->perm);
    t->obj = malloc((size_t)c->batch * DATA_MAX_OBJECTS * sizeof *t->obj);
    if (!t->perm || !t->obj)
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
    nn_tensor_free(&t->heat);
    for (int k = 0; k < 3; k++)
        nn_tensor_free(&t->grad[k]);
    free(t->perm);
    free(t->obj);
}

/* ---- targets and loss -------------------------------------------------------------- */

static void load_image(const det_cfg *c, const data_set *ds, size_t i, float *dst)
{
    util_image im;
    data_get(ds, i, &im, NULL);
    float k = (float)(1.0 / (255.0 * c->o.std)), b = (float)(-c->o.mean / c->o.std);
    size_t hw = (size_t)im.w * im.h;
    for (int ch = 0; ch < im.c; ch++)
        for (size_t p = 0; p < hw; p++)
            dst[ch * hw + p] = im.px[p * im.c + ch] * k + b;
}

void train_det_targets(const task_detect_cfg *d, double sigma_min, const data_annot *a,
                       int b, float *heat, train_det_target *obj, int *nobj)
{
    float s = (float)d->stride;
    for (int k = 0; k < a->n; k++) {
        const data_box *bx = &a->box[k];
        float cx = (bx->x0 + bx->x1) / 2.0f / s, cy = (bx->y0 + bx->y1) / 2.0f / s;
        float w = (bx->x1 - bx->x0) / s, h = (bx->y1 - bx->y0) / s;
        int gx = (int)cx, gy = (int)cy;
        gx = gx < d->ow ? gx : d->ow - 1;
        gy = gy < d->oh ? gy : d->oh - 1;
        float sig = fmaxf((float)sigma_min, sqrtf(w * h) / 6.0f);
        float *map = heat + (size_t)a->label[k] * d->oh * d->ow;
        for (int y = 0; y < d->oh; y++)
            for (int x = 0; x < d->ow; x++) {
                float dx = (float)(x - gx), dy = (float)(y - gy);
                float v = expf(-(dx * dx + dy * dy) / (2 * sig * sig));
                map[y * d->ow + x] = fmaxf(map[y * d->ow + x], v);
            }
        obj[(*nobj)++] = (train_det_target){b, gy * d->ow + gx, w, h, cx - (float)gx,
                                            cy - (float)gy};
    }
}

double train_det_focal(const nn_tensor *z, const float *heat, nn_tensor *g, float norm)
{
    double loss = 0;
    size_t n = nn_tensor_numel(z);
    for (size_t i = 0; i < n; i++) {
        float p = 1.0f / (1.0f + expf(-z->data[i]));
        p = fminf(fmaxf(p, 1e-4f), 1.0f - 1e-4f);
        float y = heat[i], q = 1.0f - p;
        if (y >= 1.0f) {
            loss -= q * q * logf(p);
            g->data[i] = q * q * (2 * p * logf(p) - q) / norm;
        } else {
            float w = (1 - y) * (1 - y) * (1 - y) * (1 - y);
            loss -= w * p * p * logf(q);
            g->data[i] = w * p * p * (p - 2 * q * logf(q)) / norm;
        }
    }
    return loss / norm;
}

double train_det_l1(const nn_tensor *z, const train_det_target *obj, int nobj,
                    int which, float weight, nn_tensor *g, float norm)
{
    double loss = 0;
    size_t hw = (size_t)z->h * z->w;
    nn_tensor_zero(g);
    for (int k = 0; k < nobj; k++) {
        const train_det_target *o = &obj[k];
        float want[2] = {which ? o->ox : o->w, which ? o->oy : o->h};
        for (int c = 0; c < 2; c++) {
            size_t at = ((size_t)o->b * 2 + c) * hw + (size_t)o->cell;
            float d = z->data[at] - want[c];
            loss += weight * fabsf(d);
            g->data[at] += (d > 0 ? weight : d < 0 ? -weight : 0) / norm;
        }
    }
    return loss / norm;
}

/* ---- one epoch ----------------------------------------------------------------------- */

typedef struct epoch_stats {
    double heat, size, offset;
    long steps, seen;
    float lr;
} epoch_stats;

static int fill_batch(trainer *t, size_t first, util_err *err)
{
    const det_cfg *c = &t->cfg;
    const task_detect_cfg *d = &t->dc;
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    size_t per = (size_t)ch * h * w, hper = (size_t)d->classes * d->oh * d->ow;
    if (nn_tensor_resize(&t->x, c->batch, ch, h, w, err) ||
        nn_tensor_resize(&t->heat, c->batch, d->classes, d->oh, d->ow, err))
        return -1;
    nn_tensor_zero(&t->heat);
    t->nobj = 0;
    for (int b = 0; b < c->batch; b++) {
        size_t i = t->perm[first + (size_t)b];
        load_image(c, t->train, i, t->x.data + (size_t)b * per);
        data_annot a;
        data_annotation(t->train, i, &a);
        train_det_targets(d, c->sigma_min, &a, b, t->heat.data + (size_t)b * hper, t->obj,
                          &t->nobj);
    }
    return 0;
}

static int train_step(trainer *t, epoch_stats *st, util_rng *rng, util_err *err)
{
    float lr = nn_lr_at(&t->sched, nn_optim_steps(t->opt));
    nn_model_zero_grad(t->m);
    if (nn_forward(t->m, t->ws, &t->x, rng, err))
        return -1;
    const nn_tensor *out[3];
    for (int k = 0; k < 3; k++) {
        out[k] = nn_ws_out(t->ws, t->node[k]);
        if (nn_tensor_resize(&t->grad[k], out[k]->n, out[k]->c, out[k]->h, out[k]->w, err))
            return -1;
    }
    float norm = (float)(t->nobj > 0 ? t->nobj : 1);
    st->heat += train_det_focal(out[0], t->heat.data, &t->grad[0], norm);
    st->size += train_det_l1(out[1], t->obj, t->nobj, 0, (float)t->cfg.size_weight,
                             &t->grad[1], norm);
    st->offset += train_det_l1(out[2], t->obj, t->nobj, 1, (float)t->cfg.offset_weight,
                               &t->grad[2], norm);
    const nn_tensor *g[3] = {&t->grad[0], &t->grad[1], &t->grad[2]};
    if (nn_backward(t->m, t->ws, 3, t->node, g, err))
        return -1;
    nn_optim_step(t->opt, lr);
    st->steps++;
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
        if (fill_batch(t, s * (size_t)t->cfg.batch, err) || train_step(t, st, &rng, err))
            return util_err_prefix(err, "epoch %d: ", e + 1);
    return 0;
}

/* ---- mAP ---------------------------------------------------------------------------- */

/* mAP@0.5 of the model being trained on ds, in inference mode. */
static int evaluate(trainer *t, const data_set *ds, double *map50, util_err *err)
{
    const task_detect_cfg *d = &t->dc;
    size_t n = data_count(ds), hw = (size_t)d->oh * d->ow;
    int w, h, ch;
    data_dims(ds, &w, &h, &ch);
    size_t per = (size_t)ch * h * w;
    task_map *acc;
    task_det *dets = malloc((size_t)d->max_dets * sizeof *dets);
    if (!dets || task_map_create(d->classes, &acc, err)) {
        free(dets);
        return dets ? -1 : util_errf(err, "out of memory");
    }
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += EVAL_CHUNK) {
        int m = (int)(n - at < EVAL_CHUNK ? n - at : EVAL_CHUNK);
        rc = nn_tensor_resize(&t->x, m, ch, h, w, err);
        for (int i = 0; !rc && i < m; i++)
            load_image(&t->cfg, ds, at + (size_t)i, t->x.data + (size_t)i * per);
        rc = rc || nn_infer(t->m, t->ws, &t->x, err);
        const float *hm = rc ? NULL : nn_ws_out(t->ws, t->node[0])->data;
        const float *sz = rc ? NULL : nn_ws_out(t->ws, t->node[1])->data;
        const float *of = rc ? NULL : nn_ws_out(t->ws, t->node[2])->data;
        for (int i = 0; !rc && i < m; i++) {
            int k = task_detect_decode(d, hm + (size_t)i * d->classes * hw,
                                       sz + (size_t)i * 2 * hw, of + (size_t)i * 2 * hw, dets);
            rc = k < 0 ? util_errf(err, "out of memory")
                       : task_map_add_item(acc, (long)(at + (size_t)i), dets, k, ds,
                                           at + (size_t)i, err);
        }
    }
    double m95;
    if (!rc)
        rc = task_map_result(acc, map50, &m95, err);
    task_map_free(acc);
    free(dets);
    return rc;
}

/* ---- the whole run ------------------------------------------------------------------- */

static int run_epochs(trainer *t, int last, util_err *err)
{
    for (int e = t->done; e < last; e++) {
        double t0 = util_now();
        epoch_stats st;
        if (run_epoch(t, e, &st, err))
            return -1;
        double dt = util_now() - t0;
        t->val_map = -1;
        if (t->val && evaluate(t, t->val, &t->val_map, err))
            return -1;
        t->done = e + 1;
        t->seconds += util_now() - t0;
        double k = st.steps ? (double)st.steps : 1;
        train_progress("epoch %3d/%d  heat %.4f  size %.4f  offset %.4f  val mAP@0.5 %.4f  "
                       "lr %.2e  %.0f img/s  %.1f s\n", e + 1, t->cfg.epochs, st.heat / k,
                       st.size / k, st.offset / k, t->val_map, st.lr,
                       (double)st.seen / dt, t->seconds);
        if (train_checkpoint_save(t->cfg.checkpoint, t->m, t->opt, t->cfg.text, t->done,
                                  t->seconds, err))
            return -1;
    }
    return 0;
}

static int save_output(trainer *t, util_err *err)
{
    char mean[32], std[32], thr[32], max[16], seed[32], epochs[16], val[32], secs[32];
    char sig[32], sw[32], ow[32];
    snprintf(sig, sizeof sig, "%.9g", t->cfg.sigma_min);
    snprintf(sw, sizeof sw, "%.9g", t->cfg.size_weight);
    snprintf(ow, sizeof ow, "%.9g", t->cfg.offset_weight);
    snprintf(mean, sizeof mean, "%.9g", t->cfg.o.mean);
    snprintf(std, sizeof std, "%.9g", t->cfg.o.std);
    snprintf(thr, sizeof thr, "%.9g", t->cfg.threshold);
    snprintf(max, sizeof max, "%d", t->cfg.max_dets);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->cfg.seed);
    snprintf(epochs, sizeof epochs, "%d", t->done);
    snprintf(val, sizeof val, "%.4f", t->val_map);
    snprintf(secs, sizeof secs, "%.1f", t->seconds);
    const char *meta[] = {
        "limitnet.task", "detector", "limitnet.model", t->cfg.model_json,
        "limitnet.mean", mean, "limitnet.std", std, "limitnet.threshold", thr,
        "limitnet.max_detections", max, "limitnet.sigma_min", sig,
        "limitnet.size_weight", sw, "limitnet.offset_weight", ow,
        "train.seed", seed, "train.epochs", epochs,
        "train.val_map50", val, "train.seconds", secs, "train.config", t->cfg.text};
    if (train_make_parents(t->cfg.output, err))
        return -1;
    return nn_model_save(t->m, t->cfg.output, meta, sizeof meta / sizeof meta[0] / 2, err);
}

/* Test mAP of the saved file through the task interface. */
static int test_map(const det_cfg *c, double *m50, double *m95, size_t *n, util_err *err)
{
    data_set *ds;
    task_detector *det;
    if (train_open_test(&c->data, &ds, err))
        return -1;
    if (task_detector_load(c->output, &det, err)) {
        data_free(ds);
        return -1;
    }
    task_detect_cfg dc = task_detector_cfg(det);
    *n = data_count(ds);
    util_image *imgs = malloc(*n * sizeof *imgs);
    task_det *dets = malloc(*n * (size_t)dc.max_dets * sizeof *dets);
    int *counts = malloc(*n * sizeof *counts);
    task_map *acc = NULL;
    int rc = imgs && dets && counts ? task_map_create(dc.classes, &acc, err)
                                    : util_errf(err, "out of memory");
    for (size_t i = 0; !rc && i < *n; i++)
        data_get(ds, i, &imgs[i], NULL);
    if (!rc)
        rc = task_detector_detect(det, imgs, *n, dets, counts, err);
    for (size_t i = 0; !rc && i < *n; i++)
        rc = task_map_add_item(acc, (long)i, dets + i * (size_t)dc.max_dets, counts[i], ds,
                               i, err);
    if (!rc)
        rc = task_map_result(acc, m50, m95, err);
    task_map_free(acc);
    free(imgs);
    free(dets);
    free(counts);
    task_detector_free(det);
    data_free(ds);
    return rc;
}

static int start(trainer *t, int want_resume, util_err *err)
{
    if (setup(t, err))
        return -1;
    return want_resume ? train_checkpoint_resume(t->cfg.checkpoint, t->cfg.file, t->cfg.text,
                                                 t->cfg.epochs, t->m, t->opt, &t->done,
                                                 &t->seconds, err)
                       : 0;
}

static int finish(trainer *t, util_err *err)
{
    double m50 = 0, m95 = 0;
    size_t ntest = 0;
    t->val_map = -1;
    if (t->val && evaluate(t, t->val, &t->val_map, err))
        return -1;
    if (save_output(t, err) || test_map(&t->cfg, &m50, &m95, &ntest, err))
        return -1;
    printf("detector: test mAP@0.5 %.4f, mAP@[.5:.95] %.4f (%zu scenes), validation "
           "mAP@0.5 %.4f (%d), %d epochs, %.1f s training, seed %llu\n"
           "weights: %s (%zu parameters, %.2f M MACs per image)\n",
           m50, m95, ntest, t->val_map, t->cfg.validation, t->done, t->seconds,
           (unsigned long long)t->cfg.seed, t->cfg.output, nn_model_param_count(t->m),
           nn_model_macs(t->m) / 1e6);
    return 0;
}

int train_detector_check(const char *config, util_err *err)
{
    det_cfg c;
    nn_model *m = NULL;
    int node[3];
    task_detect_cfg dc;
    int rc = load_config(config, &c, err);
    if (!rc && (nn_model_from_json(c.model_json, &m, err) ||
                find_heads(m, &c, c.data.size, c.data.size, 10, node, &dc, err)))
        rc = util_err_prefix(err, "%s: ", config);
    nn_model_destroy(m);
    free_config(&c);
    return rc ? 2 : 0;
}

int train_detector(const char *config, int want_resume, int stop_after, util_err *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    if (load_config(config, &t.cfg, err)) {
        free_config(&t.cfg);
        return 2;
    }
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
