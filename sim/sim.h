/*
 * sim: scenario files, the experiment runner and its result files.
 *
 * A scenario (scenarios/README.md) names a dataset, codec settings, one
 * or more channel settings, deadlines and/or byte budgets, a seed and an output directory.
 * sim_scenario_load checks all of it, modules' parameters included, before
 * anything is written; sim_run then computes every (channel setting, codec
 * setting) pair (a "cell") that is not already complete in the output directory and writes
 * results.csv and summary.json there.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"
#include "util/util.h"

#define SIM_VERSION "0.3.0" /* 0.2.0: uncertainty columns, hits files; 0.3.0: ARQ attempts in
                              * the sent columns, shortest exact numbers */
#define SIM_PATH_LEN 1024
#define SIM_NAME_LEN 128
#define SIM_SEEDS_MAX 100  /* seeds a scenario may list */

/* One codec setting after lists in the scenario were expanded. */
typedef struct sim_codec_setting {
    char codec[SIM_NAME_LEN];   /* registered codec name */
    char where[SIM_NAME_LEN];   /* JSON path of its entry, for messages */
    /* the codec's own label for the setting, and its transport's suffix */
    char label[SIM_NAME_LEN];
    util_params params;         /* the codec's, without "transport" */
    /* The entry's "transport": what goes on air for the codec's packets
     * (transport/layer.c); all zeros without one. */
    transport_cfg transport;
    /* The classifier that scores this setting's cells, when its entry
     * names one ("task": {"classifier": FILE}: a model adapted to this
     * codec); empty: the scenario's task.classifier. */
    char classifier[SIM_PATH_LEN];
} sim_codec_setting;

/* One channel setting after lists in the scenario were expanded. */
typedef struct sim_chan_setting {
    char model[SIM_NAME_LEN];   /* registered channel model */
    char where[SIM_NAME_LEN];   /* JSON path of its entry, for messages */
    char label[256];            /* the model's label for the setting */
    util_params params;
    size_t payload;             /* chan_payload */
    int has_arq;                /* chan_has_arq */
} sim_chan_setting;

typedef struct sim_scenario {
    char file[SIM_PATH_LEN];
    char name[SIM_NAME_LEN];
    uint64_t seed;                 /* seeds[0] */
    /* The channel realisations: "seed" as a list repeats every cell once
     * per seed (cells seed by seed, then channel by channel); with more
     * than one, the channel column of each row ends in "-seedN" and
     * seeds.csv gives each row's mean and spread across the seeds. */
    uint64_t *seeds;
    size_t nseeds;

    char dataset[SIM_NAME_LEN];
    char split[16];
    char data_dir[SIM_PATH_LEN];   /* empty: the dataset's standard place */
    size_t first, count;
    int data_size;                 /* scenes: canvas side */
    uint64_t data_seed;            /* scenes: layout seed */
    int resize_w, resize_h;        /* file datasets: 0 0 keeps the files' size */
    int channels;                  /* file datasets: 1 or 3; 0 keeps the files' */
    char images[SIM_PATH_LEN];     /* idx: the image file */
    char labels[SIM_PATH_LEN];     /* idx: the label file */
    int classes;                   /* idx: 0 for the largest label + 1 */

    sim_codec_setting *codecs;
    size_t ncodecs;

    sim_chan_setting *chans;       /* every codec runs over every one */
    size_t nchans;

    double *deadlines;             /* ascending, seconds */
    size_t ndeadlines;
    long *budgets;                 /* ascending, bytes received */
    size_t nbudgets;

    char classifier[SIM_PATH_LEN]; /* empty: no classification */
    char detector[SIM_PATH_LEN];   /* empty: no detection (mAP columns) */
    char output[SIM_PATH_LEN];

    char *json;                    /* the scenario as parsed, re-printed */
    char *overrides;               /* NULL, or the --set texts as a JSON list */
} sim_scenario;

/* Cells in the scenario: codec settings x channel settings x seeds. */
size_t sim_scenario_cells(const sim_scenario *sc);

/* Reads and fully checks a scenario. Errors start with the file name and
 * the JSON path: "s.json: channel.loss.p: expected ...". */
int sim_scenario_load(const char *path, sim_scenario **out, util_err *err);
/* The same with overrides applied to the file's JSON first, in order:
 * each "PATH=VALUE", PATH as the errors spell it (dataset.count,
 * codecs[0].quality, channel.loss.p), VALUE JSON or else a plain string.
 * A key missing on the way is added; a list item must exist. The result
 * is checked as a file would be, and sc->json (summary.json's scenario)
 * is the scenario with them; the fingerprints follow from it. */
int sim_scenario_load_set(const char *path, const char *const *sets, size_t nsets,
                          sim_scenario **out, util_err *err);
void sim_scenario_free(sim_scenario *sc);

/* Aggregates of one (codec setting, cut) pair: a row of results.csv. */
typedef struct sim_row {
    int is_budget;          /* 0: cut at a deadline, 1: at a byte budget */
    double limit;           /* seconds or bytes */
    size_t images;
    double encoded_bytes;   /* means over images from here on */
    double sent_bytes;      /* payload bytes whose sending began by the cut */
    double sent_packets;
    double received_bytes;  /* payload bytes that arrived by the cut */
    double received_packets;
    double lost_packets;    /* sent by the cut, never arrived */
    double complete;        /* fraction of images fully received */
    double psnr, ssim;
    double accuracy;        /* top-1, or NAN without a classifier */
    /* COCO-style mAP@0.5 and mAP@[.5:.95] over the cell's images (not a
     * mean over images), or NAN without a detector */
    double map50, map50_95;
    /* Their uncertainty (NAN where the figure is NAN or n < 2): PSNR's
     * and SSIM's standard errors over images; a 95 % Wilson interval for
     * accuracy (items are independent: each has its own channel draws);
     * 95 % percentile-bootstrap intervals over images for the mAPs
     * (SIM_BOOT_REPS resamplings, seeded from the scenario's seed). */
    double psnr_se, ssim_se;
    double acc_lo, acc_hi;
    double map50_lo, map50_hi, map50_95_lo, map50_95_hi;
} sim_row;

/* Resamplings of each cut's mAP bootstrap, and the stream of the scenario's
 * seed they draw from (the same resamplings for every cell and cut, so
 * that cells compared with one another were resampled alike). */
#define SIM_BOOT_REPS 1000
#define SIM_BOOT_STREAM 0x626f6f74ULL /* "boot" */

typedef struct sim_cell {
    char codec[SIM_NAME_LEN];
    char channel[256];
    sim_row *rows;           /* deadlines first, then budgets */
    size_t nrows;
    int reused;              /* read back from an earlier run */
    int detection;           /* rows carry map50 and map50_95 */
    double seconds;          /* time spent computing it (by whichever run did) */
    char host[64];           /* the host that computed it; "unknown" if not recorded */
    /* With a classifier: which items each row's classifier got right, row
     * after row, SIM_HITS_BYTES(images) bytes each, item i in bit i % 8 of
     * byte i / 8; for paired statistics across cells (limitnet compare's
     * bootstrap). NULL without a classifier. has_hits says a classifier
     * scored the cell, so a cell file without its hits is incomplete. */
    int has_hits;
    uint8_t *hits;
    /* With a detector: each row's SIM_BOOT_REPS bootstrap replicates of
     * map50, then as many of map50_95 (NAN for a replicate that drew no
     * ground truth), row after row. Every row drew the same images in
     * replicate r, so rows pair replicate by replicate (limitnet compare
     * --metric map50). A detection cell file without them is incomplete. */
    double *boot;
} sim_cell;

/* Doubles per row in sim_cell.boot. */
#define SIM_BOOT_VALUES (2 * SIM_BOOT_REPS)

#define SIM_HITS_BYTES(images) (((images) + 7) / 8)

typedef struct sim_result {
    sim_cell *cells;
    size_t ncells;
    double seconds;
    int threads;
    /* Set after a failure too: how many cells are complete in the output's
     * cells/ directory (reused or written by this run), which a rerun
     * reuses, and whether the run stopped because *opt->stop was set. */
    size_t ncomplete;
    int interrupted;
    /* Cells left to do (not selected by options.only, not complete): no
     * results.csv was written, and cells[] holds them without rows. */
    size_t ntodo;
    /* Files in the output's cells/ of fingerprints none of the scenario's
     * cells has (older builds, weights or settings): ignored, or removed
     * with options.prune. */
    size_t nstale;
} sim_result;

/* How far the cell being computed has got (sim_options.item_progress). */
typedef struct sim_item_progress {
    size_t cell, ncells;        /* its index and the scenario's cells */
    const char *codec, *channel;
    size_t done, total;         /* items finished, and items to compute */
    double seconds;             /* since its items began */
} sim_item_progress;

typedef struct sim_options {
    int threads;      /* 0: all cores */
    int force;        /* recompute cells that are already complete */
    /* Called after each cell (computed or reused), from the calling thread. */
    void (*progress)(void *ctx, const sim_cell *cell, size_t index,
                     size_t total);
    void *progress_ctx;
    /* When set, called from the calling thread about four times a second
     * while a cell's items are computed (sim_item_progress says how far),
     * with progress_ctx; a cell that takes less than that may not call it. */
    void (*item_progress)(void *ctx, const struct sim_item_progress *p);
    /* When non-NULL and nonzero, the run stops: workers take no further
     * item, the cell in progress is dropped unwritten, and sim_run fails
     * with res->interrupted set. Meant to be set from a signal handler (a
     * lock-free atomic is safe there and across threads); read, not
     * written, here. */
    const atomic_int *stop;
    /* When non-NULL: only cells with only[index] set (nonly entries; index
     * as sim_plan's) are computed; the others are reused when complete in
     * the output directory and otherwise left to do. results.csv and
     * summary.json are written only once every cell is complete. */
    const uint8_t *only;
    size_t nonly;
    /* Also write each computed cell's per-item rows (cells/LABEL-HASH.
     * items.csv, columns in scenarios/README.md); a done cell without them is computed
     * again. Off by default: they are large (a row per item and cut). */
    int per_item;
    /* Compute only items items_lo..items_hi (positions among the
     * scenario's items, inclusive) of each selected cell, as a part beside
     * it; a cell whose parts tile its items is assembled from them, by
     * this run or any later one (merge too), to the numbers one run gives. */
    int has_items;
    size_t items_lo, items_hi;
    /* Remove the output's stale cell files (sim_result.nstale) first. */
    int prune;
    /* The caller holds the output directory's lock (merge, which gathers
     * cells before it runs); else sim_run takes it: shared with only or
     * has_items, exclusive otherwise, and fails at once while another run
     * holds it in a conflicting way (sim/outdir.c). */
    int lock_held;
} sim_options;

/* What sim_run would refuse before it writes anything, checked without
 * writing: that the dataset holds the scenario's items, that the task
 * models fit it, that every codec setting encodes and decodes its first
 * item at every channel setting's payload, and that the output directory
 * can be made. For `limitnet check`. */
int sim_check(const sim_scenario *sc, util_err *err);

/* Runs the scenario, writing into sc->output. */
int sim_run(const sim_scenario *sc, const sim_options *opt, sim_result *res,
            util_err *err);
void sim_result_free(sim_result *res);

/* What sim_gather_cells found in a directory. */
typedef struct sim_gather {
    size_t copied;    /* cells of this scenario copied into its output */
    size_t present;   /* cells already complete in the output */
    size_t foreign;   /* cell files of codec settings this scenario lacks */
    size_t parts;     /* parts of its cells copied (run --items) */
    char **refused;   /* one message per file refused, naming it and why */
    size_t nrefused;
} sim_gather;

/* Copies into sc->output/cells every whole cell file of this scenario
 * found in dir (an output directory's cells/, or dir itself), with its
 * meta file, each atomically; refuses, by name, files under one of the
 * scenario's codec labels whose fingerprint is not one of its cells', and
 * cell files that do not read back whole. Adds to *g (zeroed by the
 * caller, freed with sim_gather_free). -1 only when dir cannot be read or
 * a copy cannot be written. */
int sim_gather_cells(const sim_scenario *sc, const char *dir, sim_gather *g,
                     util_err *err);
void sim_gather_free(sim_gather *g);

/* One cell as sim_run would compute it, for `limitnet plan`. */
typedef struct sim_plan_cell {
    size_t index;               /* (seed * nchans + channel) * ncodecs + codec: the run's order */
    uint64_t fingerprint;       /* the hash in its cell file's name */
    char codec[SIM_NAME_LEN];
    char channel[256];
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN]; /* its cell file */
    int done;                   /* complete in the output directory: a run reuses it */
} sim_plan_cell;

/* The scenario's cells in run order (*cells, *n of them; free *cells),
 * with whether each is already complete in sc->output. Opens the channels
 * and hashes the files the fingerprints cover, but reads no dataset and
 * writes nothing. */
int sim_plan(const sim_scenario *sc, sim_plan_cell **cells, size_t *n, util_err *err);

#endif
