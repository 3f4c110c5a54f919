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
 * non-NULL, stats. Fails only for misuse (a packet over the payload size). */
int chan_transmit(const chan *c, const size_t *len, size_t n, util_rng *rng,
                  chan_arrival *out, chan_stats *stats, util_err *err);

/* Names of the registered models, NULL-terminated. */
const char *const *chan_names(void);

#endif
