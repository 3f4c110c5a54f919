/*
 * Items converted to the size and channels a model takes (data_convert in
 * data/data.h): grey and RGB into each other, then torchvision's Resize
 * of the shorter side and CenterCrop in one step.
 *
 * The resize is PIL's antialiased bilinear filter (what torchvision's
 * Resize uses on PIL images), computed in floating point: output pixel i
 * along an axis is centred at source coordinate off + (i + 0.5) / scale and
 * averages the source pixels whose centres lie within `support` of it,
 * weighted by a triangle, 1 - distance / support, where support is one
 * source pixel when enlarging and 1 / scale source pixels when shrinking,
 * so that shrinking averages every source pixel rather than skipping
 * some. The scale is the one that makes the image just cover the target,
 * and off centres the crop exactly (not rounded to whole pixels as
 * torchvision's two steps are).
 */
#include "data/data_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The source pixels and weights of every output pixel along one axis:
 * output i uses n[i] pixels from lo[i], weights w[i * max ...]. */
typedef struct taps {
    int *lo, *n, max;
    float *w;
} taps;

static void taps_free(taps *t)
{
    free(t->lo);
    free(t->n);
    free(t->w);
}

static int make_taps(int in, int out, double inv, double off, taps *t)
{
    double support = inv > 1 ? inv : 1;
    t->max = (int)ceil(2 * support) + 3;
    t->lo = malloc((size_t)out * sizeof *t->lo);
    t->n = malloc((size_t)out * sizeof *t->n);
    t->w = malloc((size_t)out * (size_t)t->max * sizeof *t->w);
    if (!t->lo || !t->n || !t->w)
        return -1;
    for (int i = 0; i < out; i++) {
        double cx = off + (i + 0.5) * inv, sum = 0;
        int lo = (int)floor(cx - support), hi = (int)ceil(cx + support), n = 0;
        lo = lo < 0 ? 0 : lo;
        hi = hi > in - 1 ? in - 1 : hi;
        float *w = t->w + (size_t)i * t->max;
        for (int j = lo; j <= hi && n < t->max; j++) {
            double d = fabs(j + 0.5 - cx) / support;
            w[n] = (float)(d < 1 ? 1 - d : 0);
            sum += w[n++];
        }
        /* the nearest source pixel is within half a pixel: sum > 0 */
        for (int k = 0; k < n; k++)
            w[k] = (float)(w[k] / sum);
        t->lo[i] = lo;
        t->n[i] = n;
    }
    return 0;
}

static uint8_t to_byte(float v)
{
    return (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : floorf(v + 0.5f));
}

/* Rows first (into tmp, in->h rows of out->w pixels), then columns. */
static void resample(const util_image *in, const taps *tx, const taps *ty, float *tmp,
                     util_image *out)
{
    int c = in->c;
    for (int y = 0; y < in->h; y++) {
        const uint8_t *row = in->px + (size_t)y * in->w * c;
        for (int x = 0; x < out->w; x++) {
            const float *w = tx->w + (size_t)x * tx->max;
            for (int k = 0; k < c; k++) {
                float v = 0;
                for (int j = 0; j < tx->n[x]; j++)
                    v += w[j] * row[(size_t)(tx->lo[x] + j) * c + k];
                tmp[((size_t)y * out->w + x) * c + k] = v;
            }
        }
    }
    size_t stride = (size_t)out->w * c;
    for (int y = 0; y < out->h; y++) {
        const float *w = ty->w + (size_t)y * ty->max;
        for (size_t i = 0; i < stride; i++) {
            float v = 0;
            for (int j = 0; j < ty->n[y]; j++)
                v += w[j] * tmp[(size_t)(ty->lo[y] + j) * stride + i];
            out->px[(size_t)y * stride + i] = to_byte(v);
        }
    }
}

static int resize(const util_image *in, int w, int h, util_image *out, util_err *err)
{
    if (util_image_alloc(out, w, h, in->c, err))
        return -1;
    if (w == in->w && h == in->h) {
        memcpy(out->px, in->px, util_image_size(in));
        return 0;
    }
    double sx = (double)w / in->w, sy = (double)h / in->h;
    double inv = 1 / (sx > sy ? sx : sy);
    taps tx = {0}, ty = {0};
    float *tmp = malloc((size_t)in->h * w * in->c * sizeof *tmp);
    int rc = !tmp || make_taps(in->w, w, inv, (in->w - w * inv) / 2, &tx) ||
             make_taps(in->h, h, inv, (in->h - h * inv) / 2, &ty);
    if (rc)
        util_errf(err, "out of memory resizing %dx%d to %dx%d", in->w, in->h, w, h);
    else
        resample(in, &tx, &ty, tmp, out);
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    if (rc)
        util_image_free(out);
    return rc ? -1 : 0;
}

static void to_channels(const util_image *in, util_image *out)
{
    size_t n = (size_t)in->w * in->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = in->px + i * in->c;
        if (in->c == out->c)
            memcpy(out->px + i * out->c, p, (size_t)in->c);
        else if (out->c == 1)
            out->px[i] = util_luma(p);
        else
            memset(out->px + i * 3, p[0], 3);
    }
}

int data_convert(const util_image *img, int c, int w, int h, util_image *out,
                 util_err *err)
{
    out->px = NULL;
    util_image grey_or_rgb;
    if (util_image_alloc(&grey_or_rgb, img->w, img->h, c, err))
        return -1;
    to_channels(img, &grey_or_rgb);
    if (w <= 0) {
        *out = grey_or_rgb;
        return 0;
    }
    int rc = resize(&grey_or_rgb, w, h, out, err);
    util_image_free(&grey_or_rgb);
    return rc;
}
