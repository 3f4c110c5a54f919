/* The scene composer (data/scene.c): determinism, split separation, the
 * annotations against the drawn items, and the options it refuses, for
 * the cluttered scenes and the multi-object ones. */
#include "testutil.h"

#include <math.h>

#include "data/data.h"

#define S 64

static data_set *composed(const char *name, const char *split, size_t first,
                          size_t count, int size, uint64_t seed)
{
    data_opts o = {.name = name, .split = split, .first = first, .count = count,
                   .size = size, .seed = seed};
    data_set *ds = NULL;
    util_err err;
    if (data_open_ex(&o, &ds, &err))
        fail_msg("%s", err.msg);
    return ds;
}

static data_set *scenes(const char *split, size_t first, size_t count, int size,
                        uint64_t seed)
{
    return composed("fmnist-cluttered", split, first, count, size, seed);
}

static size_t scene_bytes(const data_set *ds)
{
    int w, h, c;
    data_dims(ds, &w, &h, &c);
    return (size_t)w * h * c;
}

static void test_shape(void **state)
{
    (void)state;
    data_set *ds = scenes("test", 0, 4, 96, 7);
    int w, h, c;
    data_dims(ds, &w, &h, &c);
    assert_int_equal(w, 96);
    assert_int_equal(h, 96);
    assert_int_equal(c, 3);
    assert_int_equal(data_count(ds), 4);
    assert_int_equal(data_classes(ds), 10);
    data_free(ds);
}

/* Same options, same pixels and annotations; scene i does not depend on
 * which other scenes were opened with it; another seed is another layout. */
static void test_deterministic(void **state)
{
    (void)state;
    data_set *a = scenes("test", 0, 20, S, 7), *b = scenes("test", 0, 20, S, 7);
    data_set *part = scenes("test", 10, 5, S, 7), *other = scenes("test", 0, 20, S, 8);
    size_t n = scene_bytes(a);
    for (size_t i = 0; i < 20; i++) {
        util_image x, y;
        int la, lb;
        data_get(a, i, &x, &la);
        data_get(b, i, &y, &lb);
        assert_memory_equal(x.px, y.px, n);
        assert_int_equal(la, lb);
        data_annot aa, ab;
        assert_int_equal(data_annotation(a, i, &aa), 0);
        assert_int_equal(data_annotation(b, i, &ab), 0);
        assert_memory_equal(aa.mask, ab.mask, S * S);
        assert_memory_equal(&aa.box[0], &ab.box[0], sizeof aa.box[0]);
        data_get(other, i, &y, &lb);
        assert_int_equal(la, lb); /* scene i shows item i, whatever the seed */
        assert_true(memcmp(x.px, y.px, n) != 0);
        if (i >= 10 && i < 15) {
            data_get(part, i - 10, &y, &lb);
            assert_memory_equal(x.px, y.px, n);
        }
    }
    data_free(a);
    data_free(b);
    data_free(part);
    data_free(other);
}

/* Every item a scene is made from (main and clutter) comes from its
 * split's pool: train from the first 55,000 training items, val from the
 * rest, test from the test file only; no scene of one split holds an item
 * of another. The main item is scene i's item i of the pool, with its
 * label; no clutter item shares that label. */
static void check_split(const char *split, const char *file, long lo, long hi,
                        size_t first, size_t count)
{
    data_set *ds = scenes(split, first, count, S, 3);
    data_set *src;
    util_err err;
    assert_int_equal(data_open("fashion-mnist", file, NULL, 0, 0, &src, &err), 0);
    for (size_t i = 0; i < count; i++) {
        const char *f;
        long items[DATA_SCENE_MAX_SOURCES];
        size_t n = data_sources(ds, i, &f, items, DATA_SCENE_MAX_SOURCES);
        assert_string_equal(f, file);
        assert_in_range(n, 3, 6); /* the item and 2-5 clutter fragments */
        assert_int_equal(items[0], lo + (long)((first + i) % (size_t)(hi - lo)));
        int label, main_label;
        util_image v;
        data_get(ds, i, &v, &label);
        data_get(src, (size_t)items[0], &v, &main_label);
        assert_int_equal(label, main_label);
        for (size_t k = 0; k < n; k++) {
            assert_true(items[k] >= lo && items[k] < hi);
            if (k > 0) {
                int cl;
                data_get(src, (size_t)items[k], &v, &cl);
                assert_int_not_equal(cl, label);
            }
        }
    }
    data_free(src);
    data_free(ds);
}

static void test_splits_disjoint(void **state)
{
    (void)state;
    check_split("train", "train", 0, DATA_SCENE_TRAIN_ITEMS, 0, 400);
    check_split("train", "train", 0, DATA_SCENE_TRAIN_ITEMS, 54900, 200); /* wraps */
    check_split("val", "train", DATA_SCENE_TRAIN_ITEMS, 60000, 0, 400);
    check_split("test", "test", 0, 10000, 9900, 200);
}

static double lum(const uint8_t *p)
{
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

/* The box is the mask's tight box; the item's side is 35-60 % of the
 * canvas; the mask covers about the share of the box that the source
 * item's ink covers of its own box; and the item stands out from the
 * background around it in luminance. */
static void test_annotations(void **state)
{
    (void)state;
    data_set *ds = scenes("test", 0, 200, S, 5);
    data_set *src;
    util_err err;
    assert_int_equal(data_open("fashion-mnist", "test", NULL, 0, 0, &src, &err), 0);
    int contrasted = 0;
    for (size_t i = 0; i < 200; i++) {
        data_annot a;
        util_image v;
        assert_int_equal(data_annotation(ds, i, &a), 0);
        assert_int_equal(a.n, 1);
        data_get(ds, i, &v, NULL);
        const data_box *b = &a.box[0];
        int x0 = S, y0 = S, x1 = 0, y1 = 0, area = 0;
        double in = 0, out = 0;
        int nout = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                double l = lum(v.px + (y * S + x) * 3);
                if (a.mask[y * S + x] == 1) {
                    area++;
                    in += l;
                    x0 = x < x0 ? x : x0;
                    y0 = y < y0 ? y : y0;
                    x1 = x + 1 > x1 ? x + 1 : x1;
                    y1 = y + 1 > y1 ? y + 1 : y1;
                } else {
                    assert_int_equal(a.mask[y * S + x], 0);
                    if (x >= b->x0 && x < b->x1 && y >= b->y0 && y < b->y1) {
                        out += l;
                        nout++;
                    }
                }
            }
        assert_true(area > 0);
        assert_int_equal(b->x0, x0);
        assert_int_equal(b->y0, y0);
        assert_int_equal(b->x1, x1);
        assert_int_equal(b->y1, y1);
        int side = (x1 - x0) > (y1 - y0) ? x1 - x0 : y1 - y0;
        assert_in_range(side, 8, (int)(0.60 * S) + 1);
        /* The source item's ink (>= 10 %, the composer's mask level) in its own box. */
        util_image it;
        data_get(src, i, &it, NULL);
        int ix0 = 28, iy0 = 28, ix1 = 0, iy1 = 0, ink = 0;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (it.px[y * 28 + x] >= 26) {
                    ink++;
                    ix0 = x < ix0 ? x : ix0;
                    iy0 = y < iy0 ? y : iy0;
                    ix1 = x + 1 > ix1 ? x + 1 : ix1;
                    iy1 = y + 1 > iy1 ? y + 1 : iy1;
                }
        double fill = area / (double)((x1 - x0) * (y1 - y0));
        double ifill = ink / (double)((ix1 - ix0) * (iy1 - iy0));
        assert_true(fabs(fill - ifill) < 0.2);
        /* Aspect ratio of the drawn item against the source's. */
        double asp = (x1 - x0) / (double)(y1 - y0), iasp = (ix1 - ix0) / (double)(iy1 - iy0);
        assert_true(fabs(log(asp / iasp)) < 0.35);
        if (nout > 20 && fabs(in / area - out / nout) > 30)
            contrasted++;
    }
    /* The tint keeps 90 levels from the background under the item; noise,
     * shading and clutter take some of it, never most of it. */
    assert_true(contrasted >= 180);
    data_free(src);
    data_free(ds);
}

static void test_errors(void **state)
{
    (void)state;
    util_err err;
    data_set *ds = NULL;
    data_opts o = {.name = "fmnist-cluttered", .split = "test", .count = 10, .size = 16,
                   .seed = 1};
    assert_int_equal(data_open_ex(&o, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "size"));
    o.size = S;
    o.count = 0;
    assert_int_equal(data_open_ex(&o, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "count"));
    o.count = 10;
    o.split = "validation";
    assert_int_equal(data_open_ex(&o, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "\"train\", \"val\" or \"test\""));
    o.split = "test";
    o.dir = "/nonexistent";
    assert_int_equal(data_open_ex(&o, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent"));
    assert_null(ds);
    assert_int_equal(data_open("fashion-mnist", "val", NULL, 0, 10, &ds, &err), -1);
    assert_non_null(strstr(err.msg, "\"train\" or \"test\""));
    /* Fashion-MNIST has no annotations and no sources. */
    assert_int_equal(data_open("fashion-mnist", "test", NULL, 0, 10, &ds, &err), 0);
    data_annot a;
    assert_int_equal(data_annotation(ds, 0, &a), -1);
    assert_int_equal(a.n, 0);
    assert_null(a.mask);
    const char *f;
    long items[4];
    assert_int_equal(data_sources(ds, 0, &f, items, 4), 0);
    data_free(ds);
    assert_true(data_is_scene("fmnist-cluttered"));
    assert_true(data_is_scene("fmnist-multi"));
    assert_false(data_is_scene("fashion-mnist"));
    assert_null(data_splits("nope"));
}

/* ---- multi-object scenes ----------------------------------------------------- */

#define M DATA_MULTI_DEFAULT_SIZE

static data_set *multi(const char *split, size_t first, size_t count, uint64_t seed)
{
    return composed("fmnist-multi", split, first, count, M, seed);
}

/* The default canvas is 96 pixels; same options, same scenes, whatever
 * else was opened with them; another seed, another layout. */
static void test_multi_deterministic(void **state)
{
    (void)state;
    data_set *d = NULL;
    util_err err;
    assert_int_equal(data_open("fmnist-multi", "test", NULL, 0, 3, &d, &err), 0);
    int w, h, c;
    data_dims(d, &w, &h, &c);
    assert_int_equal(w, M);
    assert_int_equal(c, 3);
    assert_int_equal(data_scene_default_size("fmnist-multi"), M);
    assert_int_equal(data_scene_default_size("fmnist-cluttered"), DATA_SCENE_DEFAULT_SIZE);
    data_free(d);
    data_set *a = multi("test", 0, 20, 7), *b = multi("test", 15, 5, 7), *o = multi("test", 0, 20, 8);
    for (size_t i = 15; i < 20; i++) {
        util_image x, y;
        data_get(a, i, &x, NULL);
        data_get(b, i - 15, &y, NULL);
        assert_memory_equal(x.px, y.px, (size_t)M * M * 3);
        data_annot aa, ab;
        data_annotation(a, i, &aa);
        data_annotation(b, i - 15, &ab);
        assert_int_equal(aa.n, ab.n);
        assert_memory_equal(aa.box, ab.box, sizeof aa.box);
        assert_memory_equal(aa.mask, ab.mask, (size_t)M * M);
        data_get(o, i, &y, NULL);
        assert_true(memcmp(x.px, y.px, (size_t)M * M * 3) != 0);
    }
    /* Multi scenes are not cluttered scenes with more items. */
    data_set *cl = scenes("test", 0, 1, M, 7);
    util_image x, y;
    data_get(a, 0, &x, NULL);
    data_get(cl, 0, &y, NULL);
    assert_true(memcmp(x.px, y.px, (size_t)M * M * 3) != 0);
    data_free(cl);
    data_free(a);
    data_free(b);
    data_free(o);
}

/* Every item of a scene (objects and clutter) comes from its split's
 * pool; the first object is item i of the pool; the objects' labels are
 * their source items' labels; no clutter item has the class of any object
 * of its scene. */
static void check_multi_split(const char *split, const char *file, long lo, long hi,
                              size_t first, size_t count)
{
    data_set *ds = multi(split, first, count, 3), *src;
    util_err err;
    assert_int_equal(data_open("fashion-mnist", file, NULL, 0, 0, &src, &err), 0);
    for (size_t i = 0; i < count; i++) {
        const char *f;
        long items[DATA_SCENE_MAX_SOURCES];
        size_t n = data_sources(ds, i, &f, items, DATA_SCENE_MAX_SOURCES);
        data_annot a;
        assert_int_equal(data_annotation(ds, i, &a), 0);
        assert_string_equal(f, file);
        assert_in_range(a.n, 1, 4);
        assert_in_range(n, (size_t)a.n + 2, (size_t)a.n + 4);
        assert_int_equal(items[0], lo + (long)((first + i) % (size_t)(hi - lo)));
        unsigned classes = 0;
        util_image v;
        for (size_t k = 0; k < n; k++) {
            int cl;
            assert_true(items[k] >= lo && items[k] < hi);
            data_get(src, (size_t)items[k], &v, &cl);
            if ((int)k < a.n) {
                assert_int_equal(cl, a.label[k]);
                classes |= 1u << cl;
            } else {
                assert_false(classes >> cl & 1u);
            }
        }
    }
    data_free(src);
    data_free(ds);
}

static void test_multi_splits_disjoint(void **state)
{
    (void)state;
    check_multi_split("train", "train", 0, DATA_SCENE_TRAIN_ITEMS, 0, 300);
    check_multi_split("train", "train", 0, DATA_SCENE_TRAIN_ITEMS, 54950, 100);
    check_multi_split("val", "train", DATA_SCENE_TRAIN_ITEMS, 60000, 0, 300);
    check_multi_split("test", "test", 0, 10000, 9950, 100);
}

/* Object k's box is the tight box of mask id k + 1; the mask holds no
 * other ids; each object is 19-38 pixels at most a side; the scene's
 * label is one of its objects'; scenes with 1, 2, 3 and 4 objects all
 * occur; two objects' boxes rarely overlap much (their squares overlap
 * by an IoU of 0.3 at most, boxes lie inside the squares). */
static void test_multi_annotations(void **state)
{
    (void)state;
    data_set *ds = multi("test", 0, 300, 5);
    int seen[5] = {0}, heavy = 0;
    for (size_t i = 0; i < 300; i++) {
        data_annot a;
        int label;
        util_image v;
        assert_int_equal(data_annotation(ds, i, &a), 0);
        data_get(ds, i, &v, &label);
        seen[a.n]++;
        int is_object = 0;
        for (int k = 0; k < a.n; k++) {
            is_object |= a.label[k] == label;
            data_box t = {M, M, 0, 0};
            for (int y = 0; y < M; y++)
                for (int x = 0; x < M; x++) {
                    int id = a.mask[y * M + x];
                    assert_in_range(id, 0, a.n);
                    if (id == k + 1) {
                        t.x0 = x < t.x0 ? x : t.x0;
                        t.y0 = y < t.y0 ? y : t.y0;
                        t.x1 = x + 1 > t.x1 ? x + 1 : t.x1;
                        t.y1 = y + 1 > t.y1 ? y + 1 : t.y1;
                    }
                }
            assert_memory_equal(&t, &a.box[k], sizeof t);
            int side = t.x1 - t.x0 > t.y1 - t.y0 ? t.x1 - t.x0 : t.y1 - t.y0;
            assert_in_range(side, 4, (int)(0.40 * M) + 1);
            for (int j = 0; j < k; j++) {
                const data_box *p = &a.box[j], *q = &a.box[k];
                int ix = (p->x1 < q->x1 ? p->x1 : q->x1) - (p->x0 > q->x0 ? p->x0 : q->x0);
                int iy = (p->y1 < q->y1 ? p->y1 : q->y1) - (p->y0 > q->y0 ? p->y0 : q->y0);
                double in = ix > 0 && iy > 0 ? (double)ix * iy : 0;
                double un = (double)(p->x1 - p->x0) * (p->y1 - p->y0) +
                            (double)(q->x1 - q->x0) * (q->y1 - q->y0) - in;
                heavy += in / un > 0.3;
            }
        }
        assert_true(is_object);
    }
    for (int n = 1; n <= 4; n++)
        assert_true(seen[n] >= 30);
    assert_true(heavy <= 15);
    data_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_splits_disjoint),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_multi_deterministic),
        cmocka_unit_test(test_multi_splits_disjoint),
        cmocka_unit_test(test_multi_annotations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
