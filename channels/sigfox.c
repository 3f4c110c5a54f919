/*
 * doc: Sigfox uplinks: ultra-narrow-band DBPSK at a fixed bit rate, at most
 * 12 bytes per message, every message sent as up to 3 frames
 * (repetitions) and a daily message allowance.
 *
 * Keys (defaults in brackets):
 *
 *   bitrate           bit/s on air: 100 (RC1, Europe) or 600 (RC2/RC4) [100]
 *   payload           largest payload per message, bytes, 1..12   [12]
 *   header_bits       frame bits besides the payload, >= 0         [112]
 *   repetitions       frames per message, 1..3                     [3]
 *   gap               silence between a message's frames, s        [0.5]
 *   messages_per_day  allowance; messages start 86400/N s apart;
 *                     0 = no pacing                                 [140]
 *   delay             base station to application latency, s       [0]
 *   loss.*            per frame, see channels/loss.h               [none]
 *
 * Sources. The uplink frame (ETSI GS LTN 003; RFC 8376, section 2.3):
 * preamble 19 bits, frame sync 29, device ID 32, payload 0..96, message
 * authentication code 16..40, FCS 16; with the shortest MAC that is 112
 * bits besides the payload, so a 12-byte message is 208 bits = 2.08 s per
 * frame at 100 bit/s and 6.24 s for three frames. The 140 messages a day
 * are the largest subscription (Sigfox "Platinum"); they are also what the
 * ETSI EN 300 220 1 % duty cycle of the 868.0-868.6 MHz band allows:
 * 140 x 6.24 s = 874 s, 1 % of a day. Pacing them evenly (one message every
 * 617 s) is therefore both rules at once. The gap between repetitions is
 * an assumption (the radio specification leaves it to the device within
 * limits); set it to what your modem does.
 *
 * A message arrives at the end of its first frame that gets through (the
 * network deduplicates the others) plus delay; it is lost only if every
 * frame is. Each frame steps the loss model once. Sigfox's optional
 * downlink (4 a day) is not modelled.
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"

#include <math.h>
#include <stdlib.h>

#define SIGFOX_DAY 86400.0

typedef struct sigfox_cfg {
    double bitrate, gap, spacing, delay;
    size_t payload;
    long header_bits, repetitions, per_day;
    chan_loss loss;
} sigfox_cfg;

static int sigfox_create(util_params *p, void **state, size_t *payload,
                         char *label, size_t label_len, util_err *err)
{
    sigfox_cfg c;
    long pl;
    if (util_params_num(p, "bitrate", 100, 1, 1e6, &c.bitrate, err) ||
        util_params_int(p, "payload", 12, 1, 12, &pl, err) ||
        util_params_int(p, "header_bits", 112, 0, 10000, &c.header_bits, err) ||
        util_params_int(p, "repetitions", 3, 1, 3, &c.repetitions, err) ||
        util_params_num(p, "gap", 0.5, 0, 60, &c.gap, err) ||
        util_params_int(p, "messages_per_day", 140, 0, 1000000, &c.per_day,
                        err) ||
        util_params_num(p, "delay", 0, 0, 1e6, &c.delay, err) ||
        chan_loss_parse(p, &c.loss, err))
        return -1;
    c.payload = (size_t)pl;
    c.spacing = c.per_day ? SIGFOX_DAY / (double)c.per_day : 0;
    sigfox_cfg *s = malloc(sizeof *s);
    if (!s)
        return util_errf(err, "sigfox: out of memory");
    *s = c;
    *state = s;
    *payload = c.payload;
    char num[32], part[160];
    size_t off = 0;
    chan_label_num(c.bitrate, num, sizeof num);
    util_appendf(label, label_len, &off, "sigfox-%sbps-p%zu-r%ld-%ldpd",
                 num, c.payload, c.repetitions, c.per_day);
    if (c.header_bits != 112)
        util_appendf(label, label_len, &off, "-hb%ld", c.header_bits);
    if (c.gap != 0.5) {
        chan_label_num(c.gap, num, sizeof num);
        util_appendf(label, label_len, &off, "-gap%s", num);
    }
    if (c.delay > 0) {
        chan_label_num(c.delay, num, sizeof num);
        util_appendf(label, label_len, &off, "-delay%s", num);
    }
    if (chan_loss_label(&c.loss, part, sizeof part) > 0)
        util_appendf(label, label_len, &off, "-%s", part);
    return 0;
}

static int sigfox_transmit(const void *state, const size_t *len,
                           const uint8_t *retry, size_t n, util_rng *rng,
                           chan_arrival *out, chan_stats *st, util_err *err)
{
    (void)err;
    (void)retry; /* its repetitions are blind: no ARQ */
    const sigfox_cfg *c = state;
    chan_loss_state ls;
    chan_loss_start(&c->loss, &ls, rng);
    *st = (chan_stats){0};
    double t = 0;
    for (size_t i = 0; i < n; i++) {
        double a = ((double)c->header_bits + 8.0 * (double)len[i]) / c->bitrate;
        double start = fmax(t, (double)i * c->spacing), end = start;
        out[i] = (chan_arrival){.t_start = start, .t_arrive = INFINITY};
        for (long r = 0; r < c->repetitions; r++) {
            double s = start + (double)r * (a + c->gap);
            end = s + a;
            int lost = chan_loss_attempt(&c->loss, &ls, rng);
            if (!lost && !out[i].arrived) {
                out[i].arrived = 1;
                out[i].t_arrive = end + c->delay;
            }
            out[i].attempts++;
            st->airtime += a;
            st->bytes_on_air += len[i] + (size_t)(c->header_bits + 7) / 8;
            st->attempts++;
        }
        st->t_end = end;
        st->lost += !out[i].arrived;
        t = end;
    }
    return 0;
}

static void sigfox_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_sigfox_vtable = {
    .name = "sigfox",
    .create = sigfox_create,
    .transmit = sigfox_transmit,
    .destroy = sigfox_destroy,
};
