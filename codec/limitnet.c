/*
 * doc: The LimitNet codecs (codec/limitnet.h has the model):
 *
 *   limitnet        values in gradual-score order (saliency + channel)
 *   limitnet-nosal  the same model, values in channel order only and no
 *                   side information: PNC-style tail drop, to show what
 *                   content awareness adds
 *
 * Keys (defaults in brackets):
 *
 *   weights   model file                [models/limitnet-fmnist.safetensors]
 *   keep      fraction of the latent values to send, (0, 1]         [1]
 *   entropy   "huffman" (static per-channel codes) or "arith" (a static
 *             arithmetic coder on the same statistics)        [huffman]
 *   fallback  limitnet only: the order the decoder assumes when no packet
 *             with the side information arrived: "prior" (the mean
 *             training side grid) or "channel" (channel order)   [prior]
 *   first_copies  times the first packet (the side grid and the best
 *             values) is sent, 1-3: repetition as a stand-in for the
 *             paper's prioritised retransmission; see the README   [1]
 *   side_packets  limitnet only: how many of the first packets carry the
 *             side grid, 1-65535 (more than the stream has: every one),
 *             so that losing the first packet costs its values only, not
 *             the order of all the others                          [1]
 *   ignore_side  limitnet only, an ablation: the decoder never uses a side
 *             grid, as if every copy had been lost              [false]
 *   encoder   "float" (nn/, float32) or "int8": the device's own encoder
 *             (device/device.h), compiled in from device/model_*.c for
 *             this weight file, so the packets are the very bytes the
 *             microcontroller sends; Huffman only            [float]
 *
 * Packets. Every packet starts with a header of 1 + 2 * nb bits, rounded
 * up to whole bytes, where nb = bits to write the value count N (10 bits
 * and a 3-byte header for 12 x 7 x 7 = 588 values):
 *
 *   S   1 bit    the side grid follows the header
 *   r0  nb bits  score rank of the packet's first value (0 .. N)
 *   n   nb bits  values in the packet (ranks r0 .. r0 + n - 1)
 *
 * then one entropy-coded segment (Huffman or arithmetic, as `entropy`
 * says), MSB first, padded to a byte: when S is set, the side grid's
 * grid x grid cells (32 levels, coded with the cells' training statistics:
 * about 4-6 bytes for 4 x 4 rather than 10 at 5 bits a cell), then the
 * values, each with its channel's training statistics. The coder restarts
 * in every packet, so any subset of packets decodes: a lost packet costs
 * only its own values. The first packet of `limitnet` carries the side
 * grid, and with `side_packets` k the first k packets do; `limitnet-nosal`
 * never sends one. Every byte counts against the channel's payload size.
 *
 * Small payloads. When the header and the whole side grid do not fit the
 * first packet (Sigfox's 12 bytes, US915 DR0's 11), the grid goes out in
 * parts before any value, each part `first_copies` times: S set, r0 =
 * N + 1 + the part's first cell, n = its cells, then those cells coded as
 * above and no values (a whole grid travels with r0 at most N, so the
 * two cannot be confused). The values follow from rank 0 in packets of
 * their own. A receiver that misses some parts takes the missing cells
 * from the fallback prior (with "fallback": "channel", it needs them all).
 * Such a grid goes out once, whatever `side_packets` says.
 * The smallest payload is the header and the longest single code
 * (codec_min_payload; 5 bytes for the shipped models); below it encoding
 * is an error, never a silent truncation.
 *
 * Priorities (codec.h): the first packet and its copies are essential,
 * the later ones a level less each, in send order (best values first).
 *
 * Decoding. Values not received are zero, as in training. Without the
 * side grid, `limitnet` orders by the fallback; its values then land in
 * the wrong places wherever the guess differs from the real grid (the
 * README measures the cost). Headers that overrun N, truncated packets and
 * invalid codes drop the rest of that packet only. With no value at all,
 * the image is flat grey (codec.h).
 */
#include "codec/codec_impl.h"
#include "codec/limitnet.h"
#include "device/device.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WEIGHTS "models/limitnet-fmnist.safetensors"

typedef struct ln_state {
    codec_ln *m;
    const device_model *dev; /* "encoder": "int8": the device's encoder */
    void *work;              /* its scratch */
    device_packets pk;       /* its packets */
    codec_ln_geom g;
    int nosal, prior, ignore_side, coder;
    long copies; /* times the first packet is sent */
    long sides;  /* packets that carry the side grid */
    double keep;
    nn_ws *wenc, *wsal, *wdec;
    nn_tensor x;
    uint8_t *q; /* levels by latent index */
    float *z;   /* decoded latent */
} ln_state;

static void destroy(void *state)
{
    ln_state *s = state;
    if (!s)
        return;
    nn_ws_destroy(s->wenc);
    nn_ws_destroy(s->wsal);
    nn_ws_destroy(s->wdec);
    nn_tensor_free(&s->x);
    codec_ln_free(s->m);
    free(s->work);
    free(s->pk.buf);
    free(s->pk.len);
    free(s->q);
    free(s->z);
    free(s);
}

static int setup(ln_state *s, util_err *err)
{
    s->g = codec_ln_geometry(s->m);
    s->q = malloc((size_t)s->g.n);
    s->z = malloc((size_t)s->g.n * sizeof *s->z);
    if (!s->q || !s->z)
        return util_errf(err, "out of memory");
    if (nn_ws_create(codec_ln_encoder(s->m), &s->wenc, err) ||
        nn_ws_create(codec_ln_saliency(s->m), &s->wsal, err) ||
        nn_ws_create(codec_ln_decoder(s->m), &s->wdec, err))
        return -1;
    return 0;
}

/* The device's encoder (device/device.h), compiled in for this weight
 * file: the packets are the bytes the microcontroller sends. */
static int setup_int8(ln_state *s, const char *weights, int huffman, util_err *err)
{
    if (!huffman)
        return util_errf(err, "encoder: the int8 encoder codes with \"huffman\" only, "
                         "as the device does");
    s->dev = codec_ln_int8_find(weights, err);
    if (!s->dev)
        return util_err_prefix(err, "encoder: int8: ");
    s->work = malloc(s->dev->work);
    return s->work ? 0 : util_errf(err, "out of memory");
}

static int create(util_params *p, void **state, char *label, size_t label_len,
                  int nosal, util_err *err)
{
    static const char *const fallbacks[] = {"prior", "channel", NULL};
    static const char *const coders[] = {"huffman", "arith", NULL};
    static const char *const encoders[] = {"float", "int8", NULL};
    const char *weights, *fallback = "prior", *entropy, *encoder;
    ln_state *s = calloc(1, sizeof *s);
    if (!s)
        return util_errf(err, "out of memory");
    s->nosal = nosal;
    s->sides = 1;
    int rc = util_params_str(p, "weights", DEFAULT_WEIGHTS, NULL, &weights, err) ||
             util_params_num(p, "keep", 1, 1e-9, 1, &s->keep, err) ||
             util_params_str(p, "entropy", "huffman", coders, &entropy, err) ||
             util_params_int(p, "first_copies", 1, 1, 3, &s->copies, err) ||
             (!nosal && util_params_int(p, "side_packets", 1, 1, 65535, &s->sides, err)) ||
             util_params_str(p, "encoder", "float", encoders, &encoder, err) ||
             (!nosal && (util_params_str(p, "fallback", "prior", fallbacks,
                                         &fallback, err) ||
                         util_params_bool(p, "ignore_side", 0, &s->ignore_side, err)));
    if (!rc && codec_ln_load(weights, &s->m, err))
        rc = util_err_prefix(err, "weights: ");
    if (!rc)
        rc = setup(s, err);
    if (!rc && strcmp(encoder, "int8") == 0)
        rc = setup_int8(s, weights, strcmp(entropy, "huffman") == 0, err);
    if (rc) {
        destroy(s);
        return -1;
    }
    s->prior = strcmp(fallback, "prior") == 0;
    s->coder = strcmp(entropy, "arith") == 0 ? CODEC_LN_ARITH : CODEC_LN_HUFFMAN;
    static const char *const copies[] = {"", "", "-twice", "-thrice"};
    char sides[32] = "";
    if (s->sides > 1)
        snprintf(sides, sizeof sides, "-side%ld", s->sides);
    snprintf(label, label_len, "limitnet%s%s%s%s%s%s%s-k%g", nosal ? "-nosal" : "",
             s->dev ? "-int8" : "",
             s->coder == CODEC_LN_ARITH ? "-arith" : "", copies[s->copies], sides,
             s->ignore_side ? "-noside" : "", !nosal && !s->prior ? "-fbchannel" : "",
             s->keep);
    *state = s;
    return 0;
}

static int create_sal(util_params *p, void **state, char *label,
                      size_t label_len, util_err *err)
{
    return create(p, state, label, label_len, 0, err);
}

static int create_nosal(util_params *p, void **state, char *label,
                        size_t label_len, util_err *err)
{
    return create(p, state, label, label_len, 1, err);
}

/* ---- encoder ------------------------------------------------------------------ */

/* Latent values and the side grid of img; cells is NULL for nosal. */
static int analyse(ln_state *s, const util_image *img, uint8_t *cells,
                   util_err *err)
{
    const codec_ln_geom *g = &s->g;
    if (img->w != g->in_w || img->h != g->in_h || img->c != g->in_c)
        return util_errf(err, "the model takes %dx%dx%d images, got %dx%dx%d",
                         g->in_w, g->in_h, g->in_c, img->w, img->h, img->c);
    if (nn_tensor_resize(&s->x, 1, g->in_c, g->in_h, g->in_w, err))
        return -1;
    for (int c = 0; c < img->c; c++)
        for (int i = 0; i < img->w * img->h; i++)
            s->x.data[c * img->w * img->h + i] = img->px[(size_t)i * img->c + c] / 255.0f;
    const nn_model *enc = codec_ln_encoder(s->m), *sal = codec_ln_saliency(s->m);
    if (nn_infer(enc, s->wenc, &s->x, err))
        return -1;
    const nn_tensor *z = nn_ws_out(s->wenc, nn_model_nodes(enc) - 1);
    int hw = g->h * g->w;
    for (int i = 0; i < g->n; i++)
        s->q[i] = (uint8_t)codec_ln_quant(s->m, i / hw, z->data[i]);
    if (!cells)
        return 0;
    if (nn_infer(sal, s->wsal, z, err))
        return -1;
    codec_ln_side(g, nn_ws_out(s->wsal, nn_model_nodes(sal) - 1)->data, cells);
    return 0;
}

/* The packets of device_pack, one codec_stream packet each. */
static int encode_int8(ln_state *s, const util_image *img, uint8_t *cells, int count,
                       size_t payload, codec_stream *out, util_err *err)
{
    const codec_ln_geom *g = &s->g;
    if (img->w != g->in_w || img->h != g->in_h || img->c != g->in_c)
        return util_errf(err, "the model takes %dx%dx%d images, got %dx%dx%d",
                         g->in_w, g->in_h, g->in_c, img->w, img->h, img->c);
    if (payload > 65535)
        return util_errf(err, "the int8 encoder takes payloads up to 65535 bytes, "
                         "got %zu", payload);
    /* At most one packet per value, and the copies of the first packet
     * or of each side-grid part (a cell each at worst). */
    uint32_t maxn = (uint32_t)count + (uint32_t)s->copies * (1u + (uint32_t)(g->grid * g->grid));
    size_t cap = payload * maxn;
    if (cap > s->pk.cap || maxn > s->pk.maxn) {
        free(s->pk.buf);
        free(s->pk.len);
        s->pk.buf = malloc(cap);
        s->pk.len = malloc(maxn * sizeof *s->pk.len);
        s->pk.cap = s->pk.buf && s->pk.len ? (uint32_t)cap : 0;
        s->pk.maxn = s->pk.cap ? maxn : 0;
        if (!s->pk.cap)
            return util_errf(err, "out of memory");
    }
    s->pk.used = s->pk.n = 0;
    int rc = device_encode(s->dev, img->px, s->q, cells, s->work);
    if (!rc)
        rc = device_pack(s->dev, s->q, cells, (int)s->copies, (int)s->sides, count,
                         (uint32_t)payload, &s->pk, s->work);
    if (rc)
        return util_errf(err, "a %zu-byte payload: %s", payload, device_strerror(rc));
    for (uint32_t i = 0, at = 0; i < s->pk.n; at += s->pk.len[i++])
        if (codec_stream_push(out, s->pk.buf + at, s->pk.len[i], err))
            return -1;
    return 0;
}

static int encode(void *state, const util_image *img, size_t payload,
                  codec_stream *out, util_err *err)
{
    ln_state *s = state;
    uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    uint8_t *cp = s->nosal ? NULL : cells;
    int count = (int)lround(s->keep * s->g.n);
    int rc;
    if (s->dev)
        rc = encode_int8(s, img, cp, count < 1 ? 1 : count, payload, out, err);
    else
        rc = analyse(s, img, cp, err) ||
             codec_ln_pack(s->m, s->coder, s->q, cp, (int)s->copies, (int)s->sides,
                           count < 1 ? 1 : count, payload, out, err) ? -1 : 0;
    /* Without the first packet the committed decoder is near chance
     * (README, "Loss: no packet indispensable"); the later ones matter
     * less the later they are, as values go out best first. */
    if (!rc)
        codec_stream_rank(out, (size_t)s->copies);
    return rc;
}

/* ---- decoder ------------------------------------------------------------------ */

static int render(ln_state *s, util_image *out, util_err *err)
{
    const codec_ln_geom *g = &s->g;
    const nn_model *dec = codec_ln_cdecoder(s->m);
    if (nn_tensor_resize(&s->x, 1, g->c, g->h, g->w, err))
        return -1;
    memcpy(s->x.data, s->z, (size_t)g->n * sizeof *s->z);
    if (nn_infer(dec, s->wdec, &s->x, err))
        return -1;
    const float *y = nn_ws_out(s->wdec, nn_model_nodes(dec) - 1)->data;
    int plane = out->w * out->h;
    for (int c = 0; c < out->c; c++)
        for (int i = 0; i < plane; i++) {
            /* Clamped before lrintf, whose result is unspecified beyond
             * long's range: a decoder from a weight file may say 1e30 (or
             * NaN, which goes to 0). */
            float v = y[c * plane + i] * 255.0f;
            out->px[(size_t)i * out->c + c] =
                (uint8_t)(!(v > 0) ? 0 : v >= 255.0f ? 255 : lrintf(v));
        }
    return 0;
}

static int decode(void *state, const codec_stream *st, const uint8_t *arrived,
                  util_image *out, util_err *err)
{
    ln_state *s = state;
    const codec_ln_geom *g = &s->g;
    if (out->w != g->in_w || out->h != g->in_h || out->c != g->in_c)
        return util_errf(err, "the model makes %dx%dx%d images, asked for %dx%dx%d",
                         g->in_w, g->in_h, g->in_c, out->w, out->h, out->c);
    int how = s->nosal ? CODEC_LN_CHANNEL : s->ignore_side ? CODEC_LN_FALLBACK : CODEC_LN_SIDE;
    int known = codec_ln_unpack(s->m, s->coder, how, s->prior ? codec_ln_prior(s->m) : NULL,
                                st, arrived, s->z, NULL, err);
    if (known < 0)
        return -1;
    if (!known) {
        util_image_fill(out, 128);
        return 0;
    }
    return render(s, out, err);
}

/* Grid parts and value packets each need a header and one symbol. The
 * int8 encoder codes with the same Huffman tables. */
static size_t min_payload(void *state)
{
    ln_state *s = state;
    return codec_ln_min_payload(s->m, s->coder, !s->nosal);
}

const codec_vtable codec_limitnet_vtable = {
    "limitnet", create_sal, encode, decode, destroy, min_payload,
};

const codec_vtable codec_limitnet_nosal_vtable = {
    "limitnet-nosal", create_nosal, encode, decode, destroy, min_payload,
};
