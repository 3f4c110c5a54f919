/*
 * `limitnet compare RESULTS_DIR --clean ACC [--ref FAMILY]... [--from BYTES]`
 *
 *   int sim_cmd_compare(int argc, char **argv);   (declared in sim/cli.h)
 *
 * Turns a run's results.csv into accuracy-against-bytes curves, one per
 * codec family (the setting label without its numeric parts:
 * jpeg-abbreviated-q30 -> jpeg-abbreviated, limitnet-k0.25 -> limitnet),
 * and compares them at equal bytes, as issue 4 asks:
 *
 *   curve      every row of the family (each setting, each cut) is a point
 *              (mean received bytes, accuracy); the curve is their upper
 *              envelope (the best accuracy at most b bytes buy), read
 *              linearly in bytes between envelope points, from the
 *              family's empty-reception accuracy at 0 bytes. Linear, not
 *              log: a point is a mean over images, and a sender can reach
 *              any mixture of two points, at the mixed mean size and
 *              accuracy; log interpolation would credit more than that
 *   grid       64 log-spaced budgets from --from (16) bytes to the size at
 *              which the best reference (the pointwise best of the --ref
 *              families, JPEG's three modes by default) first comes within
 *              0.5 pp of the clean accuracy
 *   figures    each family's mean gain over the best reference across the
 *              grid; the bytes each needs for 90 % of the clean accuracy;
 *              and, for limitnet against limitnet-nosal, the budgets below
 *              half of limitnet's full stream where content awareness loses
 *
 * Writes comparison.csv (the grid and every curve on it) and
 * comparison.md (the figures) into RESULTS_DIR, and prints the figures.
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

typedef struct point {
    double bytes, acc;
} point;

typedef struct family {
    char name[FAMILY_LEN];
    point *pt;
    size_t n, cap;
    double empty;   /* accuracy with nothing received; NAN if unseen */
    double full;    /* largest mean encoded size */
} family;

typedef struct table {
    family fam[MAX_FAMILIES];
    size_t n;
    char channel[FAMILY_LEN]; /* the one channel setting of the run */
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

/* Column indices of the fields we need, from the header line. */
typedef struct cols {
    int codec, channel, encoded, received, accuracy, n;
} cols;

static int header(char *line, cols *c, util_err *err)
{
    *c = (cols){-1, -1, -1, -1, -1, 0};
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c->n++) {
        if (!strcmp(tok, "codec")) c->codec = c->n;
        if (!strcmp(tok, "channel")) c->channel = c->n;
        if (!strcmp(tok, "encoded_bytes")) c->encoded = c->n;
        if (!strcmp(tok, "received_bytes")) c->received = c->n;
        if (!strcmp(tok, "accuracy")) c->accuracy = c->n;
    }
    if (c->codec < 0 || c->channel < 0 || c->encoded < 0 || c->received < 0 ||
        c->accuracy < 0)
        return util_errf(err, "header lacks codec, channel, encoded_bytes, "
                         "received_bytes or accuracy");
    return 0;
}

static int row(char *line, const cols *c, table *t, util_err *err)
{
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
    char *end;
    double acc = strtod(f[c->accuracy], &end);
    if (end == f[c->accuracy] || (*end && *end != '\n' && *end != '\r'))
        return util_errf(err, "accuracy '%s' is not a number (a run "
                         "without a classifier cannot be compared)", f[c->accuracy]);
    /* Curves over different channels must not be mixed into one. */
    if (!t->channel[0])
        snprintf(t->channel, sizeof t->channel, "%s", f[c->channel]);
    else if (strcmp(t->channel, f[c->channel]) != 0)
        return util_errf(err, "rows for channels %s and %s: compare takes a "
                         "run over one channel setting", t->channel, f[c->channel]);
    double bytes = atof(f[c->received]), enc = atof(f[c->encoded]);
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
    else if (header(line, &c, err))
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

static int by_bytes(const void *a, const void *b)
{
    const point *x = a, *y = b;
    return (x->bytes > y->bytes) - (x->bytes < y->bytes);
}

/* Keeps only the points that beat every smaller one: the upper envelope. */
static void envelope(family *f)
{
    qsort(f->pt, f->n, sizeof *f->pt, by_bytes);
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (k == 0 || f->pt[i].acc > f->pt[k - 1].acc)
            f->pt[k++] = f->pt[i];
    f->n = k;
    if (isnan(f->empty))
        f->empty = 0;
}

/* The curve at b bytes. */
static double curve(const family *f, double b)
{
    point prev = {0, f->empty};
    for (size_t i = 0; i < f->n; i++) {
        const point *q = &f->pt[i];
        if (b < q->bytes)
            return prev.acc + (b - prev.bytes) / (q->bytes - prev.bytes) * (q->acc - prev.acc);
        prev = *q;
    }
    return prev.acc;
}

/* Smallest bytes at which f's curve reaches acc (envelope points are
 * where it changes), or NAN if it never does. */
static double bytes_for(const family *f, double acc)
{
    if (f->empty >= acc)
        return 0;
    point prev = {0, f->empty};
    for (size_t i = 0; i < f->n; i++) {
        const point *q = &f->pt[i];
        if (q->acc >= acc)
            return prev.bytes + (acc - prev.acc) / (q->acc - prev.acc) * (q->bytes - prev.bytes);
        prev = *q;
    }
    return NAN;
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

/* Where the best reference first comes within 0.5 pp of clean (each curve
 * is monotone, so that is the first of the references to get there), or
 * the largest reference point if none does. */
static double grid_end(const refs *r, double clean)
{
    double end = INFINITY, top = 0;
    for (int i = 0; i < r->n; i++) {
        double b = bytes_for(r->f[i], clean - 0.005);
        end = !isnan(b) && b < end ? b : end;
        for (size_t k = 0; k < r->f[i]->n; k++)
            top = r->f[i]->pt[k].bytes > top ? r->f[i]->pt[k].bytes : top;
    }
    return isinf(end) ? top : end;
}

static const family *named(const table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->fam[i].name, name))
            return &t->fam[i];
    return NULL;
}

/* ---- output ---------------------------------------------------------------------- */

typedef struct report {
    const char *out; /* file name stem */
    double from, to, clean;
    double grid[GRID];
    char *md;
    size_t len, cap;
} report;

__attribute__((format(printf, 2, 3)))
static void say(report *rp, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t k = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    if (rp->len + k + 1 > rp->cap) {
        size_t cap = (rp->cap + k + 1) * 2;
        char *m = realloc(rp->md, cap);
        if (!m)
            return;
        rp->md = m;
        rp->cap = cap;
    }
    memcpy(rp->md + rp->len, buf, k + 1);
    rp->len += k;
}

static int write_csv(const char *dir, const table *t, const refs *r,
                     const report *rp, util_err *err)
{
    size_t cap = (size_t)(GRID + 1) * (t->n + 2) * 16 + 256, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return util_errf(err, "out of memory");
    len += (size_t)snprintf(buf + len, cap - len, "bytes,best_reference");
    for (size_t i = 0; i < t->n; i++)
        len += (size_t)snprintf(buf + len, cap - len, ",%s", t->fam[i].name);
    for (int g = 0; g < GRID; g++) {
        len += (size_t)snprintf(buf + len, cap - len, "\n%.3f,%.5f", rp->grid[g],
                                best_ref(r, rp->grid[g]));
        for (size_t i = 0; i < t->n; i++)
            len += (size_t)snprintf(buf + len, cap - len, ",%.5f",
                                    curve(&t->fam[i], rp->grid[g]));
    }
    len += (size_t)snprintf(buf + len, cap - len, "\n");
    char path[SIM_PATH_LEN + 96];
    snprintf(path, sizeof path, "%s/%s.csv", dir, rp->out);
    int rc = sim_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

static void figures(report *rp, const table *t, const refs *r)
{
    double target = 0.9 * rp->clean;
    double ref_bytes = 1e300;
    for (int i = 0; i < r->n; i++) {
        double b = bytes_for(r->f[i], target);
        ref_bytes = !isnan(b) && b < ref_bytes ? b : ref_bytes;
    }
    say(rp, "Grid: %d log-spaced budgets, %.0f to %.1f bytes (where the best "
        "reference comes within 0.5 pp of the clean %.2f %%).\n\n", GRID, rp->from,
        rp->to, 100 * rp->clean);
    say(rp, "| codec family | mean top-1 on the grid | gain over best reference (pp) "
        "| bytes for 90 %% of clean (%.2f %%) | vs best reference |\n"
        "|---|---|---|---|---|\n", 100 * target);
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
        if (!isnan(b) && ref_bytes < 1e300)
            snprintf(rel, sizeof rel, "%.1f %%", 100 * b / ref_bytes);
        say(rp, "| %s | %.2f %% | %+.2f | %s | %s |\n", f->name, 100 * mean,
            100 * gain, bb, rel);
    }
}

static void sal_vs_nosal(report *rp, const table *t)
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
    say(rp, "\nlimitnet against limitnet-nosal below half of limitnet's full "
        "stream (%.1f bytes): %d of %d grid budgets lose", half, losses, checked);
    if (losses)
        say(rp, " (worst %+.2f pp at %.1f bytes)", 100 * worst, at);
    say(rp, ".\n");
}

/* ---- the command ---------------------------------------------------------------------- */

static int compare(const char *dir, const char *out, double clean, double from,
                   const char *const *refnames, int nref, util_err *err)
{
    table t;
    memset(&t, 0, sizeof t);
    char path[SIM_PATH_LEN + 32];
    snprintf(path, sizeof path, "%s/results.csv", dir);
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
    report rp = {out, from, 0, clean, {0}, NULL, 0, 0};
    if (!rc) {
        rp.to = grid_end(&r, clean);
        if (rp.to <= from)
            rp.to = from * 2;
        for (int g = 0; g < GRID; g++)
            rp.grid[g] = from * pow(rp.to / from, (double)g / (GRID - 1));
        say(&rp, "# Accuracy against bytes: %s\n\nReferences:", dir);
        for (int i = 0; i < r.n; i++)
            say(&rp, " %s", r.f[i]->name);
        say(&rp, ".\n\n");
        figures(&rp, &t, &r);
        sal_vs_nosal(&rp, &t);
        rc = write_csv(dir, &t, &r, &rp, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s.md", dir, out);
        rc = sim_write_atomic(path, rp.md ? rp.md : "", rp.len, err);
    }
    if (!rc)
        fputs(rp.md, stdout);
    free(rp.md);
    for (size_t i = 0; i < t.n; i++)
        free(t.fam[i].pt);
    return rc;
}

int sim_cmd_compare(int argc, char **argv)
{
    const char *dir = NULL, *out = "comparison", *refs[MAX_REFS];
    int nref = 0;
    double clean = NAN, from = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--clean") && i + 1 < argc)
            clean = atof(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--from") && i + 1 < argc)
            from = atof(argv[++i]);
        else if (!strcmp(argv[i], "--ref") && i + 1 < argc && nref < MAX_REFS)
            refs[nref++] = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "limitnet compare: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!dir || !(clean > 0 && clean <= 1) || !(from > 0)) {
        fprintf(stderr, "usage: limitnet compare RESULTS_DIR --clean ACC (0..1] "
                "[--ref FAMILY]... [--from BYTES] [--out NAME]\n");
        return 2;
    }
    if (nref == 0) {
        refs[nref++] = "jpeg-baseline";
        refs[nref++] = "jpeg-progressive";
        refs[nref++] = "jpeg-abbreviated";
    }
    util_err err;
    if (compare(dir, out, clean, from, refs, nref, &err)) {
        fprintf(stderr, "limitnet compare: %s\n", err.msg);
        return 1;
    }
    return 0;
}
