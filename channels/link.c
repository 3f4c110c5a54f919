/*
 * doc: The generic link: a fixed bit rate, a payload size (MTU), per-packet
 * header bytes, a propagation delay, loss (channels/loss.h), a duty cycle
 * and optional stop-and-wait ARQ.
 *
 * Keys (defaults in brackets; the defaults are LoRa SF7/125 kHz-like:
 * 5470 bit/s, 51-byte EU868 DR0-DR2 payload, 13 bytes of LoRaWAN framing):
 *
 *   bitrate     bit/s, [1, 1e12]                          [5470]
 *   payload     largest payload per packet, bytes, 1..65535  [51]
 *   header      bytes added on air to every packet, >= 0  [13]
 *   delay       one-way propagation delay, s, [0, 1e6]    [0]
 *   duty_cycle  fraction of time the sender may be on air, [1e-6, 1]  [1]
 *   retries     ARQ retry limit, 0..1000; 0 = no ARQ      [0]
 *   loss.*      see channels/loss.h                       [no loss]
 *
 * Timing. A packet of len payload bytes is on air for
 *   a = (len + header) * 8 / bitrate.
 * The first attempt of the first packet starts at t = 0. After every
 * attempt the sender is silent for the duty-cycle off-time a * (1/d - 1),
 * the per-transmission rule the LoRa simulators use. A packet arrives at
 * the end of its successful attempt plus delay.
 *
 * ARQ (retries > 0) is stop-and-wait: after each attempt the sender waits
 * for the ACK, which would be back at end + 2 * delay, before it either
 * retries (ACK missing) or sends the next packet (ACK received); so the next
 * attempt starts at max(end + off-time, end + 2 * delay). A packet gets at
 * most 1 + retries attempts. Not modelled: the ACK's own airtime, ACK loss
 * (the ACK always gets through), and the receiver's duty cycle. Without ARQ
 * every packet is sent once and the sender never waits for the far end;
 * so is a packet that chan_transmit's retry excludes, under ARQ too.
 *
 * Each attempt, lost or not, costs airtime and duty-cycle time and steps the
 * loss model once.
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct link_cfg {
    double bitrate, delay, duty_cycle;
    size_t payload, header;
    long retries;
    chan_loss loss;
} link_cfg;

static int parse(util_params *p, link_cfg *c, util_err *err)
{
    long payload, header;
    if (util_params_num(p, "bitrate", 5470, 1, 1e12, &c->bitrate, err) ||
        util_params_int(p, "payload", 51, 1, 65535, &payload, err) ||
        util_params_int(p, "header", 13, 0, 65535, &header, err) ||
        util_params_num(p, "delay", 0, 0, 1e6, &c->delay, err) ||
        util_params_num(p, "duty_cycle", 1, 1e-6, 1, &c->duty_cycle, err) ||
        util_params_int(p, "retries", 0, 0, 1000, &c->retries, err) ||
        chan_loss_parse(p, &c->loss, err))
        return -1;
    c->payload = (size_t)payload;
    c->header = (size_t)header;
    return 0;
}

/* Only what differs from the defaults beyond rate and payload, so that the
 * common cases keep short labels: "link-5470bps-p51-dc0.01-iid0.1". */
static void make_label(const link_cfg *c, char *buf, size_t len)
{
    char num[32], part[160];
    size_t off = 0;
    chan_label_num(c->bitrate, num, sizeof num);
    util_appendf(buf, len, &off, "link-%sbps-p%zu", num, c->payload);
    if (c->header != 13)
        util_appendf(buf, len, &off, "-h%zu", c->header);
    if (c->delay > 0) {
        chan_label_num(c->delay, num, sizeof num);
        util_appendf(buf, len, &off, "-delay%s", num);
    }
    if (c->duty_cycle < 1) {
        chan_label_num(c->duty_cycle, num, sizeof num);
        util_appendf(buf, len, &off, "-dc%s", num);
    }
    if (c->retries > 0)
        util_appendf(buf, len, &off, "-arq%ld", c->retries);
    if (chan_loss_label(&c->loss, part, sizeof part) > 0)
        util_appendf(buf, len, &off, "-%s", part);
}

static int link_create(util_params *params, void **state, size_t *payload,
                       char *label, size_t label_len, util_err *err)
{
    link_cfg cfg;
    if (parse(params, &cfg, err))
        return -1;
    link_cfg *c = malloc(sizeof *c);
    if (!c)
        return util_errf(err, "link: out of memory");
    *c = cfg;
    *state = c;
    *payload = c->payload;
    make_label(c, label, label_len);
    return 0;
}

/* The sender's progress through one stream: lives on the stack of one
 * transmit call, so concurrent calls share nothing but the config. */
typedef struct link_run {
    double t;              /* earliest start of the next attempt */
    chan_loss_state loss;
} link_run;

/* One attempt of airtime a starting at run->t; returns 1 if it got
 * through and sets *end to when it left the air. arq: the packet is sent
 * under ARQ. */
static int attempt(const link_cfg *c, link_run *run, double a, int arq,
                   util_rng *rng, double *end)
{
    *end = run->t + a;
    double next = *end + a * (1.0 / c->duty_cycle - 1.0);
    /* Stop-and-wait: the outcome is known only when the ACK would be back. */
    if (arq && next < *end + 2 * c->delay)
        next = *end + 2 * c->delay;
    run->t = next;
    return !chan_loss_attempt(&c->loss, &run->loss, rng);
}

static void send_packet(const link_cfg *c, link_run *run, size_t len, int arq,
                        util_rng *rng, chan_arrival *out, chan_stats *st)
{
    double a = (double)(len + c->header) * 8.0 / c->bitrate;
    double end = run->t;
    long retries = arq ? c->retries : 0;
    out->arrived = 0;
    out->attempts = 0;
    out->t_start = run->t;
    out->t_arrive = INFINITY;
    while (!out->arrived && out->attempts <= retries) {
        out->arrived = attempt(c, run, a, arq, rng, &end);
        out->attempts++;
        st->airtime += a;
        st->bytes_on_air += len + c->header;
        st->attempts++;
    }
    st->t_end = end;
    if (out->arrived)
        out->t_arrive = end + c->delay;
    else
        st->lost++;
}

static int link_transmit(const void *state, const size_t *len,
                         const uint8_t *retry, size_t n, util_rng *rng,
                         chan_arrival *out, chan_stats *stats, util_err *err)
{
    (void)err;
    const link_cfg *c = state;
    link_run run = {0};
    chan_loss_start(&c->loss, &run.loss, rng);
    *stats = (chan_stats){0};
    for (size_t i = 0; i < n; i++)
        send_packet(c, &run, len[i], c->retries > 0 && (!retry || retry[i]), rng,
                    &out[i], stats);
    return 0;
}

static int link_arq(const void *state)
{
    return ((const link_cfg *)state)->retries > 0;
}

static void link_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_link_vtable = {
    .name = "link",
    .create = link_create,
    .transmit = link_transmit,
    .destroy = link_destroy,
    .arq = link_arq,
};
