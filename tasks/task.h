/*
 * tasks: what the cloud does with a reconstruction, and how it is scored.
 *
 *   task_psnr, task_ssim   image quality against the original
 *   task_classifier        a trained CNN (nn/) that labels images; its
 *                          top-1 accuracy on decoded images is the paper's
 *                          main figure
 */
#ifndef TASKS_TASK_H
#define TASKS_TASK_H

#include <stddef.h>

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

#endif
