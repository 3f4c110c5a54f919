/*
 * What a channel model provides. Only channels/ includes this header.
 */
#ifndef CHANNELS_CHAN_IMPL_H
#define CHANNELS_CHAN_IMPL_H

#include "channels/chan.h"

typedef struct chan_vtable {
    const char *name;
    /* Reads its parameters (unknown keys are checked by the caller). */
    int (*create)(util_params *params, void **state, size_t *payload,
                  char *label, size_t label_len, util_err *err);
    /* retry: as chan_transmit's (NULL: every packet may be retried). */
    int (*transmit)(const void *state, const size_t *len, const uint8_t *retry,
                    size_t n, util_rng *rng, chan_arrival *out, chan_stats *stats,
                    util_err *err);
    void (*destroy)(void *state);
    /* Whether the setting retransmits (chan_has_arq); NULL: never. */
    int (*arq)(const void *state);
} chan_vtable;

extern const chan_vtable chan_link_vtable;
extern const chan_vtable chan_ieee802154_vtable;
extern const chan_vtable chan_trace_vtable;
extern const chan_vtable chan_lora_vtable;
extern const chan_vtable chan_sigfox_vtable;
extern const chan_vtable chan_nbiot_vtable;
/* Defined only when built with ns-3 (channels/ns3/ns3.c). */
extern const chan_vtable chan_ns3_p2p_vtable;
extern const chan_vtable chan_ns3_lrwpan_vtable;

#endif
