/* The ieee802154 channel model: CSMA/CA and ACK timing against
 * hand-computed values, retries, the link budget and PER formula at
 * hand-computed points, loss statistics, determinism, parameter errors.
 *
 * Times used below (channels/ieee802154.c; symbol 16 us, byte 32 us):
 *   100-byte payload frame: 6 + 11 + 100 = 117 bytes = 3744 us
 *   5-byte payload frame:   6 + 11 + 5 = 22 bytes = 704 us
 *   unit backoff 320 us; CCA 128 us + turnaround 192 us = 320 us
 *   ACK 11 bytes = 352 us; ACK back 192 + 352 = 544 us after the frame
 *   ACK wait 864 us; SIFS 192 us (MPDU <= 18 bytes); LIFS 640 us
 *   propagation over 10 m: 10 / 299792458 = 33.356409519815 ns
 * Hand values of the physics were worked with bc -l from the formulas in
 * channels/ieee802154.c:
 *   noise 10 log10(1.3803e-23 * 290 * 5e6 * 1e3) = -106.986585097806 dBm
 *   SNR at 100 m, 0 dBm: 0 - (46.6777 + 30 log10 100) + 106.986585...
 *                        = 0.308885097806 dB
 *   BER(SNR 1 = 0 dB)    = 1.61526687923e-4; PER(936 bits) = 0.140325278193
 *   BER(1 dB)            = 1.2911866265e-5;  PER(936 bits) = 0.012012847487
 *   at 100 m: PER(936) = 0.071336531241, PER(88) = 0.006933946141
 *   at 105 m: SNR -0.326793874292 dB, PER(936) = 0.261930811720,
 *             PER(88) = 0.028150824967 */
#include "tests/testutil.h"
#include "tests/chanutil.h"

#include <math.h>

#include "channels/chan.h"
#include "channels/ieee802154.h"

#define Z999 3.29
#define US 1e-6
#define DELAY10 (10.0 / 299792458.0)

static chan *make(double distance, size_t payload, int ack, long retries)
{
    util_params p;
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "distance", distance, NULL), 0);
    assert_int_equal(util_params_set_num(&p, "payload", (double)payload, NULL),
                     0);
    assert_int_equal(util_params_set_bool(&p, "ack", ack, NULL), 0);
    assert_int_equal(util_params_set_num(&p, "retries", (double)retries, NULL),
                     0);
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create("ieee802154", &p, &c, &err))
        fail_msg("chan_create: %s", err.msg);
    return c;
}

/* x is k * 320 us for a whole k in [lo, hi]. */
static void assert_backoffs(double x, int lo, int hi)
{
    double k = x / (320 * US);
    if (fabs(k - round(k)) > 1e-6 || round(k) < lo || round(k) > hi)
        fail_msg("%.9g s is not a whole number of backoffs in %d..%d", x, lo,
                 hi);
}

/* At 10 m (SNR 30 dB) nothing is lost. Each packet: backoff (0..7 units)
 * + 320 us CCA and turnaround + 3744 us frame, arriving 33 ns later; the
 * next is taken up when the ACK is back (544 us + 33 ns after the arrival)
 * plus LIFS 640 us. */
static void test_timing_with_ack(void **state)
{
    (void)state;
    chan *c = make(10, 116, 1, 3);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 50, 100, 1, &st);
    assert_near(a[0].t_start, 0, 0);
    for (size_t i = 0; i < 50; i++) {
        assert_int_equal(a[i].arrived, 1);
        assert_int_equal(a[i].attempts, 1);
        assert_backoffs(a[i].t_arrive - a[i].t_start - DELAY10 - 4064 * US, 0,
                        7);
        if (i > 0)
            assert_near(a[i].t_start,
                        a[i - 1].t_arrive + DELAY10 + 544 * US + 640 * US,
                        1e-12);
    }
    assert_near(st.t_end, a[49].t_arrive + DELAY10 + 544 * US, 1e-12);
    assert_near(st.airtime, 50 * 3744 * US, 1e-12);
    assert_int_equal(st.bytes_on_air, 50 * 117);
    assert_int_equal(st.attempts, 50);
    assert_int_equal(st.lost, 0);
    free(a);
    chan_destroy(c);
}

/* 7-byte payloads make an 18-byte MPDU: SIFS (192 us); 8 bytes: LIFS. */
static void test_sifs_lifs(void **state)
{
    (void)state;
    chan *c = make(10, 116, 1, 3);
    chan_arrival *a = tu_send_n(c, 2, 7, 2, NULL);
    assert_near(a[1].t_start, a[0].t_arrive + DELAY10 + 544 * US + 192 * US,
                1e-12);
    free(a);
    a = tu_send_n(c, 2, 8, 2, NULL);
    assert_near(a[1].t_start, a[0].t_arrive + DELAY10 + 544 * US + 640 * US,
                1e-12);
    free(a);
    chan_destroy(c);
}

/* At 1000 m the SNR is -29.7 dB, below the -5 dB sync floor: every attempt
 * is lost. With 3 retries a packet takes 4 attempts of backoff + 320 us +
 * 704 us + 864 us ACK wait = 1888 us + backoff, and the next starts at
 * once (no IFS after a failure). Without ACK: one attempt, then SIFS. */
static void test_retries_when_out_of_range(void **state)
{
    (void)state;
    chan *c = make(1000, 116, 1, 3);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 20, 5, 3, &st);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(a[i].arrived, 0);
        assert_int_equal(a[i].attempts, 4);
        assert_true(isinf(a[i].t_arrive));
        if (i > 0)
            assert_backoffs(a[i].t_start - a[i - 1].t_start - 4 * 1888 * US,
                            0, 28);
    }
    assert_int_equal(st.lost, 20);
    assert_int_equal(st.attempts, 80);
    assert_near(st.airtime, 80 * 704 * US, 1e-12);
    free(a);
    chan_destroy(c);

    c = make(1000, 116, 0, 3);
    a = tu_send_n(c, 20, 5, 3, &st);
    for (size_t i = 1; i < 20; i++) {
        assert_int_equal(a[i].attempts, 1);
        assert_backoffs(a[i].t_start - a[i - 1].t_start - 1024 * US -
                        192 * US, 0, 7);
    }
    assert_near(st.t_end, a[19].t_start + 1024 * US, 7 * 320 * US + 1e-12);
    free(a);
    chan_destroy(c);

    c = make(1000, 116, 1, 0);
    a = tu_send_n(c, 5, 5, 3, NULL);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(a[i].attempts, 1);
    free(a);
    chan_destroy(c);
}

static void test_physics_points(void **state)
{
    (void)state;
    assert_near(chan_ieee802154_snr_db(100, 0, 3, 0), 0.308885097806, 1e-9);
    assert_near(chan_ieee802154_snr_db(100, 4, 3, 2), 2.308885097806, 1e-9);
    assert_near(chan_ieee802154_ber(1.0), 1.61526687923e-4, 1e-14);
    assert_near(chan_ieee802154_per(0.0, 936), 0.140325278193, 1e-9);
    assert_near(chan_ieee802154_per(1.0, 936), 0.012012847487, 1e-9);
    double s100 = chan_ieee802154_snr_db(100, 0, 3, 0);
    assert_near(chan_ieee802154_per(s100, 936), 0.071336531241, 1e-9);
    assert_near(chan_ieee802154_per(s100, 88), 0.006933946141, 1e-9);
    /* ns-3 does not even synchronise to a frame at or below -5 dB. */
    assert_near(chan_ieee802154_per(-5.0, 8), 1.0, 0);
    assert_true(chan_ieee802154_per(-4.9, 8) < 1.0);
    /* At high SNR the alternating sum cancels to about 0: no loss. */
    assert_near(chan_ieee802154_per(30, 1016), 0, 1e-12);
}

/* Without ACK each packet is sent once: the delivered fraction estimates
 * 1 - PER(936 bits) = 0.928663468759 at 100 m. */
static void test_loss_rate_no_ack(void **state)
{
    (void)state;
    const size_t n = 20000;
    chan *c = make(100, 116, 0, 3);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, n, 100, 4, &st);
    double p = 0.071336531241;
    double lost = (double)st.lost / (double)n;
    assert_near(lost, p, Z999 * sqrt(p * (1 - p) / (double)n));
    free(a);
    chan_destroy(c);
}

/* With ACKs an attempt succeeds only if the frame and its ACK both get
 * through: P(one attempt) = (1 - 0.261930811720)(1 - 0.028150824967)
 * = 0.717291813357 at 105 m. A packet whose ACK was lost still arrived on
 * its first attempt, so arrivals on attempt 1 are more frequent than
 * single-attempt packets: 1 - 0.261930811720 = 0.738069188280. */
static void test_ack_loss_at_105m(void **state)
{
    (void)state;
    const size_t n = 20000;
    chan *c = make(105, 116, 1, 3);
    chan_arrival *a = tu_send_n(c, n, 100, 5, NULL);
    size_t one = 0, first_arrival = 0;
    for (size_t i = 0; i < n; i++) {
        one += a[i].attempts == 1;
        /* Arrived within its first attempt: at most 7 backoffs + 320 us +
         * 3744 us = 6304 us in; a second attempt arrives at least
         * 320 + 3744 + 864 + 320 + 3744 = 8992 us in. */
        first_arrival += a[i].arrived &&
                         a[i].t_arrive - a[i].t_start < 7000 * US;
    }
    double p1 = 0.717291813357, pa = 0.738069188280;
    assert_near((double)one / (double)n, p1,
                Z999 * sqrt(p1 * (1 - p1) / (double)n));
    assert_near((double)first_arrival / (double)n, pa,
                Z999 * sqrt(pa * (1 - pa) / (double)n));
    free(a);
    chan_destroy(c);
}

static void test_deterministic(void **state)
{
    (void)state;
    chan *c = make(108, 116, 1, 3);
    chan_arrival *a = tu_send_n(c, 300, 80, 9, NULL);
    chan_arrival *b = tu_send_n(c, 300, 80, 9, NULL);
    chan_arrival *d = tu_send_n(c, 300, 80, 10, NULL);
    assert_memory_equal(a, b, 300 * sizeof *a);
    assert_true(memcmp(a, d, 300 * sizeof *a) != 0);
    free(a);
    free(b);
    free(d);
    chan_destroy(c);
}

static void expect_error(const char *key, double v, const char *prefix)
{
    util_params p;
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, key, v, NULL), 0);
    chan *c = NULL;
    util_err err = {{0}};
    assert_int_equal(chan_create("ieee802154", &p, &c, &err), -1);
    assert_null(c);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", prefix, err.msg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("distance", 1, "distance:");
    expect_error("distance", 0.5, "distance:");
    expect_error("payload", 117, "payload:");
    expect_error("retries", 8, "retries:");
    expect_error("tx_power", 31, "tx_power:");
    expect_error("bogus", 1, "bogus");

    chan *c = make(10, 50, 1, 3);
    size_t len = 51;
    chan_arrival out;
    util_rng rng;
    util_rng_seed(&rng, 1);
    util_err err = {{0}};
    assert_int_equal(chan_transmit(c, &len, NULL, 1, &rng, &out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "payload size of 50"));
    chan_destroy(c);
}

static void test_label(void **state)
{
    (void)state;
    chan *c = make(100, 116, 1, 3);
    assert_string_equal(chan_label(c), "ieee802154-100m-0dBm-p116-arq3");
    assert_int_equal(chan_payload(c), 116);
    chan_destroy(c);
    c = make(95.5, 51, 0, 3);
    assert_string_equal(chan_label(c), "ieee802154-95.5m-0dBm-p51-noack");
    chan_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timing_with_ack),
        cmocka_unit_test(test_sifs_lifs),
        cmocka_unit_test(test_retries_when_out_of_range),
        cmocka_unit_test(test_physics_points),
        cmocka_unit_test(test_loss_rate_no_ack),
        cmocka_unit_test(test_ack_loss_at_105m),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
