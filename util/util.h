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

/* "WHAT in [LO, HI]" for an error message, or "WHAT >= LO" when HI is
 * only a representation's limit (1e15 or more: 2^53 - 1 for a count read
 * from JSON), so that no message asks for a number in
 * [0, 9.00719925474099e+15]. */
void util_range_text(char *buf, size_t len, const char *what, double lo, double hi);

/* ---- statistics (util/stats.c) ------------------------------------------ */

/* The standard normal's quantile at p in (0, 1) (NAN outside): 1.95996
 * at 0.975, to about double precision. */
double util_normal_quantile(double p);
/* The Wilson score interval of k successes in n trials at the given level
 * (0.95 for a 95 % interval): better than the normal one near 0 and 1,
 * where a codec's accuracy with nothing received (chance) or at full
 * quality sits. NAN ends for n <= 0 or k outside 0..n. */
void util_wilson(double k, double n, double level, double *lo, double *hi);
/* The standard error of the mean of x[0..n): the sample standard
 * deviation over sqrt(n); NAN for n < 2. */
double util_mean_se(const double *x, size_t n);
/* The p-quantile of n sorted values by linear interpolation between order
 * statistics (Hyndman and Fan's type 7, R's and numpy's default); NAN
 * for n == 0 or p outside [0, 1]. */
double util_quantile(const double *sorted, size_t n, double p);
/* Sorts ascending (no NANs). */
void util_sort_doubles(double *x, size_t n);
/* The percentile interval at the given level (0.95: the 2.5 % and 97.5 %
 * quantiles, as util_quantile reads them) of the numbers among v[0..n),
 * NANs left out: moves them to v's front and sorts them there. Both ends
 * NAN when none is a number; lo or hi may be NULL. */
void util_interval(double *v, size_t n, double level, double *lo, double *hi);

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
/* The ITU-R BT.601 luma of an RGB colour, 0.299 R + 0.587 G + 0.114 B,
 * rounded: what a grey version of a colour image holds. */
uint8_t util_luma(const uint8_t rgb[3]);

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
/* mkdir -p: creates path and the directories above it; fails, naming the
 * directory, when one cannot be made or path is not a directory. */
int util_mkdirs(const char *path, util_err *err);
/* True when s is one of the NULL-terminated names. */
int util_in_list(const char *const *names, const char *s);
/* The names quoted, with ", " between ("\"jpeg\", \"j2k\""), for messages
 * that list what is known; cut to fit len. */
void util_list_text(char *buf, size_t len, const char *const *names);
/* v as the shortest of %.15g, %.16g and %.17g that reads back as v
 * (251.355, not 251.35499999999999): exact, and as people write it. buf
 * takes UTIL_NUM_LEN bytes. */
#define UTIL_NUM_LEN 32
void util_num_text(char *buf, double v);
/* printf-appends to buf at *off (then advanced); what would not fit is
 * cut, so callers size buf for the longest string they make. */
void util_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- drawing ------------------------------------------------------------ */

/* For contact sheets: boxes, mask outlines and labels drawn onto grey
 * (c = 1) or RGB (c = 3) images; on other images these do nothing.
 * Everything is clipped to the image: any int coordinates are safe, however
 * far outside. Colours are RGB; a grey image gets their luminance
 * (0.299 R + 0.587 G + 0.114 B, rounded), so white is 255 and pure red 76. */

/* A one-pixel outline of the rectangle with corners (x0, y0) and (x1, y1),
 * both inclusive and in either order. */
void util_draw_rect(util_image *img, int x0, int y0, int x1, int y1,
                    const uint8_t rgb[3]);
/* The same rectangle filled. */
void util_draw_fill(util_image *img, int x0, int y0, int x1, int y1,
                    const uint8_t rgb[3]);
/* The boundary of a region of mask (mw x mh bytes, row-major): the pixels
 * equal to id, or with id 0 all nonzero pixels. The mask is scaled up by the
 * integer scale (nearest; below 1 draws nothing) and placed with its top-left
 * corner at (ox, oy). The boundary is found after scaling: a region pixel
 * with a 4-neighbour outside the region (or outside the mask), so the line
 * is one pixel wide at any scale. */
void util_draw_outline(util_image *img, const uint8_t *mask, int mw, int mh,
                       int ox, int oy, int scale, uint8_t id,
                       const uint8_t rgb[3]);

/* The built-in font: 5 x 7 pixel glyphs for printable ASCII (32..126), one
 * pixel between glyphs, both multiplied by scale. Any other byte draws as an
 * outlined 5 x 7 box. */
#define UTIL_FONT_W 5
#define UTIL_FONT_H 7

/* Draws text with its top-left corner at (x, y); one line, no wrapping.
 * Every pixel set lies within util_text_width(text, scale) x
 * UTIL_FONT_H * scale from (x, y). scale below 1 draws nothing. */
void util_draw_text(util_image *img, int x, int y, const char *text,
                    const uint8_t rgb[3], int scale);
/* (6 n - 1) * scale for n bytes of text, 0 for none ("AB" at scale 1: 11);
 * INT_MAX where that would not fit. */
int util_text_width(const char *text, int scale);

/* Copies src, scaled up by the integer scale (nearest), into dst with its
 * top-left corner at (x, y), clipped. Grey into RGB replicates the value;
 * RGB into grey is an error, as are scale below 1 and src being dst. */
int util_image_blit(util_image *dst, int x, int y, const util_image *src,
                    int scale, util_err *err);

#endif
