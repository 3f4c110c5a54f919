/*
 * doc: ns-3 as a second backend (ns-3 3.37, stock modules, through the C++
 * shim in channels/ns3/shim.cc). Registered only when the Makefile found
 * ns-3 with pkg-config; otherwise asking for these models is an error that
 * says so (channels/chan.c).
 *
 * Each chan_transmit runs one simulation: two nodes, the packets handed to
 * the sender's device at once (so they go out as fast as the device
 * allows), run to the end, then destroyed. ns-3's random numbers are seeded
 * from the util_rng passed in (two draws: RngSeedManager seed and run), so
 * the same generator state gives the same arrivals. Simulations are
 * serialised on one process-wide lock (see shim.cc): ns-3 is a singleton.
 *
 * ns3_p2p: PointToPointNetDevice pair over a PointToPointChannel.
 *
 *   bitrate  bit/s, a whole number in [1, 1e12]            [5470]
 *   payload  largest payload per packet, bytes, 1..65535     [51]
 *   delay    channel delay, s, [0, 1e6]                      [0]
 *   loss     RateErrorModel per-packet loss at the receiver, [0, 1]  [0]
 *
 * A packet of len bytes is on air (len + 2) * 8 / bitrate (the device adds
 * a 2-byte PPP header) and arrives that long after it started, plus delay;
 * packets follow each other back to back. No ARQ: attempts is always 1.
 *
 * ns3_lrwpan: LrWpanNetDevice pair (IEEE 802.15.4-2006, O-QPSK 2.4 GHz,
 * 250 kbit/s, unslotted CSMA/CA, ACK and retries) over a
 * SingleModelSpectrumChannel with LogDistancePropagationLossModel (ns-3
 * defaults: exponent 3, 1 m, 46.6777 dB) and constant-speed delay, with
 * LrWpanErrorModel at both ends. Short addresses, PAN ID compression.
 *
 *   distance  m, (1, 1e6], beyond the 1 m reference distance   [10]
 *   tx_power  dBm, [-40, 30], both ends                      [0]
 *   payload   bytes, 1..116 (ns-3's largest MAC payload)     [116]
 *   retries   macMaxFrameRetries, 0..7                       [3]
 *   ack       request acknowledgements                       [true]
 *
 * t_start is when the MAC takes the packet up (enters CSMA/CA for its
 * first attempt); t_arrive when the receiver's MAC hands it up the first
 * time; t_end when the sender's MAC confirms the last packet (ACK received
 * or retries exhausted). airtime and bytes_on_air count the sender's data
 * frames including the 6-byte PHY header. A packet that chan_transmit's
 * retry excludes is requested without TX_OPTION_ACK, as in ieee802154.
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"
#include "channels/ns3/ns3shim.h"

#include <stdio.h>
#include <stdlib.h>

static chan_ns3_seed draw_seed(util_rng *rng)
{
    chan_ns3_seed s;
    s.seed = (uint32_t)util_rng_below(rng, 0xFFFFFFFEu) + 1;
    s.run = util_rng_below(rng, (uint64_t)1 << 32);
    return s;
}

/* ---- ns3_p2p ------------------------------------------------------------- */

typedef struct p2p_state {
    chan_ns3_p2p_cfg cfg;
} p2p_state;

static int p2p_create(util_params *params, void **state, size_t *payload,
                      char *label, size_t label_len, util_err *err)
{
    chan_ns3_p2p_cfg cfg;
    long pl;
    if (util_params_num(params, "bitrate", 5470, 1, 1e12, &cfg.bitrate, err) ||
        util_params_int(params, "payload", 51, 1, 65535, &pl, err) ||
        util_params_num(params, "delay", 0, 0, 1e6, &cfg.delay, err) ||
        util_params_num(params, "loss", 0, 0, 1, &cfg.loss, err) ||
        chan_ns3_p2p_check(&cfg, err))
        return -1;
    p2p_state *s = malloc(sizeof *s);
    if (!s)
        return util_errf(err, "ns3_p2p: out of memory");
    s->cfg = cfg;
    *state = s;
    *payload = (size_t)pl;
    char rate[32], delay[32], loss[32];
    chan_label_num(cfg.bitrate, rate, sizeof rate);
    chan_label_num(cfg.delay, delay, sizeof delay);
    chan_label_num(cfg.loss, loss, sizeof loss);
    snprintf(label, label_len, "ns3p2p-%sbps-p%ld-delay%s-loss%s", rate, pl,
             delay, loss);
    return 0;
}

static int p2p_transmit(const void *state, const size_t *len,
                        const uint8_t *retry, size_t n, util_rng *rng,
                        chan_arrival *out, chan_stats *stats, util_err *err)
{
    (void)retry; /* no ARQ */
    const p2p_state *s = state;
    return chan_ns3_p2p_run(&s->cfg, draw_seed(rng), len, n, out, stats, err);
}

/* ---- ns3_lrwpan ---------------------------------------------------------- */

typedef struct lrwpan_state {
    chan_ns3_lrwpan_cfg cfg;
} lrwpan_state;

static int lrwpan_create(util_params *params, void **state, size_t *payload,
                         char *label, size_t label_len, util_err *err)
{
    chan_ns3_lrwpan_cfg cfg;
    long pl, retries;
    if (util_params_num(params, "distance", 10, 1, 1e6, &cfg.distance,
                        err) ||
        util_params_num(params, "tx_power", 0, -40, 30, &cfg.tx_power, err) ||
        util_params_int(params, "payload", CHAN_NS3_LRWPAN_MAX_PAYLOAD, 1,
                        CHAN_NS3_LRWPAN_MAX_PAYLOAD, &pl, err) ||
        util_params_int(params, "retries", 3, 0, 7, &retries, err) ||
        util_params_bool(params, "ack", 1, &cfg.ack, err))
        return -1;
    cfg.retries = (int)retries;
    if (chan_ns3_lrwpan_check(&cfg, err))
        return -1;
    lrwpan_state *s = malloc(sizeof *s);
    if (!s)
        return util_errf(err, "ns3_lrwpan: out of memory");
    s->cfg = cfg;
    *state = s;
    *payload = (size_t)pl;
    char dist[32], pw[32];
    chan_label_num(cfg.distance, dist, sizeof dist);
    chan_label_num(cfg.tx_power, pw, sizeof pw);
    if (cfg.ack)
        snprintf(label, label_len, "ns3lrwpan-%sm-%sdBm-p%ld-arq%d", dist, pw,
                 pl, cfg.retries);
    else
        snprintf(label, label_len, "ns3lrwpan-%sm-%sdBm-p%ld-noack", dist, pw,
                 pl);
    return 0;
}

static int lrwpan_transmit(const void *state, const size_t *len,
                           const uint8_t *retry, size_t n, util_rng *rng,
                           chan_arrival *out, chan_stats *stats, util_err *err)
{
    const lrwpan_state *s = state;
    return chan_ns3_lrwpan_run(&s->cfg, draw_seed(rng), len, retry, n, out,
                               stats, err);
}

static int lrwpan_arq(const void *state)
{
    const lrwpan_state *s = state;
    return s->cfg.ack && s->cfg.retries > 0;
}

static void ns3_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_ns3_p2p_vtable = {
    .name = "ns3_p2p",
    .create = p2p_create,
    .transmit = p2p_transmit,
    .destroy = ns3_destroy,
};

const chan_vtable chan_ns3_lrwpan_vtable = {
    .name = "ns3_lrwpan",
    .create = lrwpan_create,
    .transmit = lrwpan_transmit,
    .destroy = ns3_destroy,
    .arq = lrwpan_arq,
};
