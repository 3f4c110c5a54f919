/* Writes captures of each kind from a channel model (channels/trace.h). */
#include "channels/trace.h"
#include "channels/trace_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 2026-01-01T00:00:00Z: captures start here so that files do not depend
 * on when they were made. */
#define CAPTURE_EPOCH 1767225600LL
/* The latest timestamp a capture may hold, after CAPTURE_EPOCH: about 31
 * years, well within pcap's 32-bit seconds. */
#define CAPTURE_MAX_SECONDS 1e9
#define LINKTYPE_USER0 147
#define LINKTYPE_LORATAP 270
#define SEMTECH_PORT 1700
#define MAX_FRAME 2048

void chan_capture_defaults(chan_capture_opts *o)
{
    *o = (chan_capture_opts){
        .kind = "generic", .lost_as = "omit", .packets = 200, .len = 0,
        .sf = 7, .bw_khz = 125, .freq_mhz = 868.1, .rssi = -100, .snr = 5,
        .devaddr = 0x26011BDA, .fcnt0 = 0, .tmst0 = 0,
    };
}

static void put16be(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
    put16be(p, v >> 16);
    put16be(p + 2, v & 0xffff);
}

/* A LoRaWAN unconfirmed data uplink of len FRMPayload bytes; returns its
 * size. A marked (bad CRC) frame gets a flipped MIC: its header survives. */
static size_t lorawan(uint8_t *p, const chan_capture_opts *o, size_t i,
                      int bad)
{
    uint32_t fcnt = (o->fcnt0 + (uint32_t)i) & 0xffff;
    size_t n = CHAN_TRACE_LORAWAN_OVERHEAD + o->len;
    memset(p, 0, n);
    p[0] = 0x40;
    for (int k = 0; k < 4; k++)
        p[1 + k] = (uint8_t)(o->devaddr >> (8 * k));
    p[6] = (uint8_t)fcnt;
    p[7] = (uint8_t)(fcnt >> 8);
    p[8] = 1;
    if (bad)
        memset(p + n - 4, 0xff, 4);
    return n;
}

static void b64_encode(const uint8_t *p, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[k++] = tab[v >> 18];
        out[k++] = tab[(v >> 12) & 63];
        out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[k] = 0;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Ethernet/IPv4/UDP around one PUSH_DATA with one rxpk. */
static int semtech(uint8_t *buf, size_t *n, const chan_capture_opts *o,
                   size_t i, double ts, int bad, util_err *err)
{
    uint8_t phy[256];
    size_t size = lorawan(phy, o, i, bad);
    char b64[400], datr[16], when[40];
    b64_encode(phy, size, b64);
    snprintf(datr, sizeof datr, "SF%dBW%d", o->sf, o->bw_khz);
    time_t sec = (time_t)(CAPTURE_EPOCH + (long long)floor(ts));
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%06ldZ",
             (long)floor((ts - floor(ts)) * 1e6));
    uint32_t tmst = o->tmst0 + (uint32_t)(uint64_t)llround(ts * 1e6);

    cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(),
          *pk = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "rxpk", arr);
    cJSON_AddItemToArray(arr, pk);
    cJSON_AddNumberToObject(pk, "tmst", tmst);
    cJSON_AddStringToObject(pk, "time", when);
    cJSON_AddNumberToObject(pk, "chan", 0);
    cJSON_AddNumberToObject(pk, "rfch", 0);
    cJSON_AddNumberToObject(pk, "freq", o->freq_mhz);
    cJSON_AddNumberToObject(pk, "stat", bad ? -1 : 1);
    cJSON_AddStringToObject(pk, "modu", "LORA");
    cJSON_AddStringToObject(pk, "datr", datr);
    cJSON_AddStringToObject(pk, "codr", "4/5");
    cJSON_AddNumberToObject(pk, "rssi", o->rssi);
    cJSON_AddNumberToObject(pk, "lsnr", o->snr);
    cJSON_AddNumberToObject(pk, "size", (double)size);
    cJSON_AddStringToObject(pk, "data", b64);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json)
        return util_errf(err, "out of memory");
    size_t jl = strlen(json), udp = 8 + 12 + jl, ip = 20 + udp;
    if (14 + ip > MAX_FRAME) {
        free(json);
        return util_errf(err, "frame %zu: PUSH_DATA too large", i + 1);
    }
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2,
                                    0x08, 0x00};
    memcpy(buf, eth, sizeof eth);
    uint8_t *h = buf + 14;
    memset(h, 0, 28);
    h[0] = 0x45;
    put16be(h + 2, (unsigned)ip);
    put16be(h + 4, (unsigned)(i & 0xffff));
    put16be(h + 6, 0x4000);
    h[8] = 64;
    h[9] = 17;
    put32be(h + 12, 0x0a000002);
    put32be(h + 16, 0x0a000001);
    put16be(h + 10, ip_checksum(h, 20));
    put16be(h + 20, 40000);
    put16be(h + 22, SEMTECH_PORT);
    put16be(h + 24, (unsigned)udp);
    uint8_t *u = h + 28;
    u[0] = 2;
    put16be(u + 1, (unsigned)(i & 0xffff));
    u[3] = 0x00;
    static const uint8_t eui[8] = {0xAA, 0x55, 0x5A, 0, 0, 0, 0x01, 0x01};
    memcpy(u + 4, eui, sizeof eui);
    memcpy(u + 12, json, jl);
    free(json);
    *n = 14 + ip;
    return 0;
}

/* One frame of o->kind for packet i into buf. */
static int frame(uint8_t *buf, size_t *n, const chan_capture_opts *o,
                 size_t i, double ts, int bad, util_err *err)
{
    if (strcmp(o->kind, "generic") == 0) {
        *n = 5 + o->len;
        memset(buf, 0, *n);
        put32be(buf, (uint32_t)i);
        buf[4] = !bad;
        return 0;
    }
    if (strcmp(o->kind, "loratap") == 0) {
        memset(buf, 0, 15);
        put16be(buf + 2, 15);
        put32be(buf + 4, (uint32_t)llround(o->freq_mhz * 1e6));
        buf[8] = (uint8_t)(o->bw_khz / 125);
        buf[9] = (uint8_t)o->sf;
        int rssi = (int)lround(o->rssi) + 139;
        buf[10] = buf[11] = buf[12] =
            (uint8_t)(rssi < 0 ? 0 : rssi > 255 ? 255 : rssi);
        long snr = lround(o->snr * 4);
        buf[13] = (uint8_t)(int8_t)(snr < -128 ? -128 : snr > 127 ? 127 : snr);
        buf[14] = 0x34;
        *n = 15 + lorawan(buf + 15, o, i, 0);
        return 0;
    }
    return semtech(buf, n, o, i, ts, bad, err);
}

static int check_opts(const chan *c, const chan_capture_opts *o, int *lora,
                      util_err *err)
{
    static const char *const kinds[] = {"generic", "loratap", "semtech"};
    int k = 0;
    while (k < 3 && strcmp(kinds[k], o->kind) != 0)
        k++;
    if (k == 3)
        return util_errf(err, "kind: expected \"generic\", \"loratap\" or "
                         "\"semtech\", got \"%s\"", o->kind);
    *lora = k > 0;
    if (strcmp(o->lost_as, "omit") && strcmp(o->lost_as, "mark") &&
        strcmp(o->lost_as, "mixed"))
        return util_errf(err, "lost-as: expected \"omit\", \"mark\" or "
                         "\"mixed\", got \"%s\"", o->lost_as);
    if (k == 1 && strcmp(o->lost_as, "omit") != 0)
        return util_errf(err, "lost-as: LoRaTap v0 has no CRC field: lost "
                         "frames can only be omitted");
    if (o->packets < 1 || o->packets > 1000000)
        return util_errf(err, "packets: expected 1 to 1000000, got %zu",
                         o->packets);
    size_t cap = *lora ? 255 - CHAN_TRACE_LORAWAN_OVERHEAD : MAX_FRAME - 5;
    if (o->len < 1 || o->len > chan_payload(c) || o->len > cap)
        return util_errf(err, "len: expected 1 to %zu bytes, got %zu",
                         chan_payload(c) < cap ? chan_payload(c) : cap, o->len);
    if (*lora && (o->sf < 7 || o->sf > 12))
        return util_errf(err, "sf: expected 7 to 12, got %d", o->sf);
    if (*lora && o->bw_khz != 125 && o->bw_khz != 250 && o->bw_khz != 500)
        return util_errf(err, "bw: expected 125, 250 or 500, got %d",
                         o->bw_khz);
    if (*lora && !(o->freq_mhz > 0 && o->freq_mhz < 4000))
        return util_errf(err, "freq: expected MHz in (0, 4000), got %g",
                         o->freq_mhz);
    return 0;
}

/* The frames' timestamps (s from the capture's start). */
static int timestamps(const chan_arrival *a, const chan_capture_opts *o,
                      int lora, double air, double *ts, util_err *err)
{
    size_t size = CHAN_TRACE_LORAWAN_OVERHEAD + o->len;
    double toa = lora ? chan_trace_lora_airtime(o->sf, o->bw_khz * 1e3, 1,
                                                size, 8) : air;
    for (size_t i = 0; i < o->packets; i++)
        if (a[i].attempts != 1)
            return util_errf(err, "packet %zu took %d attempts: the capture "
                             "writer needs a channel without ARQ", i,
                             a[i].attempts);
    for (size_t i = 0; i < o->packets; i++) {
        ts[i] = a[i].t_start + toa;
        /* pcap holds 32-bit seconds, and past that the calendar time and
         * the microsecond tmst of a Semtech frame leave their types. */
        if (!(ts[i] <= CAPTURE_MAX_SECONDS))
            return util_errf(err, "packet %zu would arrive at %.3g s, past the "
                             "%.0f s a capture can hold: a faster or less "
                             "duty-cycled channel, or fewer packets", i, ts[i],
                             CAPTURE_MAX_SECONDS);
        if (lora && i > 0 && a[i].t_start < ts[i - 1])
            return util_errf(err, "frames %zu and %zu overlap on air (SF%d "
                             "takes %.3f s per frame): slow the model down, "
                             "e.g. with a duty cycle", i - 1, i, o->sf, toa);
    }
    return 0;
}

static int dump(const chan_capture_opts *o, int lora, const chan_arrival *a,
                const double *ts, const char *path, chan_capture_info *info,
                util_err *err)
{
    int dlt = !lora ? LINKTYPE_USER0
            : strcmp(o->kind, "loratap") == 0 ? LINKTYPE_LORATAP : DLT_EN10MB;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return util_errf(err, "%s: path too long", path);
    pcap_t *pd = pcap_open_dead_with_tstamp_precision(dlt, 65535,
                                                      PCAP_TSTAMP_PRECISION_NANO);
    if (!pd)
        return util_errf(err, "out of memory");
    FILE *f = fopen(tmp, "wb");
    pcap_dumper_t *dp = f ? pcap_dump_fopen(pd, f) : NULL;
    if (!dp) {
        int e = errno;
        if (f)
            fclose(f);
        pcap_close(pd);
        remove(tmp);
        return util_errf(err, "%s: cannot write: %s", path, strerror(e));
    }
    uint8_t buf[MAX_FRAME];
    size_t nlost = 0;
    int rc = 0;
    for (size_t i = 0; i < o->packets && !rc; i++) {
        int bad = !a[i].arrived;
        if (bad) {
            int mark = strcmp(o->lost_as, "mark") == 0 ||
                       (strcmp(o->lost_as, "mixed") == 0 && nlost % 2 == 0);
            nlost++;
            if (!mark)
                continue;
            info->marked++;
        }
        size_t n = 0;
        rc = frame(buf, &n, o, i, ts[i], bad, err);
        if (rc)
            break;
        double sec = floor(ts[i]);
        long long ns = llround((ts[i] - sec) * 1e9);
        struct pcap_pkthdr h = {.caplen = (bpf_u_int32)n,
                                .len = (bpf_u_int32)n};
        h.ts.tv_sec = (time_t)(CAPTURE_EPOCH + (long long)sec + ns / 1000000000);
        h.ts.tv_usec = (suseconds_t)(ns % 1000000000);
        pcap_dump((u_char *)dp, &h, buf);
        info->frames++;
    }
    info->lost = nlost;
    if (!rc && pcap_dump_flush(dp))
        rc = util_errf(err, "%s: cannot write: %s", path, strerror(errno));
    pcap_dump_close(dp);
    pcap_close(pd);
    if (!rc && rename(tmp, path))
        rc = util_errf(err, "%s: cannot rename the temporary file: %s", path,
                       strerror(errno));
    if (rc)
        remove(tmp);
    return rc;
}

int chan_capture_write(const chan *c, const chan_capture_opts *o,
                       const char *path, util_rng *rng, chan_arrival *out,
                       chan_capture_info *info, util_err *err)
{
    chan_capture_info local;
    info = info ? info : &local;
    *info = (chan_capture_info){0};
    int lora = 0;
    if (check_opts(c, o, &lora, err))
        return -1;
    size_t n = o->packets;
    size_t *len = malloc(n * sizeof *len);
    chan_arrival *a = out ? out : malloc(n * sizeof *a);
    double *ts = malloc(n * sizeof *ts);
    int rc = 0;
    if (!len || !a || !ts)
        rc = util_errf(err, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        len[i] = o->len;
    chan_stats st;
    if (!rc)
        rc = chan_transmit(c, len, NULL, n, rng, a, &st, err);
    if (!rc) {
        info->airtime = st.attempts ? st.airtime / (double)st.attempts : 0;
        rc = timestamps(a, o, lora, info->airtime, ts, err);
    }
    if (!rc)
        rc = dump(o, lora, a, ts, path, info, err);
    if (!rc)
        info->span = ts[n - 1] - ts[0];
    free(len);
    free(ts);
    if (a != out)
        free(a);
    return rc;
}
