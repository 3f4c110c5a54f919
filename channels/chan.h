/*
 * channels: decides, for each packet of a stream, whether and when it
 * arrives. A channel never sees packet contents, only their lengths.
 *
 * A channel is created by model name from parameters (util_params, nested
 * scenario keys flattened with dots: "loss.p"). A created channel holds only
 * its configuration: chan_transmit may be called from several threads at
 * once, each with its own generator, and the same generator state always
 * gives the same arrivals.
 *
 * Time starts at 0 when the sender begins the first packet. Models are
 * registered in channels/chan.c.
 */
#ifndef CHANNELS_CHAN_H
#define CHANNELS_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct chan chan;

/* The fate of one packet, in send order. */
typedef struct chan_arrival {
    int arrived;      /* 1 if some attempt got through */
    int attempts;     /* transmissions made (1 without ARQ) */
    double t_start;   /* when its first attempt began, s */
    double t_arrive;  /* when the receiver has it, s; INFINITY if lost */
} chan_arrival;

/* Totals over one stream. */
typedef struct chan_stats {
    double airtime;      /* seconds on air, all attempts */
    double t_end;        /* when the sender finished (last attempt ended) */
    size_t bytes_on_air; /* payload + header bytes, all attempts */
    size_t attempts;
    size_t lost;         /* packets that never arrived */
} chan_stats;

int chan_create(const char *model, util_params *params, chan **out,
                util_err *err);
void chan_destroy(chan *c);

/* The largest payload a packet may carry: what codecs are told. */
size_t chan_payload(const chan *c);
/* A short, file-name-safe label, e.g. "link-5470bps-dc0.01-iid0.1". */
const char *chan_label(const chan *c);

/* Transmits n packets of len[i] payload bytes; fills out[0..n-1] and, if
 * non-NULL, stats. Fails only for misuse (a packet over the payload size).
 *
 * retry says which packets the model's ARQ may retry: NULL, every one (as
 * the model is configured); else a packet with retry[i] == 0 goes out as
 * the model sends every packet without ARQ: once, asking for no
 * acknowledgement (an unconfirmed LoRaWAN uplink, an 802.15.4 frame
 * without the ACK request, no stop-and-wait on the link), so it costs no
 * ACK wait either. It is metadata beside the lengths: a setting without
 * ARQ (chan_has_arq: none, or no retries) ignores it, and one with ARQ
 * given all ones computes what NULL gives. */
int chan_transmit(const chan *c, const size_t *len, const uint8_t *retry,
                  size_t n, util_rng *rng, chan_arrival *out, chan_stats *stats,
                  util_err *err);

/* Whether the setting retransmits lost packets (so retry above matters):
 * link with retries, lora with confirmed uplinks and retries, ieee802154
 * and ns3_lrwpan with ACKs and retries. */
int chan_has_arq(const chan *c);

/* Names of the registered models, NULL-terminated. */
const char *const *chan_names(void);

#endif
