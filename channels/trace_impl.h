/*
 * What the trace channel's files share: the frames a capture parser
 * returns, the pcap reading loop with its errors, and the LoRa helpers
 * both LoRa capture kinds need. Only channels/trace*.c include this.
 *
 * A parser turns one capture into frames in capture order; channels/trace.c
 * then turns frames into delivery opportunities (sorting, sequence gaps,
 * duplicates). The parsers only read: they decide nothing about losses
 * beyond what a frame says of itself.
 */
#ifndef CHANNELS_TRACE_IMPL_H
#define CHANNELS_TRACE_IMPL_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* LoRaWAN MHDR + FHDR without FOpts + MIC: what a frame adds to FPort +
 * FRMPayload. FPort is counted as payload, as channels/link.c's 13 does. */
#define CHAN_TRACE_LORAWAN_OVERHEAD 13

typedef struct chan_trace_frame {
    double t;        /* end of reception, s, from the capture's clock */
    double air;      /* time on air, s; 0 when the kind does not say */
    uint32_t size;   /* frame bytes on air (PHY payload; generic: length) */
    int ok;          /* 0 when the frame says it was lost (flag, bad CRC) */
    int has_seq;     /* seq is trustworthy (a bad CRC makes it not) */
    uint64_t seq;    /* sequence number / LoRaWAN FCnt */
    int has_dev;     /* dev is known (LoRaWAN uplink) */
    uint32_t dev;    /* LoRaWAN DevAddr */
} chan_trace_frame;

typedef struct chan_trace_frames {
    chan_trace_frame *v;
    size_t n, cap;
} chan_trace_frames;

int chan_trace_push(chan_trace_frames *f, const chan_trace_frame *fr,
                    util_err *err);

/* Opens a capture; errors name the file and say what libpcap said. */
int chan_trace_open(const char *path, pcap_t **out, util_err *err);
/* The next frame: 1 with *h and *data set, 0 at the end, -1 for a
 * truncated or unreadable file (the message names frame `no`, 1-based). */
int chan_trace_next(pcap_t *p, size_t no, struct pcap_pkthdr **h,
                    const uint8_t **data, util_err *err);
/* pcap time of a frame, s, relative to base_sec (the first frame's
 * seconds), so that doubles keep nanoseconds. */
double chan_trace_time(const struct pcap_pkthdr *h, int64_t base_sec);
/* "EN10MB (1)": a link type for messages. */
void chan_trace_linktype(int dlt, char *buf, size_t len);

/* LoRa time on air (Semtech AN1200.13 / SX1276 datasheet 4.1.1.7) of a
 * PHY payload of size bytes, explicit header, CRC on; cr is 1..4 for
 * 4/5..4/8; low data rate optimisation on when a symbol lasts 16 ms or
 * more, as the LoRaWAN regional parameters require for SF11/SF12 at 125 kHz. */
double chan_trace_lora_airtime(int sf, double bw_hz, int cr, size_t size,
                               int preamble);

/* Fills seq (FCnt), dev (DevAddr) from a LoRaWAN PHY payload if it is a
 * data uplink of LoRaWAN R1 (MType 010 or 100, Major 0) long enough to
 * hold MHDR, FHDR and MIC; returns 1 if it is, 0 otherwise. */
int chan_trace_lorawan_uplink(const uint8_t *p, size_t n, uint32_t *dev,
                              uint16_t *fcnt);

/* The per-kind parsers. Each appends frames to out. */
typedef struct chan_trace_generic_cfg {
    long seq_offset, seq_bytes;  /* seq_offset < 0: no sequence field */
    int seq_little;
    long flag_offset, flag_mask; /* flag_offset < 0: no flag */
    int flag_lost;
    double airtime;
} chan_trace_generic_cfg;

int chan_trace_read_generic(pcap_t *p, const chan_trace_generic_cfg *cfg,
                            chan_trace_frames *out, util_err *err);
int chan_trace_read_loratap(pcap_t *p, int cr, int preamble,
                            chan_trace_frames *out, util_err *err);
int chan_trace_read_semtech(pcap_t *p, long port, int preamble,
                            chan_trace_frames *out, util_err *err);

/* The "csv" kind (channels/trace_csv.c): which column holds what (NULL or
 * "" for none; time is required), and how to read them. */
typedef struct chan_trace_csv_cfg {
    const char *time, *delivered, *seq, *size, *airtime;
    double time_scale;  /* seconds per unit of the time column */
    int seq_bits;       /* 1..64 */
    double airtime_s;   /* every frame's time on air without a column */
    char separator;
} chan_trace_csv_cfg;

int chan_trace_read_csv(const char *path, const chan_trace_csv_cfg *cfg,
                        chan_trace_frames *out, util_err *err);

#endif
