/*
 * tasks: what the cloud does with a reconstruction, and how it is scored.
 *
 *   task_psnr, task_ssim   image quality against the original
 *   task_classifier        a trained CNN (nn/) that labels images; its
 *                          top-1 accuracy on decoded images is the paper's
 *                          main figure
 *   task_map               COCO-style mean average precision of detections
 *   task_detector          a trained anchor-free CNN that finds and labels
 *                          the objects of multi-object scenes
 */
#ifndef TASKS_TASK_H
#define TASKS_TASK_H

#include <stddef.h>

#include "data/data.h"
#include "util/util.h"

/* PSNR in dB with peak 255; identical images give TASK_PSNR_MAX. */
#define TASK_PSNR_MAX 99.0
double task_psnr(const util_image *ref, const util_image *img);

/* SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01,
 * K2 0.03, averaged over every window position inside the image and over
 * channels. Images smaller than the window use a window of their size. */
double task_ssim(const util_image *ref, const util_image *img);

/* ---- classifier ---------------------------------------------------------- */

typedef struct task_classifier task_classifier;

/* Bounds on a classifier file's normalisation (metadata limitnet.mean and
 * limitnet.std; input = (px / 255 - mean) / std), checked before the cast
 * to float, where a double such as 1e300 would become infinity. Pixels
 * scaled to [0, 1] are normalised with values nowhere near them. */
#define TASK_MEAN_MAX 1e6
#define TASK_STD_MIN 1e-6
#define TASK_STD_MAX 1e6

/* Loads a classifier from a safetensors weight file (models/README.md). */
int task_classifier_load(const char *path, task_classifier **out,
                         util_err *err);
void task_classifier_free(task_classifier *c);

/* Input size the classifier expects, and its number of classes. */
void task_classifier_shape(const task_classifier *c, int *w, int *h, int *ch,
                           int *classes);

/* Labels n images (each of the expected size). Safe to call from several
 * threads at once on the same classifier: scratch memory is per call. */
int task_classifier_predict(const task_classifier *c, const util_image *imgs,
                            size_t n, int *labels, util_err *err);

/* ---- detection: COCO mean average precision ---------------------------- */

/* Scores an object detector over a whole test set the way pycocotools does
 * for boxes (tasks/map.c gives the details): detections are matched to
 * ground truth per image at ten IoU thresholds 0.50, 0.55, ..., 0.95; per
 * class, the detections of every image ranked by score give a precision /
 * recall curve whose 101-point interpolated area is the class's AP; mAP is
 * the mean over the classes that have ground truth. No crowd regions, no
 * area ranges, and no cap on detections per image (COCO keeps the best 100
 * per image: a caller that wants that cap applies it before adding). */

#define TASK_MAP_THRESHOLDS 10        /* IoU (50 + 5 k) / 100, k = 0..9 */
#define TASK_MAP_CLASSES_MAX 65536
/* Image ids and ground-truth counts stay integers a JSON number (a double)
 * holds exactly: at most 2^53 - 1. */
#define TASK_MAP_COUNT_MAX 9007199254740991L

/* A box in pixels, [x0, x1) x [y0, y1); floats, as detectors give sub-pixel
 * boxes. */
typedef struct task_box {
    float x0, y0, x1, y1;
} task_box;

/* A detection: its box, class label (0..classes-1) and confidence. */
typedef struct task_det {
    task_box box;
    int label;
    float score;
} task_det;

/* Intersection over union, computed in double. 0 when either box is empty
 * (x1 <= x0 or y1 <= y0) or has a non-finite coordinate, and when the boxes
 * do not overlap (touching edges do not). */
double task_box_iou(const task_box *a, const task_box *b);

/* An accumulator over a test set: what each detection matched, per class.
 * Not safe to share between threads; give each thread its own and merge. */
typedef struct task_map task_map;

/* classes: 1..TASK_MAP_CLASSES_MAX. */
int task_map_create(int classes, task_map **out, util_err *err);
void task_map_free(task_map *m);

/* Adds one image and matches its detections (see tasks/map.c): image is its
 * id, the dataset index (0..TASK_MAP_COUNT_MAX, each image once); dets its
 * ndet detections, gt and gt_label its ngt ground-truth boxes and their
 * labels (NULL when the count is 0). Equal scores are ranked by image id,
 * then by position in dets, so the result does not depend on the order
 * images are added in. Fails, leaving m unchanged, on an id added before, a
 * label outside 0..classes-1, a non-finite score or box coordinate. */
int task_map_add(task_map *m, long image, const task_det *dets, int ndet,
                 const task_box *gt, const int *gt_label, int ngt,
                 util_err *err);
/* task_map_add with the ground truth of item `item` of ds (its annotated
 * boxes and classes; none for a dataset without annotations). */
int task_map_add_item(task_map *m, long image, const task_det *dets, int ndet,
                      const data_set *ds, size_t item, util_err *err);

/* Adds everything b holds to a (partial results of threads or shards); the
 * result is exactly that of adding every image to a. Fails, leaving a
 * unchanged, when the class counts differ or an image id is in both. */
int task_map_merge(task_map *a, const task_map *b, util_err *err);

/* mAP at IoU 0.50, and mAP@[.5:.95]: the mean over the ten thresholds of
 * the mean AP over classes with ground truth (either pointer may be NULL).
 * Fails when no ground-truth box was added. */
int task_map_result(const task_map *m, double *map50, double *map50_95,
                    util_err *err);

/* A percentile bootstrap over images: each of reps replicates draws m's
 * images with replacement (as many draws as images, each
 * util_rng_below(rng, images) indexing them by ascending id), and gets
 * exactly task_map_result's two values for a map holding each image as
 * often as it was drawn (its copies ranked as consecutive ids would
 * rank). A replicate that drew no ground-truth box has no value and is
 * left out. [lo, hi] are the (1 - level) / 2 and (1 + level) / 2 quantiles
 * of the values (type 7: linear between order statistics, R's and numpy's
 * default), so lo == hi == the one value when reps is 1. reps: 1 ..
 * TASK_MAP_BOOT_REPS_MAX, level in (0, 1); any output pointer may be NULL.
 * Fails when m has no ground-truth box, or no replicate has a value. */
#define TASK_MAP_BOOT_REPS_MAX 100000
int task_map_bootstrap(const task_map *m, int reps, double level, util_rng *rng,
                       double *lo50, double *hi50, double *lo50_95,
                       double *hi50_95, util_err *err);

/* The replicates themselves, as task_map_bootstrap draws them from rng:
 * replicate r's two values in v50[r] and v50_95[r] (either may be NULL),
 * NAN for a replicate that drew no ground-truth box. The draws depend only
 * on rng and the image count, so maps over the same images, given
 * generators seeded alike, are resampled alike, replicate by replicate:
 * what a paired bootstrap across maps needs. Fails as task_map_bootstrap. */
int task_map_bootstrap_values(const task_map *m, int reps, util_rng *rng, double *v50,
                              double *v50_95, util_err *err);

/* For result files: a cJSON object (free it with cJSON_Delete) holding
 * everything needed to recompute the result, to merge and to bootstrap:
 * the image ids and, per class, the ground-truth count, the images with
 * ground truth and how many boxes each has, and each detection's score,
 * image id, position in its image and ten match flags, ranked, so the same
 * set of images gives the same text in whatever order it was added.
 * from_json checks everything (types, ranges, counts, that the file has
 * classes classes) and names the JSON path of what is wrong. */
struct cJSON;
int task_map_to_json(const task_map *m, struct cJSON **out, util_err *err);
int task_map_from_json(const struct cJSON *j, int classes, task_map **out,
                       util_err *err);

/* ---- detector ------------------------------------------------------------ */

/* Detections per image, at most (the weight file's max_detections). */
#define TASK_DETECT_MAX 100

/* How a detector's heads are read: per class a heatmap of centre logits
 * on an oh x ow grid at `stride` pixels a cell, per cell the box's width
 * and height and its centre's offset in the cell (both in cells). */
typedef struct task_detect_cfg {
    int classes, oh, ow, stride;
    float threshold;  /* least centre probability */
    int max_dets;     /* 1..TASK_DETECT_MAX */
} task_detect_cfg;

/* Decodes one image's heads (heat: classes x oh x ow logits; size and
 * offset: 2 x oh x ow, width/x then height/y planes) into out (room for
 * max_dets): the cells at least `threshold` likely and not below any of
 * their eight neighbours in their class, best first (ties by class, then
 * cell), boxes clipped to the image. Returns how many, or -1 (out of
 * memory). */
int task_detect_decode(const task_detect_cfg *cfg, const float *heat,
                       const float *size, const float *offset, task_det *out);

typedef struct task_detector task_detector;

/* The heads of a detector network: node[0..2] the layers named heatmap,
 * size and offset, and into dc their classes, grid and stride (checked:
 * 2-channel size and offset on the heatmap's grid, which divides the
 * input evenly). For the trainers, which build the network themselves. */
struct nn_model;
int task_detector_heads(const struct nn_model *m, int *node, task_detect_cfg *dc,
                        util_err *err);

/* Loads a detector (limitnet.task "detector"; models/README.md). */
int task_detector_load(const char *path, task_detector **out, util_err *err);
void task_detector_free(task_detector *d);
void task_detector_shape(const task_detector *d, int *w, int *h, int *ch,
                         int *classes);
task_detect_cfg task_detector_cfg(const task_detector *d);
/* Detects objects in n images of the expected size: image i's go to
 * dets[i * max_dets ...], counts[i] of them. Thread-safe as
 * task_classifier_predict. */
int task_detector_detect(const task_detector *d, const util_image *imgs, size_t n,
                         task_det *dets, int *counts, util_err *err);

#endif
