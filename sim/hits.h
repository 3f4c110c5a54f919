/*
 * Internal to sim/: a run's per-item hits (hits.csv), or a detection
 * run's bootstrap replicates (boot.csv), and the paired resampling
 * `limitnet compare` draws its intervals from (sim/hits.c).
 */
#ifndef SIM_HITS_H
#define SIM_HITS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct sim_hits sim_hits;

/* Reads path (a hits.csv) whose rows must be, in order, the nrows rows
 * whose keys ("codec,channel,cut,limit" as results.csv spells them) are
 * keys[]; every row must have the same item count. Errors name the file
 * and the line. */
int sim_hits_load(const char *path, const char *const *keys, size_t nrows,
                  sim_hits **out, util_err *err);
void sim_hits_free(sim_hits *h);
size_t sim_hits_items(const sim_hits *h);
/* Decodes one row of hits from hex (2 lower-case digits a byte, item i in
 * bit i % 8 of byte i / 8; the digits for SIM_HITS_BYTES(items) bytes)
 * into out: 0; 1 for a byte that is not hex (*bad: which); 2 for bits set
 * past the last item. For both readers: hits.csv's and a cell's. */
int sim_hits_decode(const char *hex, size_t items, uint8_t *out, size_t *bad);
/* Decodes n bootstrap replicates separated by single spaces (a row of a
 * cell's .boot file or of boot.csv), each a score in 0..1 or "nan", the
 * last followed by the string's end or a line end, into out: 0; or -1
 * with *bad the (0-based) field that is not one. For both readers. */
int sim_boot_decode(const char *x, size_t n, double *out, size_t *bad);
/* Reads path (a boot.csv) as sim_hits_load reads a hits.csv: each row's
 * own bootstrap replicates of map50 (metric 0) or map50_95 (1), which
 * the run drew alike for every row (sim_cell.boot). */
int sim_hits_load_boot(const char *path, const char *const *keys, size_t nrows,
                       int metric, sim_hits **out, util_err *err);
/* How many replicates a boot.csv holds; 0 for a hits.csv, whose
 * resamplings are drawn afresh without end. */
size_t sim_hits_reps(const sim_hits *h);
/* One bootstrap replicate: resamples the items (the file comment) and
 * writes each row's accuracy under that resampling to acc[nrows]; from a
 * boot.csv, takes the next of its replicates in order instead (rng
 * unused). Returns 1 when some row has no value in it (a replicate that
 * drew no ground truth), else 0. */
int sim_hits_resample(sim_hits *h, util_rng *rng, double *acc);

#endif
