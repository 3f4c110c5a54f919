/*
 * Internals shared by the files of sim/: result files.
 */
#ifndef SIM_SIM_IMPL_H
#define SIM_SIM_IMPL_H

#include <cJSON.h>

#include "data/data.h"
#include "sim/sim.h"

/* Writes len bytes to path through a temporary file in the same directory
 * and a rename, so readers never see half a file. */
int sim_write_atomic(const char *path, const char *data, size_t len,
                     util_err *err);
/* mkdir -p. */
int sim_mkdirs(const char *path, util_err *err);

/* One cell's rows as CSV (header line first). */
int sim_cell_write(const char *path, const sim_cell *cell, util_err *err);
/* Reads a file written by sim_cell_write; expects nrows rows. Returns 1 if
 * the file is absent or unusable (then the cell is recomputed), 0 if read. */
int sim_cell_read(const char *path, size_t nrows, sim_cell *cell);

int sim_results_write(const char *path, const sim_result *res, util_err *err);
int sim_summary_write(const char *path, const sim_scenario *sc,
                      const sim_result *res, util_err *err);

/* ---- JSON files with paths (sim/json.c) ---------------------------------- */

/* Reads and parses a whole file; errors say what, not which file. */
int sim_json_load(const char *path, cJSON **root, util_err *err);
const char *sim_json_type(const cJSON *j);
/* "path.key", or "key" at the top level. */
const char *sim_json_join(char *buf, size_t len, const char *path,
                          const char *key);
/* True when s is one of the NULL-terminated names. */
int sim_in_list(const char *const *names, const char *s);
/* obj must be an object whose keys are all in known, none twice. */
int sim_json_keys(const cJSON *obj, const char *path,
                  const char *const *known, util_err *err);
/* Getters: an absent key (or a NULL obj) gives def; def NULL makes a string
 * required. Wrong types and values name path.key and what was expected. */
int sim_json_str(const cJSON *obj, const char *path, const char *key,
                 const char *def, char *out, size_t len, util_err *err);
int sim_json_num(const cJSON *obj, const char *path, const char *key,
                 double def, double lo, double hi, double *out, util_err *err);
int sim_json_int(const cJSON *obj, const char *path, const char *key,
                 double def, double lo, double hi, double *out, util_err *err);
int sim_json_bool(const cJSON *obj, const char *path, const char *key,
                  int def, int *out, util_err *err);

/* ---- training (sim/cmd_train.c, sim/train_limitnet.c) ----------------------- */

/* Opens a dataset's training split and holds out its last `validation`
 * items (val is NULL when there are none). */
int sim_train_split(const char *dataset, const char *dir, int validation,
                    int batch, data_set **train, data_set **val, size_t *ntrain,
                    util_err *err);
/* perm = a random permutation of 0..n-1. */
void sim_shuffle(size_t *perm, size_t n, util_rng *rng);

/* Trains, calibrates and saves a LimitNet model from a config file;
 * returns the exit status (0, 1 failure, 2 bad config). */
int sim_train_limitnet(const char *config, int want_resume, util_err *err);

#endif
