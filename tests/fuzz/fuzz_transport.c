/*
 * The transport layer's FEC receiver (transport_fec_unframe): frames as a
 * radio hands them over, in any order, repeats and damage included. Input:
 * byte 0 the number of codec packets the receiver expects (mod 65), then
 * records (fuzz.h), one frame each; the lost ones are left out. Each frame
 * is in an exact-size heap block, so reading past one is an ASan report.
 * Checks: every packet handed to the codec can be read in full and is no
 * longer than a frame's body could make it.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "transport/transport.h"

FUZZ_TARGET(transport)
{
    if (size < 1)
        return 0;
    fuzz_packets fp;
    if (fuzz_packets_read(data, size, &fp))
        FUZZ_FAIL("out of memory");
    static const uint8_t *frame[FUZZ_MAX_PACKETS];
    static size_t len[FUZZ_MAX_PACKETS];
    size_t k = 0, ncodec = data[0] % 65;
    for (size_t i = 0; i < fp.st.n; i++)
        if (fp.arrived[i] && fp.st.pkt[i].len) {
            frame[k] = fp.st.pkt[i].data;
            len[k++] = fp.st.pkt[i].len;
        }
    transport_rx rx;
    util_err err = {{0}};
    transport_rx_init(&rx);
    if (transport_fec_unframe(frame, len, k, ncodec, &rx, &err))
        FUZZ_FAIL("transport_fec_unframe: %s", err.msg);
    if (rx.n != ncodec)
        FUZZ_FAIL("%zu packets out for %zu expected", rx.n, ncodec);
    unsigned sum = 0;
    for (size_t i = 0; i < ncodec; i++) {
        if (!rx.got[i])
            continue;
        if (rx.len[i] > 255 - TRANSPORT_FEC_HEADER)
            FUZZ_FAIL("packet %zu: %zu bytes from frames of at most 255", i, rx.len[i]);
        for (size_t b = 0; b < rx.len[i]; b++)
            sum += rx.data[i][b];
    }
    transport_rx_free(&rx);
    fuzz_packets_free(&fp);
    return (int)(sum & 0);
}
