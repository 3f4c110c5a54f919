/*
 * Result files. Every file is written whole to a temporary name and renamed,
 * so an interrupted run leaves either the old file or the new one, never
 * half of one; cells already written survive any later failure.
 */
#include "sim/sim_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSV_HEADER "codec,channel,cut,limit,images,encoded_bytes,sent_bytes," \
    "sent_packets,received_bytes,received_packets,lost_packets,complete,"   \
    "psnr,ssim,accuracy\n"

int sim_write_atomic(const char *path, const char *data, size_t len,
                     util_err *err)
{
    char tmp[SIM_PATH_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return util_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return util_errf(err, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

static void row_csv(FILE *f, const sim_cell *cell, const sim_row *r)
{
    fprintf(f, "%s,%s,%s,%.17g,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
            "%.17g,%.17g,", cell->codec, cell->channel,
            r->is_budget ? "budget" : "deadline", r->limit, r->images,
            r->encoded_bytes, r->sent_bytes, r->sent_packets, r->received_bytes,
            r->received_packets, r->lost_packets, r->complete, r->psnr, r->ssim);
    if (!isnan(r->accuracy))
        fprintf(f, "%.17g", r->accuracy);
    fputc('\n', f);
}

/* Builds CSV text for the given cells in memory, then writes it at once. */
static int write_csv(const char *path, const sim_cell *cells, size_t n,
                     util_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return util_errf(err, "%s: out of memory", path);
    fputs(CSV_HEADER, f);
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < cells[c].nrows; i++)
            row_csv(f, &cells[c], &cells[c].rows[i]);
    fclose(f);
    int rc = sim_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int sim_cell_write(const char *path, const sim_cell *cell, util_err *err)
{
    return write_csv(path, cell, 1, err);
}

int sim_results_write(const char *path, const sim_result *res, util_err *err)
{
    return write_csv(path, res->cells, res->ncells, err);
}

/* Parses one row; the codec and channel columns must match the cell's. */
static int parse_row(char *line, const sim_cell *cell, sim_row *r)
{
    char *save = NULL, *tok[15];
    int n = 0;
    for (char *p = line; n < 15; p = NULL) {
        tok[n] = strtok_r(p, ",\n", &save);
        if (!tok[n])
            break;
        n++;
    }
    /* An empty accuracy column makes strtok return 14 fields. */
    if (n < 14 || strcmp(tok[0], cell->codec) || strcmp(tok[1], cell->channel))
        return -1;
    r->is_budget = strcmp(tok[2], "budget") == 0;
    double *dst[] = {&r->limit, NULL, &r->encoded_bytes, &r->sent_bytes,
                     &r->sent_packets, &r->received_bytes, &r->received_packets,
                     &r->lost_packets, &r->complete, &r->psnr, &r->ssim,
                     &r->accuracy};
    r->accuracy = NAN;
    for (int i = 3; i < n; i++) {
        char *end;
        double v = strtod(tok[i], &end);
        if (*end)
            return -1;
        if (i == 4)
            r->images = (size_t)v;
        else
            *dst[i - 3] = v;
    }
    return 0;
}

int sim_cell_read(const char *path, size_t nrows, sim_cell *cell)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[2048];
    size_t i = 0;
    int bad = !fgets(line, sizeof line, f) || strcmp(line, CSV_HEADER) != 0;
    while (!bad && fgets(line, sizeof line, f)) {
        if (i == nrows || parse_row(line, cell, &cell->rows[i]))
            bad = 1;
        i++;
    }
    fclose(f);
    return bad || i != nrows;
}

static cJSON *cells_json(const sim_result *res)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < res->ncells; i++) {
        const sim_cell *c = &res->cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "codec", c->codec);
        cJSON_AddStringToObject(o, "channel", c->channel);
        cJSON_AddBoolToObject(o, "reused", c->reused);
        cJSON_AddNumberToObject(o, "seconds", c->seconds);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

int sim_summary_write(const char *path, const sim_scenario *sc,
                      const sim_result *res, util_err *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "program", "limitnet");
    cJSON_AddStringToObject(o, "version", SIM_VERSION);
    cJSON_AddStringToObject(o, "scenario_file", sc->file);
    cJSON_AddItemToObject(o, "scenario", cJSON_Parse(sc->json));
    cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
    cJSON_AddStringToObject(o, "seeds", "channel of item i: util_seed_mix(seed, i)");
    cJSON_AddNumberToObject(o, "threads", res->threads);
    cJSON_AddNumberToObject(o, "wall_seconds", res->seconds);
    cJSON_AddStringToObject(o, "results", "results.csv");
    cJSON_AddItemToObject(o, "cells", cells_json(res));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return util_errf(err, "%s: out of memory", path);
    int rc = sim_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
