/*
 * Internals shared by the files of sim/: result files. The JSON helpers
 * that scenario parsing uses are in util/json.h, shared with train/.
 */
#ifndef SIM_SIM_IMPL_H
#define SIM_SIM_IMPL_H

#include <stdio.h>

#include "channels/chan.h"
#include "data/data.h"
#include "sim/sim.h"
#include "transport/transport.h"
#include "util/json.h"

/* The options data_open_ex takes for the scenario's dataset. */
data_opts sim_data_opts(const sim_scenario *sc);

/* Writes len bytes to path through a temporary file in the same directory
 * and a rename, so readers never see half a file. On failure (a full disk,
 * a file-size limit, a read-only directory) the message names path, the
 * temporary file is removed and an old file under path is left as it was.
 * Safe to call from several threads at once. */
/* Rewrites the relative paths of the scenario in root (weights, task
 * models, dataset files, traces) to lie beside `file` where such a file is
 * there; else they stay the working directory's (sim/paths.c). */
int sim_resolve_paths(cJSON *root, const char *file, util_err *err);

int sim_write_atomic(const char *path, const char *data, size_t len,
                     util_err *err);
/* One item's packets on air through a channel setting, as the runner
 * draws them (sim/arrivals.c): arr[packet on air], and order, the arrived
 * ones by arrival time (ties in send order). Zero-initialise; grown as
 * needed. */
typedef struct sim_arrivals {
    chan_arrival *arr;
    size_t *order;
    size_t n, narrived, cap;
} sim_arrivals;
/* Sends tx's packets through ch with the generator of item (its position
 * in the dataset) under the cell's seed. */
int sim_arrivals_draw(sim_arrivals *a, const chan *ch, uint64_t seed, size_t item,
                      const transport_tx *tx, util_err *err);
/* How many packets of the arrival order a cut keeps: those arrived by the
 * deadline limit (seconds), or with is_budget the longest prefix whose
 * lengths (len, per packet on air) add up to at most limit bytes; *t: when
 * the cut stops (the deadline, or the last kept arrival). */
size_t sim_arrivals_cut(const sim_arrivals *a, const size_t *len, int is_budget,
                        double limit, double *t);
/* mask[packet on air]: 1 for the first k of the arrival order. */
void sim_arrivals_mask(const sim_arrivals *a, size_t k, uint8_t *mask);
void sim_arrivals_free(sim_arrivals *a);

/* The reconstructions `train adapt` trains on (sim/adapt.c): the codec
 * settings of one family of a scenario (labels without their numbers, as
 * `compare` groups them), each item by one of them drawn uniformly, cut to
 * a prefix of 1..n of its n packets at the first channel's payload.
 * sim_adapt_reconstruct is a train_recon's reconstruct (ctx: the handle);
 * one thread at a time. */
typedef struct sim_adapt sim_adapt;
int sim_adapt_open(const char *scenario, const char *family, sim_adapt **out,
                   util_err *err);
int sim_adapt_reconstruct(void *ctx, const util_image *img, util_rng *rng, util_image *out,
                          util_err *err);
const char *sim_adapt_what(const sim_adapt *a);
void sim_adapt_close(sim_adapt *a);

/* What one image contributes to one cut of a cell. */
typedef struct sim_metrics {
    double sent_bytes, sent_packets, recv_bytes, recv_packets, lost, complete;
    double psnr, ssim, correct;
} sim_metrics;

/* A part of a cell: items lo..hi (positions in the scenario's items, hi
 * inclusive) computed alone (`run --items`), written beside the cell as
 * LABEL-HASH.part-LO-HI.csv with every value that the cell's aggregates
 * are made of, so that the parts that tile a cell give, read back in item
 * order, exactly the numbers one run would (sim/parts.c). The arrays are
 * the cell's whole: out[item * ncuts + cut], encoded[item], and with a
 * detector (max_dets > 0) dets[(item * ncuts + cut) * max_dets] and
 * ndets[item * ncuts + cut]. */
typedef struct sim_part {
    size_t lo, hi, ncuts;
    sim_metrics *out;
    double *encoded;
    struct task_det *dets;
    int *ndets;
    int max_dets;
} sim_part;
int sim_part_write(const char *cell_csv, const sim_part *p, util_err *err);
/* Finds parts of the cell that tile items 0..n-1 and reads them into p's
 * arrays (p->lo, p->hi ignored): 0 when they do, 1 when they do not (or
 * one does not read back whole), -1 for want of memory. */
int sim_parts_read(const char *cell_csv, size_t n, sim_part *p, util_err *err);
/* Whether any part of the cell lies beside it. */
int sim_parts_any(const char *cell_csv);

/* Writes ",v" to a CSV line: v exactly, in the fewest digits
 * (util_num_text; NAN as "nan"). */
void sim_csv_num(FILE *f, double v);
/* Ends text built in a memory stream f (open_memstream over *buf, *len)
 * and writes it to path at once, as sim_write_atomic; frees the text. */
int sim_write_stream(const char *path, FILE *f, char **buf, size_t *len,
                     util_err *err);
/* Removes the temporary files that sim_write_atomic left in dir when its
 * process was killed mid-write (those whose process no longer exists);
 * best effort, silent. */
void sim_clean_temps(const char *dir);
/* One cell's rows as CSV (header line first). */
int sim_cell_write(const char *path, const sim_cell *cell, util_err *err);
/* Reads a file written by sim_cell_write; expects nrows rows. Returns 1 if
 * the file is absent or unusable (then the cell is recomputed), 0 if read. */
int sim_cell_read(const char *path, size_t nrows, sim_cell *cell);

/* A sidecar's path: the cell's CSV path with ".csv" replaced by ext
 * (".hits", ".boot", ".meta.json", ".items.csv", ".part-LO-HI.csv"); -1 when csv
 * does not end in ".csv" or the result does not fit in len. */
int sim_sidecar_path(char *buf, size_t len, const char *csv, const char *ext);
/* A cell's hits (sim_cell.hits) beside its CSV, LABEL-HASH.hits: a line
 * "limitnet-hits 1 ROWS ITEMS", then a line of hex per row. sim_cell_read
 * reads it when cell->has_hits is set (and frees any earlier cell->hits),
 * refusing one whose dimensions or bit counts disagree with the rows. */
int sim_cell_hits_write(const char *csv, const sim_cell *cell, util_err *err);
/* Every cell's hits in one file beside results.csv, hits.csv: columns
 * codec, channel, cut, limit, images (the row's keys, in results.csv's
 * order) and correct (the row's hits in hex). */
int sim_hits_write(const char *path, const sim_result *res, util_err *err);

/* A detection cell's bootstrap replicates (sim_cell.boot) beside its CSV,
 * LABEL-HASH.boot: a line "limitnet-boot 1 ROWS REPS", then per row a
 * line of its REPS map50 replicates and REPS map50_95 ones ("%.9g", "nan"
 * for none), one space between. sim_cell_read reads it when
 * cell->detection is set, refusing one whose numbers do not give the
 * rows' own intervals. */
int sim_cell_boot_write(const char *csv, const sim_cell *cell, util_err *err);
/* Every detection cell's replicates in one file beside results.csv,
 * boot.csv: columns codec, channel, cut, limit, images (the row's keys, in
 * results.csv's order) and replicates (the row's line of the .boot file). */
int sim_boot_write(const char *path, const sim_result *res, util_err *err);

/* A cell's meta file beside its CSV (LABEL-HASH.meta.json): the host and
 * process that computed it and how long it took, for summary.json; not
 * part of the numbers, so a missing or damaged one only reads as host
 * "unknown", 0 seconds. */
int sim_cell_meta_write(const char *csv, const sim_cell *cell, int threads,
                        util_err *err);
void sim_cell_meta_read(const char *csv, sim_cell *cell);
/* This machine's short host name (temporary and meta files record it). */
void sim_host_name(char *buf, size_t len);

/* The output directory's lock (sim/outdir.c): flock on OUTPUT/.lock,
 * shared for a run of some cells or items, exclusive for a whole run or a
 * merge; refused at once, naming the holder when it is exclusive, if
 * another process holds it in a way that conflicts. *fd: -1 on failure. */
int sim_outdir_lock(const char *output, int shared, int *fd, util_err *err);
void sim_outdir_unlock(int fd, int shared);
/* Whether a run could create and write the output directory: its
 * deepest existing part must be a directory this process may write in.
 * Creates nothing. */
int sim_outdir_probe(const char *output, util_err *err);
/* Counts the files in dir (a cells/ directory) that look like a cell or a
 * cell's sidecar but whose LABEL-HASH stem is none of stems[0..n) (sorted
 * here), and removes them when prune is set. Temporaries are left to
 * sim_clean_temps, other files alone. */
int sim_outdir_stale(const char *dir, char **stems, size_t n, int prune, size_t *count,
                     util_err *err);

/* A codec family: the label without its "-token"s that contain a digit
 * (the swept values), j2k-layer-b153-l3-nohdr -> j2k-layer-nohdr; the
 * first token stays. limitnet compare's curves and the CompressAI files
 * are per family. */
void sim_family_of(const char *label, char *out, size_t len);
/* The run's rate points as CompressAI writes its results (sim/compressai.c):
 * OUTPUT/compressai/FAMILY.json (FAMILY@CHANNEL.json for several channel
 * settings or seeds), one point per codec setting. pixels: per image. */
int sim_compressai_write(const sim_scenario *sc, const sim_result *res, size_t pixels,
                         util_err *err);

int sim_results_write(const char *path, const sim_result *res, util_err *err);
/* With several seeds: a row per (codec, channel, cut) of the first seed's
 * cells, each metric's mean, sample standard deviation, least and
 * greatest across the seeds' cells (seeds.csv). */
int sim_seeds_write(const char *path, const sim_scenario *sc, const sim_result *res,
                    util_err *err);
int sim_summary_write(const char *path, const sim_scenario *sc,
                      const sim_result *res, util_err *err);

#endif
