/*
 * The capture reader behind the `trace` channel: libpcap's file parsing
 * and ours on top (generic frames with a sequence number and/or a
 * delivered flag, LoRaTap, Semtech UDP with its JSON), and the per-packet
 * CSV tables of the csv kind, then a replay of one stream through the
 * resulting channel. Byte 0 picks the kind and options (table below); the
 * rest is the capture file (or table).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "channels/chan.h"

static const char *const kinds[][8] = {
    {"kind=generic", "seq_offset=0", "seq_bytes=4", "flag_offset=4", "header=5",
     "airtime=0.09"},
    {"kind=generic", "seq_offset=2", "seq_bytes=2", "seq_endian=little"},
    {"kind=generic", "flag_offset=0", "flag_mask=1", "flag_lost=true", "wrap=false"},
    {"kind=generic", "seq_offset=0", "seq_bytes=8", "start=3", "max_gap=10"},
    {"kind=loratap"},
    {"kind=loratap", "devaddr=26011bda", "fcnt=false", "cr=8"},
    {"kind=semtech"},
    {"kind=semtech", "port=1700", "devaddr=26011bda", "preamble=12"},
    /* not a capture: a per-packet table (channels/trace_csv.c) */
    {"kind=csv", "time_column=t_ms", "time_unit=ms", "delivered_column=status",
     "seq_column=fcnt", "size_column=size", "seq_bits=16", "header=13"},
    {"kind=csv", "time_column=t", "separator=;", "payload=20", "airtime_column=air"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

FUZZ_TARGET(trace)
{
    if (size < 1)
        return 0;
    char path[256];
    util_params p;
    util_err err = {{0}};
    chan *c = NULL;
    fuzz_params(kinds[data[0] % NKINDS], &p);
    fuzz_file("capture.pcap", data + 1, size - 1, path);
    if (util_params_set_str(&p, "file", path, &err))
        FUZZ_FAIL("%s", err.msg);
    if (chan_create("trace", &p, &c, &err) == 0) {
        /* One stream of full packets, as a codec would send. */
        size_t len[32];
        chan_arrival out[32];
        chan_stats st;
        util_rng rng;
        util_rng_seed(&rng, data[0]);
        for (int i = 0; i < 32; i++)
            len[i] = chan_payload(c);
        if (chan_transmit(c, len, NULL, 32, &rng, out, &st, &err))
            FUZZ_FAIL("chan_transmit on a well-formed call: %s", err.msg);
        chan_destroy(c);
    } else if (!err.msg[0]) {
        FUZZ_FAIL("chan_create failed without saying why");
    }
    unlink(path);
    return 0;
}
