/*
 * The run's rate points in CompressAI's results format, so that users of
 * learned codecs can overlay ours on theirs with
 * `python -m compressai.utils.plot -f A.json B.json -m psnr`: per codec
 * family (and channel setting) a file
 *
 *   {"name": FAMILY, "description": ..., "results": {"bpp": [...],
 *    "bytes": [...], "psnr": [...], "ssim": [...], "accuracy": [...]}}
 *
 * with one entry per codec setting of the family, in increasing bpp: the
 * setting's cut that received the most bytes (its full stream when a cut
 * allows it), bpp = 8 * mean received bytes / pixels. CompressAI's plot
 * puts bpp on x and any other key on y. Its own files say "psnr-rgb" and
 * "ms-ssim-rgb"; ours say "psnr" and "ssim" because that is what they are
 * (PSNR over the image's channels, single-scale SSIM). accuracy (top-1, a
 * fraction) with a classifier, map50 with a detector.
 */
#include "sim/sim_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sim_family_of(const char *label, char *out, size_t len)
{
    char buf[SIM_NAME_LEN];
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

/* A cell's rate point: the row that received the most bytes. */
static const sim_row *point_of(const sim_cell *c)
{
    const sim_row *best = NULL;
    for (size_t i = 0; i < c->nrows; i++)
        if (!best || c->rows[i].received_bytes > best->received_bytes)
            best = &c->rows[i];
    return best;
}

static int by_bytes(const void *a, const void *b)
{
    double x = point_of(*(const sim_cell *const *)a)->received_bytes;
    double y = point_of(*(const sim_cell *const *)b)->received_bytes;
    return (x > y) - (x < y);
}

static void add_list(cJSON *results, const char *key, const sim_cell **cells, size_t n,
                     size_t pixels, int what)
{
    cJSON *list = cJSON_AddArrayToObject(results, key);
    for (size_t i = 0; list && i < n; i++) {
        const sim_row *r = point_of(cells[i]);
        double v = what == 0 ? 8 * r->received_bytes / (double)pixels
                   : what == 1 ? r->received_bytes
                   : what == 2 ? r->psnr
                   : what == 3 ? r->ssim
                   : what == 4 ? r->accuracy
                               : r->map50;
        /* JSON has no NaN or infinity (PSNR of a perfect copy) */
        cJSON_AddItemToArray(list, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
    }
}

/* One family's file: cells[0..n) are its settings over one channel. */
static int write_family(const sim_scenario *sc, const char *family, const char *channel,
                        int with_channel, const sim_cell **cells, size_t n, size_t pixels,
                        util_err *err)
{
    qsort(cells, n, sizeof *cells, by_bytes);
    cJSON *o = cJSON_CreateObject();
    char desc[1024], path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 300];
    snprintf(desc, sizeof desc, "limitnet %s, scenario %s, channel %s: one point per "
             "codec setting, its cut with the most bytes received; bpp = 8 x mean "
             "received bytes (every header counted) / %zu pixels", SIM_VERSION, sc->name,
             channel, pixels);
    cJSON_AddStringToObject(o, "name", family);
    cJSON_AddStringToObject(o, "description", desc);
    cJSON *results = cJSON_AddObjectToObject(o, "results");
    static const char *const keys[] = {"bpp", "bytes", "psnr", "ssim", "accuracy", "map50"};
    for (int k = 0; k < 6; k++)
        if ((k != 4 || sc->classifier[0]) && (k != 5 || sc->detector[0]))
            add_list(results, keys[k], cells, n, pixels, k);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return util_errf(err, "out of memory");
    snprintf(path, sizeof path, "%s/compressai/%s%s%s.json", sc->output, family,
             with_channel ? "@" : "", with_channel ? channel : "");
    int rc = sim_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

int sim_compressai_write(const sim_scenario *sc, const sim_result *res, size_t pixels,
                         util_err *err)
{
    char dir[SIM_PATH_LEN + 16];
    snprintf(dir, sizeof dir, "%s/compressai", sc->output);
    if (!pixels || util_mkdirs(dir, err))
        return pixels ? -1 : 0;
    const sim_cell **cells = malloc((res->ncells + 1) * sizeof *cells);
    uint8_t *done = calloc(res->ncells + 1, 1);
    int rc = cells && done ? 0 : util_errf(err, "out of memory");
    int several = sc->nchans * sc->nseeds > 1;
    /* each (family, channel) once, its cells in the run's order */
    for (size_t i = 0; !rc && i < res->ncells; i++) {
        if (done[i])
            continue;
        char fam[SIM_NAME_LEN], other[SIM_NAME_LEN];
        sim_family_of(res->cells[i].codec, fam, sizeof fam);
        size_t n = 0;
        for (size_t j = i; j < res->ncells; j++) {
            sim_family_of(res->cells[j].codec, other, sizeof other);
            if (!done[j] && !strcmp(fam, other) &&
                !strcmp(res->cells[i].channel, res->cells[j].channel)) {
                cells[n++] = &res->cells[j];
                done[j] = 1;
            }
        }
        rc = write_family(sc, fam, res->cells[i].channel, several, cells, n, pixels, err);
    }
    free(cells);
    free(done);
    return rc;
}
