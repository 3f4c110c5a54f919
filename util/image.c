/* 8-bit images: the currency between datasets, codecs and tasks. */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

int util_image_alloc(util_image *img, int w, int h, int c, util_err *err)
{
    img->w = img->h = img->c = 0;
    img->px = NULL;
    if (w <= 0 || h <= 0 || c <= 0 || w > 65535 || h > 65535 || c > 4)
        return util_errf(err, "image size %dx%dx%d is out of range", w, h, c);
    img->px = calloc((size_t)w * h * c, 1);
    if (!img->px)
        return util_errf(err, "out of memory for a %dx%dx%d image", w, h, c);
    img->w = w;
    img->h = h;
    img->c = c;
    return 0;
}

void util_image_free(util_image *img)
{
    if (!img)
        return;
    free(img->px);
    img->px = NULL;
    img->w = img->h = img->c = 0;
}

void util_image_fill(util_image *img, uint8_t v)
{
    memset(img->px, v, util_image_size(img));
}

size_t util_image_size(const util_image *img)
{
    return (size_t)img->w * img->h * img->c;
}
