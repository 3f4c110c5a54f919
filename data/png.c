/*
 * PNG files through libpng: contact sheets out, and pictures in.
 *
 * libpng reports errors by calling our error function, which keeps the
 * message and longjmps back to the setjmp in encode() or decode(); those two
 * touch nothing but libpng's structures and a context passed by pointer, so
 * no local variable is live across the jump. libpng's warnings are dropped:
 * library code does not print, and a warning does not change the result.
 */
#include "data/data.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PNG_MSG_LEN 256

/* What the libpng callbacks share with the code that set them up. */
typedef struct png_ctx {
    FILE *f;
    char msg[PNG_MSG_LEN];
    uint8_t *px;        /* decode: the pixels, owned by the caller */
    png_bytep *rows;    /* decode: row pointers into px */
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* ---- writing --------------------------------------------------------------- */

/* Our own write callback, so that a failed write says why (errno) rather
 * than libpng's bare "Write Error". */
static void write_fn(png_structp png, png_bytep data, size_t len)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fwrite(data, 1, len, ctx->f) != len)
        png_error(png, strerror(errno));
}

static void flush_fn(png_structp png)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fflush(ctx->f) != 0)
        png_error(png, strerror(errno));
}

static int encode(png_ctx *ctx, const util_image *img)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx,
                                              on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, ctx, write_fn, flush_fn);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
                 img->c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->h; y++)
        png_write_row(png, img->px + (size_t)y * img->w * img->c);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* Creates a fresh temporary file beside path (so that rename() stays within
 * one file system) and returns its descriptor, or -1 with errno set. The
 * name carries the process id and a counter, and O_EXCL makes sure no other
 * writer, thread or process, shares it; unlike mkstemp's 0600, 0666 lets the
 * umask set the mode, as for any other file we write. */
static int create_temp(const char *path, char *tmp, size_t len)
{
    static atomic_uint counter;
    for (int tries = 0; tries < 100; tries++) {
        unsigned n = atomic_fetch_add(&counter, 1u);
        snprintf(tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(), n);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

int data_png_write(const char *path, const util_image *img, util_err *err)
{
    if (!img || !img->px || img->w <= 0 || img->h <= 0 ||
        (img->c != 1 && img->c != 3))
        return util_errf(err, "%s: cannot write a PNG of a %dx%dx%d image "
                         "(grey or RGB expected)", path, img ? img->w : 0,
                         img ? img->h : 0, img ? img->c : 0);
    /* rename() would replace whatever path names: refuse to turn a device
     * such as /dev/null, or a FIFO, into a regular file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return util_errf(err, "%s: exists and is not a regular file", path);
    size_t len = strlen(path) + 48;
    char *tmp = malloc(len);
    if (!tmp)
        return util_errf(err, "%s: out of memory", path);
    int fd = create_temp(path, tmp, len);
    if (fd < 0) {
        int e = errno;
        util_errf(err, "%s: cannot create %s: %s", path, tmp, strerror(e));
        free(tmp);
        return -1;
    }
    png_ctx ctx = {.f = fdopen(fd, "wb")};
    int rc = 0;
    if (!ctx.f) {
        rc = util_errf(err, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
    } else {
        if (encode(&ctx, img))
            rc = util_errf(err, "%s: cannot write PNG: %s", path, ctx.msg);
        /* Synced before the rename, so that after a crash the name holds
         * either the old file or the whole new one. */
        if (!rc && (fflush(ctx.f) != 0 || fsync(fileno(ctx.f)) != 0))
            rc = util_errf(err, "%s: cannot write: %s", path, strerror(errno));
        if (fclose(ctx.f) != 0 && !rc)
            rc = util_errf(err, "%s: cannot write: %s", path, strerror(errno));
    }
    if (!rc && rename(tmp, path) != 0)
        rc = util_errf(err, "%s: cannot rename %s to it: %s", path, tmp,
                       strerror(errno));
    if (rc)
        remove(tmp);
    free(tmp);
    return rc;
}

/* ---- reading --------------------------------------------------------------- */

/* Our own read callback, so that a file that ends early is reported as
 * truncated rather than as libpng's bare "Read Error". */
static void read_fn(png_structp png, png_bytep data, size_t len)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fread(data, 1, len, ctx->f) == len)
        return;
    if (ferror(ctx->f))
        png_error(png, strerror(errno));
    png_error(png, "the file is truncated");
}

/* Decodes after the 8-byte signature, which the caller has checked, into
 * ctx->px (allocated here, freed by the caller on failure too). */
static int decode(png_ctx *ctx, util_image *out)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx,
                                             on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, ctx, read_fn);
    png_set_sig_bytes(png, 8);
    /* libpng's own size limit (a million pixels a side) fails with "Invalid
     * IHDR data"; ours below says what was too large. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    if (w > DATA_PNG_MAX_SIDE || h > DATA_PNG_MAX_SIDE) {
        snprintf(ctx->msg, sizeof ctx->msg, "the image is too large: %lux%lu "
                 "pixels, more than %d a side", (unsigned long)w,
                 (unsigned long)h, DATA_PNG_MAX_SIDE);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    /* Everything to 8-bit grey or RGB: palettes and low bit depths
     * expanded, 16 bits rounded to 8, alpha dropped (not composited: the
     * colour values are kept as they are), tRNS ignored. */
    png_set_palette_to_rgb(png);
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_scale_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || (c != 1 && c != 3) ||
        png_get_rowbytes(png, info) != (size_t)w * c) {
        snprintf(ctx->msg, sizeof ctx->msg, "unsupported PNG layout "
                 "(%d channels of %d bits after conversion)", c,
                 png_get_bit_depth(png, info));
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    ctx->px = malloc((size_t)w * h * c);
    ctx->rows = malloc(h * sizeof *ctx->rows);
    if (!ctx->px || !ctx->rows) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for a %lux%lux%d "
                 "image", (unsigned long)w, (unsigned long)h, c);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++)
        ctx->rows[y] = ctx->px + (size_t)y * w * c;
    png_read_image(png, ctx->rows);
    /* Reads up to IEND, so that a file cut after the pixel data is still
     * reported as truncated. */
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    out->w = (int)w;
    out->h = (int)h;
    out->c = c;
    out->px = ctx->px;
    ctx->px = NULL;
    return 0;
}

int data_png_read(const char *path, util_image *out, util_err *err)
{
    out->w = out->h = out->c = 0;
    out->px = NULL;
    png_ctx ctx = {.f = fopen(path, "rb")};
    if (!ctx.f)
        return util_errf(err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t sig[8];
    size_t n = fread(sig, 1, sizeof sig, ctx.f);
    int rc = 0;
    if (n != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0)
        rc = util_errf(err, "%s: not a PNG file (no PNG signature)", path);
    else if (decode(&ctx, out))
        rc = util_errf(err, "%s: cannot read PNG: %s", path, ctx.msg);
    free(ctx.px);
    free(ctx.rows);
    fclose(ctx.f);
    return rc;
}
