/* Convolution and transposed convolution through im2col + GEMM.
 *
 * conv2d:   y = W [cout, K] x col(x) [K, N]         K = cin*kh*kw, N = m*oh*ow
 * deconv2d: y = col2im(W^T [cout*kh*kw, cin] x x [cin, m*h*w])
 * The transposed convolution is the data-gradient of a convolution, so it
 * shares the same im2col/col2im with the roles of input and output swapped.
 *
 * The batch is processed in chunks of m images whose column matrix stays
 * within a few MiB: large enough for OpenBLAS to run at full speed on both
 * cores, small enough to stay in cache. A whole batch's columns (9x the
 * activations for a 3x3 kernel) would go through main memory twice, and
 * that costs as much as the multiplication. The backward pass rebuilds the
 * columns rather than keeping them.
 */
#include "nn/nn_impl.h"
#include "nn/vec.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

#define CHUNK_FLOATS (1u << 20) /* column floats per chunk, 4 MiB */

/* Images per chunk when one image has `per` column floats. */
static int chunk_images(int n, size_t per)
{
    size_t m = per ? CHUNK_FLOATS / per : (size_t)n;
    if (m < 1)
        m = 1;
    return m < (size_t)n ? (int)m : n;
}

/* True when one image's column matrix, rows x cols floats, is beyond int's
 * range: the chunk buffers are tensors, whose sizes are int. */
static int columns_beyond_int(int rows, size_t cols)
{
    return rows > 0 && cols > (size_t)INT_MAX / (size_t)rows;
}

static void add_bias(float *y, int n, int c, size_t hw, const float *bias)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            nn_vec_shift(y + ((size_t)b * c + ch) * hw, bias[ch], hw);
}

/* d(bias) += sum of dy over batch and positions. */
static void bias_grad(const float *dy, int n, int c, size_t hw, float *db)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            db[ch] += (float)nn_vec_sum(dy + ((size_t)b * c + ch) * hw, hw);
}

/* Geometry of one conv2d call. */
typedef struct cgeo {
    int n, cin, h, w, oh, ow, K, chunk;
    size_t ihw, ohw;
} cgeo;

static cgeo conv_geo(const nn_conv_spec *s, int n, int cin, int h, int w)
{
    cgeo g = {n, cin, h, w, nn_conv_out(h, s->kh, s->sh, s->ph),
              nn_conv_out(w, s->kw, s->sw, s->pw), cin * s->kh * s->kw, 0, 0, 0};
    g.ihw = (size_t)h * w;
    g.ohw = (size_t)g.oh * g.ow;
    g.chunk = chunk_images(n, (size_t)g.K * g.ohw);
    return g;
}

/* Images [b0, b0 + m) of the forward pass. */
static void conv_chunk(const cgeo *g, const nn_conv_spec *s, const float *x,
                       const float *wt, int b0, int m, float *col, float *tmp,
                       float *y)
{
    int N = m * (int)g->ohw;
    float *yb = y + (size_t)b0 * s->cout * g->ohw;
    nn_im2col(x + (size_t)b0 * g->cin * g->ihw, m, g->cin, g->h, g->w, s,
              g->oh, g->ow, col);
    /* With one image the GEMM result already is NCHW. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, N, g->K,
                1.0f, wt, g->K, col, N, 0.0f, m == 1 ? yb : tmp, N);
    if (m > 1)
        nn_cn_to_nchw(tmp, m, s->cout, (int)g->ohw, yb, 0);
}

void nn_conv2d_gemm(const float *x, int n, int cin, int h, int w,
                    const float *wt, const float *bias,
                    const nn_conv_spec *s, float *col, float *tmp, float *y)
{
    cgeo g = conv_geo(s, n, cin, h, w);
    for (int b0 = 0; b0 < n; b0 += g.chunk)
        conv_chunk(&g, s, x, wt, b0, n - b0 < g.chunk ? n - b0 : g.chunk, col,
                   tmp, y);
    if (bias)
        add_bias(y, n, s->cout, g.ohw, bias);
}

/* ---- conv2d ------------------------------------------------------------------- */

static int conv_shape(const nn_layer *L, const nn_shape *in, int nin,
                      nn_shape *out, util_err *err)
{
    (void)nin;
    const nn_conv_spec *s = &L->conv;
    int oh = nn_conv_out(in->h, s->kh, s->sh, s->ph);
    int ow = nn_conv_out(in->w, s->kw, s->sw, s->pw);
    if (oh <= 0 || ow <= 0)
        return util_errf(err, "conv2d: %dx%d input too small for kernel %dx%d pad %d,%d",
                         in->h, in->w, s->kh, s->kw, s->ph, s->pw);
    if (in->c != L->w->shape[1])
        return util_errf(err, "conv2d: input has %d channels, weight expects %d",
                         in->c, L->w->shape[1]);
    /* cin*kh*kw is at most the weight's size, within int. */
    if (columns_beyond_int(in->c * s->kh * s->kw, (size_t)oh * (size_t)ow))
        return util_errf(err, "conv2d: the columns of one %dx%dx%d image for a "
                         "%dx%d kernel are more than %d values", in->c, in->h,
                         in->w, s->kh, s->kw, INT_MAX);
    *out = (nn_shape){in->n, s->cout, oh, ow};
    return 0;
}

/* State a: columns of one chunk; b: a chunk's GEMM output or gradient. */
static int chunk_buffers(nn_lstate *st, size_t a, size_t b, util_err *err)
{
    if (a > INT_MAX || b > INT_MAX)
        return util_errf(err, "scratch of %zu floats is beyond int's range",
                         a > b ? a : b);
    return nn_tensor_resize(&st->a, 1, 1, 1, (int)a, err) ||
           nn_tensor_resize(&st->b, 1, 1, 1, (int)b, err);
}

static int conv_forward(const nn_layer *L, nn_lstate *st,
                        const nn_tensor *const *in, int nin, nn_tensor *out,
                        int training, util_rng *rng, util_err *err)
{
    (void)nin, (void)training, (void)rng;
    const nn_tensor *x = in[0];
    const nn_conv_spec *s = &L->conv;
    cgeo g = conv_geo(s, x->n, x->c, x->h, x->w);
    size_t N = (size_t)g.chunk * g.ohw;
    if (chunk_buffers(st, (size_t)g.K * N, (size_t)s->cout * N, err))
        return -1;
    nn_conv2d_gemm(x->data, x->n, x->c, x->h, x->w, L->w->data,
                   L->b ? L->b->data : NULL, s, st->a.data, st->b.data,
                   out->data);
    return 0;
}

/* Weight and input gradients of images [b0, b0 + m). */
static void conv_back_chunk(const nn_layer *L, const cgeo *g, float *col,
                            float *dyt, const float *x, const float *dy,
                            float *dx, int b0, int m)
{
    const nn_conv_spec *s = &L->conv;
    int N = m * (int)g->ohw;
    const float *dyb = dy + (size_t)b0 * s->cout * g->ohw;
    nn_im2col(x + (size_t)b0 * g->cin * g->ihw, m, g->cin, g->h, g->w, s,
              g->oh, g->ow, col);
    /* With one image the gradient already is [cout, N]. */
    const float *d = dyb;
    if (m > 1) {
        nn_nchw_to_cn(dyb, m, s->cout, (int)g->ohw, dyt);
        d = dyt;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->cout, g->K, N,
                1.0f, d, N, col, N, 1.0f, L->w->grad, g->K);
    if (!dx)
        return;
    /* The columns are not needed any more: they take d(col). */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->K, N, s->cout,
                1.0f, L->w->data, g->K, d, N, 0.0f, col, N);
    nn_col2im(col, m, g->cin, g->h, g->w, s, g->oh, g->ow,
              dx + (size_t)b0 * g->cin * g->ihw);
}

static int conv_backward(const nn_layer *L, nn_lstate *st,
                         const nn_tensor *const *in, int nin,
                         const nn_tensor *out, const nn_tensor *dout,
                         nn_tensor *const *din, int training, util_err *err)
{
    (void)nin, (void)training, (void)err;
    const nn_tensor *x = in[0];
    cgeo g = conv_geo(&L->conv, x->n, x->c, x->h, x->w);
    for (int b0 = 0; b0 < x->n; b0 += g.chunk)
        conv_back_chunk(L, &g, st->a.data, st->b.data, x->data, dout->data,
                        din[0] ? din[0]->data : NULL, b0,
                        x->n - b0 < g.chunk ? x->n - b0 : g.chunk);
    if (L->b)
        bias_grad(dout->data, out->n, L->conv.cout, g.ohw, L->b->grad);
    return 0;
}

static double conv_macs(const nn_layer *L, const nn_shape *in,
                        const nn_shape *out)
{
    return (double)out->c * out->h * out->w * in->c * L->conv.kh * L->conv.kw;
}

const nn_layer_ops nn_ops_conv2d = {
    "conv2d", conv_shape, conv_forward, conv_backward, NULL, conv_macs,
};

/* ---- transposed conv2d ---------------------------------------------------- */

static int deconv_shape(const nn_layer *L, const nn_shape *in, int nin,
                        nn_shape *out, util_err *err)
{
    (void)nin;
    const nn_conv_spec *s = &L->conv;
    int oh = nn_deconv_out(in->h, s->kh, s->sh, s->ph, s->oph);
    int ow = nn_deconv_out(in->w, s->kw, s->sw, s->pw, s->opw);
    if (oh <= 0 || ow <= 0)
        return util_errf(err, "deconv2d: no output for %dx%d input, kernel %dx%d pad %d,%d",
                         in->h, in->w, s->kh, s->kw, s->ph, s->pw);
    if (in->c != L->w->shape[0])
        return util_errf(err, "deconv2d: input has %d channels, weight expects %d",
                         in->c, L->w->shape[0]);
    /* cout*kh*kw is at most the weight's size, within int. */
    if (columns_beyond_int(s->cout * s->kh * s->kw, (size_t)in->h * (size_t)in->w))
        return util_errf(err, "deconv2d: the columns of one %dx%dx%d image for a "
                         "%dx%d kernel are more than %d values", in->c, in->h,
                         in->w, s->kh, s->kw, INT_MAX);
    *out = (nn_shape){in->n, s->cout, oh, ow};
    return 0;
}

/* Geometry of one deconv2d call: x [n, cin, h, w] -> y [n, cout, oh, ow];
 * KO = cout*kh*kw rows of columns per input position. */
typedef struct dgeo {
    int n, cin, h, w, oh, ow, KO, chunk;
    size_t hw, ohw;
} dgeo;

static dgeo deconv_geo(const nn_layer *L, const nn_tensor *x,
                       const nn_tensor *y)
{
    const nn_conv_spec *s = &L->conv;
    dgeo g = {x->n, x->c, x->h, x->w, y->h, y->w, s->cout * s->kh * s->kw, 0,
              (size_t)x->h * x->w, (size_t)y->h * y->w};
    g.chunk = chunk_images(x->n, (size_t)g.KO * g.hw);
    return g;
}

/* Input chunk as [cin, m*hw]; with one image it already is. */
static const float *chunk_cn(const dgeo *g, const float *x, int b0, int m,
                             float *buf)
{
    const float *xb = x + (size_t)b0 * g->cin * g->hw;
    if (m == 1)
        return xb;
    nn_nchw_to_cn(xb, m, g->cin, (int)g->hw, buf);
    return buf;
}

static int deconv_forward(const nn_layer *L, nn_lstate *st,
                          const nn_tensor *const *in, int nin, nn_tensor *out,
                          int training, util_rng *rng, util_err *err)
{
    (void)nin, (void)training, (void)rng;
    const nn_conv_spec *s = &L->conv;
    dgeo g = deconv_geo(L, in[0], out);
    size_t N = (size_t)g.chunk * g.hw;
    if (chunk_buffers(st, (size_t)g.KO * N, (size_t)g.cin * N, err))
        return -1;
    nn_tensor_zero(out);
    for (int b0 = 0; b0 < g.n; b0 += g.chunk) {
        int m = g.n - b0 < g.chunk ? g.n - b0 : g.chunk, Nm = m * (int)g.hw;
        const float *xt = chunk_cn(&g, in[0]->data, b0, m, st->b.data);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.KO, Nm, g.cin,
                    1.0f, L->w->data, g.KO, xt, Nm, 0.0f, st->a.data, Nm);
        nn_col2im(st->a.data, m, s->cout, g.oh, g.ow, s, g.h, g.w,
                  out->data + (size_t)b0 * s->cout * g.ohw);
    }
    if (L->b)
        add_bias(out->data, out->n, s->cout, g.ohw, L->b->data);
    return 0;
}

static void deconv_back_chunk(const nn_layer *L, const dgeo *g,
                              nn_lstate *st, const float *x, const float *dy,
                              float *dx, int b0, int m)
{
    const nn_conv_spec *s = &L->conv;
    int N = m * (int)g->hw;
    float *dcol = st->a.data;
    nn_im2col(dy + (size_t)b0 * s->cout * g->ohw, m, s->cout, g->oh, g->ow, s,
              g->h, g->w, dcol);
    const float *xt = chunk_cn(g, x, b0, m, st->b.data);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->cin, g->KO, N,
                1.0f, xt, N, dcol, N, 1.0f, L->w->grad, g->KO);
    if (!dx)
        return;
    /* d(x) as [cin, N] into b (xt is not needed any more). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cin, N, g->KO,
                1.0f, L->w->data, g->KO, dcol, N, 0.0f, st->b.data, N);
    nn_cn_to_nchw(st->b.data, m, g->cin, (int)g->hw,
                  dx + (size_t)b0 * g->cin * g->hw, 1);
}

static int deconv_backward(const nn_layer *L, nn_lstate *st,
                           const nn_tensor *const *in, int nin,
                           const nn_tensor *out, const nn_tensor *dout,
                           nn_tensor *const *din, int training, util_err *err)
{
    (void)nin, (void)training, (void)err;
    dgeo g = deconv_geo(L, in[0], out);
    for (int b0 = 0; b0 < g.n; b0 += g.chunk)
        deconv_back_chunk(L, &g, st, in[0]->data, dout->data,
                          din[0] ? din[0]->data : NULL, b0,
                          g.n - b0 < g.chunk ? g.n - b0 : g.chunk);
    if (L->b)
        bias_grad(dout->data, out->n, L->conv.cout, g.ohw, L->b->grad);
    return 0;
}

static double deconv_macs(const nn_layer *L, const nn_shape *in,
                          const nn_shape *out)
{
    (void)out;
    return (double)in->c * in->h * in->w * L->conv.cout * L->conv.kh * L->conv.kw;
}

const nn_layer_ops nn_ops_deconv2d = {
    "deconv2d", deconv_shape, deconv_forward, deconv_backward, NULL,
    deconv_macs,
};
