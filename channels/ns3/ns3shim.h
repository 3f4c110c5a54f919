/*
 * The ns-3 backend's C face. channels/ns3/shim.cc runs one ns-3 simulation
 * per call; channels/ns3/ns3.c turns scenario keys into these configs and
 * registers the models ns3_p2p and ns3_lrwpan (channels/chan.c).
 *
 * Compiled only when the Makefile finds ns-3 with pkg-config (it then
 * defines LIMITNET_NS3). Only channels/ includes this header.
 *
 * Every value is checked here, before ns-3 sees it: ns-3 reports bad input
 * with NS_FATAL_ERROR/NS_ABORT, which end the process.
 */
#ifndef CHANNELS_NS3_NS3SHIM_H
#define CHANNELS_NS3_NS3SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "channels/chan.h"

/* ns-3 lr-wpan's largest MAC payload: aMaxPhyPacketSize (127) less the MAC
 * header with short addresses and PAN ID compression (9) and the FCS (2). */
#define CHAN_NS3_LRWPAN_MAX_PAYLOAD 116

typedef struct chan_ns3_p2p_cfg {
    double bitrate;  /* bit/s, a whole number in [1, 1e12] */
    double delay;    /* s, [0, 1e6] */
    double loss;     /* per-packet RateErrorModel rate at the receiver, [0, 1] */
} chan_ns3_p2p_cfg;

typedef struct chan_ns3_lrwpan_cfg {
    double distance; /* m, (1, 1e6] */
    double tx_power; /* dBm, [-40, 30], both ends (ACKs too) */
    int retries;     /* macMaxFrameRetries, 0..7 */
    int ack;         /* 1: request ACKs (and retry); 0: send each frame once */
} chan_ns3_lrwpan_cfg;

/* ns-3's generator for one simulation: RngSeedManager's seed (>= 1) and
 * run, drawn by the caller from its util_rng. */
typedef struct chan_ns3_seed {
    uint32_t seed;
    uint64_t run;
} chan_ns3_seed;

int chan_ns3_p2p_check(const chan_ns3_p2p_cfg *cfg, util_err *err);
int chan_ns3_lrwpan_check(const chan_ns3_lrwpan_cfg *cfg, util_err *err);

/* Sends n packets (len[i] payload bytes, each >= 1) back to back from one
 * node to the other, runs the simulation to its end and fills out[] and
 * *stats (both required), times from when the first packet is handed to
 * the sender. Serialised on a process-wide lock. */
int chan_ns3_p2p_run(const chan_ns3_p2p_cfg *cfg, chan_ns3_seed seed,
                     const size_t *len, size_t n, chan_arrival *out,
                     chan_stats *stats, util_err *err);
/* retry: NULL, or per packet whether it asks for an ACK (and so may be
 * retried) when cfg->ack is set and retries > 0 (chan_transmit's retry). */
int chan_ns3_lrwpan_run(const chan_ns3_lrwpan_cfg *cfg, chan_ns3_seed seed,
                        const size_t *len, const uint8_t *retry, size_t n,
                        chan_arrival *out, chan_stats *stats, util_err *err);

#ifdef __cplusplus
}
#endif

#endif
