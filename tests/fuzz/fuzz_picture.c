/*
 * The picture readers behind the image-folder dataset: data_png_read
 * (libpng) and data_jpeg_read (libjpeg-turbo), then, for what they read,
 * data_convert to the other channel count at a small size, so that the
 * resize meets every shape a file can have. Input: the file's bytes, read
 * as a PNG and as a JPEG.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "data/data.h"

typedef int (*reader)(const char *path, util_image *out, util_err *err);

static void read_as(const char *path, reader read, const char *what)
{
    util_image img, out;
    util_err err = {{0}};
    if (read(path, &img, &err) != 0) {
        if (!err.msg[0] || img.px)
            FUZZ_FAIL("%s: failed without saying why, or left pixels", what);
        return;
    }
    if (img.w < 1 || img.h < 1 || img.w > DATA_MAX_SIDE || img.h > DATA_MAX_SIDE ||
        (img.c != 1 && img.c != 3))
        FUZZ_FAIL("%s: read a %dx%dx%d image", what, img.w, img.h, img.c);
    if (data_convert(&img, 4 - img.c, 5, 3, &out, &err) != 0)
        FUZZ_FAIL("%s: data_convert of %dx%dx%d: %s", what, img.w, img.h, img.c, err.msg);
    if (out.w != 5 || out.h != 3 || out.c != 4 - img.c)
        FUZZ_FAIL("%s: converted to %dx%dx%d", what, out.w, out.h, out.c);
    util_image_free(&out);
    util_image_free(&img);
}

FUZZ_TARGET(picture)
{
    char path[256];
    fuzz_file("picture", data, size, path);
    read_as(path, data_png_read, "data_png_read");
    read_as(path, data_jpeg_read, "data_jpeg_read");
    unlink(path);
    return 0;
}
