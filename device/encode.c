/*
 * The device's networks in int8 (device/device.h): the encoder, which
 * also turns its last accumulators into latent levels, and the saliency
 * head, whose sigmoid outputs are averaged into the side grid.
 *
 * The work buffer holds two activation planes used in turn: each layer
 * reads one and writes the other, the image being the first layer's
 * input where it already lies.
 */
#include "device/device.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

/* Rounded acc * mult / 2^shift. The right shift of a negative int64 is
 * arithmetic on every compiler we build with (GCC documents it); a
 * division would round the other way and cost a library call on the M7. */
static int32_t requant(int32_t acc, int32_t mult, uint8_t shift)
{
    int64_t p = (int64_t)acc * mult + ((int64_t)1 << (shift - 1));
    return (int32_t)(p >> shift);
}

static uint8_t clamp_out(int32_t v, int relu)
{
    int lo = relu ? 0 : -128, hi = relu ? 255 : 127;
    v = v < lo ? lo : v > hi ? hi : v;
    return (uint8_t)(relu ? v : (uint8_t)(int8_t)v);
}

#if defined(__ARM_FEATURE_DSP)
static uint32_t ror8(uint32_t v)
{
    return (v >> 8) | (v << 24);
}

/* Two SMLADs: s + w . a over four bytes, a already widened to its 16-bit
 * pairs a02 (bytes 0 and 2) and a13 (1 and 3). */
static int32_t mac4(int32_t s, const int8_t *w, int32_t a02, int32_t a13)
{
    uint32_t wv;
    __builtin_memcpy(&wv, w, 4); /* one unaligned LDR */
    s = __smlad(a02, __sxtb16((int32_t)wv), s);
    return __smlad(a13, __sxtb16((int32_t)ror8(wv)), s);
}
#endif

/* acc[0..nc-1] += the dot products of n activations with the weights of
 * nc (1 to 4) output channels, stride bytes apart. One pass over the
 * activations serves every channel; on a core with the DSP extension (the
 * M7) four activations at a time are widened once and each channel takes
 * two SMLADs of two multiply-accumulates. The sums are the same integers
 * as the plain loop's, so both builds give the same bytes. */
static void dot(const int8_t *w, size_t stride, int nc, const uint8_t *a, int n,
                int32_t *acc)
{
    int i = 0;
#if defined(__ARM_FEATURE_DSP)
    if (nc == 4) {
        int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
        for (; i + 4 <= n; i += 4) {
            uint32_t av;
            __builtin_memcpy(&av, a + i, 4);
            int32_t a02 = (int32_t)__uxtb16(av), a13 = (int32_t)__uxtb16(ror8(av));
            s0 = mac4(s0, w + i, a02, a13);
            s1 = mac4(s1, w + stride + i, a02, a13);
            s2 = mac4(s2, w + 2 * stride + i, a02, a13);
            s3 = mac4(s3, w + 3 * stride + i, a02, a13);
        }
        acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
    }
#endif
    for (; i < n; i++)
        for (int c = 0; c < nc; c++)
            acc[c] += (int32_t)w[c * stride + i] * a[i];
}

/* The accumulators of output channels oc.. oc + nc - 1 at (oy, ox): bias
 * plus the kernel over the input positions that exist (zero padding adds
 * nothing). With activations height x width x channels and weights
 * [k][k][cin], each kernel row is one contiguous run of (columns inside)
 * x cin bytes in both, so the inner loop is one dot product per row.
 * patch, when not NULL, is the kernel's input gathered by gather(). */
static void accumulate(const device_conv *L, const uint8_t *in, const uint8_t *patch,
                       int oy, int ox, int oc, int nc, int32_t *acc)
{
    size_t per = (size_t)L->k * L->k * L->cin;
    const int8_t *wk = L->w + oc * per;
    int x0 = ox * L->stride - L->pad, kx0 = x0 < 0 ? -x0 : 0;
    int kx1 = x0 + L->k > L->win ? L->win - x0 : L->k; /* one past the last */
    int run = (kx1 - kx0) * L->cin;
    for (int c = 0; c < nc; c++)
        acc[c] = L->bias[oc + c];
    if (patch) { /* the whole kernel is one run */
        dot(wk, per, nc, patch, (int)per, acc);
        return;
    }
    for (int ky = 0; ky < L->k; ky++) {
        int iy = oy * L->stride - L->pad + ky;
        if (iy < 0 || iy >= L->hin)
            continue;
        dot(wk + ((size_t)ky * L->k + kx0) * L->cin, per, nc,
            in + ((size_t)iy * L->win + x0 + kx0) * L->cin, run, acc);
    }
}

/* The k x k x cin inputs under the kernel at (oy, ox), zero outside the
 * image, in the weights' order. For a layer whose rows are short runs of
 * few channels (the first layer: one or three), one dot product over the
 * gathered patch costs far less than k short ones per output channel. */
#define PATCH_MAX 256

static void gather(const device_conv *L, const uint8_t *in, int oy, int ox, uint8_t *patch)
{
    int row = L->k * L->cin, x0 = ox * L->stride - L->pad;
    int kx0 = x0 < 0 ? -x0 : 0, kx1 = x0 + L->k > L->win ? L->win - x0 : L->k;
    int lo = kx0 * L->cin, hi = kx1 * L->cin; /* the bytes of a row inside */
    for (int ky = 0; ky < L->k; ky++, patch += row) {
        int iy = oy * L->stride - L->pad + ky;
        if (iy < 0 || iy >= L->hin) {
            for (int i = 0; i < row; i++)
                patch[i] = 0;
            continue;
        }
        const uint8_t *ip = in + ((size_t)iy * L->win + x0) * L->cin;
        for (int i = 0; i < lo; i++)
            patch[i] = 0;
        for (int i = lo; i < hi; i++)
            patch[i] = ip[i];
        for (int i = hi; i < row; i++)
            patch[i] = 0;
    }
}

/* Level of accumulator acc of channel j: the thresholds ascend, so a
 * binary search finds how many of them acc reaches. */
static uint8_t level_of(const device_model *m, int j, int32_t acc)
{
    const int32_t *t = m->thresh + (size_t)j * (m->levels - 1);
    int lo = 0, hi = m->levels - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (acc >= t[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

/* One layer from in to out; levels, when not NULL, receives the level of
 * every output (the encoder's last layer). */
static void conv(const device_model *m, const device_conv *L, const uint8_t *in,
                 uint8_t *out, uint8_t *levels)
{
    int plane = L->hout * L->wout;
    uint8_t buf[PATCH_MAX];
    int gathered = L->cin % 4 && L->k * L->k * L->cin <= PATCH_MAX;
    for (int oy = 0; oy < L->hout; oy++)
        for (int ox = 0; ox < L->wout; ox++) {
            uint8_t *op = out + ((size_t)oy * L->wout + ox) * L->cout;
            if (gathered)
                gather(L, in, oy, ox, buf);
            for (int oc = 0; oc < L->cout; oc += 4) {
                int32_t acc[4];
                int nc = L->cout - oc < 4 ? L->cout - oc : 4;
                accumulate(L, in, gathered ? buf : NULL, oy, ox, oc, nc, acc);
                for (int c = 0; c < nc; c++) {
                    int32_t v = L->relu && acc[c] < 0 ? 0 : acc[c];
                    if (levels)
                        levels[(oc + c) * plane + oy * L->wout + ox] = level_of(m, oc + c, v);
                    op[oc + c] = clamp_out(requant(v, L->mult[oc + c], L->shift[oc + c]),
                                           L->relu);
                }
            }
        }
}

/* Cell of latent row y (or column) when n rows are split into grid
 * cells: the same rule as codec/ln_model.c. */
static int cell_of(int y, int n, int grid)
{
    return y * grid / n;
}

/* The side grid from the saliency head's last (signed) outputs: the mean
 * of the sigmoid over each cell, rounded to 0..31. */
static void side_grid(const device_model *m, const uint8_t *pre, uint8_t *cells)
{
    uint32_t sum[DEVICE_MAX_GRID * DEVICE_MAX_GRID] = {0};
    uint32_t cnt[DEVICE_MAX_GRID * DEVICE_MAX_GRID] = {0};
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++) {
            int k = cell_of(y, m->h, m->grid) * m->grid + cell_of(x, m->w, m->grid);
            sum[k] += m->sigmoid[(int8_t)pre[y * m->w + x] + 128];
            cnt[k]++;
        }
    uint32_t top = DEVICE_SIDE_LEVELS - 1;
    for (int k = 0; k < m->grid * m->grid; k++) {
        uint64_t den = (uint64_t)cnt[k] * 65535u;
        cells[k] = (uint8_t)(den ? ((uint64_t)sum[k] * top * 2 + den) / (2 * den) : 0);
    }
}

int device_encode(const device_model *m, const uint8_t *image, uint8_t *levels,
                  uint8_t *cells, void *work)
{
    if (!m->nenc || (cells && !m->nsal) || m->grid > DEVICE_MAX_GRID)
        return DEVICE_EARG;
    uint8_t *plane[2] = {work, work};
    size_t half = 0;
    for (int i = 0; i < m->nenc + m->nsal; i++) {
        const device_conv *L = i < m->nenc ? &m->enc[i] : &m->sal[i - m->nenc];
        size_t n = (size_t)L->hout * L->wout * L->cout;
        half = n > half ? n : half;
    }
    half = (half + 3) & ~(size_t)3;
    plane[1] = plane[0] + half;
    const uint8_t *in = image;
    int turn = 0;
    for (int i = 0; i < m->nenc; i++, turn ^= 1) {
        conv(m, &m->enc[i], in, plane[turn], i == m->nenc - 1 ? levels : NULL);
        in = plane[turn];
    }
    if (!cells)
        return DEVICE_OK;
    for (int i = 0; i < m->nsal; i++, turn ^= 1) {
        conv(m, &m->sal[i], in, plane[turn], NULL);
        in = plane[turn];
    }
    side_grid(m, in, cells);
    return DEVICE_OK;
}
