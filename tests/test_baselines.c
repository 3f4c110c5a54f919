/* The JPEG 2000 (OpenJPEG) and WebP (libwebp) baselines: roundtrips,
 * header modes, prefix decoding of truncated codestreams, partial WebP
 * files, and hostile input. */
#include "tests/testutil.h"
#include "tests/codecutil.h"

#include <math.h>

#include "codec/codec.h"
#include "tasks/task.h"

#define W 28
#define H 28

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

/* A soft blob on a dark background with some texture and noise: enough
 * detail that every quality layer has something to add. */
static void make_image(util_image *img, int w, int h, int c, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    alloc_image(img, w, h, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double cx = w * (0.4 + 0.1 * k), cy = h * (0.5 - 0.05 * k);
                double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                double v = 20 + 180 * exp(-r2 / (2 * 0.06 * w * h)) +
                           25 * sin(x * 0.8 + k) * cos(y * 0.4) +
                           8 * util_rng_normal(&rng);
                img->px[((size_t)y * w + x) * c + k] = clamp8(v);
            }
}





/* Settings every test runs through. */
static const char *const j2k_sets[][5] = {
    { "mode=layer", "bytes=300", "layers=3", NULL },
    { "mode=layer", "bytes=300", "layers=4", "header=none", NULL },
    { "mode=resolution", "bytes=300", "layers=1", NULL },
    { "mode=resolution", "bytes=250", "layers=2", "header=none", NULL },
};
#define NJ2K 4

static const char *const webp_sets[][4] = {
    { "quality=30", NULL },
    { "quality=60", "header=none", NULL },
    { "quality=10", "method=6", "header=none", NULL },
};
#define NWEBP 3

/* ---- registry and parameters --------------------------------------------- */

static void test_registry_and_labels(void **state)
{
    (void)state;
    const char *const *names = codec_names();
    int j = 0, w = 0;
    for (size_t i = 0; names[i]; i++) {
        j |= strcmp(names[i], "j2k") == 0;
        w |= strcmp(names[i], "webp") == 0;
    }
    assert_true(j && w);
    static const struct {
        const char *name, *kv[5], *label;
    } cases[] = {
        { "j2k", { NULL }, "j2k-layer-b200-l3" },
        { "j2k", { "mode=resolution", "bytes=150", "layers=1", NULL },
          "j2k-resolution-b150-l1" },
        { "j2k", { "levels=2", "header=none", NULL }, "j2k-layer-b200-l3-d2-nohdr" },
        { "webp", { NULL }, "webp-q75" },
        { "webp", { "quality=10", "method=6", "header=none", NULL },
          "webp-q10-m6-nohdr" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        codec *c = cu_make(cases[i].name, cases[i].kv);
        assert_string_equal(codec_label(c), cases[i].label);
        codec_destroy(c);
    }
}

static void expect_error(const char *name, const char *key, const char *str,
                         double num, const char *what)
{
    util_params p;
    util_err err;
    util_params_init(&p);
    if (str)
        assert_int_equal(util_params_set_str(&p, key, str, &err), 0);
    else
        assert_int_equal(util_params_set_num(&p, key, num, &err), 0);
    codec *c = NULL;
    assert_int_equal(codec_create(name, &p, &c, &err), -1);
    assert_null(c);
    if (!strstr(err.msg, what))
        fail_msg("%s %s: message \"%s\" lacks \"%s\"", name, key, err.msg, what);
}

static void test_param_errors(void **state)
{
    (void)state;
    expect_error("j2k", "mode", "lrcp", 0, "mode");
    expect_error("j2k", "header", "riff", 0, "header");
    expect_error("j2k", "layers", NULL, 0, "layers");
    expect_error("j2k", "layers", NULL, 21, "layers");
    expect_error("j2k", "bytes", NULL, 0, "bytes");
    expect_error("j2k", "levels", NULL, 11, "levels");
    expect_error("j2k", "quality", NULL, 10, "quality");
    expect_error("webp", "quality", NULL, 101, "quality");
    expect_error("webp", "method", NULL, 7, "method");
    expect_error("webp", "header", "full", 0, "header");
    expect_error("webp", "mode", "lossless", 0, "mode");
}

/* ---- roundtrips ------------------------------------------------------------ */

static void roundtrip(codec *c, int ch, double min_psnr)
{
    util_image img, out;
    make_image(&img, W, H, ch, 5);
    alloc_image(&out, W, H, ch);
    codec_stream s;
    cu_encode(c, &img, 51, &s);
    cu_decode(c, &s, NULL, s.n, &out);
    double q = psnr(&img, &out);
    if (q < min_psnr)
        fail_msg("%s c=%d: PSNR %.2f < %.2f", codec_label(c), ch, q, min_psnr);
    codec_stream_free(&s);
    util_image_free(&img);
    util_image_free(&out);
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (int i = 0; i < NJ2K; i++) {
        codec *c = cu_make("j2k", j2k_sets[i]);
        roundtrip(c, 1, 25);
        roundtrip(c, 3, 18);
        codec_destroy(c);
    }
    for (int i = 0; i < NWEBP; i++) {
        codec *c = cu_make("webp", webp_sets[i]);
        roundtrip(c, 1, 25);
        roundtrip(c, 3, 20);
        codec_destroy(c);
    }
    /* Near lossless at high settings. */
    const char *const j2k_hi[] = { "bytes=5000", "layers=1", NULL };
    const char *const webp_hi[] = { "quality=100", NULL };
    codec *c = cu_make("j2k", j2k_hi);
    roundtrip(c, 1, 45);
    codec_destroy(c);
    c = cu_make("webp", webp_hi);
    roundtrip(c, 1, 45);
    codec_destroy(c);
}

/* The J2K stream is a bare codestream: SOC first, EOC last, a PLT marker,
 * and none of OpenJPEG's default comment. */
static void test_j2k_codestream(void **state)
{
    (void)state;
    util_image img;
    make_image(&img, W, H, 1, 2);
    codec *c = cu_make("j2k", j2k_sets[0]);
    codec_stream s;
    cu_encode(c, &img, 1000, &s);
    size_t n;
    uint8_t *all = cu_concat(&s, &n);
    assert_true(n > 100);
    assert_int_equal(all[0], 0xFF);
    assert_int_equal(all[1], 0x4F);
    assert_int_equal(all[n - 2], 0xFF);
    assert_int_equal(all[n - 1], 0xD9);
    int plt = 0, sod = 0;
    for (size_t i = 0; i + 1 < n && !sod; i++) {
        if (all[i] != 0xFF)
            continue;
        assert_int_not_equal(all[i + 1], 0x64);
        plt |= all[i + 1] == 0x58;
        sod |= all[i + 1] == 0x93;
    }
    assert_true(plt && sod);
    free(all);
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
}

/* Leaving the known headers out changes the bytes sent, not the image. */
static void header_pair(const char *name, const char *const *full,
                        const char *const *none, int ch, long saved_min,
                        long saved_max)
{
    util_image img, a, b;
    make_image(&img, W, H, ch, 4);
    alloc_image(&a, W, H, ch);
    alloc_image(&b, W, H, ch);
    codec *cf = cu_make(name, full), *cn = cu_make(name, none);
    codec_stream sf, sn;
    cu_encode(cf, &img, 51, &sf);
    cu_encode(cn, &img, 51, &sn);
    long bf = (long)codec_stream_bytes(&sf), bn = (long)codec_stream_bytes(&sn);
    if (bf - bn < saved_min || bf - bn > saved_max)
        fail_msg("%s c=%d: %ld bytes with headers, %ld without", name, ch, bf,
                 bn);
    cu_decode(cf, &sf, NULL, sf.n, &a);
    cu_decode(cn, &sn, NULL, sn.n, &b);
    if (strcmp(name, "webp") == 0)
        assert_true(cu_same(&a, &b));
    else
        assert_true(psnr(&img, &b) > psnr(&img, &a) - 0.1);
    codec_stream_free(&sf);
    codec_stream_free(&sn);
    codec_destroy(cf);
    codec_destroy(cn);
    util_image_free(&img);
    util_image_free(&a);
    util_image_free(&b);
}

static void test_header_none(void **state)
{
    (void)state;
    const char *const wf[] = { "quality=40", NULL };
    const char *const wn[] = { "quality=40", "header=none", NULL };
    /* WebP: 20 bytes of RIFF and chunk header, 7 of frame header, and the
     * pad byte when the frame's length is odd. */
    header_pair("webp", wf, wn, 1, 27, 28);
    header_pair("webp", wf, wn, 3, 27, 28);
    /* J2K: the byte target covers what is sent either way, so the saving
     * shows as quality, not bytes; sizes stay near the target. */
    const char *const jf[] = { "bytes=400", NULL };
    const char *const jn[] = { "bytes=400", "header=none", NULL };
    header_pair("j2k", jf, jn, 1, -20, 20);
    header_pair("j2k", jf, jn, 3, -20, 20);
}

/* Achievable byte targets are met from below, to within 10 %: OpenJPEG
 * allocates each layer as much as fits. */
static void test_j2k_byte_target(void **state)
{
    (void)state;
    util_image img;
    make_image(&img, W, H, 1, 8);
    static const long targets[] = { 250, 400, 600 };
    for (int h = 0; h < 2; h++)
        for (size_t i = 0; i < 3; i++) {
            char b[32];
            snprintf(b, sizeof b, "bytes=%ld", targets[i]);
            const char *const kv[] = { b, h ? "header=none" : "header=full",
                                       NULL };
            codec *c = cu_make("j2k", kv);
            codec_stream s;
            cu_encode(c, &img, 51, &s);
            double n = (double)codec_stream_bytes(&s);
            if (n > 1.02 * (double)targets[i] || n < 0.9 * (double)targets[i])
                fail_msg("%s: %.0f bytes", codec_label(c), n);
            codec_stream_free(&s);
            codec_destroy(c);
        }
    util_image_free(&img);
}

/* ---- partial delivery ------------------------------------------------------- */

/* J2K cut at 10 random bytes: one packet per byte, so that a prefix of
 * packets is any prefix of the codestream. PSNR must not fall as bytes
 * arrive, beyond a tenth of a dB: the decoder cuts at the last
 * whole J2K packet, and a whole packet can still cost a little, since the
 * 9/7 wavelet is not orthonormal and the encoder's rate-distortion
 * estimate is not the pixels' squared error. Cuts inside a packet used
 * to cost up to 13 dB. */
static void truncation_curve(const char *const *kv, int ch, util_rng *rng)
{
    util_image img, out;
    make_image(&img, W, H, ch, 3 + (uint64_t)ch);
    alloc_image(&out, W, H, ch);
    codec *c = cu_make("j2k", kv);
    codec_stream s;
    cu_encode(c, &img, 1, &s);
    cu_decode(c, &s, NULL, s.n, &out);
    double full = psnr(&img, &out), prev = 0;
    size_t cuts[12];
    cuts[0] = 0;
    for (int i = 1; i <= 10; i++)
        cuts[i] = util_rng_below(rng, s.n + 1);
    cuts[11] = s.n;
    for (int i = 1; i < 12; i++)       /* insertion sort */
        for (int j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    int rose = 0;
    for (int i = 0; i < 12; i++) {
        cu_decode(c, &s, NULL, cuts[i], &out);
        double q = psnr(&img, &out);
        if (cuts[i] == 0)
            assert_true(cu_is_flat(&out, 128));
        if (q < prev - 0.1)
            fail_msg("%s c=%d: PSNR falls from %.3f to %.3f at %zu of %zu bytes",
                     codec_label(c), ch, prev, q, cuts[i], s.n);
        if (q > full + 0.1)
            fail_msg("%s c=%d: %zu bytes give %.2f dB, all give %.2f",
                     codec_label(c), ch, cuts[i], q, full);
        rose += q > prev + 0.5;
        prev = q;
    }
    assert_true(rose >= 2);
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&out);
}

static void test_j2k_truncated(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 10);
    for (int i = 0; i < NJ2K; i++)
        for (int rep = 0; rep < 3; rep++) {
            truncation_curve(j2k_sets[i], 1, &rng);
            truncation_curve(j2k_sets[i], 3, &rng);
        }
}

/* Every byte prefix of a layer-progressive stream: never more than a tenth
 * of a dB worse than a shorter one. */
static void test_j2k_every_prefix(void **state)
{
    (void)state;
    util_image img, out;
    make_image(&img, W, H, 1, 21);
    alloc_image(&out, W, H, 1);
    const char *const kv[] = { "bytes=400", "layers=5", NULL };
    codec *c = cu_make("j2k", kv);
    codec_stream s;
    cu_encode(c, &img, 1, &s);
    double best = 0;
    for (size_t k = 0; k <= s.n; k++) {
        cu_decode(c, &s, NULL, k, &out);
        double q = psnr(&img, &out);
        if (q < best - 0.1)
            fail_msg("%zu bytes give %.3f dB, fewer gave %.3f", k, q, best);
        best = q > best ? q : best;
    }
    assert_true(best > 25);
    codec_stream_free(&s);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&out);
}

/* A lost packet ends the usable data, as for JPEG. */
static void test_j2k_missing_middle(void **state)
{
    (void)state;
    util_image img, a, b;
    make_image(&img, W, H, 1, 6);
    alloc_image(&a, W, H, 1);
    alloc_image(&b, W, H, 1);
    static uint8_t arrived[MAXPKT];
    for (int i = 0; i < NJ2K; i++) {
        codec *c = cu_make("j2k", j2k_sets[i]);
        codec_stream s;
        cu_encode(c, &img, 20, &s);
        for (size_t j = 0; j < s.n; j++) {
            memset(arrived, 1, sizeof arrived);
            arrived[j] = 0;
            cu_decode(c, &s, arrived, 0, &a);
            cu_decode(c, &s, NULL, j, &b);
            assert_true(cu_same(&a, &b));
        }
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
    util_image_free(&a);
    util_image_free(&b);
}

/* WebP: any missing packet leaves flat grey, and so does nothing. */
static void test_webp_partial_worthless(void **state)
{
    (void)state;
    util_image img, out;
    make_image(&img, W, H, 3, 6);
    alloc_image(&out, W, H, 3);
    static uint8_t arrived[MAXPKT];
    for (int i = 0; i < NWEBP; i++) {
        codec *c = cu_make("webp", webp_sets[i]);
        codec_stream s;
        cu_encode(c, &img, 20, &s);
        assert_true(s.n >= 3);
        for (size_t j = 0; j < s.n; j++) {
            memset(arrived, 1, sizeof arrived);
            arrived[j] = 0;
            cu_decode(c, &s, arrived, 0, &out);
            assert_true(cu_is_flat(&out, 128));
            cu_decode(c, &s, NULL, j, &out);
            assert_true(cu_is_flat(&out, 128));
        }
        cu_decode(c, &s, NULL, s.n, &out);
        assert_false(cu_is_flat(&out, 128));
        codec_stream empty;
        codec_stream_init(&empty);
        cu_decode(c, &empty, NULL, 0, &out);
        assert_true(cu_is_flat(&out, 128));
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
    util_image_free(&out);
}

/* A stream decoded into an image of another size or channel count gives
 * flat grey (header none rebuilds the header for the size asked for, so
 * there the image is whatever the bytes give, but nothing breaks). */
static void test_size_mismatch(void **state)
{
    (void)state;
    util_image img, wide, col;
    make_image(&img, W, H, 1, 1);
    alloc_image(&wide, W + 8, H, 1);
    alloc_image(&col, W, H, 3);
    codec *c[2] = { cu_make("j2k", j2k_sets[0]), cu_make("webp", webp_sets[0]) };
    for (int i = 0; i < 2; i++) {
        codec_stream s;
        cu_encode(c[i], &img, 51, &s);
        cu_decode(c[i], &s, NULL, s.n, &wide);
        assert_true(cu_is_flat(&wide, 128));
        if (i == 0) {
            cu_decode(c[i], &s, NULL, s.n, &col);
            assert_true(cu_is_flat(&col, 128));
        }
        codec_stream_free(&s);
        codec_destroy(c[i]);
    }
    c[0] = cu_make("j2k", j2k_sets[1]);
    c[1] = cu_make("webp", webp_sets[1]);
    for (int i = 0; i < 2; i++) {
        codec_stream s;
        cu_encode(c[i], &img, 51, &s);
        cu_decode(c[i], &s, NULL, s.n, &wide);
        cu_decode(c[i], &s, NULL, s.n, &col);
        codec_stream_free(&s);
        codec_destroy(c[i]);
    }
    util_image_free(&img);
    util_image_free(&wide);
    util_image_free(&col);
}

/* A JPEG 2000 stream whose main header is not the one the receiver's
 * settings give (here: other wavelet levels) is damage: grey, and never
 * handed to OpenJPEG, which trusts those fields (a fuzzed COD made it
 * allocate 2 GB: tests/fuzz/regress/j2k/). The same stream decodes with
 * the settings that made it. */
static void test_j2k_foreign_header(void **state)
{
    (void)state;
    static const char *const l3[] = { "levels=3", NULL };
    static const char *const l2[] = { "levels=2", NULL };
    util_image img, out;
    make_image(&img, W, H, 1, 1);
    alloc_image(&out, W, H, 1);
    codec *a = cu_make("j2k", l3), *b = cu_make("j2k", l2);
    codec_stream s;
    cu_encode(a, &img, 51, &s);
    cu_decode(a, &s, NULL, s.n, &out);
    assert_false(cu_is_flat(&out, 128));
    cu_decode(b, &s, NULL, s.n, &out);
    assert_true(cu_is_flat(&out, 128));
    codec_stream_free(&s);
    codec_destroy(a);
    codec_destroy(b);
    util_image_free(&img);
    util_image_free(&out);
}

/* ---- hostile input ------------------------------------------------------------ */

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

/* Garbage after a valid start: the first bytes of a real stream, so that
 * the decoders get past their magic numbers. */
static void garbage_after(codec *c, codec_stream *s, util_rng *rng)
{
    util_image img;
    make_image(&img, W, H, 1, 9);
    codec_stream_free(s);
    cu_encode(c, &img, 30, s);
    for (size_t i = 0; i < s->n; i++) {
        codec_packet *p = &s->pkt[i];
        for (size_t j = i == 0 ? util_rng_below(rng, p->len + 1) : 0;
             j < p->len; j++)
            p->data[j] = (uint8_t)util_rng_next(rng);
    }
    util_image_free(&img);
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
    static uint8_t arrived[MAXPKT];
    for (int i = 0; i < NJ2K + NWEBP; i++) {
        codec *c = i < NJ2K ? cu_make("j2k", j2k_sets[i])
                            : cu_make("webp", webp_sets[i - NJ2K]);
        for (int it = 0; it < 200; it++) {
            if (it % 2)
                random_stream(&s, &rng);
            else
                garbage_after(c, &s, &rng);
            cu_decode(c, &s, NULL, s.n, it % 4 < 2 ? &out1 : &out3);
            for (size_t j = 0; j < s.n; j++)
                arrived[j] = util_rng_below(&rng, 4) != 0;
            cu_decode(c, &s, arrived, 0, it % 4 < 2 ? &out3 : &out1);
        }
        codec_destroy(c);
    }
    codec_stream_free(&s);
    util_image_free(&out1);
    util_image_free(&out3);
}

/* Valid streams with bits flipped, bytes overwritten or packets cut. */
static void mutate(codec_stream *s, util_rng *rng)
{
    int how = (int)util_rng_below(rng, 3);
    codec_packet *p = &s->pkt[util_rng_below(rng, s->n)];
    if (how == 0) {
        for (int f = 0; f < 1 + (int)util_rng_below(rng, 8); f++) {
            codec_packet *q = &s->pkt[util_rng_below(rng, s->n)];
            q->data[util_rng_below(rng, q->len)] ^=
                (uint8_t)(1u << util_rng_below(rng, 8));
        }
    } else if (how == 1) {
        p->data[util_rng_below(rng, p->len)] = (uint8_t)util_rng_next(rng);
    } else {
        p->len = util_rng_below(rng, p->len + 1);
    }
}

static void test_corrupted(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 7);
    for (int ch = 1; ch <= 3; ch += 2) {
        util_image img, out;
        make_image(&img, W, H, ch, 1);
        alloc_image(&out, W, H, ch);
        for (int i = 0; i < NJ2K + NWEBP; i++) {
            codec *c = i < NJ2K ? cu_make("j2k", j2k_sets[i])
                                : cu_make("webp", webp_sets[i - NJ2K]);
            for (int it = 0; it < 100; it++) {
                codec_stream s;
                cu_encode(c, &img, 8 + util_rng_below(&rng, 60), &s);
                mutate(&s, &rng);
                cu_decode(c, &s, NULL, s.n, &out);
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
        cmocka_unit_test(test_registry_and_labels),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_j2k_codestream),
        cmocka_unit_test(test_header_none),
        cmocka_unit_test(test_j2k_byte_target),
        cmocka_unit_test(test_j2k_truncated),
        cmocka_unit_test(test_j2k_every_prefix),
        cmocka_unit_test(test_j2k_missing_middle),
        cmocka_unit_test(test_webp_partial_worthless),
        cmocka_unit_test(test_size_mismatch),
        cmocka_unit_test(test_j2k_foreign_header),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
