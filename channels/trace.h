/*
 * Writing captures that the `trace` channel model replays (channels/trace.c
 * says how a capture becomes a channel). The frames are a simulation of a
 * channel model, not measurements: a device sends `packets` frames of `len`
 * payload bytes through the channel c; the model decides when each is sent
 * and whether it gets through, and the capture records what a receiver
 * would have seen.
 *
 *   generic  link type USER0 (147); frame i is: sequence number i (u32,
 *            big-endian), a flag byte (1 delivered, 0 lost), len zero
 *            bytes. Timestamp: the end of the frame on the model's link
 *            (start + the model's airtime per packet).
 *   loratap  link type LORATAP (270), LoRaTap v0 header (frequency, SF,
 *            bandwidth, rssi, snr as given) + a LoRaWAN unconfirmed data
 *            uplink: MHDR 0x40, DevAddr, FCtrl 0, FCnt (fcnt0 + i, 16 bits),
 *            FPort 1, len zero bytes, a zero MIC (no keys: not a valid
 *            MIC). Timestamp: start + LoRa time on air (CR 4/5, preamble 8).
 *   semtech  Ethernet/IPv4/UDP to port 1700, one PUSH_DATA (protocol 2)
 *            per frame with one rxpk: tmst = tmst0 + timestamp in µs
 *            (mod 2^32), datr/codr/freq/rssi/lsnr as given, stat, size,
 *            data = the same LoRaWAN frame, base64.
 *
 * Lost frames (lost_as): "omit" leaves them out (a gap in the sequence
 * field / FCnt), "mark" writes them with flag 0 (generic) or stat -1 and a
 * corrupted MIC (semtech; LoRaTap v0 cannot mark), "mixed" marks every
 * other lost frame and omits the rest.
 *
 * The channel must send each packet once (no ARQ): one attempt is one
 * frame. For the LoRa kinds frames must not overlap on air: the model's
 * pacing (e.g. its duty cycle) must leave each frame its time on air.
 */
#ifndef CHANNELS_TRACE_H
#define CHANNELS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "channels/chan.h"

typedef struct chan_capture_opts {
    const char *kind;       /* "generic", "loratap", "semtech" */
    const char *lost_as;    /* "omit", "mark", "mixed" */
    size_t packets;         /* frames the device sends, >= 1 */
    size_t len;             /* payload bytes per frame, 1..chan_payload(c) */
    int sf;                 /* LoRa kinds: 7..12 */
    int bw_khz;             /* 125, 250 or 500 */
    double freq_mhz;
    double rssi, snr;       /* dBm, dB: constants, the model has no budget */
    uint32_t devaddr;
    uint32_t fcnt0;         /* FCnt of the first frame (16 bits on air) */
    uint32_t tmst0;         /* semtech: tmst at time 0, µs */
} chan_capture_opts;

/* What the model decided for the capture written. */
typedef struct chan_capture_info {
    size_t frames;          /* frames written */
    size_t lost, marked;    /* lost packets; those written marked */
    double airtime;         /* the model's airtime per packet, s */
    double span;            /* first to last timestamp, s */
} chan_capture_info;

/* Sets o to the defaults: generic, omit, 200 packets, len 0 (= the
 * channel's payload), SF7 125 kHz 868.1 MHz, -100 dBm, 5 dB, DevAddr
 * 26011BDA, FCnt 0, tmst 0. */
void chan_capture_defaults(chan_capture_opts *o);

/* Sends the packets through c with rng and writes the capture to path
 * (via a temporary file, renamed when complete). out (packets entries,
 * may be NULL) receives the model's arrivals. */
int chan_capture_write(const chan *c, const chan_capture_opts *o,
                       const char *path, util_rng *rng, chan_arrival *out,
                       chan_capture_info *info, util_err *err);

#endif
