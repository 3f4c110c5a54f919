/* The cloud's detector: an anchor-free CNN in the manner of CenterNet
 * (Zhou et al., "Objects as Points", 2019), trained by `limitnet train
 * detector`, loaded from its self-describing weight file.
 *
 * The network gives, at a stride s of the image (4 for the committed
 * model), three maps: per class a heatmap of object centres (logits), and
 * per cell the box's width and height and the centre's offset within the
 * cell, both in cells. Decoding keeps the cells whose probability is at
 * least the threshold and not below any of their eight neighbours in the
 * same class (the local-maximum rule that stands in for non-maximum
 * suppression), best first, at most max_detections per image.
 *
 * Threads: as task_classifier, a workspace per call and a model only read. */
#include "tasks/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

#define CHUNK 64 /* images per forward pass */

struct task_detector {
    nn_model *m;
    int node[3];      /* heatmap, size, offset */
    int w, h, c;
    task_detect_cfg cfg;
    float mean, std;
};

/* ---- decoding ------------------------------------------------------------------ */

typedef struct peak {
    float score;
    int cls, cell;
} peak;

static int by_score(const void *a, const void *b)
{
    const peak *p = a, *q = b;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    if (p->cls != q->cls)
        return p->cls - q->cls;
    return p->cell - q->cell;
}

static int is_peak(const float *map, int oh, int ow, int y, int x)
{
    float v = map[y * ow + x];
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int yy = y + dy, xx = x + dx;
            if ((dy || dx) && yy >= 0 && xx >= 0 && yy < oh && xx < ow &&
                map[yy * ow + xx] > v)
                return 0;
        }
    return 1;
}

/* Logits above the threshold's logit compare as the probabilities do, so
 * the local maxima are found on the logits and only they pass through the
 * sigmoid. */
int task_detect_decode(const task_detect_cfg *cfg, const float *heat,
                       const float *size, const float *offset, task_det *out)
{
    int hw = cfg->oh * cfg->ow, n = 0, cap = 64;
    float t = cfg->threshold;
    float lt = t <= 0 ? -INFINITY : t >= 1 ? INFINITY : logf(t / (1 - t));
    peak *pk = malloc((size_t)cap * sizeof *pk);
    if (!pk)
        return -1;
    for (int c = 0; c < cfg->classes; c++)
        for (int i = 0; i < hw; i++) {
            const float *map = heat + (size_t)c * hw;
            if (!(map[i] >= lt) || !is_peak(map, cfg->oh, cfg->ow, i / cfg->ow, i % cfg->ow))
                continue;
            if (n == cap) {
                peak *g = realloc(pk, (size_t)(cap *= 2) * sizeof *pk);
                if (!g) {
                    free(pk);
                    return -1;
                }
                pk = g;
            }
            pk[n++] = (peak){1.0f / (1.0f + expf(-map[i])), c, i};
        }
    qsort(pk, (size_t)n, sizeof *pk, by_score);
    int keep = n < cfg->max_dets ? n : cfg->max_dets;
    float s = (float)cfg->stride, W = (float)(cfg->ow * cfg->stride),
          H = (float)(cfg->oh * cfg->stride);
    for (int k = 0; k < keep; k++) {
        int i = pk[k].cell, y = i / cfg->ow, x = i % cfg->ow;
        float cx = (x + offset[i]) * s, cy = (y + offset[hw + i]) * s;
        float bw = fmaxf(0.0f, size[i]) * s, bh = fmaxf(0.0f, size[hw + i]) * s;
        out[k] = (task_det){{fmaxf(0, cx - bw / 2), fmaxf(0, cy - bh / 2),
                             fminf(W, cx + bw / 2), fminf(H, cy + bh / 2)},
                            pk[k].cls, pk[k].score};
    }
    free(pk);
    return keep;
}

/* ---- loading ---------------------------------------------------------------------- */

int task_detector_heads(const nn_model *m, int *node, task_detect_cfg *dc, util_err *err)
{
    static const char *const names[3] = {"heatmap", "size", "offset"};
    for (int k = 0; k < 3; k++)
        if ((node[k] = nn_model_find(m, names[k])) < 0)
            return util_errf(err, "no layer named \"%s\" (a detector's heads are "
                             "heatmap, size and offset)", names[k]);
    nn_shape in = nn_model_node_shape(m, NN_INPUT);
    nn_shape h = nn_model_node_shape(m, node[0]), s = nn_model_node_shape(m, node[1]),
             o = nn_model_node_shape(m, node[2]);
    if (h.c < 1 || s.c != 2 || o.c != 2 || s.h != h.h || s.w != h.w || o.h != h.h ||
        o.w != h.w || in.w % h.w || in.h % h.h || in.w / h.w != in.h / h.h)
        return util_errf(err, "heads give %dx%dx%d, %dx%dx%d and %dx%dx%d: expected "
                         "classes, 2 and 2 channels on one grid that divides the "
                         "%dx%d input", h.c, h.h, h.w, s.c, s.h, s.w, o.c, o.h, o.w,
                         in.w, in.h);
    dc->classes = h.c;
    dc->oh = h.h, dc->ow = h.w, dc->stride = in.w / h.w;
    return 0;
}

static int build(task_detector *d, const nn_st_file *f, util_err *err)
{
    const char *task = nn_st_meta(f, "limitnet.task");
    const char *spec = nn_st_meta(f, "limitnet.model");
    if (!task || strcmp(task, "detector") != 0 || !spec)
        return util_errf(err, "not a detector (metadata limitnet.task and "
                         "limitnet.model missing)");
    double mean, std, thr, max;
    if (nn_st_meta_num(f, "limitnet.mean", 0, -TASK_MEAN_MAX, TASK_MEAN_MAX, &mean, err) ||
        nn_st_meta_num(f, "limitnet.std", 0, TASK_STD_MIN, TASK_STD_MAX, &std, err) ||
        nn_st_meta_num(f, "limitnet.threshold", 0, 0, 1, &thr, err) ||
        nn_st_meta_num(f, "limitnet.max_detections", 0, 1, TASK_DETECT_MAX, &max, err))
        return -1;
    d->mean = (float)mean;
    d->std = (float)std;
    d->cfg.threshold = (float)thr;
    d->cfg.max_dets = (int)max;
    if (nn_model_from_json(spec, &d->m, err) || nn_st_load_model(f, d->m, err) ||
        nn_model_fold_bn(d->m, NULL, err) || task_detector_heads(d->m, d->node, &d->cfg, err))
        return -1;
    nn_shape in = nn_model_node_shape(d->m, NN_INPUT);
    d->w = in.w, d->h = in.h, d->c = in.c;
    return 0;
}

int task_detector_load(const char *path, task_detector **out, util_err *err)
{
    *out = NULL;
    task_detector *d = calloc(1, sizeof *d);
    if (!d)
        return util_errf(err, "%s: out of memory", path);
    nn_st_file *f;
    if (nn_st_open(path, &f, err)) {
        free(d);
        return -1;
    }
    int rc = build(d, f, err);
    nn_st_close(f);
    if (rc) {
        task_detector_free(d);
        if (err && (strncmp(err->msg, path, strlen(path)) != 0 ||
                    err->msg[strlen(path)] != ':'))
            util_err_prefix(err, "%s: ", path);
        return -1;
    }
    *out = d;
    return 0;
}

void task_detector_free(task_detector *d)
{
    if (!d)
        return;
    nn_model_destroy(d->m);
    free(d);
}

void task_detector_shape(const task_detector *d, int *w, int *h, int *ch,
                         int *classes)
{
    *w = d->w;
    *h = d->h;
    *ch = d->c;
    *classes = d->cfg.classes;
}

task_detect_cfg task_detector_cfg(const task_detector *d)
{
    return d->cfg;
}

/* ---- detecting ------------------------------------------------------------------- */

static int detect_chunk(const task_detector *d, nn_ws *ws, nn_tensor *x,
                        const util_image *imgs, size_t n, task_det *dets, int *counts,
                        util_err *err)
{
    if (nn_tensor_resize(x, (int)n, d->c, d->h, d->w, err))
        return -1;
    size_t per = (size_t)d->c * d->h * d->w, hw = (size_t)d->w * d->h;
    float k = 1.0f / (255.0f * d->std), b = -d->mean / d->std;
    for (size_t i = 0; i < n; i++) {
        const util_image *im = &imgs[i];
        if (im->w != d->w || im->h != d->h || im->c != d->c || !im->px)
            return util_errf(err, "detector: an image is %dx%dx%d, expected %dx%dx%d",
                             im->w, im->h, im->c, d->w, d->h, d->c);
        for (int ch = 0; ch < d->c; ch++)
            for (size_t p = 0; p < hw; p++)
                x->data[i * per + ch * hw + p] = (float)im->px[p * d->c + ch] * k + b;
    }
    if (nn_infer(d->m, ws, x, err))
        return util_err_prefix(err, "detector: ");
    size_t ohw = (size_t)d->cfg.oh * d->cfg.ow;
    const float *hm = nn_ws_out(ws, d->node[0])->data, *wh = nn_ws_out(ws, d->node[1])->data,
                *off = nn_ws_out(ws, d->node[2])->data;
    for (size_t i = 0; i < n; i++) {
        counts[i] = task_detect_decode(&d->cfg, hm + i * ohw * d->cfg.classes,
                                       wh + i * ohw * 2, off + i * ohw * 2,
                                       dets + i * (size_t)d->cfg.max_dets);
        if (counts[i] < 0)
            return util_errf(err, "detector: out of memory");
    }
    return 0;
}

int task_detector_detect(const task_detector *d, const util_image *imgs, size_t n,
                         task_det *dets, int *counts, util_err *err)
{
    nn_ws *ws;
    if (nn_ws_create(d->m, &ws, err))
        return -1;
    nn_tensor x = {0};
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += CHUNK)
        rc = detect_chunk(d, ws, &x, imgs + at, n - at < CHUNK ? n - at : CHUNK,
                          dets + at * (size_t)d->cfg.max_dets, counts + at, err);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    return rc;
}
