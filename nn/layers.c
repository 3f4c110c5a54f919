/* The layers without convolutions: activations, pooling, linear, dropout,
 * sum, and the adapter for custom operations. */
#include "nn/nn_impl.h"
#include "nn/vec.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same_shape(const nn_layer *L, const nn_shape *in, int nin,
                      nn_shape *out, util_err *err)
{
    (void)L, (void)nin, (void)err;
    *out = in[0];
    return 0;
}

/* ---- ReLU and sigmoid ------------------------------------------------------- */

static int relu_forward(const nn_layer *L, nn_lstate *st,
                        const nn_tensor *const *in, int nin, nn_tensor *out,
                        int training, util_rng *rng, util_err *err)
{
    (void)L, (void)st, (void)nin, (void)training, (void)rng, (void)err;
    nn_vec_relu(in[0]->data, out->data, nn_tensor_numel(out));
    return 0;
}

static int relu_backward(const nn_layer *L, nn_lstate *st,
                         const nn_tensor *const *in, int nin,
                         const nn_tensor *out, const nn_tensor *dout,
                         nn_tensor *const *din, int training, util_err *err)
{
    (void)L, (void)st, (void)in, (void)nin, (void)training, (void)err;
    if (!din[0])
        return 0;
    nn_vec_relu_back(out->data, dout->data, din[0]->data, nn_tensor_numel(out));
    return 0;
}

const nn_layer_ops nn_ops_relu = {
    "relu", same_shape, relu_forward, relu_backward, NULL, NULL,
};

static int sigmoid_forward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin, nn_tensor *out,
                           int training, util_rng *rng, util_err *err)
{
    (void)L, (void)st, (void)nin, (void)training, (void)rng, (void)err;
    size_t n = nn_tensor_numel(out);
    const float *x = in[0]->data;
    for (size_t i = 0; i < n; i++)
        out->data[i] = 1.0f / (1.0f + expf(-x[i]));
    return 0;
}

static int sigmoid_backward(const nn_layer *L, nn_lstate *st,
                            const nn_tensor *const *in, int nin,
                            const nn_tensor *out, const nn_tensor *dout,
                            nn_tensor *const *din, int training, util_err *err)
{
    (void)L, (void)st, (void)in, (void)nin, (void)training, (void)err;
    if (!din[0])
        return 0;
    size_t n = nn_tensor_numel(out);
    for (size_t i = 0; i < n; i++) {
        float y = out->data[i];
        din[0]->data[i] += dout->data[i] * y * (1.0f - y);
    }
    return 0;
}

const nn_layer_ops nn_ops_sigmoid = {
    "sigmoid", same_shape, sigmoid_forward, sigmoid_backward, NULL, NULL,
};

/* ---- pooling ------------------------------------------------------------------ */

static int pool_shape(const nn_layer *L, const nn_shape *in, int nin,
                      nn_shape *out, util_err *err)
{
    (void)nin;
    int oh = nn_conv_out(in->h, L->k, L->stride, L->pad);
    int ow = nn_conv_out(in->w, L->k, L->stride, L->pad);
    if (oh <= 0 || ow <= 0)
        return util_errf(err, "%s: %dx%d input too small for window %d",
                         L->ops->type, in->h, in->w, L->k);
    *out = (nn_shape){in->n, in->c, oh, ow};
    return 0;
}

/* Window rows [y0, y1) and columns [x0, x1) of output (oy, ox), clipped. */
static void window(const nn_layer *L, int h, int w, int oy, int ox,
                   int *y0, int *y1, int *x0, int *x1)
{
    *y0 = oy * L->stride - L->pad;
    *x0 = ox * L->stride - L->pad;
    *y1 = *y0 + L->k < h ? *y0 + L->k : h;
    *x1 = *x0 + L->k < w ? *x0 + L->k : w;
    if (*y0 < 0)
        *y0 = 0;
    if (*x0 < 0)
        *x0 = 0;
}

/* The common 2x2 stride-2 window without padding, branch-free: on random
 * data the generic loop's comparisons mispredict half the time. */
static void maxpool2(const float *restrict src, int w, int oh, int ow,
                     float *restrict dst, int *restrict idx)
{
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            /* Indices from comparison results (0 or 1) compile to setcc
             * and adds, where a ?: on floats becomes a branch. */
            int i0 = 2 * oy * w + 2 * ox, i2 = i0 + w;
            int j1 = i0 + (src[i0 + 1] > src[i0]);
            int j2 = i2 + (src[i2 + 1] > src[i2]);
            int j = j1 + (j2 - j1) * (src[j2] > src[j1]);
            dst[oy * ow + ox] = src[j];
            idx[oy * ow + ox] = j;
        }
}

static int maxpool_forward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin, nn_tensor *out,
                           int training, util_rng *rng, util_err *err)
{
    (void)nin, (void)training, (void)rng;
    const nn_tensor *x = in[0];
    size_t total = nn_tensor_numel(out);
    if (total > st->idx_cap) {
        int *p = realloc(st->idx, total * sizeof *p);
        if (!p)
            return util_errf(err, "maxpool: out of memory");
        st->idx = p;
        st->idx_cap = total;
    }
    size_t o = 0, plane = (size_t)out->h * out->w;
    for (int pl = 0; pl < x->n * x->c; pl++) {
        const float *src = x->data + (size_t)pl * x->h * x->w;
        if (L->k == 2 && L->stride == 2 && L->pad == 0) {
            maxpool2(src, x->w, out->h, out->w, out->data + o, st->idx + o);
            o += plane;
            continue;
        }
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++, o++) {
                int y0, y1, x0, x1;
                window(L, x->h, x->w, oy, ox, &y0, &y1, &x0, &x1);
                int best = y0 * x->w + x0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        if (src[yy * x->w + xx] > src[best])
                            best = yy * x->w + xx;
                out->data[o] = src[best];
                st->idx[o] = best;
            }
    }
    return 0;
}

static int maxpool_backward(const nn_layer *L, nn_lstate *st,
                            const nn_tensor *const *in, int nin,
                            const nn_tensor *out, const nn_tensor *dout,
                            nn_tensor *const *din, int training, util_err *err)
{
    (void)L, (void)nin, (void)training, (void)err;
    if (!din[0])
        return 0;
    size_t plane_in = (size_t)in[0]->h * in[0]->w;
    size_t plane_out = (size_t)out->h * out->w;
    for (int pl = 0; pl < out->n * out->c; pl++) {
        float *dst = din[0]->data + pl * plane_in;
        size_t base = pl * plane_out;
        for (size_t i = 0; i < plane_out; i++)
            dst[st->idx[base + i]] += dout->data[base + i];
    }
    return 0;
}

const nn_layer_ops nn_ops_maxpool = {
    "maxpool", pool_shape, maxpool_forward, maxpool_backward, NULL, NULL,
};

static int avgpool_forward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin, nn_tensor *out,
                           int training, util_rng *rng, util_err *err)
{
    (void)st, (void)nin, (void)training, (void)rng, (void)err;
    const nn_tensor *x = in[0];
    float scale = 1.0f / (float)(L->k * L->k);
    size_t o = 0;
    for (int pl = 0; pl < x->n * x->c; pl++) {
        const float *src = x->data + (size_t)pl * x->h * x->w;
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++, o++) {
                int y0, y1, x0, x1;
                window(L, x->h, x->w, oy, ox, &y0, &y1, &x0, &x1);
                float s = 0.0f;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        s += src[yy * x->w + xx];
                out->data[o] = s * scale;
            }
    }
    return 0;
}

static int avgpool_backward(const nn_layer *L, nn_lstate *st,
                            const nn_tensor *const *in, int nin,
                            const nn_tensor *out, const nn_tensor *dout,
                            nn_tensor *const *din, int training, util_err *err)
{
    (void)st, (void)nin, (void)training, (void)err;
    if (!din[0])
        return 0;
    const nn_tensor *x = in[0];
    float scale = 1.0f / (float)(L->k * L->k);
    size_t o = 0;
    for (int pl = 0; pl < x->n * x->c; pl++) {
        float *dst = din[0]->data + (size_t)pl * x->h * x->w;
        for (int oy = 0; oy < out->h; oy++)
            for (int ox = 0; ox < out->w; ox++, o++) {
                int y0, y1, x0, x1;
                window(L, x->h, x->w, oy, ox, &y0, &y1, &x0, &x1);
                float g = dout->data[o] * scale;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++)
                        dst[yy * x->w + xx] += g;
            }
    }
    return 0;
}

const nn_layer_ops nn_ops_avgpool = {
    "avgpool", pool_shape, avgpool_forward, avgpool_backward, NULL, NULL,
};

static int gap_shape(const nn_layer *L, const nn_shape *in, int nin,
                     nn_shape *out, util_err *err)
{
    (void)L, (void)nin, (void)err;
    *out = (nn_shape){in->n, in->c, 1, 1};
    return 0;
}

static int gap_forward(const nn_layer *L, nn_lstate *st,
                       const nn_tensor *const *in, int nin, nn_tensor *out,
                       int training, util_rng *rng, util_err *err)
{
    (void)L, (void)st, (void)nin, (void)training, (void)rng, (void)err;
    const nn_tensor *x = in[0];
    size_t hw = (size_t)x->h * x->w;
    for (int pl = 0; pl < x->n * x->c; pl++) {
        out->data[pl] = (float)(nn_vec_sum(x->data + pl * hw, hw) / (double)hw);
    }
    return 0;
}

static int gap_backward(const nn_layer *L, nn_lstate *st,
                        const nn_tensor *const *in, int nin,
                        const nn_tensor *out, const nn_tensor *dout,
                        nn_tensor *const *din, int training, util_err *err)
{
    (void)L, (void)st, (void)nin, (void)out, (void)training, (void)err;
    if (!din[0])
        return 0;
    size_t hw = (size_t)in[0]->h * in[0]->w;
    for (int pl = 0; pl < in[0]->n * in[0]->c; pl++) {
        float g = dout->data[pl] / (float)hw;
        float *dst = din[0]->data + pl * hw;
        for (size_t i = 0; i < hw; i++)
            dst[i] += g;
    }
    return 0;
}

const nn_layer_ops nn_ops_gap = {
    "gap", gap_shape, gap_forward, gap_backward, NULL, NULL,
};

/* ---- linear ------------------------------------------------------------------- */

static int linear_shape(const nn_layer *L, const nn_shape *in, int nin,
                        nn_shape *out, util_err *err)
{
    (void)nin;
    int f = in->c * in->h * in->w;
    if (f != L->w->shape[1])
        return util_errf(err, "linear: input has %d features, weight expects %d",
                         f, L->w->shape[1]);
    *out = (nn_shape){in->n, L->nout, 1, 1};
    return 0;
}

static int linear_forward(const nn_layer *L, nn_lstate *st,
                          const nn_tensor *const *in, int nin, nn_tensor *out,
                          int training, util_rng *rng, util_err *err)
{
    (void)st, (void)nin, (void)training, (void)rng, (void)err;
    const nn_tensor *x = in[0];
    int F = L->w->shape[1], n = x->n, O = L->nout;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, O, F, 1.0f,
                x->data, F, L->w->data, F, 0.0f, out->data, O);
    if (L->b)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < O; j++)
                out->data[(size_t)i * O + j] += L->b->data[j];
    return 0;
}

static int linear_backward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin,
                           const nn_tensor *out, const nn_tensor *dout,
                           nn_tensor *const *din, int training, util_err *err)
{
    (void)st, (void)nin, (void)out, (void)training, (void)err;
    const nn_tensor *x = in[0];
    int F = L->w->shape[1], n = x->n, O = L->nout;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, F, n, 1.0f,
                dout->data, O, x->data, F, 1.0f, L->w->grad, F);
    if (L->b)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < O; j++)
                L->b->grad[j] += dout->data[(size_t)i * O + j];
    if (din[0])
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, F, O, 1.0f,
                    dout->data, O, L->w->data, F, 1.0f, din[0]->data, F);
    return 0;
}

static double linear_macs(const nn_layer *L, const nn_shape *in,
                          const nn_shape *out)
{
    (void)in, (void)out;
    return (double)L->w->shape[0] * L->w->shape[1];
}

const nn_layer_ops nn_ops_linear = {
    "linear", linear_shape, linear_forward, linear_backward, NULL, linear_macs,
};

/* ---- dropout ------------------------------------------------------------------ */

static int dropout_forward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin, nn_tensor *out,
                           int training, util_rng *rng, util_err *err)
{
    (void)nin;
    size_t n = nn_tensor_numel(out);
    const float *x = in[0]->data;
    if (!training || L->p <= 0.0f) {
        memcpy(out->data, x, n * sizeof *x);
        return 0;
    }
    if (!rng)
        return util_errf(err, "dropout: training needs a random generator");
    if (nn_tensor_resize(&st->a, out->n, out->c, out->h, out->w, err))
        return -1;
    float keep = 1.0f - L->p, scale = 1.0f / keep;
    /* Two 32-bit draws per generator call, compared as integers: the
     * generator, not the multiply, is what dropout costs. */
    uint32_t limit = (uint32_t)((double)keep * 4294967295.0);
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 1) == 0)
            r = util_rng_next(rng);
        uint32_t u = (uint32_t)(r >> (32 * (i & 1)));
        st->a.data[i] = u < limit ? scale : 0.0f;
    }
    nn_vec_mul(x, st->a.data, out->data, n);
    return 0;
}

static int dropout_backward(const nn_layer *L, nn_lstate *st,
                            const nn_tensor *const *in, int nin,
                            const nn_tensor *out, const nn_tensor *dout,
                            nn_tensor *const *din, int training, util_err *err)
{
    (void)in, (void)nin, (void)err;
    if (!din[0])
        return 0;
    size_t n = nn_tensor_numel(out);
    if (training && L->p > 0.0f)
        nn_vec_mul_add(dout->data, st->a.data, din[0]->data, n);
    else
        nn_vec_add(dout->data, din[0]->data, n);
    return 0;
}

const nn_layer_ops nn_ops_dropout = {
    "dropout", same_shape, dropout_forward, dropout_backward, NULL, NULL,
};

/* ---- sum ------------------------------------------------------------------------- */

static int add_shape(const nn_layer *L, const nn_shape *in, int nin,
                     nn_shape *out, util_err *err)
{
    (void)L, (void)nin;
    if (!nn_shape_eq(&in[0], &in[1]))
        return util_errf(err, "add: shapes %dx%dx%d and %dx%dx%d differ",
                         in[0].c, in[0].h, in[0].w, in[1].c, in[1].h, in[1].w);
    *out = in[0];
    return 0;
}

static int add_forward(const nn_layer *L, nn_lstate *st,
                       const nn_tensor *const *in, int nin, nn_tensor *out,
                       int training, util_rng *rng, util_err *err)
{
    (void)L, (void)st, (void)nin, (void)training, (void)rng, (void)err;
    size_t n = nn_tensor_numel(out);
    memcpy(out->data, in[0]->data, n * sizeof *out->data);
    nn_vec_add(in[1]->data, out->data, n);
    return 0;
}

static int add_backward(const nn_layer *L, nn_lstate *st,
                        const nn_tensor *const *in, int nin,
                        const nn_tensor *out, const nn_tensor *dout,
                        nn_tensor *const *din, int training, util_err *err)
{
    (void)L, (void)st, (void)in, (void)training, (void)err;
    size_t n = nn_tensor_numel(out);
    for (int k = 0; k < nin; k++)
        if (din[k])
            nn_vec_add(dout->data, din[k]->data, n);
    return 0;
}

const nn_layer_ops nn_ops_add = {
    "add", add_shape, add_forward, add_backward, NULL, NULL,
};

/* ---- custom operations ---------------------------------------------------------- */

static int custom_shape(const nn_layer *L, const nn_shape *in, int nin,
                        nn_shape *out, util_err *err)
{
    return L->cops->shape(L->cctx, in, nin, out, err);
}

static int custom_forward(const nn_layer *L, nn_lstate *st,
                          const nn_tensor *const *in, int nin, nn_tensor *out,
                          int training, util_rng *rng, util_err *err)
{
    (void)st;
    return L->cops->forward(L->cctx, in, nin, out, training, rng, err);
}

static int custom_backward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin,
                           const nn_tensor *out, const nn_tensor *dout,
                           nn_tensor *const *din, int training, util_err *err)
{
    (void)st, (void)training;
    if (!L->cops->backward)
        return util_errf(err, "custom operation has no backward");
    return L->cops->backward(L->cctx, in, nin, out, dout, din, err);
}

const nn_layer_ops nn_ops_custom = {
    "custom", custom_shape, custom_forward, custom_backward, NULL, NULL,
};
