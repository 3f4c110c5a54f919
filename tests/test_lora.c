/* LoRa PHY arithmetic (time on air, link budget) and the lora channel:
 * regional payload limits, dwell time, sub-band duty cycles, Class A
 * timing, confirmed uplinks, shadowing, parameter errors. */
#include "tests/testutil.h"
#include "tests/chanutil.h"

#include <math.h>

#include "channels/chan.h"
#include "channels/lora_phy.h"

#define Z999 3.29

/* SF7/125 kHz, 51 + 13 bytes: 8 + ceil((512 - 28 + 28 + 16) / 28) * 5 =
 * 8 + 19 * 5 = 103 symbols of 1.024 ms, plus 12.25 preamble symbols. */
#define TOA_SF7_64 0.118016
/* Six RX2 symbols at SF12/125 kHz: 6 * 32.768 ms. */
#define RX2_EU 0.196608
/* The empty ACK at SF7/125, 12 bytes, no CRC: 8 + ceil((96 - 28 + 28) / 28)
 * * 5 = 28 symbols, plus 12.25: 40.25 * 1.024 ms. */
#define ACK_SF7 0.041216

/* ---- time on air ------------------------------------------------------------------ */

typedef struct toa_case {
    int sf, bw_khz, cr, preamble, implicit, crc, ldro;
    size_t pl;
    double ms;
} toa_case;

/* Each worked by hand from Semtech's formula (lora_phy.h):
 *   Tsym = 2^SF / BW, Tpre = (npre + 4.25) Tsym,
 *   nsym = 8 + max(ceil((8PL - 4SF + 28 + 16CRC - 20IH) / (4(SF - 2DE))) (CR + 4), 0). */
static const toa_case toa_cases[] = {
    /* SF7/125: Tsym 1.024 ms; (160 - 28 + 28 + 16) / 28 = 6.29 -> 7;
     * 8 + 35 = 43 sym; (12.25 + 43) * 1.024 = 56.576 ms. */
    {7, 125, 1, 8, 0, 1, 0, 20, 56.576},
    /* SF12/125, DE 1: Tsym 32.768 ms; (408 - 48 + 44) / 40 = 10.1 -> 11;
     * 8 + 55 = 63 sym; (12.25 + 63) * 32.768 = 2465.792 ms. */
    {12, 125, 1, 8, 0, 1, 1, 51, 2465.792},
    /* SF9/125 4/7 implicit, no CRC: Tsym 4.096 ms; (80 - 36 + 28 - 20) / 36
     * = 1.44 -> 2; 8 + 14 = 22 sym; 34.25 * 4.096 = 140.288 ms. */
    {9, 125, 3, 8, 1, 0, 0, 10, 140.288},
    /* SF10/250 4/8: Tsym 4.096 ms; (800 - 40 + 44) / 40 = 20.1 -> 21;
     * 8 + 168 = 176 sym; 188.25 * 4.096 = 771.072 ms. */
    {10, 250, 4, 8, 0, 1, 0, 100, 771.072},
    /* SF12/250, DE 1: Tsym 16.384 ms; (240 - 48 + 44) / 40 = 5.9 -> 6;
     * 8 + 30 = 38 sym; 50.25 * 16.384 = 823.296 ms. */
    {12, 250, 1, 8, 0, 1, 1, 30, 823.296},
    /* SF11/125, DE 1, empty payload: (0 - 44 + 44) / 36 = 0 -> 8 sym;
     * 20.25 * 16.384 = 331.776 ms. */
    {11, 125, 1, 8, 0, 1, 1, 0, 331.776},
    /* SF8/500 4/6, 222 + 13 bytes: Tsym 0.512 ms; (1880 - 32 + 44) / 32 =
     * 59.1 -> 60; 8 + 360 = 368 sym; 380.25 * 0.512 = 194.688 ms. */
    {8, 500, 2, 8, 0, 1, 0, 235, 194.688},
    /* The first case with LDRO forced on: (176) / 20 = 8.8 -> 9; 8 + 45 =
     * 53 sym; 65.25 * 1.024 = 66.816 ms. */
    {7, 125, 1, 8, 0, 1, 1, 20, 66.816},
    /* SF12/125 implicit, no CRC, 1 byte: (8 - 48 + 28 - 20) / 40 < 0 ->
     * max(.., 0): 8 sym; 20.25 * 32.768 = 663.552 ms. */
    {12, 125, 1, 8, 1, 0, 1, 1, 663.552},
    /* The first case with a 12-symbol preamble: 16.25 * 1.024 + 44.032 =
     * 60.672 ms. */
    {7, 125, 1, 12, 0, 1, 0, 20, 60.672},
};

static void test_time_on_air(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof toa_cases / sizeof toa_cases[0]; i++) {
        const toa_case *k = &toa_cases[i];
        chan_lora_phy phy = {k->sf, k->bw_khz * 1e3, k->cr, k->preamble,
                             k->implicit, k->crc, k->ldro};
        double ms = 1e3 * chan_lora_toa(&phy, k->pl);
        if (fabs(ms - k->ms) > 1e-9)
            fail_msg("case %zu: %.9f ms, expected %.3f", i, ms, k->ms);
    }
}

static void test_ldro_rule(void **state)
{
    (void)state;
    /* Tsym >= 16 ms: SF11 and SF12 at 125 kHz, SF12 at 250 kHz. */
    for (int sf = 7; sf <= 12; sf++) {
        assert_int_equal(chan_lora_ldro_auto(sf, 125e3), sf >= 11);
        assert_int_equal(chan_lora_ldro_auto(sf, 250e3), sf == 12);
        assert_int_equal(chan_lora_ldro_auto(sf, 500e3), 0);
    }
}

/* ---- link budget --------------------------------------------------------------------- */

static const chan_lora_budget bor = {14, 40, 127.41, 2.08, 3.57, 6, 0.5};

static void test_link_budget_points(void **state)
{
    (void)state;
    /* At d0 the loss is PL(d0); ten times farther adds 10 n = 20.8 dB;
     * 400 m: 127.41 + 20.8 = 148.21 dB. */
    assert_near(chan_lora_path_loss(&bor, 40), 127.41, 1e-12);
    assert_near(chan_lora_path_loss(&bor, 400), 148.21, 1e-12);
    /* 100 m: 127.41 + 20.8 log10(2.5) = 127.41 + 8.27715 = 135.68715. */
    assert_near(chan_lora_path_loss(&bor, 100), 135.68715, 1e-5);
    /* -174 + 10 log10(125000) + 6 = -174 + 50.96910 + 6 = -117.03090 dBm;
     * 500 kHz is 6.02 dB more. */
    assert_near(chan_lora_noise_floor(125e3, 6), -117.03090, 1e-5);
    assert_near(chan_lora_noise_floor(500e3, 6), -111.01030, 1e-5);
    /* Limits: -7.5 dB at SF7 to -20 dB at SF12. */
    const double lim[] = {-7.5, -10, -12.5, -15, -17.5, -20};
    for (int sf = 7; sf <= 12; sf++)
        assert_near(chan_lora_snr_limit(sf), lim[sf - 7], 1e-12);
    /* The sensitivities they imply at 125 kHz: -124.5 .. -137 dBm. */
    assert_near(chan_lora_noise_floor(125e3, 6) + chan_lora_snr_limit(12),
                -137.03090, 1e-5);
    /* PER: 1/2 at the limit; 1 dB above with w 0.5: 1/(1 + e^2) = 0.119203;
     * 1 dB below: e^2/(1 + e^2) = 0.880797; w 0 is a step. */
    assert_near(chan_lora_per(-7.5, 7, 0.5), 0.5, 1e-12);
    assert_near(chan_lora_per(-6.5, 7, 0.5), 0.119203, 1e-6);
    assert_near(chan_lora_per(-21, 12, 0.5), 0.880797, 1e-6);
    assert_near(chan_lora_per(-20, 12, 0), 0, 0);
    assert_near(chan_lora_per(-20.01, 12, 0), 1, 0);
}

/* ---- the channel -------------------------------------------------------------------------- */

static util_params params(void)
{
    util_params p;
    util_params_init(&p);
    return p;
}

static chan *make(util_params *p)
{
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create("lora", p, &c, &err) != 0)
        fail_msg("chan_create: %s", err.msg);
    return c;
}

static void expect_error(util_params *p, const char *prefix, const char *part)
{
    chan *c = NULL;
    util_err err = {{0}};
    assert_int_equal(chan_create("lora", p, &c, &err), -1);
    assert_null(c);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
        (part && !strstr(err.msg, part)))
        fail_msg("expected \"%s...%s\", got \"%s\"", prefix, part ? part : "",
                 err.msg);
}

static void test_payload_per_dr(void **state)
{
    (void)state;
    const size_t eu[] = {51, 51, 51, 115, 222, 222, 222};
    const size_t us[] = {11, 53, 125, 242, 242};
    for (int dr = 0; dr < 7; dr++) {
        util_params p = params();
        tu_setn(&p, "dr", dr);
        chan *c = make(&p);
        assert_int_equal(chan_payload(c), eu[dr]);
        chan_destroy(c);
        /* One byte more is refused, naming the key and the data rate. */
        p = params();
        tu_setn(&p, "dr", dr);
        tu_setn(&p, "payload", (double)eu[dr] + 1);
        expect_error(&p, "payload: ", "EU868 DR");
    }
    for (int dr = 0; dr < 5; dr++) {
        util_params p = params();
        tu_sets(&p, "region", "us915");
        tu_setn(&p, "dr", dr);
        chan *c = make(&p);
        assert_int_equal(chan_payload(c), us[dr]);
        chan_destroy(c);
    }
    /* sf/bw name the same rates; a smaller payload is allowed. */
    util_params p = params();
    tu_setn(&p, "sf", 9);
    tu_setn(&p, "payload", 100);
    chan *c = make(&p);
    assert_int_equal(chan_payload(c), 100);
    assert_string_equal(chan_label(c), "lora-eu868-sf9bw125-p100");
    chan_destroy(c);
    /* Without framing the 13 bytes are the application's. */
    p = params();
    tu_setn(&p, "dr", 0);
    tu_setb(&p, "framing", 0);
    c = make(&p);
    assert_int_equal(chan_payload(c), 64);
    chan_destroy(c);
    /* No region: a LoRa frame holds 255 bytes. */
    p = params();
    tu_sets(&p, "region", "none");
    tu_setn(&p, "sf", 12);
    c = make(&p);
    assert_int_equal(chan_payload(c), 242);
    chan_destroy(c);
    p = params();
    tu_sets(&p, "region", "none");
    tu_setn(&p, "payload", 243);
    expect_error(&p, "payload: ", "at most 242");
}

static void test_dwell_time(void **state)
{
    (void)state;
    /* US915 DR0 (SF10/125), 11 + 13 bytes: Tsym 8.192 ms; (192 - 40 + 44) /
     * 40 = 4.9 -> 5; 33 sym + 12.25 = 45.25 * 8.192 = 370.688 ms <= 400. */
    util_params p = params();
    tu_sets(&p, "region", "us915");
    tu_setn(&p, "dr", 0);
    chan *c = make(&p);
    chan_stats st;
    free(tu_send_n(c, 1, 11, 1, &st));
    assert_near(st.airtime, 0.370688, 1e-9);
    chan_destroy(c);
    /* A 12-symbol preamble adds 4 * 8.192 ms: 403.456 ms, refused. 6 bytes
     * fit: (152 - 40 + 44) / 40 = 3.9 -> 4; 28 + 16.25 = 44.25 * 8.192 =
     * 362.5 ms; 7 bytes take (160 + 4) / 40 -> 5 blocks again. */
    p = params();
    tu_sets(&p, "region", "us915");
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "preamble", 12);
    expect_error(&p, "payload: ", "403.5 ms");
    p = params();
    tu_sets(&p, "region", "us915");
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "preamble", 12);
    tu_setn(&p, "payload", 12);
    expect_error(&p, "payload: 12 bytes exceed", "US915 DR0");
    p = params();
    tu_sets(&p, "region", "us915");
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "preamble", 12);
    tu_setn(&p, "payload", 7);
    expect_error(&p, "payload: ", "(6 bytes fit)");
    p = params();
    tu_sets(&p, "region", "us915");
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "preamble", 12);
    tu_setn(&p, "payload", 6);
    c = make(&p);
    chan_destroy(c);
    /* Any region can be given a dwell limit: 51 + 13 bytes at SF12 take
     * (508 / 40 -> 13 blocks, 73 + 12.25 symbols) 85.25 * 32.768 = 2793.5 ms. */
    p = params();
    tu_setn(&p, "sf", 12);
    tu_setn(&p, "dwell_time", 0.4);
    expect_error(&p, "payload: 51 bytes take 2793.5 ms", "400 ms dwell");
}

/* Start times of n packets of 51 bytes at SF7/125 on the given channels. */
static void starts(const char *freqs, const char *dc, size_t n, double *t,
                   uint64_t seed)
{
    util_params p = params();
    if (freqs)
        tu_sets(&p, "frequencies", freqs);
    if (dc)
        tu_sets(&p, "duty_cycle", dc);
    chan *c = make(&p);
    chan_arrival *a = tu_send_n(c, n, 51, seed, NULL);
    for (size_t i = 0; i < n; i++) {
        assert_true(a[i].arrived);
        assert_near(a[i].t_arrive, a[i].t_start + TOA_SF7_64, 1e-9);
        t[i] = a[i].t_start;
    }
    free(a);
    chan_destroy(c);
}

static void test_duty_cycle_sub_bands(void **state)
{
    (void)state;
    const double a = TOA_SF7_64, mac = a + 1 + 1 + RX2_EU;
    double t[8];
    /* One 1 % channel: a packet every a / 0.01 = 11.8016 s; the three
     * default channels share that sub-band and do no better. */
    for (int k = 0; k < 2; k++) {
        starts(k ? NULL : "868.1", NULL, 8, t, 3);
        for (size_t i = 0; i < 8; i++)
            assert_near(t[i], (double)i * a / 0.01, 1e-9);
    }
    /* 0.1 % (868.7-869.2 MHz): a / 0.001 = 118.016 s. */
    starts("868.8", NULL, 4, t, 3);
    for (size_t i = 0; i < 4; i++)
        assert_near(t[i], (double)i * a / 0.001, 1e-9);
    /* 10 % (869.4-869.65): a / 0.1 = 1.18 s is shorter than the receive
     * windows (a + 2 s + 6 SF12 symbols = 2.3146 s), which then pace it. */
    starts("869.525", NULL, 4, t, 3);
    for (size_t i = 0; i < 4; i++)
        assert_near(t[i], (double)i * mac, 1e-9);
    /* Two 1 % channels in different sub-bands (867.1 in 865-868 MHz):
     * whichever is picked first, the other is free after the windows, then
     * each waits for its own timer: 0, mac, 100a, mac + 100a, 200a, ... */
    for (uint64_t seed = 1; seed <= 4; seed++) {
        starts("868.1,867.1", NULL, 6, t, seed);
        for (size_t i = 0; i < 6; i++)
            assert_near(t[i], (double)(i / 2) * 100 * a + (i % 2 ? mac : 0),
                        1e-9);
    }
    /* No duty cycle: the windows alone. */
    starts(NULL, "none", 4, t, 3);
    for (size_t i = 0; i < 4; i++)
        assert_near(t[i], (double)i * mac, 1e-9);
}

static void test_duty_cycle_credit(void **state)
{
    (void)state;
    /* LoRaMac-node's hourly credit: 3600 s, each packet costing 100a =
     * 11.8016 s of it. A fresh device sends at the windows' pace while the
     * credit lasts; packet k may start only once k + 1 costs fit in 3600 s
     * plus the time since t = 0: t_k >= (k + 1) 100a - 3600. */
    const double a = TOA_SF7_64, mac = a + 2 + RX2_EU, cost = 100 * a;
    enum { N = 1500 };
    static double t[N];
    starts(NULL, "credit", N, t, 5);
    for (size_t i = 0; i < 10; i++)
        assert_near(t[i], (double)i * mac, 1e-9);
    for (size_t k = 0; k < N; k++)
        assert_true(t[k] >= (double)(k + 1) * cost - 3600 - 1e-6);
    /* Once paced, it is exactly on that bound. */
    assert_near(t[N - 1], (double)N * cost - 3600, 1e-6);
    /* The per-transmission rule is slower at first, equal in the long run. */
    static double u[N];
    starts(NULL, NULL, N, u, 5);
    assert_true(t[400] < u[400] - 1000);
    assert_near(u[N - 1] - u[N - 2], t[N - 1] - t[N - 2], 1e-6);
}

static void test_confirmed_uplinks(void **state)
{
    (void)state;
    const double a = TOA_SF7_64;
    /* Confirmed, received: the ACK in RX1 frees the device at
     * e + 1 s + ToA(ACK). */
    util_params p = params();
    tu_setb(&p, "confirmed", 1);
    tu_setn(&p, "retries", 3);
    tu_sets(&p, "duty_cycle", "none");
    chan *c = make(&p);
    chan_arrival *r = tu_send_n(c, 3, 51, 1, NULL);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r[i].attempts, 1);
        assert_near(r[i].t_start, (double)i * (a + 1 + ACK_SF7), 1e-9);
    }
    free(r);
    chan_destroy(c);
    /* Every attempt lost: 1 + 2 attempts, each failed one but the last
     * followed by both windows and ACK_TIMEOUT in [1, 3] s; the next packet
     * starts after the last attempt's windows. */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        p = params();
        tu_setb(&p, "confirmed", 1);
        tu_setn(&p, "retries", 2);
        tu_sets(&p, "duty_cycle", "none");
        tu_sets(&p, "loss.model", "independent");
        tu_setn(&p, "loss.p", 1);
        c = make(&p);
        chan_stats st;
        r = tu_send_n(c, 2, 51, seed, &st);
        assert_int_equal(r[0].attempts, 3);
        assert_false(r[0].arrived);
        assert_true(isinf(r[0].t_arrive));
        double fixed = 3 * a + 2 * (2 + RX2_EU);
        double first_end = r[1].t_start - 2 - RX2_EU;
        assert_true(first_end >= fixed + 2 - 1e-9 && first_end <= fixed + 6 + 1e-9);
        assert_near(st.airtime, 6 * a, 1e-9);
        assert_int_equal(st.attempts, 6);
        assert_int_equal(st.lost, 2);
        assert_int_equal(st.bytes_on_air, 6 * 64);
        free(r);
        chan_destroy(c);
    }
    /* Unconfirmed: one attempt whatever happens. */
    p = params();
    tu_sets(&p, "loss.model", "independent");
    tu_setn(&p, "loss.p", 1);
    c = make(&p);
    r = tu_send_n(c, 2, 51, 1, NULL);
    assert_int_equal(r[0].attempts, 1);
    assert_near(r[1].t_start, 100 * a, 1e-9);
    free(r);
    chan_destroy(c);
}

/* Fraction of streams of 8 packets in which every packet arrived, and of
 * streams in which none did. */
static void budget_outcome(util_params *p, size_t streams, double *all,
                           double *none)
{
    chan *c = make(p);
    size_t nall = 0, nnone = 0;
    for (size_t s = 0; s < streams; s++) {
        chan_arrival *r = tu_send_n(c, 8, 20, 1000 + s, NULL);
        size_t got = 0;
        for (size_t i = 0; i < 8; i++)
            got += (size_t)r[i].arrived;
        nall += got == 8;
        nnone += got == 0;
        free(r);
    }
    *all = (double)nall / (double)streams;
    *none = (double)nnone / (double)streams;
    chan_destroy(c);
}

static void test_link_budget_channel(void **state)
{
    (void)state;
    double all, none;
    /* No shadowing, hard threshold. 100 m: SNR = 14 - 135.687 + 117.031 =
     * -4.66 dB, above SF7's -7.5: everything arrives. 200 m: PL = 127.41 +
     * 20.8 log10(5) = 141.948, SNR = -10.92: SF7 loses everything, SF12
     * (-20) nothing. */
    struct { double d; int sf; double want; } pts[] = {
        {100, 7, 1}, {200, 7, 0}, {200, 12, 1},
    };
    for (size_t i = 0; i < 3; i++) {
        util_params p = params();
        tu_setn(&p, "sf", pts[i].sf);
        tu_sets(&p, "duty_cycle", "none");
        tu_setn(&p, "distance", pts[i].d);
        tu_setn(&p, "shadowing", 0);
        tu_setn(&p, "snr_width", 0);
        budget_outcome(&p, 20, &all, &none);
        assert_near(all, pts[i].want, 0);
        assert_near(none, 1 - pts[i].want, 0);
    }
    /* Where the mean SNR sits exactly on SF7's limit (PL = 14 + 117.0309 +
     * 7.5 = 138.5309 dB, d = 40 * 10^(11.1209 / 20.8) = 136.9 m), shadowing
     * drawn once per stream makes half the streams all-or-nothing each. */
    double d = 40 * pow(10, (14 - chan_lora_noise_floor(125e3, 6) + 7.5 -
                             127.41) / 20.8);
    util_params p = params();
    tu_sets(&p, "duty_cycle", "none");
    tu_setn(&p, "distance", d);
    tu_setn(&p, "snr_width", 0);
    const size_t n = 2000;
    budget_outcome(&p, n, &all, &none);
    assert_near(all + none, 1, 1e-12);
    assert_near(all, 0.5, Z999 * sqrt(0.25 / (double)n));
}

static void test_labels_and_determinism(void **state)
{
    (void)state;
    util_params p = params();
    chan *c = make(&p);
    assert_string_equal(chan_label(c), "lora-eu868-sf7bw125");
    assert_int_equal(chan_payload(c), 222);
    chan_destroy(c);
    p = params();
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "cr", 3);
    tu_sets(&p, "duty_cycle", "credit");
    tu_sets(&p, "frequencies", "868.1,869.525");
    tu_setb(&p, "confirmed", 1);
    tu_setn(&p, "retries", 2);
    tu_setn(&p, "distance", 300);
    tu_sets(&p, "loss.model", "independent");
    tu_setn(&p, "loss.p", 0.1);
    c = make(&p);
    assert_string_equal(chan_label(c), "lora-eu868-sf12bw125-cr4_7-dccredit-"
                        "f868.1_869.525-conf2-d300-iid0.1");
    chan_arrival *x = tu_send_n(c, 300, 51, 9, NULL);
    chan_arrival *y = tu_send_n(c, 300, 51, 9, NULL);
    chan_arrival *z = tu_send_n(c, 300, 51, 10, NULL);
    assert_memory_equal(x, y, 300 * sizeof *x);
    assert_true(memcmp(x, z, 300 * sizeof *x) != 0);
    free(x);
    free(y);
    free(z);
    chan_destroy(c);
}

static void test_parameter_errors(void **state)
{
    (void)state;
    struct { const char *key, *str; double num; const char *key2; double num2;
             const char *want; } cases[] = {
        {"sf", NULL, 6, NULL, 0, "sf: "},
        {"bw", NULL, 300, NULL, 0, "bw: expected 125, 250 or 500"},
        {"bw", NULL, 500, NULL, 0, "sf: SF7 at 500 kHz is not a EU868 data rate"},
        {"dr", NULL, 7, NULL, 0, "dr: "},
        {"dr", NULL, 3, "sf", 9, "dr: give either dr or sf and bw"},
        {"cr", NULL, 5, NULL, 0, "cr: "},
        {"retries", NULL, 2, NULL, 0, "retries: retransmissions need confirmed"},
        {"retries", NULL, 8, NULL, 0, "retries: "},
        {"frequencies", "868.65", 0, NULL, 0, "frequencies: 868.65 MHz is in no"},
        {"frequencies", "868.1;868.3", 0, NULL, 0, "frequencies: expected MHz"},
        {"duty_cycle", "hourly", 0, NULL, 0, "duty_cycle: "},
        {"ldro", "maybe", 0, NULL, 0, "ldro: "},
        {"tx_power", NULL, 20, NULL, 0, "tx_power: the link budget needs a distance"},
        {"distance", NULL, -1, NULL, 0, "distance: "},
        {"region", "as923", 0, NULL, 0, "region: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        util_params p = params();
        if (cases[i].str)
            tu_sets(&p, cases[i].key, cases[i].str);
        else
            tu_setn(&p, cases[i].key, cases[i].num);
        if (cases[i].key2)
            tu_setn(&p, cases[i].key2, cases[i].num2);
        expect_error(&p, cases[i].want, NULL);
    }
    util_params p = params();
    tu_sets(&p, "region", "us915");
    tu_sets(&p, "duty_cycle", "off_time");
    expect_error(&p, "duty_cycle: only for region \"eu868\"", "US915");
    p = params();
    tu_sets(&p, "region", "none");
    tu_setn(&p, "dr", 1);
    expect_error(&p, "dr: region \"none\" has no data rates", NULL);
    p = params();
    tu_setn(&p, "sf", 7);
    tu_setn(&p, "spreading", 7);
    expect_error(&p, "spreading", NULL);
    /* A packet costing more than the hour of credit could never go: SF12
     * with a 200-symbol preamble is on air for over (200 + 4.25) * 32.768 ms
     * = 6.69 s, i.e. 6693 s of credit at 0.1 %. */
    p = params();
    tu_setn(&p, "dr", 0);
    tu_setn(&p, "preamble", 200);
    tu_sets(&p, "duty_cycle", "credit");
    tu_sets(&p, "frequencies", "868.1,868.8");
    expect_error(&p, "frequencies: 868.8 MHz is in a 0.1 % sub-band", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_on_air),
        cmocka_unit_test(test_ldro_rule),
        cmocka_unit_test(test_link_budget_points),
        cmocka_unit_test(test_payload_per_dr),
        cmocka_unit_test(test_dwell_time),
        cmocka_unit_test(test_duty_cycle_sub_bands),
        cmocka_unit_test(test_duty_cycle_credit),
        cmocka_unit_test(test_confirmed_uplinks),
        cmocka_unit_test(test_link_budget_channel),
        cmocka_unit_test(test_labels_and_determinism),
        cmocka_unit_test(test_parameter_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
