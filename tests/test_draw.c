/* PNG files (data/png.c) and drawing (util/draw.c): round trips, failures
 * that name the file and leave nothing behind, the input formats the reader
 * converts, and clipping with coordinates far outside the image. */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <png.h>
#include <sys/stat.h>

#include "data/data.h"
#include "util/util.h"

static const uint8_t WHITE[3] = {255, 255, 255};
static const uint8_t RED[3] = {255, 0, 0};

/* Fills img with bytes from a seeded generator. */
static void fill_random(util_image *img, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    for (size_t i = 0; i < util_image_size(img); i++)
        img->px[i] = (uint8_t)util_rng_next(&rng);
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Samples of img equal to v, over all channels. */
static size_t count_value(const util_image *img, uint8_t v)
{
    size_t n = 0;
    for (size_t i = 0; i < util_image_size(img); i++)
        n += img->px[i] == v;
    return n;
}

/* Pixels (not samples) that are not all zero. */
static size_t count_set(const util_image *img)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)img->w * img->h; i++) {
        int any = 0;
        for (int k = 0; k < img->c; k++)
            any |= img->px[i * img->c + k];
        n += any != 0;
    }
    return n;
}

static int pixel_set(const util_image *img, int x, int y)
{
    const uint8_t *p = img->px + ((size_t)y * img->w + x) * img->c;
    for (int k = 0; k < img->c; k++)
        if (p[k])
            return 1;
    return 0;
}

/* ---- PNG ------------------------------------------------------------------ */

static void round_trip(int w, int h, int c, uint64_t seed)
{
    char dir[64], path[128];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/img.png", dir);
    util_image img, back;
    util_err err;
    assert_int_equal(util_image_alloc(&img, w, h, c, &err), 0);
    fill_random(&img, seed);
    assert_int_equal(data_png_write(path, &img, &err), 0);
    /* Only the file itself: the temporary name is gone. */
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(data_png_read(path, &back, &err), 0);
    assert_int_equal(back.w, w);
    assert_int_equal(back.h, h);
    assert_int_equal(back.c, c);
    assert_memory_equal(back.px, img.px, util_image_size(&img));
    /* Writing again replaces the file whole. */
    util_image_fill(&img, 7);
    assert_int_equal(data_png_write(path, &img, &err), 0);
    util_image_free(&back);
    assert_int_equal(data_png_read(path, &back, &err), 0);
    assert_memory_equal(back.px, img.px, util_image_size(&img));
    assert_int_equal(count_entries(dir), 1);
    util_image_free(&back);
    util_image_free(&img);
    tu_rmtree(dir);
}

static void test_png_round_trip(void **state)
{
    (void)state;
    round_trip(28, 28, 1, 1);
    round_trip(37, 5, 3, 2);
    round_trip(1, 1, 1, 3);
    round_trip(300, 2, 3, 4);
}

static void test_png_write_errors(void **state)
{
    (void)state;
    char dir[64], path[160];
    tu_tempdir(dir);
    util_image img;
    util_err err;
    assert_int_equal(util_image_alloc(&img, 4, 4, 3, &err), 0);

    /* A directory that does not exist: the error names the path, and
     * nothing is created in or above it. */
    snprintf(path, sizeof path, "%s/missing/out.png", dir);
    assert_int_equal(data_png_write(path, &img, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(count_entries(dir), 0);

    /* A libpng error after the temporary file exists (libpng 1.6 refuses a
     * width over its default limit of a million pixels): reported with the
     * path, and the temporary file removed. */
    snprintf(path, sizeof path, "%s/wide.png", dir);
    util_image wide;
    assert_int_equal(util_image_alloc(&wide, 1, 1, 1, &err), 0);
    free(wide.px);
    wide.w = 2000000;
    wide.px = calloc((size_t)wide.w, 1);
    assert_non_null(wide.px);
    assert_int_equal(data_png_write(path, &wide, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "cannot write PNG"));
    assert_int_equal(count_entries(dir), 0);

    /* Not grey or RGB. */
    util_image two = {.w = 2, .h = 2, .c = 2, .px = img.px};
    assert_int_equal(data_png_write(path, &two, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(count_entries(dir), 0);

    /* An existing file survives a failed write. */
    assert_int_equal(data_png_write(path, &img, &err), 0);
    assert_int_equal(data_png_write(path, &wide, &err), -1);
    assert_int_equal(count_entries(dir), 1);
    util_image back;
    assert_int_equal(data_png_read(path, &back, &err), 0);
    assert_int_equal(back.w, 4);
    util_image_free(&back);

    /* A FIFO or a directory at path is left alone, not replaced. */
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(data_png_write(path, &img, &err), -1);
    assert_non_null(strstr(err.msg, path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(data_png_write(path, &img, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(count_entries(dir), 3);
    assert_int_equal(count_entries(path), 0);

    free(wide.px);
    util_image_free(&img);
    tu_rmtree(dir);
}

static void test_png_read_errors(void **state)
{
    (void)state;
    char dir[64], path[128], bad[128];
    tu_tempdir(dir);
    util_image img, back;
    util_err err;

    /* Truncated: a random image compresses badly, so half the file cuts
     * through the pixel data; a file cut just before IEND fails too. */
    snprintf(path, sizeof path, "%s/full.png", dir);
    assert_int_equal(util_image_alloc(&img, 64, 64, 3, &err), 0);
    fill_random(&img, 9);
    assert_int_equal(data_png_write(path, &img, &err), 0);
    size_t len = 0;
    char *data = tu_read_file(path, &len);
    assert_non_null(data);
    snprintf(bad, sizeof bad, "%s/cut.png", dir);
    size_t cuts[] = {len / 2, len - 6, 20, 9};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        tu_write_file(bad, data, cuts[i]);
        back.px = (uint8_t *)&back;   /* must be reset on failure */
        assert_int_equal(data_png_read(bad, &back, &err), -1);
        assert_non_null(strstr(err.msg, bad));
        assert_non_null(strstr(err.msg, "truncated"));
        assert_null(back.px);
    }

    /* Not a PNG, and shorter than a signature. */
    snprintf(bad, sizeof bad, "%s/text.png", dir);
    tu_write_file(bad, "hello, this is not a picture\n", 29);
    assert_int_equal(data_png_read(bad, &back, &err), -1);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "not a PNG"));
    tu_write_file(bad, data, 5);
    assert_int_equal(data_png_read(bad, &back, &err), -1);
    assert_non_null(strstr(err.msg, "not a PNG"));

    /* A corrupt byte in the pixel data (the CRC catches it). */
    data[len / 2] ^= 0x55;
    tu_write_file(bad, data, len);
    assert_int_equal(data_png_read(bad, &back, &err), -1);
    assert_non_null(strstr(err.msg, bad));
    free(data);

    /* Missing. */
    snprintf(bad, sizeof bad, "%s/none.png", dir);
    assert_int_equal(data_png_read(bad, &back, &err), -1);
    assert_non_null(strstr(err.msg, bad));

    /* Too large: written fine, refused on reading before any allocation. */
    util_image_free(&img);
    assert_int_equal(util_image_alloc(&img, DATA_PNG_MAX_SIDE + 1, 1, 1, &err), 0);
    snprintf(bad, sizeof bad, "%s/wide.png", dir);
    assert_int_equal(data_png_write(bad, &img, &err), 0);
    assert_int_equal(data_png_read(bad, &back, &err), -1);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "too large"));

    util_image_free(&img);
    tu_rmtree(dir);
}

/* Writes a PNG of any colour type and bit depth with libpng directly, from
 * rows of packed samples (16-bit ones big-endian, as PNG stores them). */
static void write_raw_png(const char *path, int w, int h, int color_type,
                          int depth, const uint8_t *rows, size_t stride,
                          const png_color *palette, int npal,
                          const uint8_t *trans, int ntrans, int interlace)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, npal);
    if (trans)
        png_set_tRNS(png, info, trans, ntrans, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++)
            png_write_row(png, rows + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(f), 0);
}

static void test_png_read_formats(void **state)
{
    (void)state;
    char dir[64], path[128];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/in.png", dir);
    util_image img;
    util_err err;

    /* 16-bit RGBA: rounded to 8 bits, alpha dropped. */
    uint8_t rgba16[2][2 * 8];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int k = 0; k < 4; k++) {
                unsigned v = (unsigned)(y * 100 + x * 40 + k * 10) * 257u;
                if (k == 3)
                    v = (unsigned)(x * 30000);
                rgba16[y][x * 8 + k * 2] = (uint8_t)(v >> 8);
                rgba16[y][x * 8 + k * 2 + 1] = (uint8_t)v;
            }
    write_raw_png(path, 2, 2, PNG_COLOR_TYPE_RGB_ALPHA, 16, rgba16[0],
                  sizeof rgba16[0], NULL, 0, NULL, 0, 0);
    assert_int_equal(data_png_read(path, &img, &err), 0);
    assert_int_equal(img.c, 3);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(img.px[(y * 2 + x) * 3 + k], y * 100 + x * 40 + k * 10);
    util_image_free(&img);

    /* A palette of 2 bits with transparency: RGB, tRNS ignored. */
    png_color pal[3] = {{10, 20, 30}, {200, 100, 50}, {0, 255, 0}};
    uint8_t trans[3] = {0, 128, 255};
    /* Four 2-bit indices a byte: 0 1 2 0, then 2 2 1 1. */
    uint8_t pal_rows[2] = {0 << 6 | 1 << 4 | 2 << 2 | 0,
                           2 << 6 | 2 << 4 | 1 << 2 | 1};
    write_raw_png(path, 4, 2, PNG_COLOR_TYPE_PALETTE, 2, pal_rows, 1, pal,
                  3, trans, 3, 0);
    assert_int_equal(data_png_read(path, &img, &err), 0);
    assert_int_equal(img.w, 4);
    assert_int_equal(img.c, 3);
    static const int idx[8] = {0, 1, 2, 0, 2, 2, 1, 1};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(img.px[i * 3 + 0], pal[idx[i]].red);
        assert_int_equal(img.px[i * 3 + 1], pal[idx[i]].green);
        assert_int_equal(img.px[i * 3 + 2], pal[idx[i]].blue);
    }
    util_image_free(&img);

    /* 1-bit grey: expanded to 0 and 255. */
    uint8_t bits[1] = {0xa0};  /* 1 0 1 0 */
    write_raw_png(path, 4, 1, PNG_COLOR_TYPE_GRAY, 1, bits, 1, NULL, 0, NULL,
                  0, 0);
    assert_int_equal(data_png_read(path, &img, &err), 0);
    assert_int_equal(img.c, 1);
    static const uint8_t grey4[4] = {255, 0, 255, 0};
    assert_memory_equal(img.px, grey4, 4);
    util_image_free(&img);

    /* Grey with alpha, interlaced: grey values kept. */
    uint8_t ga[9][9 * 2];
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            ga[y][x * 2] = (uint8_t)(y * 9 + x);
            ga[y][x * 2 + 1] = (uint8_t)(255 - x);
        }
    write_raw_png(path, 9, 9, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga[0], sizeof ga[0],
                  NULL, 0, NULL, 0, 1);
    assert_int_equal(data_png_read(path, &img, &err), 0);
    assert_int_equal(img.c, 1);
    for (int i = 0; i < 81; i++)
        assert_int_equal(img.px[i], i);
    util_image_free(&img);

    tu_rmtree(dir);
}

/* ---- drawing ------------------------------------------------------------- */

/* An image whose pixels sit between guard bytes, so that a write outside
 * shows up without AddressSanitizer too. */
#define GUARD 64
typedef struct guarded {
    uint8_t *buf;
    util_image img;
} guarded;

static void guarded_alloc(guarded *g, int w, int h, int c)
{
    size_t n = (size_t)w * h * c;
    g->buf = malloc(n + 2 * GUARD);
    assert_non_null(g->buf);
    memset(g->buf, 0xa5, n + 2 * GUARD);
    g->img = (util_image){.w = w, .h = h, .c = c, .px = g->buf + GUARD};
    memset(g->img.px, 0, n);
}

static void guarded_check_free(guarded *g)
{
    size_t n = util_image_size(&g->img);
    for (size_t i = 0; i < GUARD; i++) {
        assert_int_equal(g->buf[i], 0xa5);
        assert_int_equal(g->buf[GUARD + n + i], 0xa5);
    }
    free(g->buf);
}

static void test_rect_fill_clipping(void **state)
{
    (void)state;
    for (int c = 1; c <= 3; c += 2) {
        guarded g;
        guarded_alloc(&g, 10, 8, c);
        util_image *img = &g.img;

        /* Wholly outside, in every direction and at the int limits. */
        util_draw_fill(img, INT_MIN, INT_MIN, -1, INT_MAX, WHITE);
        util_draw_fill(img, 10, INT_MIN, INT_MAX, INT_MAX, WHITE);
        util_draw_fill(img, INT_MIN, 8, INT_MAX, INT_MAX, WHITE);
        util_draw_fill(img, INT_MIN, INT_MIN, INT_MAX, -1, WHITE);
        util_draw_rect(img, INT_MIN, INT_MIN, INT_MAX, INT_MAX, WHITE);
        util_draw_rect(img, -5, -5, 10, 8, WHITE);
        assert_int_equal(count_set(img), 0);

        /* Covering: everything. */
        util_draw_fill(img, INT_MAX, INT_MAX, INT_MIN, INT_MIN, WHITE);
        assert_int_equal(count_set(img), 80);
        util_image_fill(img, 0);

        /* A rectangle whose left and bottom edges are outside: only its top
         * and right edges show, clipped. */
        util_draw_rect(img, -100, 2, 6, 1000, WHITE);
        assert_int_equal(count_set(img), 7 + 5);
        for (int x = 0; x <= 6; x++)
            assert_true(pixel_set(img, x, 2));
        for (int y = 2; y < 8; y++)
            assert_true(pixel_set(img, 6, y));
        util_image_fill(img, 0);

        /* Inclusive corners, in either order; one pixel. */
        util_draw_rect(img, 7, 5, 2, 1, WHITE);
        assert_int_equal(count_set(img), 2 * 6 + 2 * 3);
        assert_true(pixel_set(img, 2, 1) && pixel_set(img, 7, 5));
        assert_false(pixel_set(img, 3, 2));
        util_image_fill(img, 0);
        util_draw_rect(img, 4, 4, 4, 4, WHITE);
        assert_int_equal(count_set(img), 1);
        util_image_fill(img, 0);
        util_draw_fill(img, 8, -3, 20, 1, WHITE);
        assert_int_equal(count_set(img), 2 * 2);

        /* Colour: grey images take the luminance. */
        util_image_fill(img, 0);
        util_draw_fill(img, 0, 0, 0, 0, RED);
        if (c == 1) {
            assert_int_equal(img->px[0], 76);
        } else {
            assert_int_equal(img->px[0], 255);
            assert_int_equal(img->px[1], 0);
            assert_int_equal(img->px[2], 0);
        }
        guarded_check_free(&g);
    }

    /* Not grey or RGB, or no pixels: nothing happens. */
    uint8_t px[16] = {0};
    util_image two = {.w = 2, .h = 2, .c = 2, .px = px};
    util_draw_fill(&two, 0, 0, 5, 5, WHITE);
    util_draw_text(&two, 0, 0, "A", WHITE, 1);
    util_image none = {0};
    util_draw_rect(&none, 0, 0, 5, 5, WHITE);
    for (int i = 0; i < 16; i++)
        assert_int_equal(px[i], 0);
}

static void test_outline(void **state)
{
    (void)state;
    /* A 9x9 mask: a 5x5 square of id 3 at (2, 2), one pixel of id 5. */
    uint8_t mask[81] = {0};
    for (int y = 2; y < 7; y++)
        for (int x = 2; x < 7; x++)
            mask[y * 9 + x] = 3;
    mask[0] = 5;

    guarded g;
    guarded_alloc(&g, 40, 30, 3);
    util_image *img = &g.img;

    util_draw_outline(img, mask, 9, 9, 10, 10, 1, 3, WHITE);
    assert_int_equal(count_set(img), 16);
    for (int y = 12; y < 17; y++)
        for (int x = 12; x < 17; x++)
            assert_int_equal(pixel_set(img, x, y),
                             x == 12 || x == 16 || y == 12 || y == 16);
    util_image_fill(img, 0);

    /* Scaled, the outline stays one pixel wide: 4 * (10 - 1). */
    util_draw_outline(img, mask, 9, 9, 0, 0, 2, 3, WHITE);
    assert_int_equal(count_set(img), 36);
    assert_true(pixel_set(img, 4, 4) && pixel_set(img, 13, 13));
    assert_false(pixel_set(img, 5, 5));
    util_image_fill(img, 0);

    /* id 0: every nonzero pixel, so the square and the single pixel. */
    util_draw_outline(img, mask, 9, 9, 0, 0, 1, 0, WHITE);
    assert_int_equal(count_set(img), 17);
    util_image_fill(img, 0);

    /* Cut by the image edge: the edge of the image is not an edge of the
     * region, so only the square's left and bottom sides remain. */
    util_draw_outline(img, mask, 9, 9, 40 - 5, -4, 1, 3, WHITE);
    assert_int_equal(count_set(img), 3 + 3 - 1);
    util_image_fill(img, 0);

    /* Far outside, huge scales, degenerate arguments: safe and empty, or
     * (the mask scaled to cover everything) no boundary inside at all. */
    util_draw_outline(img, mask, 9, 9, INT_MIN, INT_MIN, INT_MAX, 3, WHITE);
    util_draw_outline(img, mask, 9, 9, INT_MAX, INT_MAX, INT_MAX, 3, WHITE);
    util_draw_outline(img, mask, 9, 9, INT_MIN, 0, 1, 3, WHITE);
    util_draw_outline(img, mask, 9, 9, 0, 0, 0, 3, WHITE);
    util_draw_outline(img, mask, 9, 9, 0, 0, -3, 3, WHITE);
    util_draw_outline(img, mask, 0, 9, 0, 0, 1, 3, WHITE);
    util_draw_outline(img, NULL, 9, 9, 0, 0, 1, 3, WHITE);
    util_draw_outline(img, mask, 9, 9, 0, 0, 1, 7, WHITE);
    util_draw_outline(img, mask, 9, 9, -2 * 1000000 - 1, -2 * 1000000 - 1,
                      1000000, 3, WHITE);
    assert_int_equal(count_set(img), 0);
    /* The square's corner at image (0, 0), scaled by a million: only its
     * top and left sides are in the image. */
    util_draw_outline(img, mask, 9, 9, -2 * 1000000, -2 * 1000000 + 5, 1000000,
                      3, WHITE);
    assert_int_equal(count_set(img), 40 + (30 - 5) - 1);
    guarded_check_free(&g);

    /* Grey images take the luminance. */
    guarded_alloc(&g, 12, 12, 1);
    util_draw_outline(&g.img, mask, 9, 9, 0, 0, 1, 3, RED);
    assert_int_equal(count_value(&g.img, 76), 16);
    guarded_check_free(&g);
}

static void test_text(void **state)
{
    (void)state;
    assert_int_equal(UTIL_FONT_W, 5);
    assert_int_equal(UTIL_FONT_H, 7);
    assert_int_equal(util_text_width("AB", 1), 11);
    assert_int_equal(util_text_width("AB", 3), 33);
    assert_int_equal(util_text_width("A", 2), 10);
    assert_int_equal(util_text_width("", 4), 0);
    assert_int_equal(util_text_width("AB", 0), 0);
    assert_int_equal(util_text_width("ABCDEFGH", INT_MAX), INT_MAX);

    static const char *const texts[] = {
        "AB", "T-shirt/top", "Ankle boot 0123456789", "gjpqy_|W", "\x01\xff"};
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        for (int scale = 1; scale <= 3; scale++) {
            guarded g;
            guarded_alloc(&g, 420, 40, 3);
            int x0 = 7, y0 = 5, w = util_text_width(texts[t], scale);
            util_draw_text(&g.img, x0, y0, texts[t], WHITE, scale);
            size_t inside = 0;
            for (int y = 0; y < g.img.h; y++)
                for (int x = 0; x < g.img.w; x++) {
                    if (!pixel_set(&g.img, x, y))
                        continue;
                    assert_true(x >= x0 && x < x0 + w);
                    assert_true(y >= y0 && y < y0 + UTIL_FONT_H * scale);
                    inside++;
                }
            assert_true(inside > 0);
            /* Whole pixels: each glyph pixel is a scale x scale block. */
            assert_int_equal(inside % ((size_t)scale * scale), 0);
            /* The box is reached: the first and last columns and the top
             * and bottom rows of the text all have pixels (every text here
             * has a glyph touching each). */
            int left = 0, right = 0, top = 0, bottom = 0;
            for (int y = y0; y < y0 + UTIL_FONT_H * scale; y++) {
                left |= pixel_set(&g.img, x0, y);
                right |= pixel_set(&g.img, x0 + w - 1, y);
            }
            for (int x = x0; x < x0 + w; x++) {
                top |= pixel_set(&g.img, x, y0);
                bottom |= pixel_set(&g.img, x, y0 + UTIL_FONT_H * scale - 1);
            }
            assert_true(left && right && top && bottom);
            guarded_check_free(&g);
        }
    }

    /* A space draws nothing; an unknown byte draws the 5x7 box outline. */
    guarded g;
    guarded_alloc(&g, 20, 10, 1);
    util_draw_text(&g.img, 0, 0, "   ", WHITE, 1);
    assert_int_equal(count_set(&g.img), 0);
    util_draw_text(&g.img, 0, 0, "\x7f", WHITE, 1);
    assert_int_equal(count_set(&g.img), 2 * 5 + 2 * 5);
    assert_true(pixel_set(&g.img, 0, 0) && pixel_set(&g.img, 4, 6));
    assert_false(pixel_set(&g.img, 2, 3));
    util_image_fill(&g.img, 0);

    /* "A" and "a" differ, and each glyph is distinct from its neighbours
     * in the table (a copy-paste slip in the font would show here). */
    uint8_t prev[35] = {0};
    for (int ch = 33; ch <= 126; ch++) {
        char s[2] = {(char)ch, 0};
        util_image_fill(&g.img, 0);
        util_draw_text(&g.img, 0, 0, s, WHITE, 1);
        uint8_t cur[35];
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 5; x++)
                cur[y * 5 + x] = g.img.px[y * 20 + x];
        assert_true(count_set(&g.img) > 0);
        assert_memory_not_equal(cur, prev, sizeof cur);
        memcpy(prev, cur, sizeof cur);
    }

    /* Clipping at the int limits and at every edge. */
    util_image_fill(&g.img, 0);
    util_draw_text(&g.img, INT_MIN, INT_MIN, "Hello", WHITE, INT_MAX);
    util_draw_text(&g.img, INT_MAX, INT_MAX, "Hello", WHITE, INT_MAX);
    util_draw_text(&g.img, INT_MIN, 0, "Hello", WHITE, 1);
    util_draw_text(&g.img, 0, INT_MAX - 3, "Hello", WHITE, 1);
    util_draw_text(&g.img, 0, 0, "Hello", WHITE, 0);
    assert_int_equal(count_set(&g.img), 0);
    util_draw_text(&g.img, -3, -3, "Hello world", WHITE, 2);
    util_draw_text(&g.img, 15, 8, "Hello world", WHITE, 3);
    assert_true(count_set(&g.img) > 0);
    /* One block of M (column 1, row 1), a million pixels a side, covers
     * the image. */
    util_image_fill(&g.img, 0);
    util_draw_text(&g.img, -1000000, -1000000, "M", WHITE, 1000000);
    assert_int_equal(count_set(&g.img), 200);
    guarded_check_free(&g);
}

static void test_blit(void **state)
{
    (void)state;
    util_err err;
    util_image grey, rgb;
    assert_int_equal(util_image_alloc(&grey, 3, 2, 1, &err), 0);
    for (int i = 0; i < 6; i++)
        grey.px[i] = (uint8_t)(10 * (i + 1));
    assert_int_equal(util_image_alloc(&rgb, 2, 2, 3, &err), 0);
    fill_random(&rgb, 5);

    guarded g;
    guarded_alloc(&g, 8, 6, 3);
    /* Grey into RGB at scale 2: each value replicated, in 2x2 blocks. */
    assert_int_equal(util_image_blit(&g.img, 1, 1, &grey, 2, &err), 0);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 8; x++) {
            const uint8_t *p = g.img.px + (y * 8 + x) * 3;
            int in = x >= 1 && x < 7 && y >= 1 && y < 5;
            uint8_t want = in ? grey.px[((y - 1) / 2) * 3 + (x - 1) / 2] : 0;
            assert_int_equal(p[0], want);
            assert_int_equal(p[1], want);
            assert_int_equal(p[2], want);
        }
    /* RGB into RGB, clipped at the top-left: the source's last pixel at
     * (0, 0) in 3x3 blocks. */
    util_image_fill(&g.img, 0);
    assert_int_equal(util_image_blit(&g.img, -3, -3, &rgb, 3, &err), 0);
    assert_memory_equal(g.img.px, rgb.px + 9, 3);
    assert_memory_equal(g.img.px + (2 * 8 + 2) * 3, rgb.px + 9, 3);
    assert_int_equal(count_set(&g.img), 9);
    /* Far outside and huge: safe. */
    assert_int_equal(util_image_blit(&g.img, INT_MIN, INT_MIN, &rgb, INT_MAX, &err), 0);
    assert_int_equal(util_image_blit(&g.img, INT_MAX, 0, &rgb, INT_MAX, &err), 0);
    assert_int_equal(util_image_blit(&g.img, 0, INT_MAX, &grey, 1, &err), 0);
    guarded_check_free(&g);

    /* Grey into grey copies; RGB into grey, a bad scale, the same image and
     * a two-channel image are errors. */
    util_image dst;
    assert_int_equal(util_image_alloc(&dst, 3, 2, 1, &err), 0);
    assert_int_equal(util_image_blit(&dst, 0, 0, &grey, 1, &err), 0);
    assert_memory_equal(dst.px, grey.px, 6);
    assert_int_equal(util_image_blit(&dst, 0, 0, &rgb, 1, &err), -1);
    assert_non_null(strstr(err.msg, "RGB"));
    assert_int_equal(util_image_blit(&dst, 0, 0, &grey, 0, &err), -1);
    assert_non_null(strstr(err.msg, "scale"));
    assert_int_equal(util_image_blit(&dst, 0, 0, &dst, 1, &err), -1);
    util_image two = {.w = 1, .h = 1, .c = 2, .px = dst.px};
    assert_int_equal(util_image_blit(&rgb, 0, 0, &two, 1, &err), -1);
    util_image_free(&dst);
    util_image_free(&grey);
    util_image_free(&rgb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_png_write_errors),
        cmocka_unit_test(test_png_read_errors),
        cmocka_unit_test(test_png_read_formats),
        cmocka_unit_test(test_rect_fill_clipping),
        cmocka_unit_test(test_outline),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_blit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
