/* The codec interface and the JPEG baselines: roundtrips, packetisation,
 * prefix decoding, restart-marker resynchronisation and hostile input. */
#include "tests/testutil.h"
#include "tests/codecutil.h"

#include <math.h>

#include <jpeglib.h>

#include "codec/codec.h"
#include "tasks/task.h"

#define W 28
#define H 28

static const char *const modes[] = { "baseline", "progressive", "abbreviated" };
#define NMODES 3

/* ---- helpers ------------------------------------------------------------- */

static double psnr(const util_image *a, const util_image *b)
{
    assert_int_equal(util_image_size(a), util_image_size(b));
    return task_psnr(a, b);
}

static void alloc_image(util_image *img, int w, int h, int c)
{
    util_err err;
    assert_int_equal(util_image_alloc(img, w, h, c, &err), 0);
}

static uint8_t clamp8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* A soft blob on a dark background: what a Fashion-MNIST item looks like
 * to a codec. Channels get different blobs. */
static void make_smooth(util_image *img, int w, int h, int c)
{
    alloc_image(img, w, h, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double cx = w * (0.4 + 0.1 * k), cy = h * (0.5 - 0.05 * k);
                double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                double v = 20 + 200 * exp(-r2 / (2 * 0.06 * w * h));
                img->px[((size_t)y * w + x) * c + k] = clamp8(v);
            }
}

/* Stripes, a checker and noise: many bytes per block, so that a prefix
 * decode has much to gain from each packet. */
static void make_textured(util_image *img, int w, int h, int c, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    alloc_image(img, w, h, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double v = 128 + 50 * sin(x * 0.9 + k) + 30 * cos(y * 0.5) +
                           ((x / 4 + y / 4) % 2 ? 25 : -25) +
                           20 * util_rng_normal(&rng);
                img->px[((size_t)y * w + x) * c + k] = clamp8(v);
            }
}

static codec *make_codec(const char *mode, int quality, int restart)
{
    util_params p;
    util_err err;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "mode", mode, &err), 0);
    assert_int_equal(util_params_set_num(&p, "quality", quality, &err), 0);
    if (restart)
        assert_int_equal(util_params_set_num(&p, "restart", restart, &err), 0);
    codec *c = NULL;
    if (codec_create("jpeg", &p, &c, &err) != 0)
        fail_msg("codec_create: %s", err.msg);
    return c;
}

static void encode(codec *c, const util_image *img, size_t payload,
                   codec_stream *s)
{
    util_err err;
    codec_stream_init(s);
    if (codec_encode(c, img, payload, s, &err) != 0)
        fail_msg("encode: %s", err.msg);
    assert_true(s->n > 0);
}

/* Decodes with packets whose flag is set in arrived (NULL: the first k). */
static void decode(codec *c, const codec_stream *s, const uint8_t *arrived,
                   size_t k, util_image *out)
{
    uint8_t flags[4096];
    assert_true(s->n <= sizeof flags);
    for (size_t i = 0; i < s->n; i++)
        flags[i] = arrived ? arrived[i] : i < k;
    util_err err;
    memset(out->px, 7, util_image_size(out));
    if (codec_decode(c, s, flags, out, &err) != 0)
        fail_msg("decode: %s", err.msg);
}




/* ---- interface ------------------------------------------------------------- */

static void test_streams(void **state)
{
    (void)state;
    util_err err;
    codec_stream s;
    codec_stream_init(&s);
    uint8_t data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)i;
    assert_int_equal(codec_stream_split(&s, data, 100, 30, &err), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.pkt[3].len, 10);
    assert_int_equal(codec_stream_bytes(&s), 100);
    assert_memory_equal(s.pkt[3].data, data + 90, 10);
    codec_stream_clear(&s);
    assert_int_equal(s.n, 0);
    assert_int_equal(codec_stream_bytes(&s), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(codec_stream_push(&s, data, (size_t)i % 3, &err), 0);
    assert_int_equal(s.n, 40);
    assert_int_equal(codec_stream_bytes(&s), 39);
    assert_int_equal(codec_stream_split(&s, data, 10, 0, &err), -1);
    codec_stream_free(&s);
    assert_int_equal(s.n, 0);
    codec_stream_free(&s);
}

static void test_registry(void **state)
{
    (void)state;
    util_err err;
    const char *const *names = codec_names();
    int found = 0;
    for (size_t i = 0; names[i]; i++) {
        codec *c = NULL;
        if (codec_create(names[i], NULL, &c, &err) != 0)
            fail_msg("%s: %s", names[i], err.msg);
        found |= strcmp(names[i], "jpeg") == 0;
        codec_destroy(c);
    }
    assert_true(found);
    codec *c = NULL;
    assert_int_equal(codec_create("jpgg", NULL, &c, &err), -1);
    assert_null(c);
    assert_non_null(strstr(err.msg, "jpgg"));
}

static void expect_param_error(const char *key, int type, double num,
                               const char *str, const char *mode)
{
    util_params p;
    util_err err;
    util_params_init(&p);
    if (mode)
        assert_int_equal(util_params_set_str(&p, "mode", mode, &err), 0);
    if (type == UTIL_PARAM_STR)
        assert_int_equal(util_params_set_str(&p, key, str, &err), 0);
    else if (type == UTIL_PARAM_BOOL)
        assert_int_equal(util_params_set_bool(&p, key, (int)num, &err), 0);
    else
        assert_int_equal(util_params_set_num(&p, key, num, &err), 0);
    codec *c = NULL;
    err.msg[0] = 0;
    assert_int_equal(codec_create("jpeg", &p, &c, &err), -1);
    assert_null(c);
    size_t n = strlen(key);
    if (strncmp(err.msg, key, n) != 0 || err.msg[n] != ':')
        fail_msg("expected an error starting with \"%s:\", got \"%s\"", key,
                 err.msg);
}

static void test_param_errors(void **state)
{
    (void)state;
    expect_param_error("qualty", UTIL_PARAM_NUM, 30, NULL, NULL);
    expect_param_error("mode", UTIL_PARAM_STR, 0, "lossless", NULL);
    expect_param_error("mode", UTIL_PARAM_NUM, 1, NULL, NULL);
    expect_param_error("quality", UTIL_PARAM_NUM, 0, NULL, NULL);
    expect_param_error("quality", UTIL_PARAM_NUM, 101, NULL, NULL);
    expect_param_error("quality", UTIL_PARAM_NUM, 30.5, NULL, NULL);
    expect_param_error("quality", UTIL_PARAM_STR, 0, "high", NULL);
    expect_param_error("restart", UTIL_PARAM_NUM, -1, NULL, NULL);
    expect_param_error("optimize", UTIL_PARAM_NUM, 1, NULL, NULL);
    expect_param_error("optimize", UTIL_PARAM_BOOL, 1, NULL, "abbreviated");
    expect_param_error("optimize", UTIL_PARAM_BOOL, 0, NULL, "progressive");
}

static void test_labels(void **state)
{
    (void)state;
    codec *c = make_codec("baseline", 30, 0);
    assert_string_equal(codec_label(c), "jpeg-baseline-q30");
    codec_destroy(c);
    c = make_codec("progressive", 75, 2);
    assert_string_equal(codec_label(c), "jpeg-progressive-q75-r2");
    codec_destroy(c);
    c = make_codec("abbreviated", 10, 0);
    assert_string_equal(codec_label(c), "jpeg-abbreviated-q10");
    codec_destroy(c);

    util_params p;
    util_err err;
    util_params_init(&p);
    assert_int_equal(util_params_set_bool(&p, "optimize", 0, &err), 0);
    assert_int_equal(codec_create("jpeg", &p, &c, &err), 0);
    assert_string_equal(codec_label(c), "jpeg-baseline-q75-stdhuff");
    codec_destroy(c);
}

static void test_misuse(void **state)
{
    (void)state;
    util_err err;
    util_image img, out;
    make_smooth(&img, W, H, 1);
    codec *c = make_codec("baseline", 50, 0);
    codec_stream s;
    codec_stream_init(&s);
    assert_int_equal(codec_encode(c, &img, 0, &s, &err), -1);
    util_image two;
    alloc_image(&two, W, H, 2);
    assert_int_equal(codec_encode(c, &two, 51, &s, &err), -1);
    encode(c, &img, 51, &s);
    uint8_t arrived[64];
    memset(arrived, 1, sizeof arrived);
    assert_int_equal(codec_decode(c, &s, arrived, &two, &err), -1);
    alloc_image(&out, W, H, 1);
    uint8_t *keep = s.pkt[0].data;
    s.pkt[0].data = NULL;
    assert_int_equal(codec_decode(c, &s, arrived, &out, &err), -1);
    s.pkt[0].data = keep;
    /* A missing packet's contents are never read. */
    keep = s.pkt[1].data;
    s.pkt[1].data = NULL;
    arrived[1] = 0;
    assert_int_equal(codec_decode(c, &s, arrived, &out, &err), 0);
    s.pkt[1].data = keep;
    util_image none = { 0 };
    assert_int_equal(codec_decode(c, &s, arrived, &none, &err), -1);
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&two);
    util_image_free(&out);
}

/* ---- roundtrips ------------------------------------------------------------- */

static void check_packets(const codec_stream *s, size_t payload)
{
    for (size_t i = 0; i < s->n; i++) {
        assert_true(s->pkt[i].len <= payload);
        assert_true(s->pkt[i].len > 0);
        if (i + 1 < s->n)
            assert_int_equal(s->pkt[i].len, payload);
    }
}

/* libjpeg used directly, failing the test on any error or warning. */
static void raw_fail(j_common_ptr ci)
{
    char msg[JMSG_LENGTH_MAX];
    ci->err->format_message(ci, msg);
    fail_msg("libjpeg: %s", msg);
}

static void raw_message(j_common_ptr ci, int level)
{
    if (level < 0)
        raw_fail(ci);
}

static void raw_decode(const uint8_t *data, size_t len, util_image *out)
{
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr e;
    d.err = jpeg_std_error(&e);
    e.error_exit = raw_fail;
    e.emit_message = raw_message;
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)len);
    assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
    d.out_color_space = out->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&d);
    assert_int_equal(d.output_width, out->w);
    assert_int_equal(d.output_height, out->h);
    assert_int_equal(d.output_components, out->c);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = out->px + (size_t)d.output_scanline * out->w * out->c;
        assert_int_equal(jpeg_read_scanlines(&d, &row, 1), 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
}

/* Full-file modes send a plain JPEG file: the packets put together are one
 * that libjpeg reads without a warning, to the image the codec decodes. */
static void check_plain_jpeg(const codec_stream *s, const util_image *dec)
{
    size_t len;
    uint8_t *all = cu_concat(s, &len);
    assert_true(len > 4);
    assert_int_equal(all[0], 0xFF);
    assert_int_equal(all[1], 0xD8);
    assert_int_equal(all[len - 2], 0xFF);
    assert_int_equal(all[len - 1], 0xD9);
    util_image out;
    alloc_image(&out, dec->w, dec->h, dec->c);
    raw_decode(all, len, &out);
    assert_true(cu_same(&out, dec));
    util_image_free(&out);
    free(all);
}
static void roundtrip(const char *mode, int ch, int restart, double min_psnr)
{
    util_image img, out;
    make_smooth(&img, W, H, ch);
    alloc_image(&out, W, H, ch);
    codec *c = make_codec(mode, 75, restart);
    codec_stream s;
    encode(c, &img, 51, &s);
    check_packets(&s, 51);
    decode(c, &s, NULL, s.n, &out);
    double q = psnr(&img, &out);
    if (q < min_psnr)
        fail_msg("%s c=%d: PSNR %.2f < %.2f", codec_label(c), ch, q, min_psnr);
    if (strcmp(mode, "abbreviated") != 0)
        check_plain_jpeg(&s, &out);
    else
        assert_false(s.pkt[0].data[0] == 0xFF && s.pkt[0].data[1] == 0xD8);
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&out);
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (int m = 0; m < NMODES; m++)
        for (int r = 0; r <= 1; r++) {
            roundtrip(modes[m], 1, r, 36);
            roundtrip(modes[m], 3, r, 33);
        }
}

/* Restart markers change only how the coefficients are laid out, and the
 * same image encodes the same way whatever was decoded before. */
static void test_restart_lossless_and_deterministic(void **state)
{
    (void)state;
    util_image img, a, b;
    make_textured(&img, W, H, 3, 5);
    alloc_image(&a, W, H, 3);
    alloc_image(&b, W, H, 3);
    for (int m = 0; m < NMODES; m++) {
        codec *c0 = make_codec(modes[m], 60, 0), *c1 = make_codec(modes[m], 60, 1);
        codec_stream s0, s1;
        encode(c0, &img, 40, &s0);
        encode(c1, &img, 40, &s1);
        assert_true(codec_stream_bytes(&s1) > codec_stream_bytes(&s0));
        decode(c0, &s0, NULL, s0.n, &a);
        decode(c1, &s1, NULL, s1.n, &b);
        assert_true(cu_same(&a, &b));
        decode(c0, &s0, NULL, 1, &b);   /* something else in between */
        decode(c0, &s0, NULL, s0.n, &b);
        assert_true(cu_same(&a, &b));
        codec_stream_free(&s0);
        codec_stream_free(&s1);
        codec_destroy(c0);
        codec_destroy(c1);
    }
    util_image_free(&img);
    util_image_free(&a);
    util_image_free(&b);
}

static size_t encoded_bytes(const char *mode, int q, const util_image *img)
{
    codec *c = make_codec(mode, q, 0);
    codec_stream s;
    encode(c, img, 1000, &s);
    size_t n = codec_stream_bytes(&s);
    codec_stream_free(&s);
    codec_destroy(c);
    return n;
}

static void test_abbreviated_smaller(void **state)
{
    (void)state;
    for (int ch = 1; ch <= 3; ch += 2) {
        util_image img;
        make_smooth(&img, W, H, ch);
        for (int q = 10; q <= 90; q += 20) {
            size_t ab = encoded_bytes("abbreviated", q, &img);
            size_t base = encoded_bytes("baseline", q, &img);
            if (ab >= base)
                fail_msg("c=%d q=%d: abbreviated %zu >= baseline %zu", ch, q,
                         ab, base);
        }
        util_image_free(&img);
    }
}

/* ---- partial delivery ------------------------------------------------------- */

/* Progressive: PSNR must not fall as packets arrive. For grey it does not
 * at all. For colour it may by a few hundredths of a dB: when a scan
 * starts, libjpeg's block smoothing takes the precision that scan brings
 * as known for every block, including those the scan has not reached, and
 * clamps its estimates there more tightly (without smoothing the RGB curve
 * is monotone too, but lower early on). */
static void prefix_curve(const char *mode, int ch, size_t payload)
{
    double tol = ch == 1 ? 0 : 0.1;
    util_image img, out;
    make_textured(&img, W, H, ch, 11);
    alloc_image(&out, W, H, ch);
    codec *c = make_codec(mode, 75, 0);
    codec_stream s;
    encode(c, &img, payload, &s);
    assert_true(s.n >= 4);
    decode(c, &s, NULL, s.n, &out);
    double full = psnr(&img, &out), prev = 0;
    for (size_t k = 0; k <= s.n; k++) {
        decode(c, &s, NULL, k, &out);
        double q = psnr(&img, &out);
        if (k == 0)
            assert_true(cu_is_flat(&out, 128));
        if (q > full + 1e-9)
            fail_msg("%s c=%d: %zu packets give %.2f dB, all give %.2f",
                     mode, ch, k, q, full);
        if (strcmp(mode, "progressive") == 0 && q < prev - tol - 1e-9)
            fail_msg("%s c=%d: PSNR falls from %.3f to %.3f at k=%zu of %zu",
                     mode, ch, prev, q, k, s.n);
        prev = q;
    }
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&out);
}

static void test_prefix_decoding(void **state)
{
    (void)state;
    for (int m = 0; m < NMODES; m++)
        for (size_t payload = 8; payload <= 64; payload *= 2) {
            prefix_curve(modes[m], 1, payload);
            prefix_curve(modes[m], 3, payload);
        }
}

/* Without restart markers a missing packet ends the usable data. */
static void test_missing_middle_unused(void **state)
{
    (void)state;
    util_image img, a, b;
    make_textured(&img, W, H, 3, 3);
    alloc_image(&a, W, H, 3);
    alloc_image(&b, W, H, 3);
    uint8_t arrived[256];
    for (int m = 0; m < NMODES; m++) {
        codec *c = make_codec(modes[m], 75, 0);
        codec_stream s;
        encode(c, &img, 40, &s);
        for (size_t j = 1; j + 1 < s.n; j++) {
            memset(arrived, 1, sizeof arrived);
            arrived[j] = 0;
            decode(c, &s, arrived, 0, &a);
            decode(c, &s, NULL, j, &b);
            assert_true(cu_same(&a, &b));
        }
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
    util_image_free(&a);
    util_image_free(&b);
}

static void test_nothing_arrived(void **state)
{
    (void)state;
    util_image img, out;
    make_smooth(&img, W, H, 3);
    alloc_image(&out, W, H, 3);
    uint8_t arrived[256] = { 0 };
    for (int m = 0; m < NMODES; m++) {
        codec *c = make_codec(modes[m], 50, 0);
        codec_stream s;
        encode(c, &img, 20, &s);
        decode(c, &s, arrived, 0, &out);
        assert_true(cu_is_flat(&out, 128));
        /* Only the first packet lost: nothing usable either. */
        memset(arrived, 1, sizeof arrived);
        arrived[0] = 0;
        decode(c, &s, arrived, 0, &out);
        assert_true(cu_is_flat(&out, 128));
        memset(arrived, 0, sizeof arrived);
        codec_stream empty;
        codec_stream_init(&empty);
        decode(c, &empty, NULL, 0, &out);
        assert_true(cu_is_flat(&out, 128));
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
    util_image_free(&out);
}

/* A stream decoded into an image of another size gives flat grey. */
static void test_size_mismatch(void **state)
{
    (void)state;
    util_image img, out;
    make_smooth(&img, W, H, 1);
    alloc_image(&out, W + 8, H, 1);
    codec *c = make_codec("baseline", 50, 0);
    codec_stream s;
    encode(c, &img, 51, &s);
    decode(c, &s, NULL, s.n, &out);
    assert_true(cu_is_flat(&out, 128));
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&out);
}

/* ---- restart markers ---------------------------------------------------------- */

static int band_is(const util_image *a, const util_image *b, int y0, int rows)
{
    size_t stride = (size_t)a->w * a->c;
    return memcmp(a->px + y0 * stride, b->px + y0 * stride,
                  stride * (size_t)rows) == 0;
}

static int band_flat(const util_image *a, int y0, int rows)
{
    size_t stride = (size_t)a->w * a->c;
    for (size_t i = y0 * stride; i < (y0 + rows) * stride; i++)
        if (a->px[i] != 128)
            return 0;
    return 1;
}

/* One restart interval is one 8-row band of a grey image. With packet j
 * lost, every band must be the full decode's, the prefix decode's (the
 * band the prefix ends in), or flat (lost); returns how many bands after
 * the prefix's end came back whole. */
static int check_bands(const util_image *got, const util_image *full,
                       const util_image *prefix)
{
    int recovered = 0, past_prefix = 0;
    for (int y = 0; y < got->h; y += 8) {
        int rows = got->h - y < 8 ? got->h - y : 8;
        int is_full = band_is(got, full, y, rows);
        if (!band_is(prefix, full, y, rows))
            past_prefix = 1;
        if (is_full && past_prefix && !band_flat(got, y, rows))
            recovered++;
        if (!is_full && !band_is(got, prefix, y, rows) && !band_flat(got, y, rows))
            fail_msg("band at row %d is neither decoded, nor the prefix's, "
                     "nor lost", y);
    }
    return recovered;
}

/* Returns the number of single-packet losses after which later bands were
 * recovered; checks every loss for misplaced data. */
static int restart_losses(int h, size_t payload, int quality)
{
    util_image img, full, pre, got;
    make_textured(&img, W, h, 1, 9);
    alloc_image(&full, W, h, 1);
    alloc_image(&pre, W, h, 1);
    alloc_image(&got, W, h, 1);
    codec *c = make_codec("baseline", quality, 1);
    codec_stream s;
    encode(c, &img, payload, &s);
    decode(c, &s, NULL, s.n, &full);
    uint8_t arrived[4096];
    int helped = 0;
    for (size_t j = 1; j + 1 < s.n; j++) {
        memset(arrived, 1, sizeof arrived);
        arrived[j] = 0;
        decode(c, &s, arrived, 0, &got);
        decode(c, &s, NULL, j, &pre);
        assert_true(psnr(&img, &got) >= psnr(&img, &pre));
        helped += check_bands(&got, &full, &pre) > 0;
    }
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&full);
    util_image_free(&pre);
    util_image_free(&got);
    return helped;
}

static void test_restart_resync(void **state)
{
    (void)state;
    /* 4 intervals, so at most 3 markers: always unambiguous. */
    assert_true(restart_losses(H, 12, 75) > 0);
    /* 20 intervals: 8 lost markers would take at least 14 bytes plus 7
     * intervals of at least 1 byte (2 bits x 4 blocks), which a 16-byte gap
     * cannot hide and a 64-byte one could. */
    assert_true(restart_losses(160, 16, 75) > 0);
    assert_int_equal(restart_losses(160, 64, 75), 0);
}

/* ---- hostile input ------------------------------------------------------------ */

static void decode_random_arrivals(codec *c, const codec_stream *s,
                                   util_image *out, util_rng *rng)
{
    uint8_t arrived[4096];
    for (size_t i = 0; i < s->n; i++)
        arrived[i] = util_rng_below(rng, 4) != 0;
    decode(c, s, arrived, 0, out);
}

static void random_stream(codec_stream *s, util_rng *rng)
{
    util_err err;
    uint8_t buf[300];
    size_t n = 1 + util_rng_below(rng, 8);
    codec_stream_clear(s);
    for (size_t i = 0; i < n; i++) {
        size_t len = util_rng_below(rng, sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)util_rng_next(rng);
        assert_int_equal(codec_stream_push(s, buf, len, &err), 0);
    }
}

static void test_garbage(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 42);
    util_image out1, out3;
    alloc_image(&out1, W, H, 1);
    alloc_image(&out3, W, H, 3);
    codec_stream s;
    codec_stream_init(&s);
    for (int m = 0; m < NMODES; m++)
        for (int r = 0; r <= 1; r++) {
            codec *c = make_codec(modes[m], 50, r);
            for (int it = 0; it < 300; it++) {
                random_stream(&s, &rng);
                decode_random_arrivals(c, &s, it % 2 ? &out1 : &out3, &rng);
                decode(c, &s, NULL, s.n, it % 2 ? &out3 : &out1);
            }
            codec_destroy(c);
        }
    codec_stream_free(&s);
    util_image_free(&out1);
    util_image_free(&out3);
}

/* Valid streams with bytes overwritten, bits flipped, packets cut short,
 * and garbage after a valid header. */
static void mutate(codec_stream *s, util_rng *rng)
{
    int how = (int)util_rng_below(rng, 4);
    size_t i = util_rng_below(rng, s->n);
    codec_packet *p = &s->pkt[i];
    if (how == 0) {
        for (int f = 0; f < 1 + (int)util_rng_below(rng, 8); f++) {
            codec_packet *q = &s->pkt[util_rng_below(rng, s->n)];
            q->data[util_rng_below(rng, q->len)] ^=
                (uint8_t)(1u << util_rng_below(rng, 8));
        }
    } else if (how == 1) {
        p->data[util_rng_below(rng, p->len)] = (uint8_t)util_rng_next(rng);
    } else if (how == 2) {
        p->len = util_rng_below(rng, p->len + 1);
    } else {
        for (size_t j = i == 0 ? p->len / 2 : 0; j < p->len; j++)
            p->data[j] = (uint8_t)util_rng_next(rng);
    }
}

static void test_corrupted(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 7);
    for (int ch = 1; ch <= 3; ch += 2) {
        util_image img, out;
        make_textured(&img, W, H, ch, 1);
        alloc_image(&out, W, H, ch);
        for (int m = 0; m < NMODES; m++)
            for (int r = 0; r <= 1; r++) {
                codec *c = make_codec(modes[m], 70, r);
                for (int it = 0; it < 150; it++) {
                    codec_stream s;
                    encode(c, &img, 8 + util_rng_below(&rng, 60), &s);
                    mutate(&s, &rng);
                    decode(c, &s, NULL, s.n, &out);
                    decode_random_arrivals(c, &s, &out, &rng);
                    codec_stream_free(&s);
                }
                codec_destroy(c);
            }
        util_image_free(&img);
        util_image_free(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_restart_lossless_and_deterministic),
        cmocka_unit_test(test_abbreviated_smaller),
        cmocka_unit_test(test_prefix_decoding),
        cmocka_unit_test(test_missing_middle_unused),
        cmocka_unit_test(test_nothing_arrived),
        cmocka_unit_test(test_size_mismatch),
        cmocka_unit_test(test_restart_resync),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
