/*
 * doc: Trace replay: a channel whose deliveries come from a pcap capture
 * (libpcap) instead of a model. The capture is read once, at creation;
 * the channel then holds only its configuration and the parsed trace.
 *
 * How a capture becomes a channel:
 *
 * 1. Frames. Each captured frame the kind recognises is a frame with a
 *    receive time t (the end of its reception), a time on air, a size, a
 *    loss mark, and, where the kind has one, a sequence number.
 *      generic  every frame of any link type; t = pcap time; time on air =
 *               `airtime`; sequence from `seq_offset`/`seq_bytes`/
 *               `seq_endian`, loss mark from the byte at `flag_offset`
 *               masked with `flag_mask` (non-zero = delivered, or = lost
 *               with `flag_lost`).
 *      loratap  link type 270 (LoRaTap v0); t = pcap time; time on air
 *               from SF and bandwidth in the LoRaTap header, coding rate
 *               `cr`, `preamble` symbols, explicit header, CRC on.
 *               v0 has no CRC field: no frame carries a loss mark.
 *      semtech  Semtech UDP packet forwarder PUSH_DATA datagrams to UDP
 *               port `port` (Ethernet, Linux cooked, raw IPv4/IPv6
 *               captures); one frame per LoRa `rxpk` (FSK ones are
 *               skipped); t = `tmst` (the gateway's µs counter; its 32-bit
 *               wrap is undone, using the pcap time to count wraps across
 *               long silences); time on air from `datr` and `codr`;
 *               `stat` -1 (bad CRC) is a loss mark and makes the frame's
 *               FCnt untrustworthy.
 *      csv      a per-packet table (channels/trace_csv.c), not a capture:
 *               t, the loss mark, a sequence number, the size and the time
 *               on air from the columns the keys name.
 *    For both LoRa kinds with `fcnt` on (the default), only LoRaWAN data
 *    uplinks count (joins, downlinks and non-LoRaWAN frames are skipped)
 *    and the sequence number is the FHDR's 16-bit FCnt; one device only:
 *    `devaddr` picks it, and without it a capture of several devices is an
 *    error. With `fcnt` off every LoRa frame counts and has no sequence.
 *
 * 2. Opportunities. Frames are sorted by t (stable). Without a sequence
 *    field every frame is one opportunity, lost if it carries a loss mark.
 *    With one, frames are walked in time order: a sequence number equal to
 *    the previous one is a duplicate and dropped; a step of g (modulo the
 *    field's range) with 1 <= g <= `max_gap` means g-1 frames were sent but
 *    never captured: they become g-1 lost opportunities, placed at the
 *    times of the frames without a trustworthy sequence number (bad CRC)
 *    captured in between, and the rest spread evenly between the two
 *    neighbours' times. So a bad-CRC frame is counted once, whether or not
 *    its own header survived. A step over `max_gap` (a device reset or a
 *    counter running backwards) is a discontinuity: no losses inferred.
 *    Untrustworthy frames before the first or after the last numbered
 *    frame are dropped. A trace needs at least two opportunities at
 *    different times.
 *
 * 3. Replay. Packet i of a stream uses opportunity s + i. Opportunity k
 *    began at b_k = t_k - air_k. The stream's time 0 is b_s; so packet i
 *    has t_start = b_{s+i} - b_s and, unless opportunity s+i is lost,
 *    t_arrive = t_{s+i} - b_s + `delay`. s is `start` if given, otherwise
 *    drawn uniformly from the opportunities with the generator passed in,
 *    so each image replays its own part of the trace and the same seed
 *    gives the same part. Past the last opportunity the trace repeats
 *    (`wrap`, the default) shifted by its period, its span times N/(N-1)
 *    for N opportunities; without wrap those packets are lost and never
 *    sent (attempts 0, t_start infinite). A packet's own length does not
 *    matter: each opportunity carries one packet of up to `payload` bytes.
 *    Stats: airtime sums the opportunities' time on air; bytes on air
 *    count each packet plus the framing (13 for the LoRa kinds, `header`
 *    for generic).
 *
 * Keys (defaults in brackets):
 *
 *   file        the capture (pcap or pcapng; csv: the table), required
 *   kind        "generic", "loratap", "semtech" or "csv", required
 *   payload     what codecs are told, bytes, 1..65535 [the largest frame's
 *               payload: size - 13 for LoRa kinds, size - header for generic]
 *   start       first opportunity used by every stream, 0..N-1 [random]
 *   wrap        repeat the trace when a stream outlasts it [true]
 *   delay       added to every arrival (e.g. backhaul), s [0]
 *   max_gap     largest sequence step read as losses [1000]
 *   generic:  header [0] (bytes of framing per frame, for bytes on air and
 *             the default payload), airtime [0] (s), seq_offset [no field],
 *             seq_bytes 1|2|4|8 [4], seq_endian "big"|"little" ["big"],
 *             flag_offset [no flag], flag_mask 1..255 [255], flag_lost [false]
 *   loratap:  fcnt [true], devaddr (hex, as printed: "26011BDA") [any one],
 *             cr 5..8 (4/5..4/8) [5], preamble [8]
 *   semtech:  fcnt [true], devaddr [any one], port [1700], preamble [8]
 *   csv:      time_column (required), time_unit "s"|"ms"|"us" ["s"],
 *             delivered_column, seq_column, size_column, airtime_column
 *             [none], seq_bits 1..64 [32], airtime [0] (s, without a
 *             column), header [0], separator ","|";"|"tab" [","]
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"
#include "channels/trace_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct trace_op {
    double begin, end;   /* s, relative to the first opportunity's end */
    double air;
    int ok;
} trace_op;

typedef struct trace_cfg {
    int kind;            /* 0 generic, 1 loratap, 2 semtech, 3 csv */
    size_t header;
    long start;          /* < 0: random */
    int wrap;
    double delay;
    trace_op *op;
    size_t n;
    double period;
} trace_cfg;

static const char *const kinds[] = {"generic", "loratap", "semtech", "csv", NULL};
#define KIND_CSV 3

/* ---- shared pieces for the parsers ---------------------------------------------- */

int chan_trace_push(chan_trace_frames *f, const chan_trace_frame *fr,
                    util_err *err)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 256;
        chan_trace_frame *v = realloc(f->v, cap * sizeof *v);
        if (!v)
            return util_errf(err, "out of memory after %zu frames", f->n);
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = *fr;
    return 0;
}

int chan_trace_open(const char *path, pcap_t **out, util_err *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    *out = pcap_open_offline_with_tstamp_precision(path,
                                                   PCAP_TSTAMP_PRECISION_NANO,
                                                   eb);
    if (!*out)
        return util_errf(err, "cannot read the capture: %s",
                         eb[0] ? eb : strerror(errno));
    return 0;
}

int chan_trace_next(pcap_t *p, size_t no, struct pcap_pkthdr **h,
                    const uint8_t **data, util_err *err)
{
    const u_char *d;
    int rc = pcap_next_ex(p, h, &d);
    if (rc == 1) {
        *data = d;
        if ((*h)->caplen > (*h)->len)
            return util_errf(err, "frame %zu: %u bytes captured of a %u-byte "
                             "frame", no, (*h)->caplen, (*h)->len);
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    return util_errf(err, "frame %zu: %s", no, pcap_geterr(p));
}

double chan_trace_time(const struct pcap_pkthdr *h, int64_t base_sec)
{
    /* With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds. */
    return (double)((int64_t)h->ts.tv_sec - base_sec) +
           (double)h->ts.tv_usec * 1e-9;
}

void chan_trace_linktype(int dlt, char *buf, size_t len)
{
    const char *name = pcap_datalink_val_to_name(dlt);
    /* libpcap has no names for the user link types 147-162. */
    if (!name && dlt >= 147 && dlt <= 162)
        snprintf(buf, len, "USER%d (%d)", dlt - 147, dlt);
    else
        snprintf(buf, len, "%s (%d)", name ? name : "unknown", dlt);
}

double chan_trace_lora_airtime(int sf, double bw_hz, int cr, size_t size,
                               int preamble)
{
    double tsym = ldexp(1.0, sf) / bw_hz;
    int de = tsym >= 0.016;
    double num = 8.0 * (double)size - 4.0 * sf + 28 + 16;
    double sym = ceil(num / (4.0 * (sf - 2 * de))) * (cr + 4);
    return ((preamble + 4.25) + 8 + (sym > 0 ? sym : 0)) * tsym;
}

int chan_trace_lorawan_uplink(const uint8_t *p, size_t n, uint32_t *dev,
                              uint16_t *fcnt)
{
    if (n < 12)
        return 0;
    int mtype = p[0] >> 5;
    if ((mtype != 2 && mtype != 4) || (p[0] & 3) != 0)
        return 0;
    *dev = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
           (uint32_t)p[4] << 24;
    *fcnt = (uint16_t)(p[6] | p[7] << 8);
    return 1;
}

/* ---- generic ------------------------------------------------------------------------ */

int chan_trace_read_generic(pcap_t *p, const chan_trace_generic_cfg *cfg,
                            chan_trace_frames *out, util_err *err)
{
    struct pcap_pkthdr *h;
    const uint8_t *d;
    int64_t base = 0;
    size_t no = 0;
    int rc;
    while ((rc = chan_trace_next(p, ++no, &h, &d, err)) == 1) {
        if (no == 1)
            base = (int64_t)h->ts.tv_sec;
        chan_trace_frame fr = {.t = chan_trace_time(h, base),
                               .air = cfg->airtime, .size = h->len, .ok = 1};
        if (cfg->seq_offset >= 0) {
            if ((size_t)(cfg->seq_offset + cfg->seq_bytes) > h->caplen)
                return util_errf(err, "frame %zu: %u bytes captured, too short "
                                 "for seq_offset %ld + seq_bytes %ld", no,
                                 h->caplen, cfg->seq_offset, cfg->seq_bytes);
            for (long i = 0; i < cfg->seq_bytes; i++) {
                long at = cfg->seq_little ? cfg->seq_bytes - 1 - i : i;
                fr.seq = fr.seq << 8 | d[cfg->seq_offset + at];
            }
            fr.has_seq = 1;
        }
        if (cfg->flag_offset >= 0) {
            if ((size_t)cfg->flag_offset >= h->caplen)
                return util_errf(err, "frame %zu: %u bytes captured, too short "
                                 "for flag_offset %ld", no, h->caplen,
                                 cfg->flag_offset);
            int set = (d[cfg->flag_offset] & cfg->flag_mask) != 0;
            fr.ok = cfg->flag_lost ? !set : set;
        }
        if (chan_trace_push(out, &fr, err))
            return -1;
    }
    return rc;
}

/* ---- configuration ---------------------------------------------------------------- */

typedef struct trace_read_cfg {
    const char *file;
    int fcnt, has_dev;
    uint32_t dev;
    long max_gap, cr, preamble, port, payload;
    uint64_t seq_mod;
    chan_trace_generic_cfg gen;
    chan_trace_csv_cfg csv;
} trace_read_cfg;

static int parse_devaddr(const char *s, uint32_t *out, util_err *err)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 16);
    if (strlen(s) != 8 || *end || errno || v > 0xffffffffUL)
        return util_errf(err, "devaddr: expected 8 hex digits, got \"%s\"", s);
    *out = (uint32_t)v;
    return 0;
}

static int parse_generic(util_params *p, trace_cfg *c, trace_read_cfg *r,
                         util_err *err)
{
    static const char *const endians[] = {"big", "little", NULL};
    chan_trace_generic_cfg *g = &r->gen;
    long header;
    const char *endian;
    if (util_params_int(p, "header", 0, 0, 65535, &header, err) ||
        util_params_num(p, "airtime", 0, 0, 1e6, &g->airtime, err) ||
        util_params_int(p, "seq_offset", -1, 0, 65535, &g->seq_offset, err) ||
        util_params_int(p, "seq_bytes", 4, 1, 8, &g->seq_bytes, err) ||
        util_params_str(p, "seq_endian", "big", endians, &endian, err) ||
        util_params_int(p, "flag_offset", -1, 0, 65535, &g->flag_offset, err) ||
        util_params_int(p, "flag_mask", 255, 1, 255, &g->flag_mask, err) ||
        util_params_bool(p, "flag_lost", 0, &g->flag_lost, err))
        return -1;
    if (g->seq_bytes != 1 && g->seq_bytes != 2 && g->seq_bytes != 4 &&
        g->seq_bytes != 8)
        return util_errf(err, "seq_bytes: expected 1, 2, 4 or 8, got %ld",
                         g->seq_bytes);
    g->seq_little = strcmp(endian, "little") == 0;
    c->header = (size_t)header;
    r->seq_mod = g->seq_bytes == 8 ? 0 : (uint64_t)1 << (8 * g->seq_bytes);
    return 0;
}

static int parse_csv(util_params *p, trace_cfg *c, trace_read_cfg *r, util_err *err)
{
    static const char *const units[] = {"s", "ms", "us", NULL};
    static const char *const seps[] = {",", ";", "tab", NULL};
    chan_trace_csv_cfg *v = &r->csv;
    const char *unit, *sep;
    long header, bits;
    if (util_params_str(p, "time_column", NULL, NULL, &v->time, err) ||
        util_params_str(p, "delivered_column", "", NULL, &v->delivered, err) ||
        util_params_str(p, "seq_column", "", NULL, &v->seq, err) ||
        util_params_str(p, "size_column", "", NULL, &v->size, err) ||
        util_params_str(p, "airtime_column", "", NULL, &v->airtime, err) ||
        util_params_str(p, "time_unit", "s", units, &unit, err) ||
        util_params_str(p, "separator", ",", seps, &sep, err) ||
        util_params_int(p, "seq_bits", 32, 1, 64, &bits, err) ||
        util_params_num(p, "airtime", 0, 0, 1e6, &v->airtime_s, err) ||
        util_params_int(p, "header", 0, 0, 65535, &header, err))
        return -1;
    if (!v->time || !v->time[0])
        return util_errf(err, "time_column: missing (the name of the column that "
                         "holds each frame's reception time)");
    v->time_scale = !strcmp(unit, "s") ? 1 : !strcmp(unit, "ms") ? 1e-3 : 1e-6;
    v->separator = !strcmp(sep, "tab") ? '\t' : sep[0];
    v->seq_bits = (int)bits;
    c->header = (size_t)header;
    r->seq_mod = bits == 64 ? 0 : (uint64_t)1 << bits;
    return 0;
}

static int parse_lora(util_params *p, trace_cfg *c, trace_read_cfg *r,
                      util_err *err)
{
    const char *dev;
    if (util_params_bool(p, "fcnt", 1, &r->fcnt, err) ||
        util_params_str(p, "devaddr", "", NULL, &dev, err) ||
        util_params_int(p, "preamble", 8, 6, 65535, &r->preamble, err))
        return -1;
    if (c->kind == 1 &&
        util_params_int(p, "cr", 5, 5, 8, &r->cr, err))
        return -1;
    if (c->kind == 2 &&
        util_params_int(p, "port", 1700, 1, 65535, &r->port, err))
        return -1;
    if (dev[0] && parse_devaddr(dev, &r->dev, err))
        return -1;
    r->has_dev = dev[0] != 0;
    c->header = CHAN_TRACE_LORAWAN_OVERHEAD;
    r->seq_mod = 65536;
    return 0;
}

static int parse(util_params *p, trace_cfg *c, trace_read_cfg *r,
                 util_err *err)
{
    const char *kind;
    memset(r, 0, sizeof *r);
    r->gen.seq_offset = r->gen.flag_offset = -1;
    if (util_params_str(p, "file", NULL, NULL, &r->file, err) ||
        util_params_str(p, "kind", NULL, kinds, &kind, err) ||
        util_params_int(p, "payload", 0, 1, 65535, &r->payload, err) ||
        util_params_int(p, "start", -1, 0, 1000000000, &c->start, err) ||
        util_params_bool(p, "wrap", 1, &c->wrap, err) ||
        util_params_num(p, "delay", 0, 0, 1e6, &c->delay, err) ||
        util_params_int(p, "max_gap", 1000, 1, 1000000000, &r->max_gap, err))
        return -1;
    if (!r->file || !r->file[0])
        return util_errf(err, "file: missing (expected the capture's path)");
    if (!kind)
        return util_errf(err, "kind: missing (expected \"generic\", "
                         "\"loratap\", \"semtech\" or \"csv\")");
    for (c->kind = 0; strcmp(kinds[c->kind], kind) != 0; c->kind++)
        ;
    return c->kind == 0          ? parse_generic(p, c, r, err)
           : c->kind == KIND_CSV ? parse_csv(p, c, r, err)
                                 : parse_lora(p, c, r, err);
}

/* ---- frames to opportunities ------------------------------------------------------ */

typedef struct indexed {
    double t;
    size_t i;
} indexed;

static int cmp_indexed(const void *a, const void *b)
{
    const indexed *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Sorts frames by time, keeping capture order among equal times. */
static int sort_frames(chan_trace_frames *f, util_err *err)
{
    indexed *ix = malloc((f->n ? f->n : 1) * sizeof *ix);
    chan_trace_frame *v = malloc((f->n ? f->n : 1) * sizeof *v);
    if (!ix || !v) {
        free(ix);
        free(v);
        return util_errf(err, "out of memory");
    }
    for (size_t i = 0; i < f->n; i++)
        ix[i] = (indexed){f->v[i].t, i};
    qsort(ix, f->n, sizeof *ix, cmp_indexed);
    for (size_t i = 0; i < f->n; i++)
        v[i] = f->v[ix[i].i];
    free(ix);
    free(f->v);
    f->v = v;
    f->cap = f->n;
    return 0;
}

/* Keeps one LoRaWAN device's frames (bad-CRC frames stay if their header
 * still names it); without devaddr there must be only one. Only frames
 * with a good CRC decide which devices there are. */
static int pick_device(chan_trace_frames *f, const trace_read_cfg *r,
                       util_err *err)
{
    uint32_t dev = r->dev;
    int have = r->has_dev;
    size_t k = 0;
    for (size_t i = 0; i < f->n && !r->has_dev; i++) {
        const chan_trace_frame *fr = &f->v[i];
        if (!fr->has_dev || !fr->has_seq)
            continue;
        if (have && fr->dev != dev)
            return util_errf(err, "frames from more than one device (DevAddr "
                             "%08X and %08X): choose one with devaddr",
                             (unsigned)dev, (unsigned)fr->dev);
        dev = fr->dev;
        have = 1;
    }
    for (size_t i = 0; i < f->n; i++)
        if (have && f->v[i].has_dev && f->v[i].dev == dev)
            f->v[k++] = f->v[i];
    f->n = k;
    if (!k && r->has_dev)
        return util_errf(err, "no LoRaWAN data uplink from devaddr %08X",
                         (unsigned)dev);
    if (!k)
        return util_errf(err, "no LoRaWAN data uplink with a good CRC");
    return 0;
}

static int add_op(trace_op **v, size_t *n, size_t *cap, double end,
                  double air, int ok, util_err *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        trace_op *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return util_errf(err, "out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (trace_op){end - air, end, air, ok};
    return 0;
}

static int cmp_op(const void *a, const void *b)
{
    const trace_op *x = a, *y = b;
    return (x->end > y->end) - (x->end < y->end);
}

/* Step 2 of the doc comment, with a sequence field. */
static int seq_ops(const chan_trace_frames *f, const trace_read_cfg *r,
                   trace_op **v, size_t *n, size_t *cap, util_err *err)
{
    const chan_trace_frame *prev = NULL;
    size_t pend = 0, npend = 0;   /* untrustworthy frames since prev */
    for (size_t i = 0; i < f->n; i++) {
        const chan_trace_frame *fr = &f->v[i];
        if (!fr->has_seq) {
            if (prev && !npend++)
                pend = i;
            continue;
        }
        uint64_t gap = prev ? (fr->seq - prev->seq) : 1;
        if (r->seq_mod)
            gap %= r->seq_mod;
        if (prev && gap == 0)
            continue;
        if (prev && gap <= (uint64_t)r->max_gap) {
            size_t missing = (size_t)(gap - 1);
            size_t used = 0;
            for (size_t j = pend; used < missing && used < npend; j++) {
                if (f->v[j].has_seq)
                    continue;
                if (add_op(v, n, cap, f->v[j].t, f->v[j].air, 0, err))
                    return -1;
                used++;
            }
            size_t m = missing - used;
            for (size_t j = 1; j <= m; j++) {
                double t = prev->t + (fr->t - prev->t) * (double)j /
                           (double)(m + 1);
                if (add_op(v, n, cap, t, fr->air, 0, err))
                    return -1;
            }
        }
        if (add_op(v, n, cap, fr->t, fr->air, fr->ok, err))
            return -1;
        prev = fr;
        npend = 0;
    }
    return 0;
}

static int build_ops(chan_trace_frames *f, const trace_read_cfg *r,
                     int use_seq, trace_cfg *c, util_err *err)
{
    if (sort_frames(f, err))
        return -1;
    size_t cap = 0;
    c->n = 0;
    if (use_seq) {
        if (seq_ops(f, r, &c->op, &c->n, &cap, err))
            return -1;
    } else {
        for (size_t i = 0; i < f->n; i++)
            if (add_op(&c->op, &c->n, &cap, f->v[i].t, f->v[i].air,
                       f->v[i].ok, err))
                return -1;
    }
    if (c->n) /* none: every frame lacked a trustworthy sequence number */
        qsort(c->op, c->n, sizeof *c->op, cmp_op);
    if (c->n < 2 || !(c->op[c->n - 1].end > c->op[0].end))
        return util_errf(err, "%zu delivery opportunit%s%s: a trace needs at "
                         "least two at different times", c->n,
                         c->n == 1 ? "y" : "ies",
                         c->n >= 2 ? ", all at one time" : "");
    double t0 = c->op[0].end;
    for (size_t i = 0; i < c->n; i++) {
        c->op[i].begin -= t0;
        c->op[i].end -= t0;
    }
    double span = c->op[c->n - 1].end;
    c->period = span * (double)c->n / (double)(c->n - 1);
    return 0;
}

/* Reads the capture named by r into c's opportunities; *biggest is the
 * largest frame kept, for the default payload. */
/* The frames of a capture kind's file. */
static int read_capture(const trace_cfg *c, const trace_read_cfg *r,
                        chan_trace_frames *f, util_err *err)
{
    pcap_t *p;
    if (chan_trace_open(r->file, &p, err))
        return -1;
    int rc, preamble = (int)r->preamble;
    if (c->kind == 0)
        rc = chan_trace_read_generic(p, &r->gen, f, err);
    else if (c->kind == 1)
        rc = chan_trace_read_loratap(p, (int)r->cr - 4, preamble, f, err);
    else
        rc = chan_trace_read_semtech(p, r->port, preamble, f, err);
    pcap_close(p);
    return rc;
}

static int load(trace_cfg *c, const trace_read_cfg *r, uint32_t *biggest,
                util_err *err)
{
    chan_trace_frames f = {0};
    int csv = c->kind == KIND_CSV;
    int rc = csv ? chan_trace_read_csv(r->file, &r->csv, &f, err)
                 : read_capture(c, r, &f, err);
    if (rc == 0 && f.n == 0)
        rc = util_errf(err, "the %s holds no %s frames", csv ? "table" : "capture",
                       kinds[c->kind]);
    if (rc == 0 && c->kind != 0 && !csv && r->fcnt)
        rc = pick_device(&f, r, err);
    *biggest = 0;
    for (size_t i = 0; i < f.n; i++)
        if (f.v[i].size > *biggest)
            *biggest = f.v[i].size;
    int use_seq = c->kind == 0 ? r->gen.seq_offset >= 0
                  : csv        ? r->csv.seq && r->csv.seq[0]
                               : r->fcnt;
    if (rc == 0)
        rc = build_ops(&f, r, use_seq, c, err);
    free(f.v);
    return rc;
}

/* A file-name-safe stem of the capture's name. */
static void file_stem(const char *path, char *buf, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t k = 0;
    for (; *b && *b != '.' && k + 1 < len; b++)
        buf[k++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_-", *b) ? *b : '_';
    buf[k] = 0;
}

static void make_label(const trace_cfg *c, const trace_read_cfg *r,
                       size_t payload, char *buf, size_t len)
{
    char stem[64], num[32];
    file_stem(r->file, stem, sizeof stem);
    int off = snprintf(buf, len, "trace-%s-%s-n%zu-p%zu", kinds[c->kind], stem,
                       c->n, payload);
    if (off < 0 || (size_t)off >= len)
        return;
    if (c->start >= 0)
        off += snprintf(buf + off, len - (size_t)off, "-s%ld", c->start);
    if (!c->wrap && (size_t)off < len)
        off += snprintf(buf + off, len - (size_t)off, "-nowrap");
    if (c->delay > 0 && (size_t)off < len) {
        chan_label_num(c->delay, num, sizeof num);
        snprintf(buf + off, len - (size_t)off, "-delay%s", num);
    }
}

static int trace_create(util_params *params, void **state, size_t *payload,
                        char *label, size_t label_len, util_err *err)
{
    trace_cfg cfg = {0};
    trace_read_cfg r;
    uint32_t biggest;
    if (parse(params, &cfg, &r, err))
        return -1;
    if (load(&cfg, &r, &biggest, err)) {
        free(cfg.op);
        return util_err_prefix(err, "file: %s: ", r.file);
    }
    long pl = r.payload;
    int bad = 0;
    if (cfg.start >= 0 && (size_t)cfg.start >= cfg.n)
        bad = util_errf(err, "start: %ld is past the trace's %zu delivery "
                        "opportunities", cfg.start, cfg.n);
    else if (!pl && cfg.kind == KIND_CSV && !(r.csv.size && r.csv.size[0]))
        bad = util_errf(err, "payload: required for a csv trace without a size_column "
                        "(what each opportunity carries)");
    else if (!pl && biggest <= cfg.header)
        bad = util_errf(err, "payload: the largest frame of %s (%u bytes) "
                        "leaves nothing after %zu bytes of framing: give "
                        "payload", r.file, (unsigned)biggest, cfg.header);
    else if (!pl)
        pl = biggest - cfg.header > 65535 ? 65535 : (long)(biggest - cfg.header);
    trace_cfg *c = bad ? NULL : malloc(sizeof *c);
    if (!c) {
        free(cfg.op);
        return bad ? -1 : util_errf(err, "trace: out of memory");
    }
    *c = cfg;
    *state = c;
    *payload = (size_t)pl;
    make_label(c, &r, *payload, label, label_len);
    return 0;
}

/* ---- replay ---------------------------------------------------------------------------- */

static int trace_transmit(const void *state, const size_t *len,
                          const uint8_t *retry, size_t n, util_rng *rng,
                          chan_arrival *out, chan_stats *stats, util_err *err)
{
    (void)err;
    (void)retry; /* no ARQ */
    const trace_cfg *c = state;
    size_t s = c->start >= 0 ? (size_t)c->start
                             : (size_t)util_rng_below(rng, c->n);
    double origin = c->op[s].begin;
    *stats = (chan_stats){0};
    for (size_t i = 0; i < n; i++) {
        size_t j = s + i, k = j % c->n;
        double shift = (double)(j / c->n) * c->period - origin;
        chan_arrival *a = &out[i];
        if (j >= c->n && !c->wrap) {
            *a = (chan_arrival){0, 0, INFINITY, INFINITY};
            stats->lost++;
            continue;
        }
        const trace_op *op = &c->op[k];
        a->attempts = 1;
        a->arrived = op->ok;
        a->t_start = op->begin + shift;
        a->t_arrive = op->ok ? op->end + shift + c->delay : INFINITY;
        stats->airtime += op->air;
        stats->bytes_on_air += len[i] + c->header;
        stats->attempts++;
        stats->lost += !op->ok;
        if (op->end + shift > stats->t_end)
            stats->t_end = op->end + shift;
    }
    return 0;
}

static void trace_destroy(void *state)
{
    trace_cfg *c = state;
    if (c)
        free(c->op);
    free(c);
}

const chan_vtable chan_trace_vtable = {
    .name = "trace",
    .create = trace_create,
    .transmit = trace_transmit,
    .destroy = trace_destroy,
};
