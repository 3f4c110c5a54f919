/*
 * util/json.h: JSON files read with cJSON and checked key by key, for
 * every file the testbed reads (scenarios, training configs), so that all
 * of them report errors the same way.
 *
 * Every error names the JSON path ("channel.loss.p", "phases[2].lr") and
 * what was expected; callers add the file name, which they know and this
 * code does not. An unknown key is an error rather than ignored, so a typo
 * never silently falls back to a default. Kept out of util/util.h so that
 * only the modules that read JSON see cJSON.
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <cJSON.h>

#include "util/util.h"

/* Reads and parses a whole file (at most 16 MiB); errors say what (cannot
 * open, line and column of a syntax error), not which file. */
int util_json_load(const char *path, cJSON **root, util_err *err);
/* "a number", "a string", ...: what a value is, for error messages. */
const char *util_json_type(const cJSON *j);
/* "path.key", or "key" at the top level (path ""). */
const char *util_json_join(char *buf, size_t len, const char *path,
                           const char *key);
/* obj must be an object whose keys are all in known (NULL-terminated),
 * none twice. */
int util_json_keys(const cJSON *obj, const char *path,
                   const char *const *known, util_err *err);
/* Getters: an absent key (or a NULL obj) gives def; def NULL makes a string
 * required. Wrong types and values name path.key and what was expected.
 * util_json_int takes integral numbers only (1.5 for a count is an error,
 * not a rounding) and hands them over as a double. */
int util_json_str(const cJSON *obj, const char *path, const char *key,
                  const char *def, char *out, size_t len, util_err *err);
int util_json_num(const cJSON *obj, const char *path, const char *key,
                  double def, double lo, double hi, double *out, util_err *err);
int util_json_int(const cJSON *obj, const char *path, const char *key,
                  double def, double lo, double hi, double *out, util_err *err);
int util_json_bool(const cJSON *obj, const char *path, const char *key,
                   int def, int *out, util_err *err);

#endif
