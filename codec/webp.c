/*
 * WebP baseline via libwebp: lossy (VP8 key frame), one shot.
 *
 * Parameters: "quality" (0..100, libwebp's), "method" (0..6, libwebp's
 * speed/size trade-off, 4 as cwebp) and "header" ("riff": the .webp file
 * as libwebp writes it; "none": only the VP8 frame, without the 20 bytes
 * of RIFF and chunk headers and the 7 bytes of start code and image size
 * in the frame header, which both ends know; the decoder rebuilds them).
 *
 * Grey images are coded as the luma plane with neutral chroma and decoded
 * from the luma plane, sample for sample: going through RGB would squeeze
 * them into the 16..235 video range and back. RGB images go through
 * libwebp's own RGB to YUV 4:2:0 conversion.
 *
 * Not progressive: the image is decoded only when every packet arrived,
 * and is flat grey otherwise, so every packet has the top priority
 * (codec.h). (libwebp's incremental decoder could show
 * the macroblock rows that a prefix completes, as a sequential JPEG does;
 * we do not count that.) libwebp reports errors through return codes and
 * never prints.
 */
#include "codec/codec_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

#define GREY 128
#define RIFF_LEN 20          /* "RIFF" size "WEBP" "VP8 " size */
#define TAG_LEN 3            /* VP8 frame tag */
#define KNOWN_LEN 7          /* key frame start code, width, height */

enum { HEADER_RIFF, HEADER_NONE };
static const char *const header_names[] = { "riff", "none", NULL };

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

typedef struct wp_state {
    int quality, method, header;
    buf in;          /* decoder input as libwebp sees it */
    buf chroma;      /* grey decode: the U and V planes, thrown away */
} wp_state;

static int buf_reserve(buf *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    uint8_t *p = realloc(b->data, n);
    if (!p)
        return -1;
    b->data = p;
    b->cap = n;
    return 0;
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void wr32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned rd16le(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* ---- encoding ---------------------------------------------------------------- */

static const char *picture_error(WebPEncodingError e)
{
    switch (e) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_ENC_ERROR_BAD_DIMENSION:
        return "bad image dimensions";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
        return "partition overflow";
    default:
        return "encoding failed";
    }
}

static void fill_grey(WebPPicture *pic, const util_image *img)
{
    for (int y = 0; y < img->h; y++)
        memcpy(pic->y + (size_t)y * (size_t)pic->y_stride,
               img->px + (size_t)y * (size_t)img->w, (size_t)img->w);
    int cw = (img->w + 1) / 2, ch = (img->h + 1) / 2;
    for (int y = 0; y < ch; y++) {
        memset(pic->u + (size_t)y * (size_t)pic->uv_stride, GREY, (size_t)cw);
        memset(pic->v + (size_t)y * (size_t)pic->uv_stride, GREY, (size_t)cw);
    }
}

/* The whole .webp file of img into w (which the caller clears). */
static int compress(const wp_state *st, const util_image *img,
                    WebPMemoryWriter *w, util_err *err)
{
    WebPConfig cfg;
    WebPPicture pic;
    if (!WebPConfigPreset(&cfg, WEBP_PRESET_DEFAULT, (float)st->quality) ||
        !WebPPictureInit(&pic))
        return util_errf(err, "webp: libwebp version mismatch");
    cfg.method = st->method;
    pic.width = img->w;
    pic.height = img->h;
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = w;
    int ok;
    if (img->c == 1) {
        pic.use_argb = 0;
        pic.colorspace = WEBP_YUV420;
        ok = WebPPictureAlloc(&pic);
        if (ok)
            fill_grey(&pic, img);
    } else {
        pic.use_argb = 0;
        ok = WebPPictureImportRGB(&pic, img->px, img->w * 3);
    }
    ok = ok && WebPEncode(&cfg, &pic);
    int rc = ok ? 0 : util_errf(err, "webp encoder: %s",
                                picture_error(pic.error_code));
    WebPPictureFree(&pic);
    return rc;
}

/* Header none: where the frame starts in the file and how long it is,
 * after checking that the bytes left out are the ones the decoder will
 * put back. */
static int frame_of(const uint8_t *p, size_t n, const util_image *img,
                    size_t *len, util_err *err)
{
    static const uint8_t start[3] = { 0x9D, 0x01, 0x2A };
    if (n < RIFF_LEN + TAG_LEN + KNOWN_LEN || memcmp(p, "RIFF", 4) != 0 ||
        memcmp(p + 8, "WEBPVP8 ", 8) != 0)
        return util_errf(err, "webp: not a simple lossy file");
    size_t l = rd32le(p + 16);
    const uint8_t *f = p + RIFF_LEN;
    if (l < TAG_LEN + KNOWN_LEN || l > n - RIFF_LEN || (f[0] & 1) != 0 ||
        memcmp(f + TAG_LEN, start, 3) != 0 ||
        rd16le(f + 6) != (unsigned)img->w || rd16le(f + 8) != (unsigned)img->h)
        return util_errf(err, "webp: unexpected VP8 frame header");
    *len = l;
    return 0;
}

static int wp_encode(void *state, const util_image *img, size_t payload,
                     codec_stream *out, util_err *err)
{
    wp_state *st = state;
    if (img->c != 1 && img->c != 3)
        return util_errf(err, "webp: can encode grey or RGB images, not %d "
                              "channels", img->c);
    if (img->w > WEBP_MAX_DIMENSION || img->h > WEBP_MAX_DIMENSION)
        return util_errf(err, "webp: image %dx%d is larger than %d", img->w,
                         img->h, WEBP_MAX_DIMENSION);
    WebPMemoryWriter w;
    WebPMemoryWriterInit(&w);
    int rc = compress(st, img, &w, err);
    if (rc == 0 && st->header == HEADER_RIFF) {
        rc = codec_stream_split(out, w.mem, w.size, payload, err);
    } else if (rc == 0) {
        size_t l = 0;
        rc = frame_of(w.mem, w.size, img, &l, err);
        if (rc == 0) {
            /* The tag, then the frame after the known fields, as one run. */
            uint8_t *f = w.mem + RIFF_LEN;
            memmove(f + KNOWN_LEN, f, TAG_LEN);
            rc = codec_stream_split(out, f + KNOWN_LEN, l - KNOWN_LEN,
                                    payload, err);
        }
    }
    WebPMemoryWriterClear(&w);
    /* Not progressive: one lost packet loses the picture. */
    if (rc == 0)
        codec_stream_rank(out, out->n);
    return rc;
}

/* ---- decoding ---------------------------------------------------------------- */

/* Header none: the file that the frame came from, into st->in. */
static int rebuild(wp_state *st, const codec_stream *s, size_t total,
                   const util_image *out)
{
    if (total < TAG_LEN)
        return 1;
    size_t l = total + KNOWN_LEN, pad = l & 1;
    if (buf_reserve(&st->in, RIFF_LEN + l + pad) != 0)
        return -1;
    uint8_t *p = st->in.data, *f = p + RIFF_LEN;
    memcpy(p, "RIFF", 4);
    wr32le(p + 4, (uint32_t)(4 + 8 + l + pad));
    memcpy(p + 8, "WEBPVP8 ", 8);
    wr32le(p + 16, (uint32_t)l);
    size_t pos = TAG_LEN + KNOWN_LEN;
    uint8_t tag[TAG_LEN];
    size_t got = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->pkt[i].len; j++, got++) {
            if (got < TAG_LEN)
                tag[got] = s->pkt[i].data[j];
            else
                f[pos++] = s->pkt[i].data[j];
        }
    memcpy(f, tag, TAG_LEN);
    f[3] = 0x9D;
    f[4] = 0x01;
    f[5] = 0x2A;
    f[6] = (uint8_t)out->w;
    f[7] = (uint8_t)(out->w >> 8);
    f[8] = (uint8_t)out->h;
    f[9] = (uint8_t)(out->h >> 8);
    if (pad)
        f[l] = 0;
    st->in.len = RIFF_LEN + l + pad;
    return 0;
}

static int gather(wp_state *st, const codec_stream *s, size_t total,
                  const util_image *out)
{
    if (st->header == HEADER_NONE)
        return rebuild(st, s, total, out);
    if (buf_reserve(&st->in, total) != 0)
        return -1;
    st->in.len = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->pkt[i].len)
            memcpy(st->in.data + st->in.len, s->pkt[i].data, s->pkt[i].len);
        st->in.len += s->pkt[i].len;
    }
    return 0;
}

static int decompress(wp_state *st, util_image *out)
{
    int w, h;
    const uint8_t *p = st->in.data;
    size_t n = st->in.len;
    if (!WebPGetInfo(p, n, &w, &h) || w != out->w || h != out->h)
        return -1;
    size_t px = (size_t)out->w * (size_t)out->h;
    if (out->c == 3)
        return WebPDecodeRGBInto(p, n, out->px, px * 3, out->w * 3) ? 0 : -1;
    int cw = (out->w + 1) / 2, ch = (out->h + 1) / 2;
    size_t csize = (size_t)cw * (size_t)ch;
    if (buf_reserve(&st->chroma, 2 * csize) != 0)
        return -1;
    return WebPDecodeYUVInto(p, n, out->px, px, out->w, st->chroma.data,
                             csize, cw, st->chroma.data + csize, csize, cw)
               ? 0 : -1;
}

static int wp_decode(void *state, const codec_stream *s,
                     const uint8_t *arrived, util_image *out, util_err *err)
{
    wp_state *st = state;
    if (out->c != 1 && out->c != 3)
        return util_errf(err, "webp: can decode into grey or RGB images, not "
                              "%d channels", out->c);
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!arrived[i]) {
            util_image_fill(out, GREY);
            return 0;
        }
        total += s->pkt[i].len;
    }
    int rc = total ? gather(st, s, total, out) : 1;
    if (rc < 0)
        return util_errf(err, "webp: out of memory for %zu bytes", total);
    if (rc > 0 || decompress(st, out) != 0)
        util_image_fill(out, GREY);
    return 0;
}

/* ---- setup ------------------------------------------------------------------- */

static void wp_destroy(void *state)
{
    wp_state *st = state;
    if (!st)
        return;
    free(st->in.data);
    free(st->chroma.data);
    free(st);
}

static int wp_create(util_params *params, void **state, char *label,
                     size_t label_len, util_err *err)
{
    wp_state *st = calloc(1, sizeof *st);
    if (!st)
        return util_errf(err, "webp: out of memory");
    const char *header;
    long q, m;
    if (util_params_int(params, "quality", 75, 0, 100, &q, err) != 0 ||
        util_params_int(params, "method", 4, 0, 6, &m, err) != 0 ||
        util_params_str(params, "header", "riff", header_names, &header,
                        err) != 0) {
        wp_destroy(st);
        return -1;
    }
    st->quality = (int)q;
    st->method = (int)m;
    st->header = strcmp(header, "riff") == 0 ? HEADER_RIFF : HEADER_NONE;
    size_t off = 0;
    util_appendf(label, label_len, &off, "webp-q%d", st->quality);
    if (st->method != 4)
        util_appendf(label, label_len, &off, "-m%d", st->method);
    if (st->header == HEADER_NONE)
        util_appendf(label, label_len, &off, "-nohdr");
    *state = st;
    return 0;
}

const codec_vtable codec_webp_vtable = {
    .name = "webp",
    .create = wp_create,
    .encode = wp_encode,
    .decode = wp_decode,
    .destroy = wp_destroy,
};
