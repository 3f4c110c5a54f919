/* COCO mean average precision (tasks/map.c) on small hand-made sets whose
 * answers are worked out in the comments, then its invariants on a random
 * set (the order images are added in, merging, JSON round trips) and its
 * refusals (bad detections, malformed JSON).
 *
 * Most cases use one class and the box A = [0,10) x [0,10): a detection on
 * A itself has IoU 1 (a TP at every threshold), one on B = [50,60) x
 * [50,60) has IoU 0 (an FP at every threshold), so mAP@0.5 and
 * mAP@[.5:.95] agree. AP is the mean over r = 0, 0.01, ..., 1 of the
 * monotone precision at the first point with recall >= r. */
#include "testutil.h"

#include <math.h>

#include <cJSON.h>

#include "tasks/task.h"

#define TOL 1e-12

static util_err err;

static const task_box A = {0, 0, 10, 10};
static const task_box B = {50, 50, 60, 60};

static task_det det(task_box b, int label, float score)
{
    return (task_det){b, label, score};
}

static task_map *new_map(int classes)
{
    task_map *m = NULL;
    assert_int_equal(task_map_create(classes, &m, &err), 0);
    return m;
}

static void add(task_map *m, long image, const task_det *d, int nd,
                const task_box *gt, const int *gl, int ngt)
{
    if (task_map_add(m, image, d, nd, gt, gl, ngt, &err))
        fail_msg("task_map_add: %s", err.msg);
}

static void result(const task_map *m, double *m50, double *m5095)
{
    if (task_map_result(m, m50, m5095, &err))
        fail_msg("task_map_result: %s", err.msg);
}

/* cmocka's assert_float_equal compares floats; these are doubles. */
static void near(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= TOL))
        fail_msg("%s: %.17g, expected %.17g", what, got, want);
}

/* mAP@0.5 and mAP@[.5:.95] of m, within TOL of the expected values. */
static void expect(const task_map *m, double want50, double want5095)
{
    double m50, m5095;
    result(m, &m50, &m5095);
    near(m50, want50, "mAP@0.5");
    near(m5095, want5095, "mAP@[.5:.95]");
}

/* One image 0 of class 0 with ground truth A and these detections. */
static void expect_one(const task_det *d, int nd, double want)
{
    task_map *m = new_map(1);
    int gl = 0;
    add(m, 0, d, nd, &A, &gl, 1);
    expect(m, want, want);
    task_map_free(m);
}

static void test_iou(void **state)
{
    (void)state;
    task_box a = {0, 0, 2, 1}, b = {1, 0, 3, 1}, c = {2, 0, 3, 1};
    assert_true(task_box_iou(&A, &A) == 1.0);
    assert_true(task_box_iou(&A, &B) == 0.0);
    /* Half of each overlaps: intersection 1, union 2 + 2 - 1 = 3. */
    assert_true(task_box_iou(&a, &b) == 1.0 / 3);
    /* Touching edges ([0,2) and [2,3)) do not overlap. */
    assert_true(task_box_iou(&a, &c) == 0.0);
    /* [0,5) x [0,10) inside A: 50 / 100. */
    task_box half = {0, 0, 5, 10};
    assert_true(task_box_iou(&A, &half) == 0.5);
    /* Empty, inverted and non-finite boxes give 0. */
    task_box empty = {3, 3, 3, 8}, inv = {8, 0, 2, 10};
    task_box nan_box = {0, 0, NAN, 10}, inf_box = {-INFINITY, 0, 10, 10};
    assert_true(task_box_iou(&A, &empty) == 0.0);
    assert_true(task_box_iou(&inv, &A) == 0.0);
    assert_true(task_box_iou(&A, &nan_box) == 0.0);
    assert_true(task_box_iou(&inf_box, &A) == 0.0);
}

/* Three objects in two images, each found exactly: precision 1 at every
 * recall, AP 1 at every threshold, 101 ones / 101 = 1 exactly. */
static void test_perfect(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    task_box gt0[2] = {A, B};
    int gl[2] = {0, 0};
    task_det d0[2] = {det(B, 0, 0.3f), det(A, 0, 0.9f)};
    task_det d1[1] = {det(A, 0, 0.5f)};
    add(m, 0, d0, 2, gt0, gl, 2);
    add(m, 1, d1, 1, &A, gl, 1);
    double m50, m5095;
    result(m, &m50, &m5095);
    assert_true(m50 == 1.0 && m5095 == 1.0);
    task_map_free(m);
}

static void test_false_positive(void **state)
{
    (void)state;
    /* FP (0.9) above the TP (0.8): recall 0, 1; precision 0, 1/2, made
     * monotone 1/2, 1/2. Every r finds precision 1/2: AP 0.5. */
    task_det above[2] = {det(B, 0, 0.9f), det(A, 0, 0.8f)};
    expect_one(above, 2, 0.5);
    /* FP (0.7) below it: recall 1, 1; precision 1, 1/2. Every r finds the
     * first point, precision 1: AP 1. */
    task_det below[2] = {det(A, 0, 0.8f), det(B, 0, 0.7f)};
    expect_one(below, 2, 1.0);
}

/* Two objects, one found: recall 1/2 with precision 1. r = 0 .. 0.50 (51
 * points) find precision 1, r = 0.51 .. 1 (50) nothing: AP 51/101. */
static void test_missed(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    task_box gt[2] = {A, B};
    int gl[2] = {0, 0};
    task_det d = det(B, 0, 0.6f);
    add(m, 0, &d, 1, gt, gl, 2);
    expect(m, 51.0 / 101, 51.0 / 101);
    task_map_free(m);
}

/* 7 of 20 objects found, nothing else: recall reaches exactly 7/20 =
 * 0.35 with precision 1, so r = 0 .. 0.35 (36 points) give 1: AP 36/101.
 * (pycocotools' r for 0.35 is 35 * 0.01 = 0.35000000000000003, above the
 * recall, and would give 35/101; tasks/map.c says why we differ.) */
static void test_recall_exact(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    task_box gt[20];
    int gl[20] = {0};
    task_det d[7];
    for (int i = 0; i < 20; i++)
        gt[i] = (task_box){20.0f * i, 0, 20.0f * i + 10, 10};
    for (int i = 0; i < 7; i++)
        d[i] = det(gt[3 * i], 0, 0.5f);
    add(m, 0, d, 7, gt, gl, 20);
    expect(m, 36.0 / 101, 36.0 / 101);
    task_map_free(m);
}

/* Image 0: A found twice (0.9 and 0.8), image 1: A found once (0.7). The
 * second detection of image 0's A is an FP, as A is taken. Ranked: TP, FP,
 * TP; recall 1/2, 1/2, 1; precision 1, 1/2, 2/3, monotone 1, 2/3, 2/3.
 * r = 0 .. 0.50 (51 points) give 1, r = 0.51 .. 1 (50) the third point's
 * 2/3: AP (51 + 50 * 2/3) / 101 = 0.83498... (without the duplicate: 1). */
static void test_duplicate(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    int gl = 0;
    task_det d0[2] = {det(A, 0, 0.8f), det(A, 0, 0.9f)};
    task_det d1 = det(A, 0, 0.7f);
    add(m, 0, d0, 2, &A, &gl, 1);
    add(m, 1, &d1, 1, &A, &gl, 1);
    double want = (51 + 50 * (2.0 / 3)) / 101;
    expect(m, want, want);
    task_map_free(m);
}

/* Image 1 has no objects but a detection scored 0.9, above image 0's TP
 * (0.8): as in test_false_positive, AP 0.5. */
static void test_empty_image(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    int gl = 0;
    task_det d0 = det(A, 0, 0.8f), d1 = det(A, 0, 0.9f);
    add(m, 0, &d0, 1, &A, &gl, 1);
    add(m, 1, &d1, 1, NULL, NULL, 0);
    expect(m, 0.5, 0.5);
    task_map_free(m);
}

/* Class 0 found perfectly (AP 1), class 1 with an FP above its TP (AP
 * 0.5): mAP 0.75. A detection of class 2, which has no ground truth,
 * changes nothing; a class 3 with ground truth but no detection has AP 0
 * and counts: (1 + 0.5 + 0) / 3 = 0.5. */
static void test_classes(void **state)
{
    (void)state;
    task_map *m = new_map(4);
    task_box gt[2] = {A, B};
    int gl[2] = {0, 1};
    task_det d[3] = {det(A, 0, 0.9f), det(A, 1, 0.9f), det(B, 1, 0.8f)};
    add(m, 0, d, 3, gt, gl, 2);
    expect(m, 0.75, 0.75);
    task_det other = det(A, 2, 0.95f);
    add(m, 1, &other, 1, NULL, NULL, 0);
    expect(m, 0.75, 0.75);
    int gl3 = 3;
    add(m, 2, NULL, 0, &A, &gl3, 1);
    expect(m, 0.5, 0.5);
    task_map_free(m);
}

/* IoU thresholds (50 + 5 k) / 100, k = 0..9, against A (area 100). */
static void test_thresholds(void **state)
{
    (void)state;
    /* [0,7) x [0,10): IoU 70 / 100 = 0.70, a TP at 0.50 .. 0.70 (k = 0..4,
     * AP 1) and an FP above (AP 0): mAP@[.5:.95] = 5/10. */
    task_det d70 = det((task_box){0, 0, 7, 10}, 0, 0.9f);
    task_map *m = new_map(1);
    int gl = 0;
    add(m, 0, &d70, 1, &A, &gl, 1);
    expect(m, 1.0, 0.5);
    task_map_free(m);
    /* IoU exactly 0.50 passes only the first threshold: 1/10. IoU 0.95
     * ([0,9.5) x [0,10)) passes all ten. */
    m = new_map(1);
    task_det d50 = det((task_box){0, 0, 5, 10}, 0, 0.9f);
    add(m, 0, &d50, 1, &A, &gl, 1);
    expect(m, 1.0, 0.1);
    task_map_free(m);
    task_det d95 = det((task_box){0, 0, 9.5f, 10}, 0, 0.9f);
    expect_one(&d95, 1, 1.0);
    /* A loose detection (IoU 0.60, [0,6) x [0,10), score 0.9) and a tight
     * one (IoU 1, 0.8). At 0.50 .. 0.60 the loose one takes A and the
     * tight one is a duplicate (FP below the TP: AP 1); from 0.65 on (7
     * thresholds) the loose one is an FP and the tight one takes A (FP
     * above TP: AP 0.5): (3 + 7 * 0.5) / 10 = 0.65. */
    task_det two[2] = {det((task_box){0, 0, 6, 10}, 0, 0.9f), det(A, 0, 0.8f)};
    m = new_map(1);
    add(m, 0, two, 2, &A, &gl, 1);
    expect(m, 1.0, 0.65);
    task_map_free(m);
}

/* A detection takes the box it overlaps most, not the first above t. G1 =
 * A, G2 = [4,14) x [0,10); D1 = [3,13) x [0,10) (0.9) overlaps G1 by 70 /
 * 130 = 0.54 and G2 by 90 / 110 = 0.82, D2 = A (0.8) is G1 itself. D1 takes
 * G2 and D2 takes G1: both TP at 0.50 .. 0.80 (7 thresholds, AP 1); had D1
 * taken G1, D2 would overlap G2 by only 60 / 140 = 0.43, an FP at 0.50. At
 * 0.85 .. 0.95 D1 is an FP above D2's TP, recall 0, 1/2, precision 0, 1/2,
 * monotone 1/2: r = 0 .. 0.50 give 1/2, the rest 0: AP 25.5 / 101. */
static void test_best_overlap(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    task_box gt[2] = {A, {4, 0, 14, 10}};
    int gl[2] = {0, 0};
    task_det d[2] = {det((task_box){3, 0, 13, 10}, 0, 0.9f), det(A, 0, 0.8f)};
    add(m, 0, d, 2, gt, gl, 2);
    expect(m, 1.0, (7 + 3 * (25.5 / 101)) / 10);
    task_map_free(m);
}

/* ---- a random set: order, merging, JSON ----------------------------------- */

#define NIMG 60
#define RCLASSES 3

typedef struct image {
    int ndet, ngt;
    task_det det[16];
    task_box gt[4];
    int gl[4];
} image;

/* A box near b, moved by up to 1.5 pixels a side in half pixels. */
static task_box jitter(util_rng *rng, task_box b)
{
    float *v[4] = {&b.x0, &b.y0, &b.x1, &b.y1};
    for (int i = 0; i < 4; i++)
        *v[i] += ((float)util_rng_below(rng, 7) - 3) * 0.5f;
    return b;
}

/* Quarters, so that many tie, within images and across them; or for a
 * detector that tells objects from nothing, if poorly: a uniform score in
 * [0.3, 1) for an object, [0, 0.7) for nothing. */
static float score(util_rng *rng, int quarters, int object)
{
    if (quarters)
        return (float)(1 + util_rng_below(rng, 4)) / 4;
    return (float)((object ? 0.3 : 0) + 0.7 * util_rng_uniform(rng));
}

/* Up to 4 objects; each found (0.8), perhaps twice, perhaps with the wrong
 * label; up to 2 detections of nothing. */
static void make_image(util_rng *rng, int quarters, image *im)
{
    im->ngt = (int)util_rng_below(rng, 5);
    im->ndet = 0;
    for (int g = 0; g < im->ngt; g++) {
        float x = (float)util_rng_below(rng, 48), y = (float)util_rng_below(rng, 48);
        im->gt[g] = (task_box){x, y, x + 4 + (float)util_rng_below(rng, 16),
                               y + 4 + (float)util_rng_below(rng, 16)};
        im->gl[g] = (int)util_rng_below(rng, RCLASSES);
        for (int copy = 0; copy < 2; copy++) {
            if (util_rng_uniform(rng) < (copy ? 0.2 : 0.8)) {
                int l = util_rng_uniform(rng) < 0.1 ? (im->gl[g] + 1) % RCLASSES
                                                    : im->gl[g];
                im->det[im->ndet++] = det(jitter(rng, im->gt[g]), l,
                                          score(rng, quarters, 1));
            }
        }
    }
    for (int n = (int)util_rng_below(rng, 3); n > 0; n--) {
        float x = (float)util_rng_below(rng, 56), y = (float)util_rng_below(rng, 56);
        im->det[im->ndet++] = det((task_box){x, y, x + 8, y + 8},
                                  (int)util_rng_below(rng, RCLASSES),
                                  score(rng, quarters, 0));
    }
}

static image *make_set(void)
{
    image *set = calloc(NIMG, sizeof *set);
    assert_non_null(set);
    util_rng rng;
    util_rng_seed(&rng, 7);
    for (int i = 0; i < NIMG; i++)
        make_image(&rng, 1, &set[i]);
    return set;
}

static void add_set(task_map *m, const image *set, int i)
{
    add(m, i, set[i].det, set[i].ndet, set[i].gt, set[i].gl, set[i].ngt);
}

/* The map's JSON text (free it). */
static char *json_text(const task_map *m)
{
    cJSON *j = NULL;
    assert_int_equal(task_map_to_json(m, &j, &err), 0);
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(s);
    cJSON_Delete(j);
    return s;
}

/* Both maps give bit-identical results and the same JSON text. */
static void same(const task_map *a, const task_map *b)
{
    double a50, a5095, b50, b5095;
    result(a, &a50, &a5095);
    result(b, &b50, &b5095);
    assert_memory_equal(&a50, &b50, sizeof a50);
    assert_memory_equal(&a5095, &b5095, sizeof a5095);
    char *sa = json_text(a), *sb = json_text(b);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
}

static void test_order(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *fwd = new_map(RCLASSES), *rev = new_map(RCLASSES);
    for (int i = 0; i < NIMG; i++) {
        add_set(fwd, set, i);
        add_set(rev, set, NIMG - 1 - i);
    }
    double m50, m5095;
    result(fwd, &m50, &m5095);
    /* Neither trivial: some misses, some false positives. */
    assert_true(m50 > 0.2 && m50 < 1 && m5095 > 0.05 && m5095 < m50);
    same(fwd, rev);
    task_map_free(fwd);
    task_map_free(rev);
    free(set);
}

static void test_merge(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *all = new_map(RCLASSES), *a = new_map(RCLASSES);
    task_map *b = new_map(RCLASSES);
    for (int i = 0; i < NIMG; i++) {
        add_set(all, set, i);
        add_set(i % 2 ? b : a, set, i);
    }
    char *before = json_text(a);
    /* Refusals leave a as it was. */
    assert_int_equal(task_map_merge(a, a, &err), -1);
    assert_non_null(strstr(err.msg, "into itself"));
    task_map *other = new_map(RCLASSES + 1), *overlap = new_map(RCLASSES);
    assert_int_equal(task_map_merge(a, other, &err), -1);
    assert_non_null(strstr(err.msg, "classes"));
    add_set(overlap, set, 1);
    add_set(overlap, set, 4);
    assert_int_equal(task_map_merge(a, overlap, &err), -1);
    assert_non_null(strstr(err.msg, "image 4 is in both"));
    char *after = json_text(a);
    assert_string_equal(before, after);
    assert_int_equal(task_map_merge(a, b, &err), 0);
    same(all, a);
    /* Merging an empty accumulator changes nothing. */
    task_map *none = new_map(RCLASSES);
    assert_int_equal(task_map_merge(a, none, &err), 0);
    same(all, a);
    task_map_free(none);
    task_map_free(other);
    task_map_free(overlap);
    free(before);
    free(after);
    task_map_free(all);
    task_map_free(a);
    task_map_free(b);
    free(set);
}

/* Through text and back: the same results, the same text. */
static task_map *round_trip(const task_map *m, int classes)
{
    char *s = json_text(m);
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    task_map *back = NULL;
    if (task_map_from_json(j, classes, &back, &err))
        fail_msg("task_map_from_json: %s", err.msg);
    cJSON_Delete(j);
    char *t = json_text(back);
    assert_string_equal(s, t);
    free(s);
    free(t);
    return back;
}

static void test_json_round_trip(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *m = new_map(RCLASSES);
    for (int i = 0; i < NIMG; i++)
        add_set(m, set, i);
    task_map *back = round_trip(m, RCLASSES);
    same(m, back);
    /* What came back still merges: image 100 added to it. */
    task_map *more = new_map(RCLASSES);
    task_det d = det(A, 1, 0.3f);
    int gl = 1;
    add(more, 100, &d, 1, &A, &gl, 1);
    assert_int_equal(task_map_merge(back, more, &err), 0);
    add(m, 100, &d, 1, &A, &gl, 1);
    same(m, back);
    task_map_free(more);
    task_map_free(back);
    task_map_free(m);
    /* An empty one too. */
    m = new_map(2);
    back = round_trip(m, 2);
    assert_int_equal(task_map_result(back, NULL, NULL, &err), -1);
    task_map_free(back);
    task_map_free(m);
    free(set);
}

/* ---- malformed JSON ------------------------------------------------------- */

/* Two classes, images 0 and 3; class 0: one object, in image 0, a TP (0.9)
 * and an FP (0.5): AP 1; class 1: nothing, so left out. */
static const char *const GOOD =
    "{\"classes\":2,\"images\":[0,3],\"per_class\":["
    "{\"ground_truth\":1,\"gt_images\":[[0,1]],\"detections\":2,"
    "\"score\":[0.9,0.5],\"image\":[0,3],"
    "\"order\":[0,0],\"match\":[\"1111111111\",\"0000000000\"]},"
    "{\"ground_truth\":0,\"gt_images\":[],\"detections\":0,\"score\":[],"
    "\"image\":[],\"order\":[],\"match\":[]}]}";

#define CLASS1 "{\"ground_truth\":0,\"gt_images\":[],\"detections\":0," \
               "\"score\":[],\"image\":[],\"order\":[],\"match\":[]}"

typedef struct bad_case {
    const char *from, *to;  /* GOOD with the first from replaced by to */
    const char *says;       /* what the message must contain */
} bad_case;

static const bad_case BAD[] = {
    {"\"classes\":2", "\"classes\":\"2\"",
     "classes: expected an integer in [1, 65536], got a string"},
    {"\"classes\":2", "\"classes\":3", "classes: 3, expected 2"},
    {"\"classes\":2", "\"classes\":1e300",
     "classes: expected an integer in [1, 65536], got 1e+300"},
    {"\"classes\":2,", "\"classes\":2,\"extra\":1,", "extra: unknown key"},
    {"\"images\":[0,3],", "", "images: missing"},
    {"\"images\":[0,3]", "\"images\":{}", "images: expected a list, got an object"},
    {"\"images\":[0,3]", "\"images\":[3,0]", "images[1]: 0 after 3"},
    {"\"images\":[0,3]", "\"images\":[3,3]", "images[1]: 3 after 3"},
    {"\"images\":[0,3]", "\"images\":[0,1.5]", "images[1]: expected an integer"},
    {"\"images\":[0,3]", "\"images\":[1e300,3]",
     "images[0]: expected an integer >= 0, got 1e+300"},
    /* A third class, beyond the two there are: a label out of range. */
    {CLASS1 "]", CLASS1 "," CLASS1 "]", "per_class: 3 entries, but classes says 2"},
    {CLASS1, "1", "per_class[1]: expected an object, got a number"},
    {"\"detections\":2", "\"detections\":3",
     "per_class[0].score: 2 entries, but detections says 3"},
    {"\"detections\":2", "\"detections\":1e300",
     "per_class[0].detections: expected an integer"},
    {"\"ground_truth\":1", "\"ground_truth\":-1",
     "per_class[0].ground_truth: expected an integer"},
    {"\"ground_truth\":1", "\"ground_truth\":1e300",
     "per_class[0].ground_truth: expected an integer"},
    {"\"ground_truth\":1,", "", "per_class[0].ground_truth: missing"},
    {"\"score\":[0.9,0.5]", "\"score\":0.9",
     "per_class[0].score: expected a list, got a number"},
    {"[0.9,", "[\"0.9\",", "per_class[0].score[0]: expected a number"},
    {"[0.9,", "[1e300,", "per_class[0].score[0]: expected a number"},
    {"\"image\":[0,3]", "\"image\":[0,5]", "per_class[0].image[1]: image 5 is not in images"},
    {"\"image\":[0,3]", "\"image\":[0,null]",
     "per_class[0].image[1]: expected an integer >= 0, got null"},
    {"\"order\":[0,0]", "\"order\":[1e300,0]", "per_class[0].order[0]: expected an integer"},
    {"\"order\":[0,0]", "\"order\":[-1,0]", "per_class[0].order[0]: expected an integer"},
    {"[\"1111111111\",", "[\"11111\",", "per_class[0].match[0]: expected a string of 10"},
    {"[\"1111111111\",", "[\"111111111x\",", "per_class[0].match[0]: expected a string of 10"},
    {"[\"1111111111\",", "[1023,",
     "per_class[0].match[0]: expected a string of 10 '0' or '1' (one per IoU "
     "threshold), got a number"},
    {",\"match\":[\"1111111111\",\"0000000000\"]", "", "per_class[0].match: missing"},
    {"\"0000000000\"", "\"1000000000\"",
     "per_class[0].match: 2 true positives at IoU 0.50, but ground_truth is 1"},
    {CLASS1, "{\"ground_truth\":0,\"gt_images\":[],\"detections\":1,"
             "\"score\":[0.1],\"image\":[0],\"order\":[0],\"match\":[\"0000000000\"]}",
     "two detections of image 0 with order 0"},
    /* The images with ground truth, and how many boxes each. */
    {"\"gt_images\":[[0,1]],", "", "per_class[0].gt_images: missing"},
    {"[[0,1]]", "{}", "per_class[0].gt_images: expected a list, got an object"},
    {"[[0,1]]", "[0]",
     "per_class[0].gt_images[0]: expected a list [image id, count], got a number"},
    {"[[0,1]]", "[[0,1,1]]",
     "per_class[0].gt_images[0]: expected a list [image id, count], got a list "
     "of another length"},
    {"[[0,1]]", "[[0]]", "per_class[0].gt_images[0]: expected a list"},
    {"[[0,1]]", "[[5,1]]", "per_class[0].gt_images[0][0]: image 5 is not in images"},
    {"[[0,1]]", "[[0.5,1]]",
     "per_class[0].gt_images[0][0]: expected an integer >= 0"},
    {"[[0,1]]", "[[\"0\",1]]", "per_class[0].gt_images[0][0]: expected an integer"},
    {"[[0,1]]", "[[0,0]]",
     "per_class[0].gt_images[0][1]: expected an integer >= 1, got 0"},
    {"[[0,1]]", "[[0,1.5]]", "per_class[0].gt_images[0][1]: expected an integer"},
    {"[[0,1]]", "[[0,null]]", "per_class[0].gt_images[0][1]: expected an integer"},
    {"\"ground_truth\":1,\"gt_images\":[[0,1]]",
     "\"ground_truth\":2,\"gt_images\":[[0,1],[0,1]]",
     "per_class[0].gt_images[1][0]: image 0 after 0: expected ascending ids, each once"},
    {"\"ground_truth\":1,\"gt_images\":[[0,1]]",
     "\"ground_truth\":2,\"gt_images\":[[3,1],[0,1]]",
     "per_class[0].gt_images[1][0]: image 0 after 3"},
    {"\"ground_truth\":1,\"gt_images\":[[0,1]]",
     "\"ground_truth\":2,\"gt_images\":[[0,1]]",
     "per_class[0].gt_images: counts add up to 1, but ground_truth is 2"},
    {"[[0,1]]", "[[0,2]]",
     "per_class[0].gt_images[0][1]: counts so far add up to more than "
     "ground_truth, 1"},
    {"\"ground_truth\":1,\"gt_images\":[[0,1]]",
     "\"ground_truth\":1,\"gt_images\":[[0,1],[3,1]]",
     "per_class[0].gt_images[1][1]: counts so far add up to more than ground_truth"},
    {"\"ground_truth\":1,\"gt_images\":[[0,1]]",
     "\"ground_truth\":1,\"gt_images\":[]",
     "per_class[0].gt_images: counts add up to 0, but ground_truth is 1"},
    {"\"ground_truth\":0,\"gt_images\":[]", "\"ground_truth\":0,\"gt_images\":[[3,1]]",
     "per_class[1].gt_images[0][1]: counts so far add up to more than "
     "ground_truth, 0"},
};

/* GOOD with the first from replaced by to (free it). */
static char *replaced(const char *from, const char *to)
{
    const char *at = strstr(GOOD, from);
    if (!at)
        fail_msg("\"%s\" is not in GOOD", from);
    size_t head = (size_t)(at - GOOD), len = strlen(GOOD) - strlen(from) + strlen(to);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, GOOD, head);
    strcpy(s + head, to);
    strcat(s, at + strlen(from));
    return s;
}

/* text parses as JSON but from_json refuses it, saying says. */
static void refused(const char *text, int classes, const char *says)
{
    cJSON *j = cJSON_Parse(text);
    if (!j)
        fail_msg("not JSON: %s", text);
    task_map *m = (task_map *)1;
    err.msg[0] = 0;
    assert_int_equal(task_map_from_json(j, classes, &m, &err), -1);
    assert_null(m);
    if (!strstr(err.msg, says))
        fail_msg("for %s\n  got \"%s\"\n  expected \"%s\"", text, err.msg, says);
    cJSON_Delete(j);
}

static void test_json_malformed(void **state)
{
    (void)state;
    cJSON *j = cJSON_Parse(GOOD);
    task_map *m = NULL;
    if (task_map_from_json(j, 2, &m, &err))
        fail_msg("GOOD: %s", err.msg);
    cJSON_Delete(j);
    expect(m, 1.0, 1.0);
    task_map_free(m);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char *s = replaced(BAD[i].from, BAD[i].to);
        refused(s, 2, BAD[i].says);
        free(s);
    }
    refused("[1,2]", 2, "(top level): expected an object, got a list");
    refused("{\"classes\":2}", 2, "per_class: missing");
    refused(GOOD, 0, "0 classes, expected 1..65536");
}

/* ---- the bootstrap ---------------------------------------------------------- */

/* The bootstrap's four ends: lo50, hi50, lo50_95, hi50_95. */
typedef struct ends {
    double v[4];
} ends;

static ends bootstrap(const task_map *m, int reps, double level, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    ends e;
    if (task_map_bootstrap(m, reps, level, &rng, &e.v[0], &e.v[1], &e.v[2],
                           &e.v[3], &err))
        fail_msg("task_map_bootstrap: %s", err.msg);
    return e;
}

static int same_ends(ends a, ends b)
{
    return memcmp(a.v, b.v, sizeof a.v) == 0;
}

/* The weights task_map_bootstrap's one replicate draws with seed, for
 * images 0..n-1. */
static void draw(uint64_t seed, int n, int *w)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    memset(w, 0, (size_t)n * sizeof *w);
    for (int i = 0; i < n; i++)
        w[util_rng_below(&rng, (uint64_t)n)]++;
}

/* Every detection of the set a score of its own. */
static void distinct_scores(image *set, int n)
{
    for (int i = 0; i < n; i++)
        for (int d = 0; d < set[i].ndet; d++)
            set[i].det[d].score = (float)(1 + 16 * i + d) / 1024;
}

/* One replicate against the map it stands for: image i of the n added
 * w[i] times, copy c under id 1000 i + c. Bit for bit, at two levels. */
static void check_replicate(const image *set, int n, int classes, uint64_t seed)
{
    task_map *m = new_map(classes), *copies = new_map(classes);
    int w[NIMG];
    assert_true(n <= NIMG);
    draw(seed, n, w);
    for (int i = 0; i < n; i++) {
        add_set(m, set, i);
        for (int c = 0; c < w[i]; c++)
            add(copies, 1000L * i + c, set[i].det, set[i].ndet, set[i].gt,
                set[i].gl, set[i].ngt);
    }
    double want[4];
    result(copies, &want[0], &want[2]);
    want[1] = want[0];
    want[3] = want[2];
    ends e = bootstrap(m, 1, 0.95, seed), f = bootstrap(m, 1, 0.2, seed);
    if (memcmp(e.v, want, sizeof want) || !same_ends(e, f))
        fail_msg("seed %llu: bootstrap %.17g %.17g %.17g %.17g (level 0.2: "
                 "%.17g %.17g), the copies %.17g %.17g", (unsigned long long)seed,
                 e.v[0], e.v[1], e.v[2], e.v[3], f.v[0], f.v[2], want[0], want[2]);
    task_map_free(m);
    task_map_free(copies);
}

/* Exactness, with every score distinct (copies of one detection are the
 * only ties), then with the quarter scores, where detections of an image
 * tie and their copies interleave. */
static void test_boot_exact(void **state)
{
    (void)state;
    image *set = make_set();
    for (uint64_t seed = 1; seed <= 20; seed++)
        check_replicate(set, NIMG, RCLASSES, seed);
    distinct_scores(set, NIMG);
    for (uint64_t seed = 1; seed <= 20; seed++)
        check_replicate(set, NIMG, RCLASSES, seed);
    free(set);
}

/* Ties by hand, one class. Image 0: a tie at 0.5 of FP, TP, FP, the last
 * unit with a TP in the ranking, so its trailing FP must stay. Image 1: a
 * TP (0.9) and an FP (0.3). Image 2: no object, an FP (0.7). Image 3: a
 * tie at 0.6 of two TPs and an FP (0.1). */
static void test_boot_ties(void **state)
{
    (void)state;
    task_box C = {20, 20, 30, 30};
    image set[4] = {{0}};
    const task_det d[4][3] = {
        {det(B, 0, 0.5f), det(A, 0, 0.5f), det(C, 0, 0.5f)},
        {det(A, 0, 0.9f), det(B, 0, 0.3f)},
        {det(B, 0, 0.7f)},
        {det(A, 0, 0.6f), det(B, 0, 0.6f), det(C, 0, 0.1f)},
    };
    const int ndet[4] = {3, 2, 1, 3}, ngt[4] = {1, 1, 0, 2};
    for (int i = 0; i < 4; i++) {
        set[i].ndet = ndet[i];
        set[i].ngt = ngt[i];
        memcpy(set[i].det, d[i], sizeof d[i]);
        set[i].gt[0] = A;
        set[i].gt[1] = B;
    }
    for (uint64_t seed = 1; seed <= 40; seed++)
        check_replicate(set, 4, 1, seed);
}

static task_map *set_map(const image *set)
{
    task_map *m = new_map(RCLASSES);
    for (int i = 0; i < NIMG; i++)
        add_set(m, set, i);
    return m;
}

static void test_boot_determinism(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *m = set_map(set);
    ends a = bootstrap(m, 200, 0.9, 11), b = bootstrap(m, 200, 0.9, 11);
    ends c = bootstrap(m, 200, 0.9, 12);
    assert_true(same_ends(a, b));
    assert_false(same_ends(a, c));
    /* Not a degenerate interval. */
    assert_true(a.v[0] < a.v[1] && a.v[2] < a.v[3]);
    task_map_free(m);
    free(set);
}

/* n images of the detector with continuous scores (make_image). */
static task_map *detector_map(int n, uint64_t seed)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    task_map *m = new_map(RCLASSES);
    for (int i = 0; i < n; i++) {
        image im;
        make_image(&rng, 0, &im);
        add(m, i, im.det, im.ndet, im.gt, im.gl, im.ngt);
    }
    return m;
}

/* The interval holds the point estimate and narrows as images are added
 * (by about sqrt(10) from 200 images to 2000). */
static void test_boot_interval(void **state)
{
    (void)state;
    double width[2][2];
    int sizes[2] = {200, 2000};
    for (int s = 0; s < 2; s++) {
        task_map *m = detector_map(sizes[s], 5);
        double pt[2];
        result(m, &pt[0], &pt[1]);
        ends e = bootstrap(m, 400, 0.95, 3);
        for (int v = 0; v < 2; v++) {
            double lo = e.v[2 * v], hi = e.v[2 * v + 1];
            if (!(lo < pt[v] && pt[v] < hi))
                fail_msg("%d images: %.6f outside [%.6f, %.6f]", sizes[s],
                         pt[v], lo, hi);
            width[s][v] = hi - lo;
        }
        task_map_free(m);
    }
    for (int v = 0; v < 2; v++)
        if (!(width[1][v] < 0.6 * width[0][v]))
            fail_msg("metric %d: width %.6f with 2000 images, %.6f with 200",
                     v, width[1][v], width[0][v]);
}

static void test_boot_json(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *m = set_map(set);
    task_map *back = round_trip(m, RCLASSES);
    assert_true(same_ends(bootstrap(m, 100, 0.9, 4), bootstrap(back, 100, 0.9, 4)));
    task_map_free(back);
    task_map_free(m);
    free(set);
}

/* Merged shards, or images added in another order, bootstrap as one map
 * of them all. */
static void test_boot_merge(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *all = set_map(set), *a = new_map(RCLASSES), *b = new_map(RCLASSES);
    for (int i = NIMG - 1; i >= 0; i--)
        add_set(i % 3 ? b : a, set, i);
    assert_int_equal(task_map_merge(a, b, &err), 0);
    assert_true(same_ends(bootstrap(all, 100, 0.9, 8), bootstrap(a, 100, 0.9, 8)));
    task_map_free(all);
    task_map_free(a);
    task_map_free(b);
    free(set);
}

/* The result of replicate r of a run seeded with seed over maps m and
 * copies (the map of the weights that replicate draws, image i's copy c
 * under id 1000 i + c). */
static void nth_replicate(const image *set, int r, uint64_t seed, double want[2])
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    int w[NIMG] = {0};
    for (int k = 0; k <= r; k++) {
        memset(w, 0, sizeof w);
        for (int i = 0; i < NIMG; i++)
            w[util_rng_below(&rng, NIMG)]++;
    }
    task_map *copies = new_map(RCLASSES);
    for (int i = 0; i < NIMG; i++)
        for (int c = 0; c < w[i]; c++)
            add(copies, 1000L * i + c, set[i].det, set[i].ndet, set[i].gt, set[i].gl,
                set[i].ngt);
    result(copies, &want[0], &want[1]);
    task_map_free(copies);
}

/* The replicates one by one: each is the map of the weights it drew, so
 * two maps over the same images (here the same objects with other
 * scores) are resampled alike, replicate by replicate, and their
 * interval is task_map_bootstrap's, bit for bit. */
static void test_boot_values(void **state)
{
    (void)state;
    image *set = make_set(), *other = make_set();
    distinct_scores(other, NIMG);
    enum { REPS = 6 };
    const image *sets[2] = {set, other};
    for (int s = 0; s < 2; s++) {
        task_map *m = set_map(sets[s]);
        util_rng rng;
        util_rng_seed(&rng, 21);
        double v50[REPS], v5095[REPS], want[2];
        assert_int_equal(task_map_bootstrap_values(m, REPS, &rng, v50, v5095, &err), 0);
        for (int r = 0; r < REPS; r++) {
            nth_replicate(sets[s], r, 21, want);
            if (v50[r] != want[0] || v5095[r] != want[1])
                fail_msg("set %d, replicate %d: %.17g %.17g, its copies %.17g %.17g",
                         s, r, v50[r], v5095[r], want[0], want[1]);
        }
        ends e = bootstrap(m, REPS, 0.9, 21);
        double lo, hi;
        util_interval(v50, REPS, 0.9, &lo, &hi);
        assert_true(lo == e.v[0] && hi == e.v[1]);
        util_interval(v5095, REPS, 0.9, &lo, &hi);
        assert_true(lo == e.v[2] && hi == e.v[3]);
        task_map_free(m);
    }
    free(set);
    free(other);
}

/* A replicate that draws no ground truth has no value (NAN) and keeps its
 * place; the interval leaves it out as task_map_bootstrap does. */
static void test_boot_values_none(void **state)
{
    (void)state;
    task_map *m = new_map(1);
    task_det d = det(A, 0, 0.9f);
    add(m, 0, &d, 1, &A, (int[]){0}, 1);
    for (long i = 1; i < 20; i++)
        add(m, i, &d, 1, NULL, NULL, 0);
    enum { REPS = 200 };
    double v[REPS];
    util_rng rng;
    util_rng_seed(&rng, 3);
    assert_int_equal(task_map_bootstrap_values(m, REPS, &rng, v, NULL, &err), 0);
    int none = 0;
    for (int r = 0; r < REPS; r++) {
        none += isnan(v[r]);
        assert_true(isnan(v[r]) || (v[r] >= 0 && v[r] <= 1));
    }
    /* (19/20)^20: about 36 % of replicates miss image 0 */
    assert_true(none > 40 && none < 110);
    ends e = bootstrap(m, REPS, 0.95, 3);
    double lo, hi;
    util_interval(v, REPS, 0.95, &lo, &hi);
    assert_true(lo == e.v[0] && hi == e.v[1]);
    task_map_free(m);
}

/* The per-image counts as the JSON gives them: by ascending id, whatever
 * the order of adding. */
static void test_gt_images(void **state)
{
    (void)state;
    task_map *m = new_map(2);
    task_box gt[3] = {A, B, A};
    int gl[3] = {0, 1, 0};
    add(m, 3, NULL, 0, gt, gl, 1);
    add(m, 0, NULL, 0, gt, gl, 3);
    add(m, 1, NULL, 0, NULL, NULL, 0);
    cJSON *j = NULL;
    assert_int_equal(task_map_to_json(m, &j, &err), 0);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(j, "per_class");
    const char *want[2] = {"[[0,2],[3,1]]", "[[0,1]]"};
    for (int k = 0; k < 2; k++) {
        const cJSON *o = cJSON_GetArrayItem(per, k);
        char *got = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(o, "gt_images"));
        assert_non_null(got);
        assert_string_equal(got, want[k]);
        free(got);
    }
    cJSON_Delete(j);
    task_map_free(m);
}

static void test_boot_refused(void **state)
{
    (void)state;
    image *set = make_set();
    task_map *m = set_map(set), *none = new_map(2);
    util_rng rng;
    util_rng_seed(&rng, 1);
    const struct {
        const task_map *m;
        int reps;
        double level;
        util_rng *rng;
        const char *says;
    } bad[] = {
        {m, 0, 0.9, &rng, "0 replicates, expected 1..100000"},
        {m, 100001, 0.9, &rng, "100001 replicates"},
        {m, 10, 0, &rng, "level 0, expected a number strictly between 0 and 1"},
        {m, 10, 1, &rng, "level 1, expected"},
        {m, 10, -0.5, &rng, "level -0.5, expected"},
        {m, 10, NAN, &rng, "level nan, expected"},
        {m, 10, 0.9, NULL, "no random generator"},
        {none, 10, 0.9, &rng, "no ground-truth box was added"},
    };
    task_det d = det(A, 1, 0.5f);
    add(none, 0, &d, 1, NULL, NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double lo = -1, hi = -1;
        err.msg[0] = 0;
        assert_int_equal(task_map_bootstrap(bad[i].m, bad[i].reps, bad[i].level,
                                            bad[i].rng, &lo, &hi, NULL, NULL,
                                            &err), -1);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.msg,
                     bad[i].says);
        assert_true(lo == -1 && hi == -1);
    }
    /* Every output may be NULL. */
    assert_int_equal(task_map_bootstrap(m, 5, 0.9, &rng, NULL, NULL, NULL, NULL,
                                        &err), 0);
    /* Two images, one with an object: a seed whose one replicate draws
     * only the other has no value at all. */
    int gl = 0, w[2];
    add(none, 1, NULL, 0, &A, &gl, 1);
    uint64_t seed = 1;
    for (draw(seed, 2, w); w[1]; draw(++seed, 2, w))
        ;
    util_rng_seed(&rng, seed);
    assert_int_equal(task_map_bootstrap(none, 1, 0.9, &rng, NULL, NULL, NULL,
                                        NULL, &err), -1);
    assert_non_null(strstr(err.msg, "none of the 1 replicates drew an image "
                                    "with ground truth"));
    task_map_free(none);
    task_map_free(m);
    free(set);
}

/* ---- refusals ------------------------------------------------------------- */

static void test_no_ground_truth(void **state)
{
    (void)state;
    task_map *m = new_map(2);
    double m50 = -1, m5095 = -1;
    assert_int_equal(task_map_result(m, &m50, &m5095, &err), -1);
    assert_non_null(strstr(err.msg, "no ground-truth box"));
    task_det d = det(A, 1, 0.5f);
    add(m, 0, &d, 1, NULL, NULL, 0);
    assert_int_equal(task_map_result(m, &m50, &m5095, &err), -1);
    assert_non_null(strstr(err.msg, "no ground-truth box"));
    assert_true(m50 == -1 && m5095 == -1);
    task_map_free(m);
}

/* Each bad image is refused with its message and leaves the map as it
 * was. */
static void test_add_refused(void **state)
{
    (void)state;
    task_map *m = new_map(2);
    int gl = 0, gl_bad = 2;
    task_det ok = det(A, 0, 0.5f);
    add(m, 0, &ok, 1, &A, &gl, 1);
    char *before = json_text(m);
    task_box nan_box = {0, NAN, 10, 10}, inf_box = {0, 0, INFINITY, 10};
    const struct {
        long image;
        task_det d;
        int nd;
        task_box gt;
        const int *gl;
        const char *says;
    } bad[] = {
        {1, det(A, 0, NAN), 1, A, &gl,
         "image 1, detection 0: score nan is not a finite number"},
        {1, det(A, 0, INFINITY), 1, A, &gl, "score inf is not a finite number"},
        {1, det(A, 2, 0.5f), 1, A, &gl, "image 1, detection 0: label 2 outside 0..1"},
        {1, det(A, -1, 0.5f), 1, A, &gl, "label -1 outside 0..1"},
        {1, det(inf_box, 0, 0.5f), 1, A, &gl, "detection 0: box has a non-finite coordinate"},
        {1, ok, 1, nan_box, &gl, "ground-truth box 0: box has a non-finite coordinate"},
        {1, ok, 1, A, &gl_bad, "ground-truth box 0: label 2 outside 0..1"},
        {1, ok, -1, A, &gl, "-1 detections"},
        {0, ok, 1, A, &gl, "image 0 was added before"},
        {-1, ok, 1, A, &gl, "image id -1 outside"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        assert_int_equal(task_map_add(m, bad[i].image, &bad[i].d, bad[i].nd,
                                      &bad[i].gt, bad[i].gl, 1, &err), -1);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.msg,
                     bad[i].says);
    }
    assert_int_equal(task_map_add(m, 1, NULL, 1, NULL, NULL, 0, &err), -1);
    assert_int_equal(task_map_add(m, 1, NULL, 0, NULL, NULL, 1, &err), -1);
    char *after = json_text(m);
    assert_string_equal(before, after);
    free(before);
    free(after);
    task_map *none = (task_map *)1;
    assert_int_equal(task_map_create(0, &none, &err), -1);
    assert_null(none);
    assert_int_equal(task_map_create(TASK_MAP_CLASSES_MAX + 1, &none, &err), -1);
    task_map_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iou),
        cmocka_unit_test(test_perfect),
        cmocka_unit_test(test_false_positive),
        cmocka_unit_test(test_missed),
        cmocka_unit_test(test_recall_exact),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_empty_image),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_best_overlap),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_malformed),
        cmocka_unit_test(test_no_ground_truth),
        cmocka_unit_test(test_add_refused),
        cmocka_unit_test(test_gt_images),
        cmocka_unit_test(test_boot_exact),
        cmocka_unit_test(test_boot_ties),
        cmocka_unit_test(test_boot_determinism),
        cmocka_unit_test(test_boot_interval),
        cmocka_unit_test(test_boot_json),
        cmocka_unit_test(test_boot_merge),
        cmocka_unit_test(test_boot_values),
        cmocka_unit_test(test_boot_values_none),
        cmocka_unit_test(test_boot_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
