/*
 * The "csv" trace kind: a per-packet table, as public LoRa datasets and
 * gateway logs publish them, instead of a capture. The first line names
 * the columns; each further line is one frame. The scenario names which
 * column holds what (channels/trace.c lists the keys):
 *
 *   time       the frame's reception time, in time_unit (s, ms or us);
 *              any origin (the replay starts from the first opportunity)
 *   delivered  optional: 1/true/yes/ok/delivered or 0/false/no/lost; a
 *              frame without it was delivered
 *   seq        optional: a sequence number (a frame counter) of seq_bits
 *              bits, whose gaps count as lost frames as for the capture
 *              kinds; empty for a frame whose counter is not known
 *   size       optional: the frame's bytes on air (the default payload)
 *   airtime    optional: its time on air, s (else the `airtime` key)
 *
 * Fields are separated by commas, or by the `separator` key's character;
 * a field may be double-quoted ("" for a quote inside). Blank lines and
 * lines starting with '#' are skipped. Any problem names the line and the
 * column.
 */
#include "channels/trace_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_FIELDS 256
#define CSV_LINE 65536 /* the longest line, its end included */

/* Splits line in place into at most CSV_FIELDS fields; how many, or -1
 * for an unterminated quote. */
static int split(char *line, char sep, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == CSV_FIELDS)
            return n;
        if (*p == '"') {
            char *w = f[n++] = ++p;
            for (;; p++) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *w++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *w++ = *p;
            }
            *w = 0;
            p++;
            while (*p && *p != sep) /* text after the closing quote */
                p++;
        } else {
            f[n++] = p;
            p += strcspn(p, (char[]){sep, 0});
        }
        if (*p != sep)
            return n;
        *p++ = 0;
    }
}

/* The position of the column named name among the header's fields, or -1
 * (for name NULL or ""). */
static int column(char **head, int n, const char *name)
{
    for (int i = 0; name && name[0] && i < n; i++)
        if (!strcmp(head[i], name))
            return i;
    return -1;
}

static int number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int delivered(const char *s, int *ok)
{
    static const char *const yes[] = {"1", "true", "yes", "ok", "delivered", NULL};
    static const char *const no[] = {"0", "false", "no", "lost", NULL};
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(s, yes[i]))
            return *ok = 1, 0;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(s, no[i]))
            return *ok = 0, 0;
    return -1;
}

/* The columns the configuration names, found in the header. */
typedef struct cols {
    int time, delivered, seq, size, airtime;
} cols;

static int find_columns(char **head, int n, const chan_trace_csv_cfg *cfg, size_t no,
                        cols *c, util_err *err)
{
    const char *names[5] = {cfg->time, cfg->delivered, cfg->seq, cfg->size, cfg->airtime};
    const char *keys[5] = {"time_column", "delivered_column", "seq_column", "size_column",
                           "airtime_column"};
    int *at[5] = {&c->time, &c->delivered, &c->seq, &c->size, &c->airtime};
    for (int k = 0; k < 5; k++) {
        *at[k] = column(head, n, names[k]);
        if (names[k] && names[k][0] && *at[k] < 0)
            return util_errf(err, "line %zu: no column \"%s\" (%s) in the header", no,
                             names[k], keys[k]);
    }
    return 0;
}

/* One frame from line no's fields. */
static int parse_frame(char **f, int n, const cols *c, const chan_trace_csv_cfg *cfg,
                       size_t no, chan_trace_frame *fr, util_err *err)
{
    double v;
    int need = c->time;
    const int opt[4] = {c->delivered, c->seq, c->size, c->airtime};
    for (int k = 0; k < 4; k++)
        need = opt[k] > need ? opt[k] : need;
    if (n <= need)
        return util_errf(err, "line %zu: %d fields, the columns named need %d", no, n,
                         need + 1);
    *fr = (chan_trace_frame){.air = cfg->airtime_s, .ok = 1};
    if (number(f[c->time], &v))
        return util_errf(err, "line %zu: %s: \"%s\" is not a time", no, cfg->time,
                         f[c->time]);
    fr->t = v * cfg->time_scale;
    if (c->delivered >= 0 && delivered(f[c->delivered], &fr->ok))
        return util_errf(err, "line %zu: %s: \"%s\" is neither delivered (1, true, "
                         "yes, ok) nor lost (0, false, no)", no, cfg->delivered,
                         f[c->delivered]);
    if (c->seq >= 0 && f[c->seq][0]) {
        if (number(f[c->seq], &v) || v < 0 || v != floor(v) || v >= 18446744073709551616.0 ||
            (cfg->seq_bits < 64 && v >= ldexp(1, cfg->seq_bits)))
            return util_errf(err, "line %zu: %s: \"%s\" is not a counter of %d bits", no,
                             cfg->seq, f[c->seq], cfg->seq_bits);
        fr->seq = (uint64_t)v;
        fr->has_seq = 1;
    }
    if (c->size >= 0) {
        if (number(f[c->size], &v) || v < 0 || v > 65535 || v != floor(v))
            return util_errf(err, "line %zu: %s: \"%s\" is not a size in bytes "
                             "(0..65535)", no, cfg->size, f[c->size]);
        fr->size = (uint32_t)v;
    }
    if (c->airtime >= 0 && (number(f[c->airtime], &fr->air) || fr->air < 0 || fr->air > 1e6))
        return util_errf(err, "line %zu: %s: \"%s\" is not a time on air in seconds",
                         no, cfg->airtime, f[c->airtime]);
    return 0;
}

/* The next line of fp into buf without its line end; 0 at the end, -1
 * for a line longer than len - 2 or a read error. */
static int next_line(FILE *fp, char *buf, size_t len, size_t no, util_err *err)
{
    if (!fgets(buf, (int)len, fp))
        return ferror(fp) ? util_errf(err, "line %zu: cannot read", no) : 0;
    size_t n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n' && !feof(fp))
        return util_errf(err, "line %zu: longer than %zu characters", no, len - 2);
    buf[strcspn(buf, "\r\n")] = 0;
    return 1;
}

/* Whether a line holds nothing to read: blank, or a '#' comment. */
static int skipped(const char *line)
{
    return !line[strspn(line, " \t")] || line[0] == '#';
}

int chan_trace_read_csv(const char *path, const chan_trace_csv_cfg *cfg,
                        chan_trace_frames *out, util_err *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return util_errf(err, "cannot open: %s", strerror(errno));
    char *head_buf = malloc(2 * CSV_LINE), *buf = head_buf + CSV_LINE;
    char *head[CSV_FIELDS], *f[CSV_FIELDS];
    cols c;
    int rc = head_buf ? 1 : util_errf(err, "out of memory"), nh = -1;
    for (size_t no = 1; rc > 0; no++) {
        char *line = nh < 0 ? head_buf : buf;
        rc = next_line(fp, line, CSV_LINE, no, err);
        if (rc <= 0 || skipped(line))
            continue;
        if (nh < 0) { /* the first line read: the header */
            if ((nh = split(head_buf, cfg->separator, head)) < 0)
                rc = util_errf(err, "line %zu: a quote is not closed", no);
            else if (find_columns(head, nh, cfg, no, &c, err))
                rc = -1;
            continue;
        }
        int n = split(buf, cfg->separator, f);
        chan_trace_frame fr;
        if (n < 0)
            rc = util_errf(err, "line %zu: a quote is not closed", no);
        else if (parse_frame(f, n, &c, cfg, no, &fr, err) || chan_trace_push(out, &fr, err))
            rc = -1;
    }
    if (rc == 0 && nh < 0)
        rc = util_errf(err, "empty: expected a header line naming the columns");
    fclose(fp);
    free(head_buf);
    return rc;
}
