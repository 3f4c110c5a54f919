/*
 * A run's hits.csv (sim/results.c writes it): which items the classifier
 * got right in each row of results.csv. Every row saw the same items with
 * the same channel draws, so a resampling of the items applies to all rows
 * at once: the paired bootstrap of `limitnet compare`.
 *
 * A replicate draws the run's n items with replacement (n draws of
 * util_rng_below(rng, n)), and each row's accuracy is the weighted share
 * of its hits. The sums are integers, exact in a double whatever their
 * order. They are taken a byte of hits at a time through a table of the
 * 256 weighted sums of each byte's eight items, built once per replicate,
 * so a replicate costs n/8 table entries per row instead of n items.
 *
 * A detection run's boot.csv holds, instead, each row's own bootstrap
 * replicates of its mAPs (sim_cell.boot): the run drew replicate r's
 * images alike for every row, so taking replicate r of every row is the
 * same paired resampling, done where the detections were at hand.
 */
#include "sim/hits.h"
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct sim_hits {
    size_t nrows, items, nbytes;
    uint8_t *bits;      /* nrows * nbytes */
    uint32_t *weight;   /* items: a replicate's counts */
    double *table;      /* nbytes * 256 */
    /* boot.csv instead: each row's reps replicates of one mAP, and the
     * replicate the next resampling takes */
    double *vals;       /* nrows * reps */
    double *scratch;    /* a row's replicates of both mAPs */
    size_t reps, next;
    int metric;         /* 0: map50, 1: map50_95 */
};

void sim_hits_free(sim_hits *h)
{
    if (!h)
        return;
    free(h->bits);
    free(h->vals);
    free(h->scratch);
    free(h->weight);
    free(h->table);
    free(h);
}

static int hex(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int sim_hits_decode(const char *x, size_t items, uint8_t *out, size_t *bad)
{
    size_t nbytes = SIM_HITS_BYTES(items);
    for (size_t b = 0; b < nbytes; b++) {
        int hi = hex(x[2 * b]), lo = hi < 0 ? -1 : hex(x[2 * b + 1]);
        if (lo < 0) {
            *bad = b;
            return 1;
        }
        out[b] = (uint8_t)(hi << 4 | lo);
    }
    return items % 8 && out[nbytes - 1] >> (items % 8) ? 2 : 0;
}

/* The first comma after the k-th one of s (k = 0: the first), or NULL. */
static char *nth_comma(char *s, int k)
{
    char *p = strchr(s, ',');
    while (p && k-- > 0)
        p = strchr(p + 1, ',');
    return p;
}

/* The start of a line "KEY,images,...", KEY the row's four key fields:
 * checks KEY against key and the images against the first row's (which
 * sets them), and returns what follows the images' comma, or NULL. */
static char *line_head(sim_hits *h, size_t row, char *line, const char *key,
                       const char *rest, util_err *err)
{
    line[strcspn(line, "\r\n")] = 0;
    char *end_key = nth_comma(line, 3);
    char *end_images = end_key ? strchr(end_key + 1, ',') : NULL;
    if (!end_images) {
        util_errf(err, "expected codec,channel,cut,limit,images,%s", rest);
        return NULL;
    }
    *end_key = 0;
    if (strcmp(line, key)) {
        util_errf(err, "row %s, where results.csv has %s", line, key);
        return NULL;
    }
    char *stop;
    unsigned long long items = strtoull(end_key + 1, &stop, 10);
    if (stop != end_images || items == 0 || items > (1ull << 32)) {
        util_errf(err, "images '%.*s' is not a count of items",
                  (int)(end_images - end_key - 1), end_key + 1);
        return NULL;
    }
    if (row == 0) {
        h->items = (size_t)items;
    } else if (items != h->items) {
        util_errf(err, "%llu items where the first row has %zu: rows of "
                  "different items cannot be paired", items, h->items);
        return NULL;
    }
    return end_images + 1;
}

/* One line of hits.csv: "KEY,images,hex". */
static int parse_line(sim_hits *h, size_t row, char *line, const char *key,
                      util_err *err)
{
    const char *x = line_head(h, row, line, key, "correct", err);
    if (!x)
        return -1;
    if (row == 0) {
        h->nbytes = (h->items + 7) / 8;
        h->bits = malloc(h->nrows * h->nbytes);
        if (!h->bits)
            return util_errf(err, "out of memory");
    }
    if (strlen(x) != 2 * h->nbytes)
        return util_errf(err, "%zu hex digits for %zu items, expected %zu",
                         strlen(x), h->items, 2 * h->nbytes);
    size_t bad = 0;
    switch (sim_hits_decode(x, h->items, h->bits + row * h->nbytes, &bad)) {
    case 1:
        return util_errf(err, "'%.2s' is not a lower-case hex byte", x + 2 * bad);
    case 2:
        return util_errf(err, "bits set past the last item");
    default:
        return 0;
    }
}

/* How many space-separated fields x has. */
static size_t count_fields(const char *x)
{
    size_t n = *x != 0;
    for (; *x; x++)
        n += *x == ' ';
    return n;
}

/* One line of boot.csv: "KEY,images,replicates", the replicates 2 x reps
 * numbers (map50's, then map50_95's), "nan" where one has no value. */
static int parse_boot_line(sim_hits *h, size_t row, char *line, const char *key,
                           util_err *err)
{
    const char *x = line_head(h, row, line, key, "replicates", err);
    if (!x)
        return -1;
    size_t n = count_fields(x);
    if (row == 0) {
        if (n < 2 || n % 2 || n / 2 > 1000000)
            return util_errf(err, "%zu replicate values: expected an even count "
                             "(map50's, then map50_95's)", n);
        h->reps = n / 2;
        h->vals = malloc(h->nrows * h->reps * sizeof *h->vals);
        h->scratch = malloc(n * sizeof *h->scratch);
        if (!h->vals || !h->scratch)
            return util_errf(err, "out of memory");
    } else if (n != 2 * h->reps) {
        return util_errf(err, "%zu replicate values where the first row has %zu",
                         n, 2 * h->reps);
    }
    size_t bad;
    if (sim_boot_decode(x, n, h->scratch, &bad)) {
        const char *at = x;
        for (size_t k = 0; k < bad; k++)
            at = strchr(at, ' ') + 1;
        return util_errf(err, "replicate %zu: '%.*s' is not a score in 0..1 or nan",
                         bad + 1, (int)strcspn(at, " "), at);
    }
    /* map50's replicates come first, then map50_95's */
    memcpy(h->vals + row * h->reps, h->scratch + (size_t)h->metric * h->reps,
           h->reps * sizeof *h->vals);
    return 0;
}

int sim_boot_decode(const char *x, size_t n, double *out, size_t *bad)
{
    for (size_t k = 0; k < n; k++) {
        char *end;
        double d = strtod(x, &end);
        int sep = k + 1 < n ? *end == ' ' : *end == 0 || *end == '\n';
        if (end == x || !sep || isinf(d) || (!isnan(d) && (d < 0 || d > 1))) {
            *bad = k;
            return -1;
        }
        out[k] = d;
        x = end + 1;
    }
    return 0;
}

/* One line of f into *line (grown as needed); 0 at the end of the file or
 * on a read error (*bad set). Lines are a row's hex: thousands of bytes. */
static int next_line(gzFile f, char **line, size_t *cap, int *bad)
{
    size_t n = 0;
    for (;;) {
        if (*cap - n < 2) {
            size_t c = *cap ? 2 * *cap : 4096;
            char *more = c < (1u << 28) ? realloc(*line, c) : NULL;
            if (!more)
                return !(*bad = 1);
            *line = more;
            *cap = c;
        }
        if (!gzgets(f, *line + n, (int)(*cap - n))) {
            int e;
            gzerror(f, &e);
            *bad = e != Z_OK && e != Z_STREAM_END;
            (*line)[n] = 0;
            return n > 0 && !*bad;
        }
        n += strlen(*line + n);
        if (n && (*line)[n - 1] == '\n')
            return 1;
    }
}

static const char HITS_HEADER[] = "codec,channel,cut,limit,images,correct\n";
static const char BOOT_HEADER[] = "codec,channel,cut,limit,images,replicates\n";

static int read_lines(gzFile f, sim_hits *h, const char *const *keys, util_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, bad = 0, boot = h->metric >= 0;
    if (!next_line(f, &line, &cap, &bad) ||
        strcmp(line, boot ? BOOT_HEADER : HITS_HEADER))
        rc = util_errf(err, "line 1: not a %s header", boot ? "boot.csv" : "hits.csv");
    size_t row = 0;
    for (; !rc && next_line(f, &line, &cap, &bad); row++) {
        if (row == h->nrows)
            rc = util_errf(err, "more rows than results.csv's %zu", h->nrows);
        else if ((boot ? parse_boot_line : parse_line)(h, row, line, keys[row], err))
            rc = util_err_prefix(err, "line %zu: ", row + 2);
    }
    if (!rc && bad)
        rc = util_errf(err, "cannot read (damaged compressed data?)");
    if (!rc && row != h->nrows)
        rc = util_errf(err, "%zu rows, results.csv has %zu", row, h->nrows);
    free(line);
    return rc;
}

/* Either file: metric -1 for hits.csv, else boot.csv's 0 (map50) or 1. */
static int load(const char *path, const char *const *keys, size_t nrows, int metric,
                sim_hits **out, util_err *err)
{
    *out = NULL;
    if (nrows == 0)
        return util_errf(err, "%s: no rows to pair", path);
    /* zlib reads a plain file as it is, and a gzip'd one (hits.csv.gz)
     * uncompressed. */
    gzFile f = gzopen(path, "rb");
    if (!f)
        return util_errf(err, "%s: cannot open", path);
    sim_hits *h = calloc(1, sizeof *h);
    int rc = h ? 0 : util_errf(err, "out of memory");
    if (!rc) {
        h->nrows = nrows;
        h->metric = metric;
        rc = read_lines(f, h, keys, err);
    }
    gzclose(f);
    if (!rc && metric < 0) {
        h->weight = malloc(h->items * sizeof *h->weight);
        h->table = malloc(h->nbytes * 256 * sizeof *h->table);
        if (!h->weight || !h->table)
            rc = util_errf(err, "out of memory");
    }
    if (rc) {
        sim_hits_free(h);
        return util_err_prefix(err, "%s: ", path);
    }
    *out = h;
    return 0;
}

int sim_hits_load(const char *path, const char *const *keys, size_t nrows,
                  sim_hits **out, util_err *err)
{
    return load(path, keys, nrows, -1, out, err);
}

int sim_hits_load_boot(const char *path, const char *const *keys, size_t nrows,
                       int metric, sim_hits **out, util_err *err)
{
    return load(path, keys, nrows, metric ? 1 : 0, out, err);
}

size_t sim_hits_reps(const sim_hits *h)
{
    return h->vals ? h->reps : 0;
}

size_t sim_hits_items(const sim_hits *h)
{
    return h->items;
}

/* The next of the run's own replicates, for every row; 1 when some row
 * has no value in it. */
static int next_replicate(sim_hits *h, double *acc)
{
    int none = 0;
    for (size_t r = 0; r < h->nrows; r++) {
        acc[r] = h->vals[r * h->reps + h->next % h->reps];
        none = none || isnan(acc[r]);
    }
    h->next++;
    return none;
}

int sim_hits_resample(sim_hits *h, util_rng *rng, double *acc)
{
    if (h->vals)
        return next_replicate(h, acc);
    memset(h->weight, 0, h->items * sizeof *h->weight);
    for (size_t i = 0; i < h->items; i++)
        h->weight[util_rng_below(rng, h->items)]++;
    for (size_t b = 0; b < h->nbytes; b++) {
        double *t = h->table + b * 256;
        t[0] = 0;
        /* each byte value's sum is a smaller value's plus its lowest bit's */
        for (int v = 1; v < 256; v++) {
            int low = __builtin_ctz((unsigned)v);
            size_t item = b * 8 + (size_t)low;
            t[v] = t[v & (v - 1)] + (item < h->items ? h->weight[item] : 0);
        }
    }
    for (size_t r = 0; r < h->nrows; r++) {
        const uint8_t *bits = h->bits + r * h->nbytes;
        double sum = 0;
        for (size_t b = 0; b < h->nbytes; b++)
            sum += h->table[b * 256 + bits[b]];
        acc[r] = sum / (double)h->items;
    }
    return 0;
}
