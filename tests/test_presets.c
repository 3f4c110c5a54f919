/* The Sigfox and NB-IoT presets: defaults, timing worked by hand, loss
 * across repetitions, payload limits and parameter errors. */
#include "tests/testutil.h"
#include "tests/chanutil.h"

#include <math.h>

#include "channels/chan.h"

static chan *make(const char *model, util_params *p)
{
    chan *c = NULL;
    util_err err = {{0}};
    if (chan_create(model, p, &c, &err) != 0)
        fail_msg("chan_create: %s", err.msg);
    return c;
}

static void expect_error(const char *model, util_params *p, const char *prefix)
{
    chan *c = NULL;
    util_err err = {{0}};
    assert_int_equal(chan_create(model, p, &c, &err), -1);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected \"%s...\", got \"%s\"", prefix, err.msg);
}

static void transmit(const chan *c, const size_t *lens, size_t n,
                     uint64_t seed, chan_arrival *out, chan_stats *st)
{
    util_rng rng;
    util_rng_seed(&rng, seed);
    util_err err = {{0}};
    assert_int_equal(chan_transmit(c, lens, NULL, n, &rng, out, st, &err), 0);
}

static void test_sigfox_timing(void **state)
{
    (void)state;
    util_params p;
    util_params_init(&p);
    chan *c = make("sigfox", &p);
    assert_int_equal(chan_payload(c), 12);
    assert_string_equal(chan_label(c), "sigfox-100bps-p12-r3-140pd");
    /* 12 bytes: 112 + 96 = 208 bits = 2.08 s a frame; three frames with
     * 0.5 s gaps end at 7.24 s; messages start 86400 / 140 = 617.142857 s
     * apart. A 1-byte message: 120 bits = 1.2 s. */
    size_t lens[] = {12, 12, 1};
    chan_arrival out[3];
    chan_stats st;
    transmit(c, lens, 3, 1, out, &st);
    const double slot = 86400.0 / 140;
    for (size_t i = 0; i < 3; i++) {
        double a = (112 + 8.0 * (double)lens[i]) / 100;
        assert_int_equal(out[i].attempts, 3);
        assert_near(out[i].t_start, (double)i * slot, 1e-9);
        assert_near(out[i].t_arrive, (double)i * slot + a, 1e-9);
    }
    assert_near(st.airtime, 3 * (2.08 + 2.08 + 1.2), 1e-9);
    assert_near(st.t_end, 2 * slot + 3 * 1.2 + 1.0, 1e-9);
    /* 208 bits = 26 bytes on air per 12-byte frame, 15 per 1-byte frame. */
    assert_int_equal(st.bytes_on_air, 3 * (26 + 26 + 15));
    chan_destroy(c);
}

static void test_sigfox_repetitions(void **state)
{
    (void)state;
    /* With 50 % frame loss a message is lost only if all three frames are:
     * 1/8. It arrives at the end of its first good frame: 2.08, 4.66 or
     * 7.24 s after its start, with probabilities 1/2, 1/4, 1/8. */
    util_params p;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "loss.model", "independent", NULL), 0);
    assert_int_equal(util_params_set_num(&p, "loss.p", 0.5, NULL), 0);
    assert_int_equal(util_params_set_num(&p, "messages_per_day", 0, NULL), 0);
    chan *c = make("sigfox", &p);
    enum { N = 8000 };
    static size_t lens[N];
    static chan_arrival out[N];
    for (size_t i = 0; i < N; i++)
        lens[i] = 12;
    chan_stats st;
    transmit(c, lens, N, 4, out, &st);
    size_t when[3] = {0}, lost = 0;
    for (size_t i = 0; i < N; i++) {
        /* No pacing: messages follow each other back to back. */
        assert_near(out[i].t_start, (double)i * 7.24, 1e-6);
        if (!out[i].arrived) {
            lost++;
            continue;
        }
        double dt = out[i].t_arrive - out[i].t_start;
        int k = (int)lround((dt - 2.08) / 2.58);
        assert_near(dt, 2.08 + 2.58 * k, 1e-6);
        when[k]++;
    }
    const double want[] = {0.5, 0.25, 0.125};
    for (int k = 0; k < 3; k++)
        assert_near((double)when[k] / N, want[k],
                    3.29 * sqrt(want[k] * (1 - want[k]) / N));
    assert_near((double)lost / N, 0.125, 3.29 * sqrt(0.125 * 0.875 / N));
    assert_int_equal(st.lost, lost);
    chan_destroy(c);
}

static void test_nbiot_timing(void **state)
{
    (void)state;
    util_params p;
    util_params_init(&p);
    chan *c = make("nbiot", &p);
    assert_int_equal(chan_payload(c), 1472);
    assert_string_equal(chan_label(c), "nbiot-20000bps-p1472");
    /* (100 + 33) * 8 / 20000 = 53.2 ms and (1472 + 33) * 8 / 20000 =
     * 602 ms, starting after the 1.5 s set-up; 0.5 s latency each. */
    size_t lens[] = {100, 1472, 1};
    chan_arrival out[3];
    chan_stats st;
    transmit(c, lens, 3, 1, out, &st);
    assert_near(out[0].t_start, 1.5, 1e-12);
    assert_near(out[0].t_arrive, 1.5 + 0.0532 + 0.5, 1e-12);
    assert_near(out[1].t_start, 1.5532, 1e-12);
    assert_near(out[1].t_arrive, 1.5532 + 0.602 + 0.5, 1e-12);
    assert_near(out[2].t_start, 2.1552, 1e-12);
    assert_near(st.t_end, 2.1552 + 34 * 8 / 20000.0, 1e-12);
    assert_int_equal(st.bytes_on_air, 100 + 1472 + 1 + 3 * 33);
    chan_destroy(c);
}

static void test_preset_errors(void **state)
{
    (void)state;
    util_params p;
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "payload", 13, NULL), 0);
    expect_error("sigfox", &p, "payload: ");
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "repetitions", 4, NULL), 0);
    expect_error("sigfox", &p, "repetitions: ");
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "payload", 1601, NULL), 0);
    expect_error("nbiot", &p, "payload: ");
    util_params_init(&p);
    assert_int_equal(util_params_set_num(&p, "duty_cycle", 0.01, NULL), 0);
    expect_error("nbiot", &p, "duty_cycle");
    /* A packet over the payload size is misuse, refused by the interface. */
    util_params_init(&p);
    chan *c = make("sigfox", &p);
    size_t big = 13;
    chan_arrival out;
    util_rng rng;
    util_rng_seed(&rng, 1);
    util_err err = {{0}};
    assert_int_equal(chan_transmit(c, &big, NULL, 1, &rng, &out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "12 bytes"));
    chan_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigfox_timing),
        cmocka_unit_test(test_sigfox_repetitions),
        cmocka_unit_test(test_nbiot_timing),
        cmocka_unit_test(test_preset_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
