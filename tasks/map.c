/*
 * COCO-style mean average precision for object detection, as pycocotools
 * computes it for boxes (COCOeval.evaluateImg and accumulate), so that a
 * detector's score here can be compared with published ones. Each step,
 * and where we knowingly differ from pycocotools by a rounding:
 *
 * Matching, per image and per IoU threshold t = (50 + 5 k) / 100.0: the
 * image's detections in order of score, highest first (equal scores in
 * their order in dets); each takes the ground-truth box of its own class,
 * not yet taken at this t, with the highest IoU, if that IoU >= t; it is
 * then a true positive (TP), otherwise a false positive (FP), so a second
 * detection of an object already taken is an FP. Of boxes with equal IoU
 * the last one wins, as in pycocotools (`if iou < best: continue`).
 * pycocotools' thresholds come from np.linspace(.5, .95, 10), equal to ours
 * but for 0.9, one ulp below (0.8999999999999999): only an IoU in that one
 * ulp is judged differently.
 *
 * Accumulation, per class: the class's detections of the whole set ranked
 * by score, highest first; equal scores by image id, then position in dets
 * (pycocotools' stable mergesort over images taken in ascending id order).
 * The ranking is a total order on the records, so the result does not
 * depend on the order images were added in, or on merges. Going down the
 * ranking, cumulative TP and FP give precision TP / (TP + FP) and recall
 * TP / npos (npos: the class's ground-truth boxes). pycocotools adds
 * np.spacing(1) to the precision's denominator, which only keeps a perfect
 * detector just below 1; we do not, as TP + FP >= 1 here.
 * Precision is made monotone, each replaced by the highest at any later
 * point (recall never decreases down the ranking). The AP is the mean over
 * the 101 recalls r = k / 100.0, k = 0..100, of the precision at the first
 * point whose recall >= r, or 0 when recall never reaches r: that is
 * np.searchsorted(rc, recThrs, side='left'). Our r = k / 100.0 and recall
 * tp / (double)npos are both correctly rounded quotients, so recall >= r
 * exactly when tp / npos >= k / 100 as fractions. pycocotools' recThrs,
 * np.linspace(0, 1, 101), are k * 0.01, one ulp above k / 100 at k = 35,
 * 41, 47, 57, 69, 70, 82, 83, 94, 95: a recall of exactly 0.35 (7 of 20)
 * reaches r = 0.35 here but not there.
 *
 * mAP at each threshold is the mean AP over the classes with at least one
 * ground-truth box (those with detections only are left out, as pycocotools
 * leaves their -1 out); mAP@[.5:.95] is the mean of the ten.
 *
 * The bootstrap (task_map_bootstrap) weights each image by how often a
 * replicate drew it, w, and gives exactly the result of a map holding w
 * copies of it, copy c of image i under a new id between those of copy c - 1
 * and of image i + 1's first copy (i * K + c for any K above every w). A
 * detection of weight w is then w points in a row with its score, except
 * where detections of one image tie in score: those rank copy by copy (d1
 * d2 d1 d2 ...), and are repeated so. Nothing is rebuilt: each class is
 * ranked once per call and cut into segments (stretches that are all TPs
 * or all FPs at a threshold); a replicate sums the weights down the
 * ranking once, then per threshold takes each segment's weight from those
 * sums and keeps only the points where a run of TPs ends, which is exact
 * (curve_point says why). It costs O(detections + segments + 101) per class
 * and never spells out the w copies, but for ties with both TPs and FPs.
 */
#include "tasks/task.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Image ids and counts are longs, and JSON numbers up to 2^53 - 1. */
_Static_assert(LONG_MAX >= TASK_MAP_COUNT_MAX, "long holds TASK_MAP_COUNT_MAX");

#define NT TASK_MAP_THRESHOLDS
#define NRECALL 101

/* One detection after matching: bit t of match is set when it is a TP at
 * threshold t. */
typedef struct rec {
    float score;
    int order;      /* position in its image's dets */
    long image;
    uint16_t match;
} rec;

/* An image's ground-truth boxes of one class, for the bootstrap, which
 * draws images and so needs each one's share of npos. */
typedef struct gtimg {
    long image;
    long count;     /* >= 1 */
} gtimg;

typedef struct cls {
    rec *r;
    size_t n, cap;
    long npos;      /* ground-truth boxes */
    gtimg *g;       /* the images with >= 1 of them, in the order added */
    size_t ng, capg;
} cls;

struct task_map {
    int classes;
    cls *c;
    long *img;      /* ids of the images added, ascending */
    size_t nimg, capimg;
};

static double threshold(int t)
{
    return (50 + 5 * t) / 100.0;
}

static int box_finite(const task_box *b)
{
    return isfinite(b->x0) && isfinite(b->y0) && isfinite(b->x1) &&
           isfinite(b->y1);
}

double task_box_iou(const task_box *a, const task_box *b)
{
    if (!box_finite(a) || !box_finite(b))
        return 0;
    double aw = (double)a->x1 - a->x0, ah = (double)a->y1 - a->y0;
    double bw = (double)b->x1 - b->x0, bh = (double)b->y1 - b->y0;
    if (!(aw > 0 && ah > 0 && bw > 0 && bh > 0))
        return 0;
    double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0);
    double ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    if (!(iw > 0 && ih > 0))
        return 0;
    double inter = iw * ih;
    double iou = inter / (aw * ah + bw * bh - inter);
    return iou > 1 ? 1 : iou;
}

/* ---- growing arrays ------------------------------------------------------ */

/* The capacity that holds need elements of size bytes, doubling from cap
 * (or 16); 0 when that would overflow. */
static size_t new_cap(size_t cap, size_t need, size_t size)
{
    size_t c = cap ? cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return 0;
        c *= 2;
    }
    return c > SIZE_MAX / size ? 0 : c;
}

static int grow_recs(cls *c, size_t need)
{
    if (need <= c->cap)
        return 0;
    size_t cap = new_cap(c->cap, need, sizeof *c->r);
    rec *r = cap ? realloc(c->r, cap * sizeof *r) : NULL;
    if (!r)
        return -1;
    c->r = r;
    c->cap = cap;
    return 0;
}

static int grow_gt(cls *c, size_t need)
{
    if (need <= c->capg)
        return 0;
    size_t cap = new_cap(c->capg, need, sizeof *c->g);
    gtimg *g = cap ? realloc(c->g, cap * sizeof *g) : NULL;
    if (!g)
        return -1;
    c->g = g;
    c->capg = cap;
    return 0;
}

static int grow_images(task_map *m, size_t need)
{
    if (need <= m->capimg)
        return 0;
    size_t cap = new_cap(m->capimg, need, sizeof *m->img);
    long *img = cap ? realloc(m->img, cap * sizeof *img) : NULL;
    if (!img)
        return -1;
    m->img = img;
    m->capimg = cap;
    return 0;
}

/* The first position in img[0..n) whose id is >= id. */
static size_t find_image(const long *img, size_t n, long id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int has_image(const task_map *m, long id)
{
    size_t at = find_image(m->img, m->nimg, id);
    return at < m->nimg && m->img[at] == id;
}

/* ---- create, free -------------------------------------------------------- */

int task_map_create(int classes, task_map **out, util_err *err)
{
    *out = NULL;
    if (classes < 1 || classes > TASK_MAP_CLASSES_MAX)
        return util_errf(err, "map: %d classes, expected 1..%d", classes,
                         TASK_MAP_CLASSES_MAX);
    task_map *m = calloc(1, sizeof *m);
    if (m)
        m->c = calloc((size_t)classes, sizeof *m->c);
    if (!m || !m->c) {
        free(m);
        return util_errf(err, "map: out of memory");
    }
    m->classes = classes;
    *out = m;
    return 0;
}

void task_map_free(task_map *m)
{
    if (!m)
        return;
    for (int k = 0; k < m->classes; k++) {
        free(m->c[k].r);
        free(m->c[k].g);
    }
    free(m->c);
    free(m->img);
    free(m);
}

/* ---- adding an image ------------------------------------------------------ */

static int check_dets(const task_map *m, long image, const task_det *dets,
                      int ndet, util_err *err)
{
    for (int i = 0; i < ndet; i++) {
        const task_det *d = &dets[i];
        if (d->label < 0 || d->label >= m->classes)
            return util_errf(err, "map: image %ld, detection %d: label %d "
                             "outside 0..%d", image, i, d->label, m->classes - 1);
        if (!isfinite(d->score))
            return util_errf(err, "map: image %ld, detection %d: score %g is "
                             "not a finite number", image, i, (double)d->score);
        if (!box_finite(&d->box))
            return util_errf(err, "map: image %ld, detection %d: box has a "
                             "non-finite coordinate", image, i);
    }
    return 0;
}

static int check_gt(const task_map *m, long image, const task_box *gt,
                    const int *gt_label, int ngt, util_err *err)
{
    for (int g = 0; g < ngt; g++) {
        int l = gt_label[g];
        if (l < 0 || l >= m->classes)
            return util_errf(err, "map: image %ld, ground-truth box %d: label "
                             "%d outside 0..%d", image, g, l, m->classes - 1);
        if (!box_finite(&gt[g]))
            return util_errf(err, "map: image %ld, ground-truth box %d: box has "
                             "a non-finite coordinate", image, g);
        if (m->c[l].npos >= TASK_MAP_COUNT_MAX - g)
            return util_errf(err, "map: class %d: more than %ld ground-truth "
                             "boxes", l, TASK_MAP_COUNT_MAX);
    }
    return 0;
}

static int check_image(const task_map *m, long image, const task_det *dets,
                       int ndet, const task_box *gt, const int *gt_label,
                       int ngt, util_err *err)
{
    if (image < 0 || image > TASK_MAP_COUNT_MAX)
        return util_errf(err, "map: image id %ld outside 0..%ld", image,
                         TASK_MAP_COUNT_MAX);
    if (has_image(m, image))
        return util_errf(err, "map: image %ld was added before", image);
    if (ndet < 0 || ngt < 0 || (ndet && !dets) || (ngt && (!gt || !gt_label)))
        return util_errf(err, "map: image %ld: %d detections and %d ground-truth "
                         "boxes, or their arrays missing", image, ndet, ngt);
    return check_dets(m, image, dets, ndet, err) ||
           check_gt(m, image, gt, gt_label, ngt, err) ? -1 : 0;
}

typedef struct ranked {
    float score;
    int index;
} ranked;

/* Score descending, then position ascending. */
static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* One threshold's greedy matching (the file comment): sets bit t of
 * match[d] for each detection d that is a TP. used holds ngt flags. */
static void match_at(const task_det *dets, const ranked *rank, int ndet,
                     const task_box *gt, const int *gt_label, int ngt, int t,
                     unsigned char *used, uint16_t *match)
{
    memset(used, 0, (size_t)ngt);
    for (int s = 0; s < ndet; s++) {
        const task_det *d = &dets[rank[s].index];
        int best = -1;
        double best_iou = threshold(t);
        for (int g = 0; g < ngt; g++) {
            if (used[g] || gt_label[g] != d->label)
                continue;
            double iou = task_box_iou(&d->box, &gt[g]);
            if (iou < best_iou)
                continue;
            best_iou = iou;
            best = g;
        }
        if (best >= 0) {
            used[best] = 1;
            match[rank[s].index] |= (uint16_t)(1u << t);
        }
    }
}

/* match[d] for every detection at every threshold (ndet entries, zeroed). */
static int match_image(const task_det *dets, int ndet, const task_box *gt,
                       const int *gt_label, int ngt, uint16_t *match,
                       util_err *err)
{
    /* One spare entry each, so that no count of 0 reaches malloc. */
    ranked *rank = malloc(((size_t)ndet + 1) * sizeof *rank);
    unsigned char *used = malloc((size_t)ngt + 1);
    if (!rank || !used) {
        free(rank);
        free(used);
        return util_errf(err, "map: out of memory");
    }
    for (int i = 0; i < ndet; i++)
        rank[i] = (ranked){dets[i].score, i};
    if (ndet > 1)
        qsort(rank, (size_t)ndet, sizeof *rank, cmp_ranked);
    for (int t = 0; t < NT; t++)
        match_at(dets, rank, ndet, gt, gt_label, ngt, t, used, match);
    free(rank);
    free(used);
    return 0;
}

/* Room for the image, its detections and its ground-truth counts, so that
 * adding cannot fail once begun. Each class present gets room for all
 * ndet: the arrays double anyway, so this costs at most one image's worth
 * per class. */
static int reserve_image(task_map *m, const task_det *dets, int ndet,
                         const int *gt_label, int ngt, util_err *err)
{
    if (grow_images(m, m->nimg + 1))
        return util_errf(err, "map: out of memory");
    for (int i = 0; i < ndet; i++) {
        cls *c = &m->c[dets[i].label];
        if (grow_recs(c, c->n + (size_t)ndet))
            return util_errf(err, "map: out of memory");
    }
    for (int g = 0; g < ngt; g++) {
        cls *c = &m->c[gt_label[g]];
        if (grow_gt(c, c->ng + 1))
            return util_errf(err, "map: out of memory");
    }
    return 0;
}

/* One more ground-truth box of image in c. The image is new to the map,
 * so an entry of it can only be the last, made by this same image. */
static void count_gt(cls *c, long image)
{
    c->npos++;
    if (c->ng && c->g[c->ng - 1].image == image)
        c->g[c->ng - 1].count++;
    else
        c->g[c->ng++] = (gtimg){image, 1};
}

int task_map_add(task_map *m, long image, const task_det *dets, int ndet,
                 const task_box *gt, const int *gt_label, int ngt,
                 util_err *err)
{
    if (check_image(m, image, dets, ndet, gt, gt_label, ngt, err))
        return -1;
    uint16_t *match = calloc((size_t)ndet + 1, sizeof *match);
    if (!match)
        return util_errf(err, "map: out of memory");
    if (match_image(dets, ndet, gt, gt_label, ngt, match, err) ||
        reserve_image(m, dets, ndet, gt_label, ngt, err)) {
        free(match);
        return -1;
    }
    size_t at = find_image(m->img, m->nimg, image);
    memmove(m->img + at + 1, m->img + at, (m->nimg - at) * sizeof *m->img);
    m->img[at] = image;
    m->nimg++;
    for (int i = 0; i < ndet; i++) {
        cls *c = &m->c[dets[i].label];
        c->r[c->n++] = (rec){dets[i].score, i, image, match[i]};
    }
    for (int g = 0; g < ngt; g++)
        count_gt(&m->c[gt_label[g]], image);
    free(match);
    return 0;
}

/* ---- merging -------------------------------------------------------------- */

/* The union of both id lists, ascending, in a new array; fails on an id in
 * both. */
static int merge_images(const task_map *a, const task_map *b, long **out,
                        util_err *err)
{
    long *img = malloc((a->nimg + b->nimg + 1) * sizeof *img);
    if (!img)
        return util_errf(err, "map: out of memory");
    size_t i = 0, j = 0, n = 0;
    while (i < a->nimg || j < b->nimg) {
        if (i < a->nimg && j < b->nimg && a->img[i] == b->img[j]) {
            free(img);
            return util_errf(err, "map: cannot merge: image %ld is in both",
                             a->img[i]);
        }
        if (j == b->nimg || (i < a->nimg && a->img[i] < b->img[j]))
            img[n++] = a->img[i++];
        else
            img[n++] = b->img[j++];
    }
    *out = img;
    return 0;
}

static int check_merge(const task_map *a, const task_map *b, util_err *err)
{
    if (a == b)
        return util_errf(err, "map: cannot merge an accumulator into itself");
    if (a->classes != b->classes)
        return util_errf(err, "map: cannot merge %d classes with %d",
                         b->classes, a->classes);
    for (int k = 0; k < a->classes; k++)
        if (a->c[k].npos > TASK_MAP_COUNT_MAX - b->c[k].npos)
            return util_errf(err, "map: class %d: more than %ld ground-truth "
                             "boxes", k, TASK_MAP_COUNT_MAX);
    return 0;
}

int task_map_add_item(task_map *m, long image, const task_det *dets, int ndet,
                      const data_set *ds, size_t item, util_err *err)
{
    data_annot a;
    task_box gt[DATA_MAX_OBJECTS];
    data_annotation(ds, item, &a);
    for (int k = 0; k < a.n; k++)
        gt[k] = (task_box){(float)a.box[k].x0, (float)a.box[k].y0, (float)a.box[k].x1,
                           (float)a.box[k].y1};
    return task_map_add(m, image, dets, ndet, gt, a.label, a.n, err);
}

int task_map_merge(task_map *a, const task_map *b, util_err *err)
{
    long *img = NULL;
    if (check_merge(a, b, err) || merge_images(a, b, &img, err))
        return -1;
    for (int k = 0; k < a->classes; k++) {
        const cls *bc = &b->c[k];
        if ((bc->n && grow_recs(&a->c[k], a->c[k].n + bc->n)) ||
            (bc->ng && grow_gt(&a->c[k], a->c[k].ng + bc->ng))) {
            free(img);
            return util_errf(err, "map: out of memory");
        }
    }
    for (int k = 0; k < a->classes; k++) {
        cls *c = &a->c[k];
        const cls *bc = &b->c[k];
        if (bc->n)
            memcpy(c->r + c->n, bc->r, bc->n * sizeof *c->r);
        if (bc->ng)
            memcpy(c->g + c->ng, bc->g, bc->ng * sizeof *c->g);
        c->n += bc->n;
        c->ng += bc->ng;
        c->npos += bc->npos;
    }
    free(a->img);
    a->img = img;
    a->nimg += b->nimg;
    a->capimg = a->nimg + 1;
    return 0;
}

/* ---- the result ------------------------------------------------------------ */

/* The ranking: score descending, then image id, then position. */
static int cmp_rec(const void *pa, const void *pb)
{
    const rec *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->image != b->image)
        return a->image < b->image ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* A class's detections, ranked, in a new array (n + 1 entries). */
static rec *ranked_copy(const cls *c, util_err *err)
{
    rec *r = malloc((c->n + 1) * sizeof *r);
    if (!r) {
        util_errf(err, "map: out of memory");
        return NULL;
    }
    if (c->n)
        memcpy(r, c->r, c->n * sizeof *r);
    if (c->n > 1)
        qsort(r, c->n, sizeof *r, cmp_rec);
    return r;
}

/* AP at threshold t of n ranked detections (the file comment); pr and rc
 * are scratch of n entries. */
static double ap_at(const rec *r, size_t n, long npos, int t, double *pr,
                    double *rc)
{
    long tp = 0, fp = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].match >> t & 1)
            tp++;
        else
            fp++;
        pr[i] = (double)tp / (double)(tp + fp);
        rc[i] = (double)tp / (double)npos;
    }
    for (size_t i = n; i > 1; i--)
        if (pr[i - 1] > pr[i - 2])
            pr[i - 2] = pr[i - 1];
    double sum = 0;
    size_t i = 0;
    for (int k = 0; k < NRECALL; k++) {
        double at = k / 100.0;
        while (i < n && rc[i] < at)
            i++;
        sum += i < n ? pr[i] : 0;
    }
    return sum / NRECALL;
}

/* The class's AP at each threshold; npos > 0. */
static int class_ap(const cls *c, double ap[NT], util_err *err)
{
    rec *r = ranked_copy(c, err);
    double *pr = malloc((c->n + 1) * 2 * sizeof *pr);
    if (!r || !pr) {
        free(r);
        free(pr);
        return r ? util_errf(err, "map: out of memory") : -1;
    }
    for (int t = 0; t < NT; t++)
        ap[t] = ap_at(r, c->n, c->npos, t, pr, pr + c->n + 1);
    free(r);
    free(pr);
    return 0;
}

int task_map_result(const task_map *m, double *map50, double *map50_95,
                    util_err *err)
{
    double sum[NT] = {0};
    int used = 0;
    for (int k = 0; k < m->classes; k++) {
        if (m->c[k].npos == 0)
            continue;
        double ap[NT];
        if (class_ap(&m->c[k], ap, err))
            return -1;
        for (int t = 0; t < NT; t++)
            sum[t] += ap[t];
        used++;
    }
    if (!used)
        return util_errf(err, "map: no ground-truth box was added, so there "
                         "is no precision or recall to average");
    double all = 0;
    for (int t = 0; t < NT; t++)
        all += sum[t] / used;
    if (map50)
        *map50 = sum[0] / used;
    if (map50_95)
        *map50_95 = all / NT;
    return 0;
}

/* ---- the bootstrap ---------------------------------------------------------- */

/* A ranked detection as the bootstrap reads it: its match flags and len:
 * on the first detection of a tie (detections of one image with equal
 * scores, adjacent in the ranking) the tie's length, 0 on the others, 1 on
 * a detection tied with none. Copies of an image rank a tie copy by copy
 * (the file comment), so a tie, not a detection, is the unit that is
 * repeated. */
typedef struct brec {
    uint32_t len;
    uint16_t match;
} brec;

typedef struct bgt {
    size_t img;
    int64_t count;
} bgt;

/* At one threshold the ranking is cut into segments: maximal stretches of
 * units that are all TPs or all FPs, and ties with both, one segment each.
 * A segment ends before r[end] and starts where the one before it ends.
 * The segments stay from replicate to replicate while the weights change,
 * and a pure one needs only its total weight, a difference of prefix sums,
 * so a replicate costs one pass over the detections for the sums and one
 * over the segments per threshold. */
enum { SEG_FP, SEG_TP, SEG_MIXED };

typedef struct seg {
    size_t end;
    int kind;
} seg;

/* A class with ground truth, ready for the replicates: its ranking, cut
 * after the last unit with a TP at any threshold, as FPs after that add no
 * point where precision is read (curve_point). img[i] is r[i]'s image's
 * index in m->img, where the weights are; 32 bits keep the pass that sums
 * them short. */
typedef struct bclass {
    brec *r;
    uint32_t *img;
    size_t n;
    bgt *g;
    size_t ng;
    seg *s;             /* every threshold's segments, in one block */
    size_t at[NT + 1];  /* threshold t's are s[at[t]] .. s[at[t + 1] - 1] */
} bclass;

/* What one call holds: allocated once, reused by every replicate. */
typedef struct boot {
    bclass *c;
    int nc;
    int64_t *w;         /* per image, how often this replicate drew it */
    int64_t *pre;       /* the weights summed down a class's ranking */
    double *v50, *v5095;
    int nv;             /* replicates with ground truth so far */
} boot;

/* A precision / recall curve being built at one IoU threshold: counts so
 * far, whether the last detection present was a TP, and per recall point
 * k the highest precision among the points assigned to it (curve_point). */
typedef struct curve {
    int64_t tp, fp;
    int last_tp, k;
    double best[NRECALL];
} curve;

static int check_bootstrap(const task_map *m, int reps, double level,
                           const util_rng *rng, util_err *err)
{
    if (reps < 1 || reps > TASK_MAP_BOOT_REPS_MAX)
        return util_errf(err, "map bootstrap: %d replicates, expected 1..%d",
                         reps, TASK_MAP_BOOT_REPS_MAX);
    if (!(level > 0 && level < 1))
        return util_errf(err, "map bootstrap: level %g, expected a number "
                         "strictly between 0 and 1", level);
    if (!rng)
        return util_errf(err, "map bootstrap: no random generator");
    int any = 0;
    for (int k = 0; k < m->classes; k++)
        any = any || m->c[k].npos;
    if (!any)
        return util_errf(err, "map bootstrap: no ground-truth box was added, "
                         "so there is nothing to resample");
    if (m->nimg > UINT32_MAX)
        return util_errf(err, "map bootstrap: %zu images, more than %lu",
                         m->nimg, (unsigned long)UINT32_MAX);
    /* A weight is at most nimg, so weighted counts reach count x nimg:
     * kept below 2^53, exact in a double as the unweighted ones are. */
    long most = TASK_MAP_COUNT_MAX / (long)m->nimg;
    for (int k = 0; k < m->classes; k++) {
        const cls *c = &m->c[k];
        if (c->n > (size_t)most || c->npos > most)
            return util_errf(err, "map bootstrap: class %d: %zu detections or "
                             "%ld ground-truth boxes in %zu images are too "
                             "many to weight exactly", k, c->n, c->npos, m->nimg);
    }
    return 0;
}

/* The kind of the unit at r (a detection or a tie) at threshold t. */
static int unit_kind(const brec *r, int t)
{
    int bit = r->match >> t & 1;
    for (uint32_t j = 1; j < r->len; j++)
        if ((r[j].match >> t & 1) != bit)
            return SEG_MIXED;
    return bit ? SEG_TP : SEG_FP;
}

/* Threshold t's segments of r[0..n) into out, or only their count when out
 * is NULL. */
static size_t segments(const brec *r, size_t n, int t, seg *out)
{
    size_t ns = 0;
    int last = -1;
    for (size_t i = 0; i < n; i += r[i].len) {
        int kind = unit_kind(&r[i], t);
        if (kind == SEG_MIXED || kind != last)
            ns++;
        if (out)
            out[ns - 1] = (seg){i + r[i].len, kind};
        last = kind;
    }
    return ns;
}

static int boot_segments(bclass *b, util_err *err)
{
    b->at[0] = 0;
    for (int t = 0; t < NT; t++)
        b->at[t + 1] = b->at[t] + segments(b->r, b->n, t, NULL);
    b->s = malloc((b->at[NT] + 1) * sizeof *b->s);
    if (!b->s)
        return util_errf(err, "map: out of memory");
    for (int t = 0; t < NT; t++)
        segments(b->r, b->n, t, b->s + b->at[t]);
    return 0;
}

/* Where bclass cuts the ranking r[0..n): after its last unit with a TP. */
static size_t cut_point(const brec *r, size_t n)
{
    size_t cut = 0;
    for (size_t i = 0; i < n; i += r[i].len) {
        uint16_t any = 0;
        for (uint32_t j = 0; j < r[i].len; j++)
            any |= r[i + j].match;
        if (any)
            cut = i + r[i].len;
    }
    return cut;
}

/* Class c ranked as task_map_result ranks it, each detection tied to its
 * image's index, the ties marked (brec), cut (bclass) and into segments. */
static int boot_class(const task_map *m, const cls *c, bclass *b, util_err *err)
{
    rec *r = ranked_copy(c, err);
    b->r = malloc((c->n + 1) * sizeof *b->r);
    b->img = malloc((c->n + 1) * sizeof *b->img);
    b->g = malloc((c->ng + 1) * sizeof *b->g);
    if (!r || !b->r || !b->img || !b->g) {
        free(r);
        return r ? util_errf(err, "map: out of memory") : -1;
    }
    size_t head = 0;
    for (size_t i = 0; i < c->n; i++) {
        b->r[i] = (brec){1, r[i].match};
        b->img[i] = (uint32_t)find_image(m->img, m->nimg, r[i].image);
        if (i && r[i].score == r[i - 1].score && r[i].image == r[i - 1].image) {
            b->r[i].len = 0;
            b->r[head].len++;
        } else {
            head = i;
        }
    }
    b->n = cut_point(b->r, c->n);
    for (size_t i = 0; i < c->ng; i++)
        b->g[i] = (bgt){find_image(m->img, m->nimg, c->g[i].image), c->g[i].count};
    b->ng = c->ng;
    free(r);
    return boot_segments(b, err);
}

static void boot_free(boot *b)
{
    for (int k = 0; b->c && k < b->nc; k++) {
        free(b->c[k].r);
        free(b->c[k].img);
        free(b->c[k].g);
        free(b->c[k].s);
    }
    free(b->c);
    free(b->w);
    free(b->pre);
    free(b->v50);
    free(b->v5095);
}

/* Fills b, which is zeroed; boot_free(b) whether or not this fails. */
static int boot_init(const task_map *m, int reps, boot *b, util_err *err)
{
    b->c = calloc((size_t)m->classes, sizeof *b->c);
    b->w = malloc(m->nimg * sizeof *b->w);
    b->v50 = malloc((size_t)reps * sizeof *b->v50);
    b->v5095 = malloc((size_t)reps * sizeof *b->v5095);
    if (!b->c || !b->w || !b->v50 || !b->v5095)
        return util_errf(err, "map: out of memory");
    size_t most = 0;
    for (int k = 0; k < m->classes; k++) {
        if (!m->c[k].npos)
            continue;   /* no ground truth in any replicate: left out */
        if (boot_class(m, &m->c[k], &b->c[b->nc++], err))
            return -1;
        most = m->c[k].n > most ? m->c[k].n : most;
    }
    b->pre = malloc((most + 1) * sizeof *b->pre);
    return b->pre ? 0 : util_errf(err, "map: out of memory");
}

/* need[k]: the fewest TPs whose recall tp / (double)npos is >= k / 100.0,
 * the comparison ap_at makes, so that the curve compares integers. */
static void recall_needs(int64_t npos, int64_t need[NRECALL])
{
    for (int k = 0; k < NRECALL; k++) {
        double at = k / 100.0;
        int64_t v = (int64_t)ceil(at * (double)npos);
        while (v > 0 && (double)(v - 1) / (double)npos >= at)
            v--;
        while ((double)v / (double)npos < at)
            v++;
        need[k] = v;
    }
}

/* A point of the curve where a run of TPs ends. ap_at's value at recall
 * point k is the highest precision of any point with tp >= need[k]; at a
 * given tp the first point has the highest precision, and along a run of
 * TPs (fp fixed) precision rises, so the ends of the runs hold every such
 * maximum. The point goes to the highest k whose need it meets (k only
 * rises, as tp does); the suffix maximum over k in curve_ap then gives
 * each k the maximum over exactly the points with tp >= need[k]. */
static void curve_point(curve *cv, const int64_t need[NRECALL])
{
    double p = (double)cv->tp / (double)(cv->tp + cv->fp);
    while (cv->k < NRECALL - 1 && cv->tp >= need[cv->k + 1])
        cv->k++;
    if (p > cv->best[cv->k])
        cv->best[cv->k] = p;
}

/* w > 0 TPs (tp set) or FPs next in the ranking. */
static void curve_add(curve *cv, int tp, int64_t w, const int64_t need[NRECALL])
{
    if (tp) {
        cv->tp += w;
        cv->last_tp = 1;
        return;
    }
    if (cv->last_tp)
        curve_point(cv, need);
    cv->fp += w;
    cv->last_tp = 0;
}

/* The AP, summed over k in ap_at's order so that it is the same double. */
static double curve_ap(curve *cv, const int64_t need[NRECALL])
{
    if (cv->last_tp)
        curve_point(cv, need);
    for (int k = NRECALL - 1; k > 0; k--)
        if (cv->best[k] > cv->best[k - 1])
            cv->best[k - 1] = cv->best[k];
    double sum = 0;
    for (int k = 0; k < NRECALL; k++)
        sum += cv->best[k];
    return sum / NRECALL;
}

/* A tie with both TPs and FPs at threshold t, of an image drawn w times:
 * the copies rank one after another, each the whole tie in order. Such
 * ties are rare (equal scores within an image), so they are looped over. */
static void curve_tie(curve *cv, const brec *r, int64_t w, int t,
                      const int64_t need[NRECALL])
{
    for (int64_t copy = 0; copy < w; copy++)
        for (uint32_t j = 0; j < r->len; j++)
            curve_add(cv, r[j].match >> t & 1, 1, need);
}

/* The class's AP at each threshold under weights w; npos is its weighted
 * count of ground-truth boxes (> 0), pre scratch of n + 1. A segment of
 * total weight 0 is absent. */
static void class_boot_ap(const bclass *b, const int64_t *w, int64_t npos,
                          int64_t *pre, curve *cv, double ap[NT])
{
    int64_t need[NRECALL];
    recall_needs(npos, need);
    pre[0] = 0;
    for (size_t i = 0; i < b->n; i++)
        pre[i + 1] = pre[i] + w[b->img[i]];
    for (int t = 0; t < NT; t++) {
        memset(cv, 0, sizeof *cv);
        size_t start = 0;
        for (size_t k = b->at[t]; k < b->at[t + 1]; k++) {
            const seg *s = &b->s[k];
            if (s->kind == SEG_MIXED)
                curve_tie(cv, &b->r[start], w[b->img[start]], t, need);
            else if (pre[s->end] > pre[start])
                curve_add(cv, s->kind == SEG_TP, pre[s->end] - pre[start], need);
            start = s->end;
        }
        ap[t] = curve_ap(cv, need);
    }
}

/* One replicate: draws the images, then averages as task_map_result does
 * into *v50 and *v5095; a replicate where no drawn image has ground truth
 * has no value (NAN). */
static void replicate(boot *b, size_t nimg, util_rng *rng, curve *cv, double *v50,
                      double *v5095)
{
    memset(b->w, 0, nimg * sizeof *b->w);
    for (size_t i = 0; i < nimg; i++)
        b->w[util_rng_below(rng, nimg)]++;
    double sum[NT] = {0};
    int used = 0;
    for (int k = 0; k < b->nc; k++) {
        const bclass *c = &b->c[k];
        int64_t npos = 0;
        for (size_t i = 0; i < c->ng; i++)
            npos += c->g[i].count * b->w[c->g[i].img];
        if (!npos)
            continue;
        double ap[NT];
        class_boot_ap(c, b->w, npos, b->pre, cv, ap);
        for (int t = 0; t < NT; t++)
            sum[t] += ap[t];
        used++;
    }
    double all = 0;
    for (int t = 0; used && t < NT; t++)
        all += sum[t] / used;
    *v50 = used ? sum[0] / used : NAN;
    *v5095 = used ? all / NT : NAN;
    b->nv += used != 0;
}

/* Replicate r's values into b->v50[r] and b->v5095[r]. */
static int run_replicates(const task_map *m, int reps, util_rng *rng, boot *b,
                          util_err *err)
{
    curve cv;
    int rc = boot_init(m, reps, b, err);
    for (int r = 0; !rc && r < reps; r++)
        replicate(b, m->nimg, rng, &cv, &b->v50[r], &b->v5095[r]);
    if (!rc && !b->nv)
        rc = util_errf(err, "map bootstrap: none of the %d replicates drew an "
                       "image with ground truth", reps);
    return rc;
}

int task_map_bootstrap(const task_map *m, int reps, double level, util_rng *rng,
                       double *lo50, double *hi50, double *lo50_95,
                       double *hi50_95, util_err *err)
{
    if (check_bootstrap(m, reps, level, rng, err))
        return -1;
    boot b = {0};
    int rc = run_replicates(m, reps, rng, &b, err);
    if (!rc) {
        util_interval(b.v50, (size_t)reps, level, lo50, hi50);
        util_interval(b.v5095, (size_t)reps, level, lo50_95, hi50_95);
    }
    boot_free(&b);
    return rc;
}

int task_map_bootstrap_values(const task_map *m, int reps, util_rng *rng, double *v50,
                              double *v50_95, util_err *err)
{
    if (check_bootstrap(m, reps, 0.5, rng, err))
        return -1;
    boot b = {0};
    int rc = run_replicates(m, reps, rng, &b, err);
    for (int r = 0; !rc && r < reps; r++) {
        if (v50)
            v50[r] = b.v50[r];
        if (v50_95)
            v50_95[r] = b.v5095[r];
    }
    boot_free(&b);
    return rc;
}

/* ---- to JSON -------------------------------------------------------------- */

/* Adds item (NULL: a failed allocation) to array; -1 when that fails. */
static int push(cJSON *array, cJSON *item)
{
    if (item && cJSON_AddItemToArray(array, item))
        return 0;
    cJSON_Delete(item);
    return -1;
}

static void match_string(uint16_t match, char s[NT + 1])
{
    for (int t = 0; t < NT; t++)
        s[t] = match >> t & 1 ? '1' : '0';
    s[NT] = 0;
}

/* The four per-detection lists of the ranked r[0..n), into o. */
static int recs_json(cJSON *o, const rec *r, size_t n)
{
    cJSON *score = cJSON_AddArrayToObject(o, "score");
    cJSON *image = cJSON_AddArrayToObject(o, "image");
    cJSON *order = cJSON_AddArrayToObject(o, "order");
    cJSON *match = cJSON_AddArrayToObject(o, "match");
    int rc = !score || !image || !order || !match;
    for (size_t i = 0; !rc && i < n; i++) {
        char s[NT + 1];
        match_string(r[i].match, s);
        rc = push(score, cJSON_CreateNumber(r[i].score)) ||
             push(image, cJSON_CreateNumber((double)r[i].image)) ||
             push(order, cJSON_CreateNumber(r[i].order)) ||
             push(match, cJSON_CreateString(s));
    }
    return rc ? -1 : 0;
}

static int cmp_gtimg(const void *pa, const void *pb)
{
    const gtimg *a = pa, *b = pb;
    return (a->image > b->image) - (a->image < b->image);
}

/* "gt_images": [[id, count], ...] into o, by ascending id, so that the text
 * does not depend on the order images were added in. */
static int gt_json(cJSON *o, const cls *c)
{
    gtimg *g = malloc((c->ng + 1) * sizeof *g);
    cJSON *list = g ? cJSON_AddArrayToObject(o, "gt_images") : NULL;
    int rc = !list;
    if (!rc && c->ng) {
        memcpy(g, c->g, c->ng * sizeof *g);
        qsort(g, c->ng, sizeof *g, cmp_gtimg);
    }
    for (size_t i = 0; !rc && i < c->ng; i++) {
        cJSON *pair = cJSON_CreateArray();
        rc = push(list, pair) ||
             push(pair, cJSON_CreateNumber((double)g[i].image)) ||
             push(pair, cJSON_CreateNumber((double)g[i].count));
    }
    free(g);
    return rc ? -1 : 0;
}

/* A class's object; NULL only when out of memory. */
static cJSON *class_json(const cls *c)
{
    rec *r = ranked_copy(c, NULL);
    cJSON *o = r ? cJSON_CreateObject() : NULL;
    if (o && (!cJSON_AddNumberToObject(o, "ground_truth", (double)c->npos) ||
              gt_json(o, c) ||
              !cJSON_AddNumberToObject(o, "detections", (double)c->n) ||
              recs_json(o, r, c->n))) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(r);
    return o;
}

int task_map_to_json(const task_map *m, struct cJSON **out, util_err *err)
{
    *out = NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *img = o && cJSON_AddNumberToObject(o, "classes", m->classes)
                     ? cJSON_AddArrayToObject(o, "images") : NULL;
    int rc = !img;
    for (size_t i = 0; !rc && i < m->nimg; i++)
        rc = push(img, cJSON_CreateNumber((double)m->img[i]));
    cJSON *per = rc ? NULL : cJSON_AddArrayToObject(o, "per_class");
    rc = rc || !per;
    for (int k = 0; !rc && k < m->classes; k++)
        rc = push(per, class_json(&m->c[k]));
    if (rc) {
        cJSON_Delete(o);
        return util_errf(err, "map: out of memory");
    }
    *out = o;
    return 0;
}

/* ---- from JSON ------------------------------------------------------------ */

/* A number (integral if asked) in [lo, hi], checked before any cast. The
 * message leaves the JSON path to the caller. */
static int num_in(const cJSON *v, int integral, double lo, double hi,
                  double *out, util_err *err)
{
    char want[96];
    util_range_text(want, sizeof want, integral ? "an integer" : "a number", lo, hi);
    if (!cJSON_IsNumber(v))
        return util_errf(err, "expected %s, got %s", want, util_json_type(v));
    double x = v->valuedouble;
    if (!(x >= lo && x <= hi) || (integral && x != floor(x)))
        return util_errf(err, "expected %s, got %g", want, x);
    *out = x;
    return 0;
}

/* obj.key, which must be there, as an integer in [lo, hi]. */
static int int_key(const cJSON *obj, const char *path, const char *key,
                   double lo, double hi, double *out, util_err *err)
{
    char at[96];
    util_json_join(at, sizeof at, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return util_errf(err, "%s: missing", at);
    if (num_in(v, 1, lo, hi, out, err))
        return util_err_prefix(err, "%s: ", at);
    return 0;
}

/* obj.key, which must be there and be a list; of *n entries, as the key
 * named count says, unless *n < 0 (then *n is set). */
static const cJSON *list_key(const cJSON *obj, const char *path,
                             const char *key, const char *count, int *n,
                             util_err *err)
{
    char at[96];
    util_json_join(at, sizeof at, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        util_errf(err, "%s: missing", at);
        return NULL;
    }
    if (!cJSON_IsArray(v)) {
        util_errf(err, "%s: expected a list, got %s", at, util_json_type(v));
        return NULL;
    }
    int size = cJSON_GetArraySize(v);
    if (*n >= 0 && size != *n) {
        util_errf(err, "%s: %d entries, but %s says %d", at, size, count, *n);
        return NULL;
    }
    *n = size;
    return v;
}

static int parse_images(task_map *m, const cJSON *j, util_err *err)
{
    int n = -1;
    const cJSON *arr = list_key(j, "", "images", NULL, &n, err);
    if (!arr || grow_images(m, (size_t)n + 1))
        return arr ? util_errf(err, "map: out of memory") : -1;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        double id;
        if (num_in(v, 1, 0, (double)TASK_MAP_COUNT_MAX, &id, err))
            return util_err_prefix(err, "images[%zu]: ", m->nimg);
        if (m->nimg && (long)id <= m->img[m->nimg - 1])
            return util_errf(err, "images[%zu]: %ld after %ld: expected "
                             "ascending ids, each once", m->nimg, (long)id,
                             m->img[m->nimg - 1]);
        m->img[m->nimg++] = (long)id;
    }
    return 0;
}

static int parse_match(const cJSON *v, uint16_t *out, util_err *err)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    int ok = s && strlen(s) == NT;
    *out = 0;
    for (int t = 0; ok && t < NT; t++) {
        ok = s[t] == '0' || s[t] == '1';
        *out |= (uint16_t)((s[t] == '1') << t);
    }
    if (!ok)
        return util_errf(err, "expected a string of %d '0' or '1' (one per "
                         "IoU threshold), got %s", NT,
                         s ? "another string" : util_json_type(v));
    return 0;
}

static const char *const rec_lists[4] = {"score", "image", "order", "match"};

/* Detection i of class k from the entries v of the four lists; the path is
 * made only for a message. */
static int parse_rec(const task_map *m, int k, size_t i, const cJSON *const v[4],
                     rec *r, util_err *err)
{
    double score, image, order;
    int bad = num_in(v[0], 0, -FLT_MAX, FLT_MAX, &score, err) ? 0
            : num_in(v[1], 1, 0, (double)TASK_MAP_COUNT_MAX, &image, err) ? 1
            : num_in(v[2], 1, 0, INT_MAX - 1.0, &order, err) ? 2
            : parse_match(v[3], &r->match, err) ? 3 : -1;
    if (bad < 0 && !has_image(m, (long)image)) {
        util_errf(err, "image %ld is not in images", (long)image);
        bad = 1;
    }
    if (bad >= 0)
        return util_err_prefix(err, "per_class[%d].%s[%zu]: ", k,
                               rec_lists[bad], i);
    r->score = (float)score;
    r->image = (long)image;
    r->order = (int)order;
    return 0;
}

/* No threshold has more TPs than there are ground-truth boxes. */
static int check_matches(const cls *c, int k, util_err *err)
{
    for (int t = 0; t < NT; t++) {
        long tp = 0;
        for (size_t i = 0; i < c->n; i++)
            tp += c->r[i].match >> t & 1;
        if (tp > c->npos)
            return util_errf(err, "per_class[%d].match: %ld true positives at "
                             "IoU %.2f, but ground_truth is %ld", k, tp,
                             threshold(t), c->npos);
    }
    return 0;
}

/* One entry of gt_images, at path at: [id, count], id one of the images and
 * above prev, the previous entry's (-1 for the first). */
static int parse_gt_pair(const task_map *m, const cJSON *v, const char *at,
                         long prev, gtimg *out, util_err *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
        return util_errf(err, "%s: expected a list [image id, count], got %s",
                         at, cJSON_IsArray(v) ? "a list of another length"
                                              : util_json_type(v));
    double id, count;
    if (num_in(v->child, 1, 0, (double)TASK_MAP_COUNT_MAX, &id, err))
        return util_err_prefix(err, "%s[0]: ", at);
    if (!has_image(m, (long)id))
        return util_errf(err, "%s[0]: image %ld is not in images", at, (long)id);
    if ((long)id <= prev)
        return util_errf(err, "%s[0]: image %ld after %ld: expected ascending "
                         "ids, each once", at, (long)id, prev);
    if (num_in(v->child->next, 1, 1, (double)TASK_MAP_COUNT_MAX, &count, err))
        return util_err_prefix(err, "%s[1]: ", at);
    *out = (gtimg){(long)id, (long)count};
    return 0;
}

/* The gt_images of class c at path, whose counts must add up to its npos
 * (already parsed). */
static int parse_gt(const task_map *m, const cJSON *o, const char *path,
                    cls *c, util_err *err)
{
    int n = -1;
    const cJSON *arr = list_key(o, path, "gt_images", NULL, &n, err);
    if (!arr || grow_gt(c, (size_t)n + 1))
        return arr ? util_errf(err, "map: out of memory") : -1;
    long sum = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        char at[96];
        snprintf(at, sizeof at, "%s.gt_images[%zu]", path, c->ng);
        gtimg *g = &c->g[c->ng];
        if (parse_gt_pair(m, v, at, c->ng ? g[-1].image : -1, g, err))
            return -1;
        /* Checked as it goes: the sum of many counts could overflow. */
        if (g->count > c->npos - sum)
            return util_errf(err, "%s[1]: counts so far add up to more than "
                             "ground_truth, %ld", at, c->npos);
        sum += g->count;
        c->ng++;
    }
    if (sum != c->npos)
        return util_errf(err, "%s.gt_images: counts add up to %ld, but "
                         "ground_truth is %ld", path, sum, c->npos);
    return 0;
}

static int parse_class(task_map *m, int k, const cJSON *o, util_err *err)
{
    static const char *const keys[] = {"ground_truth", "gt_images", "detections",
                                       "score", "image", "order", "match", NULL};
    char path[32];
    snprintf(path, sizeof path, "per_class[%d]", k);
    cls *c = &m->c[k];
    double npos, n;
    if (util_json_keys(o, path, keys, err) ||
        int_key(o, path, "ground_truth", 0, (double)TASK_MAP_COUNT_MAX, &npos, err) ||
        int_key(o, path, "detections", 0, INT_MAX, &n, err))
        return -1;
    c->npos = (long)npos;
    if (parse_gt(m, o, path, c, err))
        return -1;
    const cJSON *v[4];
    for (int f = 0; f < 4; f++) {
        int len = (int)n;
        const cJSON *arr = list_key(o, path, rec_lists[f], "detections", &len, err);
        if (!arr)
            return -1;
        v[f] = arr->child;
    }
    if (grow_recs(c, (size_t)n + 1))
        return util_errf(err, "map: out of memory");
    for (; v[0]; c->n++) {
        if (parse_rec(m, k, c->n, v, &c->r[c->n], err))
            return -1;
        for (int f = 0; f < 4; f++)
            v[f] = v[f]->next;
    }
    return check_matches(c, k, err);
}

typedef struct key {
    long image;
    int order;
} key;

static int cmp_key(const void *pa, const void *pb)
{
    const key *a = pa, *b = pb;
    if (a->image != b->image)
        return a->image < b->image ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* No two detections, in any classes, share image and position. */
static int check_unique(const task_map *m, util_err *err)
{
    size_t n = 0;
    for (int k = 0; k < m->classes; k++)
        n += m->c[k].n;
    key *all = malloc((n + 1) * sizeof *all);
    if (!all)
        return util_errf(err, "map: out of memory");
    size_t at = 0;
    for (int k = 0; k < m->classes; k++)
        for (size_t i = 0; i < m->c[k].n; i++)
            all[at++] = (key){m->c[k].r[i].image, m->c[k].r[i].order};
    if (n > 1)
        qsort(all, n, sizeof *all, cmp_key);
    int rc = 0;
    for (size_t i = 1; !rc && i < n; i++)
        if (cmp_key(&all[i - 1], &all[i]) == 0)
            rc = util_errf(err, "per_class: two detections of image %ld with "
                           "order %d", all[i].image, all[i].order);
    free(all);
    return rc;
}

static int parse_map(task_map *m, const cJSON *j, util_err *err)
{
    static const char *const keys[] = {"classes", "images", "per_class", NULL};
    double classes;
    if (util_json_keys(j, "", keys, err) ||
        int_key(j, "", "classes", 1, TASK_MAP_CLASSES_MAX, &classes, err))
        return -1;
    if ((int)classes != m->classes)
        return util_errf(err, "classes: %d, expected %d", (int)classes,
                         m->classes);
    int n = m->classes;
    const cJSON *per = list_key(j, "", "per_class", "classes", &n, err);
    if (!per || parse_images(m, j, err))
        return -1;
    int k = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, per) {
        if (parse_class(m, k++, o, err))
            return -1;
    }
    return check_unique(m, err);
}

int task_map_from_json(const struct cJSON *j, int classes, task_map **out,
                       util_err *err)
{
    *out = NULL;
    task_map *m;
    if (task_map_create(classes, &m, err))
        return -1;
    if (parse_map(m, j, err)) {
        task_map_free(m);
        return -1;
    }
    *out = m;
    return 0;
}
