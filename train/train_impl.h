/*
 * What the model families of train/ share with each other beyond
 * train/train.h: the detector's targets and loss, which LimitNet's phase
 * 3 uses too when its cloud model is a detector (multi-object scenes).
 * Only train/ includes this header.
 */
#ifndef TRAIN_TRAIN_IMPL_H
#define TRAIN_TRAIN_IMPL_H

#include "tasks/task.h"
#include "train/train.h"

/* An object's regression targets, at its centre cell, for sample b. */
typedef struct train_det_target {
    int b, cell;
    float w, h, ox, oy;   /* box size and centre offset, in cells */
} train_det_target;

/* CenterNet's targets for one image's annotations as sample b: into heat
 * (classes x oh x ow of the zeroed target heatmap) a Gaussian bump at each
 * object's centre cell (sigma a sixth of its size in cells, at least
 * sigma_min; where bumps of a class meet, the larger), and its regression
 * targets appended to obj (*nobj of them). */
void train_det_targets(const task_detect_cfg *d, double sigma_min, const data_annot *a,
                       int b, float *heat, train_det_target *obj, int *nobj);
/* The penalty-reduced focal loss (alpha 2, beta 4) of heatmap logits z
 * against heat, over norm (the objects); its gradient into g (z's shape). */
double train_det_focal(const nn_tensor *z, const float *heat, nn_tensor *g, float norm);
/* weight * L1 of a two-channel head against the objects' sizes (which 0)
 * or offsets (1) at their centre cells, over norm; gradient into g. */
double train_det_l1(const nn_tensor *z, const train_det_target *obj, int nobj,
                    int which, float weight, nn_tensor *g, float norm);

#endif
