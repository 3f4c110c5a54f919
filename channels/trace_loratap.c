/*
 * LoRaTap v0 captures (link type 270), as written by LoRa sniffers
 * (gr-lora, rtl-sdr-lora): a 15-byte big-endian header, then the LoRa PHY
 * payload.
 *
 *   0  version u8 (0)          1  padding u8       2  header length u16 (15)
 *   4  frequency u32, Hz       8  bandwidth u8, units of 125 kHz
 *   9  SF u8                  10  packet RSSI u8 (dBm = v - 139)
 *  11  max RSSI u8            12  current RSSI u8  13  SNR i8, quarter dB
 *  14  sync word u8 (0x34 LoRaWAN public)
 *
 * RSSI and SNR decide nothing: a captured frame was received, whatever its
 * margin. A sniffer hears every device and the downlinks too, so the
 * frames are filtered later (channels/trace.c).
 */
#include "channels/trace_impl.h"

#define LORATAP_V0_LEN 15
#define LINKTYPE_LORATAP 270

/* One frame's LoRaTap header and payload into a frame. */
static int frame(const struct pcap_pkthdr *h, const uint8_t *d, size_t no,
                 int64_t base, int cr, int preamble, chan_trace_frame *fr,
                 util_err *err)
{
    if (h->caplen < 4)
        return util_errf(err, "frame %zu: %u bytes, shorter than a LoRaTap "
                         "header", no, h->caplen);
    unsigned version = d[0], len = (unsigned)d[2] << 8 | d[3];
    if (version != 0)
        return util_errf(err, "frame %zu: LoRaTap version %u; only version 0 "
                         "is supported", no, version);
    if (len != LORATAP_V0_LEN)
        return util_errf(err, "frame %zu: LoRaTap header length %u; version 0 "
                         "has %d", no, len, LORATAP_V0_LEN);
    if (h->caplen < LORATAP_V0_LEN)
        return util_errf(err, "frame %zu: %u bytes, shorter than its %u-byte "
                         "LoRaTap header", no, h->caplen, len);
    unsigned bw = d[8], sf = d[9];
    if (bw != 1 && bw != 2 && bw != 4)
        return util_errf(err, "frame %zu: LoRaTap bandwidth %u x 125 kHz; "
                         "expected 1, 2 or 4", no, bw);
    if (sf < 6 || sf > 12)
        return util_errf(err, "frame %zu: LoRaTap SF %u; expected 6 to 12", no,
                         sf);
    size_t size = h->len - LORATAP_V0_LEN;
    const uint8_t *phy = d + LORATAP_V0_LEN;
    size_t have = h->caplen - LORATAP_V0_LEN;
    *fr = (chan_trace_frame){
        .t = chan_trace_time(h, base),
        .air = chan_trace_lora_airtime((int)sf, 125e3 * bw, cr, size,
                                       preamble),
        .size = (uint32_t)size,
        .ok = 1,
    };
    uint16_t fcnt;
    if (chan_trace_lorawan_uplink(phy, have, &fr->dev, &fcnt)) {
        fr->has_dev = fr->has_seq = 1;
        fr->seq = fcnt;
    }
    return 0;
}

int chan_trace_read_loratap(pcap_t *p, int cr, int preamble,
                            chan_trace_frames *out, util_err *err)
{
    int dlt = pcap_datalink(p);
    if (dlt != LINKTYPE_LORATAP) {
        char name[64];
        chan_trace_linktype(dlt, name, sizeof name);
        return util_errf(err, "link type %s; kind \"loratap\" reads LORATAP "
                         "(%d)", name, LINKTYPE_LORATAP);
    }
    struct pcap_pkthdr *h;
    const uint8_t *d;
    int64_t base = 0;
    size_t no = 0;
    int rc;
    while ((rc = chan_trace_next(p, ++no, &h, &d, err)) == 1) {
        if (no == 1)
            base = (int64_t)h->ts.tv_sec;
        chan_trace_frame fr;
        if (frame(h, d, no, base, cr, preamble, &fr, err) ||
            chan_trace_push(out, &fr, err))
            return -1;
    }
    return rc;
}
