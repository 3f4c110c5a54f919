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

typedef struct cls {
    rec *r;
    size_t n, cap;
    long npos;      /* ground-truth boxes */
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
    for (int k = 0; k < m->classes; k++)
        free(m->c[k].r);
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

/* Room for the image and its detections, so that adding cannot fail once
 * begun. Each class present gets room for all ndet: the arrays double
 * anyway, so this costs at most one image's worth per class. */
static int reserve_image(task_map *m, const task_det *dets, int ndet,
                         util_err *err)
{
    if (grow_images(m, m->nimg + 1))
        return util_errf(err, "map: out of memory");
    for (int i = 0; i < ndet; i++) {
        cls *c = &m->c[dets[i].label];
        if (grow_recs(c, c->n + (size_t)ndet))
            return util_errf(err, "map: out of memory");
    }
    return 0;
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
        reserve_image(m, dets, ndet, err)) {
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
        m->c[gt_label[g]].npos++;
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
        if (b->c[k].n && grow_recs(&a->c[k], a->c[k].n + b->c[k].n)) {
            free(img);
            return util_errf(err, "map: out of memory");
        }
    }
    for (int k = 0; k < a->classes; k++) {
        cls *c = &a->c[k];
        if (b->c[k].n)
            memcpy(c->r + c->n, b->c[k].r, b->c[k].n * sizeof *c->r);
        c->n += b->c[k].n;
        c->npos += b->c[k].npos;
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

/* A class's object; NULL only when out of memory. */
static cJSON *class_json(const cls *c)
{
    rec *r = ranked_copy(c, NULL);
    cJSON *o = r ? cJSON_CreateObject() : NULL;
    if (o && (!cJSON_AddNumberToObject(o, "ground_truth", (double)c->npos) ||
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
    const char *what = integral ? "an integer" : "a number";
    if (!cJSON_IsNumber(v))
        return util_errf(err, "expected %s in [%.17g, %.17g], got %s", what,
                         lo, hi, util_json_type(v));
    double x = v->valuedouble;
    if (!(x >= lo && x <= hi) || (integral && x != floor(x)))
        return util_errf(err, "expected %s in [%.17g, %.17g], got %g", what,
                         lo, hi, x);
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

static int parse_class(task_map *m, int k, const cJSON *o, util_err *err)
{
    static const char *const keys[] = {"ground_truth", "detections", "score",
                                       "image", "order", "match", NULL};
    char path[32];
    snprintf(path, sizeof path, "per_class[%d]", k);
    cls *c = &m->c[k];
    double npos, n;
    if (util_json_keys(o, path, keys, err) ||
        int_key(o, path, "ground_truth", 0, (double)TASK_MAP_COUNT_MAX, &npos, err) ||
        int_key(o, path, "detections", 0, INT_MAX, &n, err))
        return -1;
    c->npos = (long)npos;
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
