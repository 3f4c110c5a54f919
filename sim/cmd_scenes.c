/*
 * `limitnet scenes [--kind cluttered|multi] [--split test] [--count 32]
 *  [--first 0] [--size 64|96] [--seed 1] [--cols 8] [--scale 2] --out DIR`
 *
 * A contact sheet of composed scenes, to look at what the models are
 * trained and scored on: each scene scaled up, its object boxes (green)
 * and mask outlines (yellow) drawn over it, and the class named below.
 * Writes DIR/scenes-KIND-SPLIT.png and prints its path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "sim/cli.h"

#define LABEL_H 10 /* a line of 7-pixel text and its margins */

typedef struct sheet_opts {
    const char *kind, *split, *out, *raw;
    long count, first, size, seed, cols, scale;
} sheet_opts;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet scenes [--kind K] --out DIR [--split S] [--count N]\n"
        "                       [--first N] [--size PX] [--seed N] [--cols N] [--scale N]\n"
        "                       [--raw FILE]\n"
        "\n"
        "A contact sheet of composed scenes, to look at what the models are\n"
        "trained and scored on: each scene scaled up, its object boxes (green)\n"
        "and mask outlines (yellow) over it, its classes below. Writes\n"
        "DIR/scenes-KIND-SPLIT.png and prints its path.\n"
        "\n"
        "  --kind K          cluttered (fmnist-cluttered, the default) or multi\n"
        "                    (fmnist-multi: 1-4 items, for detection)\n"
        "  --out DIR         where the sheet goes (made if missing)\n"
        "  --split S         train, val or test (default test)\n"
        "  --count N         scenes, 1..1024 (default 32)\n"
        "  --first N         the first scene's index in the split (default 0)\n"
        "  --size PX         scene side, %d..%d pixels (default %d for cluttered,\n"
        "                    %d for multi)\n"
        "  --seed N          the layout seed, as a scenario's dataset.seed (default %d)\n"
        "  --cols N          scenes per row, 1..64 (default 8)\n"
        "  --scale N         each pixel drawn N x N, 1..8 (default 2)\n"
        "  --raw FILE        also the scenes' pixels, height x width x 3 bytes each,\n"
        "                    one after another (what `make device-bench` encodes)\n"
        "  -h, --help        this help\n",
        DATA_SCENE_MIN_SIZE, DATA_SCENE_MAX_SIZE, DATA_SCENE_DEFAULT_SIZE,
        DATA_MULTI_DEFAULT_SIZE, DATA_SCENE_DEFAULT_SEED);
}

static int num_arg(const char *flag, const char *v, long lo, long hi, long *out)
{
    if (sim_arg_long(v, lo, hi, out) == 0)
        return 0;
    fprintf(stderr, "limitnet scenes: %s wants an integer in %ld..%ld, got %s\n",
            flag, lo, hi, v);
    return -1;
}

static int parse(int argc, char **argv, sheet_opts *o)
{
    *o = (sheet_opts){"cluttered", "test", NULL, NULL, 32, 0, 0, DATA_SCENE_DEFAULT_SEED, 8, 2};
    /* every option takes a value: the first six are numbers */
    static const char *const names[] = {"--count", "--first", "--size", "--seed",
                                        "--cols", "--scale", "--kind", "--split",
                                        "--out", "--raw"};
    long *num[] = {&o->count, &o->first, &o->size, &o->seed, &o->cols, &o->scale};
    const long lo[] = {1, 0, DATA_SCENE_MIN_SIZE, 0, 1, 1};
    const long hi[] = {1024, DATA_SCENE_MAX_COUNT, DATA_SCENE_MAX_SIZE, 4294967295L, 64, 8};
    const char **str[] = {&o->kind, &o->split, &o->out, &o->raw};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m = 0, k = 0;
        for (; k < 10; k++)
            if ((m = sim_arg_value(argc, argv, &i, NULL, names[k], &v)) != 0)
                break;
        if (m == 0) {
            sim_arg_unknown("scenes", argv[i]);
            return -1;
        }
        if (m < 0) {
            fprintf(stderr, "limitnet scenes: %s wants a value\n", names[k]);
            return -1;
        }
        if (k >= 6)
            *str[k - 6] = v;
        else if (num_arg(names[k], v, lo[k], hi[k], num[k]))
            return -1;
    }
    if (!o->out) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* One tile: the scene at (x, y), scaled, with its annotations and labels. */
static int tile(util_image *sheet, const data_set *ds, size_t i, int x, int y,
                int scale, util_err *err)
{
    static const uint8_t green[3] = {0, 255, 0}, yellow[3] = {255, 230, 0},
                         white[3] = {255, 255, 255};
    util_image v;
    int label;
    data_get(ds, i, &v, &label);
    if (util_image_blit(sheet, x, y, &v, scale, err))
        return -1;
    data_annot a;
    if (data_annotation(ds, i, &a) == 0) {
        for (int k = 0; k < a.n; k++) {
            util_draw_outline(sheet, a.mask, v.w, v.h, x, y, scale, (uint8_t)(k + 1),
                              yellow);
            const data_box *b = &a.box[k];
            util_draw_rect(sheet, x + b->x0 * scale, y + b->y0 * scale,
                           x + b->x1 * scale - 1, y + b->y1 * scale - 1, green);
        }
    }
    /* The classes, as many as fit the tile's width. */
    char text[128] = "";
    size_t off = 0;
    int n = a.n > 0 ? a.n : 1;
    for (int k = 0; k < n; k++)
        util_appendf(text, sizeof text, &off, "%s%s", k ? ", " : "",
                     data_class_name(ds, a.n > 0 ? a.label[k] : label));
    /* Cut to the tile's width, so that a long list never runs into the
     * next tile. */
    for (size_t len = strlen(text); len > 0 && util_text_width(text, 1) > v.w * scale - 2;)
        text[--len] = '\0';
    util_draw_text(sheet, x + 1, y + v.h * scale + 2, text, white, 1);
    return 0;
}

/* Every scene's pixels, one after another; through a temporary name, so
 * that a failure leaves no half file. */
static int write_raw(const char *path, const data_set *ds, util_err *err)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return util_errf(err, "%s: %s", tmp, strerror(errno));
    for (size_t i = 0; i < data_count(ds); i++) {
        util_image v;
        int label;
        data_get(ds, i, &v, &label);
        fwrite(v.px, 1, util_image_size(&v), f);
    }
    int bad = ferror(f);
    if (fclose(f) || bad || rename(tmp, path)) {
        remove(tmp);
        return util_errf(err, "%s: write error", path);
    }
    return 0;
}

static int write_sheet(const sheet_opts *o, const data_set *ds, char *path,
                       size_t len, util_err *err)
{
    int w, h, c;
    data_dims(ds, &w, &h, &c);
    int n = (int)data_count(ds), cols = n < o->cols ? n : (int)o->cols;
    int rows = (n + cols - 1) / cols, pad = 4;
    int tw = w * (int)o->scale + pad, th = h * (int)o->scale + LABEL_H + pad;
    util_image sheet;
    if (util_image_alloc(&sheet, cols * tw + pad, rows * th + pad, 3, err))
        return -1;
    util_image_fill(&sheet, 24);
    int rc = 0;
    for (int i = 0; !rc && i < n; i++)
        rc = tile(&sheet, ds, (size_t)i, pad + (i % cols) * tw, pad + (i / cols) * th,
                  (int)o->scale, err);
    snprintf(path, len, "%s/scenes-%s-%s.png", o->out, o->kind, o->split);
    if (!rc)
        rc = data_png_write(path, &sheet, err);
    util_image_free(&sheet);
    return rc;
}

int sim_cmd_scenes(int argc, char **argv)
{
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    sheet_opts o;
    if (parse(argc, argv, &o))
        return 2;
    char name[64];
    snprintf(name, sizeof name, "fmnist-%s", o.kind);
    if (!data_is_scene(name)) {
        fprintf(stderr, "limitnet scenes: --kind: unknown kind \"%s\" (expected "
                "cluttered or multi)\n", o.kind);
        return 2;
    }
    if (o.size == 0)
        o.size = data_scene_default_size(name);
    data_opts d = {.name = name, .split = o.split, .first = (size_t)o.first,
                   .count = (size_t)o.count, .size = (int)o.size,
                   .seed = (uint64_t)o.seed};
    util_err err;
    data_set *ds;
    if (data_open_ex(&d, &ds, &err)) {
        fprintf(stderr, "limitnet scenes: %s\n", err.msg);
        return 2;
    }
    char path[1200];
    int rc = util_mkdirs(o.out, &err) || write_sheet(&o, ds, path, sizeof path, &err) ||
             (o.raw && write_raw(o.raw, ds, &err));
    data_free(ds);
    if (rc) {
        fprintf(stderr, "limitnet scenes: %s\n", err.msg);
        return 1;
    }
    printf("%s\n", path);
    return 0;
}
