/* Datasets of one's own (issue 15, point 9): a folder of PNG and JPEG
 * files per class, CIFAR-10 and CIFAR-100 binaries and IDX files of any
 * size, on small files written here; each good file read back exactly
 * (JPEG within a tolerance), each damaged or wrong one refused by a
 * message that names it; and a scenario without a task run over a folder
 * of 40x30 RGB images by the codecs that have no model. */
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>
#include <zlib.h>

#include <jpeglib.h>

#include "data/data.h"
#include "sim/sim.h"

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    tu_tempdir(fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

/* ---- writing the files ------------------------------------------------------- */

/* fx->dir/rel into buf (512 bytes), with the folders above it made. */
static const char *place(const fixture *fx, const char *rel, char *buf)
{
    util_err err;
    snprintf(buf, 512, "%s/%s", fx->dir, rel);
    char up[512];
    snprintf(up, sizeof up, "%s", buf);
    *strrchr(up, '/') = 0;
    if (util_mkdirs(up, &err))
        fail_msg("%s", err.msg);
    return buf;
}

static void make_dir(const fixture *fx, const char *rel)
{
    char path[512], sub[600];
    snprintf(sub, sizeof sub, "%s/x", rel);
    place(fx, sub, path);
}

/* Sample (x, y, k) = base + 10 x + 20 y + 50 k, wrapping at 256. */
static void make_image(util_image *img, int w, int h, int c, int base)
{
    util_err err;
    assert_int_equal(util_image_alloc(img, w, h, c, &err), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                img->px[((size_t)y * w + x) * c + k] = (uint8_t)(base + 10 * x + 20 * y +
                                                                 50 * k);
}

/* A smooth picture, for JPEG to keep within a few levels. */
static void make_smooth(util_image *img, int w, int h, int c)
{
    util_err err;
    assert_int_equal(util_image_alloc(img, w, h, c, &err), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                img->px[((size_t)y * w + x) * c + k] = (uint8_t)(40 + 3 * x + 2 * y +
                                                                 40 * k);
}

static void put_png(const fixture *fx, const char *rel, const util_image *img)
{
    char path[512];
    util_err err;
    if (data_png_write(place(fx, rel, path), img, &err))
        fail_msg("%s", err.msg);
}

static void put_jpeg(const fixture *fx, const char *rel, const util_image *img)
{
    char path[512];
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(place(fx, rel, path), "wb");
    assert_non_null(f);
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)img->w;
    ci.image_height = (JDIMENSION)img->h;
    ci.input_components = img->c;
    ci.in_color_space = img->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 95, TRUE);
    jpeg_start_compress(&ci, TRUE);
    for (int y = 0; y < img->h; y++) {
        JSAMPROW row = img->px + (size_t)y * img->w * img->c;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    assert_int_equal(fclose(f), 0);
}

static void put_bytes(const fixture *fx, const char *rel, const void *data, size_t len)
{
    char path[512];
    tu_write_file(place(fx, rel, path), data, len);
}

/* Keeps the first keep bytes of the file. */
static void cut(const fixture *fx, const char *rel, long keep)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
    assert_int_equal(truncate(path, keep), 0);
}

static long file_size(const fixture *fx, const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* ---- opening ----------------------------------------------------------------- */

static data_set *open_ok(const data_opts *o)
{
    data_set *ds = NULL;
    util_err err;
    if (data_open_ex(o, &ds, &err))
        fail_msg("%s", err.msg);
    return ds;
}

/* Opening fails, and the message holds a and b (b may be NULL). */
static void open_fails(const data_opts *o, const char *a, const char *b)
{
    data_set *ds = NULL;
    util_err err = {{0}};
    if (data_open_ex(o, &ds, &err) == 0)
        fail_msg("opened, but should have failed with \"%s\"", a);
    assert_null(ds);
    if (!strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg, a, b ? b : "");
}

static data_opts folder(const char *dir, const char *split)
{
    return (data_opts){.name = "image-folder", .split = split, .dir = dir};
}

/* Item i of ds is img, and its label is label. */
static void item_is(const data_set *ds, size_t i, const util_image *img, int label)
{
    util_image v;
    int l;
    data_get(ds, i, &v, &l);
    assert_int_equal(l, label);
    assert_int_equal(v.w, img->w);
    assert_int_equal(v.h, img->h);
    assert_int_equal(v.c, img->c);
    assert_memory_equal(v.px, img->px, util_image_size(img));
}

/* ---- image folders ------------------------------------------------------------- */

/* Classes in strcmp order (capitals first), files in strcmp order within
 * a class ("10" before "2"), hidden files and folders skipped; the class
 * names are the folders'. */
static void test_folder_order(void **state)
{
    fixture *fx = *state;
    util_image img[4];
    const char *files[4] = {"test/Zebra/x.png", "test/cat/10.png", "test/cat/2.png",
                            "test/dog/a.PNG"};
    for (int i = 0; i < 4; i++) {
        make_image(&img[i], 6, 4, 1, 30 * i);
        put_png(fx, files[i], &img[i]);
    }
    put_bytes(fx, "test/cat/.DS_Store", "junk", 4);
    put_bytes(fx, "test/.cache/junk.txt", "junk", 4);
    data_opts o = folder(fx->dir, "test");
    data_set *ds = open_ok(&o);
    assert_int_equal(data_count(ds), 4);
    assert_int_equal(data_classes(ds), 3);
    assert_string_equal(data_class_name(ds, 0), "Zebra");
    assert_string_equal(data_class_name(ds, 1), "cat");
    assert_string_equal(data_class_name(ds, 2), "dog");
    const int labels[4] = {0, 1, 1, 2};
    for (int i = 0; i < 4; i++)
        item_is(ds, (size_t)i, &img[i], labels[i]);
    data_free(ds);
    /* first and count keep the classes and pick items across them */
    o.first = 1;
    o.count = 2;
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    assert_int_equal(data_classes(ds), 3);
    item_is(ds, 0, &img[1], 1);
    item_is(ds, 1, &img[2], 1);
    data_free(ds);
    o.first = 2;
    o.count = 0;
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    item_is(ds, 1, &img[3], 2);
    data_free(ds);
    char split[128];
    snprintf(split, sizeof split, "%s/test", fx->dir);
    o.first = 4;
    open_fails(&o, split, "past the end");
    o.first = 1;
    o.count = 4;
    open_fails(&o, split, "only 3");
    o = folder(fx->dir, "dev");
    open_fails(&o, "unknown split \"dev\"", "\"train\", \"val\" or \"test\"");
    for (int i = 0; i < 4; i++)
        util_image_free(&img[i]);
}

/* JPEG files, colour and grey, any case of extension, within a few levels. */
static void test_folder_jpeg(void **state)
{
    fixture *fx = *state;
    util_image rgb, grey;
    make_smooth(&rgb, 16, 12, 3);
    make_smooth(&grey, 16, 12, 1);
    put_jpeg(fx, "train/a/1.jpg", &rgb);
    put_jpeg(fx, "train/b/2.JPEG", &rgb);
    put_jpeg(fx, "val/a/1.jpeg", &grey);
    data_opts o = folder(fx->dir, "train");
    data_set *ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    for (size_t i = 0; i < 2; i++) {
        util_image v;
        int label, w, h, c;
        data_get(ds, i, &v, &label);
        data_dims(ds, &w, &h, &c);
        assert_int_equal(w * 100 + h * 10 + c, 16 * 100 + 12 * 10 + 3);
        assert_int_equal(label, (int)i);
        for (size_t k = 0; k < util_image_size(&rgb); k++)
            if (abs(v.px[k] - rgb.px[k]) > 8)
                fail_msg("sample %zu: %d, wrote %d", k, v.px[k], rgb.px[k]);
    }
    data_free(ds);
    o = folder(fx->dir, "val");
    ds = open_ok(&o);
    util_image v;
    data_get(ds, 0, &v, NULL);
    assert_int_equal(v.c, 1);
    for (size_t k = 0; k < util_image_size(&grey); k++)
        assert_true(abs(v.px[k] - grey.px[k]) <= 8);
    data_free(ds);
    util_image_free(&rgb);
    util_image_free(&grey);
}

/* resize: the shorter side scaled to cover the target, the middle kept,
 * by the antialiased bilinear filter (data/convert.c). An 8x4 image to
 * 2x2: scale 1/2, the crop's left edge at source x = 2; output (0, 0) is
 * centred at source (3, 1), averaging source columns 1..4 with weights
 * 1/8, 3/8, 3/8, 1/8 (a triangle 2 pixels wide) and rows 0..2 with 3/7,
 * 3/7, 1/7 (the same triangle, cut by the top edge and renormalised):
 * with samples 10 x + 20 y, 25 + 20 * 5/7 = 39.29, stored as 39; output
 * (1, 1): 45 + (5 + 30 + 45) / 1.75 = 90.71, stored as 91. */
static void test_folder_resize(void **state)
{
    fixture *fx = *state;
    util_image a, b;
    make_image(&a, 8, 4, 1, 0);
    make_image(&b, 6, 6, 1, 5);
    put_png(fx, "test/c/a.png", &a);
    put_png(fx, "test/c/b.png", &b);
    data_opts o = folder(fx->dir, "test");
    char path[512];
    snprintf(path, sizeof path, "%s/test/c/b.png: 6x6, but %s/test/c/a.png is 8x4",
             fx->dir, fx->dir);
    open_fails(&o, path, "resize");
    o.resize_w = o.resize_h = 2;
    data_set *ds = open_ok(&o);
    int w, h, c;
    data_dims(ds, &w, &h, &c);
    assert_int_equal(w, 2);
    assert_int_equal(h, 2);
    assert_int_equal(c, 1);
    util_image v;
    data_get(ds, 0, &v, NULL);
    assert_int_equal(v.px[0], 39);
    assert_int_equal(v.px[3], 91);
    data_free(ds);
    /* a non-square target of a square image: the crop takes the middle rows */
    o.first = 1;
    o.resize_w = 6;
    o.resize_h = 2;
    ds = open_ok(&o);
    data_get(ds, 0, &v, NULL);
    assert_int_equal(v.w * 10 + v.h, 62);
    for (int x = 0; x < 6; x++) {
        assert_int_equal(v.px[x], b.px[2 * 6 + x]);
        assert_int_equal(v.px[6 + x], b.px[3 * 6 + x]);
    }
    data_free(ds);
    util_image_free(&a);
    util_image_free(&b);
}

/* Grey and RGB do not mix unless channels converts them: RGB to grey by
 * BT.601 luma, grey to RGB by copying. */
static void test_folder_channels(void **state)
{
    fixture *fx = *state;
    util_image g, rgb;
    util_err err;
    assert_int_equal(util_image_alloc(&g, 2, 2, 1, &err), 0);
    assert_int_equal(util_image_alloc(&rgb, 2, 2, 3, &err), 0);
    util_image_fill(&g, 77);
    for (int i = 0; i < 4; i++)
        memcpy(rgb.px + 3 * i, (uint8_t[]){200, 100, 50}, 3);
    put_png(fx, "test/c/a.png", &g);
    put_png(fx, "test/c/b.png", &rgb);
    data_opts o = folder(fx->dir, "test");
    char path[512];
    snprintf(path, sizeof path, "%s/test/c/b.png: RGB, but", fx->dir);
    open_fails(&o, path, "is grey");
    o.channels = 1;
    data_set *ds = open_ok(&o);
    util_image v;
    data_get(ds, 0, &v, NULL);
    assert_int_equal(v.c, 1);
    assert_int_equal(v.px[0], 77);
    data_get(ds, 1, &v, NULL);
    /* (299 * 200 + 587 * 100 + 114 * 50) / 1000 = 124.2 */
    assert_int_equal(v.px[3], 124);
    data_free(ds);
    o.channels = 3;
    ds = open_ok(&o);
    data_get(ds, 0, &v, NULL);
    assert_int_equal(v.c, 3);
    assert_memory_equal(v.px, ((uint8_t[]){77, 77, 77}), 3);
    data_get(ds, 1, &v, NULL);
    assert_memory_equal(v.px + 9, ((uint8_t[]){200, 100, 50}), 3);
    data_free(ds);
    o.channels = 2;
    open_fails(&o, "channels 2", NULL);
    util_image_free(&g);
    util_image_free(&rgb);
}

/* Each way a folder can be wrong, refused by a message naming the place. */
static void test_folder_errors(void **state)
{
    fixture *fx = *state;
    util_image img, big;
    make_image(&img, 4, 4, 3, 0);
    make_smooth(&big, 64, 48, 3);
    char d[160], what[300];
    data_opts o = folder(NULL, "test");
    open_fails(&o, "image-folder has no standard place", "dir must name");
    snprintf(d, sizeof d, "%s/none", fx->dir);
    o.dir = d;
    open_fails(&o, "none/test: cannot open", NULL);
    /* no classes */
    make_dir(fx, "e1/test");
    snprintf(d, sizeof d, "%s/e1", fx->dir);
    open_fails(&o, "e1/test: no class folders", NULL);
    /* an empty class */
    put_png(fx, "e2/test/a/x.png", &img);
    make_dir(fx, "e2/test/b");
    snprintf(d, sizeof d, "%s/e2", fx->dir);
    open_fails(&o, "e2/test/b: the class folder is empty", NULL);
    /* a file that is not an image, a folder in a class, a file among classes */
    put_png(fx, "e3/test/a/x.png", &img);
    put_bytes(fx, "e3/test/a/notes.txt", "hello", 5);
    snprintf(d, sizeof d, "%s/e3", fx->dir);
    open_fails(&o, "e3/test/a/notes.txt: not an image file", NULL);
    put_png(fx, "e4/test/a/sub/x.png", &img);
    snprintf(d, sizeof d, "%s/e4", fx->dir);
    open_fails(&o, "e4/test/a/sub: a folder inside a class folder", NULL);
    put_png(fx, "e5/test/a/x.png", &img);
    put_bytes(fx, "e5/test/README", "hello", 5);
    snprintf(d, sizeof d, "%s/e5", fx->dir);
    open_fails(&o, "e5/test/README: not a class folder", NULL);
    /* a corrupt PNG, a truncated one, a JPEG named .png */
    put_png(fx, "e6/test/a/x.png", &img);
    static const char bad_png[] = "\x89PNG\r\n\x1a\n garbage after the signature";
    put_bytes(fx, "e6/test/a/y.png", bad_png, sizeof bad_png - 1);
    snprintf(d, sizeof d, "%s/e6", fx->dir);
    open_fails(&o, "e6/test/a/y.png: cannot read PNG", NULL);
    put_png(fx, "e7/test/a/x.png", &big);
    cut(fx, "e7/test/a/x.png", file_size(fx, "e7/test/a/x.png") / 2);
    snprintf(d, sizeof d, "%s/e7", fx->dir);
    open_fails(&o, "e7/test/a/x.png: cannot read PNG", NULL);
    put_jpeg(fx, "e8/test/a/x.png", &img);
    snprintf(d, sizeof d, "%s/e8", fx->dir);
    open_fails(&o, "e8/test/a/x.png: not a PNG file", NULL);
    /* a truncated JPEG (libjpeg would pad it with grey) and one of text */
    put_jpeg(fx, "e9/test/a/x.jpg", &big);
    cut(fx, "e9/test/a/x.jpg", file_size(fx, "e9/test/a/x.jpg") * 6 / 10);
    snprintf(d, sizeof d, "%s/e9", fx->dir);
    snprintf(what, sizeof what, "%s/e9/test/a/x.jpg: cannot read JPEG: corrupt or "
             "truncated", fx->dir);
    open_fails(&o, what, NULL);
    put_bytes(fx, "e10/test/a/x.jpg", "not a jpeg at all", 17);
    snprintf(d, sizeof d, "%s/e10", fx->dir);
    open_fails(&o, "e10/test/a/x.jpg: cannot read JPEG", NULL);
    /* keys that are not the folder's */
    snprintf(d, sizeof d, "%s/e6", fx->dir);
    o.classes = 3;
    open_fails(&o, "images, labels and classes are the idx dataset's", NULL);
    util_image_free(&img);
    util_image_free(&big);
}

/* ---- CIFAR ----------------------------------------------------------------------- */

/* Sample p of plane k of item g. */
static uint8_t cifar_px(size_t g, int k, int p)
{
    return (uint8_t)(g * 7 + (size_t)k * 50 + (size_t)p);
}

/* n records of items from g0 on; cifar-100 (coarse set) with two label
 * bytes; bad >= 0 makes record bad's (fine) label 255. */
static void put_cifar(const fixture *fx, const char *rel, size_t g0, size_t n, int coarse,
                      int bad)
{
    size_t rec = coarse ? 3074 : 3073;
    uint8_t *buf = malloc(n * rec);
    assert_non_null(buf);
    for (size_t r = 0; r < n; r++) {
        uint8_t *p = buf + r * rec;
        size_t g = g0 + r;
        if (coarse)
            *p++ = (uint8_t)(g % 20);
        *p++ = (uint8_t)(bad == (int)r ? 255 : coarse ? g * 13 % 100 : g % 10);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 1024; i++)
                *p++ = cifar_px(g, k, i);
    }
    put_bytes(fx, rel, buf, n * rec);
    free(buf);
}

/* Item i of ds is item g of the files, interleaved. */
static void cifar_item_is(const data_set *ds, size_t i, size_t g, int label)
{
    util_image v;
    int l;
    data_get(ds, i, &v, &l);
    assert_int_equal(l, label);
    assert_int_equal(v.w * 100 + v.h * 10 + v.c, 32 * 100 + 32 * 10 + 3);
    for (int p = 0; p < 1024; p++)
        for (int k = 0; k < 3; k++)
            if (v.px[3 * p + k] != cifar_px(g, k, p))
                fail_msg("item %zu, pixel %d, channel %d", i, p, k);
}

static void test_cifar10(void **state)
{
    fixture *fx = *state;
    for (int f = 0; f < 5; f++) {
        char rel[64];
        snprintf(rel, sizeof rel, "c10/data_batch_%d.bin", f + 1);
        put_cifar(fx, rel, 2 * (size_t)f, 2, 0, -1);
    }
    put_cifar(fx, "c10/test_batch.bin", 100, 3, 0, -1);
    char d[128];
    snprintf(d, sizeof d, "%s/c10", fx->dir);
    data_opts o = {.name = "cifar-10", .split = "train", .dir = d};
    data_set *ds = open_ok(&o);
    assert_int_equal(data_count(ds), 10);
    assert_int_equal(data_classes(ds), 10);
    for (size_t g = 0; g < 10; g++)
        cifar_item_is(ds, g, g, (int)(g % 10));
    assert_string_equal(data_class_name(ds, 3), "class 3");
    data_free(ds);
    /* items across two files */
    o.first = 3;
    o.count = 4;
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 4);
    for (size_t i = 0; i < 4; i++)
        cifar_item_is(ds, i, 3 + i, (int)(3 + i));
    data_free(ds);
    o = (data_opts){.name = "cifar-10", .split = "test", .dir = d, .first = 1};
    const char *meta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n"
                       "truck\n\n";
    put_bytes(fx, "c10/batches.meta.txt", meta, strlen(meta));
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    cifar_item_is(ds, 1, 102, 2);
    assert_string_equal(data_class_name(ds, 9), "truck");
    data_free(ds);
    put_bytes(fx, "c10/batches.meta.txt", meta, 30); /* "airplane" to "d" */
    open_fails(&o, "c10/batches.meta.txt: 5 class names, expected 10", NULL);
    char gone[200];
    snprintf(gone, sizeof gone, "%s/batches.meta.txt", d);
    unlink(gone);
    o.first = 3;
    open_fails(&o, "c10 (cifar-10 test): first item 3 is past the end", NULL);
    /* truncated, empty, a label out of range, a file missing, no dir */
    o.first = 0;
    cut(fx, "c10/test_batch.bin", 3 * 3073 - 5);
    open_fails(&o, "c10/test_batch.bin: the file is truncated",
               "record 2, at byte offset 6146, has 3068 bytes");
    cut(fx, "c10/test_batch.bin", 0);
    open_fails(&o, "c10/test_batch.bin: the file is empty", NULL);
    put_cifar(fx, "c10/test_batch.bin", 100, 3, 0, 1);
    open_fails(&o, "c10/test_batch.bin: record 1 (byte offset 3073): label 255 is "
               "outside 0..9", NULL);
    snprintf(gone, sizeof gone, "%s/data_batch_3.bin", d);
    unlink(gone);
    o.split = "train";
    open_fails(&o, "c10/data_batch_3.bin: cannot open", NULL);
    o.dir = NULL;
    open_fails(&o, "cifar-10 has no standard place", "no Debian package");
}

static void test_cifar100(void **state)
{
    fixture *fx = *state;
    put_cifar(fx, "c100/train.bin", 0, 4, 1, -1);
    char d[128], names[1200] = "";
    snprintf(d, sizeof d, "%s/c100", fx->dir);
    for (int k = 0; k < 100; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "n%d\r\n", k);
    put_bytes(fx, "c100/fine_label_names.txt", names, strlen(names));
    data_opts o = {.name = "cifar-100", .split = "train", .dir = d};
    data_set *ds = open_ok(&o);
    assert_int_equal(data_count(ds), 4);
    assert_int_equal(data_classes(ds), 100);
    for (size_t g = 0; g < 4; g++)
        cifar_item_is(ds, g, g, (int)(g * 13 % 100));
    assert_string_equal(data_class_name(ds, 39), "n39");
    data_free(ds);
    put_cifar(fx, "c100/train.bin", 0, 4, 1, 2);
    open_fails(&o, "c100/train.bin: record 2 (byte offset 6148): label 255 is outside "
               "0..99", NULL);
    /* a coarse label out of range: record 0's first byte */
    put_cifar(fx, "c100/train.bin", 0, 4, 1, -1);
    char path[512];
    snprintf(path, sizeof path, "%s/train.bin", d);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fputc(20, f);
    fclose(f);
    open_fails(&o, "c100/train.bin: record 0 (byte offset 0): coarse label 20", NULL);
    cut(fx, "c100/train.bin", 3073);
    open_fails(&o, "c100/train.bin: the file is truncated", "3074-byte records");
    o.split = "test";
    open_fails(&o, "c100/test.bin: cannot open", NULL);
}

/* ---- IDX ------------------------------------------------------------------------- */

/* An IDX file: the magic, then its dims, then data (cut bytes fewer),
 * gzip'd when gz. */
static void put_idx(const fixture *fx, const char *rel, uint32_t magic,
                    const uint32_t *dims, int ndims, const uint8_t *data, size_t len,
                    int gz, size_t cut_bytes)
{
    size_t n = 0;
    uint8_t *buf = malloc(4 + 16 + len);
    uint32_t words[5] = {magic};
    assert_non_null(buf);
    for (int i = 0; i < ndims; i++)
        words[i + 1] = dims[i];
    for (int i = 0; i <= ndims; i++)
        for (int b = 3; b >= 0; b--)
            buf[n++] = (uint8_t)(words[i] >> (8 * b));
    memcpy(buf + n, data, len);
    n += len - cut_bytes;
    char path[512];
    place(fx, rel, path);
    if (!gz) {
        tu_write_file(path, buf, n);
    } else {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, buf, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    }
    free(buf);
}

static void test_idx_any_size(void **state)
{
    fixture *fx = *state;
    uint8_t px[5 * 3 * 4], rgb[2 * 2 * 3 * 3], lab[5] = {0, 3, 1, 3, 2};
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 3);
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)(i * 5 + 1);
    uint32_t grey_dims[3] = {5, 3, 4}, rgb_dims[4] = {2, 2, 3, 3}, n5 = 5, n2 = 2;
    put_idx(fx, "grey-images.gz", 0x803, grey_dims, 3, px, sizeof px, 1, 0);
    put_idx(fx, "labels", 0x801, &n5, 1, lab, 5, 0, 0);
    put_idx(fx, "rgb-images", 0x804, rgb_dims, 4, rgb, sizeof rgb, 0, 0);
    put_idx(fx, "rgb-labels.gz", 0x801, &n2, 1, lab, 2, 1, 0);
    char images[256], labels[256];
    snprintf(images, sizeof images, "%s/grey-images.gz", fx->dir);
    snprintf(labels, sizeof labels, "%s/labels", fx->dir);
    data_opts o = {.name = "idx", .split = "test", .images = images, .labels = labels};
    data_set *ds = open_ok(&o);
    assert_int_equal(data_count(ds), 5);
    assert_int_equal(data_classes(ds), 4);
    assert_string_equal(data_class_name(ds, 2), "class 2");
    for (size_t i = 0; i < 5; i++) {
        util_image v;
        int l;
        data_get(ds, i, &v, &l);
        assert_int_equal(v.w * 100 + v.h * 10 + v.c, 4 * 100 + 3 * 10 + 1);
        assert_int_equal(l, lab[i]);
        assert_memory_equal(v.px, px + i * 12, 12);
    }
    data_free(ds);
    /* first and count; the classes given; conversion */
    o.first = 1;
    o.count = 2;
    o.classes = 6;
    o.resize_w = o.resize_h = 2;
    o.channels = 3;
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    assert_int_equal(data_classes(ds), 6);
    util_image v;
    int l;
    data_get(ds, 1, &v, &l);
    assert_int_equal(l, 1);
    assert_int_equal(v.w * 100 + v.h * 10 + v.c, 2 * 100 + 2 * 10 + 3);
    assert_int_equal(v.px[0], v.px[1]);
    assert_int_equal(v.px[0], v.px[2]);
    data_free(ds);
    o = (data_opts){.name = "idx", .split = "test", .images = images, .labels = labels,
                    .classes = 3};
    open_fails(&o, "labels: label 1 is 3, outside 0..2", NULL);
    /* RGB in four dimensions, interleaved as stored */
    snprintf(images, sizeof images, "%s/rgb-images", fx->dir);
    snprintf(labels, sizeof labels, "%s/rgb-labels.gz", fx->dir);
    o.classes = 0;
    ds = open_ok(&o);
    assert_int_equal(data_count(ds), 2);
    data_get(ds, 1, &v, &l);
    assert_int_equal(v.w * 100 + v.h * 10 + v.c, 3 * 100 + 2 * 10 + 3);
    assert_int_equal(l, 3);
    assert_memory_equal(v.px, rgb + 18, 18);
    data_free(ds);
    /* 2 images and 5 labels */
    snprintf(labels, sizeof labels, "%s/labels", fx->dir);
    open_fails(&o, "labels: 5 labels, but", "rgb-images has 2 images");
}

static void test_idx_errors(void **state)
{
    fixture *fx = *state;
    uint8_t px[2 * 2 * 2 * 2] = {0}, lab[2] = {0, 1};
    uint32_t dims[4] = {2, 2, 2, 2}, n2 = 2;
    char images[256], labels[256];
    snprintf(images, sizeof images, "%s/images", fx->dir);
    snprintf(labels, sizeof labels, "%s/labels", fx->dir);
    put_idx(fx, "labels", 0x801, &n2, 1, lab, 2, 0, 0);
    data_opts o = {.name = "idx", .split = "test", .images = images, .labels = labels};
    put_idx(fx, "images", 0x902, dims, 2, px, 8, 0, 0);
    open_fails(&o, "images: wrong magic number 0x00000902", "0x00000803 to 0x00000804");
    put_idx(fx, "images", 0x803, dims, 3, px, 8, 1, 3);
    open_fails(&o, "images: file is truncated", NULL);
    put_idx(fx, "images", 0x804, dims, 4, px, 16, 0, 0);
    open_fails(&o, "images: items of 2 channels", NULL);
    put_idx(fx, "images", 0x803, dims, 3, px, 8, 0, 0);
    put_idx(fx, "labels", 0x803, dims, 3, px, 8, 0, 0);
    open_fails(&o, "labels: wrong magic number 0x00000803 (expected 0x00000801", NULL);
    put_idx(fx, "labels", 0x801, &n2, 1, lab, 2, 0, 1);
    open_fails(&o, "labels: file is truncated", NULL);
    o.labels = NULL;
    open_fails(&o, "idx: needs images and labels", NULL);
    o.labels = labels;
    o.dir = fx->dir;
    open_fails(&o, "idx: takes images and labels, not dir", NULL);
    o.dir = NULL;
    o.split = "train";
    open_fails(&o, "unknown split \"train\" for idx (expected \"test\")", NULL);
    o.split = "test";
    snprintf(images, sizeof images, "%s/missing", fx->dir);
    open_fails(&o, "missing: cannot open: No such file", NULL);
    o = (data_opts){.name = "fashion-mnist", .split = "test", .resize_w = 3};
    open_fails(&o, "resize 3x0", NULL);
    o = (data_opts){.name = "fmnist-cluttered", .split = "test", .count = 2, .size = 64,
                    .channels = 1};
    open_fails(&o, "resize and channels are for datasets read from files", NULL);
}

/* ---- scenarios ------------------------------------------------------------------- */

/* A folder of 40x30 RGB images: two PNGs of class "a", a JPEG of "b". */
static void put_small_folder(const fixture *fx, const char *top)
{
    util_image a, b;
    make_smooth(&a, 40, 30, 3);
    make_image(&b, 40, 30, 3, 9);
    char rel[128];
    snprintf(rel, sizeof rel, "%s/test/a/1.png", top);
    put_png(fx, rel, &a);
    snprintf(rel, sizeof rel, "%s/test/a/2.png", top);
    put_png(fx, rel, &b);
    snprintf(rel, sizeof rel, "%s/test/b/3.jpg", top);
    put_jpeg(fx, rel, &a);
    util_image_free(&a);
    util_image_free(&b);
}

/* Writes a scenario: dataset and extra (more top-level keys, or "") into
 * fx->dir/NAME.json, output fx->dir/NAME. */
static const char *put_scenario(const fixture *fx, const char *name, const char *dataset,
                                const char *codecs, const char *extra, char *path)
{
    char text[4096];
    snprintf(text, sizeof text, "{\"dataset\": %s, \"codecs\": %s, \"channel\": "
             "{\"model\": \"link\"}, \"deadlines\": [1000000], %s\"output\": "
             "\"%s/%s\"}", dataset, codecs, extra, fx->dir, name);
    snprintf(path, 512, "%s/%s.json", fx->dir, name);
    tu_write_file(path, text, strlen(text));
    return path;
}

static const char *const baselines =
    "[{\"name\": \"jpeg\", \"quality\": [20, 80]}, {\"name\": \"j2k\"}, "
    "{\"name\": \"webp\"}]";

/* No task, codecs without a model, a dataset of 40x30: every cell's PSNR
 * and SSIM; JPEG's rise with its quality. */
static void test_scenario_no_task(void **state)
{
    fixture *fx = *state;
    put_small_folder(fx, "own");
    char ds[512], path[512];
    snprintf(ds, sizeof ds, "{\"name\": \"image-folder\", \"dir\": \"%s/own\"}", fx->dir);
    put_scenario(fx, "s", ds, baselines, "", path);
    sim_scenario *sc;
    util_err err;
    if (sim_scenario_load(path, &sc, &err))
        fail_msg("%s", err.msg);
    if (sim_check(sc, &err))
        fail_msg("%s", err.msg);
    sim_options opt = {.threads = 1};
    sim_result res;
    if (sim_run(sc, &opt, &res, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(res.ncells, 4);
    for (size_t k = 0; k < res.ncells; k++) {
        const sim_row *r = &res.cells[k].rows[0];
        assert_int_equal(r->images, 3);
        assert_true(isfinite(r->psnr) && r->psnr > 15);
        assert_true(r->ssim > 0.3 && r->ssim <= 1);
        assert_true(isnan(r->accuracy));
    }
    assert_true(res.cells[1].rows[0].psnr > res.cells[0].rows[0].psnr);
    sim_result_free(&res);
    sim_scenario_free(sc);
    snprintf(path, sizeof path, "%s/s/results.csv", fx->dir);
    char *csv = tu_read_file(path, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, "jpeg-baseline-q80"));
    free(csv);
}

static uint64_t first_fingerprint(const char *path, const char *set)
{
    sim_scenario *sc;
    util_err err;
    const char *sets[1] = {set};
    if (sim_scenario_load_set(path, sets, set ? 1 : 0, &sc, &err))
        fail_msg("%s", err.msg);
    sim_plan_cell *cells;
    size_t n;
    if (sim_plan(sc, &cells, &n, &err))
        fail_msg("%s", err.msg);
    uint64_t h = cells[0].fingerprint;
    free(cells);
    sim_scenario_free(sc);
    return h;
}

/* The new keys are part of the cells' fingerprints, and of summary.json's
 * scenario. */
static void test_scenario_fingerprints(void **state)
{
    fixture *fx = *state;
    put_small_folder(fx, "own");
    char ds[512], path[512];
    snprintf(ds, sizeof ds, "{\"name\": \"image-folder\", \"dir\": \"%s/own\"}", fx->dir);
    put_scenario(fx, "s", ds, "[{\"name\": \"jpeg\"}]", "", path);
    uint64_t plain = first_fingerprint(path, NULL);
    assert_true(plain == first_fingerprint(path, NULL));
    uint64_t resized = first_fingerprint(path, "dataset.resize=[32, 24]");
    uint64_t grey = first_fingerprint(path, "dataset.channels=1");
    assert_true(resized != plain && grey != plain && grey != resized);
    assert_true(first_fingerprint(path, "dataset.resize=[24, 32]") != resized);
    sim_scenario *sc;
    util_err err;
    const char *sets[1] = {"dataset.resize=[32, 24]"};
    assert_int_equal(sim_scenario_load_set(path, sets, 1, &sc, &err), 0);
    sim_options opt = {.threads = 1};
    sim_result res;
    if (sim_run(sc, &opt, &res, &err))
        fail_msg("%s", err.msg);
    sim_result_free(&res);
    sim_scenario_free(sc);
    snprintf(path, sizeof path, "%s/s/summary.json", fx->dir);
    char *summary = tu_read_file(path, NULL);
    assert_non_null(summary);
    assert_non_null(strstr(summary, "\"resize\""));
    free(summary);
}

/* The keys are checked where they apply, as every scenario key is. */
static void test_scenario_keys(void **state)
{
    fixture *fx = *state;
    char folder_ds[256];
    snprintf(folder_ds, sizeof folder_ds, "\"name\": \"image-folder\", \"dir\": \"%s\"",
             fx->dir);
    const struct {
        const char *dataset, *says;
    } cases[] = {
        {"{\"name\": \"fmnist-cluttered\", \"count\": 4, \"resize\": [32, 32]}",
         "dataset.resize: only datasets read from files take it"},
        {"{\"name\": \"fmnist-multi\", \"count\": 4, \"channels\": 1}",
         "dataset.channels: only datasets read from files"},
        {"{\"name\": \"fashion-mnist\", \"images\": \"x\"}", "dataset.images: only idx"},
        {"{\"name\": \"cifar-10\", \"dir\": \"/x\", \"classes\": 3}",
         "dataset.classes: only idx"},
        {"{\"name\": \"image-folder\"}", "dataset.dir: missing: image-folder has no "
                                         "standard place"},
        {"{\"name\": \"cifar-100\"}", "no Debian package ships CIFAR"},
        {"{\"name\": \"idx\", \"labels\": \"l\"}", "dataset.images: missing"},
        {"{\"name\": \"idx\", \"images\": \"i\"}", "dataset.labels: missing"},
        {"{\"name\": \"idx\", \"images\": \"i\", \"labels\": \"l\", \"dir\": \"/x\"}",
         "dataset.dir: idx takes images and labels"},
        {"{\"name\": \"idx\", \"images\": \"i\", \"labels\": \"l\", \"classes\": 300}",
         "dataset.classes: expected an integer in [1, 256]"},
        {"{\"name\": \"idx\", \"images\": \"i\", \"labels\": \"l\", \"split\": \"train\"}",
         "dataset.split: expected \"test\", got \"train\""},
        {"{%s, \"channels\": 2}", "dataset.channels: expected 1 (grey) or 3 (RGB)"},
        {"{%s, \"channels\": 1.5}", "dataset.channels: expected an integer"},
        {"{%s, \"resize\": 32}", "dataset.resize: expected [width, height], got a number"},
        {"{%s, \"resize\": [32]}", "dataset.resize: expected [width, height], got a list"},
        {"{%s, \"resize\": [0, 32]}", "dataset.resize[0]: expected an integer in [1, 16384]"},
        {"{%s, \"resize\": [32, 1e300]}", "dataset.resize[1]: expected an integer"},
        {"{%s, \"resize\": [32, 2.5]}", "dataset.resize[1]: expected an integer"},
        {"{%s, \"resize\": [32, \"x\"]}", "dataset.resize[1]: expected an integer in [1, "
                                         "16384], got a string"},
        {"{%s, \"split\": \"dev\"}", "dataset.split: expected \"train\", \"val\" or "
                                     "\"test\""},
        {"{%s, \"rezise\": [1, 1]}", "dataset.rezise: unknown key"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char ds[512], path[512];
        snprintf(ds, sizeof ds, cases[k].dataset, folder_ds);
        put_scenario(fx, "bad", ds, "[{\"name\": \"jpeg\"}]", "", path);
        sim_scenario *sc = NULL;
        util_err err = {{0}};
        if (sim_scenario_load(path, &sc, &err) == 0)
            fail_msg("case %zu loaded: %s", k, ds);
        if (!strstr(err.msg, cases[k].says) || !strstr(err.msg, path))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", k, err.msg, cases[k].says);
    }
}

/* check finds what run would refuse: models of another input size than
 * the dataset's, and a damaged file in the middle of a folder. */
static void test_check_refuses(void **state)
{
    fixture *fx = *state;
    put_small_folder(fx, "own");
    char ds[512], path[512];
    snprintf(ds, sizeof ds, "{\"name\": \"image-folder\", \"dir\": \"%s/own\"}", fx->dir);
    const struct {
        const char *codecs, *extra, *says;
    } cases[] = {
        {"[{\"name\": \"jpeg\"}]",
         "\"task\": {\"classifier\": \"" SOURCE_DIR "/models/fmnist-classifier.safetensors"
         "\"}, ", "takes 28x28x1 images and 10 classes; the dataset has 40x30x3 and 2"},
        {"[{\"name\": \"limitnet\", \"weights\": \"" SOURCE_DIR
         "/models/limitnet-fmnist.safetensors\"}]", "",
         "item 0: the model takes 28x28x1 images, got 40x30x3"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        put_scenario(fx, "s", ds, cases[k].codecs, cases[k].extra, path);
        sim_scenario *sc;
        util_err err = {{0}};
        if (sim_scenario_load(path, &sc, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(sim_check(sc, &err), -1);
        if (!strstr(err.msg, cases[k].says))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", k, err.msg, cases[k].says);
        sim_scenario_free(sc);
    }
    /* the middle item of three, cut short: check reads every file */
    char mid[512];
    snprintf(mid, sizeof mid, "%s/own/test/a/2.png", fx->dir);
    cut(fx, "own/test/a/2.png", file_size(fx, "own/test/a/2.png") - 20);
    put_scenario(fx, "s", ds, baselines, "", path);
    sim_scenario *sc;
    util_err err = {{0}};
    assert_int_equal(sim_scenario_load(path, &sc, &err), 0);
    assert_int_equal(sim_check(sc, &err), -1);
    if (!strstr(err.msg, mid))
        fail_msg("\"%s\" does not name %s", err.msg, mid);
    sim_scenario_free(sc);
    /* a truncated CIFAR file */
    put_cifar(fx, "c10/test_batch.bin", 0, 2, 0, -1);
    cut(fx, "c10/test_batch.bin", 3073 + 100);
    snprintf(ds, sizeof ds, "{\"name\": \"cifar-10\", \"dir\": \"%s/c10\", \"count\": 1}",
             fx->dir);
    put_scenario(fx, "s", ds, baselines, "", path);
    assert_int_equal(sim_scenario_load(path, &sc, &err), 0);
    assert_int_equal(sim_check(sc, &err), -1);
    assert_non_null(strstr(err.msg, "c10/test_batch.bin: the file is truncated"));
    sim_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_folder_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_jpeg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cifar10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cifar100, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idx_any_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idx_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scenario_no_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scenario_fingerprints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scenario_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
