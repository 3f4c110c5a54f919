/*
 * The LimitNet family, run by
 * `limitnet train limitnet --config FILE [--resume]`.
 *
 * Trains the LimitNet encoder, saliency head and decoder in the paper's
 * three phases (LIMITNET.md, models/limitnet-fmnist.md), then calibrates
 * what both ends of the link share, from training data only: per-channel
 * quantiser ranges, per-channel Huffman code lengths and the prior side
 * grid.
 *
 *   phase 1  reconstruction MSE; a random keep-fraction p ~ U(0, 1) of the
 *            latent survives in channel order (tail drop), the rest is zero;
 *            uniform noise on the kept values stands in for quantisation
 *   phase 2  + bce_weight * BCE(saliency, foreground mask); values now
 *            survive in gradual-score order, computed from the quantised
 *            side grid exactly as the receiver will have it
 *   phase 3  + ce_weight * cross-entropy of the committed classifier on the
 *            reconstruction; the classifier is frozen, so every codec is
 *            scored by the same classifier. With a detector as the cloud
 *            model instead (multi-object scenes), ce_weight times the
 *            detector's own training loss (focal heatmap and L1 box terms,
 *            train/train_impl.h) against the scene's boxes
 *   phase 4  (optional) phase 3 with holes: with chance `holes` per image a
 *            block of up to HOLE_MAX ranks inside the kept prefix is dropped
 *            too, as a lost packet would drop it, so that the decoder
 *            learns to do without any packet, the first included; and
 *            with `packet_loss` L, the kept prefix is cut into blocks of
 *            PKT_MIN..HOLE_MAX values (one length per image, as packets
 *            are), each lost with a rate drawn per image from [0, L], so
 *            the decoder also sees several packets lost at once
 *   joint    a phase 3 or 4 with "joint": true also updates the classifier
 *            (the public code's phase 3 optimises every parameter but the
 *            saliency head's), with the phase's rate; it runs in inference
 *            mode (batch norm on its running statistics, no dropout), as
 *            the frozen one does. The result is a pair: the LimitNet
 *            weights and, in "classifier_output", its own classifier,
 *            written after every phase so that --resume takes it up.
 *
 * The random choices of epoch e of phase p (counted from 0) come from
 * mix(seed, 1 + 1000 * p + e) (train_epoch_start); a checkpoint is written
 * after every phase, and --resume skips the phases it holds: its config
 * must match this one's first phases, so a config that adds a phase
 * continues a finished run. A phase is short, so the optimiser state is
 * not kept across phases.
 * Only the first (train count - validation) training items are used; the
 * rest are held out for the progress lines.
 */
#include "train/train_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/limitnet.h"
#include "data/data.h"
#include "nn/nn.h"
#include "tasks/task.h"

#define MAX_PHASES 4 /* the paper's three, and an optional fine-tune with holes */
#define VAL_ITEMS 1000
#define CHUNK 250
#define HOLE_MAX 128 /* longest hole, in values: about two 51-byte packets */
#define PKT_MIN 64   /* shortest block of packet_loss: a 51-byte packet holds 70-120 */

typedef struct phase_cfg {
    int epochs;
    double lr;
    double holes; /* chance that a block of top ranks is dropped as well */
    double packet_loss; /* most per-block loss rate (phase 4) */
    int decoder_only;   /* only the decoder learns */
    int joint;          /* the classifier learns too */
} phase_cfg;

typedef struct ln_cfg {
    const char *file;
    char *text;
    char *enc, *sal, *dec;
    train_dataset data;
    char classifier[TRAIN_PATH_LEN], detector[TRAIN_PATH_LEN]; /* one of them */
    char output[TRAIN_PATH_LEN], checkpoint[TRAIN_PATH_LEN];
    char classifier_output[TRAIN_PATH_LEN]; /* joint phases: its classifier */
    uint64_t seed;
    int batch, validation, grid, bits;
    double noise, bce_weight, ce_weight, foreground, clip;
    phase_cfg phase[MAX_PHASES];
    int nphases;
} ln_cfg;

/* The frozen cloud model, run with gradients to its input: a classifier,
 * or a detector with its heads, their grid and the loss it trained with. */
typedef struct cloud {
    nn_model *m;
    nn_ws *ws;
    nn_optim *opt;              /* joint phases: the classifier's */
    char *spec;                 /* its architecture, for a joint pair's file */
    float mean, std;
    int det;
    int node[3];                /* heatmap, size, offset */
    task_detect_cfg dc;
    double sigma_min, size_weight, offset_weight;
    nn_tensor heat, grad[3];
    train_det_target *obj;
} cloud;

typedef struct ln_trainer {
    ln_cfg cfg;
    data_set *train, *val;
    size_t ntrain;
    codec_ln *ln;
    codec_ln_geom g;
    nn_ws *wenc, *wsal, *wdec;
    nn_optim *oenc, *osal, *odec;
    cloud cls;
    nn_tensor x, t, zt, mask, gy, gz, gs, gl, tmp;
    int *labels, *order;
    uint8_t *lost; /* by rank: dropped by lose() */
    size_t *items;   /* the batch's items in batch_ds, for their boxes */
    const data_set *batch_ds;
    uint8_t *cells;
    size_t *perm;
    int done;        /* phases completed */
    double seconds;
} ln_trainer;

/* ---- config ------------------------------------------------------------------ */

static int parse_phases(const cJSON *root, ln_cfg *c, util_err *err)
{
    static const char *const keys[] = {"epochs", "lr", "holes", "packet_loss",
                                        "decoder_only", "joint", NULL};
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(root, "phases");
    int n = cJSON_IsArray(ph) ? cJSON_GetArraySize(ph) : 0;
    if (n < 3 || n > MAX_PHASES)
        return util_errf(err, "phases: expected a list of 3 or %d objects", MAX_PHASES);
    c->nphases = n;
    int i = 0;
    for (const cJSON *p = ph->child; p; p = p->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "phases[%d]", i);
        if (!cJSON_IsObject(p))
            return util_errf(err, "%s: expected an object", where);
        if (util_json_keys(p, where, keys, err) ||
            train_config_int(p, where, "epochs", 1, 0, 1000, &c->phase[i].epochs, err) ||
            util_json_num(p, where, "lr", 1e-3, 1e-9, 1, &c->phase[i].lr, err) ||
            util_json_num(p, where, "holes", 0, 0, 1, &c->phase[i].holes, err) ||
            util_json_num(p, where, "packet_loss", 0, 0, 0.9, &c->phase[i].packet_loss, err) ||
            util_json_bool(p, where, "decoder_only", 0, &c->phase[i].decoder_only, err) ||
            util_json_bool(p, where, "joint", 0, &c->phase[i].joint, err))
            return -1;
        if (c->phase[i].joint && i < 2)
            return util_errf(err, "%s.joint: only phases 3 and 4 have a classifier to "
                             "train", where);
    }
    return 0;
}

static int model_json(const cJSON *root, const char *key, char **out,
                      util_err *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsObject(m))
        return util_errf(err, "%s: expected a model object", key);
    if (!(*out = cJSON_PrintUnformatted(m)))
        return util_errf(err, "out of memory");
    return 0;
}

static int parse_config(const cJSON *root, ln_cfg *c, util_err *err)
{
    static const char *const keys[] = {
        "task", "dataset", "data_dir", "seed", "batch", "validation",
        "classifier", "detector", "grid", "bits", "noise", "bce_weight", "ce_weight",
        "foreground", "clip_percentile", "phases", "output", "checkpoint",
        "classifier_output", "encoder", "saliency", "decoder", NULL};
    char task[32];
    double seed;
    if (util_json_keys(root, "", keys, err) ||
        util_json_str(root, "", "task", "", task, sizeof task, err) ||
        train_parse_dataset(root, &c->data, err) ||
        util_json_num(root, "", "seed", 1, 0, 9007199254740991.0, &seed, err) ||
        train_config_int(root, "", "batch", 64, 1, 65536, &c->batch, err) ||
        train_config_int(root, "", "validation", 5000, 0, 1000000, &c->validation, err) ||
        util_json_str(root, "", "classifier", "", c->classifier, sizeof c->classifier, err) ||
        util_json_str(root, "", "detector", "", c->detector, sizeof c->detector, err) ||
        train_config_int(root, "", "grid", 4, 1, CODEC_LN_MAX_GRID, &c->grid, err) ||
        train_config_int(root, "", "bits", 6, 1, CODEC_LN_MAX_BITS, &c->bits, err) ||
        util_json_num(root, "", "noise", 0.01, 0, 10, &c->noise, err) ||
        util_json_num(root, "", "bce_weight", 0.05, 0, 100, &c->bce_weight, err) ||
        util_json_num(root, "", "ce_weight", 1, 0, 100, &c->ce_weight, err) ||
        util_json_num(root, "", "foreground", 0.1, 0, 1, &c->foreground, err) ||
        util_json_num(root, "", "clip_percentile", 99.9, 50, 100, &c->clip, err) ||
        util_json_str(root, "", "output", NULL, c->output, sizeof c->output, err) ||
        util_json_str(root, "", "checkpoint", NULL, c->checkpoint, sizeof c->checkpoint, err) ||
        util_json_str(root, "", "classifier_output", "", c->classifier_output,
                      sizeof c->classifier_output, err) ||
        parse_phases(root, c, err) || model_json(root, "encoder", &c->enc, err) ||
        model_json(root, "saliency", &c->sal, err) ||
        model_json(root, "decoder", &c->dec, err))
        return -1;
    if (strcmp(task, "limitnet") != 0)
        return util_errf(err, "task: expected \"limitnet\"");
    if (!c->classifier[0] == !c->detector[0])
        return util_errf(err, "classifier, detector: name exactly one, the frozen "
                         "cloud model of phase 3");
    c->seed = (uint64_t)seed;
    int joint = 0;
    for (int i = 0; i < c->nphases; i++)
        joint |= c->phase[i].joint;
    if (joint && (c->detector[0] || !c->classifier_output[0]))
        return util_errf(err, "classifier_output: a joint phase needs a classifier "
                         "and this path for the one it trains");
    if (!joint && c->classifier_output[0])
        return util_errf(err, "classifier_output: no phase is joint");
    return 0;
}

/* The config as the checkpoint records it: without the calibration keys
 * and the output path, which do not decide the weights, and with only the
 * first `phases` phases (-1: all), so that a checkpoint can be continued
 * by a config that adds a phase. NULL when out of memory. */
static char *training_text(const cJSON *root, int phases)
{
    /* and where the outputs go, a joint pair's classifier's included */
    static const char *const calibration[] = {"bits", "clip_percentile", "output",
                                              "checkpoint", "classifier_output", NULL};
    cJSON *copy = cJSON_Duplicate(root, 1);
    for (int i = 0; copy && calibration[i]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(copy, calibration[i]);
    cJSON *ph = copy ? cJSON_GetObjectItemCaseSensitive(copy, "phases") : NULL;
    while (phases >= 0 && cJSON_IsArray(ph) && cJSON_GetArraySize(ph) > phases)
        cJSON_DeleteItemFromArray(ph, cJSON_GetArraySize(ph) - 1);
    char *text = copy ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    return text;
}

static int load_config(const char *path, ln_cfg *c, util_err *err)
{
    memset(c, 0, sizeof *c);
    c->file = path;
    cJSON *root = NULL;
    int rc = util_json_load(path, &root, err);
    if (!rc)
        rc = parse_config(root, c, err);
    /* The checkpoint records what decides the weights; the calibration
     * keys and the output path do not, so --resume may recalibrate with
     * other quantiser settings from the same training. */
    if (!rc && !(c->text = training_text(root, -1)))
        rc = util_errf(err, "out of memory");
    cJSON_Delete(root);
    return rc ? util_err_prefix(err, "%s: ", path) : 0;
}

static void free_config(ln_cfg *c)
{
    cJSON_free(c->text);
    cJSON_free(c->enc);
    cJSON_free(c->sal);
    cJSON_free(c->dec);
}

/* ---- setup ------------------------------------------------------------------- */

/* A detector's heads, their grid and its loss weights (defaults where an
 * older file does not say). */
static int detector_heads(cloud *cl, const nn_st_file *f, util_err *err)
{
    if (task_detector_heads(cl->m, cl->node, &cl->dc, err))
        return -1;
    double thr, max;
    if (nn_st_meta_num(f, "limitnet.threshold", 0, 0, 1, &thr, err) ||
        nn_st_meta_num(f, "limitnet.max_detections", 1, 1, TASK_DETECT_MAX, &max, err))
        return -1;
    cl->dc.threshold = (float)thr;
    cl->dc.max_dets = (int)max;
    double *w[3] = {&cl->sigma_min, &cl->size_weight, &cl->offset_weight};
    static const char *const keys[3] = {"limitnet.sigma_min", "limitnet.size_weight",
                                        "limitnet.offset_weight"};
    static const double def[3] = {0.5, 0.1, 1.0};
    for (int k = 0; k < 3; k++) {
        *w[k] = def[k];
        if (nn_st_meta(f, keys[k]) && nn_st_meta_num(f, keys[k], 0, 0, 100, w[k], err))
            return -1;
    }
    return 0;
}

static int load_cloud(cloud *cl, const char *path, int det, util_err *err)
{
    nn_st_file *f;
    if (nn_st_open(path, &f, err))
        return -1;
    const char *spec = nn_st_meta(f, "limitnet.model"), *task = nn_st_meta(f, "limitnet.task");
    double mean, std;
    int rc = 0;
    if (!spec || !nn_st_meta(f, "limitnet.mean") || !nn_st_meta(f, "limitnet.std") ||
        (det && (!task || strcmp(task, "detector") != 0)))
        rc = util_errf(err, "%s: not a %s file", path, det ? "detector" : "classifier");
    /* Checked as task_classifier_load checks them: the file may say "abc",
     * or 1e300, which is infinity as a float. */
    else if (nn_st_meta_num(f, "limitnet.mean", 0, -TASK_MEAN_MAX, TASK_MEAN_MAX,
                            &mean, err) ||
             nn_st_meta_num(f, "limitnet.std", 0, TASK_STD_MIN, TASK_STD_MAX, &std,
                            err))
        rc = -1;
    else if (nn_model_from_json(spec, &cl->m, err) ||
             nn_st_load_model(f, cl->m, err) || nn_ws_create(cl->m, &cl->ws, err) ||
             (det && detector_heads(cl, f, err)))
        rc = util_err_prefix(err, "%s: ", path);
    if (!rc && !(cl->spec = malloc(strlen(spec) + 1)))
        rc = util_errf(err, "out of memory");
    if (!rc) {
        memcpy(cl->spec, spec, strlen(spec) + 1);
        cl->mean = (float)mean;
        cl->std = (float)std;
        cl->det = det;
        nn_ws_input_grad(cl->ws, 1);
    }
    nn_st_close(f);
    return rc;
}

static int open_data(ln_trainer *t, util_err *err)
{
    const ln_cfg *c = &t->cfg;
    return train_open_data(&c->data, c->validation, c->batch,
                           &t->train, &t->val, &t->ntrain, err);
}

static int make_optims(ln_trainer *t, int joint, util_err *err)
{
    nn_optim_cfg o = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 0};
    nn_optim_destroy(t->oenc);
    nn_optim_destroy(t->osal);
    nn_optim_destroy(t->odec);
    nn_optim_destroy(t->cls.opt);
    t->oenc = t->osal = t->odec = t->cls.opt = NULL;
    return nn_optim_create(codec_ln_encoder(t->ln), &o, &t->oenc, err) ||
                   nn_optim_create(codec_ln_saliency(t->ln), &o, &t->osal, err) ||
                   nn_optim_create(codec_ln_decoder(t->ln), &o, &t->odec, err) ||
                   (joint && nn_optim_create(t->cls.m, &o, &t->cls.opt, err))
               ? -1 : 0;
}

static int setup(ln_trainer *t, util_err *err)
{
    const ln_cfg *c = &t->cfg;
    int det = c->detector[0] != 0;
    if (open_data(t, err) ||
        load_cloud(&t->cls, det ? c->detector : c->classifier, det, err))
        return -1;
    if (codec_ln_create(c->enc, c->sal, c->dec, c->grid, c->bits, &t->ln, err))
        return util_err_prefix(err, "%s: ", c->file);
    t->g = codec_ln_geometry(t->ln);
    int w, h, ch;
    data_dims(t->train, &w, &h, &ch);
    if (t->g.in_c != ch || t->g.in_h != h || t->g.in_w != w)
        return util_errf(err, "%s: encoder.input: %dx%dx%d, but %s images are %dx%dx%d",
                         c->file, t->g.in_c, t->g.in_h, t->g.in_w, c->data.name, ch, h, w);
    if (nn_ws_create(codec_ln_encoder(t->ln), &t->wenc, err) ||
        nn_ws_create(codec_ln_saliency(t->ln), &t->wsal, err) ||
        nn_ws_create(codec_ln_decoder(t->ln), &t->wdec, err))
        return -1;
    nn_ws_input_grad(t->wsal, 1);
    nn_ws_input_grad(t->wdec, 1);
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(c->seed, 0));
    nn_model_init(codec_ln_encoder(t->ln), &rng);
    nn_model_init(codec_ln_saliency(t->ln), &rng);
    nn_model_init(codec_ln_decoder(t->ln), &rng);
    size_t b = (size_t)(c->batch > CHUNK ? c->batch : CHUNK);
    t->labels = malloc(b * sizeof *t->labels);
    t->items = malloc(b * sizeof *t->items);
    t->cls.obj = malloc(b * DATA_MAX_OBJECTS * sizeof *t->cls.obj);
    t->order = malloc((size_t)t->g.n * sizeof *t->order);
    t->lost = malloc((size_t)t->g.n);
    t->cells = malloc(b * CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID);
    t->perm = malloc(t->ntrain * sizeof *t->perm);
    if (!t->labels || !t->items || !t->cls.obj || !t->order || !t->lost || !t->cells || !t->perm)
        return util_errf(err, "out of memory");
    if (det && (t->cls.dc.classes < data_classes(t->train) ||
                t->cls.dc.oh * t->cls.dc.stride != h || t->cls.dc.ow * t->cls.dc.stride != w))
        return util_errf(err, "%s: the detector's heads do not fit %dx%d scenes of %d "
                         "classes", c->detector, w, h, data_classes(t->train));
    return 0;
}

static void teardown(ln_trainer *t)
{
    data_free(t->train);
    data_free(t->val);
    nn_ws_destroy(t->wenc);
    nn_ws_destroy(t->wsal);
    nn_ws_destroy(t->wdec);
    nn_optim_destroy(t->oenc);
    nn_optim_destroy(t->osal);
    nn_optim_destroy(t->odec);
    nn_ws_destroy(t->cls.ws);
    nn_model_destroy(t->cls.m);
    nn_optim_destroy(t->cls.opt);
    free(t->cls.spec);
    nn_tensor_free(&t->cls.heat);
    for (int k = 0; k < 3; k++)
        nn_tensor_free(&t->cls.grad[k]);
    free(t->cls.obj);
    free(t->items);
    codec_ln_free(t->ln);
    nn_tensor *ts[] = {&t->x, &t->t, &t->zt, &t->mask, &t->gy, &t->gz, &t->gs,
                       &t->gl, &t->tmp};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        nn_tensor_free(ts[i]);
    free(t->labels);
    free(t->order);
    free(t->lost);
    free(t->cells);
    free(t->perm);
}

/* ---- batches ------------------------------------------------------------------ */

/* The saliency teacher of one item, m (h x w latent cells): the fraction
 * of each cell's pixels that belong to an object. Scenes carry their
 * objects' masks; a Fashion-MNIST item fills its frame, so its own pixels
 * above the foreground threshold are the object. */
static void teacher(const ln_trainer *t, const data_set *ds, size_t k,
                    const util_image *im, float *m)
{
    const codec_ln_geom *g = &t->g;
    int sy = g->in_h / g->h, sx = g->in_w / g->w;
    float thr = (float)(t->cfg.foreground * 255.0), unit = 1.0f / (float)(sy * sx);
    data_annot a;
    int have = data_annotation(ds, k, &a) == 0;
    memset(m, 0, (size_t)g->h * g->w * sizeof *m);
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            size_t at = (size_t)y * im->w + x;
            int cy = y / sy, cx = x / sx;
            int on = have ? a.mask[at] != 0 : im->px[at * im->c] > thr;
            if (on && cy < g->h && cx < g->w)
                m[cy * g->w + cx] += unit;
        }
}

/* Items idx[0..n-1] of ds into t->x (pixels in [0, 1]) and t->t (their
 * saliency teachers). */
static int fill(ln_trainer *t, const data_set *ds, const size_t *idx,
                size_t first, int n, util_err *err)
{
    const codec_ln_geom *g = &t->g;
    if (nn_tensor_resize(&t->x, n, g->in_c, g->in_h, g->in_w, err) ||
        nn_tensor_resize(&t->t, n, 1, g->h, g->w, err))
        return -1;
    size_t per = (size_t)g->in_c * g->in_h * g->in_w;
    t->batch_ds = ds;
    for (int i = 0; i < n; i++) {
        util_image im;
        size_t k = idx ? idx[first + (size_t)i] : first + (size_t)i;
        data_get(ds, k, &im, &t->labels[i]);
        t->items[i] = k;
        float *x = t->x.data + (size_t)i * per;
        for (int ch = 0; ch < im.c; ch++)
            for (int y = 0; y < im.h; y++)
                for (int xx = 0; xx < im.w; xx++)
                    x[((size_t)ch * im.h + y) * im.w + xx] =
                        im.px[((size_t)y * im.w + xx) * im.c + ch] / 255.0f;
        teacher(t, ds, k, &im, t->t.data + (size_t)i * g->h * g->w);
    }
    return 0;
}

/* Marks in lost[0..k) the ranks that lost packets drop besides the tail:
 * one hole with chance holes, and blocks at a rate up to packet_loss. */
static void lose(const phase_cfg *ph, int k, uint8_t *lost, util_rng *rng)
{
    memset(lost, 0, (size_t)k);
    if (ph->holes > 0 && k > 1 && util_rng_uniform(rng) < ph->holes) {
        /* Half the holes take the first ranks: that packet is the one the
         * decoder most depends on. */
        int a = util_rng_below(rng, 2) ? 0 : (int)util_rng_below(rng, (uint64_t)k);
        int most = k - a < HOLE_MAX ? k - a : HOLE_MAX;
        memset(lost + a, 1, (size_t)(1 + (int)util_rng_below(rng, (uint64_t)most)));
    }
    if (ph->packet_loss > 0) {
        double rate = ph->packet_loss * util_rng_uniform(rng);
        int len = PKT_MIN + (int)util_rng_below(rng, HOLE_MAX - PKT_MIN + 1);
        for (int a = 0; a < k; a += len)
            if (util_rng_uniform(rng) < rate)
                memset(lost + a, 1, (size_t)(a + len < k ? len : k - a));
    }
}

/* zt = (z + noise) on the first k values of each sample's send order, 0
 * elsewhere and where lose() says; mask records which values survived.
 * Scores come from the saliency output's side grid when sal is not NULL.
 * k is drawn from rng, or fixed at keep * n when keep >= 0; ph (NULL for
 * none) adds the phase's losses. */
static int drop(ln_trainer *t, const nn_tensor *z, const nn_tensor *sal,
                double keep, const phase_cfg *ph, util_rng *rng, util_err *err)
{
    const codec_ln_geom *g = &t->g;
    int b = z->n, hw = g->h * g->w;
    if (nn_tensor_resize(&t->zt, b, g->c, g->h, g->w, err) ||
        nn_tensor_resize(&t->mask, b, g->c, g->h, g->w, err))
        return -1;
    nn_tensor_zero(&t->zt);
    nn_tensor_zero(&t->mask);
    for (int i = 0; i < b; i++) {
        uint8_t *cells = NULL;
        if (sal) {
            cells = t->cells + (size_t)i * CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID;
            codec_ln_side(g, sal->data + (size_t)i * hw, cells);
        }
        if (codec_ln_order(g, cells, t->order, err))
            return -1;
        double p = keep >= 0 ? keep : util_rng_uniform(rng);
        int k = (int)lround(p * g->n);
        if (ph)
            lose(ph, k, t->lost, rng);
        const float *zi = z->data + (size_t)i * g->n;
        float *o = t->zt.data + (size_t)i * g->n, *m = t->mask.data + (size_t)i * g->n;
        for (int r = 0; r < k; r++) {
            if (ph && t->lost[r])
                continue;
            int at = t->order[r];
            float u = rng ? (float)((2 * util_rng_uniform(rng) - 1) * t->cfg.noise) : 0;
            o[at] = zi[at] + u;
            m[at] = 1;
        }
    }
    return 0;
}

/* y (the decoder's output, in [0, 1]) normalised for the cloud model into
 * t->tmp, and run through it. */
static int cloud_forward(ln_trainer *t, const nn_tensor *y, util_err *err)
{
    cloud *cl = &t->cls;
    if (nn_tensor_resize(&t->tmp, y->n, y->c, y->h, y->w, err))
        return -1;
    for (size_t i = 0; i < nn_tensor_numel(y); i++)
        t->tmp.data[i] = (y->data[i] - cl->mean) / cl->std;
    return nn_infer(cl->m, cl->ws, &t->tmp, err);
}

/* The frozen detector's loss on the batch's reconstructions against their
 * scenes' boxes (in its logits' gradients, cl->grad). */
static int det_loss(ln_trainer *t, float *loss, util_err *err)
{
    cloud *cl = &t->cls;
    const task_detect_cfg *d = &cl->dc;
    int b = t->tmp.n, nobj = 0;
    size_t hper = (size_t)d->classes * d->oh * d->ow;
    if (nn_tensor_resize(&cl->heat, b, d->classes, d->oh, d->ow, err))
        return -1;
    nn_tensor_zero(&cl->heat);
    for (int i = 0; i < b; i++) {
        data_annot a;
        data_annotation(t->batch_ds, t->items[i], &a);
        train_det_targets(d, cl->sigma_min, &a, i, cl->heat.data + (size_t)i * hper,
                          cl->obj, &nobj);
    }
    const nn_tensor *out[3];
    for (int k = 0; k < 3; k++) {
        out[k] = nn_ws_out(cl->ws, cl->node[k]);
        if (nn_tensor_resize(&cl->grad[k], out[k]->n, out[k]->c, out[k]->h, out[k]->w, err))
            return -1;
    }
    float norm = (float)(nobj > 0 ? nobj : 1);
    *loss = (float)(train_det_focal(out[0], cl->heat.data, &cl->grad[0], norm) +
                    train_det_l1(out[1], cl->obj, nobj, 0, (float)cl->size_weight,
                                 &cl->grad[1], norm) +
                    train_det_l1(out[2], cl->obj, nobj, 1, (float)cl->offset_weight,
                                 &cl->grad[2], norm));
    return 0;
}

/* Adds ce_weight * d(loss)/d(pixels) of the frozen cloud model into t->gy:
 * the classifier's cross-entropy, or the detector's loss; *loss and *hits
 * (the classifier's) report it. y is the decoder output in [0, 1]. */
static int cloud_grad(ln_trainer *t, const nn_tensor *y, float *loss, int *hits,
                      util_err *err)
{
    cloud *cl = &t->cls;
    size_t n = nn_tensor_numel(y);
    if (cloud_forward(t, y, err))
        return -1;
    if (cl->det) {
        const nn_tensor *g[3] = {&cl->grad[0], &cl->grad[1], &cl->grad[2]};
        if (det_loss(t, loss, err) || nn_backward(cl->m, cl->ws, 3, cl->node, g, err))
            return -1;
    } else {
        int out = nn_model_nodes(cl->m) - 1;
        const nn_tensor *gl = &t->gl;
        if (nn_loss_softmax_ce(nn_ws_out(cl->ws, out), t->labels, 0, loss, &t->gl,
                               hits, err) ||
            nn_backward(cl->m, cl->ws, 1, &out, &gl, err))
            return -1;
    }
    const nn_tensor *gin = nn_ws_grad(cl->ws, NN_INPUT);
    float k = (float)t->cfg.ce_weight / cl->std;
    for (size_t i = 0; i < n; i++)
        t->gy.data[i] += k * gin->data[i];
    return 0;
}

typedef struct step_stats {
    double mse, bce, ce;
    long hits, seen;
} step_stats;

static int last(const nn_model *m)
{
    return nn_model_nodes(m) - 1;
}

/* The encoder's and the saliency head's share of a step, after the
 * decoder's backward pass: the decoder's input gradient where values
 * survived, plus (phase 2 on) the saliency head's BCE against its target
 * in t->t; s is the saliency output. */
static int device_backward(ln_trainer *t, int phase, const nn_tensor *s, float lr,
                           float *bce, util_err *err)
{
    nn_model *enc = codec_ln_encoder(t->ln), *sal = codec_ln_saliency(t->ln);
    int le = last(enc), ls = last(sal);
    const nn_tensor *gzt = nn_ws_grad(t->wdec, NN_INPUT);
    if (nn_tensor_resize(&t->gz, t->x.n, t->g.c, t->g.h, t->g.w, err))
        return -1;
    size_t nz = nn_tensor_numel(&t->gz);
    for (size_t i = 0; i < nz; i++)
        t->gz.data[i] = gzt->data[i] * t->mask.data[i];
    if (phase >= 2) {
        if (nn_loss_bce(s, &t->t, bce, &t->gs, err))
            return -1;
        size_t ns = nn_tensor_numel(&t->gs);
        for (size_t i = 0; i < ns; i++)
            t->gs.data[i] *= (float)t->cfg.bce_weight;
        const nn_tensor *gs = &t->gs;
        if (nn_backward(sal, t->wsal, 1, &ls, &gs, err))
            return -1;
        const nn_tensor *gzs = nn_ws_grad(t->wsal, NN_INPUT);
        for (size_t i = 0; i < nz; i++)
            t->gz.data[i] += gzs->data[i];
        nn_optim_step(t->osal, lr);
    }
    const nn_tensor *gz = &t->gz;
    if (nn_backward(enc, t->wenc, 1, &le, &gz, err))
        return -1;
    nn_optim_step(t->oenc, lr);
    return 0;
}

/* One optimisation step of the given phase (1..4) on the batch in t->x. */
static int train_step(ln_trainer *t, int phase, float lr, util_rng *rng,
                      step_stats *st, util_err *err)
{
    nn_model *enc = codec_ln_encoder(t->ln), *sal = codec_ln_saliency(t->ln),
             *dec = codec_ln_decoder(t->ln);
    int le = last(enc), ls = last(sal), ld = last(dec), b = t->x.n;
    float mse, bce = 0, ce = 0;
    int hits = 0;
    int joint = t->cfg.phase[phase - 1].joint;
    nn_model_zero_grad(enc);
    nn_model_zero_grad(sal);
    nn_model_zero_grad(dec);
    if (joint)
        nn_model_zero_grad(t->cls.m);
    if (nn_forward(enc, t->wenc, &t->x, rng, err))
        return -1;
    const nn_tensor *z = nn_ws_out(t->wenc, le), *s = NULL;
    if (phase >= 2) {
        if (nn_forward(sal, t->wsal, z, rng, err))
            return -1;
        s = nn_ws_out(t->wsal, ls);
    }
    if (drop(t, z, s, -1, &t->cfg.phase[phase - 1], rng, err) ||
        nn_forward(dec, t->wdec, &t->zt, rng, err))
        return -1;
    const nn_tensor *y = nn_ws_out(t->wdec, ld);
    if (nn_loss_mse(y, &t->x, &mse, &t->gy, err) ||
        (phase >= 3 && cloud_grad(t, y, &ce, &hits, err)))
        return -1;
    const nn_tensor *gy = &t->gy;
    if (nn_backward(dec, t->wdec, 1, &ld, &gy, err))
        return -1;
    /* decoder_only: the device side (encoder, saliency head, and so the
     * quantiser and coder tables calibrated from them) stays as it is, so
     * the packets are the same bytes and only the cloud changes. */
    if (!t->cfg.phase[phase - 1].decoder_only &&
        device_backward(t, phase, s, lr, &bce, err))
        return -1;
    nn_optim_step(t->odec, lr);
    if (joint) /* cloud_grad left the classifier's gradients */
        nn_optim_step(t->cls.opt, lr);
    st->mse += mse * b;
    st->bce += bce * b;
    st->ce += ce * b;
    st->hits += hits;
    st->seen += b;
    return 0;
}

/* ---- validation ------------------------------------------------------------------ */

/* Adds the detections in the cloud detector's output for the m items
 * [at, at + m) of the held-out set to acc. */
static int score_detections(ln_trainer *t, size_t at, int m, task_map *acc, util_err *err)
{
    cloud *cl = &t->cls;
    const task_detect_cfg *d = &cl->dc;
    size_t hw = (size_t)d->oh * d->ow;
    task_det dets[TASK_DETECT_MAX];
    const float *hm = nn_ws_out(cl->ws, cl->node[0])->data,
                *sz = nn_ws_out(cl->ws, cl->node[1])->data,
                *of = nn_ws_out(cl->ws, cl->node[2])->data;
    for (int i = 0; i < m; i++) {
        int k = task_detect_decode(d, hm + (size_t)i * d->classes * hw, sz + (size_t)i * 2 * hw,
                                   of + (size_t)i * 2 * hw, dets);
        if (k < 0)
            return util_errf(err, "out of memory");
        if (task_map_add_item(acc, (long)(at + (size_t)i), dets, k, t->val, at + (size_t)i,
                              err))
            return -1;
    }
    return 0;
}

/* Mean PSNR (dB) of the m reconstructions in y against t->x. */
static double psnr_sum(const ln_trainer *t, const nn_tensor *y, int m)
{
    double sum = 0;
    size_t per = nn_tensor_numel(y) / (size_t)m;
    for (int i = 0; i < m; i++) {
        double se = 0;
        for (size_t k = 0; k < per; k++) {
            double d = 255.0 * ((double)y->data[i * per + k] - t->x.data[i * per + k]);
            se += d * d;
        }
        se /= (double)per;
        sum += se > 0 ? 10 * log10(255.0 * 255.0 / se) : 99;
    }
    return sum;
}

/* PSNR (dB, mean over items) and the cloud model's score (top-1, or the
 * detector's mAP@0.5) of the float model (no quantiser) on the first
 * VAL_ITEMS held-out items at keep-fraction keep. */
static int validate(ln_trainer *t, int saliency, double keep, double *psnr,
                    double *acc, util_err *err)
{
    size_t n = data_count(t->val);
    n = n < VAL_ITEMS ? n : VAL_ITEMS;
    double sum = 0;
    long hits = 0;
    const nn_model *enc = codec_ln_encoder(t->ln), *sal = codec_ln_saliency(t->ln),
                   *dec = codec_ln_decoder(t->ln);
    task_map *map = NULL;
    if (t->cls.det && task_map_create(t->cls.dc.classes, &map, err))
        return -1;
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += CHUNK) {
        int m = (int)(n - at < CHUNK ? n - at : CHUNK), h = 0;
        float loss;
        rc = fill(t, t->val, NULL, at, m, err) || nn_infer(enc, t->wenc, &t->x, err);
        const nn_tensor *z = rc ? NULL : nn_ws_out(t->wenc, last(enc)), *s = NULL;
        if (!rc && saliency) {
            rc = nn_infer(sal, t->wsal, z, err);
            s = rc ? NULL : nn_ws_out(t->wsal, last(sal));
        }
        rc = rc || drop(t, z, s, keep, NULL, NULL, err) || nn_infer(dec, t->wdec, &t->zt, err);
        const nn_tensor *y = rc ? NULL : nn_ws_out(t->wdec, last(dec));
        if (!rc) {
            sum += psnr_sum(t, y, m);
            rc = cloud_forward(t, y, err);
        }
        if (!rc && map)
            rc = score_detections(t, at, m, map, err);
        else if (!rc)
            rc = nn_loss_softmax_ce(nn_ws_out(t->cls.ws, last(t->cls.m)), t->labels, 0,
                                    &loss, NULL, &h, err);
        hits += h;
    }
    *psnr = sum / (double)n;
    *acc = (double)hits / (double)n;
    if (!rc && map)
        rc = task_map_result(map, acc, NULL, err);
    task_map_free(map);
    return rc;
}

static void report_val(ln_trainer *t, int phase, util_err *err)
{
    static const double keeps[] = {0.05, 0.1, 0.25, 1.0};
    if (!t->val)
        return;
    train_progress("   val (float, %d items):", VAL_ITEMS);
    for (size_t i = 0; i < sizeof keeps / sizeof keeps[0]; i++) {
        double psnr, acc;
        if (validate(t, phase >= 2, keeps[i], &psnr, &acc, err))
            return;
        train_progress("  keep %.2f: %.2f dB %.1f%%%s", keeps[i], psnr, 100 * acc,
                       t->cls.det ? " mAP@0.5" : "");
    }
    train_progress("\n");
}

/* ---- phases and checkpoints ------------------------------------------------------- */

static int save(ln_trainer *t, const char *path, util_err *err)
{
    char phase[16], secs[32], seed[32];
    snprintf(phase, sizeof phase, "%d", t->done);
    snprintf(secs, sizeof secs, "%.1f", t->seconds);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->cfg.seed);
    const char *meta[] = {"train.config", t->cfg.text, "train.phases", phase,
                          "train.seconds", secs, "train.seed", seed};
    return train_make_parents(path, err) ||
                   codec_ln_save(t->ln, path, meta, sizeof meta / sizeof meta[0] / 2, err)
               ? -1 : 0;
}

/* Whether one of the first n phases trained the classifier. */
static int joint_done(const ln_cfg *c, int n)
{
    for (int i = 0; i < n; i++)
        if (c->phase[i].joint)
            return 1;
    return 0;
}

/* The classifier of a joint pair, as a classifier file that the runner
 * loads like any other (a codec entry's own task.classifier). */
static int save_classifier(ln_trainer *t, util_err *err)
{
    const cloud *cl = &t->cls;
    char mean[32], std[32], phase[16];
    snprintf(mean, sizeof mean, "%.9g", cl->mean);
    snprintf(std, sizeof std, "%.9g", cl->std);
    snprintf(phase, sizeof phase, "%d", t->done);
    const char *meta[] = {"limitnet.task", "classifier", "limitnet.model", cl->spec,
                          "limitnet.mean", mean, "limitnet.std", std,
                          "train.from", t->cfg.classifier, "train.joint_with", t->cfg.output,
                          "train.phases", phase, "train.config", t->cfg.text};
    return train_make_parents(t->cfg.classifier_output, err) ||
                   nn_model_save(cl->m, t->cfg.classifier_output, meta,
                                 sizeof meta / sizeof meta[0] / 2, err)
               ? -1 : 0;
}

/* After a resume past a joint phase: the classifier it left, not the
 * one the config starts from. */
static int resume_classifier(ln_trainer *t, util_err *err)
{
    if (!joint_done(&t->cfg, t->done))
        return 0;
    cloud *cl = &t->cls;
    nn_ws_destroy(cl->ws);
    nn_model_destroy(cl->m);
    free(cl->spec);
    cl->ws = NULL, cl->m = NULL, cl->spec = NULL;
    return load_cloud(cl, t->cfg.classifier_output, 0, err);
}

static int run_phase(ln_trainer *t, int p, util_err *err)
{
    const phase_cfg *pc = &t->cfg.phase[p];
    size_t steps = t->ntrain / (size_t)t->cfg.batch;
    if (make_optims(t, pc->joint, err))
        return -1;
    for (int e = 0; e < pc->epochs; e++) {
        double t0 = util_now();
        util_rng rng;
        train_epoch_start(t->cfg.seed, 1 + 1000 * (uint64_t)p + (uint64_t)e, t->perm,
                          t->ntrain, &rng);
        step_stats st = {0};
        for (size_t s = 0; s < steps; s++)
            if (fill(t, t->train, t->perm, s * (size_t)t->cfg.batch, t->cfg.batch, err) ||
                train_step(t, p + 1, (float)pc->lr, &rng, &st, err))
                return util_err_prefix(err, "phase %d epoch %d: ", p + 1, e + 1);
        double dt = util_now() - t0;
        t->seconds += dt;
        train_progress("phase %d epoch %2d/%d  mse %.5f  bce %.4f  ce %.4f  "
                "train acc %.1f%%  %.0f img/s  %.0f s\n", p + 1, e + 1, pc->epochs,
                st.mse / st.seen, st.bce / st.seen, st.ce / st.seen,
                st.seen && p >= 2 ? 100.0 * st.hits / st.seen : 0.0,
                st.seen / dt, t->seconds);
        report_val(t, p + 1, err);
    }
    return 0;
}

static int resume(ln_trainer *t, util_err *err)
{
    nn_st_file *f;
    if (nn_st_open(t->cfg.checkpoint, &f, err))
        return -1;
    const char *cfg = nn_st_meta(f, "train.config");
    double phases, secs = 0;
    /* Checked before the casts: the file may say "1x", "4294967297" or
     * "nan". train.seconds is only reported, so a file without it is kept. */
    if (nn_st_meta_num(f, "train.phases", 1, 0, t->cfg.nphases, &phases, err) ||
        (nn_st_meta(f, "train.seconds") &&
         nn_st_meta_num(f, "train.seconds", 0, 0, 1e12, &secs, err))) {
        nn_st_close(f);
        return -1;
    }
    t->done = (int)phases;
    t->seconds = secs;
    int rc = 0;
    /* The checkpoint's phases must be this config's first ones. */
    cJSON *stored = cfg ? cJSON_Parse(cfg) : NULL, *mine = cJSON_Parse(t->cfg.text);
    char *canon = stored ? training_text(stored, t->done) : NULL;
    char *own = mine ? training_text(mine, t->done) : NULL;
    cJSON_Delete(stored);
    cJSON_Delete(mine);
    if (!canon || !own || strcmp(canon, own) != 0)
        rc = util_errf(err, "%s: made with a different config than %s",
                       t->cfg.checkpoint, t->cfg.file);
    else if (nn_st_read_model(f, codec_ln_encoder(t->ln), "enc.", err) ||
             nn_st_read_model(f, codec_ln_saliency(t->ln), "sal.", err) ||
             nn_st_read_model(f, codec_ln_decoder(t->ln), "dec.", err))
        rc = -1;
    cJSON_free(canon);
    cJSON_free(own);
    nn_st_close(f);
    return rc;
}

/* ---- calibration ------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Runs the encoder and saliency head over the training items: latent
 * values per channel into vals[c][ntrain * h * w], side grids summed into
 * prior, their cell values counted into sidecount. */
static int collect(ln_trainer *t, float **vals, double *prior, uint64_t *sidecount,
                   util_err *err)
{
    const codec_ln_geom *g = &t->g;
    size_t hw = (size_t)g->h * g->w;
    const nn_model *enc = codec_ln_encoder(t->ln), *sal = codec_ln_saliency(t->ln);
    uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    for (size_t at = 0; at < t->ntrain; at += CHUNK) {
        int m = (int)(t->ntrain - at < CHUNK ? t->ntrain - at : CHUNK);
        if (fill(t, t->train, NULL, at, m, err) || nn_infer(enc, t->wenc, &t->x, err))
            return -1;
        const nn_tensor *z = nn_ws_out(t->wenc, last(enc));
        if (nn_infer(sal, t->wsal, z, err))
            return -1;
        const nn_tensor *s = nn_ws_out(t->wsal, last(sal));
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < g->c; j++)
                memcpy(vals[j] + (at + (size_t)i) * hw,
                       z->data + ((size_t)i * g->c + j) * hw, hw * sizeof(float));
            codec_ln_side(g, s->data + (size_t)i * hw, cells);
            for (int k = 0; k < g->grid * g->grid; k++) {
                prior[k] += cells[k];
                sidecount[cells[k]]++;
            }
        }
    }
    return 0;
}

/* Quantiser ranges [min, clip-percentile], Huffman lengths from the
 * training histogram (every level counted once more, so that levels never
 * seen in training still have a code), and the prior grid. */
static int calibrate(ln_trainer *t, util_err *err)
{
    const codec_ln_geom *g = &t->g;
    size_t per = t->ntrain * (size_t)g->h * g->w;
    float *vals[CODEC_LN_MAX_CHANNELS] = {0};
    double prior[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID] = {0};
    uint64_t sidecount[CODEC_LN_SIDE_MAX + 1];
    for (int v = 0; v <= CODEC_LN_SIDE_MAX; v++)
        sidecount[v] = 1; /* every cell value keeps a code */
    int rc = 0;
    for (int j = 0; j < g->c && !rc; j++)
        if (!(vals[j] = malloc(per * sizeof(float))))
            rc = util_errf(err, "out of memory for calibration");
    if (!rc)
        rc = collect(t, vals, prior, sidecount, err);
    float *qmin = codec_ln_qmin(t->ln), *qmax = codec_ln_qmax(t->ln);
    uint8_t *len = codec_ln_codelen(t->ln);
    for (int j = 0; j < g->c && !rc; j++) {
        qsort(vals[j], per, sizeof(float), cmp_float);
        size_t hi = (size_t)((double)(per - 1) * t->cfg.clip / 100.0);
        qmin[j] = vals[j][0];
        qmax[j] = vals[j][hi] > qmin[j] ? vals[j][hi] : qmin[j] + 1e-3f;
        uint64_t counts[CODEC_LN_MAX_LEVELS];
        for (int q = 0; q < g->levels; q++)
            counts[q] = 1;
        for (size_t i = 0; i < per; i++)
            counts[codec_ln_quant(t->ln, j, vals[j][i])]++;
        rc = codec_ln_huff_lengths(counts, g->levels, CODEC_LN_MAX_CODE,
                                   len + (size_t)j * g->levels, err) ||
             codec_ln_freq_scale(counts, g->levels,
                                 codec_ln_freqs(t->ln) + (size_t)j * g->levels, err);
    }
    if (!rc)
        rc = codec_ln_huff_lengths(sidecount, CODEC_LN_SIDE_MAX + 1, CODEC_LN_MAX_CODE,
                                   codec_ln_side_codelen(t->ln), err) ||
             codec_ln_freq_scale(sidecount, CODEC_LN_SIDE_MAX + 1,
                                 codec_ln_side_freqs(t->ln), err);
    uint8_t *pr = codec_ln_prior(t->ln);
    for (int k = 0; k < g->grid * g->grid; k++)
        pr[k] = (uint8_t)lround(prior[k] / (double)t->ntrain);
    for (int j = 0; j < g->c; j++)
        free(vals[j]);
    return rc ? rc : codec_ln_check_tables(t->ln, err);
}

/* ---- the whole run ---------------------------------------------------------------- */

int train_limitnet_check(const char *config, util_err *err)
{
    ln_cfg c;
    codec_ln *m = NULL;
    int rc = load_config(config, &c, err);
    if (!rc && codec_ln_create(c.enc, c.sal, c.dec, c.grid, c.bits, &m, err))
        rc = util_err_prefix(err, "%s: ", config);
    codec_ln_free(m);
    free_config(&c);
    return rc ? 2 : 0;
}

int train_limitnet(const char *config, int want_resume, util_err *err)
{
    ln_trainer t;
    memset(&t, 0, sizeof t);
    if (load_config(config, &t.cfg, err)) {
        free_config(&t.cfg);
        return 2;
    }
    int rc = setup(&t, err);
    struct stat sb;
    if (!rc && want_resume && stat(t.cfg.checkpoint, &sb) == 0) {
        rc = resume(&t, err) || resume_classifier(&t, err);
        if (!rc)
            train_progress("train: resuming after phase %d of %d\n", t.done, t.cfg.nphases);
    }
    while (!rc && t.done < t.cfg.nphases) {
        rc = run_phase(&t, t.done, err);
        if (!rc) {
            t.done++;
            rc = save(&t, t.cfg.checkpoint, err) ||
                 (joint_done(&t.cfg, t.done) && save_classifier(&t, err));
        }
    }
    double t0 = util_now();
    if (!rc)
        rc = calibrate(&t, err);
    if (!rc)
        rc = save(&t, t.cfg.output, err);
    if (!rc) {
        nn_model *e = codec_ln_encoder(t.ln), *s = codec_ln_saliency(t.ln),
                 *d = codec_ln_decoder(t.ln);
        printf("limitnet: %d phases, %.1f s training, %.1f s calibration, seed %llu\n"
               "weights: %s\n"
               "device: encoder %zu parameters, %.3f M MACs; saliency head %zu, %.3f M MACs\n"
               "cloud: decoder %zu parameters, %.2f M MACs; latent %dx%dx%d = %d values\n",
               t.done, t.seconds, util_now() - t0, (unsigned long long)t.cfg.seed,
               t.cfg.output, nn_model_param_count(e), nn_model_macs(e) / 1e6,
               nn_model_param_count(s), nn_model_macs(s) / 1e6, nn_model_param_count(d),
               nn_model_macs(d) / 1e6, t.g.c, t.g.h, t.g.w, t.g.n);
    }
    teardown(&t);
    free_config(&t.cfg);
    return rc ? 1 : 0;
}
