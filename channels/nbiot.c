/*
 * doc: NB-IoT (3GPP Rel-13 Cat-NB1) uplink as a preset: licensed spectrum,
 * so no duty cycle; tens of kbit/s; the radio link retransmits (HARQ, RLC
 * acknowledged mode), so little residual loss but a long latency; and a
 * connection set-up before the first packet.
 *
 * Keys (defaults in brackets):
 *
 *   bitrate   application-level uplink bit/s                   [20000]
 *   payload   largest payload per packet, bytes, 1..1600       [1472]
 *   header    bytes added to every packet                      [33]
 *   setup     time before the first packet can be sent, s      [1.5]
 *   delay     one-way latency of every packet, s               [0.5]
 *   loss.*    residual loss, see channels/loss.h               [none]
 *
 * Sources and reasoning. Cat-NB1's uplink peak is 62.5 kbit/s multi-tone
 * and about 16.9 kbit/s single-tone (3GPP TS 36.306; transport blocks of
 * at most 1000 bits); 20 kbit/s stands for a device in normal coverage
 * after scheduling gaps. The payload is what fits an IPv4 MTU of 1500 bytes
 * after IPv4 and UDP (20 + 8 bytes); PDCP SDUs may be 1600 bytes (TS
 * 36.323). The header is those 28 bytes plus about 5 of PDCP (1), RLC (2)
 * and MAC (2) headers. Latency: 3GPP TR 45.820 (section 7.3) targets 10 s
 * for a 105-byte exception report at the 164 dB coverage limit and
 * evaluates about 1-2 s in normal coverage, most of it the random access
 * and RRC connection set-up that `setup` stands for; `delay` is the rest
 * per packet (scheduling, HARQ rounds, core network). Deep coverage
 * (repetitions up to 128x) divides the rate and multiplies the latency:
 * set bitrate, setup and delay for your coverage class.
 *
 * Timing: packet i is on air for (len + header) * 8 / bitrate, the first
 * starting at setup and each following one as soon as the previous ended;
 * it arrives delay after its end unless loss.* loses it.
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"

#include <math.h>
#include <stdlib.h>

typedef struct nbiot_cfg {
    double bitrate, setup, delay;
    size_t payload, header;
    chan_loss loss;
} nbiot_cfg;

static void make_label(const nbiot_cfg *c, char *buf, size_t len)
{
    char num[32], part[160];
    size_t off = 0;
    chan_label_num(c->bitrate, num, sizeof num);
    util_appendf(buf, len, &off, "nbiot-%sbps-p%zu", num, c->payload);
    if (c->header != 33)
        util_appendf(buf, len, &off, "-h%zu", c->header);
    if (c->setup != 1.5) {
        chan_label_num(c->setup, num, sizeof num);
        util_appendf(buf, len, &off, "-setup%s", num);
    }
    if (c->delay != 0.5) {
        chan_label_num(c->delay, num, sizeof num);
        util_appendf(buf, len, &off, "-delay%s", num);
    }
    if (chan_loss_label(&c->loss, part, sizeof part) > 0)
        util_appendf(buf, len, &off, "-%s", part);
}

static int nbiot_create(util_params *p, void **state, size_t *payload,
                        char *label, size_t label_len, util_err *err)
{
    nbiot_cfg c;
    long pl, header;
    if (util_params_num(p, "bitrate", 20000, 1, 1e9, &c.bitrate, err) ||
        util_params_int(p, "payload", 1472, 1, 1600, &pl, err) ||
        util_params_int(p, "header", 33, 0, 65535, &header, err) ||
        util_params_num(p, "setup", 1.5, 0, 1e4, &c.setup, err) ||
        util_params_num(p, "delay", 0.5, 0, 1e4, &c.delay, err) ||
        chan_loss_parse(p, &c.loss, err))
        return -1;
    c.payload = (size_t)pl;
    c.header = (size_t)header;
    nbiot_cfg *s = malloc(sizeof *s);
    if (!s)
        return util_errf(err, "nbiot: out of memory");
    *s = c;
    *state = s;
    *payload = c.payload;
    make_label(&c, label, label_len);
    return 0;
}

static int nbiot_transmit(const void *state, const size_t *len,
                          const uint8_t *retry, size_t n, util_rng *rng,
                          chan_arrival *out, chan_stats *st, util_err *err)
{
    (void)err;
    (void)retry; /* no ARQ */
    const nbiot_cfg *c = state;
    chan_loss_state ls;
    chan_loss_start(&c->loss, &ls, rng);
    *st = (chan_stats){0};
    double t = c->setup;
    for (size_t i = 0; i < n; i++) {
        double a = (double)(len[i] + c->header) * 8.0 / c->bitrate;
        int lost = chan_loss_attempt(&c->loss, &ls, rng);
        out[i] = (chan_arrival){.arrived = !lost, .attempts = 1, .t_start = t,
                                .t_arrive = lost ? INFINITY : t + a + c->delay};
        t += a;
        st->airtime += a;
        st->bytes_on_air += len[i] + c->header;
        st->attempts++;
        st->lost += (size_t)lost;
    }
    st->t_end = n ? t : 0;
    return 0;
}

static void nbiot_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_nbiot_vtable = {
    .name = "nbiot",
    .create = nbiot_create,
    .transmit = nbiot_transmit,
    .destroy = nbiot_destroy,
};
