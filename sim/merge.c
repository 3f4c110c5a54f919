/*
 * Gathering cell files computed elsewhere (other shards, other machines)
 * into a scenario's output directory, for `limitnet merge`.
 *
 * A cell file's name is LABEL-HASH.csv, the hash covering everything that
 * decides its numbers (sim/run.c, cell_path); sim_plan says which names
 * this scenario's cells have. A file is taken only under one of those
 * names and only when it reads back whole, so a file from another
 * scenario, model, dataset or build, or one cut short by a copy, cannot
 * reach results.csv: it is refused by name.
 */
#include "sim/sim_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends a message to the report's list of refused files. */
static int refuse(sim_gather *g, util_err *err, const char *fmt, const char *file,
                  const char *why)
{
    char **r = realloc(g->refused, (g->nrefused + 1) * sizeof *r);
    if (!r)
        return util_errf(err, "out of memory");
    g->refused = r;
    size_t len = strlen(file) + strlen(why) + strlen(fmt) + 1;
    if (!(r[g->nrefused] = malloc(len)))
        return util_errf(err, "out of memory");
    snprintf(r[g->nrefused++], len, fmt, file, why);
    return 0;
}

/* The file's bytes, or NULL. Cell and meta files are small (rows of
 * numbers); past 64 MiB it is not one of ours. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int bad = 0;
    while (!bad && !feof(f)) {
        if (n == cap) {
            char *more = cap < (1u << 26) ? realloc(buf, cap ? 2 * cap : 65536) : NULL;
            bad = !more;
            buf = more ? more : buf;
            cap = more ? (cap ? 2 * cap : 65536) : cap;
            if (bad)
                break;
        }
        n += fread(buf + n, 1, cap - n, f);
        bad = ferror(f);
    }
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf ? buf : calloc(1, 1);
}

/* Copies src to dst atomically; a missing src is an error when required,
 * else skipped. */
static int copy_file(const char *src, const char *dst, int required, util_err *err)
{
    size_t len;
    char *text = slurp(src, &len);
    if (!text)
        return required ? util_errf(err, "%s: cannot read", src) : 0;
    int rc = sim_write_atomic(dst, text, len, err);
    free(text);
    return rc;
}

/* Copies the sidecar src's name gives (src with ".csv" replaced by ext)
 * beside dst, as copy_file. */
static int copy_sidecar(const char *src, const char *dst, const char *ext,
                        int required, util_err *err)
{
    char ss[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16], sd[sizeof ss];
    sim_sidecar_path(ss, sizeof ss, src, ext);
    sim_sidecar_path(sd, sizeof sd, dst, ext);
    return copy_file(ss, sd, required, err);
}

/* Copies the cell src (with its hits or replicates and meta file, when
 * there are) to dst atomically, in the order a run writes them: hits and
 * replicates, numbers, meta. */
static int copy_cell(const char *src, const char *dst, const sim_cell *probe,
                     util_err *err)
{
    if (copy_sidecar(src, dst, ".hits", probe->has_hits, err) ||
        copy_sidecar(src, dst, ".boot", probe->detection, err))
        return -1;
    int rc = copy_file(src, dst, 1, err);
    if (!rc)
        rc = copy_sidecar(src, dst, ".items.csv", 0, err);
    return rc ? rc : copy_sidecar(src, dst, ".meta.json", 0, err);
}

/* A part of one of the scenario's cells (LABEL-HASH.part-LO-HI.csv), when
 * name is one: copied beside the cell unless there already, and read back
 * only when the cell is put together (sim/parts.c). 1 if name is no part
 * of ours, else 0 or -1. */
static int take_part(sim_plan_cell *pc, size_t n, const char *dir, const char *name,
                     sim_gather *g, util_err *err)
{
    const char *mark = strstr(name, ".part-");
    if (!mark)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(pc[i].path, '/') + 1;
        size_t stem = strlen(base) - 4;
        if (pc[i].done || (size_t)(mark - name) != stem || strncmp(name, base, stem))
            continue;
        char src[SIM_PATH_LEN + 512], dst[2 * SIM_PATH_LEN + 512];
        snprintf(src, sizeof src, "%s/%s", dir, name);
        snprintf(dst, sizeof dst, "%.*s/%s", (int)(base - 1 - pc[i].path), pc[i].path, name);
        if (!strcmp(src, dst) || access(dst, F_OK) == 0)
            return 0;
        int rc = copy_file(src, dst, 1, err);
        g->parts += rc == 0;
        return rc;
    }
    return 1;
}

/* One file of dir: a cell of ours to take, or refused, or not a cell. */
static int take(const sim_scenario *sc, sim_plan_cell *pc, size_t n,
                const char *dir, const char *name, sim_cell *probe, sim_gather *g,
                util_err *err)
{
    int part = take_part(pc, n, dir, name, g, err);
    if (part <= 0)
        return part;
    size_t len = strlen(name);
    const char *dash = strrchr(name, '-');
    if (len < 4 || strcmp(name + len - 4, ".csv") || !dash ||
        (len > 10 && !strcmp(name + len - 10, ".items.csv")))
        return 0; /* meta, hits and per-item files, temporaries, anything else */
    char src[SIM_PATH_LEN + 2 * SIM_NAME_LEN];
    if ((size_t)snprintf(src, sizeof src, "%s/%s", dir, name) >= sizeof src)
        return refuse(g, err, "%s: %s", name, "path too long");
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(pc[i].path, '/');
        if (strcmp(base + 1, name))
            continue;
        snprintf(probe->codec, sizeof probe->codec, "%s", pc[i].codec);
        snprintf(probe->channel, sizeof probe->channel, "%s", pc[i].channel);
        if (sim_cell_read(src, sc->ndeadlines + sc->nbudgets, probe))
            return refuse(g, err, "%s: refused: %s", src,
                          probe->has_hits || probe->detection
                              ? "not a whole cell file with its hits or "
                                "replicates file (cut short, edited, damaged, "
                                "missing or from an older version)"
                              : "not a whole cell file (cut short, edited, "
                                "damaged or from an older version)");
        if (pc[i].done) {
            g->present++;
            return 0;
        }
        if (copy_cell(src, pc[i].path, probe, err))
            return -1;
        pc[i].done = 1;
        g->copied++;
        return 0;
    }
    char label[SIM_NAME_LEN + 1];
    snprintf(label, sizeof label, "%.*s", (int)(dash - name), name);
    for (size_t k = 0; k < sc->ncodecs; k++)
        if (!strcmp(sc->codecs[k].label, label))
            return refuse(g, err, "%s: refused: %s", src,
                          "a cell of this codec setting, but its fingerprint is "
                          "none of this scenario's (another dataset, seed, model "
                          "file, channel or build)");
    g->foreign++;
    return 0;
}

int sim_gather_cells(const sim_scenario *sc, const char *dir, sim_gather *g,
                     util_err *err)
{
    char cells[SIM_PATH_LEN + 8], out[SIM_PATH_LEN + 8];
    struct stat sb;
    /* An output directory holds its cells in cells/; a directory of copied
     * cell files holds them itself. */
    snprintf(cells, sizeof cells, "%s/cells", dir);
    if (stat(cells, &sb) != 0 || !S_ISDIR(sb.st_mode))
        snprintf(cells, sizeof cells, "%s", dir);
    snprintf(out, sizeof out, "%s/cells", sc->output);
    if (util_mkdirs(out, err))
        return -1;
    DIR *d = opendir(cells);
    if (!d)
        return util_errf(err, "%s: cannot read the directory: %s", cells,
                         strerror(errno));
    sim_plan_cell *pc;
    size_t n;
    if (sim_plan(sc, &pc, &n, err)) {
        closedir(d);
        return -1;
    }
    sim_cell probe = {.rows = calloc(sc->ndeadlines + sc->nbudgets + 1, sizeof *probe.rows),
                      .detection = sc->detector[0] != 0,
                      .has_hits = sc->classifier[0] != 0};
    int rc = probe.rows ? 0 : util_errf(err, "out of memory");
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL)
        rc = take(sc, pc, n, cells, de->d_name, &probe, g, err);
    closedir(d);
    free(probe.rows);
    free(probe.hits);
    free(probe.boot);
    free(pc);
    return rc;
}

void sim_gather_free(sim_gather *g)
{
    for (size_t i = 0; i < g->nrefused; i++)
        free(g->refused[i]);
    free(g->refused);
    memset(g, 0, sizeof *g);
}
