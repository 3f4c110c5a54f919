/*
 * Semtech UDP packet-forwarder captures: what a network server sees from
 * a gateway. Each PUSH_DATA datagram (to UDP port `port`) is
 *
 *   0 protocol version (1 or 2)   1-2 random token   3 identifier 0x00
 *   4-11 gateway EUI              12- JSON {"rxpk": [{...}, ...], "stat": {...}}
 *
 * and each LoRa rxpk becomes a frame: tmst (µs, the gateway's 32-bit
 * counter at the end of reception), datr ("SF7BW125") and codr ("4/5")
 * for the time on air, size, stat (1 CRC ok, -1 bad, 0 no CRC) and data
 * (base64 PHY payload) for the LoRaWAN FCnt. rssi and lsnr are checked
 * for type only. Other datagrams (PULL_DATA, PUSH_ACK, other ports, other
 * protocols) are skipped; a PUSH_DATA that is not what the protocol says
 * is an error naming the frame and the field.
 *
 * tmst wraps every 2^32 µs (71.6 min). Successive frames' difference is
 * taken modulo 2^32 and the number of whole wraps between them from the
 * pcap clock (the server's), which is coarse but good to a few seconds:
 * enough to tell 0 wraps from 1 after a silence of an hour or more.
 */
#include "channels/trace_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON (64u << 10)

typedef struct semtech_state {
    int64_t base;       /* first frame's pcap seconds */
    int have;           /* prev_* hold a frame */
    uint32_t prev_tmst;
    double prev_pcap;   /* s, relative to base */
    double prev_t;      /* unwrapped tmst, s */
} semtech_state;

/* ---- link, network and transport layers ---------------------------------------- */

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Finds the UDP payload sent to port; returns 1 with *udp, *len set, 0 if
 * the frame is something else, -1 for a frame too damaged to tell. */
static int udp_payload(int dlt, const uint8_t *d, size_t caplen, size_t no,
                       long port, const uint8_t **udp, size_t *len,
                       util_err *err)
{
    size_t off = 0;
    unsigned type = 0;
    if (dlt == DLT_EN10MB) {
        if (caplen < 14)
            return 0;
        type = be16(d + 12);
        off = 14;
        while ((type == 0x8100 || type == 0x88a8) && caplen >= off + 4) {
            type = be16(d + off + 2);
            off += 4;
        }
    } else if (dlt == DLT_LINUX_SLL) {
        if (caplen < 16)
            return 0;
        type = be16(d + 14);
        off = 16;
    } else if (caplen > 0) {
        type = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
    }
    const uint8_t *ip = d + off;
    size_t n = caplen - off, hl;
    if (type == 0x0800) {
        if (n < 20 || (ip[0] >> 4) != 4 || ip[9] != 17)
            return 0;
        hl = (size_t)(ip[0] & 15) * 4;
        if ((be16(ip + 6) & 0x3fff) != 0)
            return util_errf(err, "frame %zu: a fragment of an IPv4 datagram; "
                             "fragmented datagrams are not supported", no);
        size_t total = be16(ip + 2);
        if (hl < 20 || total < hl || total > n)
            return util_errf(err, "frame %zu: IPv4 length %zu but %zu bytes "
                             "captured", no, total, n);
        n = total;
    } else if (type == 0x86dd) {
        if (n < 40 || (ip[0] >> 4) != 6 || ip[6] != 17)
            return 0;
        hl = 40;
        if (40 + (size_t)be16(ip + 4) > n)
            return util_errf(err, "frame %zu: IPv6 length %u but %zu bytes "
                             "captured", no, be16(ip + 4), n);
        n = 40 + be16(ip + 4);
    } else {
        return 0;
    }
    if (n < hl + 8 || be16(ip + hl + 2) != (unsigned)port)
        return 0;
    size_t ulen = be16(ip + hl + 4);
    if (ulen < 8 || ulen > n - hl)
        return util_errf(err, "frame %zu: UDP length %zu but %zu bytes "
                         "captured", no, ulen, n - hl);
    *udp = ip + hl + 8;
    *len = ulen - 8;
    return 1;
}

/* ---- rxpk ---------------------------------------------------------------------- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out (cap bytes);
 * returns the length, or -1 if s is not base64 or does not fit. */
static long b64_decode(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0, bits = 0;
    uint32_t acc = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    while (*s == '=')
        s++;
    return *s ? -1 : (long)n;
}

static const cJSON *field(const cJSON *o, const char *key, int number,
                          const char *at, util_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j)
        util_errf(err, "%s.%s: missing", at, key);
    else if (number ? !cJSON_IsNumber(j) : !cJSON_IsString(j))
        util_errf(err, "%s.%s: expected a %s", at, key,
                  number ? "number" : "string");
    else
        return j;
    return NULL;
}

/* Unwraps tmst against the previous frame, counting wraps by the pcap clock. */
static double unwrap(semtech_state *st, uint32_t tmst, double pcap_t)
{
    if (!st->have) {
        st->have = 1;
        st->prev_tmst = tmst;
        st->prev_pcap = pcap_t;
        st->prev_t = 0;
        return 0;
    }
    double d = (double)(uint32_t)(tmst - st->prev_tmst) * 1e-6;
    double dp = pcap_t - st->prev_pcap;
    double wrap = 4294967296e-6;
    double t = st->prev_t + d + round((dp - d) / wrap) * wrap;
    st->prev_tmst = tmst;
    st->prev_pcap = pcap_t;
    st->prev_t = t;
    return t;
}

static int rxpk(const cJSON *o, const char *at, double pcap_t, int preamble,
                semtech_state *st, chan_trace_frames *out, util_err *err)
{
    if (!cJSON_IsObject(o))
        return util_errf(err, "%s: expected an object", at);
    const cJSON *modu = field(o, "modu", 0, at, err);
    if (!modu)
        return -1;
    if (strcmp(modu->valuestring, "LORA") != 0)
        return 0;
    const cJSON *tmst = field(o, "tmst", 1, at, err),
                *datr = tmst ? field(o, "datr", 0, at, err) : NULL,
                *codr = datr ? field(o, "codr", 0, at, err) : NULL,
                *size = codr ? field(o, "size", 1, at, err) : NULL,
                *stat = size ? field(o, "stat", 1, at, err) : NULL,
                *data = stat ? field(o, "data", 0, at, err) : NULL;
    if (!data)
        return -1;
    for (const char *k = "rssi"; k; k = k[0] == 'r' ? "lsnr" : NULL) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
        if (j && !cJSON_IsNumber(j))
            return util_errf(err, "%s.%s: expected a number", at, k);
    }
    double tm = tmst->valuedouble, sz = size->valuedouble,
           sv = stat->valuedouble;
    if (!(tm >= 0 && tm <= 4294967295.0 && tm == floor(tm)))
        return util_errf(err, "%s.tmst: expected an integer in [0, 2^32), "
                         "got %g", at, tm);
    if (!(sz >= 0 && sz <= 255 && sz == floor(sz)))
        return util_errf(err, "%s.size: expected 0 to 255, got %g", at, sz);
    if (sv != 1 && sv != 0 && sv != -1)
        return util_errf(err, "%s.stat: expected 1, 0 or -1, got %g", at, sv);
    int sf, bw, c4, cr;
    char tail;
    /* Field widths bound the digits %d reads: a number out of int's range
     * is undefined behaviour in sscanf (glibc wraps "SF4294967303" to 7). */
    if (sscanf(datr->valuestring, "SF%2dBW%3d%c", &sf, &bw, &tail) != 2 ||
        sf < 5 || sf > 12 || (bw != 125 && bw != 250 && bw != 500))
        return util_errf(err, "%s.datr: expected \"SF<5-12>BW<125|250|500>\", "
                         "got \"%s\"", at, datr->valuestring);
    if (sscanf(codr->valuestring, "%1d/%1d%c", &c4, &cr, &tail) != 2 ||
        c4 != 4 || cr < 5 || cr > 8)
        return util_errf(err, "%s.codr: expected \"4/5\" to \"4/8\", got "
                         "\"%s\"", at, codr->valuestring);
    uint8_t phy[256];
    long n = b64_decode(data->valuestring, phy, sizeof phy);
    if (n < 0)
        return util_errf(err, "%s.data: not base64 of at most 255 bytes", at);
    if (n != (long)sz)
        return util_errf(err, "%s.size: %g, but data holds %ld bytes", at, sz,
                         n);
    chan_trace_frame fr = {
        .t = unwrap(st, (uint32_t)tm, pcap_t),
        .air = chan_trace_lora_airtime(sf, bw * 1e3, cr - 4, (size_t)n,
                                       preamble),
        .size = (uint32_t)n,
        .ok = sv != -1,
    };
    uint16_t fcnt;
    if (chan_trace_lorawan_uplink(phy, (size_t)n, &fr.dev, &fcnt)) {
        fr.has_dev = 1;
        fr.has_seq = fr.ok;
        fr.seq = fcnt;
    }
    return chan_trace_push(out, &fr, err);
}

/* One PUSH_DATA datagram. */
static int push_data(const uint8_t *u, size_t len, size_t no, double pcap_t,
                     int preamble, semtech_state *st, chan_trace_frames *out,
                     util_err *err)
{
    if (len < 4 || u[3] != 0x00)
        return 0;
    if (u[0] != 1 && u[0] != 2)
        return util_errf(err, "frame %zu: PUSH_DATA protocol version %u; "
                         "expected 1 or 2", no, u[0]);
    if (len < 12)
        return util_errf(err, "frame %zu: PUSH_DATA of %zu bytes, shorter "
                         "than its 12-byte header", no, len);
    if (len - 12 > MAX_JSON)
        return util_errf(err, "frame %zu: PUSH_DATA JSON of %zu bytes; at "
                         "most %u", no, len - 12, MAX_JSON);
    char *text = malloc(len - 12 + 1);
    if (!text)
        return util_errf(err, "out of memory");
    memcpy(text, u + 12, len - 12);
    text[len - 12] = 0;
    cJSON *root = strlen(text) == len - 12 ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return util_errf(err, "frame %zu: PUSH_DATA payload is not a JSON "
                         "object", no);
    }
    int rc = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "rxpk");
    if (arr && !cJSON_IsArray(arr))
        rc = util_errf(err, "frame %zu: rxpk: expected a list", no);
    int k = 0;
    for (const cJSON *o = arr ? arr->child : NULL; o && !rc; o = o->next, k++) {
        char at[64];
        snprintf(at, sizeof at, "frame %zu: rxpk[%d]", no, k);
        rc = rxpk(o, at, pcap_t, preamble, st, out, err);
    }
    cJSON_Delete(root);
    return rc;
}

int chan_trace_read_semtech(pcap_t *p, long port, int preamble,
                            chan_trace_frames *out, util_err *err)
{
    int dlt = pcap_datalink(p);
    if (dlt != DLT_EN10MB && dlt != DLT_LINUX_SLL && dlt != DLT_RAW &&
        dlt != DLT_IPV4 && dlt != DLT_IPV6) {
        char name[64];
        chan_trace_linktype(dlt, name, sizeof name);
        return util_errf(err, "link type %s; kind \"semtech\" reads EN10MB, "
                         "LINUX_SLL, RAW, IPV4 or IPV6 captures", name);
    }
    semtech_state st = {0};
    struct pcap_pkthdr *h;
    const uint8_t *d;
    size_t no = 0;
    int rc;
    while ((rc = chan_trace_next(p, ++no, &h, &d, err)) == 1) {
        if (no == 1)
            st.base = (int64_t)h->ts.tv_sec;
        const uint8_t *u = NULL;
        size_t len = 0;
        int got = udp_payload(dlt, d, h->caplen, no, port, &u, &len, err);
        if (got < 0 ||
            (got && push_data(u, len, no, chan_trace_time(h, st.base),
                              preamble, &st, out, err)))
            return -1;
    }
    return rc;
}
