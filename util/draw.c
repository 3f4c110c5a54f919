/*
 * Drawing on util_image: boxes, mask outlines and labels for contact sheets
 * of generated scenes. Everything clips to the image, and coordinates are
 * widened to long long before any arithmetic, so callers may pass boxes that
 * lie partly or wholly outside (a scene object near an edge, an offset
 * computed from a far-away layout) without checking them first.
 *
 * Only grey (c = 1) and RGB (c = 3) images are drawn on; on anything else
 * the void functions do nothing, as there is no error to return.
 */
#include "util/util.h"

#include <limits.h>
#include <string.h>

/* The built-in font: printable ASCII 32..126, 5 columns by 7 rows, one byte
 * per row from the top, bit 4 the leftmost column. Capitals and digits use
 * all 7 rows; lower case has a 5-row x-height, and the letters with descenders
 * (g j p q y) squeeze their bodies into its upper 3 rows so the tail fits
 * in the last 2: a line of text never leaves its width x 7 box, and p and q
 * still start at the x-height, so they do not read as P and 9. */
#define FONT_FIRST 32
#define FONT_LAST 126

static const uint8_t font[FONT_LAST - FONT_FIRST + 1][UTIL_FONT_H] = {
    /* ' '  */ {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    /* '!'  */ {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04},
    /* '"'  */ {0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00},
    /* '#'  */ {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a},
    /* '$'  */ {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04},
    /* '%'  */ {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
    /* '&'  */ {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d},
    /* '\'' */ {0x04, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00},
    /* '('  */ {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
    /* ')'  */ {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
    /* '*'  */ {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00},
    /* '+'  */ {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00},
    /* ','  */ {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08},
    /* '-'  */ {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00},
    /* '.'  */ {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c},
    /* '/'  */ {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
    /* '0'  */ {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},
    /* '1'  */ {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},
    /* '2'  */ {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},
    /* '3'  */ {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},
    /* '4'  */ {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},
    /* '5'  */ {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},
    /* '6'  */ {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},
    /* '7'  */ {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    /* '8'  */ {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},
    /* '9'  */ {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},
    /* ':'  */ {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00},
    /* ';'  */ {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08},
    /* '<'  */ {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02},
    /* '='  */ {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00},
    /* '>'  */ {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},
    /* '?'  */ {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
    /* '@'  */ {0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e},
    /* 'A'  */ {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
    /* 'B'  */ {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e},
    /* 'C'  */ {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e},
    /* 'D'  */ {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c},
    /* 'E'  */ {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f},
    /* 'F'  */ {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10},
    /* 'G'  */ {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f},
    /* 'H'  */ {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
    /* 'I'  */ {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},
    /* 'J'  */ {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c},
    /* 'K'  */ {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
    /* 'L'  */ {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f},
    /* 'M'  */ {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11},
    /* 'N'  */ {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
    /* 'O'  */ {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
    /* 'P'  */ {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10},
    /* 'Q'  */ {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d},
    /* 'R'  */ {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11},
    /* 'S'  */ {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e},
    /* 'T'  */ {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    /* 'U'  */ {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
    /* 'V'  */ {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04},
    /* 'W'  */ {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a},
    /* 'X'  */ {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11},
    /* 'Y'  */ {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04},
    /* 'Z'  */ {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f},
    /* '['  */ {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e},
    /* '\\' */ {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00},
    /* ']'  */ {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e},
    /* '^'  */ {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00},
    /* '_'  */ {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f},
    /* '`'  */ {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},
    /* 'a'  */ {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f},
    /* 'b'  */ {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e},
    /* 'c'  */ {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e},
    /* 'd'  */ {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f},
    /* 'e'  */ {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e},
    /* 'f'  */ {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08},
    /* 'g'  */ {0x00, 0x00, 0x0f, 0x11, 0x0f, 0x01, 0x0e},
    /* 'h'  */ {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11},
    /* 'i'  */ {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e},
    /* 'j'  */ {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c},
    /* 'k'  */ {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},
    /* 'l'  */ {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},
    /* 'm'  */ {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11},
    /* 'n'  */ {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11},
    /* 'o'  */ {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e},
    /* 'p'  */ {0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10},
    /* 'q'  */ {0x00, 0x00, 0x0f, 0x11, 0x0f, 0x01, 0x01},
    /* 'r'  */ {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},
    /* 's'  */ {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e},
    /* 't'  */ {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06},
    /* 'u'  */ {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d},
    /* 'v'  */ {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04},
    /* 'w'  */ {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a},
    /* 'x'  */ {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11},
    /* 'y'  */ {0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e},
    /* 'z'  */ {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f},
    /* '{'  */ {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02},
    /* '|'  */ {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    /* '}'  */ {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08},
    /* '~'  */ {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00},
};

/* What characters outside the font draw as: an outlined cell, so that a
 * missing glyph is visible rather than silently dropped. */
static const uint8_t font_unknown[UTIL_FONT_H] = {
    0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f};

static int drawable(const util_image *img)
{
    return img && img->px && img->w > 0 && img->h > 0 &&
           (img->c == 1 || img->c == 3);
}

/* Grey images get the colour's luminance, so a drawing in colour and its
 * grey version look alike. */
uint8_t util_luma(const uint8_t rgb[3])
{
    return (uint8_t)((299u * rgb[0] + 587u * rgb[1] + 114u * rgb[2] + 500u) /
                     1000u);
}

static long long clamp_ll(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Fills [x0, x1] x [y0, y1] (inclusive, in any order) clipped to img. */
static void fill_ll(util_image *img, long long x0, long long y0, long long x1,
                    long long y1, const uint8_t rgb[3])
{
    if (x0 > x1) {
        long long t = x0;
        x0 = x1;
        x1 = t;
    }
    if (y0 > y1) {
        long long t = y0;
        y0 = y1;
        y1 = t;
    }
    if (x1 < 0 || y1 < 0 || x0 >= img->w || y0 >= img->h)
        return;
    int xa = (int)clamp_ll(x0, 0, img->w - 1);
    int xb = (int)clamp_ll(x1, 0, img->w - 1);
    int ya = (int)clamp_ll(y0, 0, img->h - 1);
    int yb = (int)clamp_ll(y1, 0, img->h - 1);
    size_t n = (size_t)(xb - xa + 1);
    if (img->c == 1) {
        uint8_t v = util_luma(rgb);
        for (int y = ya; y <= yb; y++)
            memset(img->px + (size_t)y * img->w + xa, v, n);
        return;
    }
    for (int y = ya; y <= yb; y++) {
        uint8_t *p = img->px + ((size_t)y * img->w + xa) * 3;
        for (size_t i = 0; i < n; i++, p += 3) {
            p[0] = rgb[0];
            p[1] = rgb[1];
            p[2] = rgb[2];
        }
    }
}

void util_draw_fill(util_image *img, int x0, int y0, int x1, int y1,
                    const uint8_t rgb[3])
{
    if (drawable(img) && rgb)
        fill_ll(img, x0, y0, x1, y1, rgb);
}

void util_draw_rect(util_image *img, int x0, int y0, int x1, int y1,
                    const uint8_t rgb[3])
{
    if (!drawable(img) || !rgb)
        return;
    /* Four one-pixel fills: each clips on its own, so an edge outside the
     * image simply vanishes while the others are still drawn. */
    fill_ll(img, x0, y0, x1, y0, rgb);
    fill_ll(img, x0, y1, x1, y1, rgb);
    fill_ll(img, x0, y0, x0, y1, rgb);
    fill_ll(img, x1, y0, x1, y1, rgb);
}

/* A mask as placed on the image. */
typedef struct mask_view {
    const uint8_t *mask;
    long long mw, mh, ox, oy, scale;
    uint8_t id;
} mask_view;

/* Whether image pixel (x, y) falls on a mask pixel of the region. */
static int in_region(const mask_view *m, long long x, long long y)
{
    long long dx = x - m->ox, dy = y - m->oy;
    if (dx < 0 || dy < 0)
        return 0;
    long long mx = dx / m->scale, my = dy / m->scale;
    if (mx >= m->mw || my >= m->mh)
        return 0;
    uint8_t v = m->mask[my * m->mw + mx];
    return m->id ? v == m->id : v != 0;
}

void util_draw_outline(util_image *img, const uint8_t *mask, int mw, int mh,
                       int ox, int oy, int scale, uint8_t id,
                       const uint8_t rgb[3])
{
    if (!drawable(img) || !mask || !rgb || mw <= 0 || mh <= 0 || scale < 1)
        return;
    mask_view m = {mask, mw, mh, ox, oy, scale, id};
    /* The boundary is taken at image resolution, after scaling, so that the
     * outline stays one pixel wide at any scale. Only the part of the scaled
     * mask inside the image is visited; neighbours outside the image are
     * still judged by the mask, so clipping never invents an edge. */
    long long xa = clamp_ll(m.ox, 0, img->w);
    long long xb = clamp_ll(m.ox + m.mw * m.scale, 0, img->w);
    long long ya = clamp_ll(m.oy, 0, img->h);
    long long yb = clamp_ll(m.oy + m.mh * m.scale, 0, img->h);
    uint8_t v = util_luma(rgb);
    for (long long y = ya; y < yb; y++) {
        for (long long x = xa; x < xb; x++) {
            if (!in_region(&m, x, y))
                continue;
            if (in_region(&m, x - 1, y) && in_region(&m, x + 1, y) &&
                in_region(&m, x, y - 1) && in_region(&m, x, y + 1))
                continue;
            uint8_t *p = img->px + ((size_t)y * img->w + (size_t)x) * img->c;
            if (img->c == 1) {
                p[0] = v;
            } else {
                p[0] = rgb[0];
                p[1] = rgb[1];
                p[2] = rgb[2];
            }
        }
    }
}

/* Width in pixels of n glyphs: each is UTIL_FONT_W wide with one column of
 * spacing between neighbours, both scaled. */
static long long text_width_ll(size_t n, long long scale)
{
    return n ? ((long long)n * (UTIL_FONT_W + 1) - 1) * scale : 0;
}

int util_text_width(const char *text, int scale)
{
    if (!text || scale < 1)
        return 0;
    long long w = text_width_ll(strlen(text), scale);
    return w > INT_MAX ? INT_MAX : (int)w;
}

void util_draw_text(util_image *img, int x, int y, const char *text,
                    const uint8_t rgb[3], int scale)
{
    if (!drawable(img) || !text || !rgb || scale < 1)
        return;
    long long s = scale, gx = x;
    if (y >= img->h || y + UTIL_FONT_H * s <= 0)
        return;
    for (const unsigned char *c = (const unsigned char *)text; *c;
         c++, gx += (UTIL_FONT_W + 1) * s) {
        if (gx >= img->w)
            break;
        if (gx + UTIL_FONT_W * s <= 0)
            continue;
        const uint8_t *g = *c >= FONT_FIRST && *c <= FONT_LAST
                               ? font[*c - FONT_FIRST] : font_unknown;
        for (int r = 0; r < UTIL_FONT_H; r++)
            for (int col = 0; col < UTIL_FONT_W; col++)
                if (g[r] >> (UTIL_FONT_W - 1 - col) & 1)
                    fill_ll(img, gx + col * s, y + r * s,
                            gx + (col + 1) * s - 1, y + (r + 1) * s - 1, rgb);
    }
}

int util_image_blit(util_image *dst, int x, int y, const util_image *src,
                    int scale, util_err *err)
{
    if (!drawable(dst))
        return util_errf(err, "blit: the destination is not a grey or RGB "
                         "image (%d channels)", dst ? dst->c : 0);
    if (!drawable(src))
        return util_errf(err, "blit: the source is not a grey or RGB image "
                         "(%d channels)", src ? src->c : 0);
    if (scale < 1)
        return util_errf(err, "blit: scale must be at least 1, got %d", scale);
    if (src->c == 3 && dst->c == 1)
        return util_errf(err, "blit: cannot copy an RGB image into a grey one");
    /* Reading and writing the same pixels would smear the copy when scaled. */
    if (src->px == dst->px)
        return util_errf(err, "blit: the source and the destination are the "
                         "same image");
    long long s = scale;
    long long xa = clamp_ll(x, 0, dst->w);
    long long xb = clamp_ll(x + src->w * s, 0, dst->w);
    long long ya = clamp_ll(y, 0, dst->h);
    long long yb = clamp_ll(y + src->h * s, 0, dst->h);
    for (long long dy = ya; dy < yb; dy++) {
        const uint8_t *srow = src->px + (size_t)((dy - y) / s) * src->w * src->c;
        uint8_t *d = dst->px + ((size_t)dy * dst->w + (size_t)xa) * dst->c;
        for (long long dx = xa; dx < xb; dx++, d += dst->c) {
            const uint8_t *p = srow + (size_t)((dx - x) / s) * src->c;
            if (dst->c == src->c) {
                memcpy(d, p, (size_t)dst->c);
            } else {
                d[0] = d[1] = d[2] = p[0];
            }
        }
    }
    return 0;
}
