/*
 * Internals shared by the files of sim/: result files. The JSON helpers
 * that scenario parsing uses are in util/json.h, shared with train/.
 */
#ifndef SIM_SIM_IMPL_H
#define SIM_SIM_IMPL_H

#include "data/data.h"
#include "sim/sim.h"
#include "util/json.h"

/* Writes len bytes to path through a temporary file in the same directory
 * and a rename, so readers never see half a file. */
int sim_write_atomic(const char *path, const char *data, size_t len,
                     util_err *err);
/* One cell's rows as CSV (header line first). */
int sim_cell_write(const char *path, const sim_cell *cell, util_err *err);
/* Reads a file written by sim_cell_write; expects nrows rows. Returns 1 if
 * the file is absent or unusable (then the cell is recomputed), 0 if read. */
int sim_cell_read(const char *path, size_t nrows, sim_cell *cell);

int sim_results_write(const char *path, const sim_result *res, util_err *err);
int sim_summary_write(const char *path, const sim_scenario *sc,
                      const sim_result *res, util_err *err);

#endif
