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

/* The accumulator of output channel oc at (oy, ox): bias plus the kernel
 * over the input positions that exist (zero padding adds nothing). */
static int32_t accumulate(const device_conv *L, const uint8_t *in, int oy, int ox,
                          int oc)
{
    int32_t acc = L->bias[oc];
    const int8_t *wk = L->w + (size_t)oc * L->k * L->k * L->cin;
    for (int ky = 0; ky < L->k; ky++) {
        int iy = oy * L->stride - L->pad + ky;
        if (iy < 0 || iy >= L->hin)
            continue;
        for (int kx = 0; kx < L->k; kx++) {
            int ix = ox * L->stride - L->pad + kx;
            if (ix < 0 || ix >= L->win)
                continue;
            const uint8_t *ip = in + ((size_t)iy * L->win + ix) * L->cin;
            const int8_t *wp = wk + ((size_t)ky * L->k + kx) * L->cin;
            for (int ic = 0; ic < L->cin; ic++)
                acc += (int32_t)wp[ic] * ip[ic];
        }
    }
    return acc;
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
    for (int oy = 0; oy < L->hout; oy++)
        for (int ox = 0; ox < L->wout; ox++) {
            uint8_t *op = out + ((size_t)oy * L->wout + ox) * L->cout;
            for (int oc = 0; oc < L->cout; oc++) {
                int32_t acc = accumulate(L, in, oy, ox, oc);
                if (L->relu && acc < 0)
                    acc = 0;
                if (levels)
                    levels[oc * plane + oy * L->wout + ox] = level_of(m, oc, acc);
                op[oc] = clamp_out(requant(acc, L->mult[oc], L->shift[oc]), L->relu);
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
