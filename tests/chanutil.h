/*
 * Helpers shared by the channel tests: include after testutil.h.
 */
#ifndef TESTS_CHANUTIL_H
#define TESTS_CHANUTIL_H

#include <math.h>

#include "channels/chan.h"
#include "util/util.h"

#define assert_near(a, b, eps)                                              \
    do {                                                                    \
        double a_ = (a), b_ = (b), e_ = (eps);                              \
        if (!(fabs(a_ - b_) <= e_))                                         \
            fail_msg("%s = %.17g, expected %.17g +- %g", #a, a_, b_, e_);   \
    } while (0)

static inline void tu_setn(util_params *p, const char *key, double v)
{
    assert_int_equal(util_params_set_num(p, key, v, NULL), 0);
}

static inline void tu_sets(util_params *p, const char *key, const char *v)
{
    assert_int_equal(util_params_set_str(p, key, v, NULL), 0);
}

static inline void tu_setb(util_params *p, const char *key, int v)
{
    assert_int_equal(util_params_set_bool(p, key, v, NULL), 0);
}

/* Sends n packets of len bytes with the given seed; returns the arrivals
 * (free them). */
static inline chan_arrival *tu_send_n(const chan *c, size_t n, size_t len,
                                      uint64_t seed, chan_stats *st)
{
    size_t *lens = malloc(n * sizeof *lens);
    chan_arrival *out = malloc(n * sizeof *out);
    assert_non_null(lens);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        lens[i] = len;
    util_rng rng;
    util_rng_seed(&rng, seed);
    util_err err = {{0}};
    if (chan_transmit(c, lens, NULL, n, &rng, out, st, &err))
        fail_msg("chan_transmit: %s", err.msg);
    free(lens);
    return out;
}

#endif
