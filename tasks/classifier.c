/* The cloud's classifier: a CNN trained by `limitnet train classifier`,
 * loaded from its weight file. The file is self-describing: its metadata
 * holds the architecture (the model JSON of the training config) and the
 * input normalisation, so nothing else needs to travel with it.
 *
 * Threads: predict uses a workspace of its own per call, and the model is
 * only read, so any number of threads may predict at once. The matrix
 * products go through OpenBLAS, which is itself reentrant (0.3.x); a
 * program that runs many predicting threads should give OpenBLAS one
 * thread (openblas_set_num_threads(1), as `limitnet run` does) so the two
 * kinds of threads do not oversubscribe the cores. That is process-wide
 * state, so this library leaves it to the program. */
#include "tasks/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

#define CHUNK 256 /* images per forward pass */

struct task_classifier {
    nn_model *m;
    int out;          /* logits node */
    int w, h, c, classes;
    float mean, std;  /* input = (px / 255 - mean) / std */
};

static int build(task_classifier *c, const nn_st_file *f, util_err *err)
{
    const char *task = nn_st_meta(f, "limitnet.task");
    const char *spec = nn_st_meta(f, "limitnet.model");
    if (!task || strcmp(task, "classifier") != 0 || !spec)
        return util_errf(err, "not a classifier (metadata limitnet.task and "
                         "limitnet.model missing)");
    double mean, std;
    if (nn_st_meta_num(f, "limitnet.mean", 0, -TASK_MEAN_MAX, TASK_MEAN_MAX,
                       &mean, err) ||
        nn_st_meta_num(f, "limitnet.std", 0, TASK_STD_MIN, TASK_STD_MAX, &std, err))
        return -1;
    c->mean = (float)mean;
    c->std = (float)std;
    if (nn_model_from_json(spec, &c->m, err) || nn_st_load_model(f, c->m, err) ||
        nn_model_fold_bn(c->m, NULL, err))
        return -1;
    c->out = nn_model_nodes(c->m) - 1;
    nn_shape in = nn_model_node_shape(c->m, NN_INPUT);
    nn_shape out = nn_model_node_shape(c->m, c->out);
    if (out.h != 1 || out.w != 1 || out.c < 2)
        return util_errf(err, "last layer gives %dx%dx%d, expected class scores",
                         out.c, out.h, out.w);
    c->w = in.w, c->h = in.h, c->c = in.c, c->classes = out.c;
    return 0;
}

int task_classifier_load(const char *path, task_classifier **out,
                         util_err *err)
{
    *out = NULL;
    task_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return util_errf(err, "%s: out of memory", path);
    nn_st_file *f;
    if (nn_st_open(path, &f, err)) {
        free(c);
        return -1;
    }
    int rc = build(c, f, err);
    nn_st_close(f);
    if (rc) {
        task_classifier_free(c);
        /* nn_st messages already start with the path. */
        if (err && (strncmp(err->msg, path, strlen(path)) != 0 ||
                    err->msg[strlen(path)] != ':'))
            util_err_prefix(err, "%s: ", path);
        return -1;
    }
    *out = c;
    return 0;
}

void task_classifier_free(task_classifier *c)
{
    if (!c)
        return;
    nn_model_destroy(c->m);
    free(c);
}

void task_classifier_shape(const task_classifier *c, int *w, int *h, int *ch,
                           int *classes)
{
    *w = c->w;
    *h = c->h;
    *ch = c->c;
    *classes = c->classes;
}

/* Interleaved 8-bit pixels to normalised planar floats. */
static void to_input(const task_classifier *c, const util_image *img,
                     float *dst)
{
    size_t hw = (size_t)c->w * c->h;
    float k = 1.0f / (255.0f * c->std), b = -c->mean / c->std;
    for (int ch = 0; ch < c->c; ch++)
        for (size_t i = 0; i < hw; i++)
            dst[ch * hw + i] = (float)img->px[i * c->c + ch] * k + b;
}

/* Images [first, first + n) of the caller's array. */
static int predict_chunk(const task_classifier *c, nn_ws *ws, nn_tensor *x,
                         const util_image *imgs, size_t first, size_t n,
                         int *labels, util_err *err)
{
    imgs += first;
    labels += first;
    if (nn_tensor_resize(x, (int)n, c->c, c->h, c->w, err))
        return -1;
    size_t per = (size_t)c->c * c->h * c->w;
    for (size_t i = 0; i < n; i++) {
        const util_image *im = &imgs[i];
        if (im->w != c->w || im->h != c->h || im->c != c->c || !im->px)
            return util_errf(err, "classifier: image %zu is %dx%dx%d, expected %dx%dx%d",
                             first + i, im->w, im->h, im->c, c->w, c->h, c->c);
        to_input(c, im, x->data + i * per);
    }
    if (nn_infer(c->m, ws, x, err))
        return util_err_prefix(err, "classifier: ");
    const nn_tensor *z = nn_ws_out(ws, c->out);
    for (size_t i = 0; i < n; i++) {
        const float *s = z->data + i * (size_t)c->classes;
        int best = 0;
        for (int k = 1; k < c->classes; k++)
            best = s[k] > s[best] ? k : best;
        labels[i] = best;
    }
    return 0;
}

int task_classifier_predict(const task_classifier *c, const util_image *imgs,
                            size_t n, int *labels, util_err *err)
{
    nn_ws *ws;
    if (nn_ws_create(c->m, &ws, err))
        return -1;
    nn_tensor x = {0};
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += CHUNK)
        rc = predict_chunk(c, ws, &x, imgs, at, n - at < CHUNK ? n - at : CHUNK,
                           labels, err);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    return rc;
}
