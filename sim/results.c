/*
 * Result files. Every file is written whole to a temporary name and renamed,
 * so an interrupted run leaves either the old file or the new one, never
 * half of one; cells already written survive any later failure.
 */
#include "sim/sim_impl.h"
#include "sim/hits.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSV_COLUMNS "codec,channel,cut,limit,images,encoded_bytes,sent_bytes," \
    "sent_packets,received_bytes,received_packets,lost_packets,complete,"   \
    "psnr,ssim,accuracy"
/* The uncertainty columns come last, so that the first fifteen (and a
 * detection file's mAPs) keep the places scripts and readers of older
 * files know them by. */
#define CSV_SPREAD "psnr_se,ssim_se,accuracy_lo,accuracy_hi"
#define CSV_SPREAD_DET ",map50_lo,map50_hi,map50_95_lo,map50_95_hi"
#define CSV_HEADER CSV_COLUMNS "," CSV_SPREAD "\n"
#define CSV_HEADER_DET CSV_COLUMNS ",map50,map50_95," CSV_SPREAD CSV_SPREAD_DET "\n"
#define CSV_FIELDS 19
#define CSV_FIELDS_DET 25

/* What a temporary file's name adds to the final one, before "PID.N.HOST".
 * The host is there because shards on several machines may share one
 * output directory (NFS): a process id means nothing on another host, so
 * sim_clean_temps judges only its own host's files. */
#define TEMP_MARK ".tmp."

/* This machine's name as temporary and meta files record it: the short
 * host name, or "localhost" when there is none. */
void sim_host_name(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0 || !buf[0])
        snprintf(buf, len, "localhost");
    buf[len - 1] = 0;
    buf[strcspn(buf, "./")] = 0; /* the short name; never a path */
}

/* Creates a fresh temporary file beside path (rename() must stay within one
 * file system) and returns its descriptor, or -1 with errno set. The name
 * carries the process id and a per-process counter, and O_EXCL makes sure no
 * other writer shares it: worker threads of one run, or another run on the
 * same output, each get their own. 0666 lets the umask set the mode, as for
 * any other file we write. sim_clean_temps recognises these names. */
static int create_temp(const char *path, char *tmp, size_t len)
{
    static atomic_uint counter;
    char host[64];
    sim_host_name(host, sizeof host);
    for (int tries = 0; tries < 100; tries++) {
        unsigned n = atomic_fetch_add(&counter, 1u);
        if ((size_t)snprintf(tmp, len, "%s" TEMP_MARK "%ld.%u.%s", path,
                             (long)getpid(), n, host) >= len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

int sim_write_atomic(const char *path, const char *data, size_t len,
                     util_err *err)
{
    /* Room for a cell's path (run.c: the output, a label, a hash). */
    char tmp[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 64];
    int fd = create_temp(path, tmp, sizeof tmp);
    if (fd < 0) {
        int e = errno;
        return util_errf(err, "%s: cannot create a temporary file beside it "
                         "(%s): %s", path, tmp, strerror(e));
    }
    /* Every step is checked: a full disk or a quota often shows only at
     * fsync or close, and a file-size limit (EFBIG, with SIGXFSZ ignored by
     * the program) as a short write followed by a failing one. */
    const char *what = NULL;
    int e = 0;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            what = "cannot write";
            break;
        }
        off += (size_t)n;
    }
    /* Synced before the rename, so that after a crash the name holds either
     * the old file or the whole new one. */
    if (!what && fsync(fd) != 0) {
        e = errno;
        what = "cannot write (fsync)";
    }
    if (close(fd) != 0 && !what) {
        e = errno;
        what = "cannot write (close)";
    }
    if (!what && rename(tmp, path) != 0) {
        e = errno;
        what = "cannot rename the temporary file to it";
    }
    if (what) {
        /* The old file under path, if any, is untouched. */
        unlink(tmp);
        return util_errf(err, "%s: %s: %s", path, what, strerror(e));
    }
    return 0;
}

/* True when a process with this id exists (or might: EPERM means it does,
 * under another user). */
static int pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

void sim_clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    long self = (long)getpid();
    char host[64];
    sim_host_name(host, sizeof host);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *mark = strstr(de->d_name, TEMP_MARK);
        if (!mark)
            continue;
        char *end;
        long pid = strtol(mark + strlen(TEMP_MARK), &end, 10);
        if (end == mark + strlen(TEMP_MARK) || *end != '.')
            continue;
        const char *count = end + 1;
        while (*count >= '0' && *count <= '9')
            count++;
        /* A live writer's temporary file is about to be renamed: keep it.
         * Another host's (or a name we did not make) is not ours to judge.
         * Names without a host are from before hosts were recorded. */
        if (count == end + 1 || (*count && (*count != '.' || strcmp(count + 1, host))) ||
            pid == self || pid_alive(pid))
            continue;
        char path[SIM_PATH_LEN + 320];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) <
            sizeof path)
            unlink(path);
    }
    closedir(d);
}

void sim_csv_num(FILE *f, double v)
{
    char t[UTIL_NUM_LEN];
    util_num_text(t, v);
    fputc(',', f);
    fputs(t, f);
}

/* ",v", or "," alone for NAN (no classifier, no detector). */
static void field(FILE *f, double v)
{
    if (!isnan(v))
        sim_csv_num(f, v);
    else
        fputc(',', f);
}

/* A row's first columns: codec, channel, cut, limit, images. */
static void row_key(FILE *f, const char *codec, const char *channel, int chlen,
                    const sim_row *r, size_t images)
{
    fprintf(f, "%s,%.*s,%s", codec, chlen, channel, r->is_budget ? "budget" : "deadline");
    sim_csv_num(f, r->limit);
    fprintf(f, ",%zu", images);
}

static void row_csv(FILE *f, const sim_cell *cell, const sim_row *r)
{
    const double v[] = {r->encoded_bytes, r->sent_bytes, r->sent_packets,
                        r->received_bytes, r->received_packets, r->lost_packets,
                        r->complete, r->psnr, r->ssim};
    row_key(f, cell->codec, cell->channel, (int)strlen(cell->channel), r, r->images);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        sim_csv_num(f, v[k]);
    field(f, r->accuracy);
    if (cell->detection) {
        field(f, r->map50);
        field(f, r->map50_95);
    }
    field(f, r->psnr_se);
    field(f, r->ssim_se);
    field(f, r->acc_lo);
    field(f, r->acc_hi);
    if (cell->detection) {
        field(f, r->map50_lo);
        field(f, r->map50_hi);
        field(f, r->map50_95_lo);
        field(f, r->map50_95_hi);
    }
    fputc('\n', f);
}

int sim_write_stream(const char *path, FILE *f, char **buf, size_t *len,
                     util_err *err)
{
    /* A memory stream fails only for want of memory; half a table must not
     * reach the file. */
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    int rc = bad ? util_errf(err, "%s: out of memory", path)
                 : sim_write_atomic(path, *buf, *len, err);
    free(*buf);
    *buf = NULL;
    return rc;
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
    fputs(n && cells[0].detection ? CSV_HEADER_DET : CSV_HEADER, f);
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < cells[c].nrows; i++)
            row_csv(f, &cells[c], &cells[c].rows[i]);
    return sim_write_stream(path, f, &buf, &len, err);
}

int sim_cell_write(const char *path, const sim_cell *cell, util_err *err)
{
    return write_csv(path, cell, 1, err);
}

int sim_results_write(const char *path, const sim_result *res, util_err *err)
{
    return write_csv(path, res->cells, res->ncells, err);
}

/* Splits line at commas into at most max fields, empty ones kept (an
 * empty accuracy or mAP column is a field); returns how many. */
static int split(char *line, char **tok, int max)
{
    line[strcspn(line, "\n")] = 0;
    int n = 0;
    for (char *p = line; n < max;) {
        tok[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            return n;
        *c = 0;
        p = c + 1;
    }
    return -1; /* more fields than any row has */
}

/* One number of a row: "" is NAN where the column may be empty. */
static int number(const char *t, int may_be_empty, double *v)
{
    if (!*t && may_be_empty) {
        *v = NAN;
        return 0;
    }
    char *end;
    *v = strtod(t, &end);
    return *end || end == t ? -1 : 0;
}

/* The numeric columns from limit on, in file order, and whether each may
 * be empty (no classifier, no detector, a single image). */
static void row_targets(sim_row *r, int detection, double **dst, int *may_be_empty)
{
    double *base[] = {&r->limit, NULL, &r->encoded_bytes, &r->sent_bytes,
                      &r->sent_packets, &r->received_bytes, &r->received_packets,
                      &r->lost_packets, &r->complete, &r->psnr, &r->ssim,
                      &r->accuracy};
    double *det[] = {&r->map50, &r->map50_95};
    double *spread[] = {&r->psnr_se, &r->ssim_se, &r->acc_lo, &r->acc_hi};
    double *spread_det[] = {&r->map50_lo, &r->map50_hi, &r->map50_95_lo,
                            &r->map50_95_hi};
    int n = 0;
    for (size_t i = 0; i < sizeof base / sizeof *base; i++, n++)
        dst[n] = base[i], may_be_empty[n] = i == 11;
    for (size_t i = 0; detection && i < 2; i++, n++)
        dst[n] = det[i], may_be_empty[n] = 1;
    for (size_t i = 0; i < 4; i++, n++)
        dst[n] = spread[i], may_be_empty[n] = 1;
    for (size_t i = 0; detection && i < 4; i++, n++)
        dst[n] = spread_det[i], may_be_empty[n] = 1;
}

/* Parses one row; the codec and channel columns must match the cell's. */
static int parse_row(char *line, const sim_cell *cell, sim_row *r)
{
    char *tok[CSV_FIELDS_DET];
    int n = split(line, tok, CSV_FIELDS_DET);
    if (n != (cell->detection ? CSV_FIELDS_DET : CSV_FIELDS) ||
        strcmp(tok[0], cell->codec) || strcmp(tok[1], cell->channel))
        return -1;
    r->is_budget = strcmp(tok[2], "budget") == 0;
    double *dst[CSV_FIELDS_DET];
    int empty_ok[CSV_FIELDS_DET];
    r->map50 = r->map50_95 = r->map50_lo = r->map50_hi = NAN;
    r->map50_95_lo = r->map50_95_hi = NAN;
    row_targets(r, cell->detection, dst, empty_ok);
    for (int i = 3; i < n; i++) {
        double v;
        if (number(tok[i], empty_ok[i - 3], &v))
            return -1;
        /* The file may have been edited or damaged: a count out of
         * size_t's range would make the cast undefined. */
        if (i == 4 && !(v >= 0 && v <= 1e15 && v == floor(v)))
            return -1;
        if (i == 4)
            r->images = (size_t)v;
        else
            *dst[i - 3] = v;
    }
    return 0;
}

int sim_sidecar_path(char *buf, size_t len, const char *csv, const char *ext)
{
    size_t n = strlen(csv);
    if (n < 4 || strcmp(csv + n - 4, ".csv") ||
        (size_t)snprintf(buf, len, "%.*s%s", (int)(n - 4), csv, ext) >= len)
        return -1;
    return 0;
}

#define HITS_MAGIC "limitnet-hits 1"

/* One row of hex into out (nbytes); the row's bit count must be the
 * number of items its accuracy says were right, so a hits file that
 * does not belong to its CSV is refused. */
static int parse_hits_row(const char *line, size_t nbytes, const sim_row *r,
                          uint8_t *out)
{
    size_t bad, ones = 0;
    /* bits past the last item stay clear */
    if (sim_hits_decode(line, r->images, out, &bad) ||
        (line[2 * nbytes] != '\n' && line[2 * nbytes] != 0))
        return -1;
    for (size_t b = 0; b < nbytes; b++)
        ones += (size_t)__builtin_popcount(out[b]);
    return fabs((double)ones - r->accuracy * (double)r->images) < 0.5 ? 0 : -1;
}

/* The cell's sidecar ext, opened after its first line, which must be
 * "MAGIC ROWS size"; NULL when it is absent or that line is not. */
static FILE *sidecar_open(const char *csv, const sim_cell *cell, const char *ext,
                          const char *magic, size_t size)
{
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16], head[96], want[96];
    if (sim_sidecar_path(path, sizeof path, csv, ext))
        return NULL;
    FILE *f = fopen(path, "r");
    snprintf(want, sizeof want, "%s %zu %zu\n", magic, cell->nrows, size);
    if (f && (!fgets(head, sizeof head, f) || strcmp(head, want))) {
        fclose(f);
        f = NULL;
    }
    return f;
}

/* Reads the cell's hits sidecar into a new cell->hits; 1 if absent or
 * not the one its rows describe. */
static int hits_read(const char *csv, sim_cell *cell)
{
    size_t images = cell->nrows ? cell->rows[0].images : 0;
    size_t nbytes = SIM_HITS_BYTES(images);
    FILE *f = images ? sidecar_open(csv, cell, ".hits", HITS_MAGIC, images) : NULL;
    if (!f)
        return 1;
    char *line = malloc(2 * nbytes + 3);
    cell->hits = malloc(cell->nrows * nbytes);
    int bad = !line || !cell->hits;
    for (size_t i = 0; !bad && i < cell->nrows; i++)
        bad = cell->rows[i].images != images || !fgets(line, (int)(2 * nbytes + 3), f) ||
              parse_hits_row(line, nbytes, &cell->rows[i], cell->hits + i * nbytes);
    bad = bad || fgetc(f) != EOF;
    fclose(f);
    free(line);
    if (bad) {
        free(cell->hits);
        cell->hits = NULL;
    }
    return bad;
}

#define BOOT_MAGIC "limitnet-boot 1"

/* One row's replicates, 2 x SIM_BOOT_REPS numbers ("nan" for none) with
 * one space between, into v; they must give the row's own intervals, so
 * a file that does not belong to its CSV is refused. */
static int parse_boot_row(const char *line, const sim_row *r, double *v)
{
    size_t bad, n = strlen(line);
    /* a whole line: a file cut short in its last number is no cell's */
    if (!n || line[n - 1] != '\n' || sim_boot_decode(line, SIM_BOOT_VALUES, v, &bad))
        return -1;
    double tmp[SIM_BOOT_REPS], got[4];
    for (int m = 0; m < 2; m++) {
        memcpy(tmp, v + m * SIM_BOOT_REPS, sizeof tmp);
        util_interval(tmp, SIM_BOOT_REPS, 0.95, &got[2 * m], &got[2 * m + 1]);
    }
    const double want[4] = {r->map50_lo, r->map50_hi, r->map50_95_lo, r->map50_95_hi};
    for (int i = 0; i < 4; i++)
        if (!(fabs(got[i] - want[i]) <= 1e-7))
            return -1;
    return 0;
}

/* Reads the cell's replicates sidecar into a new cell->boot; 1 if absent
 * or not the one its rows describe. */
static int boot_read(const char *csv, sim_cell *cell)
{
    FILE *f = sidecar_open(csv, cell, ".boot", BOOT_MAGIC, SIM_BOOT_REPS);
    if (!f)
        return 1;
    /* a number is at most 24 characters as %.9g writes it */
    size_t cap = SIM_BOOT_VALUES * 25 + 2;
    char *line = malloc(cap);
    cell->boot = malloc(cell->nrows * SIM_BOOT_VALUES * sizeof *cell->boot);
    int bad = !line || !cell->boot;
    for (size_t i = 0; !bad && i < cell->nrows; i++)
        bad = !fgets(line, (int)cap, f) ||
              parse_boot_row(line, &cell->rows[i], cell->boot + i * SIM_BOOT_VALUES);
    bad = bad || fgetc(f) != EOF;
    fclose(f);
    free(line);
    if (bad) {
        free(cell->boot);
        cell->boot = NULL;
    }
    return bad;
}

int sim_cell_read(const char *path, size_t nrows, sim_cell *cell)
{
    free(cell->hits);
    cell->hits = NULL;
    free(cell->boot);
    cell->boot = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[2048];
    size_t i = 0;
    int bad = !fgets(line, sizeof line, f) ||
              strcmp(line, cell->detection ? CSV_HEADER_DET : CSV_HEADER) != 0;
    while (!bad && fgets(line, sizeof line, f)) {
        if (i == nrows || parse_row(line, cell, &cell->rows[i]))
            bad = 1;
        i++;
    }
    fclose(f);
    if (bad || i != nrows)
        return 1;
    cell->nrows = nrows;
    if (cell->has_hits && hits_read(path, cell))
        return 1;
    return cell->detection ? boot_read(path, cell) : 0;
}

/* Row i of a cell's hits (the hex) or replicates (parse_boot_row's
 * numbers), and a line end: the payload of both the cell's sidecar and
 * the run's file. */
typedef void row_payload(FILE *f, const sim_cell *cell, size_t i);

static void hits_row(FILE *f, const sim_cell *cell, size_t i)
{
    size_t nb = SIM_HITS_BYTES(cell->rows[0].images);
    for (size_t b = 0; b < nb; b++)
        fprintf(f, "%02x", cell->hits[i * nb + b]);
    fputc('\n', f);
}

static void boot_row(FILE *f, const sim_cell *cell, size_t i)
{
    const double *v = cell->boot + i * SIM_BOOT_VALUES;
    for (int k = 0; k < SIM_BOOT_VALUES; k++)
        fprintf(f, "%.9g%c", v[k], k + 1 < SIM_BOOT_VALUES ? ' ' : '\n');
}

/* The sidecar ext of the cell csv: the line "MAGIC ROWS size", then a
 * payload line per row. */
static int sidecar_write(const char *csv, const sim_cell *cell, const char *ext,
                         const char *magic, size_t size, row_payload *row,
                         util_err *err)
{
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16];
    if (sim_sidecar_path(path, sizeof path, csv, ext))
        return util_errf(err, "%s: not a cell file name", csv);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return util_errf(err, "%s: out of memory", path);
    fprintf(f, "%s %zu %zu\n", magic, cell->nrows, size);
    for (size_t i = 0; i < cell->nrows; i++)
        row(f, cell, i);
    return sim_write_stream(path, f, &buf, &len, err);
}

int sim_cell_hits_write(const char *csv, const sim_cell *cell, util_err *err)
{
    size_t images = cell->nrows ? cell->rows[0].images : 0;
    return sidecar_write(csv, cell, ".hits", HITS_MAGIC, images, hits_row, err);
}

int sim_cell_boot_write(const char *csv, const sim_cell *cell, util_err *err)
{
    return sidecar_write(csv, cell, ".boot", BOOT_MAGIC, SIM_BOOT_REPS, boot_row, err);
}

/* A file beside results.csv with every cell's rows in its order: the
 * header line ending in last, then per row its key, its images and its
 * payload. */
static int run_file_write(const char *path, const sim_result *res, const char *last,
                          row_payload *row, util_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return util_errf(err, "%s: out of memory", path);
    fprintf(f, "codec,channel,cut,limit,images,%s\n", last);
    for (size_t c = 0; c < res->ncells; c++) {
        const sim_cell *cell = &res->cells[c];
        for (size_t i = 0; i < cell->nrows; i++) {
            const sim_row *r = &cell->rows[i];
            row_key(f, cell->codec, cell->channel, (int)strlen(cell->channel), r,
                    r->images);
            fputc(',', f);
            row(f, cell, i);
        }
    }
    return sim_write_stream(path, f, &buf, &len, err);
}

int sim_hits_write(const char *path, const sim_result *res, util_err *err)
{
    return run_file_write(path, res, "correct", hits_row, err);
}

int sim_boot_write(const char *path, const sim_result *res, util_err *err)
{
    return run_file_write(path, res, "replicates", boot_row, err);
}

/* A cell's meta file: its CSV path with ".csv" replaced by ".meta.json". */
static int meta_path(char *buf, size_t len, const char *csv)
{
    return sim_sidecar_path(buf, len, csv, ".meta.json");
}

int sim_cell_meta_write(const char *csv, const sim_cell *cell, int threads,
                        util_err *err)
{
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16];
    if (meta_path(path, sizeof path, csv))
        return util_errf(err, "%s: not a cell file name", csv);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", cell->host);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "seconds", cell->seconds);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return util_errf(err, "%s: out of memory", path);
    int rc = sim_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

void sim_cell_meta_read(const char *csv, sim_cell *cell)
{
    char path[SIM_PATH_LEN + 2 * SIM_NAME_LEN + 16];
    snprintf(cell->host, sizeof cell->host, "unknown");
    cell->seconds = 0;
    char *text = NULL;
    FILE *f = meta_path(path, sizeof path, csv) ? NULL : fopen(path, "rb");
    if (f) {
        size_t cap = 4096;
        text = calloc(cap + 1, 1);
        if (text && fread(text, 1, cap, f) == cap) { /* not ours: too long */
            free(text);
            text = NULL;
        }
        fclose(f);
    }
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "host");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "seconds");
    if (cJSON_IsString(h) && h->valuestring[0] &&
        strlen(h->valuestring) < sizeof cell->host)
        snprintf(cell->host, sizeof cell->host, "%s", h->valuestring);
    if (cJSON_IsNumber(t) && t->valuedouble >= 0 && t->valuedouble < 1e9)
        cell->seconds = t->valuedouble;
    cJSON_Delete(o);
}

/* The mean, sample standard deviation, least and greatest of v[0..n). */
static void spread_of(FILE *f, const double *v, size_t n)
{
    double mean = 0, ss = 0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) {
        mean += v[i];
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    sim_csv_num(f, mean);
    sim_csv_num(f, sqrt(ss / (double)(n - 1)));
    sim_csv_num(f, lo);
    sim_csv_num(f, hi);
}

/* A row's value of metric m (seeds.csv's order). */
static double metric_of(const sim_row *r, int m)
{
    const double v[] = {r->received_bytes, r->psnr, r->ssim, r->accuracy, r->map50,
                        r->map50_95};
    return v[m];
}

int sim_seeds_write(const char *path, const sim_scenario *sc, const sim_result *res,
                    util_err *err)
{
    static const char *const names[] = {"received_bytes", "psnr", "ssim", "accuracy",
                                        "map50", "map50_95"};
    int nm = res->ncells && res->cells[0].detection ? 6 : sc->classifier[0] ? 4 : 3;
    size_t per = sc->ncodecs * sc->nchans, ns = sc->nseeds;
    double *v = malloc(ns * sizeof *v);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = v ? open_memstream(&buf, &len) : NULL;
    if (!f) {
        free(v);
        return util_errf(err, "%s: out of memory", path);
    }
    fputs("codec,channel,cut,limit,seeds", f);
    for (int m = 0; m < nm; m++)
        fprintf(f, ",%s_mean,%s_sd,%s_min,%s_max", names[m], names[m], names[m], names[m]);
    fputc('\n', f);
    for (size_t k = 0; k < per && k < res->ncells; k++) {
        const sim_cell *c0 = &res->cells[k];
        /* the channel's own label: the first seed's without "-seedN" */
        const char *cut = strstr(c0->channel, "-seed");
        for (const char *p = cut; p; p = strstr(p + 1, "-seed"))
            cut = p;
        for (size_t i = 0; i < c0->nrows; i++) {
            const sim_row *r = &c0->rows[i];
            row_key(f, c0->codec, c0->channel,
                    (int)(cut ? (size_t)(cut - c0->channel) : strlen(c0->channel)), r, ns);
            for (int m = 0; m < nm; m++) {
                for (size_t s = 0; s < ns; s++)
                    v[s] = metric_of(&res->cells[s * per + k].rows[i], m);
                spread_of(f, v, ns);
            }
            fputc('\n', f);
        }
    }
    free(v);
    return sim_write_stream(path, f, &buf, &len, err);
}

static cJSON *cells_json(const sim_scenario *sc, const sim_result *res)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < res->ncells; i++) {
        const sim_cell *c = &res->cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "codec", c->codec);
        cJSON_AddStringToObject(o, "channel", c->channel);
        /* which classifier scored it: its codec entry's own, or the
         * scenario's (cells run codec fastest) */
        const char *own = sc->codecs[i % sc->ncodecs].classifier;
        if (sc->classifier[0])
            cJSON_AddStringToObject(o, "classifier", own[0] ? own : sc->classifier);
        cJSON_AddBoolToObject(o, "reused", c->reused);
        cJSON_AddNumberToObject(o, "seconds", c->seconds);
        cJSON_AddStringToObject(o, "host", c->host);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Every host that computed a cell, in the order the cells name them. */
static cJSON *hosts_json(const sim_result *res)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < res->ncells; i++) {
        size_t j = 0;
        while (j < i && strcmp(res->cells[j].host, res->cells[i].host))
            j++;
        if (j == i)
            cJSON_AddItemToArray(arr, cJSON_CreateString(res->cells[i].host));
    }
    return arr;
}

/* results.csv as JSON: a row an object, keyed by the CSV's column names,
 * with the same exact numbers (null where the CSV is empty), built from
 * the same headers and row_targets, so the two cannot drift apart. */
static cJSON *table_json(const sim_result *res)
{
    char plain[] = CSV_HEADER, det[] = CSV_HEADER_DET;
    char *names[2][CSV_FIELDS_DET];
    int count[2] = {split(plain, names[0], CSV_FIELDS_DET),
                    split(det, names[1], CSV_FIELDS_DET)};
    cJSON *arr = cJSON_CreateArray();
    for (size_t c = 0; arr && c < res->ncells; c++) {
        const sim_cell *cell = &res->cells[c];
        char **tok = names[cell->detection != 0];
        int n = count[cell->detection != 0];
        for (size_t i = 0; i < cell->nrows; i++) {
            sim_row r = cell->rows[i];
            double *dst[CSV_FIELDS_DET];
            int empty_ok[CSV_FIELDS_DET];
            row_targets(&r, cell->detection, dst, empty_ok);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, tok[0], cell->codec);
            cJSON_AddStringToObject(o, tok[1], cell->channel);
            cJSON_AddStringToObject(o, tok[2], r.is_budget ? "budget" : "deadline");
            for (int k = 3; k < n; k++) {
                double v = dst[k - 3] ? *dst[k - 3] : (double)r.images;
                char t[UTIL_NUM_LEN];
                if (!isfinite(v)) {
                    cJSON_AddNullToObject(o, tok[k]);
                    continue;
                }
                util_num_text(t, v);
                /* raw: cJSON's own printing may drop the last bit */
                cJSON_AddRawToObject(o, tok[k], t);
            }
            cJSON_AddItemToArray(arr, o);
        }
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
    if (sc->overrides) /* the --set texts; "scenario" has them applied */
        cJSON_AddItemToObject(o, "overrides", cJSON_Parse(sc->overrides));
    cJSON_AddItemToObject(o, "scenario", cJSON_Parse(sc->json));
    cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
    if (sc->nseeds > 1) {
        cJSON *seeds = cJSON_AddArrayToObject(o, "seed_list");
        for (size_t i = 0; seeds && i < sc->nseeds; i++)
            cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)sc->seeds[i]));
        cJSON_AddStringToObject(o, "seed_results", "seeds.csv");
    }
    cJSON_AddStringToObject(o, "seeds", "channel of item i: util_seed_mix(seed, i)");
    cJSON_AddNumberToObject(o, "threads", res->threads);
    cJSON_AddNumberToObject(o, "wall_seconds", res->seconds);
    cJSON_AddItemToObject(o, "hosts", hosts_json(res));
    cJSON_AddStringToObject(o, "results", "results.csv");
    cJSON_AddItemToObject(o, "table", table_json(res));
    cJSON_AddItemToObject(o, "cells", cells_json(sc, res));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return util_errf(err, "%s: out of memory", path);
    int rc = sim_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
