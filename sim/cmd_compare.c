/*
 * `limitnet compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES]
 *                   [--out NAME] [--metric accuracy|map50|map50_95]
 *                   [--boot N] [--seed S]`
 *
 *   int sim_cmd_compare(int argc, char **argv);   (declared in sim/cli.h)
 *
 * Turns a run's results.csv into accuracy-against-bytes curves (or, with
 * --metric, mAP-against-bytes curves of a detection run), one per
 * codec family (the setting label without its numeric parts:
 * jpeg-abbreviated-q30 -> jpeg-abbreviated, limitnet-k0.25 -> limitnet),
 * and compares them at equal bytes, as issue 4 asks, under the rule issue
 * 15 (point 2) settled:
 *
 *   curve      every row of the family (each setting, each cut) is a point
 *              (mean received bytes, accuracy); rows that received nothing
 *              give its empty-reception accuracy. The curve is a step
 *              curve: at b bytes, the best accuracy among its points with
 *              at most b bytes, and the empty-reception accuracy when none
 *              has. Points below the empty reception are dropped from the
 *              envelope (a sender can always send nothing). Nothing is
 *              drawn between two points, because no budget buys what lies
 *              between them: with whole packets a 40-byte budget over
 *              51-byte packets receives nothing, so LimitNet scores its
 *              empty-reception 9 % there, where the old linear rule (a line
 *              from (0 B, 9 %) to (51 B, 85.5 %)) gave it 69 %. Nor can a
 *              sender mix two settings to land between them: the budget
 *              holds for every image, not for their mean
 *   grid       64 log-spaced budgets from --from (16) bytes to the bytes
 *              of the measured point at which the best reference (the
 *              pointwise best of the --ref families, JPEG's three modes by
 *              default) first comes within 0.5 pp of the clean accuracy;
 *              the last budget is set to exactly those bytes, so that
 *              rounding in the log spacing cannot leave the point off the
 *              grid. If no reference gets there, the grid runs to the
 *              largest point of the references' envelopes (where the best
 *              accuracy any of them reaches is reached); if that end is not
 *              above --from, to twice --from. comparison.md says which
 *   figures    the same rule everywhere: each family's mean gain over the
 *              best reference across the grid; the bytes each needs for
 *              90 % of the clean accuracy, those of its smallest measured
 *              point that reaches it (never an interpolated crossing); and,
 *              for limitnet against limitnet-nosal, the budgets below half
 *              of limitnet's full stream where content awareness loses
 *   intervals  a paired percentile bootstrap over items (sim/hits.c):
 *              every replicate resamples the items once for all rows,
 *              rebuilds every curve and measures every figure again on
 *              the same grid; each point keeps its measured mean bytes.
 *              On top-1 from hits.csv, when the run wrote one, resampled
 *              here (--boot, --seed). On an mAP from boot.csv, the run's
 *              own SIM_BOOT_REPS replicates of every row (each one's
 *              images drawn alike for every row from the scenario's seed,
 *              as the mAP is no sum over images that could be reweighted
 *              here cheaply): the first --boot of them; --seed is unused
 *
 * Writes, into RESULTS_DIR (NAME defaults to comparison):
 *
 *   NAME.csv   one row per grid budget, in increasing bytes; accuracies as
 *              fractions (0-1). Columns: bytes (the budget: bytes
 *              received, every header and side-grid byte counted),
 *              best_reference (the best of the reference curves there),
 *              then one per family, named after it, in order of first
 *              appearance in results.csv (its curve there)
 *   NAME.md    the references; the curve rule ("Curves:"); the grid and
 *              which end it took; a table with one row per family: mean
 *              top-1 on the grid (its curve averaged over the 64 budgets),
 *              gain over best reference (the mean over the budgets of its
 *              curve minus best_reference, in pp), bytes for 90 % of clean
 *              (as above, "never" if no point reaches it) and vs best
 *              reference (those bytes as a share of the fewest any
 *              reference needs); and, when the run has both limitnet and
 *              limitnet-nosal, at how many grid budgets below half of
 *              limitnet's largest mean encoded size limitnet scores below
 *              limitnet-nosal, and the worst such loss
 *
 * and prints NAME.md.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/hits.h"
#include "sim/sim_impl.h"

#define GRID 64
#define MAX_FAMILIES 32
#define MAX_REFS 8
#define FAMILY_LEN 96
/* "Within 0.5 pp of the clean accuracy", as a fraction. */
#define NEAR_CLEAN 0.005

typedef struct point {
    double bytes, acc;
} point;

typedef struct family {
    char name[FAMILY_LEN];
    point *pt;      /* after envelope(): the envelope, increasing in both */
    size_t n, cap;
    double empty;   /* accuracy with nothing received; NAN if unseen */
    double full;    /* largest mean encoded size */
} family;

/* The score a comparison reads (--metric): a column of results.csv, the
 * word for it in comparison.md, and the task model that writes it. */
typedef struct metric {
    const char *column, *word, *model;
} metric;

static const metric metrics[] = {
    {"accuracy", "top-1", "classifier"},
    {"map50", "mAP@0.5", "detector"},
    {"map50_95", "mAP@[.5:.95]", "detector"},
};

/* A row of results.csv as the comparison reads it. */
typedef struct trow {
    size_t fam;
    double bytes, enc, acc;
    char *key;      /* "codec,channel,cut,limit": hits.csv's row key */
} trow;

typedef struct table {
    family fam[MAX_FAMILIES];
    size_t n;
    char channel[FAMILY_LEN]; /* the one channel setting of the run */
    const metric *m;
    trow *rows;
    size_t nrows, caprows;
} table;

static family *find(table *t, const char *name, util_err *err)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->fam[i].name, name) == 0)
            return &t->fam[i];
    if (t->n == MAX_FAMILIES) {
        util_errf(err, "more than %d codec families", MAX_FAMILIES);
        return NULL;
    }
    family *f = &t->fam[t->n++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->empty = NAN;
    return f;
}

static int add(family *f, double bytes, double acc, double encoded, util_err *err)
{
    if (f->full < encoded)
        f->full = encoded;
    if (bytes <= 0) {
        f->empty = isnan(f->empty) || acc > f->empty ? acc : f->empty;
        return 0;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        point *p = realloc(f->pt, cap * sizeof *p);
        if (!p)
            return util_errf(err, "out of memory");
        f->pt = p;
        f->cap = cap;
    }
    f->pt[f->n++] = (point){bytes, acc};
    return 0;
}

/* A whole, finite decimal number: 0, or -1 for anything else ("1x", "",
 * "nan", "inf"), which atof would have read as something. */
static int number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Column indices of the fields we need, from the header line. */
typedef struct cols {
    int codec, channel, cut, limit, encoded, received, accuracy, n;
} cols;

static int header(char *line, const metric *m, cols *c, util_err *err)
{
    *c = (cols){-1, -1, -1, -1, -1, -1, -1, 0};
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c->n++) {
        if (!strcmp(tok, "codec")) c->codec = c->n;
        if (!strcmp(tok, "channel")) c->channel = c->n;
        if (!strcmp(tok, "cut")) c->cut = c->n;
        if (!strcmp(tok, "limit")) c->limit = c->n;
        if (!strcmp(tok, "encoded_bytes")) c->encoded = c->n;
        if (!strcmp(tok, "received_bytes")) c->received = c->n;
        if (!strcmp(tok, m->column)) c->accuracy = c->n;
    }
    if (c->codec < 0 || c->channel < 0 || c->cut < 0 || c->limit < 0 ||
        c->encoded < 0 || c->received < 0 || c->accuracy < 0)
        return util_errf(err, "header lacks codec, channel, cut, limit, "
                         "encoded_bytes, received_bytes or %s", m->column);
    return 0;
}

static int row(char *line, const cols *c, table *t, util_err *err)
{
    /* The line end belongs to no field: without this the last column
     * would fail the numbers' full-string check or the channel match. */
    line[strcspn(line, "\r\n")] = 0;
    char *f[64];
    int n = 0;
    for (char *p = line; n < 64;) {
        f[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = 0;
        p = comma + 1;
    }
    if (n != c->n)
        return util_errf(err, "%d fields, header has %d", n, c->n);
    double acc, bytes, enc;
    if (number(f[c->accuracy], &acc))
        return util_errf(err, "%s '%s' is not a number (a run without a %s "
                         "cannot be compared on it)", t->m->column, f[c->accuracy],
                         t->m->model);
    if (acc < 0 || acc > 1)
        return util_errf(err, "%s %s is not a fraction in 0..1", t->m->column,
                         f[c->accuracy]);
    if (number(f[c->received], &bytes) || bytes < 0)
        return util_errf(err, "received_bytes '%s' is not a number of bytes",
                         f[c->received]);
    if (number(f[c->encoded], &enc) || enc < 0)
        return util_errf(err, "encoded_bytes '%s' is not a number of bytes",
                         f[c->encoded]);
    /* Curves over different channels must not be mixed into one. */
    if (!t->channel[0])
        snprintf(t->channel, sizeof t->channel, "%s", f[c->channel]);
    else if (strcmp(t->channel, f[c->channel]) != 0)
        return util_errf(err, "rows for channels %s and %s: compare takes a "
                         "run over one channel setting", t->channel, f[c->channel]);
    char name[FAMILY_LEN];
    sim_family_of(f[c->codec], name, sizeof name);
    family *fam = find(t, name, err);
    if (!fam)
        return -1;
    if (t->nrows == t->caprows) {
        size_t cap = t->caprows ? 2 * t->caprows : 256;
        trow *r = realloc(t->rows, cap * sizeof *r);
        if (!r)
            return util_errf(err, "out of memory");
        t->rows = r;
        t->caprows = cap;
    }
    size_t klen = strlen(f[c->codec]) + strlen(f[c->channel]) + strlen(f[c->cut]) +
                  strlen(f[c->limit]) + 4;
    char *key = malloc(klen);
    if (!key)
        return util_errf(err, "out of memory");
    snprintf(key, klen, "%s,%s,%s,%s", f[c->codec], f[c->channel], f[c->cut],
             f[c->limit]);
    t->rows[t->nrows++] = (trow){(size_t)(fam - t->fam), bytes, enc, acc, key};
    return 0;
}

static void envelope(family *f);

/* The families' points from the rows, with acc[r] as row r's score, and
 * their envelopes. */
static int build(table *t, const double *acc, util_err *err)
{
    for (size_t i = 0; i < t->n; i++) {
        t->fam[i].n = 0;
        t->fam[i].empty = NAN;
        t->fam[i].full = 0;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        const trow *w = &t->rows[r];
        if (add(&t->fam[w->fam], w->bytes, acc[r], w->enc, err))
            return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        envelope(&t->fam[i]);
    return 0;
}

static int load(const char *path, table *t, util_err *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return util_errf(err, "%s: cannot open", path);
    char line[4096];
    cols c = {-1, -1, -1, -1, -1, -1, -1, 0};
    int rc = 0, lineno = 1;
    if (!fgets(line, sizeof line, fp))
        rc = util_errf(err, "%s: empty", path);
    else if (header(line, t->m, &c, err))
        rc = util_err_prefix(err, "%s: ", path);
    while (!rc && fgets(line, sizeof line, fp)) {
        lineno++;
        if (row(line, &c, t, err))
            rc = util_err_prefix(err, "%s: line %d: ", path, lineno);
    }
    fclose(fp);
    if (!rc && t->n == 0)
        rc = util_errf(err, "%s: no rows", path);
    return rc;
}

/* By bytes, and at equal bytes the better point first, so that the
 * envelope keeps it. */
static int by_bytes(const void *a, const void *b)
{
    const point *x = a, *y = b;
    if (x->bytes != y->bytes)
        return (x->bytes > y->bytes) - (x->bytes < y->bytes);
    return (x->acc < y->acc) - (x->acc > y->acc);
}

/* Keeps only the points that beat the empty reception and every smaller
 * point: the upper envelope, increasing in bytes and in accuracy. The
 * first point to reach any accuracy is always kept, so the envelope
 * answers "the smallest measured point that reaches it" too. */
static void envelope(family *f)
{
    if (isnan(f->empty))
        f->empty = 0;
    qsort(f->pt, f->n, sizeof *f->pt, by_bytes);
    size_t k = 0;
    double best = f->empty;
    for (size_t i = 0; i < f->n; i++)
        if (f->pt[i].acc > best) {
            best = f->pt[i].acc;
            f->pt[k++] = f->pt[i];
        }
    f->n = k;
}

/* The step curve at b bytes: the best point that b bytes buy. */
static double curve(const family *f, double b)
{
    double acc = f->empty;
    for (size_t i = 0; i < f->n && f->pt[i].bytes <= b; i++)
        acc = f->pt[i].acc;
    return acc;
}

/* The bytes of f's smallest measured point with at least acc (0 if the
 * empty reception has it), or NAN if none has. */
static double bytes_for(const family *f, double acc)
{
    if (f->empty >= acc)
        return 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->pt[i].acc >= acc)
            return f->pt[i].bytes;
    return NAN;
}

/* The best accuracy f reaches anywhere. */
static double top_acc(const family *f)
{
    return f->n ? f->pt[f->n - 1].acc : f->empty;
}

typedef struct refs {
    const family *f[MAX_REFS];
    int n;
} refs;

static double best_ref(const refs *r, double b)
{
    double best = 0;
    for (int i = 0; i < r->n; i++) {
        double v = curve(r->f[i], b);
        best = v > best ? v : best;
    }
    return best;
}

/* Where the grid ends, and why. */
typedef struct grid_end {
    double bytes; /* the measured point's bytes, or the largest one's */
    int ref;      /* the reference that came within 0.5 pp; -1: none did */
    double reach; /* none did: the best accuracy any reference reaches */
} grid_end;

/* Where the best reference first comes within 0.5 pp of clean: each step
 * curve only rises, so that is the smallest of the references' points
 * that get there (the first reference named, at equal bytes). If none
 * does, the largest of the references' envelope points, past which no
 * reference curve rises any more. */
static grid_end find_end(const refs *r, double clean)
{
    grid_end e = {INFINITY, -1, 0};
    for (int i = 0; i < r->n; i++) {
        double b = bytes_for(r->f[i], clean - NEAR_CLEAN);
        if (!isnan(b) && b < e.bytes) {
            e.bytes = b;
            e.ref = i;
        }
    }
    if (e.ref >= 0)
        return e;
    e.bytes = 0;
    for (int i = 0; i < r->n; i++) {
        const family *f = r->f[i];
        if (f->n && f->pt[f->n - 1].bytes > e.bytes)
            e.bytes = f->pt[f->n - 1].bytes;
        e.reach = top_acc(f) > e.reach ? top_acc(f) : e.reach;
    }
    return e;
}

static const family *named(const table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->fam[i].name, name))
            return &t->fam[i];
    return NULL;
}

/* ---- output ---------------------------------------------------------------------- */

/* A growing text; a failed allocation is remembered and reported once. */
typedef struct text {
    char *s;
    size_t len, cap;
    int oom;
} text;

__attribute__((format(printf, 2, 3)))
static void say(text *tx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || tx->oom)
        return;
    if (tx->len + (size_t)n + 1 > tx->cap) {
        size_t cap = (tx->len + (size_t)n + 1) * 2;
        char *m = realloc(tx->s, cap);
        if (!m) {
            tx->oom = 1;
            return;
        }
        tx->s = m;
        tx->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(tx->s + tx->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tx->len += (size_t)n;
}

typedef struct report {
    const char *out; /* file name stem */
    double from, to, clean;
    int to_given;    /* --to set the grid's end */
    double grid[GRID];
    text md;
} report;

static int write_file(const char *dir, const char *stem, const char *ext,
                      const text *tx, util_err *err)
{
    if (tx->oom)
        return util_errf(err, "out of memory");
    char path[SIM_PATH_LEN + 128];
    int n = snprintf(path, sizeof path, "%s/%s.%s", dir, stem, ext);
    if (n < 0 || (size_t)n >= sizeof path)
        return util_errf(err, "%s/%s.%s: path too long", dir, stem, ext);
    return sim_write_atomic(path, tx->s ? tx->s : "", tx->len, err);
}


/* The grid line: its ends, and which of the cases set the upper. */
static void grid_line(report *rp, const refs *r, const grid_end *e)
{
    say(&rp->md, "Grid: %d log-spaced budgets, %.6g to %.1f bytes: ", GRID,
        rp->from, rp->to);
    double clean = 100 * rp->clean;
    if (rp->to_given)
        say(&rp->md, "--to, as asked (the references alone would end it at %.1f "
            "bytes).\n\n", e->bytes > rp->from ? e->bytes : 2 * rp->from);
    else if (e->ref >= 0 && e->bytes > rp->from)
        say(&rp->md, "where the best reference, %s, comes within 0.5 pp of the "
            "clean %.2f %% (a measured point).\n\n", r->f[e->ref]->name, clean);
    else if (e->ref >= 0)
        say(&rp->md, "twice --from, since the best reference, %s, comes within "
            "0.5 pp of the clean %.2f %% already at %.1f bytes.\n\n",
            r->f[e->ref]->name, clean, e->bytes);
    else if (e->bytes > rp->from)
        say(&rp->md, "the largest reference point, since no reference comes "
            "within 0.5 pp of the clean %.2f %% (the best reaches %.2f %%).\n\n",
            clean, 100 * e->reach);
    else
        say(&rp->md, "twice --from, since no reference comes within 0.5 pp of "
            "the clean %.2f %% (the best reaches %.2f %%) and the largest "
            "reference point, %.1f bytes, is not above --from.\n\n", clean,
            100 * e->reach, e->bytes);
}

/* The figures of one evaluation of the curves (the point estimate, or a
 * bootstrap replicate): per family its mean and gain over the best
 * reference on the grid and its bytes for 90 % of clean (NAN: never), and
 * limitnet minus limitnet-nosal below half of limitnet's full stream. */
typedef struct figs {
    double mean[MAX_FAMILIES], gain[MAX_FAMILIES], bytes90[MAX_FAMILIES];
    double sal;     /* NAN without both families or budgets below half */
} figs;

static void measure(const report *rp, const table *t, const refs *r, figs *fg)
{
    double target = 0.9 * rp->clean, best[GRID];
    for (int g = 0; g < GRID; g++)
        best[g] = best_ref(r, rp->grid[g]);
    for (size_t i = 0; i < t->n; i++) {
        const family *f = &t->fam[i];
        double mean = 0, gain = 0;
        for (int g = 0; g < GRID; g++) {
            double v = curve(f, rp->grid[g]);
            mean += v / GRID;
            gain += (v - best[g]) / GRID;
        }
        fg->mean[i] = mean;
        fg->gain[i] = gain;
        fg->bytes90[i] = bytes_for(f, target);
    }
    const family *sal = named(t, "limitnet"), *nosal = named(t, "limitnet-nosal");
    double sum = 0;
    int checked = 0;
    for (int g = 0; sal && nosal && g < GRID; g++)
        if (rp->grid[g] < sal->full / 2) {
            sum += curve(sal, rp->grid[g]) - curve(nosal, rp->grid[g]);
            checked++;
        }
    fg->sal = checked ? sum / checked : NAN;
}

/* 95 % percentile intervals of the figures over bootstrap replicates. */
typedef struct spread {
    int reps;       /* 0: no intervals */
    int from_run;   /* the run's replicates (boot.csv), not hits.csv's */
    size_t items;
    uint64_t seed;
    double gain_lo[MAX_FAMILIES], gain_hi[MAX_FAMILIES];
    double b90_lo[MAX_FAMILIES], b90_hi[MAX_FAMILIES]; /* INFINITY: never */
    double sal_lo, sal_hi;
    /* each family's curve on the grid: [family][budget] */
    double curve_lo[MAX_FAMILIES][GRID], curve_hi[MAX_FAMILIES][GRID];
    const char *why; /* reps == 0: why there are none */
} spread;

/* Runs the replicates: each resamples the items once for every row
 * (paired), rebuilds the curves and measures them on the same grid. */
static int bootstrap(report *rp, table *t, const refs *r, sim_hits *h, spread *sp,
                     util_err *err)
{
    size_t nf = t->n, reps = (size_t)sp->reps;
    double *acc = malloc((t->nrows + 1) * sizeof *acc);
    /* per replicate: each family's gain and bytes, limitnet minus nosal,
     * and each family's curve at each budget */
    size_t nval = 2 * nf + 1 + nf * GRID;
    double *val = malloc(nval * reps * sizeof *val);
    figs *fg = malloc(sizeof *fg);
    int rc = acc && val && fg ? 0 : util_errf(err, "out of memory");
    util_rng rng;
    util_rng_seed(&rng, sp->seed);
    for (size_t b = 0; !rc && b < reps; b++) {
        if (sim_hits_resample(h, &rng, acc)) {
            /* no value in this replicate: NAN, which the intervals leave out */
            for (size_t k = 0; k < nval; k++)
                val[k * reps + b] = NAN;
            continue;
        }
        rc = build(t, acc, err);
        if (rc)
            break;
        measure(rp, t, r, fg);
        for (size_t i = 0; i < nf; i++) {
            val[i * reps + b] = fg->gain[i];
            val[(nf + i) * reps + b] = isnan(fg->bytes90[i]) ? INFINITY : fg->bytes90[i];
        }
        val[2 * nf * reps + b] = fg->sal;
        for (size_t i = 0; i < nf; i++)
            for (int g = 0; g < GRID; g++)
                val[(2 * nf + 1 + i * GRID + (size_t)g) * reps + b] =
                    curve(&t->fam[i], rp->grid[g]);
    }
    for (size_t i = 0; !rc && i < nf; i++) {
        util_interval(val + i * reps, reps, 0.95, &sp->gain_lo[i], &sp->gain_hi[i]);
        util_interval(val + (nf + i) * reps, reps, 0.95, &sp->b90_lo[i], &sp->b90_hi[i]);
    }
    if (!rc)
        util_interval(val + 2 * nf * reps, reps, 0.95, &sp->sal_lo, &sp->sal_hi);
    for (size_t i = 0; !rc && i < nf; i++)
        for (int g = 0; g < GRID; g++)
            util_interval(val + (2 * nf + 1 + i * GRID + (size_t)g) * reps, reps, 0.95,
                     &sp->curve_lo[i][g], &sp->curve_hi[i][g]);
    free(acc);
    free(val);
    free(fg);
    return rc;
}

/* Bytes for the table: a number, or "never". */
static void bytes_text(char *buf, size_t len, double b)
{
    if (isfinite(b))
        snprintf(buf, len, "%.1f", b);
    else
        snprintf(buf, len, "never");
}

static void figures(report *rp, const table *t, const refs *r, const figs *fg,
                    const spread *sp)
{
    double target = 0.9 * rp->clean;
    double ref_bytes = INFINITY;
    for (int i = 0; i < r->n; i++) {
        double b = bytes_for(r->f[i], target);
        ref_bytes = !isnan(b) && b < ref_bytes ? b : ref_bytes;
    }
    if (sp->reps && sp->from_run)
        say(&rp->md, "Intervals: 95 %% paired percentile bootstrap over the %zu "
            "images (the first %d of the run's own resamplings, in boot.csv, "
            "drawn from the scenario's seed; every row resampled alike; the "
            "grid, each point's mean bytes and the clean score held fixed), in "
            "brackets.\n\n", sp->items, sp->reps);
    else if (sp->reps)
        say(&rp->md, "Intervals: 95 %% paired percentile bootstrap over the %zu "
            "items (%d resamplings of hits.csv, seed %llu; every row resampled "
            "alike; the grid, each point's mean bytes and the clean score held "
            "fixed), in brackets.\n\n", sp->items, sp->reps,
            (unsigned long long)sp->seed);
    else
        say(&rp->md, "Intervals: none (%s).\n\n", sp->why);
    say(&rp->md, "| codec family | mean %s on the grid | gain over best "
        "reference (pp) | bytes for 90 %% of clean (%.2f %%) | vs best "
        "reference |\n|---|---|---|---|---|\n", t->m->word, 100 * target);
    for (size_t i = 0; i < t->n; i++) {
        const family *f = &t->fam[i];
        double b = fg->bytes90[i];
        char bb[96], gain[96], rel[32] = "—", lo[32], hi[32];
        bytes_text(bb, sizeof bb, isnan(b) ? INFINITY : b);
        snprintf(gain, sizeof gain, "%+.2f", 100 * fg->gain[i]);
        if (sp->reps) {
            bytes_text(lo, sizeof lo, sp->b90_lo[i]);
            bytes_text(hi, sizeof hi, sp->b90_hi[i]);
            size_t n = strlen(bb);
            snprintf(bb + n, sizeof bb - n, " [%s, %s]", lo, hi);
            n = strlen(gain);
            snprintf(gain + n, sizeof gain - n, " [%+.2f, %+.2f]",
                     100 * sp->gain_lo[i], 100 * sp->gain_hi[i]);
        }
        /* a share of nothing (a reference at target with nothing
         * received) is no figure */
        if (!isnan(b) && isfinite(ref_bytes) && ref_bytes > 0)
            snprintf(rel, sizeof rel, "%.1f %%", 100 * b / ref_bytes);
        say(&rp->md, "| %s | %.2f %% | %s | %s | %s |\n", f->name,
            100 * fg->mean[i], gain, bb, rel);
    }
}

static void sal_vs_nosal(report *rp, const table *t, const figs *fg, const spread *sp)
{
    const family *s = named(t, "limitnet"), *n = named(t, "limitnet-nosal");
    if (!s || !n)
        return;
    double half = s->full / 2, worst = 0, at = 0;
    int losses = 0, checked = 0;
    for (int g = 0; g < GRID; g++) {
        double b = rp->grid[g];
        if (b >= half)
            continue;
        double d = curve(s, b) - curve(n, b);
        checked++;
        if (d < 0) {
            losses++;
            if (d < worst)
                worst = d, at = b;
        }
    }
    say(&rp->md, "\nlimitnet against limitnet-nosal below half of limitnet's full "
        "stream (%.1f bytes): %d of %d grid budgets lose", half, losses, checked);
    if (losses)
        say(&rp->md, " (worst %+.2f pp at %.1f bytes)", 100 * worst, at);
    /* the content-aware gain: the mean lead over the same budgets */
    if (checked)
        say(&rp->md, "; limitnet minus limitnet-nosal, averaged over them: %+.2f pp",
            100 * fg->sal);
    if (checked && sp->reps)
        say(&rp->md, " [%+.2f, %+.2f]", 100 * sp->sal_lo, 100 * sp->sal_hi);
    say(&rp->md, ".\n");
}

/* ---- the command ---------------------------------------------------------------------- */

static int write_csv(const char *dir, const table *t, const refs *r,
                     const report *rp, const spread *sp, util_err *err)
{
    text csv = {NULL, 0, 0, 0};
    say(&csv, "bytes,best_reference");
    for (size_t i = 0; i < t->n; i++)
        say(&csv, ",%s", t->fam[i].name);
    /* the bands after every curve, so a run without intervals keeps the
     * columns it always had */
    for (size_t i = 0; sp->reps && i < t->n; i++)
        say(&csv, ",%s_lo,%s_hi", t->fam[i].name, t->fam[i].name);
    for (int g = 0; g < GRID; g++) {
        say(&csv, "\n%.3f,%.5f", rp->grid[g], best_ref(r, rp->grid[g]));
        for (size_t i = 0; i < t->n; i++)
            say(&csv, ",%.5f", curve(&t->fam[i], rp->grid[g]));
        for (size_t i = 0; sp->reps && i < t->n; i++)
            say(&csv, ",%.5f,%.5f", sp->curve_lo[i][g], sp->curve_hi[i][g]);
    }
    say(&csv, "\n");
    int rc = write_file(dir, rp->out, "csv", &csv, err);
    free(csv.s);
    return rc;
}

/* What the comparison is asked for, beside the results directory. */
typedef struct request {
    const char *dir, *out;
    const metric *m;
    double clean, from, to; /* to: 0 for the references' end */
    const char *refs[MAX_REFS];
    int nref;
    int reps;           /* bootstrap resamplings; 0: none */
    uint64_t seed;
} request;

/* The rows' own scores. */
static double *point_scores(const table *t, util_err *err)
{
    double *acc = malloc((t->nrows + 1) * sizeof *acc);
    if (!acc) {
        util_errf(err, "out of memory");
        return NULL;
    }
    for (size_t r = 0; r < t->nrows; r++)
        acc[r] = t->rows[r].acc;
    return acc;
}

/* DIR/NAME, or DIR/NAME.gz as a committed copy keeps it, into path; 0 if
 * neither is there. */
static int find_beside(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    if (access(path, R_OK) == 0)
        return 1;
    snprintf(path, len, "%s/%s.gz", dir, name);
    return access(path, R_OK) == 0;
}

/* The intervals: on top-1 from DIR/hits.csv, on an mAP from the run's own
 * replicates in DIR/boot.csv, when the run wrote them; sp->why says why
 * not otherwise. Leaves the curves as they were (the point estimate). */
static int spread_of(const request *q, report *rp, table *t, const refs *r,
                     const double *acc, spread *sp, util_err *err)
{
    memset(sp, 0, sizeof *sp);
    sp->seed = q->seed;
    if (q->reps == 0) {
        sp->why = "--boot 0";
        return 0;
    }
    int top1 = q->m == &metrics[0];
    char path[SIM_PATH_LEN + 32];
    if (!find_beside(q->dir, top1 ? "hits.csv" : "boot.csv", path, sizeof path)) {
        sp->why = top1 ? "no hits.csv (or hits.csv.gz) beside results.csv: a run "
                         "writes one when a classifier scores its cells"
                       : "no boot.csv (or boot.csv.gz) beside results.csv: a run "
                         "writes one when a detector scores its cells";
        return 0;
    }
    const char **keys = malloc((t->nrows + 1) * sizeof *keys);
    if (!keys)
        return util_errf(err, "out of memory");
    for (size_t i = 0; i < t->nrows; i++)
        keys[i] = t->rows[i].key;
    sim_hits *h;
    int rc = top1 ? sim_hits_load(path, keys, t->nrows, &h, err)
                  : sim_hits_load_boot(path, keys, t->nrows, q->m != &metrics[1], &h, err);
    free(keys);
    if (rc)
        return -1;
    size_t have = sim_hits_reps(h);
    sp->from_run = have > 0;
    sp->reps = have && have < (size_t)q->reps ? (int)have : q->reps;
    sp->items = sim_hits_items(h);
    rc = bootstrap(rp, t, r, h, sp, err);
    sim_hits_free(h);
    return rc ? -1 : build(t, acc, err);
}

static void heading(report *rp, const request *q, const refs *r, const grid_end *e)
{
    const metric *m = q->m;
    /* accuracy keeps the words its committed comparisons were written with */
    if (m == &metrics[0])
        say(&rp->md, "# Accuracy against bytes: %s\n\nReferences:", q->dir);
    else
        say(&rp->md, "# %s against bytes: %s\n\nReferences:", m->word, q->dir);
    for (int i = 0; i < r->n; i++)
        say(&rp->md, " %s", r->f[i]->name);
    const char *w = m == &metrics[0] ? "accuracy" : m->word;
    say(&rp->md, ".\n\nCurves: at b bytes, the best %s of the family's "
        "measured points with at most b bytes (a step curve, from its "
        "empty-reception %s at 0 bytes).\n\n", w, w);
    grid_line(rp, r, e);
}

/* The grid: from --from to where the references say (find_end). */
static grid_end set_grid(report *rp, const refs *r)
{
    grid_end e = find_end(r, rp->clean);
    if (!rp->to_given)
        rp->to = e.bytes > rp->from ? e.bytes : 2 * rp->from;
    for (int g = 0; g < GRID - 1; g++)
        rp->grid[g] = rp->from * pow(rp->to / rp->from, (double)g / (GRID - 1));
    /* exactly the end point's bytes: pow's rounding could put the last
     * budget a hair below the point and leave it off the grid */
    rp->grid[GRID - 1] = rp->to;
    return e;
}

static int report_all(const request *q, table *t, const refs *r, report *rp,
                      const double *acc, util_err *err)
{
    grid_end e = set_grid(rp, r);
    figs *fg = malloc(sizeof *fg);
    spread *sp = malloc(sizeof *sp);
    int rc = fg && sp ? 0 : util_errf(err, "out of memory");
    if (!rc) {
        measure(rp, t, r, fg);
        rc = spread_of(q, rp, t, r, acc, sp, err);
    }
    if (!rc) {
        heading(rp, q, r, &e);
        figures(rp, t, r, fg, sp);
        sal_vs_nosal(rp, t, fg, sp);
        rc = write_csv(q->dir, t, r, rp, sp, err);
    }
    free(fg);
    free(sp);
    return rc;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->fam[i].pt);
    for (size_t i = 0; i < t->nrows; i++)
        free(t->rows[i].key);
    free(t->rows);
}

static int compare(const request *q, util_err *err)
{
    table t;
    memset(&t, 0, sizeof t);
    t.m = q->m;
    char path[SIM_PATH_LEN + 32];
    int n = snprintf(path, sizeof path, "%s/results.csv", q->dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return util_errf(err, "%s: path too long", q->dir);
    int rc = load(path, &t, err);
    double *acc = rc ? NULL : point_scores(&t, err);
    if (!rc && (!acc || build(&t, acc, err)))
        rc = -1;
    refs r = {{0}, 0};
    for (int i = 0; !rc && i < q->nref; i++) {
        const family *f = named(&t, q->refs[i]);
        if (f)
            r.f[r.n++] = f;
    }
    if (!rc && r.n == 0)
        rc = util_errf(err, "%s: none of the reference families is present", path);
    report rp = {q->out, q->from, q->to, q->clean, q->to > 0, {0}, {NULL, 0, 0, 0}};
    if (!rc && q->to > 0 && !(q->to > q->from))
        rc = util_errf(err, "--to %.6g: not above --from %.6g", q->to, q->from);
    if (!rc)
        rc = report_all(q, &t, &r, &rp, acc, err);
    if (!rc)
        rc = write_file(q->dir, q->out, "md", &rp.md, err);
    if (!rc)
        fputs(rp.md.s ? rp.md.s : "", stdout);
    free(rp.md.s);
    free(acc);
    table_free(&t);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES]\n"
        "                        [--to BYTES] [--out NAME] [--metric M] [--boot N] [--seed S]\n"
        "\n"
        "Compares a run's codec families at equal bytes. Reads RESULTS_DIR/results.csv\n"
        "(one channel setting, with a classifier); each family (a setting's label\n"
        "without its numeric tokens: jpeg-abbreviated-q30 -> jpeg-abbreviated) is a\n"
        "step curve: at b bytes, the best accuracy of its measured points with at\n"
        "most b bytes, from its empty-reception accuracy at 0 bytes. The curves are\n"
        "read on 64 log-spaced budgets up to where the best reference first comes\n"
        "within 0.5 pp of ACC. Writes NAME.csv (the curves on the grid) and NAME.md\n"
        "(gains over the best reference, bytes for 90 %% of ACC) beside results.csv,\n"
        "and prints NAME.md.\n"
        "\n"
        "  RESULTS_DIR    a run's output directory\n"
        "  --clean ACC    the task model's score on clean images, in (0, 1]\n"
        "  --metric M     the score compared: accuracy (top-1, the default), map50\n"
        "                 or map50_95 (a detection run's mAP columns)\n"
        "  --ref FAMILY   a reference family, repeatable, at most %d (default\n"
        "                 jpeg-baseline, jpeg-progressive, jpeg-abbreviated)\n"
        "  --from BYTES   the grid's first budget, above 0 (default 16)\n"
        "  --to BYTES     its last, above --from (default: the references' end), to\n"
        "                 read two runs on one grid\n"
        "  --out NAME     the output files' name, without .csv/.md (default\n"
        "                 comparison)\n"
        "  --boot N       95 %% intervals from N resamplings of the items,\n"
        "                 paired across codecs (default 1000; 0: none): of\n"
        "                 RESULTS_DIR/hits.csv for top-1; for an mAP, the first\n"
        "                 N of the run's own, in RESULTS_DIR/boot.csv\n"
        "  --seed S       top-1's resampling seed (default 1)\n"
        "  -h, --help     this help\n", MAX_REFS);
}

/* A bad number: named, then the usage, exit 2. */
static int bad_number(const char *opt, const char *want, const char *v)
{
    fprintf(stderr, "limitnet compare: %s wants %s, got '%s'\n", opt, want, v);
    usage(stderr);
    return 2;
}

/* One option's value into q (k: its index in sim_cmd_compare's opts);
 * 0, or the exit status of a bad value. */
static int option(request *q, int k, const char *v)
{
    double x;
    switch (k) {
    case 0:
        if (number(v, &q->clean) || !(q->clean > 0 && q->clean <= 1))
            return bad_number("--clean", "an accuracy in (0, 1]", v);
        return 0;
    case 1:
        /* an empty name would write RESULTS_DIR/.csv, a hidden file */
        if (!v[0]) {
            fprintf(stderr, "limitnet compare: --out wants a name\n");
            return 2;
        }
        q->out = v;
        return 0;
    case 2:
        if (number(v, &q->from) || !(q->from > 0))
            return bad_number("--from", "a number of bytes above 0", v);
        return 0;
    case 7:
        if (number(v, &q->to) || !(q->to > 0))
            return bad_number("--to", "a number of bytes above 0", v);
        return 0;
    case 4:
        q->m = NULL;
        for (size_t j = 0; j < sizeof metrics / sizeof metrics[0]; j++)
            if (strcmp(v, metrics[j].column) == 0)
                q->m = &metrics[j];
        if (!q->m) {
            fprintf(stderr, "limitnet compare: --metric: expected accuracy, map50 "
                    "or map50_95, got '%s'\n", v);
            return 2;
        }
        return 0;
    case 5:
        /* checked before the cast: a double out of int's range is undefined */
        if (number(v, &x) || !(x >= 0 && x <= 100000) || x != floor(x))
            return bad_number("--boot", "a whole number of resamplings, 0 to 100000", v);
        q->reps = (int)x;
        return 0;
    case 6:
        if (number(v, &x) || !(x >= 0 && x <= 9007199254740991.0) || x != floor(x))
            return bad_number("--seed", "a whole number, 0 to 2^53 - 1", v);
        q->seed = (uint64_t)x;
        return 0;
    default:
        if (q->nref == MAX_REFS) {
            fprintf(stderr, "limitnet compare: more than %d --ref families\n",
                    MAX_REFS);
            return 2;
        }
        q->refs[q->nref++] = v;
        return 0;
    }
}

int sim_cmd_compare(int argc, char **argv)
{
    /* Help first: before any argument is judged or any file opened. */
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    request q = {.out = "comparison", .m = &metrics[0], .clean = NAN, .from = 16,
                 .reps = 1000, .seed = 1};
    const char *v;
    static const char *const opts[] = {"--clean", "--out", "--from", "--ref",
                                       "--metric", "--boot", "--seed", "--to"};
    enum { NOPTS = sizeof opts / sizeof opts[0] };
    for (int i = 1; i < argc; i++) {
        int m = 0, k = 0;
        for (; k < NOPTS; k++)
            if ((m = sim_arg_value(argc, argv, &i, NULL, opts[k], &v)) != 0)
                break;
        if (m < 0) {
            fprintf(stderr, "limitnet compare: %s: missing value\n", opts[k]);
            return 2;
        }
        if (m == 0) {
            if (argv[i][0] != '-' && !q.dir) {
                q.dir = argv[i];
                continue;
            }
            return sim_arg_unknown("compare", argv[i]);
        }
        int rc = option(&q, k, v);
        if (rc)
            return rc;
    }
    if (!q.dir || isnan(q.clean)) {
        usage(stderr);
        return 2;
    }
    if (q.nref == 0) {
        q.refs[q.nref++] = "jpeg-baseline";
        q.refs[q.nref++] = "jpeg-progressive";
        q.refs[q.nref++] = "jpeg-abbreviated";
    }
    util_err err;
    if (compare(&q, &err)) {
        fprintf(stderr, "limitnet compare: %s\n", err.msg);
        return 1;
    }
    return 0;
}
