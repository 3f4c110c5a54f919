/*
 * Writes the image files that bench/device/jpeg_m7.c reads (the "LNIM"
 * format documented at the top of jpeg_m7.c), on the host.
 *
 *   mkimages idx IMAGES.idx3 COUNT OUT.raw
 *       the first COUNT images of an uncompressed IDX3 file (e.g. Fashion-
 *       MNIST's t10k-images-idx3-ubyte after gzip -d), 1 channel
 *   mkimages ppm IMAGE.ppm TILE STRIDE OUT.raw
 *       every TILE x TILE window of a binary PPM (P6, maxval 255) whose
 *       top-left corner lies on the STRIDE grid, in raster order, 3 channels
 *   mkimages bytes PIXELS W H C OUT.raw
 *       headerless images of W x H x C bytes one after another (e.g. from
 *       `limitnet scenes --raw`), as many as the file holds whole
 *
 * Deterministic: the same input gives the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static int write_raw(const char *out, uint32_t count, uint32_t w, uint32_t h,
                     uint32_t c, const unsigned char *pix)
{
    unsigned char hdr[20];
    size_t n = (size_t)count * w * h * c;
    FILE *f = fopen(out, "wb");
    put32(hdr, 0x4D494E4Cu);
    put32(hdr + 4, count);
    put32(hdr + 8, w);
    put32(hdr + 12, h);
    put32(hdr + 16, c);
    if (!f || fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr ||
        fwrite(pix, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "mkimages: cannot write %s\n", out);
        return 1;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           (uint32_t)b[3];
}

static int from_idx(const char *in, long count, const char *out)
{
    unsigned char hdr[16], *pix;
    uint32_t n, rows, cols;
    size_t size;
    FILE *f = fopen(in, "rb");
    if (!f || fread(hdr, 1, 16, f) != 16 || be32(hdr) != 0x00000803u) {
        fprintf(stderr, "mkimages: %s: not an IDX3 ubyte file\n", in);
        return 1;
    }
    n = be32(hdr + 4);
    rows = be32(hdr + 8);
    cols = be32(hdr + 12);
    if (count < 1 || (uint32_t)count > n || rows == 0 || cols == 0 ||
        rows > 4096 || cols > 4096) {
        fprintf(stderr, "mkimages: %s: %u images of %ux%u, %ld asked for\n",
                in, n, rows, cols, count);
        return 1;
    }
    size = (size_t)count * rows * cols;
    pix = malloc(size);
    if (!pix || fread(pix, 1, size, f) != size) {
        fprintf(stderr, "mkimages: %s: short file\n", in);
        return 1;
    }
    fclose(f);
    return write_raw(out, (uint32_t)count, cols, rows, 1, pix);
}

/* Next PPM header number, skipping white space and # comments. */
static long ppm_num(FILE *f)
{
    int ch;
    long v = 0;
    for (;;) {
        ch = getc(f);
        if (ch == '#') {
            while (ch != '\n' && ch != EOF)
                ch = getc(f);
        } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            break;
        }
    }
    if (ch < '0' || ch > '9')
        return -1;
    while (ch >= '0' && ch <= '9') {
        v = v * 10 + (ch - '0');
        if (v > 1000000)
            return -1;
        ch = getc(f);
    }
    return v; /* the one white-space character after maxval is consumed */
}

static int from_ppm(const char *in, long tile, long stride, const char *out)
{
    char magic[2];
    long w, h, maxval;
    unsigned char *img, *pix, *p;
    uint32_t count = 0;
    FILE *f = fopen(in, "rb");
    if (!f || fread(magic, 1, 2, f) != 2 || magic[0] != 'P' ||
        magic[1] != '6') {
        fprintf(stderr, "mkimages: %s: not a binary PPM\n", in);
        return 1;
    }
    w = ppm_num(f);
    h = ppm_num(f);
    maxval = ppm_num(f);
    if (w < 1 || h < 1 || maxval != 255 || tile < 1 || stride < 1 ||
        tile > w || tile > h) {
        fprintf(stderr, "mkimages: %s: %ldx%ld maxval %ld, tile %ld stride"
                " %ld not usable\n", in, w, h, maxval, tile, stride);
        return 1;
    }
    img = malloc((size_t)w * h * 3);
    if (!img || fread(img, 1, (size_t)w * h * 3, f) != (size_t)w * h * 3) {
        fprintf(stderr, "mkimages: %s: short file\n", in);
        return 1;
    }
    fclose(f);
    pix = malloc((size_t)((h - tile) / stride + 1) * ((w - tile) / stride + 1) *
                 tile * tile * 3);
    if (!pix)
        return 1;
    p = pix;
    for (long y = 0; y + tile <= h; y += stride)
        for (long x = 0; x + tile <= w; x += stride, count++)
            for (long r = 0; r < tile; r++, p += tile * 3)
                memcpy(p, img + ((size_t)(y + r) * w + x) * 3,
                       (size_t)tile * 3);
    return write_raw(out, count, (uint32_t)tile, (uint32_t)tile, 3, pix);
}

static int from_bytes(const char *in, long w, long h, long c, const char *out)
{
    FILE *f = fopen(in, "rb");
    size_t per = w > 0 && h > 0 && c > 0 && w <= 4096 && h <= 4096 && c <= 4
                     ? (size_t)w * h * c : 0;
    if (!f || !per || fseek(f, 0, SEEK_END)) {
        fprintf(stderr, "mkimages: %s: cannot read images of %ldx%ldx%ld\n", in, w, h, c);
        return 1;
    }
    long size = ftell(f);
    size_t count = size > 0 ? (size_t)size / per : 0;
    unsigned char *pix = count ? malloc(count * per) : NULL;
    rewind(f);
    if (!pix || fread(pix, 1, count * per, f) != count * per) {
        fprintf(stderr, "mkimages: %s: no whole %ldx%ldx%ld image\n", in, w, h, c);
        return 1;
    }
    fclose(f);
    return write_raw(out, (uint32_t)count, (uint32_t)w, (uint32_t)h, (uint32_t)c, pix);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "bytes") == 0)
        return from_bytes(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10),
                          strtol(argv[5], NULL, 10), argv[6]);
    if (argc == 5 && strcmp(argv[1], "idx") == 0)
        return from_idx(argv[2], strtol(argv[3], NULL, 10), argv[4]);
    if (argc == 6 && strcmp(argv[1], "ppm") == 0)
        return from_ppm(argv[2], strtol(argv[3], NULL, 10),
                        strtol(argv[4], NULL, 10), argv[5]);
    fprintf(stderr, "usage: mkimages idx IMAGES.idx3 COUNT OUT.raw\n"
                    "       mkimages ppm IMAGE.ppm TILE STRIDE OUT.raw\n"
                    "       mkimages bytes PIXELS W H C OUT.raw\n");
    return 2;
}
