/*
 * doc: The transport layer: protection of one codec stream on its way
 * through a channel, configured per codec entry in a scenario ("transport",
 * README.md) and the same for every codec. The codec encodes at the
 * channel's payload less transport_cfg_header(); transport_send turns its
 * packets into the packets on air, which go through chan_transmit like any
 * other (so their airtime, duty cycle, bytes and byte budgets count in
 * every figure); transport_receive turns the ones that arrived by a cut
 * back into the codec's packets. Options, combined in this order:
 *
 *   repeat  {"first": k, "copies": c}: the first k codec packets go on air
 *           c times each, the copies right after the original. The
 *           receiver keeps any copy. No header: as for every codec here,
 *           the receiver knows each frame's place in the image's sequence
 *           (LoRaWAN's FCnt), so it knows which copies belong together.
 *   fec     {"overhead": r}: the M codec packets are the data fragments of
 *           one TS004-1.0.0 block (transport/fec.c), followed by
 *           ceil(M * r) redundancy fragments, N in all; the receiver
 *           recovers every data fragment that the fragments it got
 *           determine, and the codec gets those.
 *   arq     {"min_priority": p}: the channel's ARQ (link retries, LoRaWAN
 *           confirmed uplinks, 802.15.4 ACKs) may retry only the packets
 *           whose codec priority (codec/codec.h) is at least p; the others
 *           go out once, unacknowledged (chan_transmit's retry). Copies keep
 *           their packet's priority; redundancy fragments have 0.
 *
 * FEC framing. Codec packets have different lengths, and a block's
 * fragments one length F. Two ways to make fragments of them: each codec
 * packet one data fragment, padded to F = the longest packet plus a length
 * field; or the stream serialised with length prefixes and cut into equal
 * fragments. For the same overhead the first hands the codec more packets
 * under loss: a fragment that the parity cannot recover costs exactly its
 * own codec packet, where in the second it damages the one or two packets
 * it overlaps and, with a length prefix in it, the boundaries of all that
 * follow until the parity fills it in. Codecs whose packets decode on
 * their own (LimitNet, JPEG with restart markers) keep everything else.
 * Its price is the padding, and only the redundancy fragments pay it: a
 * data fragment goes on air without its padding and without its length
 * field, which the receiver rebuilds from the frame's length (a LoRaWAN
 * frame has one) before it decodes. So, imitating TS004-1.0.0:
 *
 *   every packet on air   Index&N, 2 bytes little-endian: FragIndex (bits
 *                         15:14, 0: one session) and N (13:0), the coded
 *                         fragment's index 1..N, as the Data Fragment
 *                         message (3.4) carries it; then NbFrag, 2 bytes
 *                         little-endian: M, which TS004 sends ahead in
 *                         FragSessionSetupReq (3.2) and an uplink image has
 *                         no session set-up to carry. No CID: a port of
 *                         its own would carry only fragments (ch. 3).
 *   data fragment i       the header, then codec packet i's bytes;
 *                         as coded: its length (2 bytes little-endian),
 *                         the bytes, zeros to F
 *   redundancy fragment   the header, then F bytes: the XOR of the coded
 *                         data fragments its parity row selects (ch. 11)
 *
 * F = 2 + the longest codec packet, so the codec encodes at the payload
 * less 6 bytes (header and length field) and every packet fits the
 * channel. A block with M = 1 gains nothing (TS004's rows are empty for
 * M = 1), and the spec advises M of about 20 or more.
 *
 * Nothing here keeps state between calls; a tx and an rx each belong to
 * one thread.
 */
#include "transport/transport.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings ------------------------------------------------------------ */

static int parse_repeat(util_params *p, transport_cfg *cfg, util_err *err)
{
    int first = util_params_has(p, "repeat.first");
    if (first != util_params_has(p, "repeat.copies"))
        return util_errf(err, "%s: missing (repetition needs first and copies)",
                         first ? "repeat.copies" : "repeat.first");
    if (!first)
        return 0;
    long k, c;
    if (util_params_int(p, "repeat.first", 1, 1, 65535, &k, err) ||
        util_params_int(p, "repeat.copies", 2, 2, TRANSPORT_COPIES_MAX, &c, err))
        return -1;
    cfg->repeat_first = (int)k;
    cfg->repeat_copies = (int)c;
    return 0;
}

static int parse_fec(util_params *p, transport_cfg *cfg, util_err *err)
{
    if (!util_params_has(p, "fec.overhead"))
        return 0;
    if (util_params_num(p, "fec.overhead", 0, 0, TRANSPORT_FEC_OVERHEAD_MAX,
                        &cfg->fec_overhead, err))
        return -1;
    if (!(cfg->fec_overhead > 0))
        return util_errf(err, "fec.overhead: expected redundancy per data "
                         "fragment in (0, %g], got 0", TRANSPORT_FEC_OVERHEAD_MAX);
    return 0;
}

int transport_cfg_parse(util_params *p, transport_cfg *cfg, util_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (parse_repeat(p, cfg, err) || parse_fec(p, cfg, err))
        return -1;
    if (util_params_has(p, "arq.min_priority")) {
        long v;
        if (util_params_int(p, "arq.min_priority", 0, 0, TRANSPORT_PRIORITY_MAX,
                            &v, err))
            return -1;
        cfg->arq = 1;
        cfg->min_priority = (int)v;
    }
    return util_params_check_used(p, err);
}

int transport_cfg_active(const transport_cfg *cfg)
{
    return cfg->repeat_first > 0 || cfg->fec_overhead > 0 || cfg->arq;
}

/* Each option starts with a token without digits ("rep", "fec", "arq"),
 * so that a codec family (sim_family_of drops the tokens with digits)
 * keeps protected and unprotected settings apart. */
void transport_cfg_label(const transport_cfg *cfg, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    if (cfg->repeat_first > 0)
        util_appendf(buf, len, &off, "-rep-%dx%d", cfg->repeat_first,
                     cfg->repeat_copies);
    if (cfg->fec_overhead > 0)
        util_appendf(buf, len, &off, "-fec-%g", cfg->fec_overhead);
    if (cfg->arq)
        util_appendf(buf, len, &off, "-arq-p%d", cfg->min_priority);
}

size_t transport_cfg_header(const transport_cfg *cfg)
{
    return cfg->fec_overhead > 0 ? TRANSPORT_FEC_HEADER + TRANSPORT_FEC_LEN : 0;
}

/* ---- sending ------------------------------------------------------------- */

void transport_tx_init(transport_tx *t)
{
    memset(t, 0, sizeof *t);
}

void transport_tx_free(transport_tx *t)
{
    free(t->air);
    free(t->data);
    free(t->len);
    free(t->retry_buf);
    free(t->bytes);
    free(t->block);
    transport_tx_init(t);
}

static int tx_reserve(transport_tx *t, size_t n, util_err *err)
{
    if (n <= t->cap)
        return 0;
    size_t cap = n * 2;
    transport_onair *air = realloc(t->air, cap * sizeof *air);
    if (air)
        t->air = air;
    const uint8_t **data = realloc(t->data, cap * sizeof *data);
    if (data)
        t->data = data;
    size_t *len = realloc(t->len, cap * sizeof *len);
    if (len)
        t->len = len;
    uint8_t *retry = realloc(t->retry_buf, cap);
    if (retry)
        t->retry_buf = retry;
    if (!air || !data || !len || !retry)
        return util_errf(err, "transport: out of memory for %zu packets", n);
    t->cap = cap;
    return 0;
}

static int copies_of(const transport_cfg *cfg, size_t i)
{
    return i < (size_t)cfg->repeat_first ? cfg->repeat_copies : 1;
}

static void push(transport_tx *t, int source, int index, int priority,
                 const uint8_t *data, size_t len)
{
    t->air[t->n] = (transport_onair){source, index, priority};
    t->data[t->n] = data;
    t->len[t->n++] = len;
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v & 0xFF);
    p[1] = (uint8_t)(v >> 8);
}

static size_t get16(const uint8_t *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8;
}

/* TS004-1.0.0 3.4's Index&N with FragIndex 0, then NbFrag. */
static void put_header(uint8_t *p, int index, int m)
{
    put16(p, (size_t)index & 0x3FFF);
    put16(p + 2, (size_t)m);
}

/* N - M: at least one, and M * overhead rounded up (less a hair, so that
 * a product a rounding error above a whole number is that number). */
static int redundancy(int m, double overhead)
{
    int r = (int)ceil((double)m * overhead - 1e-9);
    return r < 1 ? 1 : r;
}

/* The coded data fragments, then the redundancy ones, into t->block. */
static int fec_block(transport_tx *t, const transport_packet *pkt,
                     util_err *err)
{
    size_t f = t->frag, need = (size_t)t->nfrag * f;
    uint8_t *b = realloc(t->block, need);
    if (!b)
        return util_errf(err, "transport: out of memory for a %d-fragment block",
                         t->nfrag);
    t->block = b;
    for (int i = 0; i < t->m; i++) {
        uint8_t *c = b + (size_t)i * f;
        put16(c, pkt[i].len);
        if (pkt[i].len)
            memcpy(c + TRANSPORT_FEC_LEN, pkt[i].data, pkt[i].len);
        memset(c + TRANSPORT_FEC_LEN + pkt[i].len, 0,
               f - TRANSPORT_FEC_LEN - pkt[i].len);
    }
    return transport_fec_encode(b, t->m, f, t->nfrag, b + (size_t)t->m * f, err);
}

/* Every frame once (a repeated one is sent from the same bytes). */
static int fec_frames(transport_tx *t, const transport_packet *pkt,
                      util_err *err)
{
    size_t need = (size_t)(t->nfrag - t->m) * (TRANSPORT_FEC_HEADER + t->frag);
    for (int i = 0; i < t->m; i++)
        need += TRANSPORT_FEC_HEADER + pkt[i].len;
    if (need > t->bytes_cap) {
        uint8_t *b = realloc(t->bytes, need);
        if (!b)
            return util_errf(err, "transport: out of memory for %zu bytes on air",
                             need);
        t->bytes = b;
        t->bytes_cap = need;
    }
    uint8_t *at = t->bytes;
    for (int i = 0; i < t->nfrag; i++) {
        int data = i < t->m;
        size_t body = data ? pkt[i].len : t->frag;
        put_header(at, i + 1, t->m);
        if (body)
            memcpy(at + TRANSPORT_FEC_HEADER,
                   data ? pkt[i].data : t->block + (size_t)i * t->frag, body);
        for (int c = 0; c < (data ? copies_of(&t->cfg, (size_t)i) : 1); c++)
            push(t, data ? i : -1, i + 1, data ? pkt[i].priority : 0, at,
                 TRANSPORT_FEC_HEADER + body);
        at += TRANSPORT_FEC_HEADER + body;
    }
    return 0;
}

static int fec_send(transport_tx *t, const transport_packet *pkt, size_t n,
                    util_err *err)
{
    if (n > TRANSPORT_FEC_M_MAX)
        return util_errf(err, "fec: %zu codec packets are more than the %d data "
                         "fragments of a block", n, TRANSPORT_FEC_M_MAX);
    size_t longest = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        longest = pkt[i].len > longest ? pkt[i].len : longest;
        total += (size_t)copies_of(&t->cfg, i);
    }
    t->m = (int)n;
    t->nfrag = t->m + redundancy(t->m, t->cfg.fec_overhead);
    t->frag = TRANSPORT_FEC_LEN + longest;
    if (t->frag > TRANSPORT_FEC_F_MAX)
        return util_errf(err, "fec: a %zu-byte codec packet makes fragments of "
                         "more than %d bytes", longest, TRANSPORT_FEC_F_MAX);
    if (tx_reserve(t, total + (size_t)(t->nfrag - t->m), err) ||
        fec_block(t, pkt, err))
        return -1;
    return fec_frames(t, pkt, err);
}

static int plain_send(transport_tx *t, const transport_packet *pkt, size_t n,
                      util_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)copies_of(&t->cfg, i);
    if (tx_reserve(t, total + 1, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < copies_of(&t->cfg, i); c++)
            push(t, (int)i, 0, pkt[i].priority, pkt[i].data, pkt[i].len);
    return 0;
}

int transport_send(const transport_cfg *cfg, const transport_packet *pkt,
                   size_t n, transport_tx *t, util_err *err)
{
    t->cfg = *cfg;
    t->ncodec = n;
    t->n = 0;
    t->m = t->nfrag = 0;
    t->frag = 0;
    t->retry = NULL;
    int rc = n > 0 && cfg->fec_overhead > 0 ? fec_send(t, pkt, n, err)
                                            : plain_send(t, pkt, n, err);
    if (rc) {
        t->n = 0;
        return -1;
    }
    if (cfg->arq) {
        for (size_t j = 0; j < t->n; j++)
            t->retry_buf[j] = t->air[j].priority >= cfg->min_priority;
        t->retry = t->retry_buf;
    }
    return 0;
}

/* ---- receiving ----------------------------------------------------------- */

void transport_rx_init(transport_rx *r)
{
    memset(r, 0, sizeof *r);
}

void transport_rx_free(transport_rx *r)
{
    free(r->got);
    free(r->data);
    free(r->len);
    free(r->in);
    free(r->out);
    free(r->known);
    free(r->frags);
    free(r->fptr);
    free(r->flen);
    free(r->seen);
    transport_rx_init(r);
}

/* Room for n codec packets and, with FEC, `frames` frames. */
static int rx_reserve(transport_rx *r, size_t n, size_t frames, util_err *err)
{
    if (n + 1 > r->cap) {
        size_t cap = 2 * (n + 1);
        uint8_t *got = realloc(r->got, cap);
        if (got)
            r->got = got;
        const uint8_t **data = realloc(r->data, cap * sizeof *data);
        if (data)
            r->data = data;
        size_t *len = realloc(r->len, cap * sizeof *len);
        if (len)
            r->len = len;
        if (!got || !data || !len)
            return util_errf(err, "transport: out of memory for %zu packets", n);
        r->cap = cap;
    }
    if (frames + 1 > r->frag_cap) {
        size_t cap = 2 * (frames + 1);
        transport_fec_frag *fr = realloc(r->frags, cap * sizeof *fr);
        if (fr)
            r->frags = fr;
        const uint8_t **fp = realloc(r->fptr, cap * sizeof *fp);
        if (fp)
            r->fptr = fp;
        size_t *fl = realloc(r->flen, cap * sizeof *fl);
        if (fl)
            r->flen = fl;
        if (!fr || !fp || !fl)
            return util_errf(err, "transport: out of memory for %zu frames", frames);
        r->frag_cap = cap;
    }
    r->n = n;
    memset(r->got, 0, n);
    memset(&r->fec, 0, sizeof r->fec);
    return 0;
}

static void take(transport_rx *r, size_t i, const uint8_t *data, size_t len)
{
    r->got[i] = 1;
    r->data[i] = data;
    r->len[i] = len;
}

int transport_receive(const transport_tx *t, const uint8_t *arrived,
                      transport_rx *r, util_err *err)
{
    if (t->m == 0) {
        if (rx_reserve(r, t->ncodec, 0, err))
            return -1;
        for (size_t j = 0; j < t->n; j++) {
            size_t i = (size_t)t->air[j].source;
            if (arrived[j] && !r->got[i])
                take(r, i, t->data[j], t->len[j]);
        }
        return 0;
    }
    if (rx_reserve(r, t->ncodec, t->n, err))
        return -1;
    size_t k = 0;
    for (size_t j = 0; j < t->n; j++)
        if (arrived[j]) {
            r->fptr[k] = t->data[j];
            r->flen[k++] = t->len[j];
        }
    return transport_fec_unframe(r->fptr, r->flen, k, t->ncodec, r, err);
}

/* ---- the FEC receiver ---------------------------------------------------- */

/* A frame's place in the block, or 0 when it does not parse as one of a
 * block of m fragments: shorter than the header, another session or M,
 * index 0. */
static int frame_index(const uint8_t *p, size_t len, size_t m)
{
    if (len < TRANSPORT_FEC_HEADER)
        return 0;
    size_t in = get16(p);
    if (in >> 14 != 0 || get16(p + 2) != m)
        return 0;
    return (int)(in & 0x3FFF);
}

/* Marks index idx seen; 1 if it was already. */
static int seen_before(uint8_t *seen, int idx)
{
    int was = seen[idx / 8] >> (idx % 8) & 1;
    seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
    return was;
}

/* The frames that parse, each index once, as fragments: data ones coded
 * into r->in (which needs F, the length of the first redundancy frame),
 * redundancy ones as they are. Returns how many, and the highest index. */
static int collect(const uint8_t *const *frame, const size_t *len, size_t count,
                   int m, size_t f, transport_rx *r, int *top)
{
    memset(r->seen, 0, (TRANSPORT_FEC_N_MAX + 8) / 8);
    int k = 0;
    *top = m;
    for (size_t j = 0; j < count; j++) {
        int idx = frame_index(frame[j], len[j], (size_t)m);
        size_t body = idx ? len[j] - TRANSPORT_FEC_HEADER : 0;
        int ok = idx > m ? body == f : idx > 0 && body <= f - TRANSPORT_FEC_LEN;
        if (!ok || seen_before(r->seen, idx))
            continue;
        const uint8_t *src = frame[j] + TRANSPORT_FEC_HEADER;
        if (idx <= m) {
            uint8_t *c = r->in + (size_t)(idx - 1) * f;
            put16(c, body);
            if (body)
                memcpy(c + TRANSPORT_FEC_LEN, src, body);
            memset(c + TRANSPORT_FEC_LEN + body, 0, f - TRANSPORT_FEC_LEN - body);
            src = c;
        }
        r->frags[k++] = (transport_fec_frag){idx, src};
        *top = idx > *top ? idx : *top;
    }
    return k;
}

/* F from the first redundancy frame that parses; 0 when none did. */
static size_t frag_size(const uint8_t *const *frame, const size_t *len,
                        size_t count, int m)
{
    for (size_t j = 0; j < count; j++) {
        int idx = frame_index(frame[j], len[j], (size_t)m);
        size_t body = idx ? len[j] - TRANSPORT_FEC_HEADER : 0;
        if (idx > m && body >= TRANSPORT_FEC_LEN && body <= TRANSPORT_FEC_F_MAX)
            return body;
    }
    return 0;
}

/* The data fragments received as such, when no redundancy helps. */
static void data_only(const uint8_t *const *frame, const size_t *len,
                      size_t count, int m, transport_rx *r)
{
    for (size_t j = 0; j < count; j++) {
        int idx = frame_index(frame[j], len[j], (size_t)m);
        if (idx >= 1 && idx <= m && !r->got[idx - 1])
            take(r, (size_t)idx - 1, frame[j] + TRANSPORT_FEC_HEADER,
                 len[j] - TRANSPORT_FEC_HEADER);
    }
}

static int fec_reserve(transport_rx *r, int m, size_t f, util_err *err)
{
    size_t need = (size_t)m * f;
    if (need > r->bytes_cap) {
        uint8_t *in = realloc(r->in, need), *out = in ? realloc(r->out, need) : NULL;
        if (in)
            r->in = in;
        if (out)
            r->out = out;
        if (!in || !out)
            return util_errf(err, "transport: out of memory for a %d-fragment block",
                             m);
        r->bytes_cap = need;
    }
    uint8_t *known = realloc(r->known, (size_t)m);
    uint8_t *seen = r->seen ? r->seen : malloc((TRANSPORT_FEC_N_MAX + 8) / 8);
    if (known)
        r->known = known;
    if (seen)
        r->seen = seen;
    return known && seen ? 0 : util_errf(err, "transport: out of memory");
}

int transport_fec_unframe(const uint8_t *const *frame, const size_t *len,
                          size_t count, size_t ncodec, transport_rx *r,
                          util_err *err)
{
    if (rx_reserve(r, ncodec, count, err))
        return -1;
    if (ncodec == 0 || ncodec > TRANSPORT_FEC_M_MAX)
        return 0;
    int m = (int)ncodec, top;
    size_t f = frag_size(frame, len, count, m);
    if (!f) {
        data_only(frame, len, count, m, r);
        return 0;
    }
    if (fec_reserve(r, m, f, err))
        return -1;
    int k = collect(frame, len, count, m, f, r, &top);
    util_err ignored;
    if (transport_fec_decode(m, top, f, r->frags, k, r->out, r->known, &r->fec,
                             &ignored)) {
        /* Fragments that contradict each other: some are damaged, and no
         * recovered fragment can be trusted. */
        data_only(frame, len, count, m, r);
        return 0;
    }
    for (int i = 0; i < m; i++) {
        const uint8_t *c = r->out + (size_t)i * f;
        if (r->known[i] && get16(c) <= f - TRANSPORT_FEC_LEN)
            take(r, (size_t)i, c + TRANSPORT_FEC_LEN, get16(c));
    }
    return 0;
}
