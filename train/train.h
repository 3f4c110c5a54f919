/*
 * train: fitting the models the testbed runs, each from a JSON config
 * (models/README.md), one file per model family over a few shared pieces.
 *
 *   train_classifier   the cloud classifier (train/classifier.c)
 *   train_limitnet     LimitNet's encoder, saliency head and decoder in the
 *                      paper's three phases, then the calibration both ends
 *                      of the link share (train/limitnet.c)
 *   train_detector     the anchor-free detector for multi-object scenes
 *                      (train/detector.c)
 *   the rest           what every family needs (train/loop.c): config
 *                      integers, the training items and the held-out ones,
 *                      each epoch's order, output directories, progress
 *
 * A config fully determines the weights: every random choice of an epoch
 * comes from a generator seeded from the config's seed and the epoch (and
 * phase), never from the clock or the thread count, so a run resumed from
 * a checkpoint needs no saved generator state and gives the same weights,
 * bit for bit, as one that was never interrupted. Only training items are
 * trained on; the test split is read once, at the end, if at all.
 *
 * The trainers are what `limitnet train` runs (sim/cmd_train.c parses its
 * command line): progress goes to stderr, one line per epoch, and a short
 * summary of the result to stdout. Errors come back in err, starting with
 * the config file's name where the config is at fault.
 */
#ifndef TRAIN_TRAIN_H
#define TRAIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data/data.h"
#include "nn/nn.h"
#include "util/json.h"
#include "util/util.h"

/* Longest path a config may name (output, checkpoint, data_dir, ...). */
#define TRAIN_PATH_LEN 1024

/* ---- the model families ------------------------------------------------------ */

/* Both return the command's exit status: 0 done, 1 failed (err says why),
 * 2 the config is unreadable or wrong (err names the file and the JSON
 * path). With resume, a checkpoint made from the same config is continued;
 * one made from another config is an error, and a missing one means
 * starting afresh. */

/* The classifier: a checkpoint after every epoch; stop_after > 0 ends this
 * call after that many more epochs, leaving the checkpoint for resume (long
 * runs in slices), 0 runs to the end. At the end the weight file is written
 * and read back through the task interface to report the test accuracy. */
int train_classifier(const char *config, int resume, int stop_after,
                     util_err *err);
/* The detector: epochs, checkpoints and stop_after as the classifier's; at
 * the end the test mAP through the task interface. */
int train_detector(const char *config, int resume, int stop_after, util_err *err);
/* LimitNet: a checkpoint after every phase; resume skips the phases the
 * checkpoint holds, so a config that adds a phase continues a finished run.
 * Calibration always runs again, from training items only. */
int train_limitnet(const char *config, int resume, util_err *err);
/* Adaptation (`limitnet train adapt`): the classifier trainer on a config
 * of task "adapt", started from the "from" classifier and shown what
 * recon makes of each training item (train/classifier.c). reconstruct
 * turns img into out (same size), drawing every random choice (which
 * setting, which cut) from rng; what names it for the report and the
 * weight file's metadata. The codecs are the caller's: train/ knows none. */
typedef struct train_recon {
    int (*reconstruct)(void *ctx, const util_image *img, util_rng *rng,
                       util_image *out, util_err *err);
    void *ctx;
    const char *what;
} train_recon;
int train_classifier_adapt(const char *config, const train_recon *recon, int resume,
                           int stop_after, util_err *err);
/* The "adapt" section's scenario and codec family of an adapt config:
 * 0, or 2 with err naming the file and what is wrong. */
int train_adapt_source(const char *config, char *scenario, size_t slen, char *family,
                       size_t flen, util_err *err);

/* Read and check a config the way training would (every key and range,
 * the architecture built), without opening data, weights or checkpoints:
 * 0, or 2 with err naming the file and the JSON path. */
int train_classifier_check(const char *config, util_err *err);
int train_limitnet_check(const char *config, util_err *err);
int train_detector_check(const char *config, util_err *err);

/* ---- pieces the families share (train/loop.c) --------------------------------- */

/* Reads the config at path: parse(root, cfg, err) fills a family's
 * settings from it, and *text gets its canonical text (free it with
 * cJSON_free), which checkpoints record. Errors start with the path. */
int train_load_config(const char *path,
                      int (*parse)(const cJSON *root, void *cfg, util_err *err),
                      void *cfg, char **text, util_err *err);

/* util_json_int into an int field, for the many counts a config holds. */
int train_config_int(const cJSON *obj, const char *path, const char *key,
                     int def, int lo, int hi, int *out, util_err *err);

/* What a config says of its data: "dataset" is a name ("fashion-mnist")
 * or, for composed scenes, an object {"name": "fmnist-cluttered", "size":
 * 64, "seed": 7, "count": 55000, "test_count": 5000} (count training
 * scenes; test_count test scenes for the final report), and "data_dir"
 * where the source files are ("" for their standard place). A file
 * dataset as an object takes only "count" (its first count training items,
 * validation held out of those) and "test_count" (the first test items
 * reported on); 0 or absent: all. */
typedef struct train_dataset {
    char name[64];
    char dir[TRAIN_PATH_LEN];
    int size;
    uint64_t seed;
    size_t count, test_count;
} train_dataset;

int train_parse_dataset(const cJSON *root, train_dataset *d, util_err *err);

/* The items a model is trained on, and those held out to watch it. For a
 * file dataset: its "train" split, the first (count - validation) items
 * trained on (*ntrain of them), the last `validation` held out. For
 * scenes: d->count scenes of the "train" split, and `validation` scenes of
 * the "val" split, whose items no training scene holds. *val is NULL when
 * validation is 0. Refuses a split that leaves less than one batch to
 * train on. On failure what was opened is left in *train and *val for the
 * caller to free. This is the one place where training opens data. */
int train_open_data(const train_dataset *d, int validation, int batch,
                    data_set **train, data_set **val, size_t *ntrain,
                    util_err *err);
/* The test split (all of it; d->test_count scenes for scenes), read once
 * at the end of a training run for its report. */
int train_open_test(const train_dataset *d, data_set **out, util_err *err);

/* The "optimizer", "schedule" and "normalize" sections that the families
 * trained by plain epochs (classifier, detector) share: Adam or SGD, a
 * cosine or constant rate with linear warm-up, and the input's
 * x = (px / 255 - mean) / std. */
typedef struct train_optim {
    nn_optim_cfg opt;
    double lr, min_lr, warmup_epochs;
    char schedule[16];   /* "cosine" or "constant" */
    double mean, std;
} train_optim;

int train_parse_optim(const cJSON *root, train_optim *o, util_err *err);
/* The schedule of o over `epochs` epochs of `steps` steps. */
nn_lr_sched train_schedule(const train_optim *o, long steps, int epochs);

/* Checkpoints after an epoch: the model, the optimiser's state, the
 * config's canonical text (a resume from another config is refused), the
 * epochs done and the training seconds so far. resume continues from the
 * checkpoint at path when there is one, saying so on the progress stream
 * (a missing one means starting afresh: *epoch and *seconds stay 0); it
 * refuses a checkpoint of another config, naming both files, and epoch
 * counts beyond max_epoch. */
int train_checkpoint_save(const char *path, const nn_model *m, const nn_optim *opt,
                          const char *config_text, int epoch, double seconds,
                          util_err *err);
int train_checkpoint_resume(const char *path, const char *config_file,
                            const char *config_text, int max_epoch, nn_model *m,
                            nn_optim *opt, int *epoch, double *seconds, util_err *err);

/* perm = a random permutation of 0..n-1 (Fisher-Yates), drawn from rng. */
void train_shuffle(size_t *perm, size_t n, util_rng *rng);
/* Starts an epoch: seeds rng from mix(seed, stream) and draws the epoch's
 * order of the n training items into perm from it. Every other random
 * choice of the epoch (augmentation, dropout, keep fractions) continues
 * from rng, so the epoch depends on (seed, stream) alone. */
void train_epoch_start(uint64_t seed, uint64_t stream, size_t *perm, size_t n,
                       util_rng *rng);

/* Creates the directories above a file that is about to be written
 * (nothing to do for a name without a directory). */
int train_make_parents(const char *path, util_err *err);

/* A progress line, or part of one, on stderr: the library's only output
 * besides the final summary, kept in one place so that where progress goes
 * is decided once. */
void train_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
