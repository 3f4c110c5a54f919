/* Trace replay: captures of each kind written from the link model at test
 * time and replayed (what the model decided is what replay reproduces),
 * LoRa time on air worked by hand, and truncated, garbage and unsupported
 * captures, each a clear error naming the file. */
#include "tests/testutil.h"
#include "tests/chanutil.h"

#include <math.h>

#include "channels/chan.h"
#include "channels/trace.h"
#include "channels/trace_impl.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/cap.pcap", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* The quickstart-like link with bursty loss; duty is the duty cycle. */
static chan *make_link(double duty)
{
    util_params p;
    util_params_init(&p);
    tu_setn(&p, "duty_cycle", duty);
    tu_sets(&p, "loss.model", "gilbert_elliott");
    tu_setn(&p, "loss.p_gb", 0.1);
    tu_setn(&p, "loss.p_bg", 0.3);
    tu_setn(&p, "loss.loss_bad", 0.8);
    tu_setn(&p, "loss.loss_good", 0.05);
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create("link", &p, &c, &err))
        fail_msg("link: %s", err.msg);
    return c;
}

static chan *make_trace(util_params *p)
{
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create("trace", p, &c, &err))
        fail_msg("trace: %s", err.msg);
    return c;
}

/* The replay keys for a capture written by chan_capture_write. */
static util_params replay_params(const char *path, const char *kind,
                                 double airtime)
{
    util_params p;
    util_params_init(&p);
    tu_sets(&p, "file", path);
    tu_sets(&p, "kind", kind);
    if (strcmp(kind, "generic") == 0) {
        tu_setn(&p, "seq_offset", 0);
        tu_setn(&p, "seq_bytes", 4);
        tu_setn(&p, "flag_offset", 4);
        tu_setn(&p, "header", 5);
        tu_setn(&p, "airtime", airtime);
    }
    return p;
}

/* Creation must fail with a message containing both parts. */
static void expect_error(util_params *p, const char *a, const char *b)
{
    chan *c = NULL;
    util_err err = {{0}};
    assert_int_equal(chan_create("trace", p, &c, &err), -1);
    assert_null(c);
    if (!strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fail_msg("expected an error with \"%s\" and \"%s\", got \"%s\"", a,
                 b ? b : "", err.msg);
}

static chan_arrival *transmit(const chan *c, size_t n, uint64_t seed)
{
    size_t *len = calloc(n, sizeof *len);
    chan_arrival *a = calloc(n, sizeof *a);
    assert_non_null(len);
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        len[i] = 10;
    util_rng rng;
    util_rng_seed(&rng, seed);
    util_err err = {{0}};
    assert_int_equal(chan_transmit(c, len, NULL, n, &rng, a, NULL, &err), 0);
    free(len);
    return a;
}

/* ---- LoRa pieces -------------------------------------------------------------- */

/* Semtech's formula, by hand (explicit header, CRC on, preamble 8):
 * Tsym = 2^SF / BW; preamble (8 + 4.25) Tsym; payload symbols
 * 8 + max(ceil((8 PL - 4 SF + 28 + 16) / (4 (SF - 2 DE))) (CR + 4), 0). */
static void test_lora_airtime(void **state)
{
    (void)state;
    /* SF7/125: Tsym 1.024 ms; 20 B: ceil(176/28) = 7 -> 8 + 35 = 43;
     * (12.25 + 43) * 1.024 = 56.576 ms. */
    assert_near(chan_trace_lora_airtime(7, 125e3, 1, 20, 8), 0.056576, 1e-12);
    /* SF9/125, 64 B: Tsym 4.096 ms; ceil(520/36) = 15 -> 8 + 75 = 83;
     * 95.25 * 4.096 = 390.144 ms. */
    assert_near(chan_trace_lora_airtime(9, 125e3, 1, 64, 8), 0.390144, 1e-12);
    /* SF12/125, 64 B, LDRO on (Tsym 32.768 ms): ceil(508/40) = 13 -> 73;
     * 85.25 * 32.768 = 2793.472 ms. */
    assert_near(chan_trace_lora_airtime(12, 125e3, 1, 64, 8), 2.793472, 1e-12);
    /* SF7/250, 4/8, 10 B: Tsym 0.512 ms; ceil(96/28) = 4 -> 8 + 32 = 40;
     * 52.25 * 0.512 = 26.752 ms. */
    assert_near(chan_trace_lora_airtime(7, 250e3, 4, 10, 8), 0.026752, 1e-12);
}

static void test_lorawan_header(void **state)
{
    (void)state;
    uint8_t up[13] = {0x40, 0xDA, 0x1B, 0x01, 0x26, 0, 0x34, 0x12, 1};
    uint32_t dev;
    uint16_t fcnt;
    assert_int_equal(chan_trace_lorawan_uplink(up, sizeof up, &dev, &fcnt), 1);
    assert_int_equal(dev, 0x26011BDA);
    assert_int_equal(fcnt, 0x1234);
    up[0] = 0x60;   /* unconfirmed downlink */
    assert_int_equal(chan_trace_lorawan_uplink(up, sizeof up, &dev, &fcnt), 0);
    up[0] = 0x80;   /* confirmed uplink */
    assert_int_equal(chan_trace_lorawan_uplink(up, 11, &dev, &fcnt), 0);
    assert_int_equal(chan_trace_lorawan_uplink(up, 12, &dev, &fcnt), 1);
}

/* ---- round trips -------------------------------------------------------------- */

/* Whether packet i's frame is in the capture and keeps its sequence
 * number: delivered, or marked and the kind keeps marked frames' numbers
 * (generic's flag does; a bad CRC does not). */
static int kept_numbered(const chan_arrival *a, const int *marked, size_t i,
                         int generic)
{
    return a[i].arrived || (generic && marked[i]);
}

/* Writes a capture of kind from the link and replays it from its first
 * opportunity: every packet between the first and the last numbered frame
 * must come back with the model's fate, and those in the capture with the
 * model's start times. */
static void roundtrip(const char *path, const char *kind, const char *lost_as,
                      uint32_t fcnt0, uint32_t tmst0, double duty,
                      size_t packets)
{
    int generic = strcmp(kind, "generic") == 0;
    chan *link = make_link(duty);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.kind = kind;
    o.lost_as = lost_as;
    o.packets = packets;
    o.len = 51;
    o.fcnt0 = fcnt0;
    o.tmst0 = tmst0;
    chan_arrival *a = calloc(packets, sizeof *a);
    int *marked = calloc(packets, sizeof *marked);
    assert_non_null(a);
    assert_non_null(marked);
    util_rng rng;
    util_rng_seed(&rng, 7);
    util_err err = {{0}};
    chan_capture_info info;
    if (chan_capture_write(link, &o, path, &rng, a, &info, &err))
        fail_msg("capture: %s", err.msg);
    size_t lost = 0;
    for (size_t i = 0; i < packets; i++) {
        if (a[i].arrived)
            continue;
        int mark = !strcmp(lost_as, "mark") ||
                   (!strcmp(lost_as, "mixed") && lost % 2 == 0);
        marked[i] = mark;
        lost++;
    }
    /* The model must have lost some, or the test shows nothing. */
    assert_true(lost >= 5);
    assert_int_equal(info.lost, lost);
    assert_int_equal(info.frames, packets - lost + info.marked);

    size_t first = 0, last = packets - 1;
    while (!kept_numbered(a, marked, first, generic))
        first++;
    while (!kept_numbered(a, marked, last, generic))
        last--;
    size_t n = last - first + 1;

    util_params p = replay_params(path, kind, info.airtime);
    tu_setn(&p, "start", 0);
    tu_setb(&p, "wrap", 0);
    chan *tr = make_trace(&p);
    assert_int_equal(chan_payload(tr), 51);
    chan_arrival *r = transmit(tr, n + 2, 1);
    double t0 = a[first].t_start;
    double toa = generic ? info.airtime
               : chan_trace_lora_airtime(7, 125e3, 1, 64, 8);
    /* pcap keeps ns; tmst keeps µs, rounded at both ends. */
    double eps = strcmp(kind, "semtech") == 0 ? 2e-6 : 2e-9;
    for (size_t i = 0; i < n; i++) {
        const chan_arrival *m = &a[first + i];
        if (r[i].arrived != m->arrived)
            fail_msg("%s: packet %zu: replay says %s, the model %s", kind,
                     first + i, r[i].arrived ? "arrived" : "lost",
                     m->arrived ? "arrived" : "lost");
        assert_int_equal(r[i].attempts, 1);
        if (m->arrived || marked[first + i]) {
            assert_near(r[i].t_start, m->t_start - t0, eps);
        } else {
            /* Omitted: placed between its neighbours. */
            assert_true(r[i].t_start > r[i - 1].t_start);
            assert_true(r[i].t_start < a[last].t_start - t0);
        }
        if (m->arrived)
            assert_near(r[i].t_arrive, m->t_start - t0 + toa, eps);
        else
            assert_true(isinf(r[i].t_arrive));
    }
    /* Past the end without wrap: lost and never sent. */
    assert_int_equal(r[n].arrived, 0);
    assert_int_equal(r[n + 1].attempts, 0);
    assert_true(isinf(r[n + 1].t_start));
    free(r);
    chan_destroy(tr);
    chan_destroy(link);
    free(a);
    free(marked);
}

static void test_roundtrip_generic(void **state)
{
    fixture *f = *state;
    roundtrip(f->path, "generic", "omit", 0, 0, 0.01, 120);
    roundtrip(f->path, "generic", "mark", 0, 0, 0.01, 120);
    roundtrip(f->path, "generic", "mixed", 0, 0, 0.01, 120);
}

static void test_roundtrip_loratap(void **state)
{
    fixture *f = *state;
    roundtrip(f->path, "loratap", "omit", 0, 0, 0.01, 120);
    /* FCnt runs through its 16-bit wrap. */
    roundtrip(f->path, "loratap", "omit", 65500, 0, 0.01, 120);
}

static void test_roundtrip_semtech(void **state)
{
    fixture *f = *state;
    roundtrip(f->path, "semtech", "omit", 0, 0, 0.01, 120);
    /* tmst and FCnt wrap mid-capture; bad-CRC frames fill FCnt gaps. */
    roundtrip(f->path, "semtech", "mixed", 65530, 4294000000u, 0.01, 120);
    roundtrip(f->path, "semtech", "mark", 65530, 4294000000u, 0.01, 120);
    /* Frames a day apart: tmst wraps many times between two frames; the
     * pcap clock counts the wraps. */
    roundtrip(f->path, "semtech", "omit", 0, 123456789, 1e-6, 40);
}

/* Without FCnt, LoRaTap frames are all delivered and Semtech's losses are
 * the bad-CRC frames only. */
static void test_no_fcnt(void **state)
{
    fixture *f = *state;
    chan *link = make_link(0.01);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.kind = "semtech";
    o.lost_as = "mixed";
    o.packets = 100;
    o.len = 20;
    util_rng rng;
    util_rng_seed(&rng, 3);
    chan_capture_info info;
    util_err err = {{0}};
    assert_int_equal(chan_capture_write(link, &o, f->path, &rng, NULL, &info,
                                        &err), 0);
    util_params p = replay_params(f->path, "semtech", 0);
    tu_setb(&p, "fcnt", 0);
    tu_setn(&p, "start", 0);
    tu_setb(&p, "wrap", 0);
    chan *tr = make_trace(&p);
    chan_arrival *r = transmit(tr, info.frames, 1);
    size_t lost = 0;
    for (size_t i = 0; i < info.frames; i++)
        lost += !r[i].arrived;
    assert_true(info.marked > 0);
    assert_int_equal(lost, info.marked);
    free(r);
    chan_destroy(tr);
    chan_destroy(link);
}

/* Wrapping repeats the trace one period later; a random start is drawn
 * from the generator: same seed, same part of the trace. */
static void test_wrap_and_random_start(void **state)
{
    fixture *f = *state;
    chan *link = make_link(0.01);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.packets = 50;
    util_rng rng;
    util_rng_seed(&rng, 5);
    chan_capture_info info;
    util_err err = {{0}};
    o.len = 51;
    assert_int_equal(chan_capture_write(link, &o, f->path, &rng, NULL, &info,
                                        &err), 0);
    util_params p = replay_params(f->path, "generic", info.airtime);
    tu_setn(&p, "start", 0);
    chan *tr = make_trace(&p);
    size_t n = 50;   /* opportunities: every sequence number 0..49 */
    assert_non_null(strstr(chan_label(tr), "-n50-"));
    chan_arrival *r = transmit(tr, 3 * n, 1);
    double period = (r[n - 1].t_start - r[0].t_start) * (double)n /
                    (double)(n - 1);
    for (size_t i = 0; i < 2 * n; i++) {
        assert_int_equal(r[i + n].arrived, r[i].arrived);
        assert_near(r[i + n].t_start - r[i].t_start, period, 1e-6);
    }
    free(r);
    chan_destroy(tr);

    p = replay_params(f->path, "generic", info.airtime);
    tr = make_trace(&p);
    chan_arrival *a = transmit(tr, 10, 42), *b = transmit(tr, 10, 42);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(a[i].arrived, b[i].arrived);
        assert_true(a[i].t_start == b[i].t_start);
    }
    assert_true(a[0].t_start == 0);
    /* Different seeds start at different places: the gaps between the
     * first two packets differ between some of 20 seeds. */
    int differ = 0;
    for (uint64_t s = 0; s < 20; s++) {
        chan_arrival *c = transmit(tr, 10, s);
        differ |= fabs(c[1].t_start - a[1].t_start) > 1e-9;
        free(c);
    }
    assert_true(differ);
    free(a);
    free(b);
    chan_destroy(tr);
    chan_destroy(link);
}

/* ---- several devices ------------------------------------------------------------- */

/* Copies every frame of the captures src[0..n-1] into dst, one file after
 * the other (the trace sorts by time). */
static void merge(const char *dst, const char *const *src, size_t n)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(
        src[0], PCAP_TSTAMP_PRECISION_NANO, eb);
    assert_non_null(in);
    pcap_dumper_t *d = pcap_dump_open(in, dst);
    assert_non_null(d);
    for (size_t k = 0; k < n; k++) {
        pcap_t *p = k ? pcap_open_offline_with_tstamp_precision(
                            src[k], PCAP_TSTAMP_PRECISION_NANO, eb) : in;
        assert_non_null(p);
        struct pcap_pkthdr *h;
        const u_char *data;
        while (pcap_next_ex(p, &h, &data) == 1)
            pcap_dump((u_char *)d, h, data);
        if (k)
            pcap_close(p);
    }
    pcap_dump_close(d);
    pcap_close(in);
}

static void test_devices(void **state)
{
    fixture *f = *state;
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/a.pcap", f->dir);
    snprintf(b, sizeof b, "%s/b.pcap", f->dir);
    chan *link = make_link(0.01);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.kind = "semtech";
    o.packets = 60;
    o.len = 20;
    util_rng rng;
    util_rng_seed(&rng, 11);
    chan_capture_info ia, ib;
    util_err err = {{0}};
    assert_int_equal(chan_capture_write(link, &o, a, &rng, NULL, &ia, &err), 0);
    o.devaddr = 0x01020304;
    o.tmst0 = 777;
    o.packets = 30;
    assert_int_equal(chan_capture_write(link, &o, b, &rng, NULL, &ib, &err), 0);
    const char *both[] = {a, b};
    merge(f->path, both, 2);

    util_params p = replay_params(f->path, "semtech", 0);
    expect_error(&p, "more than one device", f->path);

    /* devaddr picks one: the same opportunities as its own capture. */
    for (int k = 0; k < 2; k++) {
        p = replay_params(f->path, "semtech", 0);
        tu_sets(&p, "devaddr", k ? "01020304" : "26011BDA");
        chan *merged = make_trace(&p);
        util_params q = replay_params(k ? b : a, "semtech", 0);
        chan *alone = make_trace(&q);
        assert_string_equal(strstr(chan_label(merged), "-n"),
                            strstr(chan_label(alone), "-n"));
        chan_destroy(merged);
        chan_destroy(alone);
    }
    p = replay_params(f->path, "semtech", 0);
    tu_sets(&p, "devaddr", "0BADCAFE");
    expect_error(&p, "no LoRaWAN data uplink from devaddr 0BADCAFE", NULL);
    p = replay_params(f->path, "semtech", 0);
    tu_sets(&p, "devaddr", "12345");
    expect_error(&p, "devaddr: expected 8 hex digits", NULL);
    chan_destroy(link);
}

/* A frame captured twice counts once; a sequence step over max_gap is a
 * discontinuity, not losses. */
static void test_duplicates_and_max_gap(void **state)
{
    fixture *f = *state;
    char a[160];
    snprintf(a, sizeof a, "%s/a.pcap", f->dir);
    chan *link = make_link(0.01);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.packets = 80;
    o.len = 30;
    util_rng rng;
    util_rng_seed(&rng, 4);
    chan_capture_info info;
    util_err err = {{0}};
    assert_int_equal(chan_capture_write(link, &o, a, &rng, NULL, &info, &err),
                     0);
    assert_true(info.lost >= 3);
    chan_destroy(link);
    const char *twice[] = {a, a};
    merge(f->path, twice, 2);

    util_params p = replay_params(a, "generic", info.airtime);
    chan *alone = make_trace(&p);
    p = replay_params(f->path, "generic", info.airtime);
    chan *merged = make_trace(&p);
    assert_string_equal(strstr(chan_label(merged), "-n"),
                        strstr(chan_label(alone), "-n"));
    chan_destroy(merged);
    chan_destroy(alone);

    /* max_gap 1: the omitted frames are not inferred. */
    p = replay_params(a, "generic", info.airtime);
    tu_setn(&p, "max_gap", 1);
    chan *tr = make_trace(&p);
    char want[32];
    snprintf(want, sizeof want, "-n%zu-", info.frames);
    assert_non_null(strstr(chan_label(tr), want));
    chan_destroy(tr);
}

static void put_le32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    assert_int_equal(fwrite(b, 1, 4, f), 4);
}

/* pcapng (which libpcap cannot write) is read too: a section header, an
 * interface (USER0, µs) and three enhanced packet blocks, sequence numbers
 * 7, 9, 10 at 0, 1.5 and 2.25 s. */
static void test_pcapng(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    static const uint32_t shb[] = {0x0A0D0D0A, 28, 0x1A2B3C4D, 1,
                                   0xffffffff, 0xffffffff, 28};
    static const uint32_t idb[] = {1, 20, 147, 65535, 20};
    for (size_t i = 0; i < 7; i++)
        put_le32(fp, shb[i]);
    for (size_t i = 0; i < 5; i++)
        put_le32(fp, idb[i]);
    static const uint64_t us[] = {5000000, 6500000, 7250000};
    static const uint8_t seq[] = {7, 9, 10};
    for (size_t i = 0; i < 3; i++) {
        uint64_t t = 1767225600ULL * 1000000 + us[i];
        uint32_t blk[] = {6, 36, 0, (uint32_t)(t >> 32), (uint32_t)t, 4, 4};
        for (size_t k = 0; k < 7; k++)
            put_le32(fp, blk[k]);
        uint8_t data[4] = {0, 0, 0, seq[i]};
        assert_int_equal(fwrite(data, 1, 4, fp), 4);
        put_le32(fp, 36);
    }
    assert_int_equal(fclose(fp), 0);
    util_params p;
    util_params_init(&p);
    tu_sets(&p, "file", f->path);
    tu_sets(&p, "kind", "generic");
    tu_setn(&p, "seq_offset", 0);
    tu_setn(&p, "start", 0);
    tu_setb(&p, "wrap", 0);
    tu_setn(&p, "payload", 10);
    chan *c = make_trace(&p);
    chan_arrival *r = transmit(c, 4, 1);
    assert_true(r[0].arrived && !r[1].arrived && r[2].arrived && r[3].arrived);
    assert_near(r[1].t_start, 0.75, 1e-9);   /* spread between 0 and 1.5 */
    assert_near(r[2].t_arrive, 1.5, 1e-9);
    assert_near(r[3].t_arrive, 2.25, 1e-9);
    free(r);
    chan_destroy(c);
}

/* ---- bad captures ------------------------------------------------------------------- */

/* A valid capture of kind with a few frames at path; returns its bytes. */
static char *good_capture(const char *path, const char *kind, size_t *len)
{
    chan *link = make_link(0.01);
    chan_capture_opts o;
    chan_capture_defaults(&o);
    o.kind = kind;
    o.packets = 8;
    o.len = 20;
    util_rng rng;
    util_rng_seed(&rng, 1);
    util_err err = {{0}};
    assert_int_equal(chan_capture_write(link, &o, path, &rng, NULL, NULL,
                                        &err), 0);
    chan_destroy(link);
    char *buf = tu_read_file(path, len);
    assert_non_null(buf);
    return buf;
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    static const char *const kinds[] = {"generic", "loratap", "semtech"};
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *buf = good_capture(f->path, kinds[k], &len);
        /* Inside the file header, inside the first record's header, inside
         * its data, and one byte short of the end. */
        size_t cuts[] = {10, 30, 24 + 16 + 3, len - 1};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            tu_write_file(f->path, buf, cuts[c]);
            util_params p = replay_params(f->path, kinds[k], 0);
            expect_error(&p, f->path, "truncated");
        }
        /* Only the file header: no frames at all. */
        tu_write_file(f->path, buf, 24);
        util_params p = replay_params(f->path, kinds[k], 0);
        expect_error(&p, f->path, "the capture holds no");
        free(buf);
    }
}

/* Opens a damaged capture: it either replays or fails naming the file;
 * under ASan, this is where a parser that trusts a length would crash. */
static void open_damaged(const char *path, const char *kind)
{
    util_params p = replay_params(path, kind, 0);
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create("trace", &p, &c, &err) == 0) {
        free(transmit(c, 20, 1));
        chan_destroy(c);
    } else if (!strstr(err.msg, path)) {
        fail_msg("the error does not name the file: %s", err.msg);
    }
}

/* Every cut, and random bytes changed anywhere, in each kind. */
static void test_every_cut_and_flip(void **state)
{
    fixture *f = *state;
    static const char *const kinds[] = {"generic", "loratap", "semtech"};
    util_rng rng;
    util_rng_seed(&rng, 2024);
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *buf = good_capture(f->path, kinds[k], &len);
        for (size_t cut = 0; cut < len; cut++) {
            tu_write_file(f->path, buf, cut);
            open_damaged(f->path, kinds[k]);
        }
        char *bad = malloc(len);
        assert_non_null(bad);
        for (int trial = 0; trial < 200; trial++) {
            memcpy(bad, buf, len);
            int flips = 1 + (int)util_rng_below(&rng, 8);
            for (int i = 0; i < flips; i++)
                bad[util_rng_below(&rng, len)] = (char)util_rng_next(&rng);
            tu_write_file(f->path, bad, len);
            open_damaged(f->path, kinds[k]);
        }
        free(bad);
        free(buf);
    }
}

static void test_garbage(void **state)
{
    fixture *f = *state;
    uint8_t junk[1000];
    util_rng rng;
    util_rng_seed(&rng, 99);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)util_rng_next(&rng);
    tu_write_file(f->path, junk, sizeof junk);
    util_params p = replay_params(f->path, "semtech", 0);
    expect_error(&p, f->path, "cannot read the capture");
    tu_write_file(f->path, "", 0);
    p = replay_params(f->path, "loratap", 0);
    expect_error(&p, f->path, "cannot read the capture");
    p = replay_params("/nonexistent/x.pcap", "generic", 0);
    expect_error(&p, "/nonexistent/x.pcap", "cannot read the capture");
}

static void test_wrong_link_type(void **state)
{
    fixture *f = *state;
    size_t len;
    free(good_capture(f->path, "generic", &len));
    util_params p = replay_params(f->path, "loratap", 0);
    expect_error(&p, f->path, "link type USER0 (147); kind \"loratap\" reads LORATAP (270)");
    p = replay_params(f->path, "semtech", 0);
    expect_error(&p, f->path, "(147); kind \"semtech\" reads EN10MB");
    free(good_capture(f->path, "semtech", &len));
    p = replay_params(f->path, "loratap", 0);
    expect_error(&p, f->path, "link type EN10MB (1)");
}

/* The first record's data starts at 24 + 16. */
#define REC0 40

static void test_bad_loratap(void **state)
{
    fixture *f = *state;
    size_t len;
    char *buf = good_capture(f->path, "loratap", &len);
    static const struct {
        size_t at;
        uint8_t v;
        const char *msg;
    } cases[] = {
        {0, 1, "frame 1: LoRaTap version 1"},
        {3, 20, "frame 1: LoRaTap header length 20"},
        {8, 3, "frame 1: LoRaTap bandwidth 3"},
        {9, 13, "frame 1: LoRaTap SF 13"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *bad = malloc(len);
        memcpy(bad, buf, len);
        bad[REC0 + cases[c].at] = (char)cases[c].v;
        tu_write_file(f->path, bad, len);
        free(bad);
        util_params p = replay_params(f->path, "loratap", 0);
        expect_error(&p, f->path, cases[c].msg);
    }
    free(buf);
}

/* Writes one Ethernet/IPv4/UDP frame to port 1700 per datagram. */
static void semtech_capture_dlt(const char *path, int dlt,
                                const char *const *dgram, const size_t *dlen,
                                size_t n)
{
    size_t lhl = dlt == DLT_EN10MB ? 14 : dlt == DLT_LINUX_SLL ? 16 : 0;
    pcap_t *pd = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *d = pcap_dump_open(pd, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        uint8_t fr[2048] = {0}, *ip = fr + lhl;
        size_t iplen = 20 + 8 + dlen[i];
        if (lhl)
            fr[lhl - 2] = 0x08;   /* EtherType / SLL protocol 0x0800 */
        ip[0] = 0x45;
        ip[2] = (uint8_t)(iplen >> 8);
        ip[3] = (uint8_t)iplen;
        ip[9] = 17;
        ip[22] = 1700 >> 8;
        ip[23] = 1700 & 255;
        ip[24] = (uint8_t)((8 + dlen[i]) >> 8);
        ip[25] = (uint8_t)(8 + dlen[i]);
        memcpy(ip + 28, dgram[i], dlen[i]);
        struct pcap_pkthdr h = {.caplen = (bpf_u_int32)(lhl + iplen),
                                .len = (bpf_u_int32)(lhl + iplen)};
        h.ts.tv_sec = 1000 + (time_t)i;
        pcap_dump((u_char *)d, &h, fr);
    }
    pcap_dump_close(d);
    pcap_close(pd);
}

static void semtech_capture(const char *path, const char *const *dgram,
                            const size_t *dlen, size_t n)
{
    semtech_capture_dlt(path, DLT_EN10MB, dgram, dlen, n);
}

/* A PUSH_DATA header (version 2) followed by json. */
static size_t push(char *out, const char *json, int version)
{
    static const char hdr[12] = {2, 0x12, 0x34, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(out, hdr, 12);
    out[0] = (char)version;
    strcpy(out + 12, json);
    return 12 + strlen(json);
}

/* "QNobASYAAQAB..." is a 13-byte LoRaWAN uplink from 26011BDA, FCnt 1. */
#define GOOD_RXPK(tmst) "{\"tmst\":" #tmst ",\"stat\":1,\"modu\":\"LORA\"," \
    "\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-90,\"lsnr\":7.5," \
    "\"size\":13,\"data\":\"QNobASYAAQABAAAAAA==\"}"

static void test_bad_semtech(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *json;
        int version;
        const char *msg;
    } cases[] = {
        {"{\"rxpk\":[{\"tmst\":12", 2, "frame 2: PUSH_DATA payload is not a JSON object"},
        {"[1,2]", 2, "frame 2: PUSH_DATA payload is not a JSON object"},
        {"{\"rxpk\":{}}", 2, "frame 2: rxpk: expected a list"},
        {"{\"rxpk\":[7]}", 2, "frame 2: rxpk[0]: expected an object"},
        {"{\"rxpk\":[{\"modu\":\"LORA\"}]}", 2, "frame 2: rxpk[0].tmst: missing"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":\"x\"}]}", 2,
         "rxpk[0].tmst: expected a number"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":-5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].tmst: expected an integer"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF99BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].datr"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/9\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].codr"},
        /* Numbers beyond int: undefined behaviour in sscanf's %d, and glibc
         * wrapped them to SF7, BW125 and 4/5. */
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF4294967303BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].datr"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW4294967421\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].datr"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/4294967301\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].codr"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4294967300/5\",\"size\":13,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].codr"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/5\",\"size\":14,\"stat\":1,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].size: 14, but data holds 13 bytes"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"data\":\"@@@@\"}]}",
         2, "rxpk[0].data: not base64"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":3,\"data\":\"QNobASYAAQABAAAAAA==\"}]}",
         2, "rxpk[0].stat"},
        {"{\"rxpk\":[{\"modu\":\"LORA\",\"tmst\":5,\"datr\":\"SF7BW125\","
         "\"codr\":\"4/5\",\"size\":13,\"stat\":1,\"rssi\":\"loud\","
         "\"data\":\"QNobASYAAQABAAAAAA==\"}]}", 2, "rxpk[0].rssi"},
        {"{\"rxpk\":[]}", 7, "frame 2: PUSH_DATA protocol version 7"},
    };
    char good[512], bad[512];
    size_t glen = push(good, "{\"rxpk\":[" GOOD_RXPK(100) "]}", 2);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t blen = push(bad, cases[c].json, cases[c].version);
        const char *d[] = {good, bad};
        size_t l[] = {glen, blen};
        semtech_capture(f->path, d, l, 2);
        util_params p = replay_params(f->path, "semtech", 0);
        expect_error(&p, f->path, cases[c].msg);
    }
    /* A datagram cut short of its 12-byte header. */
    const char *d[] = {good, good};
    size_t l[] = {glen, 9};
    semtech_capture(f->path, d, l, 2);
    util_params p = replay_params(f->path, "semtech", 0);
    expect_error(&p, f->path, "frame 2: PUSH_DATA of 9 bytes");
    /* One frame is not a trace. */
    semtech_capture(f->path, d, l, 1);
    p = replay_params(f->path, "semtech", 0);
    expect_error(&p, f->path, "1 delivery opportunity");
    /* Non-PUSH_DATA datagrams and FSK packets are skipped, whatever the
     * link layer. */
    char pull[12] = {2, 0, 1, 2};
    char fsk[512], second[512];
    size_t flen = push(fsk, "{\"rxpk\":[{\"modu\":\"FSK\",\"tmst\":1}],"
                       "\"stat\":{\"rxnb\":2}}", 2);
    size_t slen = push(second, "{\"rxpk\":[{\"tmst\":300100,\"stat\":1,"
                       "\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":"
                       "\"4/5\",\"size\":13,\"data\":\"QNobASYAAgABAAAAAA==\""
                       "}]}", 2);
    const char *mix[] = {good, pull, fsk, second};
    size_t ml[] = {glen, sizeof pull, flen, slen};
    static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW};
    for (size_t k = 0; k < sizeof dlts / sizeof dlts[0]; k++) {
        semtech_capture_dlt(f->path, dlts[k], mix, ml, 4);
        p = replay_params(f->path, "semtech", 0);
        tu_setn(&p, "start", 0);
        tu_setn(&p, "payload", 10);
        chan *tr = make_trace(&p);
        assert_non_null(strstr(chan_label(tr), "-n2-p10"));
        chan_arrival *r = transmit(tr, 2, 1);
        assert_true(r[0].arrived && r[1].arrived);
        assert_near(r[1].t_start, 0.3, 1e-9);
        assert_near(r[0].t_arrive,
                    chan_trace_lora_airtime(7, 125e3, 1, 13, 8), 1e-9);
        free(r);
        chan_destroy(tr);
    }
}

static void test_bad_generic(void **state)
{
    fixture *f = *state;
    size_t len;
    free(good_capture(f->path, "generic", &len));
    util_params p = replay_params(f->path, "generic", 0);
    tu_setn(&p, "seq_offset", 40);
    expect_error(&p, f->path, "frame 1: 25 bytes captured, too short for "
                 "seq_offset 40");
    p = replay_params(f->path, "generic", 0);
    tu_setn(&p, "flag_offset", 25);
    expect_error(&p, f->path, "too short for flag_offset 25");
    p = replay_params(f->path, "generic", 0);
    tu_setn(&p, "seq_bytes", 3);
    expect_error(&p, "seq_bytes: expected 1, 2, 4 or 8", NULL);
    /* Keys of another kind are unknown. */
    p = replay_params(f->path, "generic", 0);
    tu_setb(&p, "fcnt", 0);
    expect_error(&p, "fcnt: unknown key", NULL);
    util_params q;
    util_params_init(&q);
    tu_sets(&q, "file", f->path);
    expect_error(&q, "kind", NULL);
    tu_sets(&q, "kind", "mahimahi");
    expect_error(&q, "kind", NULL);
    p = replay_params(f->path, "generic", 0);
    tu_setn(&p, "start", 8);
    expect_error(&p, "start: 8 is past the trace's 8 delivery opportunities",
                 NULL);
}

/* ---- csv tables ------------------------------------------------------------------------- */

/* A per-packet table: a duplicate counter dropped, a lost frame, a gap of
 * one inferred as a loss half way, times in ms, the default payload from
 * the largest size less the framing. */
static const char *const TABLE =
    "# a gateway log\n"
    "t_ms,status,fcnt,size\n"
    "0,ok,10,40\n"
    "1000,ok,11,40\n"
    "1000,ok,11,40\n"
    "\n"
    "2000,lost,12,40\n"
    "4000,1,14,40\n"
    "5000,\"delivered\",15,51\n";

static util_params csv_params(const char *path)
{
    util_params p;
    util_params_init(&p);
    tu_sets(&p, "file", path);
    tu_sets(&p, "kind", "csv");
    tu_sets(&p, "time_column", "t_ms");
    tu_sets(&p, "time_unit", "ms");
    tu_sets(&p, "delivered_column", "status");
    tu_sets(&p, "seq_column", "fcnt");
    tu_sets(&p, "size_column", "size");
    tu_setn(&p, "seq_bits", 16);
    tu_setn(&p, "airtime", 0.1);
    tu_setn(&p, "header", 13);
    tu_setn(&p, "start", 0);
    tu_setb(&p, "wrap", 0);
    return p;
}

static void check_table_replay(const char *path)
{
    util_params p = csv_params(path);
    chan *c = make_trace(&p);
    assert_non_null(strstr(chan_label(c), "trace-csv-"));
    assert_non_null(strstr(chan_label(c), "-n6-p38"));
    chan_arrival *a = transmit(c, 7, 1);
    static const double start[6] = {0, 1, 2, 3, 4, 5};
    static const double arrive[6] = {0.1, 1.1, INFINITY, INFINITY, 4.1, 5.1};
    for (int i = 0; i < 6; i++) {
        if (fabs(a[i].t_start - start[i]) > 1e-9 ||
            (isinf(arrive[i]) ? !isinf(a[i].t_arrive)
                              : fabs(a[i].t_arrive - arrive[i]) > 1e-9))
            fail_msg("packet %d: start %g arrive %g, wanted %g and %g", i, a[i].t_start,
                     a[i].t_arrive, start[i], arrive[i]);
        assert_int_equal(a[i].arrived, !isinf(arrive[i]));
    }
    assert_false(a[6].arrived); /* past the end, without wrap */
    free(a);
    chan_destroy(c);
}

static void test_csv_replay(void **state)
{
    fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/log.csv", f->dir);
    tu_write_file(path, TABLE, strlen(TABLE));
    check_table_replay(path);
    /* the same table with semicolons, quotes everywhere, CRLF ends */
    const char *semi = "\"t_ms\";\"status\";\"fcnt\";\"size\"\r\n"
                       "0;ok;10;40\r\n1000;ok;11;40\r\n\"2000\";\"lost\";12;40\r\n"
                       "4000;1;14;40\r\n5000;yes;15;51\r\n";
    tu_write_file(path, semi, strlen(semi));
    util_params p = csv_params(path);
    chan *c = NULL;
    util_err err = {{0}};
    tu_sets(&p, "separator", ";");
    assert_int_equal(chan_create("trace", &p, &c, &err), 0);
    assert_non_null(strstr(chan_label(c), "-n6-p38"));
    chan_destroy(c);
}

static void test_csv_bad(void **state)
{
    fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/log.csv", f->dir);
    static const struct {
        const char *table, *says;
    } bad[] = {
        {"", "empty: expected a header line"},
        {"when,status,fcnt,size\n0,ok,1,40\n", "line 1: no column \"t_ms\" (time_column)"},
        {"t_ms,status,fcnt,size\n0,ok,1,40\n1x,ok,2,40\n", "line 3: t_ms: \"1x\" is not a time"},
        {"t_ms,status,fcnt,size\n0,maybe,1,40\n", "line 2: status: \"maybe\" is neither"},
        {"t_ms,status,fcnt,size\n0,ok,1.5,40\n", "line 2: fcnt: \"1.5\" is not a counter of 16"},
        {"t_ms,status,fcnt,size\n0,ok,70000,40\n", "is not a counter of 16 bits"},
        {"t_ms,status,fcnt,size\n0,ok,1\n", "line 2: 3 fields, the columns named need 4"},
        {"t_ms,status,fcnt,size\n\"0,ok,1,40\n", "line 2: a quote is not closed"},
        {"t_ms,status,fcnt,size\n0,ok,1,-4\n", "line 2: size: \"-4\" is not a size"},
        {"t_ms,status,fcnt,size\n0,ok,1,40\n", "a trace needs at least two"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        tu_write_file(path, bad[k].table, strlen(bad[k].table));
        util_params p = csv_params(path);
        expect_error(&p, path, bad[k].says);
    }
    tu_write_file(path, TABLE, strlen(TABLE));
    util_params p = csv_params(path);
    util_params_init(&p);
    tu_sets(&p, "file", path);
    tu_sets(&p, "kind", "csv");
    expect_error(&p, "time_column: missing", NULL);
    tu_sets(&p, "time_column", "t_ms");
    expect_error(&p, "payload: required for a csv trace without a size_column", NULL);
    tu_setn(&p, "payload", 20);
    tu_setn(&p, "seq_offset", 3);
    expect_error(&p, "seq_offset: unknown key", NULL);
    p = csv_params(path);
    tu_sets(&p, "time_unit", "h");
    expect_error(&p, "time_unit", NULL);
    p = csv_params(f->dir); /* a directory */
    expect_error(&p, f->dir, NULL);
    char missing[200];
    snprintf(missing, sizeof missing, "%s/none.csv", f->dir);
    p = csv_params(missing);
    expect_error(&p, missing, "cannot open");
}

/* ---- the runner ---------------------------------------------------------------------- */

/* A scenario whose trace is garbage fails at load, naming the file, and
 * writes nothing. */
static void test_scenario_bad_trace(void **state)
{
    fixture *f = *state;
    tu_write_file(f->path, "not a capture", 13);
    char scen[160], out[160], json[1024], cmd[512], log[4096];
    snprintf(scen, sizeof scen, "%s/s.json", f->dir);
    snprintf(out, sizeof out, "%s/out", f->dir);
    snprintf(json, sizeof json,
             "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 4}, "
             "\"codecs\": [{\"name\": \"jpeg\"}], \"channel\": {\"model\": "
             "\"trace\", \"kind\": \"loratap\", \"file\": \"%s\"}, "
             "\"deadlines\": [1], \"output\": \"%s\"}", f->path, out);
    tu_write_file(scen, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run %s", LIMITNET_BIN, scen);
    assert_int_equal(tu_run(cmd, log, sizeof log), 2);
    if (!strstr(log, "channel.file: ") || !strstr(log, f->path))
        fail_msg("unexpected message: %s", log);
    assert_int_equal(access(out, F_OK), -1);
}

static size_t count_cells(const char *out)
{
    char cmd[256], log[64];
    snprintf(cmd, sizeof cmd, "ls %s/cells/*.csv | wc -l", out);
    assert_int_equal(tu_run(cmd, log, sizeof log), 0);
    return (size_t)atoi(log);
}

/* A capture rewritten under the same name is a different channel: the
 * rerun computes new cells instead of reusing the old ones. */
static void test_rerun_after_new_capture(void **state)
{
    fixture *f = *state;
    char scen[160], out[160], json[1024], cmd[512], log[4096];
    snprintf(scen, sizeof scen, "%s/s.json", f->dir);
    snprintf(out, sizeof out, "%s/out", f->dir);
    snprintf(json, sizeof json,
             "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 4}, "
             "\"codecs\": [{\"name\": \"jpeg\"}], \"channel\": {\"model\": "
             "\"trace\", \"kind\": \"loratap\", \"file\": \"%s\"}, "
             "\"deadlines\": [10], \"output\": \"%s\"}", f->path, out);
    tu_write_file(scen, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s run --quiet %s", LIMITNET_BIN, scen);
    for (uint64_t seed = 1; seed <= 2; seed++) {
        chan *link = make_link(0.01);
        chan_capture_opts o;
        chan_capture_defaults(&o);
        o.kind = "loratap";
        o.packets = 30;
        o.len = 51;
        util_rng rng;
        util_rng_seed(&rng, seed);
        util_err err = {{0}};
        assert_int_equal(chan_capture_write(link, &o, f->path, &rng, NULL,
                                            NULL, &err), 0);
        chan_destroy(link);
        if (tu_run(cmd, log, sizeof log) != 0)
            fail_msg("%s", log);
        assert_int_equal(count_cells(out), seed);
    }
    /* The same capture again: reused. */
    assert_int_equal(tu_run(cmd, log, sizeof log), 0);
    assert_int_equal(count_cells(out), 2);
}

/* The commands in scenarios/traces/README.md remake the committed example
 * captures byte for byte. */
static void test_example_commands(void **state)
{
    fixture *f = *state;
    char readme[256];
    snprintf(readme, sizeof readme, "%s/scenarios/traces/README.md",
             SOURCE_DIR);
    char *text = tu_read_file(readme, NULL);
    assert_non_null(text);
    const char *prefix = "`bin/limitnet capture ";
    int found = 0;
    for (char *p = strstr(text, prefix); p; p = strstr(p + 1, prefix)) {
        char *end = strchr(p + 1, '`');
        assert_non_null(end);
        char line[400], name[64], cmd[1400], log[4096];
        snprintf(line, sizeof line, "%.*s", (int)(end - p - 1), p + 1);
        char *o = strstr(line, " -o scenarios/traces/");
        assert_non_null(o);
        assert_int_equal(sscanf(o, " -o scenarios/traces/%63s", name), 1);
        char *rest = o + strlen(" -o scenarios/traces/") + strlen(name);
        snprintf(cmd, sizeof cmd, "cd %s && %s %.*s -o %s/%s%s", SOURCE_DIR,
                 LIMITNET_BIN, (int)(o - line - strlen("bin/limitnet ")),
                 line + strlen("bin/limitnet "), f->dir, name, rest);
        if (tu_run(cmd, log, sizeof log) != 0)
            fail_msg("%s: %s", cmd, log);
        snprintf(cmd, sizeof cmd, "cmp %s/%s %s/scenarios/traces/%s", f->dir,
                 name, SOURCE_DIR, name);
        if (tu_run(cmd, log, sizeof log) != 0)
            fail_msg("%s differs from what its command makes: %s", name, log);
        found++;
    }
    free(text);
    assert_int_equal(found, 3);
}

/* The capture command's errors: exit status 2 for bad usage, 1 when the
 * model cannot make the capture; never a file. */
static void test_capture_errors(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *args;
        int status;
        const char *msg;
    } cases[] = {
        {"--kind loratap --lost-as mark", 1, "LoRaTap v0 has no CRC field"},
        {"--kind semtech retries=2 loss.model=independent loss.p=0.5", 1,
         "without ARQ"},
        {"--kind loratap --sf 12", 1, "overlap on air"},
        {"--kind pigeon", 1, "kind: expected"},
        {"--kind generic --len 52", 1, "len: expected 1 to 51 bytes"},
        {"--kind generic bitrate=fast", 2, "channel: bitrate"},
        {"--kind generic --model pigeon", 2, "unknown channel model"},
        {"--kind generic --bogus 1", 2, "unknown option --bogus"},
        {"--kind generic --packets 0", 2, "--packets"},
        {"--kind generic --devaddr xyz", 2, "--devaddr"},
        {"--kind semtech --devaddr -0000001", 2, "--devaddr"},
        {"--kind semtech --packets 3 bitrate=1 duty_cycle=0.000001", 1,
         "past the 1000000000 s a capture can hold"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char cmd[512], log[4096];
        snprintf(cmd, sizeof cmd, "%s capture %s -o %s", LIMITNET_BIN,
                 cases[c].args, f->path);
        int st = tu_run(cmd, log, sizeof log);
        if (st != cases[c].status || !strstr(log, cases[c].msg))
            fail_msg("%s: exit %d, expected %d with \"%s\": %s", cases[c].args,
                     st, cases[c].status, cases[c].msg, log);
        assert_int_equal(access(f->path, F_OK), -1);
        snprintf(cmd, sizeof cmd, "ls %s | wc -l", f->dir);
        assert_int_equal(tu_run(cmd, log, sizeof log), 0);
        assert_int_equal(atoi(log), 0);
    }
}

/* The committed example scenarios load (their captures parse). */
static void test_example_scenarios(void **state)
{
    (void)state;
    static const char *const names[] = {"generic", "loratap", "semtech"};
    for (int k = 0; k < 3; k++) {
        char cmd[512], log[4096];
        snprintf(cmd, sizeof cmd, "cd %s && %s check "
                 "scenarios/trace_replay-%s.json", SOURCE_DIR, LIMITNET_BIN,
                 names[k]);
        if (tu_run(cmd, log, sizeof log) != 0)
            fail_msg("%s", log);
    }
}

/* The commands in scenarios/traces/README.md (and the README's example)
 * rewrite the committed captures byte for byte. */
static void test_example_captures_reproduce(void **state)
{
    fixture *f = *state;
    static const char *const model =
        "duty_cycle=0.01 loss.model=gilbert_elliott loss.p_gb=0.05 loss.p_bg=0.3 "
        "loss.loss_bad=0.8 loss.loss_good=0.02";
    static const char *const cmds[3][2] = {
        {"generic", "--kind generic --packets 40 --seed 1 --lost-as mixed"},
        {"loratap", "--kind loratap --packets 40 --seed 1 --fcnt0 65520"},
        {"semtech", "--kind semtech --packets 40 --seed 1 --lost-as mixed --fcnt0 65520 "
                    "--tmst0 4294000000"}};
    for (int k = 0; k < 3; k++) {
        char cmd[1024], log[4096], ref[512];
        snprintf(cmd, sizeof cmd, "%s capture %s -o %s %s", LIMITNET_BIN, cmds[k][1],
                 f->path, model);
        if (tu_run(cmd, log, sizeof log) != 0)
            fail_msg("%s: %s", cmd, log);
        snprintf(ref, sizeof ref, "%s/scenarios/traces/%s.pcap", SOURCE_DIR, cmds[k][0]);
        size_t la = 0, lb = 0;
        char *a = tu_read_file(f->path, &la), *b = tu_read_file(ref, &lb);
        assert_non_null(a);
        assert_non_null(b);
        if (la != lb || memcmp(a, b, la) != 0)
            fail_msg("%s: differs from %s", cmd, ref);
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lora_airtime),
        cmocka_unit_test(test_lorawan_header),
        cmocka_unit_test_setup_teardown(test_roundtrip_generic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_loratap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_semtech, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fcnt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_and_random_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_max_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcapng, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_cut_and_flip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_link_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_loratap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_semtech, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_generic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scenario_bad_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rerun_after_new_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_captures_reproduce, setup, teardown),
        cmocka_unit_test(test_example_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
