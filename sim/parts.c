/*
 * Parts of a cell (`run --items LO-HI`): one slow cell split by items
 * among processes. A part keeps every per-item value the cell's
 * aggregates are made of, each number printed so that it reads back
 * exactly (%.17g for doubles, %.9g for a detection's floats), so the
 * parts that tile the items, read back in item order, give the cell the
 * same sums, in the same order, as one run: the same bytes.
 *
 * File LABEL-HASH.part-LO-HI.csv beside the cell, written atomically:
 *   limitnet-part 1 LO HI NCUTS MAXDETS
 *   then per item, per cut, one line:
 *   ITEM CUT ENCODED SENT_BYTES SENT_PACKETS RECV_BYTES RECV_PACKETS LOST
 *   COMPLETE PSNR SSIM CORRECT NDET [LABEL SCORE X0 Y0 X1 Y1]...
 */
#include "sim/sim_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/task.h"

#define PART_MAGIC "limitnet-part 1"

/* The path of the cell's part holding items lo..hi. */
static void part_path(char *buf, size_t len, const char *cell_csv, size_t lo, size_t hi)
{
    char ext[64];
    snprintf(ext, sizeof ext, ".part-%zu-%zu.csv", lo, hi);
    sim_sidecar_path(buf, len, cell_csv, ext);
}

static void part_line(FILE *f, const sim_part *p, size_t i, size_t c)
{
    size_t at = i * p->ncuts + c;
    const sim_metrics *m = &p->out[at];
    fprintf(f, "%zu %zu %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g",
            i, c, p->encoded[i], m->sent_bytes, m->sent_packets, m->recv_bytes,
            m->recv_packets, m->lost, m->complete, m->psnr, m->ssim, m->correct);
    int nd = p->max_dets > 0 ? p->ndets[at] : 0;
    fprintf(f, " %d", nd);
    for (int d = 0; d < nd; d++) {
        const task_det *t = &p->dets[at * (size_t)p->max_dets + (size_t)d];
        fprintf(f, " %d %.9g %.9g %.9g %.9g %.9g", t->label, (double)t->score,
                (double)t->box.x0, (double)t->box.y0, (double)t->box.x1,
                (double)t->box.y1);
    }
    fputc('\n', f);
}

int sim_part_write(const char *cell_csv, const sim_part *p, util_err *err)
{
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 64];
    part_path(path, sizeof path, cell_csv, p->lo, p->hi);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return util_errf(err, "%s: out of memory", path);
    fprintf(f, PART_MAGIC " %zu %zu %zu %d\n", p->lo, p->hi, p->ncuts, p->max_dets);
    for (size_t i = p->lo; i <= p->hi; i++)
        for (size_t c = 0; c < p->ncuts; c++)
            part_line(f, p, i, c);
    return sim_write_stream(path, f, &buf, &len, err);
}

/* One line back into p; -1 if it is not the line expected for (i, c). */
static int parse_line(char *line, const sim_part *p, size_t i, size_t c)
{
    char *s = line, *end;
    size_t at = i * p->ncuts + c;
    sim_metrics *m = &p->out[at];
    if (strtoull(s, &end, 10) != i || end == s || strtoull(s = end, &end, 10) != c ||
        end == s)
        return -1;
    double *dst[] = {&p->encoded[i], &m->sent_bytes, &m->sent_packets, &m->recv_bytes,
                     &m->recv_packets, &m->lost, &m->complete, &m->psnr, &m->ssim,
                     &m->correct};
    for (size_t k = 0; k < sizeof dst / sizeof *dst; k++) {
        *dst[k] = strtod(s = end, &end);
        if (end == s)
            return -1;
    }
    long nd = strtol(s = end, &end, 10);
    if (end == s || nd < 0 || nd > (p->max_dets > 0 ? p->max_dets : 0))
        return -1;
    if (p->max_dets > 0)
        p->ndets[at] = (int)nd;
    for (long d = 0; d < nd; d++) {
        task_det *t = &p->dets[at * (size_t)p->max_dets + (size_t)d];
        long label = strtol(s = end, &end, 10);
        if (end == s || label < 0 || label > 1000000)
            return -1;
        t->label = (int)label;
        float *fl[] = {&t->score, &t->box.x0, &t->box.y0, &t->box.x1, &t->box.y1};
        for (size_t k = 0; k < 5; k++) {
            *fl[k] = strtof(s = end, &end);
            if (end == s)
                return -1;
        }
    }
    return *end == '\n' || *end == 0 ? 0 : -1;
}

/* Reads one part whose name says lo..hi; 1 if it does not read back whole. */
static int read_part(const char *path, size_t lo, size_t hi, sim_part *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char want[128], *line = NULL;
    size_t cap = 0;
    snprintf(want, sizeof want, PART_MAGIC " %zu %zu %zu %d\n", lo, hi, p->ncuts,
             p->max_dets);
    int bad = getline(&line, &cap, f) < 0 || strcmp(line, want);
    for (size_t i = lo; !bad && i <= hi; i++)
        for (size_t c = 0; !bad && c < p->ncuts; c++)
            bad = getline(&line, &cap, f) < 0 || parse_line(line, p, i, c);
    bad = bad || getline(&line, &cap, f) >= 0;
    free(line);
    fclose(f);
    return bad;
}

typedef struct range {
    size_t lo, hi;
} range;

/* The parts' ranges found beside the cell (in dir, names starting with
 * base ".part-"); *out grows as needed. */
static int list_parts(const char *dir, const char *base, range **out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t cap = 0, blen = strlen(base);
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d)) != NULL) {
        size_t lo, hi;
        int used = 0;
        if (strncmp(de->d_name, base, blen) ||
            sscanf(de->d_name + blen, ".part-%zu-%zu.csv%n", &lo, &hi, &used) != 2 ||
            de->d_name[blen + (size_t)used] || lo > hi)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            range *r = realloc(*out, cap * sizeof *r);
            if (!r) {
                rc = -1;
                break;
            }
            *out = r;
        }
        (*out)[(*n)++] = (range){lo, hi};
    }
    closedir(d);
    return rc;
}

/* Picks parts that tile 0..n-1 (each next part starting where the last
 * ended; of those, the longest) and reads them: any tiling gives the same
 * numbers, since an item's values do not depend on how a cell was split. */
static int tile(const char *cell_csv, const range *r, size_t nr, size_t n, sim_part *p)
{
    size_t next = 0;
    while (next < n) {
        const range *best = NULL;
        for (size_t k = 0; k < nr; k++)
            if (r[k].lo == next && r[k].hi < n && (!best || r[k].hi > best->hi))
                best = &r[k];
        if (!best)
            return 1;
        char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 64];
        part_path(path, sizeof path, cell_csv, best->lo, best->hi);
        if (read_part(path, best->lo, best->hi, p))
            return 1;
        next = best->hi + 1;
    }
    return 0;
}

/* The directory and the name stem (LABEL-HASH) of a cell's CSV path. */
static int split_path(const char *cell_csv, char *dir, size_t dlen, char *base, size_t blen)
{
    const char *slash = strrchr(cell_csv, '/');
    size_t len = strlen(cell_csv);
    if (!slash || len < 4)
        return -1;
    snprintf(dir, dlen, "%.*s", (int)(slash - cell_csv), cell_csv);
    snprintf(base, blen, "%.*s", (int)(cell_csv + len - 4 - slash - 1), slash + 1);
    return 0;
}

int sim_parts_any(const char *cell_csv)
{
    char dir[SIM_PATH_LEN + 2 * SIM_NAME_LEN], base[2 * SIM_NAME_LEN];
    range *r = NULL;
    size_t nr = 0;
    if (split_path(cell_csv, dir, sizeof dir, base, sizeof base) == 0)
        list_parts(dir, base, &r, &nr);
    free(r);
    return nr > 0;
}

int sim_parts_read(const char *cell_csv, size_t n, sim_part *p, util_err *err)
{
    char dir[SIM_PATH_LEN + 2 * SIM_NAME_LEN], base[2 * SIM_NAME_LEN];
    if (n == 0 || split_path(cell_csv, dir, sizeof dir, base, sizeof base))
        return 1;
    range *r = NULL;
    size_t nr = 0;
    if (list_parts(dir, base, &r, &nr)) {
        free(r);
        return util_errf(err, "out of memory");
    }
    int rc = nr ? tile(cell_csv, r, nr, n, p) : 1;
    free(r);
    return rc;
}
