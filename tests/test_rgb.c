/* RGB scenes through every codec: 64x64 and larger, interleaved RGB
 * (util_image c = 3), as pictures of cluttered scenes will be.
 *
 * Each codec's round trip is checked channel by channel on a smooth,
 * colourful picture (colour gradients and three saturated soft-edged
 * shapes): PSNR in R, G and B separately, a red patch that stays red (so
 * channels are neither swapped nor lost), and colour that stays colour.
 * Then what each codec's partial streams give in colour: JPEG's three
 * modes, its chroma subsampling, the abbreviated mode's shared tables and
 * restart markers after a loss; JPEG 2000's layer and resolution prefixes
 * with and without header; WebP with and without header; and LimitNet on
 * a 3-channel model built here with seeded random weights and calibrated
 * the way the trainer calibrates.
 *
 * One file for all four codecs rather than a part of each codec's tests:
 * the scene, the per-channel and colour checks are the same for all, and
 * the question this file answers, "does every codec handle RGB", is one.
 */
#include "tests/testutil.h"
#include "tests/codecutil.h"

#include <math.h>

#include "codec/codec.h"
#include "codec/limitnet.h"
#include "nn/nn.h"
#include "tasks/task.h"


/* ---- the scene ------------------------------------------------------------ */

/* Centre and radius as fractions of the width, height and smaller side. */
typedef struct shape {
    double cx, cy, r;
    uint8_t rgb[3];
} shape;

static const shape SHAPES[] = {
    { 0.27, 0.27, 0.16, { 230, 25, 25 } },  /* the red patch checked */
    { 0.72, 0.35, 0.14, { 30, 200, 40 } },
    { 0.50, 0.74, 0.15, { 30, 40, 220 } },
};
#define NSHAPES 3
#define RED 0

static const int SIZES[][2] = { { 64, 64 }, { 96, 96 }, { 90, 70 } };
#define NSIZES 3

static void alloc_image(util_image *img, int w, int h, int c)
{
    util_err err;
    assert_int_equal(util_image_alloc(img, w, h, c, &err), 0);
}

static uint8_t clamp8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
}

/* Shape s's centre and radius in pixels in a w x h image. */
static void place(const shape *s, int w, int h, double *cx, double *cy,
                  double *r)
{
    *cx = s->cx * (w - 1);
    *cy = s->cy * (h - 1);
    *r = s->r * (w < h ? w : h);
}

/* Gradients in all three channels, a gentle ripple, and the shapes with
 * edges about three pixels wide. seed 0 is the test picture; other seeds
 * move the shapes and add noise (LimitNet's calibration set). */
static void make_scene(util_image *img, int w, int h, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    shape sh[NSHAPES];
    memcpy(sh, SHAPES, sizeof sh);
    for (int i = 0; seed && i < NSHAPES; i++) {
        sh[i].cx += 0.2 * (util_rng_uniform(&rng) - 0.5);
        sh[i].cy += 0.2 * (util_rng_uniform(&rng) - 0.5);
    }
    double noise = seed ? 6 : 0;
    alloc_image(img, w, h, 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (double)x / (w - 1), v = (double)y / (h - 1);
            double ripple = 12 * sin(6.0 * u + 4.0 * v);
            double px[3] = { 50 + 150 * u + ripple, 50 + 150 * v - ripple,
                             200 - 75 * (u + v) + ripple };
            for (int i = 0; i < NSHAPES; i++) {
                double cx, cy, r;
                place(&sh[i], w, h, &cx, &cy, &r);
                double d = sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                double m = 0.5 - 0.5 * tanh((d - r) / 1.5);
                for (int k = 0; k < 3; k++)
                    px[k] = (1 - m) * px[k] + m * sh[i].rgb[k];
            }
            for (int k = 0; k < 3; k++)
                img->px[((size_t)y * w + x) * 3 + (size_t)k] =
                    clamp8(px[k] + noise * util_rng_normal(&rng));
        }
}

/* ---- colour checks ----------------------------------------------------------- */

/* Channel k of an RGB image as a grey image, for task_psnr. */
static double channel_psnr(const util_image *a, const util_image *b, int k)
{
    util_image ca, cb;
    alloc_image(&ca, a->w, a->h, 1);
    alloc_image(&cb, b->w, b->h, 1);
    for (size_t i = 0; i < (size_t)a->w * (size_t)a->h; i++) {
        ca.px[i] = a->px[3 * i + (size_t)k];
        cb.px[i] = b->px[3 * i + (size_t)k];
    }
    double q = task_psnr(&ca, &cb);
    util_image_free(&ca);
    util_image_free(&cb);
    return q;
}

/* Mean of each channel inside the red disc, away from its edge. */
static void red_patch(const util_image *img, double mean[3])
{
    double cx, cy, r, sum[3] = { 0, 0, 0 };
    place(&SHAPES[RED], img->w, img->h, &cx, &cy, &r);
    long n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < (r - 3) * (r - 3)) {
                for (int k = 0; k < 3; k++)
                    sum[k] += img->px[((size_t)y * img->w + x) * 3 + (size_t)k];
                n++;
            }
    assert_true(n > 20);
    for (int k = 0; k < 3; k++)
        mean[k] = sum[k] / (double)n;
}

/* Mean over pixels of max - min channel: 0 for a grey picture. */
static double colourfulness(const util_image *img)
{
    double sum = 0;
    size_t n = (size_t)img->w * (size_t)img->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = img->px + 3 * i;
        int hi = p[0] > p[1] ? p[0] : p[1], lo = p[0] < p[1] ? p[0] : p[1];
        hi = p[2] > hi ? p[2] : hi;
        lo = p[2] < lo ? p[2] : lo;
        sum += hi - lo;
    }
    return sum / (double)n;
}

/* out is ref in colour: PSNR at least min_psnr over the image and in each
 * channel, the red patch within tol of the original in every channel (so
 * red: R far above G and B), and at least 80 % of the original's colour.
 * Returns the PSNR over all channels. */
static double check_colour(const char *what, const util_image *ref,
                           const util_image *out, double min_psnr, double tol)
{
    assert_int_equal(out->w, ref->w);
    assert_int_equal(out->h, ref->h);
    assert_int_equal(out->c, 3);
    assert_int_equal(ref->c, 3);
    double all = task_psnr(ref, out), ch[3];
    for (int k = 0; k < 3; k++)
        ch[k] = channel_psnr(ref, out, k);
    double want[3], got[3];
    red_patch(ref, want);
    red_patch(out, got);
    double col = colourfulness(out), col_ref = colourfulness(ref);
    print_message("  %-44s %dx%d  %.2f dB (R %.2f, G %.2f, B %.2f)  red "
                  "(%.0f, %.0f, %.0f)  colour %.0f of %.0f\n", what, ref->w,
                  ref->h, all, ch[0], ch[1], ch[2], got[0], got[1], got[2], col,
                  col_ref);
    for (int k = 0; k < 3; k++) {
        if (all < min_psnr || ch[k] < min_psnr)
            fail_msg("%s %dx%d: channel %d PSNR %.2f, all %.2f, want >= %.2f",
                     what, ref->w, ref->h, k, ch[k], all, min_psnr);
        if (fabs(got[k] - want[k]) > tol)
            fail_msg("%s %dx%d: red patch channel %d is %.1f, was %.1f", what,
                     ref->w, ref->h, k, got[k], want[k]);
    }
    assert_true(got[0] > got[1] + 100 && got[0] > got[2] + 100);
    if (col < 0.8 * col_ref)
        fail_msg("%s: colourfulness %.1f of %.1f", what, col, col_ref);
    return all;
}

/* out is a coarse colour picture of ref: every row decoded (none left
 * grey), PSNR at least min_psnr in each channel, the red patch still
 * clearly red and at least half the original's colour. */
static void check_coarse(const char *what, const util_image *ref,
                         const util_image *out, double min_psnr)
{
    assert_int_equal(out->c, 3);
    double ch[3], got[3];
    for (int k = 0; k < 3; k++)
        ch[k] = channel_psnr(ref, out, k);
    red_patch(out, got);
    double col = colourfulness(out), col_ref = colourfulness(ref);
    print_message("  %-44s %dx%d  %.2f dB (R %.2f, G %.2f, B %.2f)  red "
                  "(%.0f, %.0f, %.0f)  colour %.0f of %.0f\n", what, ref->w,
                  ref->h, task_psnr(ref, out), ch[0], ch[1], ch[2], got[0],
                  got[1], got[2], col, col_ref);
    for (int k = 0; k < 3; k++)
        if (ch[k] < min_psnr)
            fail_msg("%s: channel %d PSNR %.2f < %.2f", what, k, ch[k], min_psnr);
    if (!(got[0] > got[1] + 50 && got[0] > got[2] + 30))
        fail_msg("%s: red patch is (%.0f, %.0f, %.0f)", what, got[0], got[1],
                 got[2]);
    if (col < 0.5 * col_ref)
        fail_msg("%s: colourfulness %.1f of %.1f", what, col, col_ref);
    size_t stride = (size_t)out->w * 3;
    for (int y = 0; y < out->h; y++) {
        size_t i = 0;
        while (i < stride && out->px[(size_t)y * stride + i] == 128)
            i++;
        if (i == stride)
            fail_msg("%s: row %d is grey", what, y);
    }
}



/* ---- codec plumbing ------------------------------------------------------------ */



static unsigned rd16(const uint8_t *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

/* ---- JPEG ------------------------------------------------------------------ */

static const char *const jpeg_modes[] = { "baseline", "progressive",
                                          "abbreviated" };

static codec *make_jpeg(const char *mode, int quality, int restart,
                        const char *optimize)
{
    char m[32], q[32], r[32];
    snprintf(m, sizeof m, "mode=%s", mode);
    snprintf(q, sizeof q, "quality=%d", quality);
    snprintf(r, sizeof r, "restart=%d", restart);
    const char *const kv[] = { m, q, r, optimize, NULL };
    return cu_make("jpeg", kv);
}

/* Position of the first marker segment `marker` before the first scan of
 * a complete JPEG file, or of the first SOS itself. */
static size_t jpeg_segment(const uint8_t *p, size_t n, int marker)
{
    assert_true(n > 4 && p[0] == 0xFF && p[1] == 0xD8);
    for (size_t pos = 2; pos + 4 <= n; pos += 2 + rd16(p + pos + 2)) {
        assert_int_equal(p[pos], 0xFF);
        if (p[pos + 1] == marker)
            return pos;
        assert_int_not_equal(p[pos + 1], 0xDA);
    }
    fail_msg("no marker 0x%02X", marker);
    return 0;
}

/* Where the entropy-coded data of the scan whose SOS is at sos ends: the
 * next marker that is neither a stuffed 0xFF nor RSTn. */
static size_t scan_end(const uint8_t *p, size_t n, size_t sos)
{
    for (size_t pos = sos + 2 + rd16(p + sos + 2); pos + 1 < n; pos++)
        if (p[pos] == 0xFF && p[pos + 1] != 0 && (p[pos + 1] & 0xF8) != 0xD0)
            return pos;
    fail_msg("scan does not end");
    return 0;
}

/* Every mode, with and without restart markers, every packet: the colour
 * picture back in every channel, and the same picture whatever the mode
 * (they code the same coefficients). */
static void test_jpeg_roundtrip(void **state)
{
    (void)state;
    for (int z = 0; z < NSIZES; z++) {
        util_image img, first, out;
        make_scene(&img, SIZES[z][0], SIZES[z][1], 0);
        alloc_image(&first, img.w, img.h, 3);
        alloc_image(&out, img.w, img.h, 3);
        for (int m = 0; m < 3; m++)
            for (int r = 0; r <= 1; r++) {
                codec *c = make_jpeg(jpeg_modes[m], 90, r, NULL);
                codec_stream s;
                cu_encode(c, &img, 51, &s);
                cu_decode(c, &s, NULL, s.n, m || r ? &out : &first);
                if (m == 0 && r == 0)
                    check_colour("jpeg q90, every mode, restart 0 and 1", &img,
                                 &first, 32, 8);
                else if (!cu_same(&out, &first))
                    fail_msg("%s decodes differently from baseline",
                             codec_label(c));
                codec_stream_free(&s);
                codec_destroy(c);
            }
        util_image_free(&img);
        util_image_free(&first);
        util_image_free(&out);
    }
}

/* RGB goes out as YCbCr 4:2:0: luma sampled 2x2, both chroma components
 * 1x1, with their own quantisation table (1) and Huffman tables (1). */
static void test_jpeg_subsampling(void **state)
{
    (void)state;
    util_image img;
    make_scene(&img, 64, 64, 0);
    for (int m = 0; m < 2; m++) {
        codec *c = make_jpeg(jpeg_modes[m], 75, 0, NULL);
        codec_stream s;
        cu_encode(c, &img, 1000, &s);
        size_t n;
        uint8_t *all = cu_concat(&s, &n);
        size_t sof = jpeg_segment(all, n, m == 0 ? 0xC0 : 0xC2);
        const uint8_t *f = all + sof + 4;
        assert_int_equal(f[0], 8);
        assert_int_equal(rd16(f + 1), 64);
        assert_int_equal(rd16(f + 3), 64);
        assert_int_equal(f[5], 3);
        static const uint8_t want[3][3] = { { 1, 0x22, 0 }, { 2, 0x11, 1 },
                                            { 3, 0x11, 1 } };
        for (int k = 0; k < 3; k++)
            assert_memory_equal(f + 6 + 3 * k, want[k], 3);
        /* Baseline: one interleaved scan of all three, chroma on table 1. */
        if (m == 0) {
            size_t sos = jpeg_segment(all, n, 0xDA);
            assert_int_equal(all[sos + 4], 3);
            assert_int_equal(all[sos + 6], 0x00);
            assert_int_equal(all[sos + 8], 0x11);
            assert_int_equal(all[sos + 10], 0x11);
        }
        free(all);
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
}

/* Abbreviated mode sends exactly the scan data of a baseline file made
 * with the same (standard) tables, and decodes it to the same picture:
 * the tables it shares out of band hold the chroma quantisation and
 * Huffman tables too. The header it rebuilds follows the image's channel
 * count, size after size. */
static void test_jpeg_abbreviated_tables(void **state)
{
    (void)state;
    for (int z = 0; z < NSIZES; z++)
        for (int r = 0; r <= 1; r++) {
            util_image img, a, b, grey, g;
            make_scene(&img, SIZES[z][0], SIZES[z][1], 0);
            alloc_image(&a, img.w, img.h, 3);
            alloc_image(&b, img.w, img.h, 3);
            codec *ab = make_jpeg("abbreviated", 50, r, NULL);
            codec *bl = make_jpeg("baseline", 50, r, "optimize=false");
            codec_stream sa, sb;
            cu_encode(ab, &img, 51, &sa);
            cu_encode(bl, &img, 51, &sb);
            size_t na, nb;
            uint8_t *pa = cu_concat(&sa, &na), *pb = cu_concat(&sb, &nb);
            size_t sos = jpeg_segment(pb, nb, 0xDA);
            size_t data = sos + 2 + rd16(pb + sos + 2);
            assert_int_equal(scan_end(pb, nb, sos), nb - 2);
            assert_int_equal(na, nb - 2 - data);
            assert_memory_equal(pa, pb + data, na);
            cu_decode(ab, &sa, NULL, sa.n, &a);
            cu_decode(bl, &sb, NULL, sb.n, &b);
            assert_true(cu_same(&a, &b));
            check_colour(codec_label(ab), &img, &a, 26, 12);
            /* A grey image in between, then the colour one again. */
            alloc_image(&grey, 28, 28, 1);
            for (size_t i = 0; i < util_image_size(&grey); i++)
                grey.px[i] = (uint8_t)(40 + 6 * (i % 28) + 2 * (i / 28));
            alloc_image(&g, 28, 28, 1);
            codec_stream sg;
            cu_encode(ab, &grey, 51, &sg);
            cu_decode(ab, &sg, NULL, sg.n, &g);
            assert_false(cu_is_flat(&g, 128));
            cu_decode(ab, &sa, NULL, sa.n, &b);
            assert_true(cu_same(&a, &b));
            codec_stream_free(&sg);
            free(pa);
            free(pb);
            codec_stream_free(&sa);
            codec_stream_free(&sb);
            codec_destroy(ab);
            codec_destroy(bl);
            util_image_free(&grey);
            util_image_free(&g);
            util_image_free(&img);
            util_image_free(&a);
            util_image_free(&b);
        }
}

/* Sequential modes with a restart marker every MCU row (16 pixel rows for
 * 4:2:0): after one lost packet the rows of later intervals come back, in
 * colour, exactly as in the full decode. */
static void test_jpeg_restart_loss(void **state)
{
    (void)state;
    util_image img, full, pre, got;
    make_scene(&img, 64, 64, 0);
    alloc_image(&full, 64, 64, 3);
    alloc_image(&pre, 64, 64, 3);
    alloc_image(&got, 64, 64, 3);
    static uint8_t arrived[MAXPKT];
    const char *const modes[] = { "baseline", "abbreviated" };
    size_t band = 16 * 64 * 3, last = 3 * band;
    for (int m = 0; m < 2; m++) {
        codec *c = make_jpeg(modes[m], 75, 1, NULL);
        codec_stream s;
        cu_encode(c, &img, 51, &s);
        assert_true(s.n >= 6);
        cu_decode(c, &s, NULL, s.n, &full);
        int recovered = 0;
        for (size_t j = 1; j + 1 < s.n; j++) {
            memset(arrived, 1, s.n);
            arrived[j] = 0;
            cu_decode(c, &s, arrived, 0, &got);
            cu_decode(c, &s, NULL, j, &pre);
            assert_true(task_psnr(&img, &got) >= task_psnr(&img, &pre));
            /* The bottom MCU row, when the loss lay before it. */
            if (memcmp(got.px + last, full.px + last, band) == 0 &&
                memcmp(pre.px + last, full.px + last, band) != 0)
                recovered++;
        }
        print_message("  %s: bottom MCU row recovered after %d of %zu "
                      "single losses\n", codec_label(c), recovered, s.n - 2);
        assert_true(recovered > 0);
        codec_stream_free(&s);
        codec_destroy(c);
    }
    util_image_free(&img);
    util_image_free(&full);
    util_image_free(&pre);
    util_image_free(&got);
}

/* Progressive: the packets holding the first scan (the DC of Y, Cb and
 * Cr) give a coarse picture of the whole image, in colour; PSNR then
 * rises as packets arrive, to within a tenth of a dB. (It fell by 4.7 dB
 * here, and 6.7 at 96x96, when the decoder used the blocks of a luma scan
 * in progress: libjpeg-turbo's block smoothing then mistreats the chroma
 * components, codec/jpeg.c scans_end.) */
static void test_jpeg_progressive_prefix(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        util_image img, out;
        make_scene(&img, SIZES[z][0], SIZES[z][1], 0);
        alloc_image(&out, img.w, img.h, 3);
        codec *c = make_jpeg("progressive", 90, 0, NULL);
        codec_stream s;
        cu_encode(c, &img, 51, &s);
        size_t n;
        uint8_t *all = cu_concat(&s, &n);
        size_t sos = jpeg_segment(all, n, 0xDA);
        assert_int_equal(all[sos + 4], 3);              /* Y, Cb, Cr */
        assert_int_equal(all[sos + 11], 0);             /* Ss: DC */
        assert_int_equal(all[sos + 12], 0);             /* Se: DC only */
        size_t end = scan_end(all, n, sos);
        size_t k = (end + 50) / 51;
        assert_true(k < s.n / 2);
        cu_decode(c, &s, NULL, k, &out);
        char what[96];
        snprintf(what, sizeof what, "%s, first scan (%zu of %zu packets)",
                 codec_label(c), k, s.n);
        check_coarse(what, &img, &out, 14);
        double coarse = task_psnr(&img, &out);
        double prev = 0;
        for (size_t j = 0; j <= s.n; j++) {
            cu_decode(c, &s, NULL, j, &out);
            double q = task_psnr(&img, &out);
            if (j == 0)
                assert_true(cu_is_flat(&out, 128));
            if (q < prev - 0.1)
                fail_msg("PSNR falls from %.3f to %.3f at %zu of %zu packets",
                         prev, q, j, s.n);
            prev = q;
        }
        assert_true(prev > coarse + 5);
        free(all);
        codec_stream_free(&s);
        codec_destroy(c);
        util_image_free(&img);
        util_image_free(&out);
    }
}

/* ---- JPEG 2000 ----------------------------------------------------------------- */

static const char *const j2k_sets[][5] = {
    { "mode=layer", "layers=3", NULL },
    { "mode=layer", "layers=3", "header=none", NULL },
    { "mode=resolution", "layers=1", NULL },
    { "mode=resolution", "layers=2", "header=none", NULL },
};
#define NJ2K 4

/* bytes = a twelfth of the raw size (2 bits a pixel). */
static codec *make_j2k(int set, const util_image *img)
{
    char b[32];
    snprintf(b, sizeof b, "bytes=%zu", util_image_size(img) / 12);
    const char *kv[6];
    int n = 0;
    for (; j2k_sets[set][n]; n++)
        kv[n] = j2k_sets[set][n];
    kv[n++] = b;
    kv[n] = NULL;
    return cu_make("j2k", kv);
}

/* The full codestream of an RGB image has three components (SIZ) and the
 * multi-component transform on (COD's MCT byte). */
static void check_j2k_header(const codec_stream *s)
{
    size_t n;
    uint8_t *all = cu_concat(s, &n);
    assert_true(n > 4 && rd16(all) == 0xFF4F);
    int siz = 0, cod = 0;
    for (size_t pos = 2; pos + 4 <= n && rd16(all + pos) != 0xFF90;
         pos += 2 + rd16(all + pos + 2)) {
        if (rd16(all + pos) == 0xFF51) {
            assert_int_equal(rd16(all + pos + 38), 3);
            siz = 1;
        }
        if (rd16(all + pos) == 0xFF52) {
            assert_int_equal(all[pos + 8], 1);
            cod = 1;
        }
    }
    assert_true(siz && cod);
    free(all);
}

/* Layer and resolution order, with and without header: every packet
 * gives the colour picture, and so (more coarsely) does a third of them. */
static void test_j2k_roundtrip_and_prefix(void **state)
{
    (void)state;
    for (int z = 0; z < NSIZES; z++) {
        util_image img, out;
        make_scene(&img, SIZES[z][0], SIZES[z][1], 0);
        alloc_image(&out, img.w, img.h, 3);
        double with_header = 0;
        for (int i = 0; i < NJ2K; i++) {
            codec *c = make_j2k(i, &img);
            codec_stream s;
            cu_encode(c, &img, 51, &s);
            if (i % 2 == 0)
                check_j2k_header(&s);
            cu_decode(c, &s, NULL, s.n, &out);
            double full = check_colour(codec_label(c), &img, &out, 40, 8);
            /* Header none sends the same codestream less its main header,
             * so at the same byte target the picture is no worse. */
            if (i % 2 == 0)
                with_header = full;
            else if (i == 1)
                assert_true(full > with_header - 0.1);
            size_t k = s.n / 3;
            cu_decode(c, &s, NULL, k, &out);
            char what[96];
            snprintf(what, sizeof what, "%s, %zu of %zu packets",
                     codec_label(c), k, s.n);
            double part = check_colour(what, &img, &out, 20, 30);
            assert_true(part < full);
            cu_decode(c, &s, NULL, 0, &out);
            assert_true(cu_is_flat(&out, 128));
            codec_stream_free(&s);
            codec_destroy(c);
        }
        util_image_free(&img);
        util_image_free(&out);
    }
}

/* ---- WebP ------------------------------------------------------------------------- */

/* With and without header: the same colour picture from every packet, 27
 * or 28 bytes apart; one packet short of that, flat grey. */
static void test_webp_roundtrip(void **state)
{
    (void)state;
    const char *const riff[] = { "quality=90", NULL };
    const char *const none[] = { "quality=90", "header=none", NULL };
    for (int z = 0; z < NSIZES; z++) {
        util_image img, a, b;
        make_scene(&img, SIZES[z][0], SIZES[z][1], 0);
        alloc_image(&a, img.w, img.h, 3);
        alloc_image(&b, img.w, img.h, 3);
        codec *cr = cu_make("webp", riff), *cn = cu_make("webp", none);
        codec_stream sr, sn;
        cu_encode(cr, &img, 51, &sr);
        cu_encode(cn, &img, 51, &sn);
        long saved = (long)codec_stream_bytes(&sr) - (long)codec_stream_bytes(&sn);
        assert_true(saved == 27 || saved == 28);
        cu_decode(cr, &sr, NULL, sr.n, &a);
        cu_decode(cn, &sn, NULL, sn.n, &b);
        assert_true(cu_same(&a, &b));
        check_colour(codec_label(cr), &img, &a, 32, 8);
        cu_decode(cn, &sn, NULL, sn.n - 1, &b);
        assert_true(cu_is_flat(&b, 128));
        codec_stream_free(&sr);
        codec_stream_free(&sn);
        codec_destroy(cr);
        codec_destroy(cn);
        util_image_free(&img);
        util_image_free(&a);
        util_image_free(&b);
    }
}

/* ---- LimitNet ---------------------------------------------------------------------- */

#define LN_SIZE 64
#define LN_GRID 8
#define LN_BITS 4
#define LN_CALIB 6

/* Encoder, saliency head and decoder JSON for 3 x 64 x 64 images and a
 * c x (64 / stride) latent, stride 2^levels: stride-2 convolutions down,
 * stride-2 transposed convolutions up. */
static void ln_json(int levels, int c, char *enc, char *sal, char *dec,
                    size_t cap)
{
    int side = LN_SIZE >> levels;
    size_t e = 0, d = 0;
    e += (size_t)snprintf(enc + e, cap - e, "{\"input\": [3, %d, %d], \"layers\": [",
                          LN_SIZE, LN_SIZE);
    d += (size_t)snprintf(dec + d, cap - d, "{\"input\": [%d, %d, %d], \"layers\": [",
                          c, side, side);
    for (int i = 0; i < levels; i++) {
        int lastl = i == levels - 1;
        e += (size_t)snprintf(enc + e, cap - e,
                              "%s{\"name\": \"c%d\", \"type\": \"conv2d\", \"out\": %d, "
                              "\"kernel\": %d, \"stride\": 2, \"pad\": %d},"
                              "{\"name\": \"r%d\", \"type\": \"relu\"}",
                              i ? "," : "", i, lastl ? c : 8, i ? 3 : 5, i ? 1 : 2, i);
        d += (size_t)snprintf(dec + d, cap - d,
                              "%s{\"name\": \"d%d\", \"type\": \"deconv2d\", \"out\": %d, "
                              "\"kernel\": 4, \"stride\": 2, \"pad\": 1},"
                              "{\"name\": \"a%d\", \"type\": \"%s\"}",
                              i ? "," : "", i, lastl ? 3 : 8, i, lastl ? "sigmoid" : "relu");
    }
    snprintf(enc + e, cap - e, "]}");
    snprintf(dec + d, cap - d, "]}");
    snprintf(sal, cap, "{\"input\": [%d, %d, %d], \"layers\": ["
             "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 1, \"kernel\": 3, \"pad\": 1},"
             "{\"name\": \"s\", \"type\": \"sigmoid\"}]}", c, side, side);
    assert_true(e < cap && d < cap);
}

/* An RGB image as the planar [1, 3, h, w] tensor in [0, 1] that the
 * encoder takes. */
static void to_tensor(const util_image *img, nn_tensor *x)
{
    util_err err;
    assert_int_equal(nn_tensor_resize(x, 1, img->c, img->h, img->w, &err), 0);
    size_t plane = (size_t)img->w * (size_t)img->h;
    for (int k = 0; k < img->c; k++)
        for (size_t i = 0; i < plane; i++)
            x->data[(size_t)k * plane + i] = img->px[i * (size_t)img->c + (size_t)k] / 255.0f;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* What the LimitNet trainer's calibrate() does (train/limitnet.c, formerly
 * sim/train_limitnet.c), on LN_CALIB scenes: per-channel quantiser ranges
 * [min, 99.9th percentile], Huffman lengths and arithmetic-coder
 * frequencies from the level histogram (every level counted once more),
 * the side grid's statistics and the prior grid. */
static void ln_calibrate(codec_ln *m)
{
    util_err err;
    codec_ln_geom g = codec_ln_geometry(m);
    const nn_model *enc = codec_ln_encoder(m), *sal = codec_ln_saliency(m);
    nn_ws *we, *ws;
    assert_int_equal(nn_ws_create(enc, &we, &err), 0);
    assert_int_equal(nn_ws_create(sal, &ws, &err), 0);
    size_t hw = (size_t)g.h * (size_t)g.w, per = LN_CALIB * hw;
    float *vals = malloc((size_t)g.c * per * sizeof *vals);
    assert_non_null(vals);
    double prior[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID] = { 0 };
    uint64_t sidecount[CODEC_LN_SIDE_MAX + 1];
    for (int v = 0; v <= CODEC_LN_SIDE_MAX; v++)
        sidecount[v] = 1;
    nn_tensor x = { 0 };
    for (int i = 0; i < LN_CALIB; i++) {
        util_image img;
        make_scene(&img, LN_SIZE, LN_SIZE, 100 + (uint64_t)i);
        to_tensor(&img, &x);
        util_image_free(&img);
        assert_int_equal(nn_infer(enc, we, &x, &err), 0);
        const nn_tensor *z = nn_ws_out(we, nn_model_nodes(enc) - 1);
        for (int j = 0; j < g.c; j++)
            memcpy(vals + (size_t)j * per + (size_t)i * hw, z->data + (size_t)j * hw,
                   hw * sizeof *vals);
        assert_int_equal(nn_infer(sal, ws, z, &err), 0);
        uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
        codec_ln_side(&g, nn_ws_out(ws, nn_model_nodes(sal) - 1)->data, cells);
        for (int k = 0; k < g.grid * g.grid; k++) {
            prior[k] += cells[k];
            sidecount[cells[k]]++;
        }
    }
    for (int j = 0; j < g.c; j++) {
        float *v = vals + (size_t)j * per;
        qsort(v, per, sizeof *v, cmp_float);
        size_t hi = (size_t)((double)(per - 1) * 99.9 / 100.0);
        codec_ln_qmin(m)[j] = v[0];
        codec_ln_qmax(m)[j] = v[hi] > v[0] ? v[hi] : v[0] + 1e-3f;
        uint64_t counts[CODEC_LN_MAX_LEVELS];
        for (int q = 0; q < g.levels; q++)
            counts[q] = 1;
        for (size_t i = 0; i < per; i++)
            counts[codec_ln_quant(m, j, v[i])]++;
        assert_int_equal(codec_ln_huff_lengths(counts, g.levels, CODEC_LN_MAX_CODE,
                                               codec_ln_codelen(m) + (size_t)j * g.levels,
                                               &err), 0);
        assert_int_equal(codec_ln_freq_scale(counts, g.levels,
                                             codec_ln_freqs(m) + (size_t)j * g.levels,
                                             &err), 0);
    }
    assert_int_equal(codec_ln_huff_lengths(sidecount, CODEC_LN_SIDE_MAX + 1,
                                           CODEC_LN_MAX_CODE, codec_ln_side_codelen(m),
                                           &err), 0);
    assert_int_equal(codec_ln_freq_scale(sidecount, CODEC_LN_SIDE_MAX + 1,
                                         codec_ln_side_freqs(m), &err), 0);
    for (int k = 0; k < g.grid * g.grid; k++)
        codec_ln_prior(m)[k] = (uint8_t)lround(prior[k] / LN_CALIB);
    assert_int_equal(codec_ln_check_tables(m, &err), 0);
    nn_tensor_free(&x);
    nn_ws_destroy(we);
    nn_ws_destroy(ws);
    free(vals);
}

/* A 3-channel model with seeded random weights, as the trainer starts one
 * (codec_ln_create, nn_model_init on one generator), calibrated and saved
 * to path as the trainer saves it. */
static void ln_make(int levels, int c, const char *path)
{
    char enc[2048], sal[2048], dec[2048];
    ln_json(levels, c, enc, sal, dec, sizeof enc);
    util_err err;
    codec_ln *m;
    if (codec_ln_create(enc, sal, dec, LN_GRID, LN_BITS, &m, &err))
        fail_msg("codec_ln_create: %s", err.msg);
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(1, 0));
    nn_model_init(codec_ln_encoder(m), &rng);
    nn_model_init(codec_ln_saliency(m), &rng);
    nn_model_init(codec_ln_decoder(m), &rng);
    ln_calibrate(m);
    const char *const meta[] = { "train.note", "test_rgb: random weights" };
    assert_int_equal(codec_ln_save(m, path, meta, 1, &err), 0);
    codec_ln_free(m);
}

static codec *ln_open(const char *name, const char *path)
{
    util_params p;
    util_err err;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "weights", path, &err), 0);
    codec *c = NULL;
    if (codec_create(name, &p, &c, &err))
        fail_msg("%s: %s", name, err.msg);
    return c;
}

/* What the decoder network makes of latent z, as interleaved RGB the way
 * codec/limitnet.c rounds it: the reference for the codec's output. */
static void ln_render(const codec_ln *m, const float *z, util_image *out)
{
    util_err err;
    codec_ln_geom g = codec_ln_geometry(m);
    const nn_model *dec = codec_ln_cdecoder(m);
    nn_ws *ws;
    nn_tensor x = { 0 };
    assert_int_equal(nn_ws_create(dec, &ws, &err), 0);
    assert_int_equal(nn_tensor_resize(&x, 1, g.c, g.h, g.w, &err), 0);
    memcpy(x.data, z, (size_t)g.n * sizeof *z);
    assert_int_equal(nn_infer(dec, ws, &x, &err), 0);
    const nn_tensor *y = nn_ws_out(ws, nn_model_nodes(dec) - 1);
    assert_int_equal(y->c, 3);
    assert_int_equal(y->h, out->h);
    assert_int_equal(y->w, out->w);
    size_t plane = (size_t)out->w * (size_t)out->h;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < plane; i++) {
            float v = y->data[(size_t)k * plane + i] * 255.0f;
            long q = lrintf(v);
            out->px[i * 3 + (size_t)k] = (uint8_t)(!(v > 0) ? 0 : q > 255 ? 255 : q);
        }
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
}

/* Garbage packets, and real ones with bits flipped or cut short: decoding
 * never fails or reads out of bounds (ASan), and yields an image. */
static void ln_garbage(codec *c, const codec_stream *good, util_image *out)
{
    util_rng rng;
    util_rng_seed(&rng, 99);
    util_err err;
    uint8_t arrived[16];
    for (int round = 0; round < 200; round++) {
        codec_stream st;
        codec_stream_init(&st);
        size_t n = 1 + util_rng_below(&rng, 16);
        for (size_t i = 0; i < n; i++) {
            uint8_t buf[64];
            size_t len = util_rng_below(&rng, 52);
            if (round % 2 && i < good->n) {
                len = good->pkt[i].len;
                memcpy(buf, good->pkt[i].data, len);
                for (int b = 0; b < 3; b++)
                    buf[util_rng_below(&rng, len)] ^= (uint8_t)(1u << util_rng_below(&rng, 8));
                if (round % 4 == 1)
                    len = util_rng_below(&rng, len + 1);
            } else {
                for (size_t j = 0; j < len; j++)
                    buf[j] = (uint8_t)util_rng_next(&rng);
            }
            assert_int_equal(codec_stream_push(&st, buf, len, &err), 0);
            arrived[i] = (uint8_t)(util_rng_below(&rng, 4) != 0);
        }
        assert_int_equal(codec_decode(c, &st, arrived, out, &err), 0);
        codec_stream_free(&st);
    }
}

/* A 64 x 64 x 3 model with its latent at stride 2^levels and an 8 x 8 side
 * grid, through the registered codecs: 51-byte packets; every packet
 * gives back exactly the quantised latent of the planar input and the
 * decoder's picture of it in interleaved RGB; a subset decodes to fewer
 * values; none gives flat grey; the same image gives the same packets;
 * garbage does not crash. */
static void limitnet_rgb(int levels, int latent_c)
{
    char dir[64], path[128];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/rgb.safetensors", dir);
    ln_make(levels, latent_c, path);
    util_err err;
    codec_ln *m;
    assert_int_equal(codec_ln_load(path, &m, &err), 0);
    codec_ln_geom g = codec_ln_geometry(m);
    assert_int_equal(g.in_c, 3);
    assert_int_equal(g.in_h, LN_SIZE);
    assert_int_equal(g.in_w, LN_SIZE);
    assert_int_equal(g.c, latent_c);
    assert_int_equal(g.h, LN_SIZE >> levels);
    assert_int_equal(g.w, LN_SIZE >> levels);
    assert_int_equal(g.grid, LN_GRID);

    util_image img, out, again, ref;
    make_scene(&img, LN_SIZE, LN_SIZE, 0);
    alloc_image(&out, LN_SIZE, LN_SIZE, 3);
    alloc_image(&again, LN_SIZE, LN_SIZE, 3);
    alloc_image(&ref, LN_SIZE, LN_SIZE, 3);

    /* The quantised latent of the planar image, computed here. */
    float *want = malloc((size_t)g.n * sizeof *want), *z = malloc((size_t)g.n * sizeof *z);
    uint8_t *known = malloc((size_t)g.n);
    assert_true(want && z && known);
    nn_ws *we;
    nn_tensor x = { 0 };
    assert_int_equal(nn_ws_create(codec_ln_encoder(m), &we, &err), 0);
    to_tensor(&img, &x);
    assert_int_equal(nn_infer(codec_ln_encoder(m), we, &x, &err), 0);
    const nn_tensor *lat = nn_ws_out(we, nn_model_nodes(codec_ln_encoder(m)) - 1);
    int hw = g.h * g.w, nonzero = 0;
    for (int i = 0; i < g.n; i++) {
        int q = codec_ln_quant(m, i / hw, lat->data[i]);
        want[i] = codec_ln_dequant(m, i / hw, q);
        nonzero += q != 0;
    }
    assert_true(nonzero > g.n / 10);

    const char *names[] = { "limitnet", "limitnet-nosal" };
    for (int k = 0; k < 2; k++) {
        int how = k ? CODEC_LN_CHANNEL : CODEC_LN_SIDE;
        codec *c = ln_open(names[k], path), *c2 = ln_open(names[k], path);
        codec_stream st, st2;
        cu_encode(c, &img, 51, &st);
        assert_true(st.n >= 4);
        assert_int_equal(st.pkt[0].data[0] >> 7, k == 0);
        /* The same image twice, and by another instance: the same packets. */
        cu_encode(c, &img, 51, &st2);
        codec_stream st3;
        cu_encode(c2, &img, 51, &st3);
        assert_int_equal(st.n, st2.n);
        assert_int_equal(st.n, st3.n);
        for (size_t i = 0; i < st.n; i++) {
            assert_int_equal(st.pkt[i].len, st2.pkt[i].len);
            assert_memory_equal(st.pkt[i].data, st2.pkt[i].data, st.pkt[i].len);
            assert_memory_equal(st.pkt[i].data, st3.pkt[i].data, st.pkt[i].len);
        }
        static uint8_t arrived[MAXPKT];
        memset(arrived, 1, st.n);
        assert_int_equal(codec_ln_unpack(m, CODEC_LN_HUFFMAN, how, codec_ln_prior(m),
                                         &st, arrived, z, known, &err), g.n);
        for (int i = 0; i < g.n; i++)
            if (z[i] != want[i])
                fail_msg("%s: latent value %d (channel %d) is %g, encoder gave %g",
                         names[k], i, i / hw, z[i], want[i]);
        cu_decode(c, &st, NULL, st.n, &out);
        ln_render(m, want, &ref);
        assert_true(cu_same(&out, &ref));
        cu_decode(c2, &st2, NULL, st2.n, &again);
        assert_true(cu_same(&out, &again));
        /* The first packet alone: the side grid (limitnet) and values. */
        memset(arrived, 0, st.n);
        arrived[0] = 1;
        int first_values = codec_ln_unpack(m, CODEC_LN_HUFFMAN, how, codec_ln_prior(m),
                                           &st, arrived, z, known, &err);
        assert_true(first_values >= 0 && first_values < g.n);
        print_message("  %s, latent %dx%dx%d, grid %d: %zu packets, %zu bytes, "
                      "%d values in the first, %.2f dB (untrained)\n", codec_label(c),
                      g.c, g.h, g.w, g.grid, st.n, codec_stream_bytes(&st), first_values,
                      task_psnr(&img, &out));
        /* Every other packet, with the first and without it. */
        for (size_t first = 0; first < 2; first++) {
            for (size_t i = 0; i < st.n; i++)
                arrived[i] = i % 2 == first;
            int got = codec_ln_unpack(m, CODEC_LN_HUFFMAN, how, codec_ln_prior(m),
                                      &st, arrived, z, known, &err);
            assert_true(got > 0 && got < g.n);
            cu_decode(c, &st, arrived, 0, &again);
            assert_false(cu_is_flat(&again, 128));
            cu_decode(c, &st, arrived, 0, &ref);
            assert_true(cu_same(&again, &ref));
        }
        /* None: flat grey. */
        cu_decode(c, &st, NULL, 0, &again);
        assert_true(cu_is_flat(&again, 128));
        ln_garbage(c, &st, &again);
        codec_stream_free(&st);
        codec_stream_free(&st2);
        codec_stream_free(&st3);
        codec_destroy(c);
        codec_destroy(c2);
    }
    /* The model says what it takes. */
    codec *c = ln_open("limitnet", path);
    util_image grey;
    alloc_image(&grey, 28, 28, 1);
    codec_stream st;
    codec_stream_init(&st);
    assert_int_equal(codec_encode(c, &grey, 51, &st, &err), -1);
    assert_non_null(strstr(err.msg, "64x64x3"));
    assert_int_equal(codec_decode(c, &st, NULL, &grey, &err), -1);
    codec_stream_free(&st);
    codec_destroy(c);
    util_image_free(&grey);

    nn_tensor_free(&x);
    nn_ws_destroy(we);
    free(want);
    free(z);
    free(known);
    util_image_free(&img);
    util_image_free(&out);
    util_image_free(&again);
    util_image_free(&ref);
    codec_ln_free(m);
    tu_rmtree(dir);
}

static void test_limitnet_stride4(void **state)
{
    (void)state;
    limitnet_rgb(2, 8);
}

static void test_limitnet_stride8(void **state)
{
    (void)state;
    limitnet_rgb(3, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_roundtrip),
        cmocka_unit_test(test_jpeg_subsampling),
        cmocka_unit_test(test_jpeg_abbreviated_tables),
        cmocka_unit_test(test_jpeg_restart_loss),
        cmocka_unit_test(test_jpeg_progressive_prefix),
        cmocka_unit_test(test_j2k_roundtrip_and_prefix),
        cmocka_unit_test(test_webp_roundtrip),
        cmocka_unit_test(test_limitnet_stride4),
        cmocka_unit_test(test_limitnet_stride8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
