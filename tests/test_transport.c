/* The transport layer between codec and channel (transport/layer.c): its
 * settings and their errors; what goes on air (repetition, the TS004
 * framing, the retry flags); the receiver against transport_fec_decode run
 * directly on fragments framed here, apart from the library; damaged
 * frames; every channel model with per-packet retry flags; the codecs'
 * priorities; and whole runs (sim_run): a lossless channel gives the same
 * quality with and without protection, repetition matches LimitNet's own
 * first_copies, FEC through codec, transport and a lossy channel hands the
 * codec exactly what the parity determines and the same picture as if the
 * recovered packets had arrived, and bad settings are errors naming their
 * JSON path. */
#include "testutil.h"

#include <math.h>

#include "channels/chan.h"
#include "codec/codec.h"
#include "data/data.h"
#include "sim/sim.h"
#include "transport/transport.h"
#include "util/util.h"

#include "chanutil.h"

#define LN_WEIGHTS SOURCE_DIR "/models/limitnet-fmnist.safetensors"
#define CLASSIFIER SOURCE_DIR "/models/fmnist-classifier.safetensors"

static util_err err;

/* ---- helpers ---------------------------------------------------------------- */

static size_t rd16(const uint8_t *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8;
}

/* n random packets of 1..maxlen bytes (bytes in buf, n * maxlen). */
static void random_packets(util_rng *rng, size_t n, size_t maxlen,
                           transport_packet *pkt, uint8_t *buf)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + i * maxlen;
        pkt[i].len = 1 + (size_t)util_rng_below(rng, maxlen);
        for (size_t k = 0; k < pkt[i].len; k++)
            p[k] = (uint8_t)util_rng_next(rng);
        pkt[i].data = p;
        pkt[i].priority = (int)util_rng_below(rng, TRANSPORT_PRIORITY_MAX + 1);
    }
}

/* The coded block as layer.c's comment describes it, framed here: each
 * packet's length (2 bytes little-endian), its bytes, zeros to F; then the
 * redundancy fragments. Returns F; *block holds n_frag * F bytes (free). */
static size_t ref_block(const transport_packet *pkt, int m, int nfrag,
                        uint8_t **block)
{
    size_t f = 0;
    for (int i = 0; i < m; i++)
        f = pkt[i].len > f ? pkt[i].len : f;
    f += 2;
    uint8_t *b = calloc((size_t)nfrag, f);
    assert_non_null(b);
    for (int i = 0; i < m; i++) {
        b[(size_t)i * f] = (uint8_t)(pkt[i].len & 0xFF);
        b[(size_t)i * f + 1] = (uint8_t)(pkt[i].len >> 8);
        memcpy(b + (size_t)i * f + 2, pkt[i].data, pkt[i].len);
    }
    assert_int_equal(transport_fec_encode(b, m, f, nfrag, b + (size_t)m * f, &err), 0);
    *block = b;
    return f;
}

static transport_cfg cfg_of(int first, int copies, double overhead, int arq, int minp)
{
    return (transport_cfg){first, copies, overhead, arq, minp};
}

/* ---- settings ----------------------------------------------------------------- */

static int parse_kv(const char *const *kv, transport_cfg *cfg)
{
    util_params p;
    util_params_init(&p);
    for (; *kv; kv += 2) {
        char *end;
        double v = strtod(kv[1], &end);
        if (*end == 0)
            assert_int_equal(util_params_set_num(&p, kv[0], v, &err), 0);
        else
            assert_int_equal(util_params_set_str(&p, kv[0], kv[1], &err), 0);
    }
    return transport_cfg_parse(&p, cfg, &err);
}

static void test_settings(void **state)
{
    (void)state;
    transport_cfg c;
    char label[64];
    const char *none[] = {NULL};
    assert_int_equal(parse_kv(none, &c), 0);
    assert_false(transport_cfg_active(&c));
    transport_cfg_label(&c, label, sizeof label);
    assert_string_equal(label, "");
    assert_int_equal(transport_cfg_header(&c), 0);

    const char *all[] = {"repeat.first", "2", "repeat.copies", "3", "fec.overhead", "0.5",
                         "arq.min_priority", "14", NULL};
    assert_int_equal(parse_kv(all, &c), 0);
    assert_true(transport_cfg_active(&c));
    assert_int_equal(c.repeat_first, 2);
    assert_int_equal(c.repeat_copies, 3);
    assert_true(c.fec_overhead == 0.5);
    assert_int_equal(c.arq, 1);
    assert_int_equal(c.min_priority, 14);
    transport_cfg_label(&c, label, sizeof label);
    assert_string_equal(label, "-rep-2x3-fec-0.5-arq-p14");
    assert_int_equal(transport_cfg_header(&c), 6);

    /* every bad parameter names its key */
    static const struct {
        const char *kv[5];
        const char *msg;
    } bad[] = {
        {{"fec.overhead", "0", NULL}, "fec.overhead: expected"},
        {{"fec.overhead", "4.5", NULL}, "fec.overhead"},
        {{"fec.overhead", "lots", NULL}, "fec.overhead"},
        {{"repeat.first", "1", NULL}, "repeat.copies: missing"},
        {{"repeat.copies", "2", NULL}, "repeat.first: missing"},
        {{"repeat.first", "1", "repeat.copies", "1", NULL}, "repeat.copies"},
        {{"repeat.first", "0", "repeat.copies", "2", NULL}, "repeat.first"},
        {{"repeat.first", "1", "repeat.copies", "9", NULL}, "repeat.copies"},
        {{"arq.min_priority", "16", NULL}, "arq.min_priority"},
        {{"arq.min_priority", "-1", NULL}, "arq.min_priority"},
        {{"fec.ratio", "0.5", NULL}, "fec.ratio: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        if (parse_kv(bad[i].kv, &c) != -1 || strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
            fail_msg("case %zu: \"%s\", want \"%s...\"", i, err.msg, bad[i].msg);
    }
}

/* ---- sending ------------------------------------------------------------------ */

static void test_send_plain_and_repeat(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 1);
    transport_packet pkt[6];
    uint8_t buf[6 * 40];
    random_packets(&rng, 6, 40, pkt, buf);
    transport_tx tx;
    transport_tx_init(&tx);

    transport_cfg none = {0};
    assert_int_equal(transport_send(&none, pkt, 6, &tx, &err), 0);
    assert_int_equal(tx.n, 6);
    assert_null(tx.retry);
    for (size_t j = 0; j < 6; j++) {
        assert_ptr_equal(tx.data[j], pkt[j].data);
        assert_int_equal(tx.len[j], pkt[j].len);
        assert_int_equal(tx.air[j].source, (int)j);
    }

    transport_cfg rep = cfg_of(2, 3, 0, 0, 0);
    assert_int_equal(transport_send(&rep, pkt, 6, &tx, &err), 0);
    static const int src[] = {0, 0, 0, 1, 1, 1, 2, 3, 4, 5};
    assert_int_equal(tx.n, 10);
    for (size_t j = 0; j < 10; j++) {
        assert_int_equal(tx.air[j].source, src[j]);
        assert_int_equal(tx.len[j], pkt[src[j]].len);
        assert_int_equal(tx.air[j].priority, pkt[src[j]].priority);
    }
    /* more to repeat than there are packets: all of them */
    transport_cfg many = cfg_of(100, 2, 0, 0, 0);
    assert_int_equal(transport_send(&many, pkt, 6, &tx, &err), 0);
    assert_int_equal(tx.n, 12);
    transport_tx_free(&tx);
}

/* The TS004 framing, byte for byte, and N = M + ceil(M * overhead). */
static void test_send_fec_layout(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 2);
    transport_packet pkt[20];
    uint8_t buf[20 * 45];
    transport_tx tx;
    transport_tx_init(&tx);
    static const double ovs[] = {0.05, 0.2, 0.5, 1, 4};
    for (size_t t = 0; t < 5; t++) {
        int m = 1 + (int)util_rng_below(&rng, 20);
        random_packets(&rng, (size_t)m, 45, pkt, buf);
        transport_cfg c = cfg_of(0, 0, ovs[t], 0, 0);
        assert_int_equal(transport_send(&c, pkt, (size_t)m, &tx, &err), 0);
        int want_r = (int)ceil(m * ovs[t] - 1e-9);
        want_r = want_r < 1 ? 1 : want_r;
        assert_int_equal(tx.m, m);
        assert_int_equal(tx.nfrag, m + want_r);
        assert_int_equal(tx.n, (size_t)(m + want_r));
        uint8_t *block;
        size_t f = ref_block(pkt, m, tx.nfrag, &block);
        assert_int_equal(tx.frag, f);
        for (int j = 0; j < tx.nfrag; j++) {
            const uint8_t *p = tx.data[j];
            assert_int_equal(rd16(p) & 0x3FFF, (size_t)j + 1);
            assert_int_equal(rd16(p) >> 14, 0);
            assert_int_equal(rd16(p + 2), (size_t)m);
            assert_int_equal(tx.air[j].index, j + 1);
            if (j < m) {
                assert_int_equal(tx.len[j], 4 + pkt[j].len);
                assert_memory_equal(p + 4, pkt[j].data, pkt[j].len);
                assert_int_equal(tx.air[j].priority, pkt[j].priority);
            } else {
                assert_int_equal(tx.len[j], 4 + f);
                assert_memory_equal(p + 4, block + (size_t)j * f, f);
                assert_int_equal(tx.air[j].source, -1);
                assert_int_equal(tx.air[j].priority, 0);
            }
        }
        free(block);
    }
    /* a block too large for the library's limits */
    transport_packet one = {buf, TRANSPORT_FEC_F_MAX - 1, 0};
    transport_cfg c = cfg_of(0, 0, 0.5, 0, 0);
    assert_int_equal(transport_send(&c, &one, 1, &tx, &err), -1);
    assert_non_null(strstr(err.msg, "fec:"));
    transport_packet *lots = calloc(TRANSPORT_FEC_M_MAX + 1, sizeof *lots);
    assert_non_null(lots);
    for (int i = 0; i <= TRANSPORT_FEC_M_MAX; i++)
        lots[i] = (transport_packet){buf, 1, 0};
    assert_int_equal(transport_send(&c, lots, TRANSPORT_FEC_M_MAX + 1, &tx, &err), -1);
    assert_int_equal(transport_send(&c, lots, TRANSPORT_FEC_M_MAX, &tx, &err), 0);
    free(lots);
    transport_tx_free(&tx);
}

static void test_retry_flags(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 3);
    transport_packet pkt[12];
    uint8_t buf[12 * 30];
    random_packets(&rng, 12, 30, pkt, buf);
    transport_tx tx;
    transport_tx_init(&tx);
    for (int p = 0; p <= TRANSPORT_PRIORITY_MAX; p += 5) {
        transport_cfg c = cfg_of(3, 2, p % 2 ? 0.5 : 0, 1, p);
        assert_int_equal(transport_send(&c, pkt, 12, &tx, &err), 0);
        assert_non_null(tx.retry);
        for (size_t j = 0; j < tx.n; j++) {
            int prio = tx.air[j].source < 0 ? 0 : pkt[tx.air[j].source].priority;
            assert_int_equal(tx.air[j].priority, prio);
            assert_int_equal(tx.retry[j], prio >= p);
        }
    }
    transport_tx_free(&tx);
}

/* ---- receiving ------------------------------------------------------------------ */

static void test_receive_repeat(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 4);
    transport_packet pkt[5];
    uint8_t buf[5 * 30], arrived[16];
    random_packets(&rng, 5, 30, pkt, buf);
    transport_tx tx;
    transport_rx rx;
    transport_tx_init(&tx);
    transport_rx_init(&rx);
    transport_cfg c = cfg_of(2, 3, 0, 0, 0);
    assert_int_equal(transport_send(&c, pkt, 5, &tx, &err), 0);
    assert_int_equal(tx.n, 9);
    for (unsigned mask = 0; mask < 512; mask++) {
        for (size_t j = 0; j < 9; j++)
            arrived[j] = (uint8_t)(mask >> j & 1);
        assert_int_equal(transport_receive(&tx, arrived, &rx, &err), 0);
        assert_int_equal(rx.n, 5);
        for (size_t i = 0; i < 5; i++) {
            int any = 0;
            for (size_t j = 0; j < 9; j++)
                any |= arrived[j] && tx.air[j].source == (int)i;
            assert_int_equal(rx.got[i], any);
            if (any) {
                assert_int_equal(rx.len[i], pkt[i].len);
                assert_memory_equal(rx.data[i], pkt[i].data, pkt[i].len);
            }
        }
    }
    transport_tx_free(&tx);
    transport_rx_free(&rx);
}

/* What transport_fec_decode, run here on fragments framed here, says the
 * received ones determine: known[0..m). */
static void direct_decode(const transport_tx *tx, const transport_packet *pkt,
                          const uint8_t *arrived, uint8_t *known, uint8_t **out,
                          transport_fec_result *res)
{
    int m = tx->m;
    uint8_t *block;
    size_t f = ref_block(pkt, m, tx->nfrag, &block);
    transport_fec_frag *fr = malloc(tx->n * sizeof *fr);
    uint8_t *seen = calloc((size_t)tx->nfrag + 1, 1);
    *out = malloc((size_t)m * f);
    assert_true(fr && seen && *out);
    int k = 0;
    for (size_t j = 0; j < tx->n; j++) {
        int idx = tx->air[j].index;
        if (arrived[j] && !seen[idx]) {
            seen[idx] = 1;
            fr[k++] = (transport_fec_frag){idx, block + (size_t)(idx - 1) * f};
        }
    }
    assert_int_equal(transport_fec_decode(m, tx->nfrag, f, fr, k, *out, known, res, &err), 0);
    free(fr);
    free(seen);
    free(block);
}

static void test_receive_fec_exact(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 5);
    transport_packet pkt[40];
    uint8_t buf[40 * 50], known[40], *arrived = malloc(400);
    transport_tx tx;
    transport_rx rx;
    transport_tx_init(&tx);
    transport_rx_init(&rx);
    static const double ovs[] = {0.1, 0.25, 0.5, 1, 2};
    int solved = 0, partial = 0;
    for (int t = 0; t < 400; t++) {
        size_t m = 1 + (size_t)util_rng_below(&rng, 40);
        random_packets(&rng, m, 50, pkt, buf);
        int rep = util_rng_below(&rng, 3) == 0;
        transport_cfg c = cfg_of(rep ? 2 : 0, rep ? 2 : 0, ovs[t % 5], 0, 0);
        assert_int_equal(transport_send(&c, pkt, m, &tx, &err), 0);
        double p = 0.3 + 0.6 * util_rng_uniform(&rng);
        for (size_t j = 0; j < tx.n; j++)
            arrived[j] = util_rng_uniform(&rng) < p;
        assert_int_equal(transport_receive(&tx, arrived, &rx, &err), 0);
        uint8_t *out;
        transport_fec_result res;
        direct_decode(&tx, pkt, arrived, known, &out, &res);
        int all = 1;
        for (size_t i = 0; i < m; i++) {
            if (rx.got[i] != known[i])
                fail_msg("trial %d: packet %zu: got %d, the parity says %d", t, i,
                         rx.got[i], known[i]);
            all &= known[i];
            if (!known[i])
                continue;
            assert_int_equal(rx.len[i], pkt[i].len);
            assert_memory_equal(rx.data[i], pkt[i].data, pkt[i].len);
        }
        solved += res.solved > 0;
        partial += res.solved > 0 && !all;
        free(out);
    }
    /* the trials did exercise recovery, complete and partial */
    assert_true(solved > 50);
    assert_true(partial > 5);
    free(arrived);
    transport_tx_free(&tx);
    transport_rx_free(&rx);
}

/* Frames that do not parse are dropped; contradicting redundancy leaves
 * the data fragments received as such; garbage never fails. */
static void test_unframe_damage(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 6);
    transport_packet pkt[8];
    uint8_t buf[8 * 30];
    random_packets(&rng, 8, 30, pkt, buf);
    transport_tx tx;
    transport_rx rx;
    transport_tx_init(&tx);
    transport_rx_init(&rx);
    transport_cfg c = cfg_of(0, 0, 1, 0, 0);
    assert_int_equal(transport_send(&c, pkt, 8, &tx, &err), 0);
    assert_int_equal(tx.n, 16);
    /* data fragment 1 lost; all redundancy present: recovered */
    uint8_t *copy[16];
    size_t len[16];
    for (size_t j = 0; j < 16; j++) {
        copy[j] = malloc(tx.len[j]);
        memcpy(copy[j], tx.data[j], tx.len[j]);
        len[j] = tx.len[j];
    }
    const uint8_t *const *fr = (const uint8_t *const *)copy;
    assert_int_equal(transport_fec_unframe(fr + 1, len + 1, 15, 8, &rx, &err), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(rx.got[i], 1);
    assert_memory_equal(rx.data[0], pkt[0].data, pkt[0].len);
    /* another M, another session, index 0, a short frame, a repeat: dropped */
    copy[9][2] ^= 1;
    copy[10][1] |= 0x40;
    copy[11][0] = 0;
    copy[11][1] = 0;
    len[12] = 3;
    const uint8_t *dup[17];
    size_t dlen[17];
    for (size_t j = 0; j < 16; j++) {
        dup[j] = copy[j];
        dlen[j] = len[j];
    }
    dup[16] = copy[8];
    dlen[16] = len[8];
    assert_int_equal(transport_fec_unframe(dup + 1, dlen + 1, 16, 8, &rx, &err), 0);
    assert_true(rx.fec.received == 7);
    assert_true(rx.fec.rank <= 7 + 4);
    /* a corrupted redundancy fragment that the others imply: contradiction,
     * so only the data received as such */
    for (size_t j = 0; j < 16; j++) {
        memcpy(copy[j], tx.data[j], tx.len[j]);
        len[j] = tx.len[j];
    }
    copy[15][len[15] - 1] ^= 0x5A;
    assert_int_equal(transport_fec_unframe(fr, len, 16, 8, &rx, &err), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(rx.got[i], 1);
        assert_memory_equal(rx.data[i], pkt[i].data, pkt[i].len);
    }
    assert_int_equal(transport_fec_unframe(fr + 1, len + 1, 15, 8, &rx, &err), 0);
    assert_int_equal(rx.got[0], 0);
    /* garbage frames */
    uint8_t junk[64][40];
    const uint8_t *jp[64];
    size_t jl[64];
    for (int t = 0; t < 2000; t++) {
        size_t n = util_rng_below(&rng, 64), ncodec = util_rng_below(&rng, 12);
        for (size_t j = 0; j < n; j++) {
            jl[j] = util_rng_below(&rng, 41);
            for (size_t k = 0; k < jl[j]; k++)
                junk[j][k] = (uint8_t)util_rng_next(&rng);
            if (jl[j] >= 4 && util_rng_below(&rng, 2)) {
                junk[j][0] = (uint8_t)util_rng_below(&rng, 20);
                junk[j][1] = 0;
                junk[j][2] = (uint8_t)ncodec;
                junk[j][3] = 0;
            }
            jp[j] = junk[j];
        }
        assert_int_equal(transport_fec_unframe(jp, jl, n, ncodec, &rx, &err), 0);
        for (size_t i = 0; i < ncodec; i++)
            if (rx.got[i])
                assert_true(rx.len[i] <= 40);
    }
    for (size_t j = 0; j < 16; j++)
        free(copy[j]);
    transport_tx_free(&tx);
    transport_rx_free(&rx);
}

/* ---- channels ------------------------------------------------------------------- */

typedef struct chan_case {
    const char *model;
    const char *kv[12];   /* key, value pairs; values that parse as numbers are numbers */
    int arq;
} chan_case;

static const chan_case chan_cases[] = {
    {"link", {"retries", "3", "loss.model", "independent", "loss.p", "0.5", NULL}, 1},
    {"link", {"loss.model", "independent", "loss.p", "0.5", NULL}, 0},
    {"lora", {"confirmed", "true", "retries", "3", "loss.model", "independent",
              "loss.p", "0.5", NULL}, 1},
    {"lora", {"confirmed", "true", "loss.model", "independent", "loss.p", "0.5", NULL}, 0},
    {"lora", {"loss.model", "independent", "loss.p", "0.5", NULL}, 0},
    {"ieee802154", {"distance", "110", NULL}, 1},
    {"ieee802154", {"distance", "110", "retries", "0", NULL}, 0},
    {"ieee802154", {"distance", "110", "ack", "false", NULL}, 0},
    {"sigfox", {"loss.model", "independent", "loss.p", "0.5", NULL}, 0},
    {"nbiot", {"loss.model", "independent", "loss.p", "0.5", NULL}, 0},
    {"trace", {"kind", "loratap", "file", SOURCE_DIR "/scenarios/traces/loratap.pcap", NULL}, 0},
#ifdef LIMITNET_NS3
    {"ns3_lrwpan", {"distance", "110", NULL}, 1},
    {"ns3_lrwpan", {"distance", "110", "retries", "0", NULL}, 0},
    {"ns3_p2p", {"loss", "0.5", NULL}, 0},
#endif
};

static chan *make_chan(const chan_case *cc)
{
    util_params p;
    util_params_init(&p);
    for (const char *const *kv = cc->kv; *kv; kv += 2) {
        char *end;
        double v = strtod(kv[1], &end);
        if (!strcmp(kv[1], "true") || !strcmp(kv[1], "false"))
            tu_setb(&p, kv[0], kv[1][0] == 't');
        else if (*end == 0)
            tu_setn(&p, kv[0], v);
        else
            tu_sets(&p, kv[0], kv[1]);
    }
    chan *c;
    if (chan_create(cc->model, &p, &c, &err))
        fail_msg("%s: %s", cc->model, err.msg);
    return c;
}

#define NPK 40

static void send_with(const chan *c, const uint8_t *retry, chan_arrival *out,
                      chan_stats *st)
{
    size_t len[NPK], pl = chan_payload(c) < 20 ? chan_payload(c) : 20;
    for (size_t i = 0; i < NPK; i++)
        len[i] = pl;
    util_rng rng;
    util_rng_seed(&rng, 99);
    if (chan_transmit(c, len, retry, NPK, &rng, out, st, &err))
        fail_msg("chan_transmit: %s", err.msg);
}

static int same_arrivals(const chan_arrival *a, const chan_arrival *b,
                         const chan_stats *sa, const chan_stats *sb)
{
    for (size_t i = 0; i < NPK; i++)
        if (a[i].arrived != b[i].arrived || a[i].attempts != b[i].attempts ||
            a[i].t_start != b[i].t_start || a[i].t_arrive != b[i].t_arrive)
            return 0;
    return sa->airtime == sb->airtime && sa->t_end == sb->t_end &&
           sa->bytes_on_air == sb->bytes_on_air && sa->attempts == sb->attempts &&
           sa->lost == sb->lost;
}

/* Per-packet retry flags through every model: honoured where there is ARQ
 * (an unflagged packet is sent once, flagged ones are retried), ignored
 * where there is none; all ones is NULL. */
static void test_channels_retry(void **state)
{
    (void)state;
    uint8_t ones[NPK], mixed[NPK];
    for (size_t i = 0; i < NPK; i++) {
        ones[i] = 1;
        mixed[i] = i % 3 == 0;
    }
    for (size_t k = 0; k < sizeof chan_cases / sizeof chan_cases[0]; k++) {
        const chan_case *cc = &chan_cases[k];
        chan *c = make_chan(cc);
        chan_arrival a[NPK], b[NPK], m[NPK];
        chan_stats sa, sb, sm;
        send_with(c, NULL, a, &sa);
        send_with(c, ones, b, &sb);
        send_with(c, mixed, m, &sm);
        if (chan_has_arq(c) != cc->arq)
            fail_msg("%s (case %zu): chan_has_arq %d", chan_label(c), k, chan_has_arq(c));
        if (!same_arrivals(a, b, &sa, &sb))
            fail_msg("%s: all ones differs from NULL", chan_label(c));
        if (!cc->arq && !same_arrivals(a, m, &sa, &sm))
            fail_msg("%s: no ARQ, but the flags changed the arrivals", chan_label(c));
        if (cc->arq) {
            int retried = 0, before = 0;
            size_t attempts = 0;
            for (size_t i = 0; i < NPK; i++) {
                if (!mixed[i] && m[i].attempts != 1)
                    fail_msg("%s: unflagged packet %zu made %d attempts", chan_label(c), i,
                             m[i].attempts);
                retried |= mixed[i] && m[i].attempts > 1;
                before |= !mixed[i] && a[i].attempts > 1;
                attempts += (size_t)m[i].attempts;
            }
            assert_true(retried && before);
            assert_int_equal(sm.attempts, attempts);
            assert_true(sm.t_end < sa.t_end);
        }
        chan_destroy(c);
    }
}

/* ---- codecs' priorities ----------------------------------------------------------- */

static codec *make_codec(const char *name, const char *const *kv)
{
    util_params p;
    util_params_init(&p);
    for (; *kv; kv += 2) {
        char *end;
        double v = strtod(kv[1], &end);
        if (*end == 0)
            assert_int_equal(util_params_set_num(&p, kv[0], v, &err), 0);
        else
            assert_int_equal(util_params_set_str(&p, kv[0], kv[1], &err), 0);
    }
    codec *c;
    if (codec_create(name, &p, &c, &err))
        fail_msg("%s: %s", name, err.msg);
    return c;
}

/* How many packets lead with the top priority; fails unless the rest step
 * down one level a packet to 0 (codec_stream_rank). */
static size_t essential_of(const codec_stream *s)
{
    size_t e = 0;
    while (e < s->n && s->pkt[e].priority == CODEC_PRIORITY_MAX)
        e++;
    assert_true(e >= 1);
    for (size_t i = e; i < s->n; i++) {
        int want = (int)(i - e + 1) >= CODEC_PRIORITY_MAX ? 0
                                                          : CODEC_PRIORITY_MAX - (int)(i - e + 1);
        assert_int_equal(s->pkt[i].priority, want);
    }
    return e;
}

static void test_codec_priorities(void **state)
{
    (void)state;
    data_set *ds;
    if (data_open("fashion-mnist", "test", NULL, 0, 1, &ds, &err))
        fail_msg("%s", err.msg);
    util_image img;
    data_get(ds, 0, &img, NULL);
    static const struct {
        const char *name;
        const char *kv[7];
        size_t lo, hi;  /* essential packets at 51 bytes */
    } cases[] = {
        {"limitnet", {"weights", LN_WEIGHTS, NULL}, 1, 1},
        {"limitnet", {"weights", LN_WEIGHTS, "first_copies", "2", NULL}, 2, 2},
        {"limitnet-nosal", {"weights", LN_WEIGHTS, NULL}, 1, 1},
        {"jpeg", {"mode", "baseline", "quality", "10", NULL}, 3, 5},
        {"jpeg", {"mode", "abbreviated", "quality", "10", NULL}, 1, 1},
        {"j2k", {"layers", "3", "bytes", "153", "header", "none", NULL}, 1, 1},
        {"j2k", {"layers", "3", "bytes", "153", NULL}, 2, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        codec *c = make_codec(cases[k].name, cases[k].kv);
        codec_stream s;
        codec_stream_init(&s);
        assert_int_equal(codec_encode(c, &img, 51, &s, &err), 0);
        size_t e = essential_of(&s);
        if (e < cases[k].lo || e > cases[k].hi)
            fail_msg("%s: %zu essential packets of %zu", codec_label(c), e, s.n);
        codec_stream_free(&s);
        codec_destroy(c);
    }
    /* progressive: its headers (only the first scan's tables) and the DC
     * scan: about three packets of a 28x28 item at q10 */
    const char *prog[] = {"mode", "progressive", "quality", "10", NULL};
    const char *webp[] = {"quality", "10", NULL};
    codec *c = make_codec("jpeg", prog);
    codec_stream s;
    codec_stream_init(&s);
    assert_int_equal(codec_encode(c, &img, 51, &s, &err), 0);
    size_t e = essential_of(&s);
    assert_true(e >= 2 && e <= 5 && e < s.n);
    codec_destroy(c);
    c = make_codec("webp", webp);
    assert_int_equal(codec_encode(c, &img, 51, &s, &err), 0);
    assert_int_equal(essential_of(&s), s.n);
    codec_destroy(c);
    codec_stream_free(&s);
    data_free(ds);
}

/* ---- whole runs ----------------------------------------------------------------- */

/* Loads the scenario json (printf format taking the output directory) and
 * runs it; returns 0 with *res filled, or -1 with the message in err. */
static int run_json(const char *json, const char *dir, sim_result *res)
{
    char file[128], out[128], text[8192];
    snprintf(file, sizeof file, "%s/s.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(text, sizeof text, json, out);
    tu_write_file(file, text, strlen(text));
    sim_scenario *sc;
    if (sim_scenario_load(file, &sc, &err))
        return -1;
    sim_options opt = {.threads = 2};
    int rc = sim_run(sc, &opt, res, &err);
    sim_scenario_free(sc);
    return rc;
}

static const sim_cell *cell_named(const sim_result *res, const char *label)
{
    for (size_t i = 0; i < res->ncells; i++)
        if (!strcmp(res->cells[i].codec, label))
            return &res->cells[i];
    fail_msg("no cell %s", label);
    return NULL;
}

#define CODECS_FOR(T) \
    "{\"name\": \"jpeg\", \"mode\": [\"baseline\", \"progressive\", \"abbreviated\"], " \
    "\"quality\": 20" T "}, " \
    "{\"name\": \"j2k\", \"layers\": 3, \"bytes\": 153, \"header\": \"none\"" T "}, " \
    "{\"name\": \"webp\", \"quality\": 10" T "}, " \
    "{\"name\": \"limitnet\", \"weights\": \"" LN_WEIGHTS "\", \"keep\": 0.5" T "}"
#define PROTECT ", \"transport\": {\"repeat\": {\"first\": [1, 3], \"copies\": 2}, " \
    "\"fec\": {\"overhead\": [0.3, 1]}, \"arq\": {\"min_priority\": 14}}"
#define PLAIN_LABELS "jpeg-baseline-q20", "jpeg-progressive-q20", "jpeg-abbreviated-q20", \
    "j2k-layer-b153-l3-nohdr", "webp-q10", "limitnet-k0.5"

/* Without loss and with time enough, protection costs bytes on air and
 * changes no reconstruction. */
static void test_lossless_same(void **state)
{
    (void)state;
    static const char *json =
        "{\"seed\": 2, \"dataset\": {\"name\": \"fashion-mnist\", \"count\": 12},"
        " \"codecs\": [" CODECS_FOR("") ", " CODECS_FOR(PROTECT) "],"
        " \"channel\": {\"model\": \"link\", \"retries\": 2, \"duty_cycle\": 0.1},"
        " \"deadlines\": [1000], \"task\": {\"classifier\": \"" CLASSIFIER "\"},"
        " \"output\": \"%s\"}";
    static const char *plain[] = {PLAIN_LABELS};
    static const char *suffix[] = {"-rep-1x2-fec-0.3-arq-p14", "-rep-1x2-fec-1-arq-p14",
                                   "-rep-3x2-fec-0.3-arq-p14", "-rep-3x2-fec-1-arq-p14"};
    char dir[64];
    tu_tempdir(dir);
    sim_result res;
    if (run_json(json, dir, &res))
        fail_msg("%s", err.msg);
    assert_int_equal(res.ncells, 6 * 5);
    for (size_t k = 0; k < 6; k++) {
        const sim_row *a = &cell_named(&res, plain[k])->rows[0];
        assert_true(a->complete == 1);
        for (size_t t = 0; t < 4; t++) {
            char label[128];
            snprintf(label, sizeof label, "%s%s", plain[k], suffix[t]);
            const sim_row *b = &cell_named(&res, label)->rows[0];
            if (a->psnr != b->psnr || a->ssim != b->ssim || a->accuracy != b->accuracy ||
                b->complete != 1)
                fail_msg("%s: psnr %g ssim %g top-1 %g, unprotected %g %g %g", label,
                         b->psnr, b->ssim, b->accuracy, a->psnr, a->ssim, a->accuracy);
            /* the overhead: more packets and bytes on air, each received */
            assert_true(b->sent_packets > a->sent_packets);
            assert_true(b->received_bytes > a->received_bytes);
            assert_true(b->received_bytes == b->sent_bytes);
            assert_true(b->lost_packets == 0);
        }
    }
    sim_result_free(&res);
    tu_rmtree(dir);
}

/* ARQ's retransmissions count in the sent columns (every attempt on air),
 * not in lost_packets (packets that never arrived), and a deadline before
 * a packet's retries counts only what was made by then. */
static void test_arq_attempts_counted(void **state)
{
    (void)state;
    static const char *json =
        "{\"seed\": 3, \"dataset\": {\"name\": \"fashion-mnist\", \"count\": 20},"
        " \"codecs\": [{\"name\": \"jpeg\", \"mode\": \"abbreviated\", \"quality\": 20}],"
        " \"channel\": {\"model\": \"link\", \"retries\": [0, 3], \"duty_cycle\": 0.1,"
        " \"loss\": {\"model\": \"independent\", \"p\": 0.4}},"
        " \"deadlines\": [0.2, 10000], \"output\": \"%s\"}";
    char dir[64];
    tu_tempdir(dir);
    sim_result res;
    if (run_json(json, dir, &res))
        fail_msg("%s", err.msg);
    assert_int_equal(res.ncells, 2);
    const sim_row *none = &res.cells[0].rows[1], *arq = &res.cells[1].rows[1];
    /* without ARQ: each packet once */
    assert_true(none->sent_bytes == none->encoded_bytes);
    assert_true(none->sent_packets == none->received_packets + none->lost_packets);
    /* with it: more on air than the stream, and the retries are not losses */
    assert_true(arq->sent_bytes > arq->encoded_bytes);
    assert_true(arq->sent_packets > arq->received_packets + arq->lost_packets);
    assert_true(arq->lost_packets < none->lost_packets);
    /* 0.2 s: the first packet's first attempt and what came of it */
    const sim_row *early = &res.cells[1].rows[0];
    assert_true(early->sent_packets >= 1 && early->sent_packets < arq->sent_packets);
    sim_result_free(&res);
    tu_rmtree(dir);
}

/* The layer's repetition of the first packet is LimitNet's own
 * first_copies: every figure on air and every reconstruction, over loss. */
static void test_repeat_is_first_copies(void **state)
{
    (void)state;
    static const char *json =
        "{\"seed\": 5, \"dataset\": {\"name\": \"fashion-mnist\", \"count\": 60},"
        " \"codecs\": [{\"name\": \"limitnet\", \"weights\": \"" LN_WEIGHTS "\","
        " \"first_copies\": 2},"
        " {\"name\": \"limitnet\", \"weights\": \"" LN_WEIGHTS "\","
        " \"transport\": {\"repeat\": {\"first\": 1, \"copies\": 2}}}],"
        " \"channel\": {\"model\": \"link\", \"duty_cycle\": 0.01,"
        " \"loss\": {\"model\": \"independent\", \"p\": 0.3}},"
        " \"deadlines\": [1, 10, 30, 120], \"budgets\": [60, 150],"
        " \"task\": {\"classifier\": \"" CLASSIFIER "\"}, \"output\": \"%s\"}";
    char dir[64];
    tu_tempdir(dir);
    sim_result res;
    if (run_json(json, dir, &res))
        fail_msg("%s", err.msg);
    const sim_cell *a = cell_named(&res, "limitnet-twice-k1");
    const sim_cell *b = cell_named(&res, "limitnet-k1-rep-1x2");
    for (size_t r = 0; r < a->nrows; r++) {
        const sim_row *x = &a->rows[r], *y = &b->rows[r];
        assert_true(x->sent_bytes == y->sent_bytes);
        assert_true(x->sent_packets == y->sent_packets);
        assert_true(x->received_bytes == y->received_bytes);
        assert_true(x->received_packets == y->received_packets);
        assert_true(x->lost_packets == y->lost_packets);
        assert_true(x->psnr == y->psnr);
        assert_true(x->accuracy == y->accuracy);
    }
    sim_result_free(&res);
    tu_rmtree(dir);
}

/* Codec, FEC and a lossy channel, as the runner chains them: the codec
 * gets exactly what the parity determines, and each packet the parity
 * recovered decodes as if it had arrived. */
static void test_fec_pipeline(void **state)
{
    (void)state;
    data_set *ds;
    if (data_open("fashion-mnist", "test", NULL, 0, 40, &ds, &err))
        fail_msg("%s", err.msg);
    const char *ln[] = {"weights", LN_WEIGHTS, NULL};
    const char *jp[] = {"mode", "baseline", "quality", "30", "restart", "1", NULL};
    codec *codecs[] = {make_codec("limitnet", ln), make_codec("jpeg", jp)};
    const chan_case lossy = {"link", {"loss.model", "independent", "loss.p", "0.3", NULL}, 0};
    chan *ch = make_chan(&lossy);
    transport_cfg cfg = cfg_of(0, 0, 0.5, 0, 0);
    size_t payload = chan_payload(ch) - transport_cfg_header(&cfg);
    transport_tx tx;
    transport_rx rx;
    transport_tx_init(&tx);
    transport_rx_init(&rx);
    util_image a, b;
    assert_int_equal(util_image_alloc(&a, 28, 28, 1, &err), 0);
    assert_int_equal(util_image_alloc(&b, 28, 28, 1, &err), 0);
    int recovered = 0;
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < 40; i++) {
            util_image img;
            data_get(ds, i, &img, NULL);
            codec_stream s;
            codec_stream_init(&s);
            assert_int_equal(codec_encode(codecs[k], &img, payload, &s, &err), 0);
            transport_packet pkt[64];
            assert_true(s.n <= 64);
            for (size_t j = 0; j < s.n; j++)
                pkt[j] = (transport_packet){s.pkt[j].data, s.pkt[j].len, s.pkt[j].priority};
            assert_int_equal(transport_send(&cfg, pkt, s.n, &tx, &err), 0);
            chan_arrival arr[128];
            uint8_t arrived[128], known[64];
            util_rng rng;
            util_rng_seed(&rng, 1000 + i);
            assert_int_equal(chan_transmit(ch, tx.len, tx.retry, tx.n, &rng, arr, NULL,
                                           &err), 0);
            for (size_t j = 0; j < tx.n; j++)
                arrived[j] = (uint8_t)arr[j].arrived;
            assert_int_equal(transport_receive(&tx, arrived, &rx, &err), 0);
            uint8_t *out;
            transport_fec_result res;
            direct_decode(&tx, pkt, arrived, known, &out, &res);
            assert_memory_equal(rx.got, known, s.n);
            /* the receiver's bytes against the sender's, same mask */
            codec_packet view[64];
            for (size_t j = 0; j < s.n; j++)
                view[j] = (codec_packet){rx.got[j] ? (uint8_t *)rx.data[j] : NULL,
                                         rx.got[j] ? rx.len[j] : s.pkt[j].len, 0};
            codec_stream vs = {view, s.n, s.n};
            assert_int_equal(codec_decode(codecs[k], &vs, rx.got, &a, &err), 0);
            assert_int_equal(codec_decode(codecs[k], &s, rx.got, &b, &err), 0);
            assert_memory_equal(a.px, b.px, util_image_size(&a));
            for (size_t j = 0; j < s.n; j++)
                recovered += rx.got[j] && !arrived[j];
            free(out);
            codec_stream_free(&s);
        }
    assert_true(recovered > 10);
    util_image_free(&a);
    util_image_free(&b);
    transport_tx_free(&tx);
    transport_rx_free(&rx);
    chan_destroy(ch);
    codec_destroy(codecs[0]);
    codec_destroy(codecs[1]);
    data_free(ds);
}

/* The same through sim_run: over loss, FEC hands the codec more than the
 * unprotected stream, and its traffic counts every fragment. */
static void test_fec_run(void **state)
{
    (void)state;
    static const char *json =
        "{\"seed\": 3, \"dataset\": {\"name\": \"fashion-mnist\", \"count\": 60},"
        " \"codecs\": [{\"name\": \"limitnet\", \"weights\": \"" LN_WEIGHTS "\"},"
        " {\"name\": \"limitnet\", \"weights\": \"" LN_WEIGHTS "\","
        " \"transport\": {\"fec\": {\"overhead\": 1}}}],"
        " \"channel\": {\"model\": \"link\", \"loss\": {\"model\": \"independent\", \"p\": 0.2}},"
        " \"deadlines\": [100], \"budgets\": [100],"
        " \"task\": {\"classifier\": \"" CLASSIFIER "\"}, \"output\": \"%s\"}";
    char dir[64];
    tu_tempdir(dir);
    sim_result res;
    if (run_json(json, dir, &res))
        fail_msg("%s", err.msg);
    const sim_row *a = &cell_named(&res, "limitnet-k1")->rows[0];
    const sim_row *b = &cell_named(&res, "limitnet-k1-fec-1")->rows[0];
    assert_true(b->complete > a->complete);
    assert_true(b->sent_packets > 1.9 * a->sent_packets);
    assert_true(b->lost_packets > a->lost_packets);
    /* a budget counts the bytes on air, headers and redundancy included */
    assert_true(cell_named(&res, "limitnet-k1-fec-1")->rows[1].received_bytes <= 100);
    sim_result_free(&res);
    tu_rmtree(dir);
}

/* ---- scenario errors --------------------------------------------------------------- */

#define S_HEAD "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 2}, \"codecs\": [" \
    "{\"name\": \"jpeg\"}, {\"name\": \"jpeg\", \"quality\": 20, "
#define S_TAIL "}], \"channel\": %s, \"deadlines\": [1], \"output\": \"/tmp/unused\"}"
#define ARQ_LINK "{\"model\": \"link\", \"retries\": 1}"

static void test_scenario_errors(void **state)
{
    (void)state;
    static const struct {
        const char *transport, *channel, *msg;
    } cases[] = {
        {"\"transport\": 5", ARQ_LINK, "codecs[1].transport: expected an object"},
        {"\"transport\": {}", ARQ_LINK, "codecs[1].transport: expected an object"},
        {"\"transport\": {\"fex\": {\"overhead\": 1}}", ARQ_LINK,
         "codecs[1].transport.fex: unknown key"},
        {"\"transport\": {\"fec\": 0.5}", ARQ_LINK, "codecs[1].transport.fec: expected"},
        {"\"transport\": {\"fec\": {}}", ARQ_LINK, "codecs[1].transport.fec: expected"},
        {"\"transport\": {\"fec\": {\"overhead\": 0}}", ARQ_LINK,
         "codecs[1].transport.fec.overhead"},
        {"\"transport\": {\"fec\": {\"overhead\": [0.5, 7]}}", ARQ_LINK,
         "codecs[1].transport.fec.overhead"},
        {"\"transport\": {\"fec\": {\"ratio\": 1}}", ARQ_LINK,
         "codecs[1].transport.fec.ratio: unknown key"},
        {"\"transport\": {\"repeat\": {\"first\": 1}}", ARQ_LINK,
         "codecs[1].transport.repeat.copies: missing"},
        {"\"transport\": {\"repeat\": {\"first\": 1, \"copies\": 1}}", ARQ_LINK,
         "codecs[1].transport.repeat.copies"},
        {"\"transport\": {\"arq\": {\"min_priority\": 16}}", ARQ_LINK,
         "codecs[1].transport.arq.min_priority"},
        {"\"transport\": {\"arq\": {\"min_priority\": 3}}", "{\"model\": \"link\"}",
         "codecs[1].transport.arq: channel (link-5470bps-p51) retries nothing"},
        {"\"transport\": {\"arq\": {\"min_priority\": 3}}",
         "[" ARQ_LINK ", {\"model\": \"lora\", \"confirmed\": true}]",
         "codecs[1].transport.arq: channel[1]"},
        {"\"transport\": {\"fec\": {\"overhead\": 1}}",
         "{\"model\": \"link\", \"payload\": 6}", "codecs[1].transport.fec: channel's 6-byte"},
    };
    char dir[64], file[128], json[2048], chan_json[256];
    tu_tempdir(dir);
    snprintf(file, sizeof file, "%s/bad.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(chan_json, sizeof chan_json, "%s", cases[i].channel);
        snprintf(json, sizeof json, S_HEAD "%s" S_TAIL, cases[i].transport, chan_json);
        tu_write_file(file, json, strlen(json));
        sim_scenario *sc = NULL;
        err.msg[0] = 0;
        int rc = sim_scenario_load(file, &sc, &err);
        sim_scenario_free(sc);
        if (rc != -1 || !strstr(err.msg, cases[i].msg) || !strstr(err.msg, file))
            fail_msg("case %zu: \"%s\", want \"%s\"", i, err.msg, cases[i].msg);
    }
    /* a good one: labels and fingerprints */
    snprintf(json, sizeof json, S_HEAD "\"transport\": {\"fec\": {\"overhead\": [0.5, 1]}}"
             "}, {\"name\": \"jpeg\", \"quality\": 20" S_TAIL, ARQ_LINK);
    tu_write_file(file, json, strlen(json));
    sim_scenario *sc;
    if (sim_scenario_load(file, &sc, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(sc->ncodecs, 4);
    assert_string_equal(sc->codecs[1].label, "jpeg-baseline-q20-fec-0.5");
    assert_string_equal(sc->codecs[2].label, "jpeg-baseline-q20-fec-1");
    assert_string_equal(sc->codecs[3].label, "jpeg-baseline-q20");
    assert_false(transport_cfg_active(&sc->codecs[3].transport));
    sim_plan_cell *pc;
    size_t n;
    assert_int_equal(sim_plan(sc, &pc, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_true(pc[1].fingerprint != pc[2].fingerprint);
    assert_true(pc[1].fingerprint != pc[3].fingerprint);
    free(pc);
    sim_scenario_free(sc);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_send_plain_and_repeat),
        cmocka_unit_test(test_send_fec_layout),
        cmocka_unit_test(test_retry_flags),
        cmocka_unit_test(test_receive_repeat),
        cmocka_unit_test(test_receive_fec_exact),
        cmocka_unit_test(test_unframe_damage),
        cmocka_unit_test(test_channels_retry),
        cmocka_unit_test(test_codec_priorities),
        cmocka_unit_test(test_lossless_same),
        cmocka_unit_test(test_arq_attempts_counted),
        cmocka_unit_test(test_repeat_is_first_copies),
        cmocka_unit_test(test_fec_pipeline),
        cmocka_unit_test(test_fec_run),
        cmocka_unit_test(test_scenario_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
