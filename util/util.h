/*
 * util: the few things every module shares.
 *
 *   util_err     an error message buffer; functions return 0 or -1 and fill it
 *   util_rng     a seeded xoshiro256** generator, passed explicitly so that
 *                every random choice is reproducible and thread-independent
 *   util_image   an 8-bit image, row-major with interleaved channels
 *   util_params  a flat key/value list through which the scenario hands
 *                parameters to codecs, channels and tasks; each module reads
 *                the keys it knows and rejects the rest, so a typo in a
 *                scenario is an error, never a silent default
 *
 * Error messages that concern a parameter start with the parameter's key
 * ("quality: expected ..."), so a caller can prefix the JSON path it came
 * from and get "codecs[0].quality: expected ...".
 */
#ifndef UTIL_UTIL_H
#define UTIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------ */

#define UTIL_ERR_LEN 512

typedef struct util_err {
    char msg[UTIL_ERR_LEN];
} util_err;

/* Formats into err (which may be NULL) and returns -1, so that
 * `return util_errf(err, "...")` reads naturally. */
int util_errf(util_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "prefix" to an existing message: used to add a file name or a
 * JSON path on the way up. Returns -1. */
int util_err_prefix(util_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- random numbers ------------------------------------------------------ */

typedef struct util_rng {
    uint64_t s[4];
} util_rng;

void util_rng_seed(util_rng *rng, uint64_t seed);
uint64_t util_rng_next(util_rng *rng);
/* Uniform in [0, 1). */
double util_rng_uniform(util_rng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t util_rng_below(util_rng *rng, uint64_t n);
/* Standard normal (Box-Muller). */
double util_rng_normal(util_rng *rng);
/* Mixes a seed with a stream index (splitmix64 finaliser), so that e.g.
 * image i of a run gets the same generator whatever thread handles it. */
uint64_t util_seed_mix(uint64_t seed, uint64_t stream);

/* ---- images ------------------------------------------------------------- */

typedef struct util_image {
    int w, h, c;      /* width, height, channels (1 grey, 3 RGB) */
    uint8_t *px;      /* h * w * c bytes, row-major, channels interleaved */
} util_image;

int util_image_alloc(util_image *img, int w, int h, int c, util_err *err);
void util_image_free(util_image *img);
/* Sets every sample to v. */
void util_image_fill(util_image *img, uint8_t v);
size_t util_image_size(const util_image *img);

/* ---- parameters ------------------------------------------------------------- */

#define UTIL_PARAMS_MAX 48
#define UTIL_PARAM_KEY_LEN 64
#define UTIL_PARAM_STR_LEN 256

typedef enum util_param_type {
    UTIL_PARAM_NUM,
    UTIL_PARAM_STR,
    UTIL_PARAM_BOOL
} util_param_type;

typedef struct util_param {
    char key[UTIL_PARAM_KEY_LEN];
    util_param_type type;
    double num;                     /* NUM, and BOOL as 0/1 */
    char str[UTIL_PARAM_STR_LEN];   /* STR */
    int used;                       /* set by the getters */
} util_param;

typedef struct util_params {
    util_param items[UTIL_PARAMS_MAX];
    size_t n;
} util_params;

void util_params_init(util_params *p);
/* Setters replace an existing key. They fail only when the list is full or
 * a key or string is too long. */
int util_params_set_num(util_params *p, const char *key, double v, util_err *err);
int util_params_set_str(util_params *p, const char *key, const char *v, util_err *err);
int util_params_set_bool(util_params *p, const char *key, int v, util_err *err);

/* Getters: a missing key gives the default; a present key of the wrong type
 * or out of [lo, hi] is an error naming the key. */
int util_params_num(util_params *p, const char *key, double def,
                    double lo, double hi, double *out, util_err *err);
int util_params_int(util_params *p, const char *key, long def,
                    long lo, long hi, long *out, util_err *err);
int util_params_bool(util_params *p, const char *key, int def, int *out,
                     util_err *err);
/* choices: NULL-terminated list of allowed values, or NULL for any. */
int util_params_str(util_params *p, const char *key, const char *def,
                    const char *const *choices, const char **out,
                    util_err *err);
/* True when the key is present (does not mark it used). */
int util_params_has(const util_params *p, const char *key);
/* Fails, naming the first key no getter asked for. */
int util_params_check_used(const util_params *p, util_err *err);

/* ---- small helpers ------------------------------------------------------------ */

/* Monotonic wall time in seconds. */
double util_now(void);
/* Number of online CPU cores (at least 1). */
int util_ncores(void);
/* printf-appends to buf at *off (then advanced); what would not fit is
 * cut, so callers size buf for the longest string they make. */
void util_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
