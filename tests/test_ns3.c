/* The ns-3 backend (channels/ns3/): point-to-point timing worked by hand,
 * lr-wpan near and far, its timing against the ieee802154 model's rules,
 * determinism whatever ran before, concurrent callers, and bad parameters
 * refused before ns-3 sees them (ns-3 would end the process).
 *
 * Built without ns-3, the ns-3 tests are skipped (cmocka's skip, counted
 * by scripts/run-tests.sh) with a printed reason, and one test checks that
 * asking for an ns-3 model says ns-3 was not found at build time. */
#include "tests/testutil.h"
#include "tests/chanutil.h"

#include <math.h>
#include <pthread.h>

#include "channels/chan.h"
#ifdef LIMITNET_NS3
#include "channels/ns3/ns3shim.h"
#endif

#define Z999 3.29
#define US 1e-6

#ifndef LIMITNET_NS3
#define NEED_NS3()                                                          \
    do {                                                                    \
        print_message("skipped: ns-3 not found at build time\n");           \
        skip();                                                             \
    } while (0)
#else
#define NEED_NS3() ((void)0)
#endif

static chan *make(const char *model, const char *const *keys,
                  const double *vals, size_t n)
{
    util_params p;
    util_params_init(&p);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(util_params_set_num(&p, keys[i], vals[i], NULL), 0);
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create(model, &p, &c, &err))
        fail_msg("chan_create(%s): %s", model, err.msg);
    return c;
}

static chan *lrwpan(const char *model, double distance)
{
    const char *k[] = {"distance"};
    return make(model, k, &distance, 1);
}

static void expect_create_error(const char *model, const char *key, double v,
                                const char *prefix)
{
    util_params p;
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, key, v, NULL), 0);
    chan *c = NULL;
    util_err err = {{0}};
    assert_int_equal(chan_create(model, &p, &c, &err), -1);
    assert_null(c);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", prefix, err.msg);
}

/* Whether or not ns-3 is built in, asking for its models has a clear
 * answer: a channel, or an error that names the reason. */
static void test_models_present_or_explained(void **state)
{
    (void)state;
    util_params p;
    util_params_init(&p);
    chan *c = NULL;
    util_err err = {{0}};
    int rc = chan_create("ns3_lrwpan", &p, &c, &err);
#ifdef LIMITNET_NS3
    assert_int_equal(rc, 0);
    assert_string_equal(chan_label(c), "ns3lrwpan-10m-0dBm-p116-arq3");
    assert_int_equal(chan_payload(c), 116);
    chan_destroy(c);
#else
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "ns-3, which was not found at build time"));
#endif
}

/* 98-byte packets + 2-byte PPP header at 8000 bit/s: 0.1 s each, back to
 * back; delay 0.05 s. Packet i starts at 0.1 i and arrives at
 * 0.1 (i + 1) + 0.05. ns-3 keeps time in whole nanoseconds. */
static void test_p2p_timing(void **state)
{
    (void)state;
    NEED_NS3();
    const char *k[] = {"bitrate", "delay", "payload"};
    const double v[] = {8000, 0.05, 100};
    chan *c = make("ns3_p2p", k, v, 3);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 3, 98, 1, &st);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a[i].arrived, 1);
        assert_int_equal(a[i].attempts, 1);
        assert_near(a[i].t_start, 0.1 * i, 1e-8);
        assert_near(a[i].t_arrive, 0.1 * (i + 1) + 0.05, 1e-8);
    }
    assert_near(st.airtime, 0.3, 1e-12);
    assert_near(st.t_end, 0.3, 1e-8);
    assert_int_equal(st.bytes_on_air, 300);
    assert_int_equal(st.attempts, 3);
    assert_int_equal(st.lost, 0);
    free(a);
    chan_destroy(c);
}

/* RateErrorModel with a per-packet rate of 0.3 over 3000 packets; all lost
 * at rate 1. */
static void test_p2p_loss(void **state)
{
    (void)state;
    NEED_NS3();
    const char *k[] = {"bitrate", "loss"};
    double v[] = {1e6, 0.3};
    chan *c = make("ns3_p2p", k, v, 2);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 3000, 51, 2, &st);
    assert_near((double)st.lost / 3000, 0.3, Z999 * sqrt(0.3 * 0.7 / 3000));
    free(a);
    chan_destroy(c);
    v[1] = 1;
    c = make("ns3_p2p", k, v, 2);
    a = tu_send_n(c, 10, 51, 2, &st);
    assert_int_equal(st.lost, 10);
    free(a);
    chan_destroy(c);
}

/* At 10 m (SNR 30 dB) everything arrives at the first attempt, with the
 * timing rules of channels/ieee802154.c: arrival = backoff (0..7 x 320 us)
 * + 320 us + frame (117 bytes: 3744 us) + 10 m / c after t_start; the next
 * packet is taken up 544 us + 10 m / c (ACK) + 640 us (LIFS) after. */
static void test_lrwpan_near(void **state)
{
    (void)state;
    NEED_NS3();
    double delay = 10.0 / 299792458.0;
    chan *c = lrwpan("ns3_lrwpan", 10);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 40, 100, 3, &st);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(a[i].arrived, 1);
        assert_int_equal(a[i].attempts, 1);
        double k = (a[i].t_arrive - a[i].t_start - delay - 4064 * US) /
                   (320 * US);
        assert_near(k, round(k), 1e-4);
        assert_true(round(k) >= 0 && round(k) <= 7);
        if (i > 0)
            assert_near(a[i].t_start,
                        a[i - 1].t_arrive + delay + 1184 * US, 1e-8);
    }
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.attempts, 40);
    assert_near(st.airtime, 40 * 3744 * US, 1e-12);
    assert_int_equal(st.bytes_on_air, 40 * 117);
    free(a);
    chan_destroy(c);
}

/* At 1000 m nothing gets through: 4 attempts each (3 retries). */
static void test_lrwpan_far(void **state)
{
    (void)state;
    NEED_NS3();
    chan *c = lrwpan("ns3_lrwpan", 1000);
    chan_stats st;
    chan_arrival *a = tu_send_n(c, 10, 50, 4, &st);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(a[i].arrived, 0);
        assert_int_equal(a[i].attempts, 4);
        assert_true(isinf(a[i].t_arrive));
    }
    assert_int_equal(st.lost, 10);
    assert_int_equal(st.attempts, 40);
    free(a);
    chan_destroy(c);
}

/* Same generator state, same arrivals, even after other simulations ran
 * in between (ns-3 would otherwise number its random streams on). */
static void test_lrwpan_deterministic(void **state)
{
    (void)state;
    NEED_NS3();
    chan *c = lrwpan("ns3_lrwpan", 108);
    chan *other = lrwpan("ns3_lrwpan", 50);
    chan_arrival *a = tu_send_n(c, 100, 100, 5, NULL);
    free(tu_send_n(other, 30, 20, 6, NULL));
    chan_arrival *b = tu_send_n(c, 100, 100, 5, NULL);
    chan_arrival *d = tu_send_n(c, 100, 100, 7, NULL);
    assert_memory_equal(a, b, 100 * sizeof *a);
    assert_true(memcmp(a, d, 100 * sizeof *a) != 0);
    free(a);
    free(b);
    free(d);
    chan_destroy(c);
    chan_destroy(other);
}

typedef struct job {
    const chan *c;
    uint64_t seed;
    chan_arrival *out;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    size_t lens[60];
    for (size_t i = 0; i < 60; i++)
        lens[i] = 100;
    util_rng rng;
    util_rng_seed(&rng, j->seed);
    util_err err;
    if (chan_transmit(j->c, lens, NULL, 60, &rng, j->out, NULL, &err))
        j->out = NULL;
    return NULL;
}

/* The runner calls chan_transmit from several threads; the shim's lock
 * makes that safe and the results equal to serial calls. */
static void test_concurrent_callers(void **state)
{
    (void)state;
    NEED_NS3();
    chan *c = lrwpan("ns3_lrwpan", 105);
    chan_arrival par[4][60];
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){c, 100 + (uint64_t)i, par[i]};
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_non_null(jobs[i].out);
        chan_arrival *serial = tu_send_n(c, 60, 100, 100 + (uint64_t)i, NULL);
        assert_memory_equal(serial, par[i], sizeof par[i]);
        free(serial);
    }
    chan_destroy(c);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    NEED_NS3();
    expect_create_error("ns3_lrwpan", "distance", 1, "distance:");
    expect_create_error("ns3_lrwpan", "payload", 117, "payload:");
    expect_create_error("ns3_lrwpan", "retries", 8, "retries:");
    expect_create_error("ns3_lrwpan", "tx_power", -41, "tx_power:");
    expect_create_error("ns3_p2p", "bitrate", 1.5, "bitrate:");
    expect_create_error("ns3_p2p", "loss", 1.5, "loss:");
    expect_create_error("ns3_p2p", "delay", -1, "delay:");
    expect_create_error("ns3_p2p", "bogus", 1, "bogus");
#ifdef LIMITNET_NS3
    /* The shim checks what reaches it directly, too. */
    size_t len[2] = {10, 0};
    chan_arrival out[2];
    chan_stats st;
    util_err err = {{0}};
    chan_ns3_seed seed = {1, 0};
    chan_ns3_lrwpan_cfg lr = {0.5, 0, 3, 1};
    assert_int_equal(chan_ns3_lrwpan_run(&lr, seed, len, NULL, 1, out, &st, &err),
                     -1);
    assert_non_null(strstr(err.msg, "distance"));
    lr.distance = 10;
    lr.retries = 9;
    assert_int_equal(chan_ns3_lrwpan_run(&lr, seed, len, NULL, 1, out, &st, &err),
                     -1);
    assert_non_null(strstr(err.msg, "retries"));
    lr.retries = 3;
    assert_int_equal(chan_ns3_lrwpan_run(&lr, seed, len, NULL, 2, out, &st, &err),
                     -1);
    assert_non_null(strstr(err.msg, "packet 1: 0 bytes"));
    len[1] = 117;
    assert_int_equal(chan_ns3_lrwpan_run(&lr, seed, len, NULL, 2, out, &st, &err),
                     -1);
    assert_non_null(strstr(err.msg, "packet 1: 117 bytes"));
    seed.seed = 0;
    assert_int_equal(chan_ns3_lrwpan_run(&lr, seed, len, NULL, 1, out, &st, &err),
                     -1);
    chan_ns3_p2p_cfg p2p = {0, 0, 0};
    seed.seed = 1;
    assert_int_equal(chan_ns3_p2p_run(&p2p, seed, len, 1, out, &st, &err),
                     -1);
    assert_non_null(strstr(err.msg, "bitrate"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_present_or_explained),
        cmocka_unit_test(test_p2p_timing),
        cmocka_unit_test(test_p2p_loss),
        cmocka_unit_test(test_lrwpan_near),
        cmocka_unit_test(test_lrwpan_far),
        cmocka_unit_test(test_lrwpan_deterministic),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
