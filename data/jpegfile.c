/*
 * JPEG files in, through libjpeg-turbo's libjpeg API (codec/jpeg.c is the
 * codec; data/ may not use codec/, and reads whole files, not packets).
 *
 * libjpeg reports errors by calling our error_exit, which keeps the
 * message and longjmps back to the setjmp in decode(); everything decode()
 * changes after it lives in the context passed by pointer. A warning is an
 * error here too: libjpeg warns and goes on when a file ends early or its
 * data are corrupt, padding what is missing with grey, and a dataset must
 * not hold such an item unnoticed.
 */
#include "data/data.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int warned;
    struct jpeg_decompress_struct d;
    uint8_t *px;   /* the pixels, owned by the caller */
} jpeg_ctx;

static void on_error(j_common_ptr ci)
{
    jpeg_ctx *ctx = (jpeg_ctx *)(void *)ci->err;
    ci->err->format_message(ci, ctx->msg);
    longjmp(ctx->jb, 1);
}

/* level -1 is a warning; higher levels are traces, dropped. */
static void on_message(j_common_ptr ci, int level)
{
    jpeg_ctx *ctx = (jpeg_ctx *)(void *)ci->err;
    if (level < 0 && !ctx->warned) {
        ci->err->format_message(ci, ctx->msg);
        ctx->warned = 1;
    }
}

static void on_output(j_common_ptr ci)
{
    (void)ci;
}

/* Grey files stay grey; every other colour space but CMYK becomes RGB. */
static int choose_colours(jpeg_ctx *ctx)
{
    struct jpeg_decompress_struct *d = &ctx->d;
    if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK) {
        snprintf(ctx->msg, sizeof ctx->msg, "CMYK JPEGs are not supported");
        return -1;
    }
    if (d->image_width > DATA_MAX_SIDE || d->image_height > DATA_MAX_SIDE) {
        snprintf(ctx->msg, sizeof ctx->msg, "the image is too large: %ux%u pixels, "
                 "more than %d a side", (unsigned)d->image_width,
                 (unsigned)d->image_height, DATA_MAX_SIDE);
        return -1;
    }
    d->out_color_space = d->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    return 0;
}

static int decode(jpeg_ctx *ctx, FILE *f, util_image *out)
{
    struct jpeg_decompress_struct *d = &ctx->d;
    d->err = jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = on_error;
    ctx->pub.emit_message = on_message;
    ctx->pub.output_message = on_output;
    if (setjmp(ctx->jb)) {
        jpeg_destroy_decompress(d);
        return -1;
    }
    jpeg_create_decompress(d);
    jpeg_stdio_src(d, f);
    jpeg_read_header(d, TRUE);
    if (choose_colours(ctx)) {
        jpeg_destroy_decompress(d);
        return -1;
    }
    jpeg_start_decompress(d);
    int w = (int)d->output_width, h = (int)d->output_height, c = d->output_components;
    ctx->px = malloc((size_t)w * h * c);
    if (!ctx->px) {
        snprintf(ctx->msg, sizeof ctx->msg, "out of memory for a %dx%dx%d image", w, h,
                 c);
        jpeg_destroy_decompress(d);
        return -1;
    }
    while (d->output_scanline < d->output_height) {
        JSAMPROW row = ctx->px + (size_t)d->output_scanline * w * c;
        jpeg_read_scanlines(d, &row, 1);
    }
    jpeg_finish_decompress(d);
    jpeg_destroy_decompress(d);
    if (ctx->warned)
        return -1;
    out->w = w;
    out->h = h;
    out->c = c;
    out->px = ctx->px;
    ctx->px = NULL;
    return 0;
}

int data_jpeg_read(const char *path, util_image *out, util_err *err)
{
    out->w = out->h = out->c = 0;
    out->px = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return util_errf(err, "%s: cannot open: %s", path, strerror(errno));
    jpeg_ctx *ctx = calloc(1, sizeof *ctx);
    int rc = 0;
    if (!ctx)
        rc = util_errf(err, "%s: out of memory", path);
    else if (decode(ctx, f, out))
        rc = util_errf(err, "%s: cannot read JPEG: %s%s", path,
                       ctx->warned ? "corrupt or truncated: " : "", ctx->msg);
    if (ctx)
        free(ctx->px);
    free(ctx);
    fclose(f);
    return rc;
}
