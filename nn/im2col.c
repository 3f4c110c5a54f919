/* im2col / col2im over a whole batch, and the reference convolution loops.
 *
 * The batch goes into one column matrix [c*kh*kw, n*oh*ow] so that a
 * convolution is one large GEMM rather than n small ones: OpenBLAS only
 * reaches its speed (and uses both cores) on large matrices. */
#include "nn/nn_impl.h"
#include "nn/vec.h"

#include <limits.h>
#include <string.h>

/* Range of output columns ox whose input column ox*s - p + kj lies in
 * [0, iw): [*lo, *hi). */
static void valid_range(int ow, int iw, int s, int p, int kj, int *lo, int *hi)
{
    int a = p - kj; /* need ox*s >= a */
    int l = a <= 0 ? 0 : (a + s - 1) / s;
    int b = iw - 1 + p - kj; /* need ox*s <= b */
    int h = b < 0 ? 0 : b / s + 1;
    if (h > ow)
        h = ow;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Rows [*y0, *y1) and the column offset of a stride-1 kernel tap whose
 * output plane has the input plane's width: output (oy, ox) reads input
 * (oy + dy, ox + dx). */
typedef struct tap {
    int dy, dx, y0, y1;
} tap;

static tap tap_of(const nn_conv_spec *s, int ki, int kj, int ih, int oh)
{
    tap t = {ki - s->ph, kj - s->pw, 0, oh};
    if (t.y0 < -t.dy)
        t.y0 = -t.dy;
    if (t.y1 > ih - t.dy)
        t.y1 = ih - t.dy;
    if (t.y1 < t.y0)
        t.y1 = t.y0;
    return t;
}

/* Same-width stride-1 convolutions (3x3 pad 1, the common case) move a
 * whole plane at once: a plane with its rows in place is one contiguous
 * block, shifted by dy rows and dx columns. Only the |dx| columns that
 * wrap around into the next row need fixing. Row-by-row copies of 14 or 28
 * floats spend more time in call overhead than in copying. */
static int whole_plane(const nn_conv_spec *s, int iw, int ow)
{
    return s->sh == 1 && s->sw == 1 && ow == iw && s->pw < iw &&
           s->kw - s->pw <= iw;
}

/* The columns of rows [y0, y1) whose input column is outside the image
 * (usually one per row: stores, as a memset call per float costs more). */
static void zero_wrapped(float *plane, int ow, const tap *t)
{
    int a = t->dx < 0 ? 0 : ow - t->dx, b = t->dx < 0 ? -t->dx : ow;
    for (int y = t->y0; y < t->y1; y++)
        for (int x = a; x < b; x++)
            plane[(size_t)y * ow + x] = 0.0f;
}

/* The block of output indices [*d0, *d1) that reads input index
 * i + off, clipped to the input plane; what is clipped is wrapped. */
static void block(const tap *t, int ih, int iw, long *d0, long *d1, long *off)
{
    *off = (long)t->dy * iw + t->dx;
    *d0 = (long)t->y0 * iw;
    *d1 = (long)t->y1 * iw;
    if (*d0 + *off < 0)
        *d0 = -*off;
    if (*d1 + *off > (long)ih * iw)
        *d1 = (long)ih * iw - *off;
    if (*d1 < *d0)
        *d1 = *d0;
}

static void plane_im2col_fast(const float *src, int ih, int iw, const tap *t,
                              int oh, float *dst)
{
    long d0, d1, off;
    block(t, ih, iw, &d0, &d1, &off);
    memset(dst, 0, (size_t)d0 * sizeof *dst);
    memcpy(dst + d0, src + d0 + off, (size_t)(d1 - d0) * sizeof *dst);
    memset(dst + d1, 0, (size_t)((long)oh * iw - d1) * sizeof *dst);
    zero_wrapped(dst, iw, t);
}

/* Clobbers the wrapped entries of col (scratch by then). */
static void plane_col2im_fast(float *col, int ih, int iw, const tap *t,
                              float *dst)
{
    long d0, d1, off;
    zero_wrapped(col, iw, t);
    block(t, ih, iw, &d0, &d1, &off);
    if (d1 > d0)
        nn_vec_add(col + d0, dst + d0 + off, (size_t)(d1 - d0));
}

/* General geometry, one output row at a time. */
static void plane_im2col(const float *plane, int ih, int iw,
                         const nn_conv_spec *s, int ki, int kj, int oh,
                         int ow, float *out)
{
    int lo, hi;
    valid_range(ow, iw, s->sw, s->pw, kj, &lo, &hi);
    for (int oy = 0; oy < oh; oy++) {
        float *dst = out + (size_t)oy * ow;
        int iy = oy * s->sh - s->ph + ki;
        if (iy < 0 || iy >= ih) {
            memset(dst, 0, (size_t)ow * sizeof *dst);
            continue;
        }
        const float *src = plane + (size_t)iy * iw;
        int base = kj - s->pw; /* lo * sw + base >= 0 */
        memset(dst, 0, (size_t)lo * sizeof *dst);
        if (s->sw == 1 && hi > lo)
            memcpy(dst + lo, src + lo + base, (size_t)(hi - lo) * sizeof *dst);
        else
            for (int ox = lo; ox < hi; ox++)
                dst[ox] = src[ox * s->sw + base];
        memset(dst + hi, 0, (size_t)(ow - hi) * sizeof *dst);
    }
}

static void plane_col2im(const float *in, int ih, int iw,
                         const nn_conv_spec *s, int ki, int kj, int oh,
                         int ow, float *plane)
{
    int lo, hi;
    valid_range(ow, iw, s->sw, s->pw, kj, &lo, &hi);
    for (int oy = 0; oy < oh; oy++) {
        int iy = oy * s->sh - s->ph + ki;
        if (iy < 0 || iy >= ih)
            continue;
        const float *src = in + (size_t)oy * ow;
        float *dst = plane + (size_t)iy * iw;
        int base = kj - s->pw;
        if (s->sw == 1 && hi > lo)
            nn_vec_add(src + lo, dst + lo + base, (size_t)(hi - lo));
        else
            for (int ox = lo; ox < hi; ox++)
                dst[ox * s->sw + base] += src[ox];
    }
}

void nn_im2col(const float *img, int n, int c, int ih, int iw,
               const nn_conv_spec *s, int oh, int ow, float *col)
{
    size_t N = (size_t)n * oh * ow, ohw = (size_t)oh * ow, ihw = (size_t)ih * iw;
    int fast = whole_plane(s, iw, ow);
    for (int ci = 0; ci < c; ci++)
        for (int ki = 0; ki < s->kh; ki++)
            for (int kj = 0; kj < s->kw; kj++) {
                float *row = col + ((size_t)(ci * s->kh + ki) * s->kw + kj) * N;
                tap t = tap_of(s, ki, kj, ih, oh);
                for (int b = 0; b < n; b++) {
                    const float *plane = img + ((size_t)b * c + ci) * ihw;
                    if (fast)
                        plane_im2col_fast(plane, ih, iw, &t, oh, row + b * ohw);
                    else
                        plane_im2col(plane, ih, iw, s, ki, kj, oh, ow, row + b * ohw);
                }
            }
}

void nn_col2im(float *col, int n, int c, int ih, int iw,
               const nn_conv_spec *s, int oh, int ow, float *img)
{
    size_t N = (size_t)n * oh * ow, ohw = (size_t)oh * ow, ihw = (size_t)ih * iw;
    int fast = whole_plane(s, iw, ow);
    for (int ci = 0; ci < c; ci++)
        for (int ki = 0; ki < s->kh; ki++)
            for (int kj = 0; kj < s->kw; kj++) {
                float *row = col + ((size_t)(ci * s->kh + ki) * s->kw + kj) * N;
                tap t = tap_of(s, ki, kj, ih, oh);
                for (int b = 0; b < n; b++) {
                    float *plane = img + ((size_t)b * c + ci) * ihw;
                    if (fast)
                        plane_col2im_fast(row + b * ohw, ih, iw, &t, plane);
                    else
                        plane_col2im(row + b * ohw, ih, iw, s, ki, kj, oh, ow, plane);
                }
            }
}

/* In 64 bits: the sizes come from model files, and a stride of 10^6 on
 * a side of 65536 overflows int. */
int nn_conv_out(int in, int k, int s, int p)
{
    if (in <= 0 || k <= 0 || s <= 0 || p < 0 || (int64_t)in + 2 * (int64_t)p < k)
        return -1;
    int64_t o = ((int64_t)in + 2 * (int64_t)p - k) / s + 1;
    return o <= INT_MAX ? (int)o : -1;
}

int nn_deconv_out(int in, int k, int s, int p, int op)
{
    if (in <= 0 || k <= 0 || s <= 0 || p < 0 || op < 0 || op >= s)
        return -1;
    int64_t o = ((int64_t)in - 1) * s - 2 * (int64_t)p + k + op;
    return o > 0 && o <= INT_MAX ? (int)o : -1;
}

void nn_conv2d_naive(const float *x, int n, int cin, int h, int w,
                     const float *wt, const float *bias,
                     const nn_conv_spec *s, float *y)
{
    int oh = nn_conv_out(h, s->kh, s->sh, s->ph);
    int ow = nn_conv_out(w, s->kw, s->sw, s->pw);
    for (int b = 0; b < n; b++)
        for (int co = 0; co < s->cout; co++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    float acc = bias ? bias[co] : 0.0f;
                    for (int ci = 0; ci < cin; ci++)
                        for (int ki = 0; ki < s->kh; ki++) {
                            int iy = oy * s->sh - s->ph + ki;
                            if (iy < 0 || iy >= h)
                                continue;
                            for (int kj = 0; kj < s->kw; kj++) {
                                int ix = ox * s->sw - s->pw + kj;
                                if (ix < 0 || ix >= w)
                                    continue;
                                acc += x[(((size_t)b * cin + ci) * h + iy) * w + ix] *
                                       wt[(((size_t)co * cin + ci) * s->kh + ki) * s->kw + kj];
                            }
                        }
                    y[(((size_t)b * s->cout + co) * oh + oy) * ow + ox] = acc;
                }
}

void nn_deconv2d_naive(const float *x, int n, int cin, int h, int w,
                       const float *wt, const float *bias,
                       const nn_conv_spec *s, float *y)
{
    int oh = nn_deconv_out(h, s->kh, s->sh, s->ph, s->oph);
    int ow = nn_deconv_out(w, s->kw, s->sw, s->pw, s->opw);
    size_t plane = (size_t)oh * ow;
    for (int b = 0; b < n; b++)
        for (int co = 0; co < s->cout; co++)
            for (size_t i = 0; i < plane; i++)
                y[((size_t)b * s->cout + co) * plane + i] = bias ? bias[co] : 0.0f;
    /* Each input value scatters a weighted kernel into the output. */
    for (int b = 0; b < n; b++)
        for (int ci = 0; ci < cin; ci++)
            for (int iy = 0; iy < h; iy++)
                for (int ix = 0; ix < w; ix++) {
                    float v = x[(((size_t)b * cin + ci) * h + iy) * w + ix];
                    for (int co = 0; co < s->cout; co++)
                        for (int ki = 0; ki < s->kh; ki++) {
                            int oy = iy * s->sh - s->ph + ki;
                            if (oy < 0 || oy >= oh)
                                continue;
                            for (int kj = 0; kj < s->kw; kj++) {
                                int ox = ix * s->sw - s->pw + kj;
                                if (ox < 0 || ox >= ow)
                                    continue;
                                y[((size_t)b * s->cout + co) * plane + (size_t)oy * ow + ox] +=
                                    v * wt[(((size_t)ci * s->cout + co) * s->kh + ki) * s->kw + kj];
                            }
                        }
                }
}
