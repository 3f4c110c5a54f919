/* Batch normalisation per channel (over batch and positions), with
 * PyTorch's conventions: biased variance to normalise, unbiased variance in
 * the running estimate, running = (1 - momentum) running + momentum batch.
 *
 * State a holds, per channel, the batch mean, 1/sqrt(var + eps) and the
 * biased variance of the last training forward. */
#include "nn/nn_impl.h"
#include "nn/vec.h"

#include <math.h>

static int bn_shape(const nn_layer *L, const nn_shape *in, int nin,
                    nn_shape *out, util_err *err)
{
    (void)nin;
    if (in->c != L->w->shape[0])
        return util_errf(err, "batchnorm: input has %d channels, expected %d",
                         in->c, L->w->shape[0]);
    *out = *in;
    return 0;
}

/* Per-channel mean and biased variance; planes are summed in double, as
 * sums over a whole batch of activations lose too much in float. */
static void bn_stats(const nn_tensor *x, int ch, float *mean, float *var)
{
    size_t hw = (size_t)x->h * x->w;
    double s = 0.0, s2 = 0.0;
    for (int b = 0; b < x->n; b++)
        nn_vec_sums(x->data + ((size_t)b * x->c + ch) * hw, hw, &s, &s2);
    double cnt = (double)x->n * (double)hw;
    double m = s / cnt;
    double v = s2 / cnt - m * m;
    *mean = (float)m;
    *var = (float)(v > 0.0 ? v : 0.0);
}

/* y = x * scale + shift on one channel of every sample. */
static void bn_apply(const nn_tensor *x, int ch, float scale, float shift,
                     float *y)
{
    size_t hw = (size_t)x->h * x->w;
    for (int b = 0; b < x->n; b++) {
        size_t off = ((size_t)b * x->c + ch) * hw;
        nn_vec_axpb(x->data + off, y + off, scale, shift, hw);
    }
}

static int bn_forward(const nn_layer *L, nn_lstate *st,
                      const nn_tensor *const *in, int nin, nn_tensor *out,
                      int training, util_rng *rng, util_err *err)
{
    (void)nin, (void)rng;
    const nn_tensor *x = in[0];
    int C = x->c;
    const float *g = L->w->data, *beta = L->b->data;
    if (!training) {
        for (int c = 0; c < C; c++) {
            float inv = 1.0f / sqrtf(L->rv->data[c] + L->eps);
            bn_apply(x, c, g[c] * inv, beta[c] - L->rm->data[c] * g[c] * inv,
                     out->data);
        }
        return 0;
    }
    if (nn_tensor_resize(&st->a, 1, 3, 1, C, err))
        return -1;
    float *mean = st->a.data, *inv = mean + C, *var = mean + 2 * C;
    for (int c = 0; c < C; c++) {
        bn_stats(x, c, &mean[c], &var[c]);
        inv[c] = 1.0f / sqrtf(var[c] + L->eps);
        bn_apply(x, c, g[c] * inv[c], beta[c] - mean[c] * g[c] * inv[c],
                 out->data);
    }
    st->count = x->n * x->h * x->w;
    return 0;
}

static void bn_update(const nn_layer *L, const nn_lstate *st)
{
    int C = L->w->shape[0];
    const float *mean = st->a.data, *var = mean + 2 * C;
    float m = L->momentum;
    float unbias = st->count > 1 ? (float)st->count / (float)(st->count - 1) : 1.0f;
    for (int c = 0; c < C; c++) {
        L->rm->data[c] = (1.0f - m) * L->rm->data[c] + m * mean[c];
        L->rv->data[c] = (1.0f - m) * L->rv->data[c] + m * var[c] * unbias;
    }
}

/* Inference mode: a fixed affine map per channel. */
static void bn_backward_eval(const nn_layer *L, const nn_tensor *x,
                             const nn_tensor *dout, nn_tensor *dx)
{
    size_t hw = (size_t)x->h * x->w;
    for (int c = 0; c < x->c; c++) {
        float inv = 1.0f / sqrtf(L->rv->data[c] + L->eps);
        double dg = 0.0, dbeta = 0.0;
        for (int b = 0; b < x->n; b++) {
            size_t off = ((size_t)b * x->c + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                float dy = dout->data[off + i];
                dg += dy * (x->data[off + i] - L->rm->data[c]) * inv;
                dbeta += dy;
                if (dx)
                    dx->data[off + i] += dy * L->w->data[c] * inv;
            }
        }
        L->w->grad[c] += (float)dg;
        L->b->grad[c] += (float)dbeta;
    }
}

static int bn_backward(const nn_layer *L, nn_lstate *st,
                       const nn_tensor *const *in, int nin,
                       const nn_tensor *out, const nn_tensor *dout,
                       nn_tensor *const *din, int training, util_err *err)
{
    (void)nin, (void)out, (void)err;
    const nn_tensor *x = in[0];
    if (!training) {
        bn_backward_eval(L, x, dout, din[0]);
        return 0;
    }
    int C = x->c;
    size_t hw = (size_t)x->h * x->w;
    const float *mean = st->a.data, *inv = mean + C;
    double M = (double)st->count;
    for (int c = 0; c < C; c++) {
        double sdy = 0.0, sdyx = 0.0;
        for (int b = 0; b < x->n; b++) {
            size_t off = ((size_t)b * C + c) * hw;
            nn_vec_bn_sums(x->data + off, dout->data + off, mean[c], inv[c], hw,
                           &sdy, &sdyx);
        }
        L->w->grad[c] += (float)sdyx;
        L->b->grad[c] += (float)sdy;
        if (!din[0])
            continue;
        /* dx = g inv / M (M dy - sum dy - xhat sum dy xhat) */
        float k = L->w->data[c] * inv[c];
        float a = (float)(sdy / M), bb = (float)(sdyx / M);
        for (int b = 0; b < x->n; b++) {
            size_t off = ((size_t)b * C + c) * hw;
            nn_vec_bn_back(x->data + off, dout->data + off, din[0]->data + off,
                           mean[c], inv[c], k, a, bb, hw);
        }
    }
    return 0;
}

const nn_layer_ops nn_ops_batchnorm = {
    "batchnorm", bn_shape, bn_forward, bn_backward, bn_update, NULL,
};
