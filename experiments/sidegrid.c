/*
 * experiments/sidegrid.c: what the side grid's size buys on the cluttered
 * scenes (issue 10, point 5), measured with the committed model.
 *
 *   sidegrid MODEL CLASSIFIER [--count N] [--calib N]
 *
 * The saliency head gives one value per latent position (16 x 16 for the
 * 64 x 64 scenes); the side grid sends its mean over G x G cells. This
 * program rebuilds the grid at G = 2, 4, 8 and 16 from the same maps, and
 * for each one and for channel order (limitnet-nosal) measures, on N test
 * scenes:
 *   - the side grid's bytes, with a Huffman code for the 32 cell levels
 *     built from `calib` training scenes at that G (as calibration does);
 *   - at payload budgets of 32..512 bytes, the values that fit after the
 *     grid (the model's own per-channel Huffman codes, packet headers left
 *     out: they are the same for every G), the share of them on the item
 *     (latent positions whose 4 x 4 pixels are at least half item), and
 *     the scene classifier's top-1 on the decoder's reconstruction.
 * The decoder was trained with G = 8 orders (phase 2 and 3), so other G
 * are measured against a decoder that never saw their hole patterns: the
 * figures bound what retraining at that G could give from below.
 *
 * Prints a Markdown table on stdout (make experiment-sidegrid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "codec/limitnet.h"
#include "data/data.h"
#include "tasks/task.h"

#define BATCH 20
#define NGRIDS 4
#define NBUDGETS 5
#define NVARIANTS (NGRIDS + 1) /* nosal, then each grid */

static const int grids[NGRIDS] = {2, 4, 8, 16};
static const int budgets[NBUDGETS] = {32, 64, 128, 256, 512};

typedef struct lab {
    codec_ln *m;
    codec_ln_geom g;
    task_classifier *cls;
    nn_ws *wenc, *wsal, *wdec;
    nn_tensor x, zt;
    float *z, *sal;           /* [BATCH][n], [BATCH][h*w] */
    uint8_t *q;               /* [BATCH][n] */
    uint8_t side_len[NGRIDS][CODEC_LN_SIDE_MAX + 1];
    int *order;               /* [n] */
} lab;

typedef struct tally {
    double side_bits[NVARIANTS];
    double values[NVARIANTS][NBUDGETS], on_item[NVARIANTS][NBUDGETS];
    long correct[NVARIANTS][NBUDGETS];
    long scenes;
} tally;

static void die(const char *what, const util_err *err)
{
    fprintf(stderr, "sidegrid: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static codec_ln_geom geom_at(const lab *L, int v)
{
    codec_ln_geom g = L->g;
    g.grid = v == 0 ? 1 : grids[v - 1];
    return g;
}

/* Encoder and saliency head over scenes [first, first + n) of ds. */
static void analyse(lab *L, const data_set *ds, size_t first, int n)
{
    const codec_ln_geom *g = &L->g;
    util_err err = {{0}};
    int plane = g->in_w * g->in_h, hw = g->h * g->w;
    if (nn_tensor_resize(&L->x, n, g->in_c, g->in_h, g->in_w, &err))
        die("input", &err);
    for (int b = 0; b < n; b++) {
        util_image im;
        int label;
        data_get(ds, first + (size_t)b, &im, &label);
        for (int c = 0; c < g->in_c; c++)
            for (int i = 0; i < plane; i++)
                L->x.data[((size_t)b * g->in_c + c) * plane + i] =
                    im.px[(size_t)i * g->in_c + c] / 255.0f;
    }
    nn_model *enc = codec_ln_encoder(L->m), *sal = codec_ln_saliency(L->m);
    if (nn_infer(enc, L->wenc, &L->x, &err))
        die("encoder", &err);
    const nn_tensor *z = nn_ws_out(L->wenc, nn_model_nodes(enc) - 1);
    memcpy(L->z, z->data, (size_t)n * g->n * sizeof *L->z);
    if (nn_infer(sal, L->wsal, z, &err))
        die("saliency", &err);
    memcpy(L->sal, nn_ws_out(L->wsal, nn_model_nodes(sal) - 1)->data,
           (size_t)n * hw * sizeof *L->sal);
    for (int b = 0; b < n; b++)
        for (int i = 0; i < g->n; i++)
            L->q[(size_t)b * g->n + i] =
                (uint8_t)codec_ln_quant(L->m, i / hw, L->z[(size_t)b * g->n + i]);
}

/* Huffman codes for the cell levels at each G, from training scenes. */
static void calibrate(lab *L, const data_set *train)
{
    uint64_t counts[NGRIDS][CODEC_LN_SIDE_MAX + 1] = {{0}};
    size_t n = data_count(train);
    for (size_t first = 0; first < n; first += BATCH) {
        int nb = (int)(n - first < BATCH ? n - first : BATCH);
        analyse(L, train, first, nb);
        for (int b = 0; b < nb; b++)
            for (int k = 0; k < NGRIDS; k++) {
                codec_ln_geom g = geom_at(L, k + 1);
                uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
                codec_ln_side(&g, L->sal + (size_t)b * L->g.h * L->g.w, cells);
                for (int c = 0; c < g.grid * g.grid; c++)
                    counts[k][cells[c]]++;
            }
    }
    for (int k = 0; k < NGRIDS; k++) {
        util_err err = {{0}};
        /* Every level gets a count, so a level unseen in calibration still
         * has a code, as the codec's tables guarantee. */
        for (int s = 0; s <= CODEC_LN_SIDE_MAX; s++)
            counts[k][s]++;
        if (codec_ln_huff_lengths(counts[k], CODEC_LN_SIDE_MAX + 1, CODEC_LN_MAX_CODE,
                                  L->side_len[k], &err))
            die("side code", &err);
    }
}

/* 1 where latent position p of scene i is at least half item. */
static void item_positions(const lab *L, const data_set *ds, size_t i, uint8_t *fg)
{
    data_annot a;
    int sy = L->g.in_h / L->g.h, sx = L->g.in_w / L->g.w;
    memset(fg, 0, (size_t)L->g.h * L->g.w);
    if (data_annotation(ds, i, &a) || !a.mask)
        return;
    for (int y = 0; y < L->g.h; y++)
        for (int x = 0; x < L->g.w; x++) {
            int on = 0;
            for (int dy = 0; dy < sy; dy++)
                for (int dx = 0; dx < sx; dx++)
                    on += a.mask[(y * sy + dy) * L->g.in_w + x * sx + dx] != 0;
            fg[y * L->g.w + x] = 2 * on >= sy * sx;
        }
}

/* For variant v of scene b: the side bits, then for each budget the
 * values that fit, their share on the item, and the latent with only
 * those values (into zhat[k], each n floats). */
static double cut(lab *L, int v, int b, const uint8_t *fg, tally *t, float *zhat)
{
    const codec_ln_geom *g = &L->g;
    codec_ln_geom gv = geom_at(L, v);
    uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    const uint8_t *q = L->q + (size_t)b * g->n;
    const uint8_t *len = codec_ln_codelen(L->m);
    util_err err = {{0}};
    double side = 0;
    if (v > 0) {
        codec_ln_side(&gv, L->sal + (size_t)b * g->h * g->w, cells);
        for (int c = 0; c < gv.grid * gv.grid; c++)
            side += L->side_len[v - 1][cells[c]];
    }
    if (codec_ln_order(&gv, v > 0 ? cells : NULL, L->order, &err))
        die("order", &err);
    int hw = g->h * g->w;
    for (int k = 0; k < NBUDGETS; k++) {
        float *zk = zhat + (size_t)k * g->n;
        double bits = side;
        int r = 0, on = 0;
        memset(zk, 0, (size_t)g->n * sizeof *zk);
        for (; r < g->n; r++) {
            int at = L->order[r], j = at / hw;
            bits += len[j * g->levels + q[at]];
            if (bits > 8.0 * budgets[k])
                break;
            zk[at] = codec_ln_dequant(L->m, j, q[at]);
            on += fg[at % hw];
        }
        t->values[v][k] += r;
        t->on_item[v][k] += r ? (double)on / r : 0;
    }
    return side;
}

/* Decodes the nb x NBUDGETS latents of zhat (scene-major) in one call,
 * classifies them, and adds those labelled right to right[budget]. */
static void decode_count(lab *L, const float *zhat, int nb, const int *labels,
                         long *right)
{
    const codec_ln_geom *g = &L->g;
    util_err err = {{0}};
    int nz = nb * NBUDGETS, plane = g->in_w * g->in_h;
    if (nn_tensor_resize(&L->zt, nz, g->c, g->h, g->w, &err))
        die("latent", &err);
    memcpy(L->zt.data, zhat, (size_t)nz * g->n * sizeof *zhat);
    const nn_model *dec = codec_ln_cdecoder(L->m);
    if (nn_infer(dec, L->wdec, &L->zt, &err))
        die("decoder", &err);
    const float *y = nn_ws_out(L->wdec, nn_model_nodes(dec) - 1)->data;
    util_image *im = calloc((size_t)nz, sizeof *im);
    int *got = malloc((size_t)nz * sizeof *got);
    if (!im || !got)
        die("out of memory", NULL);
    for (int b = 0; b < nz; b++) {
        if (util_image_alloc(&im[b], g->in_w, g->in_h, g->in_c, &err))
            die("image", &err);
        /* The codec's rendering: clamp, then round. */
        for (int c = 0; c < g->in_c; c++)
            for (int i = 0; i < plane; i++) {
                float v = y[((size_t)b * g->in_c + c) * plane + i] * 255.0f;
                im[b].px[(size_t)i * g->in_c + c] =
                    (uint8_t)(!(v > 0) ? 0 : v >= 255.0f ? 255 : lrintf(v));
            }
    }
    if (task_classifier_predict(L->cls, im, (size_t)nz, got, &err))
        die("classifier", &err);
    for (int b = 0; b < nz; b++) {
        right[b % NBUDGETS] += got[b] == labels[b / NBUDGETS];
        util_image_free(&im[b]);
    }
    free(im);
    free(got);
}

static void measure(lab *L, const data_set *test, tally *t)
{
    const codec_ln_geom *g = &L->g;
    size_t n = data_count(test);
    int hw = g->h * g->w, labels[BATCH];
    float *zhat = malloc((size_t)BATCH * NBUDGETS * g->n * sizeof *zhat);
    uint8_t *fg = malloc((size_t)BATCH * hw);
    if (!zhat || !fg)
        die("out of memory", NULL);
    for (size_t first = 0; first < n; first += BATCH) {
        int nb = (int)(n - first < BATCH ? n - first : BATCH);
        analyse(L, test, first, nb);
        for (int b = 0; b < nb; b++) {
            util_image im;
            data_get(test, first + (size_t)b, &im, &labels[b]);
            item_positions(L, test, first + (size_t)b, fg + (size_t)b * hw);
        }
        for (int v = 0; v < NVARIANTS; v++) {
            for (int b = 0; b < nb; b++)
                t->side_bits[v] += cut(L, v, b, fg + (size_t)b * hw, t,
                                       zhat + (size_t)b * NBUDGETS * g->n);
            decode_count(L, zhat, nb, labels, t->correct[v]);
        }
        t->scenes += nb;
        if ((t->scenes / BATCH) % 10 == 0 || first + (size_t)nb == n)
            fprintf(stderr, "sidegrid: %ld of %zu test scenes\n", t->scenes, n);
    }
    free(zhat);
    free(fg);
}

static void report(const tally *t, const codec_ln_geom *g, size_t ncal)
{
    double n = (double)t->scenes;
    printf("| order | side grid | side bytes |");
    for (int k = 0; k < NBUDGETS; k++)
        printf(" %d B: values / on item / top-1 |", budgets[k]);
    printf("\n|---|---|---:|");
    for (int k = 0; k < NBUDGETS; k++)
        printf("---:|");
    printf("\n");
    for (int v = 0; v < NVARIANTS; v++) {
        int G = v ? grids[v - 1] : 0;
        if (v)
            printf("| saliency | %d x %d (cells of %d x %d px) | %.1f |", G, G,
                   g->in_w / G, g->in_h / G, t->side_bits[v] / 8.0 / n);
        else
            printf("| channel (nosal) | none | 0 |");
        for (int k = 0; k < NBUDGETS; k++)
            printf(" %.0f / %.1f %% / %.2f %% |", t->values[v][k] / n,
                   100.0 * t->on_item[v][k] / n, 100.0 * (double)t->correct[v][k] / n);
        printf("\n");
    }
    printf("\n%ld test scenes; side codes from %zu training scenes; payload "
           "bytes without packet headers.\n", t->scenes, ncal);
}

static data_set *scenes(const char *split, size_t count)
{
    data_opts o = {.name = "fmnist-cluttered", .split = split, .count = count, .size = 64,
                   .seed = 7};
    data_set *ds;
    util_err err = {{0}};
    if (data_open_ex(&o, &ds, &err))
        die(split, &err);
    return ds;
}

int main(int argc, char **argv)
{
    size_t count = 2000, ncal = 2000;
    if (argc < 3) {
        fprintf(stderr, "usage: sidegrid MODEL CLASSIFIER [--count N] [--calib N]\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (v < 1 || v > 10000 || (strcmp(argv[i], "--count") && strcmp(argv[i], "--calib"))) {
            fprintf(stderr, "sidegrid: %s %s: expected --count or --calib, 1..10000\n",
                    argv[i], argv[i + 1]);
            return 2;
        }
        *(strcmp(argv[i], "--count") ? &ncal : &count) = (size_t)v;
    }
    lab L = {0};
    tally t = {0};
    util_err err = {{0}};
    if (codec_ln_load(argv[1], &L.m, &err))
        die(argv[1], &err);
    if (task_classifier_load(argv[2], &L.cls, &err))
        die(argv[2], &err);
    L.g = codec_ln_geometry(L.m);
    size_t hw = (size_t)L.g.h * L.g.w;
    L.z = malloc((size_t)BATCH * L.g.n * sizeof *L.z);
    L.sal = malloc((size_t)BATCH * hw * sizeof *L.sal);
    L.q = malloc((size_t)BATCH * L.g.n);
    L.order = malloc((size_t)L.g.n * sizeof *L.order);
    if (!L.z || !L.sal || !L.q || !L.order ||
        nn_ws_create(codec_ln_encoder(L.m), &L.wenc, &err) ||
        nn_ws_create(codec_ln_saliency(L.m), &L.wsal, &err) ||
        nn_ws_create(codec_ln_cdecoder(L.m), &L.wdec, &err))
        die("setup", &err);
    data_set *train = scenes("train", ncal), *test = scenes("test", count);
    calibrate(&L, train);
    measure(&L, test, &t);
    report(&t, &L.g, ncal);
    data_free(train);
    data_free(test);
    nn_ws_destroy(L.wenc);
    nn_ws_destroy(L.wsal);
    nn_ws_destroy(L.wdec);
    nn_tensor_free(&L.x);
    nn_tensor_free(&L.zt);
    free(L.z);
    free(L.sal);
    free(L.q);
    free(L.order);
    codec_ln_free(L.m);
    task_classifier_free(L.cls);
    return 0;
}
