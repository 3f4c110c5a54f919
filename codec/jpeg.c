/*
 * JPEG baselines via libjpeg-turbo.
 *
 * Parameters: "mode" ("baseline", "progressive" or "abbreviated"),
 * "quality" (1..100), "optimize" (optimised Huffman tables) and "restart"
 * (restart interval in MCU rows, 0 = none).
 *
 * What is sent:
 *   baseline     a complete, standard JPEG file (JFIF, DQT, DHT, SOF0, SOS,
 *                entropy-coded data, EOI), split into packets.
 *   progressive  the same with jpeg_simple_progression's scans.
 *   abbreviated  only the entropy-coded data. Everything else is fixed by
 *                the codec's settings and the image size, which both ends
 *                know: the tables (standard Huffman tables, the quality's
 *                quantisation tables) travel out of band as a tables-only
 *                stream built once in create(), and the frame and scan
 *                headers (SOI, SOF0, DRI, SOS) are rebuilt by encoding a
 *                flat image of the same size; the encoder checks that its
 *                stream starts with exactly those bytes before dropping
 *                them, and drops the final EOI (the decoder's source
 *                manager supplies one at the end of the data anyway).
 *
 * Colour. RGB images are coded as YCbCr with 4:2:0 chroma subsampling:
 * luma sampled 2x2, each chroma component 1x1, i.e. one Cb and one Cr
 * sample for every 2x2 pixels (set_sampling sets it; it is also
 * jpeg_set_defaults' choice). That is the usual choice and what a camera's
 * JPEG would send: a quarter of 4:4:4's chroma samples, paid for at
 * saturated colour edges (on tests/test_rgb.c's 64x64 scene, 4:4:4 gives
 * 5-6 dB more at the same quality for 35-40 % more bytes, and is ahead per
 * byte there). The MCU is then 16x16 pixels (8x8 for grey), so "restart"
 * counts rows of 16 pixels in colour. Chroma has its own quantisation
 * table (1) and Huffman tables (1), which the abbreviated mode's shared
 * tables include. Progressive prefixes in colour: see scans_end.
 *
 * Priorities (codec.h): the packets holding the headers (baseline), or the
 * headers and the first scan (progressive), or the first packet
 * (abbreviated) are essential; the later ones a level less each.
 *
 * Decoding uses packets 0..k-1 before the first missing packet k: libjpeg
 * cannot resynchronise without restart markers. That prefix is decoded as
 * far as it goes and the blocks it does not reach stay zero (mid grey);
 * decode_sequential and decode_progressive say what happens to the MCU the
 * cut went through. With restart markers in a sequential stream, later runs
 * of arrived packets are used too, each from its first RSTn marker on
 * (splice_runs says when that is unambiguous).
 */
#include "codec/codec_impl.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define M_SOI 0xD8
#define M_SOS 0xDA
#define GREY 128

enum { MODE_BASELINE, MODE_PROGRESSIVE, MODE_ABBREVIATED };
static const char *const mode_names[] = { "baseline", "progressive",
                                          "abbreviated", NULL };

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

typedef struct jc_state {
    int mode, quality, optimize, restart;
    buf enc;        /* encoder output */
    buf in;         /* decoder input as libjpeg sees it */
    buf tables;     /* abbreviated: the tables-only stream */
    buf hdr;        /* abbreviated: SOI..SOS for an hdr_w x hdr_h x hdr_c image */
    int hdr_w, hdr_h, hdr_c;
} jc_state;

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

/* ---- libjpeg plumbing ------------------------------------------------------ */

/* Errors longjmp back to the caller and messages are dropped: libjpeg's
 * defaults print to stderr and exit(). */
typedef struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jerr;

static void jerr_exit(j_common_ptr ci)
{
    longjmp(((jerr *)(void *)ci->err)->jb, 1);
}

static void jerr_emit(j_common_ptr ci, int level)
{
    (void)ci;
    (void)level;
}

static void jerr_output(j_common_ptr ci)
{
    (void)ci;
}

static struct jpeg_error_mgr *jerr_init(jerr *e)
{
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jerr_exit;
    e->pub.emit_message = jerr_emit;
    e->pub.output_message = jerr_output;
    return &e->pub;
}

/* A destination growing a buffer that the state owns: jpeg_mem_dest leaks
 * its buffer when an error longjmps out after the buffer has grown. */
typedef struct mem_dest {
    struct jpeg_destination_mgr pub;
    buf *b;
} mem_dest;

static void dest_init(j_compress_ptr ci)
{
    mem_dest *d = (mem_dest *)(void *)ci->dest;
    if (buf_reserve(d->b, 4096) != 0)
        ERREXIT1(ci, JERR_OUT_OF_MEMORY, 0);
    d->pub.next_output_byte = d->b->data;
    d->pub.free_in_buffer = d->b->cap;
}

/* Called when the whole buffer is full. */
static boolean dest_empty(j_compress_ptr ci)
{
    mem_dest *d = (mem_dest *)(void *)ci->dest;
    size_t used = d->b->cap;
    if (buf_reserve(d->b, 2 * used) != 0)
        ERREXIT1(ci, JERR_OUT_OF_MEMORY, 1);
    d->pub.next_output_byte = d->b->data + used;
    d->pub.free_in_buffer = d->b->cap - used;
    return TRUE;
}

static void dest_term(j_compress_ptr ci)
{
    mem_dest *d = (mem_dest *)(void *)ci->dest;
    d->b->len = d->b->cap - d->pub.free_in_buffer;
}

typedef struct enc_ctx {
    struct jpeg_compress_struct ci;
    jerr je;
    mem_dest dest;
} enc_ctx;

static void enc_ctx_init(enc_ctx *x, buf *dst)
{
    memset(x, 0, sizeof *x);
    x->ci.err = jerr_init(&x->je);
    x->dest.pub.init_destination = dest_init;
    x->dest.pub.empty_output_buffer = dest_empty;
    x->dest.pub.term_destination = dest_term;
    x->dest.b = dst;
    dst->len = 0;
}

static int enc_ctx_done(enc_ctx *x, int rc, util_err *err)
{
    if (rc != 0) {
        char msg[JMSG_LENGTH_MAX];
        x->je.pub.format_message((j_common_ptr)&x->ci, msg);
        util_errf(err, "jpeg encoder: %s", msg);
    }
    jpeg_destroy_compress(&x->ci);
    return rc;
}

/* ---- encoding ---------------------------------------------------------------- */

/* Chroma subsampling for colour images: 4:2:0, the usual choice and what a
 * camera's JPEG would send (header comment). jpeg_set_defaults already
 * picks it for YCbCr; set here so that the choice is ours, not a library
 * default. */
static void set_sampling(j_compress_ptr ci)
{
    if (ci->num_components != 3)
        return;
    ci->comp_info[0].h_samp_factor = ci->comp_info[0].v_samp_factor = 2;
    for (int k = 1; k < 3; k++)
        ci->comp_info[k].h_samp_factor = ci->comp_info[k].v_samp_factor = 1;
}

static void set_params(const jc_state *st, j_compress_ptr ci)
{
    jpeg_set_defaults(ci);
    set_sampling(ci);
    jpeg_set_quality(ci, st->quality, TRUE);
    ci->optimize_coding = st->optimize ? TRUE : FALSE;
    ci->restart_in_rows = st->restart;
    if (st->mode == MODE_PROGRESSIVE)
        jpeg_simple_progression(ci);
    if (st->mode == MODE_ABBREVIATED) {
        ci->write_JFIF_header = FALSE;
        jpeg_suppress_tables(ci, TRUE);
    }
}

/* The setjmp lives here and the libjpeg objects in the caller's frame, so
 * that nothing this function changes is read after a longjmp. */
static int compress_run(const jc_state *st, enc_ctx *x, const util_image *img)
{
    if (setjmp(x->je.jb))
        return -1;
    jpeg_create_compress(&x->ci);
    x->ci.dest = &x->dest.pub;
    x->ci.image_width = (JDIMENSION)img->w;
    x->ci.image_height = (JDIMENSION)img->h;
    x->ci.input_components = img->c;
    x->ci.in_color_space = img->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    set_params(st, &x->ci);
    jpeg_start_compress(&x->ci, st->mode != MODE_ABBREVIATED);
    size_t stride = (size_t)img->w * (size_t)img->c;
    while (x->ci.next_scanline < x->ci.image_height) {
        /* libjpeg takes non-const rows but only reads them. */
        JSAMPROW row = (JSAMPROW)(img->px + x->ci.next_scanline * stride);
        jpeg_write_scanlines(&x->ci, &row, 1);
    }
    jpeg_finish_compress(&x->ci);
    return 0;
}

/* A complete JPEG stream of img with this state's settings, into dst. */
static int compress(const jc_state *st, const util_image *img, buf *dst,
                    util_err *err)
{
    enc_ctx x;
    enc_ctx_init(&x, dst);
    int rc = compress_run(st, &x, img);
    return enc_ctx_done(&x, rc, err);
}

static int tables_run(const jc_state *st, enc_ctx *x)
{
    if (setjmp(x->je.jb))
        return -1;
    jpeg_create_compress(&x->ci);
    x->ci.dest = &x->dest.pub;
    /* Colour settings define both the luma and the chroma tables, which
     * also covers grey images. */
    x->ci.input_components = 3;
    x->ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&x->ci);
    jpeg_set_quality(&x->ci, st->quality, TRUE);
    jpeg_write_tables(&x->ci);
    return 0;
}

static int build_tables(jc_state *st, util_err *err)
{
    enc_ctx x;
    enc_ctx_init(&x, &st->tables);
    int rc = tables_run(st, &x);
    return enc_ctx_done(&x, rc, err);
}

/* Length of SOI and the marker segments up to and including SOS in a
 * stream our own encoder wrote; -1 if it is not shaped like that. */
static int header_length(const uint8_t *p, size_t n, size_t *out)
{
    if (n < 2 || p[0] != 0xFF || p[1] != M_SOI)
        return -1;
    size_t pos = 2;
    while (pos + 4 <= n && p[pos] == 0xFF) {
        int marker = p[pos + 1];
        size_t seg = ((size_t)p[pos + 2] << 8) | p[pos + 3];
        if (seg < 2 || seg > n - pos - 2)
            return -1;
        pos += 2 + seg;
        if (marker == M_SOS) {
            *out = pos;
            return 0;
        }
    }
    return -1;
}

/* Abbreviated mode: the header bytes both ends derive from the image size,
 * cached for the last size asked for. */
static int ensure_header(jc_state *st, int w, int h, int c, util_err *err)
{
    if (st->hdr_w == w && st->hdr_h == h && st->hdr_c == c)
        return 0;
    st->hdr_w = st->hdr_h = st->hdr_c = 0;
    util_image flat;
    if (util_image_alloc(&flat, w, h, c, err) != 0)
        return -1;
    util_image_fill(&flat, GREY);
    int rc = compress(st, &flat, &st->hdr, err);
    util_image_free(&flat);
    size_t n = 0;
    if (rc == 0 && header_length(st->hdr.data, st->hdr.len, &n) != 0)
        rc = util_errf(err, "jpeg: cannot find the end of its own header");
    if (rc != 0)
        return -1;
    st->hdr.len = n;
    st->hdr_w = w;
    st->hdr_h = h;
    st->hdr_c = c;
    return 0;
}

/* The bytes of enc that abbreviated mode sends: after the shared header,
 * before EOI. */
static int strip_known(jc_state *st, const util_image *img, size_t *off,
                       size_t *len, util_err *err)
{
    if (ensure_header(st, img->w, img->h, img->c, err) != 0)
        return -1;
    const buf *e = &st->enc, *hd = &st->hdr;
    if (e->len < hd->len + 2 || memcmp(e->data, hd->data, hd->len) != 0 ||
        e->data[e->len - 2] != 0xFF || e->data[e->len - 1] != JPEG_EOI)
        return util_errf(err, "jpeg: abbreviated stream does not start "
                              "with the shared header");
    *off = hd->len;
    *len = e->len - hd->len - 2;
    return 0;
}

/* The marker that ends the entropy-coded data starting at pos (stuffed
 * zeros, RSTn and fill bytes belong to the data), or n. */
static size_t end_of_scan(const uint8_t *p, size_t n, size_t pos)
{
    for (; pos + 1 < n; pos++) {
        int m = p[pos + 1];
        if (p[pos] == 0xFF && m != 0 && m != 0xFF && (m & 0xF8) != JPEG_RST0)
            return pos;
    }
    return n;
}

/* The bytes of a whole stream the decoder can do nothing without: the
 * headers up to the first SOS, and in progressive mode the first scan
 * (the DC scan: the coarse picture) too. */
static size_t essential_bytes(const jc_state *st)
{
    size_t hdr = 0;
    if (header_length(st->enc.data, st->enc.len, &hdr) != 0)
        return st->enc.len;
    if (st->mode != MODE_PROGRESSIVE)
        return hdr;
    return end_of_scan(st->enc.data, st->enc.len, hdr);
}

static int jc_encode(void *state, const util_image *img, size_t payload,
                     codec_stream *out, util_err *err)
{
    jc_state *st = state;
    if (img->c != 1 && img->c != 3)
        return util_errf(err, "jpeg: can encode grey or RGB images, not %d "
                              "channels", img->c);
    if (img->w > JPEG_MAX_DIMENSION || img->h > JPEG_MAX_DIMENSION)
        return util_errf(err, "jpeg: image %dx%d is larger than %ld", img->w,
                         img->h, (long)JPEG_MAX_DIMENSION);
    if (compress(st, img, &st->enc, err) != 0)
        return -1;
    size_t off = 0, len = st->enc.len;
    if (st->mode == MODE_ABBREVIATED &&
        strip_known(st, img, &off, &len, err) != 0)
        return -1;
    if (codec_stream_split(out, st->enc.data + off, len, payload, err) != 0)
        return -1;
    size_t essential = st->mode == MODE_ABBREVIATED ? 0 : essential_bytes(st);
    codec_stream_rank(out, codec_stream_packets_for(essential, payload));
    return 0;
}

/* ---- decoding ---------------------------------------------------------------- */

typedef struct dec_ctx {
    struct jpeg_decompress_struct d;
    jerr je;
    struct jpeg_source_mgr src;
} dec_ctx;

/* A source over bytes already in memory. It suspends at the end of the
 * data until told otherwise (decode_progressive relies on that; the header
 * reader treats an incomplete header as suspended either way). */
static void src_init(j_decompress_ptr d)
{
    (void)d;
}

static boolean src_suspend(j_decompress_ptr d)
{
    (void)d;
    return FALSE;
}

static boolean src_eoi(j_decompress_ptr d)
{
    static const JOCTET eoi[2] = { 0xFF, JPEG_EOI };
    d->src->next_input_byte = eoi;
    d->src->bytes_in_buffer = sizeof eoi;
    return TRUE;
}

/* Skipping past the end drops the rest: no more data will come. */
static void src_skip(j_decompress_ptr d, long n)
{
    struct jpeg_source_mgr *src = d->src;
    while (n > 0 && (size_t)n > src->bytes_in_buffer) {
        n -= (long)src->bytes_in_buffer;
        src->next_input_byte += src->bytes_in_buffer;
        src->bytes_in_buffer = 0;
        if (!src->fill_input_buffer(d))
            return;
    }
    if (n > 0) {
        src->next_input_byte += n;
        src->bytes_in_buffer -= (size_t)n;
    }
}

static void src_set(j_decompress_ptr d, struct jpeg_source_mgr *src,
                    const uint8_t *data, size_t len)
{
    src->init_source = src_init;
    src->fill_input_buffer = src_suspend;
    src->skip_input_data = src_skip;
    src->resync_to_restart = jpeg_resync_to_restart;
    src->term_source = src_init;
    src->next_input_byte = data;
    src->bytes_in_buffer = len;
    d->src = src;
}

static int output_fits(j_decompress_ptr d, const util_image *out)
{
    return d->output_width == (JDIMENSION)out->w &&
           d->output_height == (JDIMENSION)out->h &&
           d->output_components == out->c;
}

/* Stops at the first row libjpeg cannot give (suspended for want of data). */
static int read_rows(j_decompress_ptr d, util_image *out)
{
    size_t stride = (size_t)out->w * (size_t)out->c;
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = out->px + d->output_scanline * stride;
        if (jpeg_read_scanlines(d, &row, 1) != 1)
            return -1;
    }
    return 0;
}

/* Called when the marker after a restart interval is not the expected
 * RSTn. Our input only has such markers where packets were lost
 * (splice_runs), and there the found marker is RSTm of an interval ahead:
 * leaving it unread makes libjpeg fill the intervals in between with zero
 * blocks until the marker matches. libjpeg's default would treat a marker
 * 3..5 intervals ahead as the expected one and misplace the data. */
static boolean resync_keep(j_decompress_ptr d, int desired)
{
    (void)d;
    (void)desired;
    return TRUE;
}

/* Into reserved room; an empty packet may have no data at all. */
static void append(buf *in, const codec_packet *p)
{
    if (p->len == 0)
        return;
    memcpy(in->data + in->len, p->data, p->len);
    in->len += p->len;
}

static size_t find_rst(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == 0xFF && (p[i + 1] & 0xF8) == JPEG_RST0)
            return i;
    return n;
}

/* Appends arrived packets i.. up to the next missing one, from their first
 * RSTn marker on (what precedes it continues an interval whose start was
 * lost). Returns the index after the run. */
static size_t append_run(buf *in, const codec_stream *s,
                         const uint8_t *arrived, size_t i)
{
    size_t start = in->len;
    for (; i < s->n && arrived[i]; i++)
        append(in, &s->pkt[i]);
    size_t n = in->len - start;
    size_t r = find_rst(in->data + start, n);
    memmove(in->data + start, in->data + start + r, n - r);
    in->len = start + (n - r);
    return i;
}

/* With restart markers, later runs of arrived packets can be used: each is
 * cut to start at an RSTm marker, and resync_keep places it right if m
 * identifies the interval, i.e. if fewer than 8 markers were lost in the
 * gap. That holds when the stream has at most 7 markers, or when the gap is
 * too short to hold 8: each lost marker takes 2 bytes (the first and the
 * last perhaps only 1, the other byte lying just outside the gap) and each
 * interval between them at least 2 bits a block (a DC code and an EOB). Only for
 * single-scan sequential streams: in multi-scan streams RST numbers repeat
 * in every scan. Must run after jpeg_start_decompress and before any
 * scanline is read; the buffer has room for every arrived byte. */
static void splice_runs(buf *in, j_decompress_ptr d, const codec_stream *s,
                        const uint8_t *arrived, size_t k)
{
    struct jpeg_source_mgr *src = d->src;
    if (d->restart_interval == 0 || d->progressive_mode ||
        d->comps_in_scan != d->num_components ||
        src->next_input_byte + src->bytes_in_buffer != in->data + in->len)
        return;
    size_t ri = d->restart_interval;
    size_t mcus = (size_t)d->MCUs_per_row * d->MCU_rows_in_scan;
    size_t markers = (mcus + ri - 1) / ri - 1;
    size_t min_interval = (ri * (size_t)d->blocks_in_MCU + 3) / 4;
    size_t max_gap = markers <= 7 ? SIZE_MAX : 14 + 7 * min_interval;
    size_t before = in->len, gap = 0;
    for (size_t i = k; i < s->n;) {
        if (!arrived[i]) {
            gap += s->pkt[i++].len;
            continue;
        }
        if (gap >= max_gap)
            break;
        i = append_run(in, s, arrived, i);
        gap = 0;
    }
    src->bytes_in_buffer += in->len - before;
    if (in->len > before)
        src->resync_to_restart = resync_keep;
}

/* Decodes a sequential stream; with restart markers, later runs of arrived
 * packets join in. The source inserts a fake EOI at the end of the data,
 * as jpeg_mem_src does: libjpeg then leaves the blocks it did not reach at
 * zero, but decodes the MCU that the cut went through with zero bits for
 * the missing ones, so that one MCU is usually wrong. */
static int decode_sequential(buf *in, j_decompress_ptr d,
                             const codec_stream *s, const uint8_t *arrived,
                             size_t k, util_image *out)
{
    d->src->fill_input_buffer = src_eoi;
    jpeg_start_decompress(d);
    if (!output_fits(d, out))
        return -1;
    splice_runs(in, d, s, arrived, k);
    return read_rows(d, out);
}

/* Decodes a progressive stream in buffered-image mode. The source suspends
 * at the end of the data, which makes libjpeg undo the MCU that the cut
 * went through, so only whole MCUs of the last scan are used (one block in
 * an AC scan). With a fake EOI instead, zero bits often decode to a new
 * -1 at every zero position of that block, and a prefix could look worse
 * than a shorter one. Displaying the scan before the one in progress means
 * the output never waits for input; the coefficient buffer already holds
 * the part of the current scan that arrived (in colour, unless that scan
 * has only some of the components: gather_prefix has then cut the stream
 * after the last complete scan, see scans_end). Only while the first scan is
 * in progress does output stop early: rows whose data (or, with block
 * smoothing, the next row's) is incomplete stay grey. */
static int decode_progressive(j_decompress_ptr d, util_image *out)
{
    d->buffered_image = TRUE;
    jpeg_start_decompress(d);
    if (!output_fits(d, out))
        return -1;
    int r;
    do
        r = jpeg_consume_input(d);
    while (r != JPEG_SUSPENDED && r != JPEG_REACHED_EOI);
    int scan = d->input_scan_number;
    if (!jpeg_input_complete(d) && scan > 1)
        scan--;
    jpeg_start_output(d, scan);
    return read_rows(d, out);
}

/* Decodes st->in into out. Rows already written stay when libjpeg gives up
 * later; out was filled with grey beforehand. */
static int decompress_run(jc_state *st, dec_ctx *x, const codec_stream *s,
                          const uint8_t *arrived, size_t k, util_image *out)
{
    if (setjmp(x->je.jb))
        return -1;
    jpeg_create_decompress(&x->d);
    if (st->mode == MODE_ABBREVIATED) {
        src_set(&x->d, &x->src, st->tables.data, st->tables.len);
        if (jpeg_read_header(&x->d, FALSE) != JPEG_HEADER_TABLES_ONLY)
            return -1;
    }
    src_set(&x->d, &x->src, st->in.data, st->in.len);
    if (jpeg_read_header(&x->d, TRUE) != JPEG_HEADER_OK ||
        x->d.image_width != (JDIMENSION)out->w ||
        x->d.image_height != (JDIMENSION)out->h)
        return -1;
    x->d.out_color_space = out->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    if (x->d.progressive_mode)
        return decode_progressive(&x->d, out);
    return decode_sequential(&st->in, &x->d, s, arrived, k, out);
}

/* Standalone markers carry no length: SOI, EOI, RSTn and TEM. */
static int standalone(int m)
{
    return m == M_SOI || m == JPEG_EOI || (m & 0xF8) == JPEG_RST0 || m == 0x01;
}

static int is_progressive_sof(int m)
{
    return m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
}


/* Where a progressive stream cut short should end (an EOI goes there):
 *
 *  - cut between scans: before the marker segment the cut left incomplete,
 *    if any;
 *  - cut inside a scan, other than the first, of some but not all of the
 *    components (in colour: every AC scan, which has one component): after
 *    the last complete scan, dropping that scan's data (see below).
 *
 * SIZE_MAX when the stream is not progressive, ends inside any other scan,
 * or does not parse (libjpeg judges such bytes).
 *
 * Why the second case. While a scan is in progress, libjpeg-turbo's block
 * smoothing (2.1 on, jdcoefct.c decompress_smooth_data) handles the block
 * rows the scan has not reached with each component's coefficient
 * precisions from before the scan, but only the components in the scan
 * have those recorded then (jdphuff.c start_pass_phuff_decoder); for the
 * others it uses what was recorded before their own last scan. After a
 * chroma component's AC scan that says "no AC coefficient known", so the
 * smoothing replaces that component's DC by an interpolation of its
 * neighbours' and invents low AC coefficients, in every row below the scan
 * in progress: one more packet cost 4.7 dB on a 64x64 scene and 6.7 dB on
 * a 96x96 one (tests/test_rgb.c). Ending at the last complete scan keeps
 * those precisions right; over every prefix the mean PSNR is within 0.25
 * dB of using the partial scan's blocks (either way round, on that scene
 * at 64, 96 and 160 pixels, qualities 50 and 90), and no packet costs more
 * than about a tenth of a dB there. On the first 200 cluttered test scenes
 * (64 and 96 pixels, qualities 50 and 90, 51-byte packets) the worst loss
 * from one packet more was 2.1-4.6 dB before and is 0.15-0.34 dB now.
 * Grey streams are never cut inside a scan (their one
 * component is in every scan), nor are interleaved scans of all of a
 * colour image's components (its DC scans). */
static size_t scans_end(const uint8_t *p, size_t n)
{
    size_t pos = 0, last_scan_end = 0;
    int progressive = 0, frame_comps = 0, scans = 0;
    while (pos + 1 < n && p[pos] == 0xFF) {
        int m = p[pos + 1];
        if (m == 0xFF || standalone(m)) {
            pos += m == 0xFF ? 1 : 2;
            continue;
        }
        if (pos + 4 > n)
            break;
        size_t seg = ((size_t)p[pos + 2] << 8) | p[pos + 3];
        if (seg < 2)
            return SIZE_MAX;
        if (seg > n - pos - 2)
            break;
        if (is_progressive_sof(m)) {
            progressive = 1;
            frame_comps = seg >= 8 ? p[pos + 9] : 0;
        }
        int scan_comps = m == M_SOS && seg >= 3 ? p[pos + 4] : 0;
        pos += 2 + seg;
        if (m != M_SOS)
            continue;
        if ((pos = end_of_scan(p, n, pos)) == n)
            return progressive && scans > 0 && scan_comps < frame_comps
                       ? last_scan_end : SIZE_MAX;
        scans++;
        last_scan_end = pos;
    }
    if (pos < n && p[pos] != 0xFF)
        return SIZE_MAX;
    return progressive ? pos : SIZE_MAX;
}

/* A progressive stream cut where scans_end says is made to end there with
 * an EOI: between scans, so that libjpeg neither reads its fake EOI as the
 * contents of a marker segment (and gives up on the whole image) nor waits
 * for more scans (block smoothing holds back the last row until the next
 * scan starts); in colour, also before a scan of some components in
 * progress. in has room for the two bytes. */
static void end_between_scans(buf *in)
{
    size_t end = scans_end(in->data, in->len);
    if (end == SIZE_MAX)
        return;
    in->len = end;
    in->data[in->len++] = 0xFF;
    in->data[in->len++] = JPEG_EOI;
}

/* Fills st->in with what libjpeg reads first: the shared header in
 * abbreviated mode, then packets 0..k-1. Room is reserved for every arrived
 * byte so that splice_runs can append without moving the buffer. */
static int gather_prefix(jc_state *st, const codec_stream *s,
                         const uint8_t *arrived, size_t k,
                         const util_image *out, util_err *err)
{
    size_t hdr = 0, total = 0;
    if (st->mode == MODE_ABBREVIATED) {
        if (ensure_header(st, out->w, out->h, out->c, err) != 0)
            return -1;
        hdr = st->hdr.len;
    }
    for (size_t i = 0; i < s->n; i++)
        total += arrived[i] ? s->pkt[i].len : 0;
    if (buf_reserve(&st->in, hdr + total + 2) != 0)
        return util_errf(err, "jpeg: out of memory for %zu bytes", hdr + total);
    if (hdr)
        memcpy(st->in.data, st->hdr.data, hdr);
    st->in.len = hdr;
    for (size_t i = 0; i < k; i++)
        append(&st->in, &s->pkt[i]);
    end_between_scans(&st->in);
    return 0;
}

static int jc_decode(void *state, const codec_stream *s,
                     const uint8_t *arrived, util_image *out, util_err *err)
{
    jc_state *st = state;
    if (out->c != 1 && out->c != 3)
        return util_errf(err, "jpeg: can decode into grey or RGB images, not "
                              "%d channels", out->c);
    util_image_fill(out, GREY);
    size_t k = 0, prefix = 0;
    for (; k < s->n && arrived[k]; k++)
        prefix += s->pkt[k].len;
    if (prefix == 0)
        return 0;
    if (gather_prefix(st, s, arrived, k, out, err) != 0)
        return -1;
    dec_ctx x;
    memset(&x, 0, sizeof x);
    x.d.err = jerr_init(&x.je);
    (void)decompress_run(st, &x, s, arrived, k, out);
    jpeg_destroy_decompress(&x.d);
    return 0;
}

/* ---- setup ------------------------------------------------------------------- */

static int read_optimize(util_params *p, jc_state *st, util_err *err)
{
    int def = st->mode != MODE_ABBREVIATED;
    if (util_params_bool(p, "optimize", def, &st->optimize, err) != 0)
        return -1;
    if (st->mode == MODE_ABBREVIATED && st->optimize)
        return util_errf(err, "optimize: must be false in abbreviated mode "
                              "(the shared tables are the standard ones)");
    if (st->mode == MODE_PROGRESSIVE && !st->optimize)
        return util_errf(err, "optimize: must be true in progressive mode "
                              "(libjpeg always optimises its tables)");
    return 0;
}

static int read_params(util_params *p, jc_state *st, util_err *err)
{
    const char *mode;
    long q, r;
    if (util_params_str(p, "mode", "baseline", mode_names, &mode, err) != 0)
        return -1;
    for (st->mode = 0; strcmp(mode_names[st->mode], mode) != 0; st->mode++)
        ;
    if (util_params_int(p, "quality", 75, 1, 100, &q, err) != 0 ||
        util_params_int(p, "restart", 0, 0, 65535, &r, err) != 0 ||
        read_optimize(p, st, err) != 0)
        return -1;
    st->quality = (int)q;
    st->restart = (int)r;
    return 0;
}

static void make_label(const jc_state *st, char *label, size_t len)
{
    size_t off = 0;
    util_appendf(label, len, &off, "jpeg-%s-q%d", mode_names[st->mode], st->quality);
    if (st->restart > 0)
        util_appendf(label, len, &off, "-r%d", st->restart);
    if (st->mode == MODE_BASELINE && !st->optimize)
        util_appendf(label, len, &off, "-stdhuff");
}

static void jc_destroy(void *state)
{
    jc_state *st = state;
    if (!st)
        return;
    free(st->enc.data);
    free(st->in.data);
    free(st->tables.data);
    free(st->hdr.data);
    free(st);
}

static int jc_create(util_params *params, void **state, char *label,
                     size_t label_len, util_err *err)
{
    jc_state *st = calloc(1, sizeof *st);
    if (!st)
        return util_errf(err, "jpeg: out of memory");
    if (read_params(params, st, err) != 0 ||
        (st->mode == MODE_ABBREVIATED && build_tables(st, err) != 0)) {
        jc_destroy(st);
        return -1;
    }
    make_label(st, label, label_len);
    *state = st;
    return 0;
}

const codec_vtable codec_jpeg_vtable = {
    .name = "jpeg",
    .create = jc_create,
    .encode = jc_encode,
    .decode = jc_decode,
    .destroy = jc_destroy,
};
