/*
 * The scene composer: RGB scenes built from Fashion-MNIST items, the
 * testbed's analogue of ImageNet (one object in a cluttered scene) where
 * the object is a small part of the picture, so that sending it first can
 * pay (../shared/DESIGN.md, Data).
 *
 * A scene is a pure function of (seed, kind, split, index): nothing is
 * stored, and any process composes the same pixels. Its parts, drawn in
 * this order on a size x size canvas:
 *
 *   background  a two-colour linear gradient, and with some chance
 *               sinusoidal stripes and soft colour blobs: smooth and
 *               textured areas that cost a JPEG bits without meaning
 *   clutter     2-5 fragments (a 12-22 px window of another item), scaled
 *               to 50-85 % of the main item's scale, at 30-55 % opacity,
 *               in random colours; their items are never of the scene's
 *               class, so the clutter cannot change the label
 *   the item    one item scaled to SCENE_MIN..SCENE_MAX of the canvas side,
 *               at a random position, tinted with a random colour pushed
 *               far enough in luminance from the background under it to
 *               stay visible; its shading is kept as a brightness ramp
 *   noise       with some chance, Gaussian pixel noise over everything
 *
 * 35-60 % of the side keeps items of a 64-pixel canvas at 22-38 pixels,
 * near their native 28, so the classifier can still tell a shirt from a
 * pullover, while the item covers only 12-36 % of the picture.
 *
 * "fmnist-multi" scenes (the COCO analogue, for detection) put 1-4 items
 * on the same backgrounds, each scaled to MULTI_MIN..MULTI_MAX of the side
 * (19-38 px on the default 96-pixel canvas: the cluttered scenes' sizes, so
 * the classes stay as tellable), placed so that no two items' squares
 * overlap with an IoU above MULTI_IOU or cover more than MULTI_COVER of
 * the smaller one (a placement that would is redrawn, and after
 * MULTI_TRIES an item is left out), drawn in order: a later item may
 * cover part of an earlier one, never all of it (a small square inside a
 * large one passes the IoU rule, and the large item drawn over it hid it
 * all). Their clutter (2-4 fragments) is cut from items of classes that
 * no item of the scene has, so a detector that fires on a fragment is
 * wrong. Each item gets its own mask id (k + 1) and the box of its
 * visible pixels; the scene's single label (data_get) is the class of its
 * largest item.
 *
 * Splits never share an item: "train" scenes take items (main and clutter)
 * from the first DATA_SCENE_TRAIN_ITEMS training items, "val" from the
 * rest of the training file, "test" from the test file. Scene i's main
 * item is item i of its pool (modulo the pool's size), so a split's first
 * pool-size scenes show every item once.
 */
#include "data/data_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCENE_MIN 0.35
#define SCENE_MAX 0.60
#define ITEM 28               /* Fashion-MNIST side */
#define MASK_LEVEL 0.1f       /* item intensity from which a pixel is the item's */
#define MIN_CONTRAST 90.0     /* luminance between the item's tint and its background */
#define CLUTTER_MIN 2
#define CLUTTER_MAX 5
#define MULTI_MIN 0.20
#define MULTI_MAX 0.40
#define MULTI_ITEMS 4
#define MULTI_IOU 0.3
#define MULTI_COVER 0.5       /* most of a square another may cover */
#define MULTI_TRIES 30
#define MULTI_CLUTTER_MAX (DATA_SCENE_MAX_SOURCES - MULTI_ITEMS)

typedef struct pool {
    const struct data_set *items; /* the whole source file */
    size_t first, n;              /* the split's items in it */
} pool;

/* An item (or a window of it) drawn onto the canvas. */
typedef struct stamp {
    const uint8_t *px;            /* 28 x 28 intensities */
    int cx, cy, cw, ch;           /* the window of the item that is drawn */
    int ox, oy, sw, sh;           /* where on the canvas, and how large */
    float tint[3];
    float opacity;
    float peak;                   /* the item's brightest intensity, in (0, 1] */
} stamp;

static float lum(const float *c)
{
    return 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
}

static void random_colour(util_rng *r, float *c)
{
    for (int k = 0; k < 3; k++)
        c[k] = (float)(255.0 * util_rng_uniform(r));
}

static double between(util_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * util_rng_uniform(r);
}

/* ---- background ---------------------------------------------------------------- */

static void gradient(float *cv, int s, util_rng *r)
{
    float c0[3], c1[3];
    random_colour(r, c0);
    random_colour(r, c1);
    double th = between(r, 0, 2 * M_PI), dx = cos(th), dy = sin(th);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            double t = ((x - s / 2.0) * dx + (y - s / 2.0) * dy) / s + 0.5;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            for (int k = 0; k < 3; k++)
                cv[(y * s + x) * 3 + k] = (float)(c0[k] + (c1[k] - c0[k]) * t);
        }
}

static void stripes(float *cv, int s, util_rng *r)
{
    double amp = between(r, 12, 40), period = between(r, 3, 14);
    double th = between(r, 0, M_PI), ph = between(r, 0, 2 * M_PI);
    double fx = cos(th) * 2 * M_PI / period, fy = sin(th) * 2 * M_PI / period;
    float wch[3];
    for (int k = 0; k < 3; k++)
        wch[k] = (float)between(r, 0.3, 1.0);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            float v = (float)(amp * sin(x * fx + y * fy + ph));
            for (int k = 0; k < 3; k++)
                cv[(y * s + x) * 3 + k] += wch[k] * v;
        }
}

static void blobs(float *cv, int s, util_rng *r)
{
    int n = 2 + (int)util_rng_below(r, 5);
    for (int b = 0; b < n; b++) {
        float col[3];
        random_colour(r, col);
        double sig = between(r, s / 16.0, s / 5.0), a = between(r, 0.3, 0.8);
        double bx = between(r, 0, s), by = between(r, 0, s);
        int x0 = (int)fmax(0, bx - 3 * sig), x1 = (int)fmin(s - 1, bx + 3 * sig);
        int y0 = (int)fmax(0, by - 3 * sig), y1 = (int)fmin(s - 1, by + 3 * sig);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                double d2 = (x - bx) * (x - bx) + (y - by) * (y - by);
                float g = (float)(a * exp(-d2 / (2 * sig * sig)));
                float *p = cv + (y * s + x) * 3;
                for (int k = 0; k < 3; k++)
                    p[k] += (col[k] - p[k]) * g;
            }
    }
}

static void background(float *cv, int s, util_rng *r)
{
    gradient(cv, s, r);
    if (util_rng_uniform(r) < 0.5)
        stripes(cv, s, r);
    if (util_rng_uniform(r) < 0.7)
        blobs(cv, s, r);
}

/* ---- items ------------------------------------------------------------------------ */

/* Bilinear intensity in [0, 1] of the item at (u, v) in item pixels. */
static float sample(const uint8_t *px, float u, float v)
{
    int x0 = (int)floorf(u), y0 = (int)floorf(v);
    float fx = u - x0, fy = v - y0, acc = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int x = x0 + i, y = y0 + j;
            if (x < 0 || y < 0 || x >= ITEM || y >= ITEM)
                continue;
            acc += px[y * ITEM + x] * (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
        }
    return acc / 255.0f;
}

/* Draws st onto the canvas; where mask is not NULL, the pixels that
 * become the item's get id there. Many items are dark clothes whose
 * intensities stay below a quarter of full scale, so opacity is full from
 * MASK_LEVEL on (a silhouette, only the rim blending in), and the
 * intensity, relative to the item's brightest pixel, becomes shading. */
static void draw(float *cv, int s, const stamp *st, uint8_t *mask, uint8_t id)
{
    for (int ty = 0; ty < st->sh; ty++)
        for (int tx = 0; tx < st->sw; tx++) {
            int x = st->ox + tx, y = st->oy + ty;
            if (x < 0 || y < 0 || x >= s || y >= s)
                continue;
            float u = st->cx + (tx + 0.5f) * st->cw / st->sw - 0.5f;
            float v = st->cy + (ty + 0.5f) * st->ch / st->sh - 0.5f;
            float in = sample(st->px, u, v);
            float a = fminf(1.0f, in / MASK_LEVEL) * st->opacity;
            float shade = 0.5f + 0.5f * fminf(1.0f, in / st->peak);
            float *p = cv + (y * s + x) * 3;
            for (int k = 0; k < 3; k++)
                p[k] += (st->tint[k] * shade - p[k]) * a;
            if (mask && in >= MASK_LEVEL)
                mask[y * s + x] = id;
        }
}

/* Mean luminance of the canvas under a box. */
static float mean_lum(const float *cv, int s, int x0, int y0, int w, int h)
{
    double acc = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            acc += lum(cv + (y * s + x) * 3);
    return (float)(acc / ((double)w * h));
}

/* A random tint whose luminance is at least MIN_CONTRAST from bg: a
 * colour too close is mixed towards white (dark backgrounds) or black. */
static void tint_against(util_rng *r, float bg, float *c)
{
    random_colour(r, c);
    float l = lum(c);
    if (fabsf(l - bg) >= MIN_CONTRAST)
        return;
    if (bg < 128) {
        float t = (bg + (float)MIN_CONTRAST - l) / (255.0f - l);
        for (int k = 0; k < 3; k++)
            c[k] += (255.0f - c[k]) * fminf(1.0f, t);
    } else {
        float t = l > 0 ? 1.0f - (bg - (float)MIN_CONTRAST) / l : 0;
        for (int k = 0; k < 3; k++)
            c[k] *= 1.0f - fminf(1.0f, fmaxf(0.0f, t));
    }
}

static const uint8_t *item_px(const pool *p, size_t k)
{
    return p->items->px + k * ITEM * ITEM;
}

static float peak_of(const uint8_t *px)
{
    int m = 1;
    for (int i = 0; i < ITEM * ITEM; i++)
        m = px[i] > m ? px[i] : m;
    return m / 255.0f;
}

/* A 12-22 px window of an item of none of the classes in the bit set
 * `banned`, with some ink in it. Returns the item's index in the source
 * file. */
static size_t clutter(float *cv, int s, const pool *p, unsigned banned, int main_side,
                      util_rng *r)
{
    size_t k;
    do
        k = p->first + util_rng_below(r, p->n);
    while (banned >> p->items->labels[k] & 1u);
    stamp st = {.px = item_px(p, k)};
    st.peak = peak_of(st.px);
    st.cw = st.ch = 12 + (int)util_rng_below(r, 11);
    for (int tries = 0; tries < 6; tries++) {
        st.cx = (int)util_rng_below(r, (uint64_t)(ITEM - st.cw + 1));
        st.cy = (int)util_rng_below(r, (uint64_t)(ITEM - st.ch + 1));
        long ink = 0;
        for (int y = st.cy; y < st.cy + st.ch; y++)
            for (int x = st.cx; x < st.cx + st.cw; x++)
                ink += st.px[y * ITEM + x];
        if (ink > 40L * st.cw * st.ch)
            break;
    }
    double f = main_side / (double)ITEM * between(r, 0.5, 0.85);
    st.sw = st.sh = (int)fmax(4, lround(st.cw * f));
    st.ox = (int)util_rng_below(r, (uint64_t)(s - st.sw + 1));
    st.oy = (int)util_rng_below(r, (uint64_t)(s - st.sh + 1));
    random_colour(r, st.tint);
    st.opacity = (float)between(r, 0.3, 0.55);
    draw(cv, s, &st, NULL, 0);
    return k;
}

static void noise(float *cv, int s, util_rng *r)
{
    double sig = between(r, 2, 8);
    for (int i = 0; i < s * s * 3; i++)
        cv[i] += (float)(sig * util_rng_normal(r));
}

/* The box of the pixels equal to id; the whole canvas when none is (an
 * item too faint to leave MASK_LEVEL anywhere, which the composer never
 * makes from Fashion-MNIST, but a box must exist). */
static data_box box_of(const uint8_t *mask, int s, uint8_t id)
{
    data_box b = {s, s, 0, 0};
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++)
            if (mask[y * s + x] == id) {
                if (x < b.x0) b.x0 = x;
                if (y < b.y0) b.y0 = y;
                if (x + 1 > b.x1) b.x1 = x + 1;
                if (y + 1 > b.y1) b.y1 = y + 1;
            }
    if (b.x1 <= b.x0)
        b = (data_box){0, 0, s, s};
    return b;
}

/* An item stamp of the given side at a random position. */
static stamp item_stamp(const pool *p, size_t k, int s, int side, util_rng *r)
{
    stamp st = {.px = item_px(p, k), .cw = ITEM, .ch = ITEM, .sw = side, .sh = side,
                .opacity = 1.0f, .peak = peak_of(item_px(p, k))};
    st.ox = (int)util_rng_below(r, (uint64_t)(s - side + 1));
    st.oy = (int)util_rng_below(r, (uint64_t)(s - side + 1));
    return st;
}

/* Tints st against the canvas under it and draws it with mask id `id`. */
static void place_item(float *cv, int s, stamp *st, uint8_t *mask, uint8_t id,
                       util_rng *r)
{
    tint_against(r, mean_lum(cv, s, st->ox, st->oy, st->sw, st->sh), st->tint);
    draw(cv, s, st, mask, id);
}

/* Noise, then the canvas into the slot's pixels. */
static void finish(struct data_set *ds, size_t slot, float *cv, util_rng *r)
{
    int s = ds->w;
    if (util_rng_uniform(r) < 0.6)
        noise(cv, s, r);
    uint8_t *px = ds->px + slot * (size_t)s * s * 3;
    for (int i = 0; i < s * s * 3; i++)
        px[i] = (uint8_t)lrintf(fminf(255.0f, fmaxf(0.0f, cv[i])));
}

/* Scene `index` of the pool into the dataset's slot `slot`. */
static void compose(struct data_set *ds, size_t slot, const pool *p,
                    uint64_t seed, size_t index, float *cv)
{
    int s = ds->w;
    util_rng r;
    util_rng_seed(&r, util_seed_mix(seed, index));
    size_t k = p->first + index % p->n;
    int label = p->items->labels[k];
    int32_t *src = ds->sources + slot * DATA_SCENE_MAX_SOURCES;
    src[0] = (int32_t)k;

    background(cv, s, &r);
    int side = (int)lround(s * between(&r, SCENE_MIN, SCENE_MAX));
    int nc = CLUTTER_MIN + (int)util_rng_below(&r, CLUTTER_MAX - CLUTTER_MIN + 1);
    for (int c = 0; c < nc; c++)
        src[1 + c] = (int32_t)clutter(cv, s, p, 1u << label, side, &r);
    for (int c = 1 + nc; c < DATA_SCENE_MAX_SOURCES; c++)
        src[c] = -1;

    stamp st = item_stamp(p, k, s, side, &r);
    uint8_t *mask = ds->masks + slot * (size_t)s * s;
    memset(mask, 0, (size_t)s * s);
    place_item(cv, s, &st, mask, 1, &r);
    finish(ds, slot, cv, &r);
    ds->labels[slot] = (uint16_t)label;
    data_scene_annot *a = &ds->annots[slot];
    a->n = 1;
    a->label[0] = label;
    a->box[0] = box_of(mask, s, 1);
}

/* Whether two items' squares may be placed together: an IoU of at most
 * MULTI_IOU, and neither square more than half covered by the other (a
 * small square inside a large one passes the IoU test, and the large item
 * drawn over it may hide it all). */
static int apart(const stamp *a, const stamp *b)
{
    int ix = (int)fmin(a->ox + a->sw, b->ox + b->sw) - (int)fmax(a->ox, b->ox);
    int iy = (int)fmin(a->oy + a->sh, b->oy + b->sh) - (int)fmax(a->oy, b->oy);
    if (ix <= 0 || iy <= 0)
        return 1;
    double in = (double)ix * iy, sa = (double)a->sw * a->sh, sb = (double)b->sw * b->sh;
    return in / (sa + sb - in) <= MULTI_IOU && in <= MULTI_COVER * fmin(sa, sb);
}

/* Up to MULTI_ITEMS placements whose squares overlap by at most MULTI_IOU;
 * the first item is pool item `index`, the others drawn from the pool.
 * Returns how many. */
static int place_multi(const pool *p, size_t index, int s, stamp *st, size_t *k,
                       util_rng *r)
{
    int want = 1 + (int)util_rng_below(r, MULTI_ITEMS), n = 0;
    for (int i = 0; i < want; i++) {
        size_t item = i == 0 ? p->first + index % p->n : p->first + util_rng_below(r, p->n);
        int side = (int)lround(s * between(r, MULTI_MIN, MULTI_MAX));
        for (int t = 0; t < MULTI_TRIES; t++) {
            stamp c = item_stamp(p, item, s, side, r);
            int ok = 1;
            for (int j = 0; ok && j < n; j++)
                ok = apart(&c, &st[j]);
            if (ok) {
                st[n] = c;
                k[n++] = item;
                break;
            }
        }
    }
    return n;
}

/* Multi-object scene `index` (header comment) into slot `slot`. */
static void compose_multi(struct data_set *ds, size_t slot, const pool *p,
                          uint64_t seed, size_t index, float *cv)
{
    int s = ds->w;
    util_rng r;
    util_rng_seed(&r, util_seed_mix(seed, index));
    stamp st[MULTI_ITEMS];
    size_t k[MULTI_ITEMS];
    int n = place_multi(p, index, s, st, k, &r), sides = 0, big = 0;
    unsigned classes = 0;
    int32_t *src = ds->sources + slot * DATA_SCENE_MAX_SOURCES;
    for (int i = 0; i < n; i++) {
        src[i] = (int32_t)k[i];
        classes |= 1u << p->items->labels[k[i]];
        sides += st[i].sw;
        big = st[i].sw > st[big].sw ? i : big;
    }
    background(cv, s, &r);
    int nc = CLUTTER_MIN + (int)util_rng_below(&r, MULTI_CLUTTER_MAX - CLUTTER_MIN + 1);
    for (int c = 0; c < nc; c++)
        src[n + c] = (int32_t)clutter(cv, s, p, classes, sides / n, &r);
    for (int c = n + nc; c < DATA_SCENE_MAX_SOURCES; c++)
        src[c] = -1;
    uint8_t *mask = ds->masks + slot * (size_t)s * s;
    memset(mask, 0, (size_t)s * s);
    for (int i = 0; i < n; i++)
        place_item(cv, s, &st[i], mask, (uint8_t)(i + 1), &r);
    finish(ds, slot, cv, &r);
    data_scene_annot *a = &ds->annots[slot];
    a->n = n;
    for (int i = 0; i < n; i++) {
        a->label[i] = p->items->labels[k[i]];
        a->box[i] = box_of(mask, s, (uint8_t)(i + 1));
    }
    ds->labels[slot] = (uint16_t)a->label[big];
}

/* ---- the reader ------------------------------------------------------------------ */

static int make_pool(const char *dir, const char *split, struct data_set *items,
                     pool *p, util_err *err)
{
    int test = strcmp(split, "test") == 0;
    if (data_fmnist_read(dir, test ? "test" : "train", 0, 0, items, err))
        return -1;
    p->items = items;
    if (test) {
        p->first = 0;
        p->n = items->n;
    } else if (items->n <= DATA_SCENE_TRAIN_ITEMS) {
        return util_errf(err, "%s: %zu training items; scenes need more than %d "
                         "(the first %d train, the rest validate)", dir, items->n,
                         DATA_SCENE_TRAIN_ITEMS, DATA_SCENE_TRAIN_ITEMS);
    } else if (strcmp(split, "train") == 0) {
        p->first = 0;
        p->n = DATA_SCENE_TRAIN_ITEMS;
    } else {
        p->first = DATA_SCENE_TRAIN_ITEMS;
        p->n = items->n - DATA_SCENE_TRAIN_ITEMS;
    }
    return 0;
}

/* The split's share of the seed: so that scene i of "train" and scene i
 * of "test" are not laid out alike. */
static uint64_t split_seed(uint64_t seed, const char *split, int kind)
{
    uint64_t code = strcmp(split, "train") == 0 ? 1 : strcmp(split, "val") == 0 ? 2 : 3;
    return util_seed_mix(util_seed_mix(seed, (uint64_t)kind), code);
}

int data_scene_read(const char *dir, const data_opts *o, struct data_set *ds,
                    util_err *err)
{
    if (o->size < DATA_SCENE_MIN_SIZE || o->size > DATA_SCENE_MAX_SIZE)
        return util_errf(err, "size: %d is outside %d..%d", o->size,
                         DATA_SCENE_MIN_SIZE, DATA_SCENE_MAX_SIZE);
    if (o->count == 0 || o->count > DATA_SCENE_MAX_COUNT)
        return util_errf(err, "count: scenes need a count in 1..%d", DATA_SCENE_MAX_COUNT);
    if (o->first > DATA_SCENE_MAX_COUNT)
        return util_errf(err, "first: %zu is above %d", o->first, DATA_SCENE_MAX_COUNT);
    struct data_set items = {0};
    pool p = {0};
    if (make_pool(dir, o->split, &items, &p, err)) {
        free(items.px);
        free(items.labels);
        return -1;
    }
    size_t n = o->count, s = (size_t)o->size;
    ds->w = ds->h = o->size;
    ds->c = 3;
    ds->classes = 10;
    ds->px = malloc(n * s * s * 3);
    ds->labels = malloc(n * sizeof *ds->labels);
    ds->masks = malloc(n * s * s);
    ds->annots = calloc(n, sizeof *ds->annots);
    ds->sources = malloc(n * DATA_SCENE_MAX_SOURCES * sizeof *ds->sources);
    float *cv = malloc(s * s * 3 * sizeof *cv);
    int rc = 0;
    if (!ds->px || !ds->labels || !ds->masks || !ds->annots || !ds->sources || !cv)
        rc = util_errf(err, "out of memory for %zu scenes of %zux%zu", n, s, s);
    int multi = strcmp(o->name, "fmnist-multi") == 0;
    uint64_t seed = split_seed(o->seed, o->split, multi ? 2 : 1);
    for (size_t i = 0; !rc && i < n; i++)
        (multi ? compose_multi : compose)(ds, i, &p, seed, o->first + i, cv);
    if (!rc)
        ds->n = n;
    ds->source_split = strcmp(o->split, "test") == 0 ? "test" : "train";
    free(cv);
    free(items.px);
    free(items.labels);
    return rc;
}
