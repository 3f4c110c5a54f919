/*
 * JPEG 2000 baseline via OpenJPEG: a raw J2K codestream (no JP2 boxes).
 *
 * Parameters: "mode" ("layer": quality layers first, LRCP order, or
 * "resolution": resolutions first, RLCP order), "layers" (quality layers,
 * 1..20), "bytes" (the size to aim at, as sent, all layers; layer l of L
 * ends about bytes·l/L into the stream, see set_params), "levels" (wavelet
 * decomposition levels, capped to what the image size allows) and
 * "header" ("full": the whole codestream; "none": the main header and the
 * SOT segment, which both ends derive from the settings and the image
 * size, are not sent, as for abbreviated JPEG).
 *
 * One tile, irreversible 9/7 wavelet, 64×64 code-blocks, colour transform
 * for RGB. OpenJPEG's default comment ("Created by OpenJPEG version ...",
 * 39 bytes with its marker) is removed. The tile-part header carries a PLT
 * marker (packet lengths, about a byte a packet), which is what lets the
 * decoder use a prefix well: it cuts the data to the last whole J2K packet
 * and ends the stream there (tile-part length fixed, EOC added). A packet
 * cut short can decode far worse than the packets before it alone (its
 * arithmetic-coded passes run on into made-up bytes: 13 dB worse on one
 * Fashion-MNIST item); a whole packet costs at most about a tenth of a
 * dB (0.13 dB the worst seen on 21 items: the 9/7 wavelet is not
 * orthonormal, so the encoder's distortion estimate is not the pixels'
 * squared error).
 *
 * Priorities (codec.h): the packets holding the headers sent, up to SOD,
 * are essential (with header none that is the first packet: the rest of
 * the tile-part header); then one level less per packet, as layers (or
 * resolutions) come in order of importance.
 *
 * As for JPEG, only packets before the first missing one are used. The
 * decoder hands OpenJPEG only streams shaped as our encoder writes them:
 * the main header these settings give (byte for byte), one tile-part whose
 * header holds PLT segments only, cut at the last whole packet with the
 * tile-part length set and an EOC after it, so strict mode reads it;
 * anything else is damage and gives grey. OpenJPEG 2.5.0's non-strict
 * mode and its trust in header fields are where fuzzing found faults (a
 * use-after-free; a fuzzed COD making it allocate 2 GB). Its error, warning
 * and info callbacks are routed into the state's message buffer: encode
 * errors are reported through util_err; decode errors mean "nothing
 * usable" and give flat grey.
 */
#include "codec/codec_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg.h>

#define GREY 128
#define MAX_LAYERS 20
#define MAX_LEVELS 10

/* Marker codes (ITU-T T.800 table A.2). */
#define M_SOC 0xFF4F
#define M_SIZ 0xFF51
#define M_COM 0xFF64
#define M_SOT 0xFF90
#define M_SOD 0xFF93
#define M_PLT 0xFF58
#define M_EOC 0xFFD9
#define SOT_LEN 12

enum { MODE_LAYER, MODE_RESOLUTION };
static const char *const mode_names[] = { "layer", "resolution", NULL };
enum { HEADER_FULL, HEADER_NONE };
static const char *const header_names[] = { "full", "none", NULL };

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

typedef struct jk_state {
    int mode, layers, levels, header;
    long bytes;               /* target size as sent, all layers */
    char msg[UTIL_ERR_LEN];   /* OpenJPEG's last error message */
    buf enc;                  /* encoder output */
    buf in;                   /* decoder input as OpenJPEG sees it */
    buf hdr;                  /* header none: main header for hdr_w x hdr_h x hdr_c */
    int hdr_w, hdr_h, hdr_c;
    size_t hdr_len;           /* main header without comment */
    size_t opj_main;          /* main header as OpenJPEG wrote it */
} jk_state;

static int buf_reserve(buf *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_append(buf *b, const uint8_t *p, size_t n)
{
    if (buf_reserve(b, b->len + n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static unsigned rd16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)rd16(p) << 16) | rd16(p + 2);
}

/* ---- OpenJPEG plumbing --------------------------------------------------- */

/* The library's own handlers print to stderr. */
static void on_error(const char *msg, void *client)
{
    jk_state *st = client;
    snprintf(st->msg, sizeof st->msg, "%s", msg);
    size_t n = strlen(st->msg);
    if (n && st->msg[n - 1] == '\n')
        st->msg[n - 1] = 0;
}

static void on_other(const char *msg, void *client)
{
    (void)msg;
    (void)client;
}

static void route_messages(jk_state *st, opj_codec_t *c)
{
    st->msg[0] = 0;
    opj_set_error_handler(c, on_error, st);
    opj_set_warning_handler(c, on_other, st);
    opj_set_info_handler(c, on_other, st);
}

/* A stream over a buf: the encoder writes (and may seek back), the decoder
 * reads. */
typedef struct mem_stream {
    buf *b;
    size_t pos;
    int out;        /* written to: skipping past the end extends it */
} mem_stream;

static OPJ_SIZE_T ms_write(void *p, OPJ_SIZE_T n, void *user)
{
    mem_stream *m = user;
    if (buf_reserve(m->b, m->pos + n) != 0)
        return (OPJ_SIZE_T)-1;
    memcpy(m->b->data + m->pos, p, n);
    m->pos += n;
    if (m->pos > m->b->len)
        m->b->len = m->pos;
    return n;
}

static OPJ_SIZE_T ms_read(void *p, OPJ_SIZE_T n, void *user)
{
    mem_stream *m = user;
    if (m->pos >= m->b->len)
        return (OPJ_SIZE_T)-1;
    if (n > m->b->len - m->pos)
        n = m->b->len - m->pos;
    memcpy(p, m->b->data + m->pos, n);
    m->pos += n;
    return n;
}

/* Returns how far it went, or -1 when asked to go backwards (OpenJPEG
 * seeks for that). Reading stops at the end of the data; writing leaves
 * zeros behind it. */
static OPJ_OFF_T ms_skip(OPJ_OFF_T n, void *user)
{
    mem_stream *m = user;
    if (n < 0 || (uint64_t)n > SIZE_MAX / 2)
        return -1;
    size_t left = m->b->len - m->pos;
    if ((uint64_t)n > left && m->out) {
        if (buf_reserve(m->b, m->pos + (size_t)n) != 0)
            return -1;
        memset(m->b->data + m->b->len, 0, m->pos + (size_t)n - m->b->len);
        m->b->len = m->pos + (size_t)n;
    } else if ((uint64_t)n > left) {
        n = (OPJ_OFF_T)left;
    }
    m->pos += (size_t)n;
    return n;
}

static OPJ_BOOL ms_seek(OPJ_OFF_T n, void *user)
{
    mem_stream *m = user;
    if (n < 0 || (uint64_t)n > m->b->len)
        return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

static opj_stream_t *ms_open(mem_stream *m, int input)
{
    opj_stream_t *s = opj_stream_create(4096, input ? OPJ_TRUE : OPJ_FALSE);
    if (!s)
        return NULL;
    if (input) {
        opj_stream_set_read_function(s, ms_read);
        opj_stream_set_user_data_length(s, m->b->len);
    } else {
        opj_stream_set_write_function(s, ms_write);
    }
    opj_stream_set_skip_function(s, ms_skip);
    opj_stream_set_seek_function(s, ms_seek);
    opj_stream_set_user_data(s, m, NULL);
    return s;
}

/* ---- codestream structure -------------------------------------------------- */

/* What scan() found in (a prefix of) a codestream. Offsets are into it. */
typedef struct layout {
    size_t siz;          /* SIZ marker */
    size_t com, com_len; /* the first COM segment, if com_len > 0 */
    size_t sot;          /* SOT marker: end of the main header */
    size_t sod_end;      /* after SOD: first packet byte */
    size_t complete;     /* bytes of the whole packets in the data, from sod_end */
    int has_plt;
} layout;

/* One PLT segment's lengths (T.800 A.7.3: 7 bits a byte, high bit = more
 * bytes follow), adding to lo->complete the packets that, with all before
 * them, fit in avail bytes. Returns -1 when malformed. */
static int read_plt(const uint8_t *p, size_t n, size_t avail, size_t *sum,
                    layout *lo)
{
    uint64_t v = 0;
    int nbytes = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 7) | (p[i] & 0x7F);
        if (++nbytes > 4)
            return -1;
        if (p[i] & 0x80)
            continue;
        if (*sum == lo->complete && v <= avail - *sum)
            lo->complete = *sum + (size_t)v;
        *sum = v > SIZE_MAX / 2 - *sum ? SIZE_MAX / 2 : *sum + (size_t)v;
        v = 0;
        nbytes = 0;
    }
    return nbytes ? -1 : 0;
}

/* Walks marker segments from pos up to the first SOD (in_tile) or SOT.
 * Returns 0 at that marker (pos then points at it), 1 when the data ends
 * first, -1 when malformed. Only collects positions. */
static int walk(const uint8_t *p, size_t n, size_t *pos, int in_tile,
                layout *lo)
{
    for (;;) {
        if (*pos + 2 > n)
            return 1;
        unsigned m = rd16(p + *pos);
        if ((in_tile && m == M_SOD) || (!in_tile && m == M_SOT))
            return 0;
        if (m < 0xFF30 || m == M_SOD || m == M_SOT || m == M_EOC)
            return -1;
        if (*pos + 4 > n)
            return 1;
        size_t seg = rd16(p + *pos + 2);
        if (seg < 2)
            return -1;
        if (seg > n - *pos - 2)
            return 1;
        if (m == M_SIZ && !in_tile && lo->siz == 0)
            lo->siz = *pos;
        if (m == M_COM && !in_tile && lo->com_len == 0) {
            lo->com = *pos;
            lo->com_len = 2 + seg;
        }
        /* our encoder's tile-part header holds PLT segments only */
        if (in_tile && (m != M_PLT || seg < 3))
            return -1;
        *pos += 2 + seg;
    }
}

/* Walks the main header and the first tile-part header of p[0..n) and
 * counts the whole packets after SOD. Returns 0 when it reached the tile's
 * data, 1 when the data ends before that, -1 when the bytes are not a
 * codestream shaped as our encoder writes them. */
static int scan(const uint8_t *p, size_t n, layout *lo)
{
    memset(lo, 0, sizeof *lo);
    if (n < 2)
        return 1;
    if (rd16(p) != M_SOC)
        return -1;
    size_t pos = 2;
    int rc = walk(p, n, &pos, 0, lo);
    if (rc != 0)
        return rc;
    if (lo->siz == 0)
        return -1;
    lo->sot = pos;
    if (pos + SOT_LEN > n)
        return 1;
    /* one tile, its first and only tile-part (T.800 A.4.2) */
    if (rd16(p + pos + 2) != SOT_LEN - 2 || rd16(p + pos + 4) != 0 ||
        p[pos + 10] != 0 || p[pos + 11] != 1)
        return -1;
    pos += SOT_LEN;
    if ((rc = walk(p, n, &pos, 1, lo)) != 0)
        return rc;
    lo->sod_end = pos + 2;
    size_t sum = 0, avail = n - lo->sod_end;
    for (size_t q = lo->sot + SOT_LEN; q < pos; q += 2 + rd16(p + q + 2))
        if (rd16(p + q) == M_PLT) {
            lo->has_plt = 1;
            if (read_plt(p + q + 5, rd16(p + q + 2) - 3u, avail, &sum, lo) != 0)
                return -1;
        }
    return 0;
}

/* The SIZ segment of p describes a w x h image of c unsigned 8-bit
 * components, not subsampled, at the origin. */
static int siz_matches(const uint8_t *p, const layout *lo, int w, int h, int c)
{
    const uint8_t *s = p + lo->siz;
    size_t seg = rd16(s + 2);
    if (seg != 38 + 3 * (size_t)c || rd32(s + 6) != (uint32_t)w ||
        rd32(s + 10) != (uint32_t)h || rd32(s + 14) != 0 || rd32(s + 18) != 0 ||
        rd16(s + 38) != (unsigned)c)
        return 0;
    for (int k = 0; k < c; k++) {
        const uint8_t *cp = s + 40 + 3 * k;
        if (cp[0] != 7 || cp[1] != 1 || cp[2] != 1)
            return 0;
    }
    return 1;
}

/* ---- encoding ---------------------------------------------------------------- */

/* Decomposition levels the image allows: OpenJPEG needs every resolution
 * to be at least one sample wide. */
static int levels_for(const jk_state *st, int w, int h)
{
    int side = w < h ? w : h, lv = st->levels;
    while (lv > 0 && (side >> lv) < 1)
        lv--;
    return lv;
}

/* OpenJPEG's rate control takes a compression ratio per layer, turns it
 * into bytes, subtracts the main header as it wrote it (comment included)
 * and raises anything under 30 bytes to 30 (opj_j2k_update_rates). So the
 * ratios are worked out so that layer l of L ends about bytes·l/L into
 * the stream as sent, headers included (measured by ensure_header, PLT
 * estimated at a byte a packet): with bytes = L × payload the layers end
 * near packet boundaries. The 30-byte floor makes small targets
 * unreachable. With sized false every layer is lossless (the header does
 * not depend on the rates). */
static void set_params(const jk_state *st, const util_image *img, int sized,
                       opj_cparameters_t *p)
{
    opj_set_default_encoder_parameters(p);
    int lv = levels_for(st, img->w, img->h);
    double raw = (double)img->w * img->h * img->c;
    size_t packets = (size_t)st->layers * (size_t)(lv + 1) * (size_t)img->c;
    /* PLT: marker, length, index, then about a byte a packet. */
    double overhead = (double)(5 + packets + 2);
    if (st->header == HEADER_FULL)
        overhead += (double)(st->hdr_len + SOT_LEN + 2);
    p->tcp_numlayers = st->layers;
    for (int l = 0; sized && l < st->layers; l++) {
        double data = st->bytes * (l + 1.0) / st->layers - overhead;
        p->tcp_rates[l] = (float)(raw / (data + (double)st->opj_main));
    }
    p->cp_disto_alloc = 1;
    p->irreversible = 1;
    p->numresolution = lv + 1;
    p->prog_order = st->mode == MODE_LAYER ? OPJ_LRCP : OPJ_RLCP;
    p->tcp_mct = img->c == 3 ? 1 : 0;
}

static opj_image_t *to_opj(const util_image *img)
{
    opj_image_cmptparm_t cp[3];
    memset(cp, 0, sizeof cp);
    for (int k = 0; k < img->c; k++) {
        cp[k].dx = cp[k].dy = 1;
        cp[k].w = (OPJ_UINT32)img->w;
        cp[k].h = (OPJ_UINT32)img->h;
        cp[k].prec = 8;
    }
    opj_image_t *im = opj_image_create((OPJ_UINT32)img->c, cp,
                                       img->c == 1 ? OPJ_CLRSPC_GRAY
                                                   : OPJ_CLRSPC_SRGB);
    if (!im)
        return NULL;
    im->x1 = (OPJ_UINT32)img->w;
    im->y1 = (OPJ_UINT32)img->h;
    size_t n = (size_t)img->w * (size_t)img->h;
    for (int k = 0; k < img->c; k++)
        for (size_t i = 0; i < n; i++)
            im->comps[k].data[i] = img->px[i * (size_t)img->c + (size_t)k];
    return im;
}

/* A complete codestream of img into dst, without the comment marker;
 * *main gets the main header's length as OpenJPEG wrote it. */
static int compress(jk_state *st, const util_image *img, int sized, buf *dst,
                    size_t *main, util_err *err)
{
    static const char *const extra[] = { "PLT=YES", NULL };
    opj_cparameters_t p;
    set_params(st, img, sized, &p);
    opj_image_t *im = to_opj(img);
    opj_codec_t *c = opj_create_compress(OPJ_CODEC_J2K);
    mem_stream m = { dst, 0, 1 };
    dst->len = 0;
    opj_stream_t *s = ms_open(&m, 0);
    int ok = im && c && s;
    if (ok) {
        route_messages(st, c);
        ok = opj_setup_encoder(c, &p, im) &&
             opj_encoder_set_extra_options(c, extra) &&
             opj_start_compress(c, im, s) && opj_encode(c, s) &&
             opj_end_compress(c, s);
    }
    if (s)
        opj_stream_destroy(s);
    if (c)
        opj_destroy_codec(c);
    if (im)
        opj_image_destroy(im);
    if (!ok)
        return util_errf(err, "j2k encoder: %s",
                         st->msg[0] ? st->msg : "out of memory");
    layout lo;
    if (scan(dst->data, dst->len, &lo) != 0 || !lo.has_plt)
        return util_errf(err, "j2k: cannot parse its own codestream");
    *main = lo.sot;
    if (lo.com_len) {
        memmove(dst->data + lo.com, dst->data + lo.com + lo.com_len,
                dst->len - lo.com - lo.com_len);
        dst->len -= lo.com_len;
    }
    return 0;
}

/* The main header both ends derive from the settings and the image size
 * (that of a flat image), and its length as OpenJPEG counts it, cached for
 * the last size asked for. The encoder needs the lengths for its rate
 * targets; the decoder the header itself in header none mode. */
static int ensure_header(jk_state *st, int w, int h, int c, util_err *err)
{
    if (st->hdr_w == w && st->hdr_h == h && st->hdr_c == c)
        return 0;
    st->hdr_w = st->hdr_h = st->hdr_c = 0;
    util_image flat;
    if (util_image_alloc(&flat, w, h, c, err) != 0)
        return -1;
    util_image_fill(&flat, GREY);
    int rc = compress(st, &flat, 0, &st->hdr, &st->opj_main, err);
    util_image_free(&flat);
    layout lo;
    if (rc != 0)
        return -1;
    if (scan(st->hdr.data, st->hdr.len, &lo) != 0)
        return util_errf(err, "j2k: cannot parse its own codestream");
    st->hdr.len = st->hdr_len = lo.sot;
    st->hdr_w = w;
    st->hdr_h = h;
    st->hdr_c = c;
    return 0;
}

/* The part of st->enc that header none sends: after the SOT segment,
 * before EOC. */
static int strip_known(jk_state *st, size_t *off, size_t *len, util_err *err)
{
    const buf *e = &st->enc, *hd = &st->hdr;
    size_t start = hd->len + SOT_LEN;
    if (e->len < start + 2 || memcmp(e->data, hd->data, hd->len) != 0 ||
        rd16(e->data + hd->len) != M_SOT || rd16(e->data + e->len - 2) != M_EOC)
        return util_errf(err, "j2k: codestream does not start with the "
                              "shared header");
    *off = start;
    *len = e->len - start - 2;
    return 0;
}

static int jk_encode(void *state, const util_image *img, size_t payload,
                     codec_stream *out, util_err *err)
{
    jk_state *st = state;
    if (img->c != 1 && img->c != 3)
        return util_errf(err, "j2k: can encode grey or RGB images, not %d "
                              "channels", img->c);
    size_t main;
    if (ensure_header(st, img->w, img->h, img->c, err) != 0 ||
        compress(st, img, 1, &st->enc, &main, err) != 0)
        return -1;
    size_t off = 0, len = st->enc.len;
    if (st->header == HEADER_NONE && strip_known(st, &off, &len, err) != 0)
        return -1;
    if (codec_stream_split(out, st->enc.data + off, len, payload, err) != 0)
        return -1;
    /* The headers sent, up to SOD: no J2K packet decodes without them. */
    layout lo;
    size_t essential = scan(st->enc.data, st->enc.len, &lo) == 0 && lo.sod_end > off
                           ? lo.sod_end - off : 0;
    codec_stream_rank(out, codec_stream_packets_for(essential, payload));
    return 0;
}

/* ---- decoding ---------------------------------------------------------------- */

static int copy_out(const opj_image_t *im, util_image *out)
{
    if (!im || im->numcomps != (OPJ_UINT32)out->c)
        return -1;
    for (int k = 0; k < out->c; k++) {
        const opj_image_comp_t *cp = &im->comps[k];
        if (!cp->data || cp->w != (OPJ_UINT32)out->w ||
            cp->h != (OPJ_UINT32)out->h || cp->factor != 0)
            return -1;
    }
    size_t n = (size_t)out->w * (size_t)out->h;
    for (int k = 0; k < out->c; k++)
        for (size_t i = 0; i < n; i++) {
            OPJ_INT32 v = im->comps[k].data[i];
            out->px[i * (size_t)out->c + (size_t)k] =
                (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    return 0;
}

static void decompress(jk_state *st, util_image *out)
{
    opj_codec_t *c = opj_create_decompress(OPJ_CODEC_J2K);
    mem_stream m = { &st->in, 0, 0 };
    opj_stream_t *s = ms_open(&m, 1);
    opj_image_t *im = NULL;
    opj_dparameters_t p;
    opj_set_default_decoder_parameters(&p);
    if (c && s) {
        route_messages(st, c);
        /* copy_out checks the shape before it writes: a stream of another
         * shape leaves out grey. */
        if (opj_setup_decoder(c, &p) &&
            opj_decoder_set_strict_mode(c, OPJ_TRUE) &&
            opj_read_header(s, c, &im) && opj_decode(c, s, im))
            (void)copy_out(im, out);
    }
    if (im)
        opj_image_destroy(im);
    if (s)
        opj_stream_destroy(s);
    if (c)
        opj_destroy_codec(c);
}

/* Fills st->in with packets 0..k-1, after the shared header and a SOT
 * segment in header none mode. That SOT gives the tile-part length as 0
 * ("up to EOC"), the value for a length the decoder cannot know. */
static int gather_prefix(jk_state *st, const codec_stream *s, size_t k,
                         util_err *err)
{
    st->in.len = 0;
    if (st->header == HEADER_NONE) {
        static const uint8_t sot[SOT_LEN] = { 0xFF, 0x90, 0, 10, 0, 0, 0, 0,
                                              0, 0, 0, 1 };
        if (buf_append(&st->in, st->hdr.data, st->hdr.len) != 0 ||
            buf_append(&st->in, sot, sizeof sot) != 0)
            return util_errf(err, "j2k: out of memory");
    }
    for (size_t i = 0; i < k; i++)
        if (buf_append(&st->in, s->pkt[i].data, s->pkt[i].len) != 0)
            return util_errf(err, "j2k: out of memory");
    /* Room for the EOC that ends a cut stream. */
    if (buf_reserve(&st->in, st->in.len + 2) != 0)
        return util_errf(err, "j2k: out of memory");
    return 0;
}

/* Makes st->in a whole codestream of the packets before end: the tile-part
 * length set to match and an EOC after them, which strict mode needs (and
 * no mode reads a tile-part length of 0, "up to EOC", as header none mode
 * must send it). There is room for the two bytes (gather_prefix). */
static void end_at(buf *in, const layout *lo, size_t end)
{
    uint32_t psot = (uint32_t)(end - lo->sot);
    uint8_t *p = in->data + lo->sot + 6;
    p[0] = (uint8_t)(psot >> 24);
    p[1] = (uint8_t)(psot >> 16);
    p[2] = (uint8_t)(psot >> 8);
    p[3] = (uint8_t)psot;
    in->len = end;
    in->data[in->len++] = 0xFF;
    in->data[in->len++] = 0xD9;
}

/* The main header is the one these settings give for this image size
 * (ensure_header made it). The receiver knows the settings (it refuses
 * another size already), so a header that differs is damage, and
 * OpenJPEG never sees its fields: a fuzzed COD had it allocate 2 GB. */
static int header_is_ours(const jk_state *st, const layout *lo)
{
    return lo->sot == st->hdr_len &&
           memcmp(st->in.data, st->hdr.data, st->hdr_len) == 0;
}

static int jk_decode(void *state, const codec_stream *s,
                     const uint8_t *arrived, util_image *out, util_err *err)
{
    jk_state *st = state;
    if (out->c != 1 && out->c != 3)
        return util_errf(err, "j2k: can decode into grey or RGB images, not "
                              "%d channels", out->c);
    util_image_fill(out, GREY);
    size_t k = 0, prefix = 0;
    for (; k < s->n && arrived[k]; k++)
        prefix += s->pkt[k].len;
    if (prefix == 0)
        return 0;
    if (ensure_header(st, out->w, out->h, out->c, err) != 0 ||
        gather_prefix(st, s, k, err) != 0)
        return -1;
    layout lo;
    if (scan(st->in.data, st->in.len, &lo) != 0 ||
        !siz_matches(st->in.data, &lo, out->w, out->h, out->c) ||
        !header_is_ours(st, &lo) || !lo.has_plt || lo.complete == 0)
        return 0;
    end_at(&st->in, &lo, lo.sod_end + lo.complete);
    decompress(st, out);
    return 0;
}

/* ---- setup ------------------------------------------------------------------- */

static int read_params(util_params *p, jk_state *st, util_err *err)
{
    const char *mode, *header;
    long layers, levels;
    if (util_params_str(p, "mode", "layer", mode_names, &mode, err) != 0 ||
        util_params_str(p, "header", "full", header_names, &header, err) != 0 ||
        util_params_int(p, "layers", 3, 1, MAX_LAYERS, &layers, err) != 0 ||
        util_params_int(p, "levels", 3, 0, MAX_LEVELS, &levels, err) != 0 ||
        util_params_int(p, "bytes", 200, 1, 1000000, &st->bytes, err) != 0)
        return -1;
    st->mode = strcmp(mode, "layer") == 0 ? MODE_LAYER : MODE_RESOLUTION;
    st->header = strcmp(header, "full") == 0 ? HEADER_FULL : HEADER_NONE;
    st->layers = (int)layers;
    st->levels = (int)levels;
    return 0;
}

static void make_label(const jk_state *st, char *label, size_t len)
{
    size_t off = 0;
    util_appendf(label, len, &off, "j2k-%s-b%ld-l%d", mode_names[st->mode], st->bytes,
                 st->layers);
    if (st->levels != 3)
        util_appendf(label, len, &off, "-d%d", st->levels);
    if (st->header == HEADER_NONE)
        util_appendf(label, len, &off, "-nohdr");
}

static void jk_destroy(void *state)
{
    jk_state *st = state;
    if (!st)
        return;
    free(st->enc.data);
    free(st->in.data);
    free(st->hdr.data);
    free(st);
}

static int jk_create(util_params *params, void **state, char *label,
                     size_t label_len, util_err *err)
{
    jk_state *st = calloc(1, sizeof *st);
    if (!st)
        return util_errf(err, "j2k: out of memory");
    if (read_params(params, st, err) != 0) {
        jk_destroy(st);
        return -1;
    }
    make_label(st, label, label_len);
    *state = st;
    return 0;
}

const codec_vtable codec_j2k_vtable = {
    .name = "j2k",
    .create = jk_create,
    .encode = jk_encode,
    .decode = jk_decode,
    .destroy = jk_destroy,
};
