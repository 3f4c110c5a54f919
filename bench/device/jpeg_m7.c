/*
 * JPEG encoders on the Cortex-M7 (QEMU mps2-an500, -icount shift=0): stb's
 * JPEG writer (Debian libstb-dev, stb_image_write.h) and libjpeg-turbo 2.1.5
 * without SIMD (Debian's source package, built by device/device.mk), each at
 * quality 10, 50 and 90, with instructions per encode from device/m7's
 * SysTick counter. The same file builds for the host (gcc) as the "host
 * twin": it prints the same table without instruction counts, so that the
 * JPEG sizes and CRCs can be compared host against target.
 *
 * Usage: jpeg_m7 IMAGES.raw [--dump PREFIX]
 *   --dump PREFIX  also write image 0's JPEG for every (encoder, quality) to
 *                  PREFIX-ENCODER-qQ.jpg (semihosting on the target: files on
 *                  the host, relative to QEMU's working directory)
 *
 * IMAGES.raw, the input format (written by bench/device/mkimages.c):
 *   offset  size  field (all integers little-endian uint32)
 *        0     4  magic 0x4D494E4C (the bytes "LNIM")
 *        4     4  count: number of images
 *        8     4  width
 *       12     4  height
 *       16     4  channels: 1 (grey) or 3 (RGB, interleaved)
 *       20     -  count * height * width * channels bytes: image after
 *                 image, rows top to bottom, pixels left to right
 *
 * Output: comment lines start with '#'; then one line per (encoder,
 * quality), whitespace-separated columns:
 *   encoder quality insn_mean insn_min insn_max bytes_mean bytes_total crc32
 *   stack heap
 * insn_*: instructions per encode (the target only; "-" on the host);
 * bytes_mean: mean JPEG size with one decimal; bytes_total and crc32 (CRC-32
 * of all the JPEGs one after the other) identify the output exactly;
 * stack: deepest stack use during that row (bytes, whole program, target
 * only); heap: peak heap bytes the encoder held (libjpeg: requested through
 * its jmemsys layer, the compress object included; stb: through STBIW_MALLOC,
 * which its JPEG writer never calls).
 *
 * What one encode covers: stb: one stbi_write_jpg_to_func call. libjpeg: one
 * jpeg_compress_struct is created before the loop and reused (as a device
 * would); per image, jpeg_set_defaults, jpeg_set_quality(q, TRUE),
 * jpeg_start_compress, jpeg_write_scanlines over all rows and
 * jpeg_finish_compress (which frees the per-image memory). Both write into
 * the same static buffer through a callback (stb) or a destination manager
 * (libjpeg). libjpeg: islow DCT, Huffman tables from the standard (not
 * optimised), 4:2:0 for RGB, one component for grey. stb: always three
 * components (Y, Cb, Cr, grey input too), 4:2:0 below quality 91.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeglib.h"

#ifdef __arm__
#include "../../device/m7/m7.h"
#define ON_TARGET 1
#else
#define ON_TARGET 0
static void m7_counter_start(void) {}
static uint32_t m7_counter_read(void) { return 0; }
static void m7_stack_paint(void) {}
static size_t m7_stack_used(void) { return 0; }
#endif

/* ---- heap accounting ----------------------------------------------------- */

static size_t heap_cur, heap_peak;

static void heap_add(size_t n)
{
    heap_cur += n;
    if (heap_cur > heap_peak)
        heap_peak = heap_cur;
}

/* stb: its allocator hooks, with the size kept in front of each block. */
static void *count_malloc(size_t n)
{
    size_t *p = malloc(n + sizeof(max_align_t));
    if (!p)
        return NULL;
    *p = n;
    heap_add(n);
    return (char *)p + sizeof(max_align_t);
}

static void count_free(void *q)
{
    if (q) {
        size_t *p = (size_t *)(void *)((char *)q - sizeof(max_align_t));
        heap_cur -= *p;
        free(p);
    }
}

static void *count_realloc(void *q, size_t n)
{
    void *r = count_malloc(n);
    if (r && q) {
        size_t old = *(size_t *)(void *)((char *)q - sizeof(max_align_t));
        memcpy(r, q, old < n ? old : n);
        count_free(q);
    }
    return r;
}

#define STBIW_MALLOC(n) count_malloc(n)
#define STBIW_FREE(p) count_free(p)
#define STBIW_REALLOC(p, n) count_realloc(p, n)
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
/* Static, so that the writers we do not call (PNG, BMP, TGA, HDR) are
 * dropped by the compiler instead of taking flash; hence no warning for
 * them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "stb_image_write.h" /* Debian libstb-dev: /usr/include/stb */
#pragma GCC diagnostic pop

/* libjpeg: its system-dependent memory layer (jmemnobs.c: malloc and free)
 * is linked with ld --wrap for these four, so every request passes here
 * first. jpeg_free_* get the object's size, so no bookkeeping is needed. */
void *__real_jpeg_get_small(j_common_ptr cinfo, size_t n);
void __real_jpeg_free_small(j_common_ptr cinfo, void *p, size_t n);
void *__real_jpeg_get_large(j_common_ptr cinfo, size_t n);
void __real_jpeg_free_large(j_common_ptr cinfo, void *p, size_t n);

void *__wrap_jpeg_get_small(j_common_ptr cinfo, size_t n)
{
    void *p = __real_jpeg_get_small(cinfo, n);
    if (p)
        heap_add(n);
    return p;
}

void __wrap_jpeg_free_small(j_common_ptr cinfo, void *p, size_t n)
{
    heap_cur -= n;
    __real_jpeg_free_small(cinfo, p, n);
}

void *__wrap_jpeg_get_large(j_common_ptr cinfo, size_t n)
{
    void *p = __real_jpeg_get_large(cinfo, n);
    if (p)
        heap_add(n);
    return p;
}

void __wrap_jpeg_free_large(j_common_ptr cinfo, void *p, size_t n)
{
    heap_cur -= n;
    __real_jpeg_free_large(cinfo, p, n);
}

/* ---- output buffer ------------------------------------------------------- */

#define OUT_CAP (64u * 1024u)
static unsigned char outbuf[OUT_CAP];
static size_t out_len;
static int out_overflow;

static void stb_put(void *ctx, void *data, int size)
{
    (void)ctx;
    if (size < 0 || (size_t)size > OUT_CAP - out_len) {
        out_overflow = 1;
        return;
    }
    memcpy(outbuf + out_len, data, (size_t)size);
    out_len += (size_t)size;
}

static void dest_init(j_compress_ptr c)
{
    c->dest->next_output_byte = outbuf;
    c->dest->free_in_buffer = OUT_CAP;
}

static boolean dest_empty(j_compress_ptr c)
{
    /* The buffer is far larger than any JPEG of these images; if it ever
     * fills, the row is marked as failed and the data overwritten. */
    out_overflow = 1;
    c->dest->next_output_byte = outbuf;
    c->dest->free_in_buffer = OUT_CAP;
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    out_len = OUT_CAP - c->dest->free_in_buffer;
}

/* ---- CRC-32 (IEEE, reflected), to compare outputs host vs target --------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- input --------------------------------------------------------------- */

#define RAW_MAGIC 0x4D494E4Cu

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

struct images {
    uint32_t count, w, h, c;
    unsigned char *pix;
};

static int read_images(const char *path, struct images *im)
{
    unsigned char hdr[20];
    size_t size;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "jpeg_m7: cannot open %s\n", path);
        return -1;
    }
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr || le32(hdr) != RAW_MAGIC) {
        fprintf(stderr, "jpeg_m7: %s: not an LNIM image file\n", path);
        fclose(f);
        return -1;
    }
    im->count = le32(hdr + 4);
    im->w = le32(hdr + 8);
    im->h = le32(hdr + 12);
    im->c = le32(hdr + 16);
    if (im->count == 0 || im->w == 0 || im->h == 0 || im->w > 4096 ||
        im->h > 4096 || (im->c != 1 && im->c != 3) ||
        (size_t)im->count > SIZE_MAX / ((size_t)im->w * im->h * im->c)) {
        fprintf(stderr, "jpeg_m7: %s: bad header\n", path);
        fclose(f);
        return -1;
    }
    size = (size_t)im->count * im->w * im->h * im->c;
    im->pix = malloc(size);
    if (!im->pix || fread(im->pix, 1, size, f) != size) {
        fprintf(stderr, "jpeg_m7: %s: cannot read %lu bytes of pixels\n", path,
                (unsigned long)size);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

/* ---- encoders ------------------------------------------------------------ */

enum { ENC_STB, ENC_LIBJPEG };
static const char *const enc_name[] = { "stb", "libjpeg" };

static struct jpeg_compress_struct cinfo;
static struct jpeg_error_mgr jerr;
static struct jpeg_destination_mgr jdest;

static void encode_stb(const struct images *im, const unsigned char *px, int q)
{
    if (!stbi_write_jpg_to_func(stb_put, NULL, (int)im->w, (int)im->h,
                                (int)im->c, px, q))
        out_overflow = 1;
}

static void encode_libjpeg(const struct images *im, const unsigned char *px,
                           int q)
{
    JSAMPROW rows[1];
    size_t stride = (size_t)im->w * im->c;

    cinfo.image_width = im->w;
    cinfo.image_height = im->h;
    cinfo.input_components = (int)im->c;
    cinfo.in_color_space = im->c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, q, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        /* libjpeg does not write through the row pointers */
        rows[0] = (JSAMPROW)(uintptr_t)(px + cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
}

static int dump(const char *prefix, int enc, int q)
{
    char name[512];
    FILE *f;
    snprintf(name, sizeof name, "%s-%s-q%d.jpg", prefix, enc_name[enc], q);
    f = fopen(name, "wb");
    if (!f || fwrite(outbuf, 1, out_len, f) != out_len || fclose(f) != 0) {
        fprintf(stderr, "jpeg_m7: cannot write %s\n", name);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const int qualities[] = { 10, 50, 90 };
    const char *path = NULL, *prefix = NULL;
    struct images im;
    size_t frame;
    int status = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: jpeg_m7 IMAGES.raw [--dump PREFIX]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: jpeg_m7 IMAGES.raw [--dump PREFIX]\n");
        return 2;
    }
    if (read_images(path, &im) != 0)
        return 1;
    frame = (size_t)im.w * im.h * im.c;
    crc_init();

    printf("# jpeg_m7 (%s): %s: %lu images of %lux%lux%lu\n",
           ON_TARGET ? "cortex-m7, qemu mps2-an500" : "host twin", path,
           (unsigned long)im.count, (unsigned long)im.w, (unsigned long)im.h,
           (unsigned long)im.c);
    printf("# encoder quality insn_mean insn_min insn_max bytes_mean"
           " bytes_total crc32 stack heap\n");

    m7_counter_start();
    heap_cur = heap_peak = 0;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jdest.init_destination = dest_init;
    jdest.empty_output_buffer = dest_empty;
    jdest.term_destination = dest_term;
    cinfo.dest = &jdest;

    for (int enc = ENC_STB; enc <= ENC_LIBJPEG; enc++) {
        for (size_t qi = 0; qi < sizeof qualities / sizeof qualities[0]; qi++) {
            int q = qualities[qi];
            uint64_t insn_total = 0, bytes_total = 0;
            uint32_t insn_min = UINT32_MAX, insn_max = 0, crc = 0;
            size_t heap_base = heap_cur;

            heap_peak = heap_cur;
            out_overflow = 0;
            m7_stack_paint();
            for (uint32_t n = 0; n < im.count; n++) {
                const unsigned char *px = im.pix + n * frame;
                uint32_t t0, t1;
                out_len = 0;
                t0 = m7_counter_read();
                if (enc == ENC_STB)
                    encode_stb(&im, px, q);
                else
                    encode_libjpeg(&im, px, q);
                t1 = m7_counter_read();
                insn_total += t1 - t0;
                if (t1 - t0 < insn_min)
                    insn_min = t1 - t0;
                if (t1 - t0 > insn_max)
                    insn_max = t1 - t0;
                bytes_total += out_len;
                crc = crc_update(crc, outbuf, out_len);
                if (n == 0 && prefix && dump(prefix, enc, q) != 0)
                    status = 1;
            }
            if (out_overflow) {
                fprintf(stderr, "jpeg_m7: %s q%d: output lost\n",
                        enc_name[enc], q);
                status = 1;
            }
            {
                /* heap: the encoder's peak over the row; for libjpeg the
                 * compress object (allocated once, before the rows) too */
                size_t heap = heap_peak - (enc == ENC_LIBJPEG ? 0 : heap_base);
                unsigned long b10 = (unsigned long)
                    ((bytes_total * 10 + im.count / 2) / im.count);
                if (ON_TARGET)
                    printf("%-8s %3d %9lu %9lu %9lu %6lu.%lu %9lu %08lx %6lu %7lu\n",
                           enc_name[enc], q,
                           (unsigned long)((insn_total + im.count / 2) / im.count),
                           (unsigned long)insn_min, (unsigned long)insn_max,
                           b10 / 10, b10 % 10, (unsigned long)bytes_total,
                           (unsigned long)crc, (unsigned long)m7_stack_used(),
                           (unsigned long)heap);
                else
                    printf("%-8s %3d %9s %9s %9s %6lu.%lu %9lu %08lx %6s %7lu\n",
                           enc_name[enc], q, "-", "-", "-", b10 / 10, b10 % 10,
                           (unsigned long)bytes_total, (unsigned long)crc, "-",
                           (unsigned long)heap);
            }
        }
    }

    {
        /* jpeg_create_compress + jpeg_destroy_compress, once */
        uint32_t t0, t1;
        jpeg_destroy_compress(&cinfo);
        t0 = m7_counter_read();
        cinfo.err = jpeg_std_error(&jerr);
        jpeg_create_compress(&cinfo);
        jpeg_destroy_compress(&cinfo);
        t1 = m7_counter_read();
        if (ON_TARGET)
            printf("# libjpeg jpeg_create_compress + jpeg_destroy_compress"
                   " (not in the rows): %lu instructions\n",
                   (unsigned long)(t1 - t0));
    }
#ifdef __arm__
    printf("# heap (sbrk) high-water %lu of %lu bytes, input %lu bytes of it;"
           " stack %lu bytes\n", (unsigned long)m7_heap_used(),
           (unsigned long)m7_heap_size(),
           (unsigned long)(frame * im.count), (unsigned long)m7_stack_size());
#endif
    free(im.pix);
    return status;
}
