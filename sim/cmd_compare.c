/*
 * `limitnet compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES]
 *                   [--out NAME] [--metric accuracy|map50|map50_95]`
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

#include "sim/cli.h"
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

typedef struct table {
    family fam[MAX_FAMILIES];
    size_t n;
    char channel[FAMILY_LEN]; /* the one channel setting of the run */
    const metric *m;
} table;

/* The label without its "-token"s that contain a digit (the swept values):
 * j2k-layer-b153-l3-nohdr -> j2k-layer-nohdr. The first token stays. */
static void family_of(const char *label, char *out, size_t len)
{
    char buf[FAMILY_LEN];
    snprintf(buf, sizeof buf, "%s", label);
    size_t at = 0;
    out[0] = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
        if (at && strpbrk(tok, "0123456789"))
            continue;
        int n = snprintf(out + at, len - at, "%s%s", at ? "-" : "", tok);
        at = n > 0 && at + (size_t)n < len ? at + (size_t)n : at;
    }
}

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
    int codec, channel, encoded, received, accuracy, n;
} cols;

static int header(char *line, const metric *m, cols *c, util_err *err)
{
    *c = (cols){-1, -1, -1, -1, -1, 0};
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c->n++) {
        if (!strcmp(tok, "codec")) c->codec = c->n;
        if (!strcmp(tok, "channel")) c->channel = c->n;
        if (!strcmp(tok, "encoded_bytes")) c->encoded = c->n;
        if (!strcmp(tok, "received_bytes")) c->received = c->n;
        if (!strcmp(tok, m->column)) c->accuracy = c->n;
    }
    if (c->codec < 0 || c->channel < 0 || c->encoded < 0 || c->received < 0 ||
        c->accuracy < 0)
        return util_errf(err, "header lacks codec, channel, encoded_bytes, "
                         "received_bytes or %s", m->column);
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
    family_of(f[c->codec], name, sizeof name);
    family *fam = find(t, name, err);
    return fam ? add(fam, bytes, acc, enc, err) : -1;
}

static int load(const char *path, table *t, util_err *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return util_errf(err, "%s: cannot open", path);
    char line[4096];
    cols c = {-1, -1, -1, -1, -1, 0};
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

static int write_csv(const char *dir, const table *t, const refs *r,
                     const report *rp, util_err *err)
{
    text csv = {NULL, 0, 0, 0};
    say(&csv, "bytes,best_reference");
    for (size_t i = 0; i < t->n; i++)
        say(&csv, ",%s", t->fam[i].name);
    for (int g = 0; g < GRID; g++) {
        say(&csv, "\n%.3f,%.5f", rp->grid[g], best_ref(r, rp->grid[g]));
        for (size_t i = 0; i < t->n; i++)
            say(&csv, ",%.5f", curve(&t->fam[i], rp->grid[g]));
    }
    say(&csv, "\n");
    int rc = write_file(dir, rp->out, "csv", &csv, err);
    free(csv.s);
    return rc;
}

/* The grid line: its ends, and which of the three cases set the upper. */
static void grid_line(report *rp, const refs *r, const grid_end *e)
{
    say(&rp->md, "Grid: %d log-spaced budgets, %.6g to %.1f bytes: ", GRID,
        rp->from, rp->to);
    double clean = 100 * rp->clean;
    if (e->ref >= 0 && e->bytes > rp->from)
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

static void figures(report *rp, const table *t, const refs *r)
{
    double target = 0.9 * rp->clean;
    double ref_bytes = INFINITY;
    for (int i = 0; i < r->n; i++) {
        double b = bytes_for(r->f[i], target);
        ref_bytes = !isnan(b) && b < ref_bytes ? b : ref_bytes;
    }
    say(&rp->md, "| codec family | mean %s on the grid | gain over best "
        "reference (pp) | bytes for 90 %% of clean (%.2f %%) | vs best "
        "reference |\n|---|---|---|---|---|\n", t->m->word, 100 * target);
    for (size_t i = 0; i < t->n; i++) {
        const family *f = &t->fam[i];
        double mean = 0, gain = 0;
        for (int g = 0; g < GRID; g++) {
            double v = curve(f, rp->grid[g]);
            mean += v / GRID;
            gain += (v - best_ref(r, rp->grid[g])) / GRID;
        }
        double b = bytes_for(f, target);
        char bb[32] = "never", rel[32] = "—";
        if (!isnan(b))
            snprintf(bb, sizeof bb, "%.1f", b);
        /* a share of nothing (a reference at target with nothing
         * received) is no figure */
        if (!isnan(b) && isfinite(ref_bytes) && ref_bytes > 0)
            snprintf(rel, sizeof rel, "%.1f %%", 100 * b / ref_bytes);
        say(&rp->md, "| %s | %.2f %% | %+.2f | %s | %s |\n", f->name, 100 * mean,
            100 * gain, bb, rel);
    }
}

static void sal_vs_nosal(report *rp, const table *t)
{
    const family *s = named(t, "limitnet"), *n = named(t, "limitnet-nosal");
    if (!s || !n)
        return;
    double half = s->full / 2, worst = 0, at = 0, sum = 0;
    int losses = 0, checked = 0;
    for (int g = 0; g < GRID; g++) {
        double b = rp->grid[g];
        if (b >= half)
            continue;
        double d = curve(s, b) - curve(n, b);
        sum += d;
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
            100 * sum / checked);
    say(&rp->md, ".\n");
}

/* ---- the command ---------------------------------------------------------------------- */

static int compare(const char *dir, const char *out, const metric *m, double clean,
                   double from, const char *const *refnames, int nref, util_err *err)
{
    table t;
    memset(&t, 0, sizeof t);
    t.m = m;
    char path[SIM_PATH_LEN + 32];
    int n = snprintf(path, sizeof path, "%s/results.csv", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return util_errf(err, "%s: path too long", dir);
    int rc = load(path, &t, err);
    refs r = {{0}, 0};
    for (size_t i = 0; !rc && i < t.n; i++)
        envelope(&t.fam[i]);
    for (int i = 0; !rc && i < nref; i++) {
        const family *f = named(&t, refnames[i]);
        if (f)
            r.f[r.n++] = f;
    }
    if (!rc && r.n == 0)
        rc = util_errf(err, "%s: none of the reference families is present", path);
    report rp = {out, from, 0, clean, {0}, {NULL, 0, 0, 0}};
    if (!rc) {
        grid_end e = find_end(&r, clean);
        rp.to = e.bytes > from ? e.bytes : 2 * from;
        for (int g = 0; g < GRID - 1; g++)
            rp.grid[g] = from * pow(rp.to / from, (double)g / (GRID - 1));
        /* exactly the end point's bytes: pow's rounding could put the last
         * budget a hair below the point and leave it off the grid */
        rp.grid[GRID - 1] = rp.to;
        /* accuracy keeps the words its committed comparisons were written with */
        if (m == &metrics[0])
            say(&rp.md, "# Accuracy against bytes: %s\n\nReferences:", dir);
        else
            say(&rp.md, "# %s against bytes: %s\n\nReferences:", m->word, dir);
        for (int i = 0; i < r.n; i++)
            say(&rp.md, " %s", r.f[i]->name);
        const char *w = m == &metrics[0] ? "accuracy" : m->word;
        say(&rp.md, ".\n\nCurves: at b bytes, the best %s of the family's "
            "measured points with at most b bytes (a step curve, from its "
            "empty-reception %s at 0 bytes).\n\n", w, w);
        grid_line(&rp, &r, &e);
        figures(&rp, &t, &r);
        sal_vs_nosal(&rp, &t);
        rc = write_csv(dir, &t, &r, &rp, err);
    }
    if (!rc)
        rc = write_file(dir, out, "md", &rp.md, err);
    if (!rc)
        fputs(rp.md.s ? rp.md.s : "", stdout);
    free(rp.md.s);
    for (size_t i = 0; i < t.n; i++)
        free(t.fam[i].pt);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: limitnet compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES]\n"
        "                        [--out NAME] [--metric M]\n"
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
        "  --out NAME     the output files' name, without .csv/.md (default\n"
        "                 comparison)\n"
        "  -h, --help     this help\n", MAX_REFS);
}

/* A bad number: named, then the usage, exit 2. */
static int bad_number(const char *opt, const char *want, const char *v)
{
    fprintf(stderr, "limitnet compare: %s wants %s, got '%s'\n", opt, want, v);
    usage(stderr);
    return 2;
}

int sim_cmd_compare(int argc, char **argv)
{
    /* Help first: before any argument is judged or any file opened. */
    if (sim_arg_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *dir = NULL, *out = "comparison", *refs[MAX_REFS], *v;
    int nref = 0;
    double clean = NAN, from = 16;
    static const char *const opts[] = {"--clean", "--out", "--from", "--ref", "--metric"};
    const metric *mt = &metrics[0];
    for (int i = 1; i < argc; i++) {
        int m = 0, k = 0;
        for (; k < 5; k++)
            if ((m = sim_arg_value(argc, argv, &i, NULL, opts[k], &v)) != 0)
                break;
        if (m < 0) {
            fprintf(stderr, "limitnet compare: %s: missing value\n", opts[k]);
            return 2;
        }
        if (m == 0) {
            if (argv[i][0] != '-' && !dir) {
                dir = argv[i];
                continue;
            }
            return sim_arg_unknown("compare", argv[i]);
        }
        switch (k) {
        case 0:
            if (number(v, &clean) || !(clean > 0 && clean <= 1))
                return bad_number("--clean", "an accuracy in (0, 1]", v);
            break;
        case 1:
            /* an empty name would write RESULTS_DIR/.csv, a hidden file */
            if (!v[0]) {
                fprintf(stderr, "limitnet compare: --out wants a name\n");
                return 2;
            }
            out = v;
            break;
        case 2:
            if (number(v, &from) || !(from > 0))
                return bad_number("--from", "a number of bytes above 0", v);
            break;
        case 4:
            mt = NULL;
            for (size_t j = 0; j < sizeof metrics / sizeof metrics[0]; j++)
                if (strcmp(v, metrics[j].column) == 0)
                    mt = &metrics[j];
            if (!mt) {
                fprintf(stderr, "limitnet compare: --metric: expected accuracy, map50 "
                        "or map50_95, got '%s'\n", v);
                return 2;
            }
            break;
        default:
            if (nref == MAX_REFS) {
                fprintf(stderr, "limitnet compare: more than %d --ref families\n",
                        MAX_REFS);
                return 2;
            }
            refs[nref++] = v;
            break;
        }
    }
    if (!dir || isnan(clean)) {
        usage(stderr);
        return 2;
    }
    if (nref == 0) {
        refs[nref++] = "jpeg-baseline";
        refs[nref++] = "jpeg-progressive";
        refs[nref++] = "jpeg-abbreviated";
    }
    util_err err;
    if (compare(dir, out, mt, clean, from, refs, nref, &err)) {
        fprintf(stderr, "limitnet compare: %s\n", err.msg);
        return 1;
    }
    return 0;
}
