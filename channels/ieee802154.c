/*
 * doc: IEEE 802.15.4 (2.4 GHz O-QPSK) between two nodes: unslotted CSMA/CA,
 * acknowledgements with retries, and loss from the link budget. Built to
 * compute what ns-3 3.37's lr-wpan module computes for the same two nodes
 * (the ns3_lrwpan model runs ns-3 itself; README "ns-3 cross-check"
 * compares them), only without a discrete-event simulator.
 *
 * Keys (defaults in brackets):
 *
 *   distance      m between the nodes, (1, 1e6]                   [10]
 *   tx_power      dBm, both nodes (ACKs too), [-40, 30]          [0]
 *   payload       largest MAC payload, bytes, 1..116             [116]
 *   retries       macMaxFrameRetries, 0..7                       [3]
 *   ack           request acknowledgements (false: no retries)  [true]
 *   exponent      log-distance path-loss exponent, [1, 8]       [3]
 *   noise_figure  receiver noise figure, dB, [0, 30]            [0]
 *
 * Frames (IEEE 802.15.4-2006 clause 6.3 PPDU, 7.2 MAC frames). On air a
 * data frame is 6 + 11 + len bytes at 250 kbit/s (32 us a byte):
 *   - PHY: preamble 4 + SFD 1 + PHR 1 = 6 bytes (12 symbols of 16 us);
 *   - MAC header 9 bytes: frame control 2, sequence number 1, destination
 *     PAN ID 2, short destination and source addresses 2 + 2, PAN ID
 *     compression on (same PAN) - what ns-3's McpsDataRequest builds with
 *     short addressing - plus the 2-byte FCS;
 *   - payload limit 127 (aMaxPHYPacketSize) - 11 = 116 bytes, ns-3's
 *     largest MAC payload.
 * An ACK frame is 6 + 5 bytes (frame control, sequence number, FCS):
 * 352 us.
 *
 * Timing (symbol = 16 us; clause 7.4 MAC constants and PIB defaults, as
 * ns-3's LrWpanMac and LrWpanCsmaCa implement them; the times below were
 * also checked against ns-3 3.37 event by event):
 *   - the MAC takes a packet up at t (t_start of its first attempt) and
 *     runs unslotted CSMA/CA (7.5.1.4): a random backoff of
 *     U{0 .. 2^macMinBE - 1} unit backoff periods (macMinBE = 3,
 *     aUnitBackoffPeriod = 20 symbols = 320 us), a CCA of 8 symbols
 *     (128 us, 6.9.9), then the RX-to-TX turnaround aTurnaroundTime =
 *     12 symbols (192 us); then the frame goes on air;
 *   - the CCA always finds the channel idle: the only other transmitter is
 *     the receiver, whose ACK is on air only while the sender waits for it.
 *     So macMaxBE (5) and macMaxCSMABackoffs (4) are never reached, and each
 *     attempt (retries included) starts a fresh CSMA/CA with macMinBE, as
 *     ns-3 does;
 *   - the receiver has the frame at its end plus the propagation delay
 *     distance / c;
 *   - with ACKs, the receiver turns around (192 us) and sends the ACK; the
 *     sender has it at frame end + 2 * delay + 192 us + 352 us. The sender
 *     waits macAckWaitDuration = aUnitBackoffPeriod + aTurnaroundTime +
 *     phySHRDuration + 6 * phySymbolsPerOctet = 20 + 12 + 10 + 12 = 54
 *     symbols (864 us) from the frame's end; without the ACK by then it
 *     retries, at most macMaxFrameRetries times;
 *   - after a success (ACK received, or the frame sent when no ACK is
 *     requested) the MAC waits an interframe space (7.5.1.3): SIFS 12
 *     symbols (192 us) if the MPDU is at most aMaxSIFSFrameSize = 18 bytes,
 *     else LIFS 40 symbols (640 us), then takes up the next packet. After
 *     the last retry fails it takes up the next packet at once (ns-3 waits
 *     no IFS there).
 *
 * Loss (physics as ns-3's LrWpanPhy computes it):
 *   - received power: tx_power - PL(d), log-distance PL(d) = 46.6777 dB +
 *     10 * exponent * log10(d / 1 m) (ns-3 LogDistancePropagationLossModel
 *     defaults: exponent 3, reference distance 1 m, reference loss
 *     46.6777 dB; distances up to the 1 m reference are refused because
 *     ns-3 versions disagree there);
 *   - noise: ns-3's LrWpanSpectrumValueHelper puts k * 290 K (k =
 *     1.3803e-23, ns-3's constant) in each of the five 1 MHz bands it sums
 *     around the channel: -106.99 dBm, times the noise figure (ns-3's
 *     noise factor, 1 by default);
 *   - a frame below SNR -5 dB is not even synchronised to (LrWpanPhy
 *     StartRx); otherwise it is lost with probability
 *     PER = 1 - (1 - BER)^bits over its bits on air, PHY header included,
 *     with the O-QPSK BER of IEEE 802.15.4-2006 Annex E (E.4.1.8):
 *       BER = 8/15 * 1/16 * sum_{k=2..16} (-1)^k C(16,k) e^(20 SNR (1/k - 1))
 *     (ns-3 LrWpanErrorModel). ACKs are lost the same way, with their 88
 *     bits; a data frame that got through but whose ACK was lost is sent
 *     again, and arrives at the first success.
 *
 * Stats: airtime and bytes_on_air count the sender's data frames, PHY
 * header included; t_end is when the sender's MAC finished the last packet
 * (ACK received, last ACK wait expired, or frame sent without ACK).
 *
 * Not modelled: other nodes, interference and collisions, beacons and
 * slotted CSMA/CA, ns-3's rounding of a frame's bits up to the next whole
 * bit of its (floating-point) duration.
 */
#include "channels/chan_impl.h"
#include "channels/ieee802154.h"
#include "channels/loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SYMBOL 16e-6                 /* s: 62.5 ksymbol/s */
#define BYTE_TIME (2 * SYMBOL)       /* 250 kbit/s */
#define PHY_HEADER 6                 /* preamble 4, SFD 1, PHR 1 */
#define MAC_OVERHEAD 11              /* header 9 + FCS 2 */
#define ACK_MPDU 5
#define MAX_PHY_PACKET 127           /* aMaxPHYPacketSize */
#define MAX_PAYLOAD (MAX_PHY_PACKET - MAC_OVERHEAD)
#define MIN_BE 3                     /* macMinBE */
#define UNIT_BACKOFF (20 * SYMBOL)   /* aUnitBackoffPeriod */
#define CCA_TIME (8 * SYMBOL)
#define TURNAROUND (12 * SYMBOL)     /* aTurnaroundTime */
#define ACK_WAIT (54 * SYMBOL)       /* macAckWaitDuration */
#define MAX_SIFS_FRAME 18            /* aMaxSIFSFrameSize, MPDU bytes */
#define SIFS (12 * SYMBOL)           /* macSIFSPeriod */
#define LIFS (40 * SYMBOL)           /* macLIFSPeriod */
#define SYNC_SNR_DB (-5.0)           /* ns-3 LrWpanPhy::StartRx */
#define REF_LOSS_DB 46.6777          /* ns-3 LogDistance default */
#define BOLTZMANN 1.3803e-23         /* as in ns-3's spectrum helper */
#define NOISE_BANDWIDTH 5e6          /* five 1 MHz bands */
#define LIGHT_SPEED 299792458.0      /* ns-3 ConstantSpeedPropagationDelay */

typedef struct ieee_cfg {
    double distance, tx_power, exponent, noise_figure;
    size_t payload;
    long retries;
    int ack;
    double snr_db;  /* from the above, once */
    double delay;   /* propagation, s */
} ieee_cfg;

double chan_ieee802154_snr_db(double distance, double tx_power,
                              double exponent, double noise_figure)
{
    double noise_dbm = 10.0 * log10(BOLTZMANN * 290.0 * NOISE_BANDWIDTH *
                                    1e3) + noise_figure;
    double pl = REF_LOSS_DB + 10.0 * exponent * log10(distance);
    return tx_power - pl - noise_dbm;
}

double chan_ieee802154_ber(double snr)
{
    /* (-1)^k C(16, k) for k = 2..16. */
    static const double coef[17] = {
        1, -16, 120, -560, 1820, -4368, 8008, -11440, 12870,
        -11440, 8008, -4368, 1820, -560, 120, -16, 1};
    double sum = 0;
    for (int k = 2; k <= 16; k++)
        sum += coef[k] * exp(20.0 * snr * (1.0 / k - 1.0));
    double ber = sum * 8.0 / 15.0 / 16.0;
    return ber < 1.0 ? ber : 1.0;
}

double chan_ieee802154_per(double snr_db, size_t bits)
{
    if (!(snr_db > SYNC_SNR_DB))
        return 1.0;
    double ber = chan_ieee802154_ber(pow(10.0, snr_db / 10.0));
    /* ber can dip a hair below 0 from cancellation in the alternating sum
     * at high SNR, where the true value is below 1e-300. */
    if (ber <= 0)
        return 0.0;
    return -expm1((double)bits * log1p(-ber));
}

static int parse(util_params *p, ieee_cfg *c, util_err *err)
{
    long payload;
    if (util_params_num(p, "distance", 10, 1, 1e6, &c->distance, err) ||
        util_params_num(p, "tx_power", 0, -40, 30, &c->tx_power, err) ||
        util_params_int(p, "payload", MAX_PAYLOAD, 1, MAX_PAYLOAD, &payload,
                        err) ||
        util_params_int(p, "retries", 3, 0, 7, &c->retries, err) ||
        util_params_bool(p, "ack", 1, &c->ack, err) ||
        util_params_num(p, "exponent", 3, 1, 8, &c->exponent, err) ||
        util_params_num(p, "noise_figure", 0, 0, 30, &c->noise_figure, err))
        return -1;
    if (c->distance <= 1)
        return util_errf(err, "distance: expected metres in (1, 1e6] (beyond "
                              "the 1 m reference distance), got %g",
                         c->distance);
    c->payload = (size_t)payload;
    c->snr_db = chan_ieee802154_snr_db(c->distance, c->tx_power, c->exponent,
                                       c->noise_figure);
    c->delay = c->distance / LIGHT_SPEED;
    return 0;
}

/* "ieee802154-100m-0dBm-p116-arq3", plus what differs from the defaults. */
static void make_label(const ieee_cfg *c, char *buf, size_t len)
{
    char dist[32], pw[32], num[32];
    size_t off = 0;
    chan_label_num(c->distance, dist, sizeof dist);
    chan_label_num(c->tx_power, pw, sizeof pw);
    util_appendf(buf, len, &off, "ieee802154-%sm-%sdBm-p%zu", dist, pw,
                 c->payload);
    if (c->ack)
        util_appendf(buf, len, &off, "-arq%ld", c->retries);
    else
        util_appendf(buf, len, &off, "-noack");
    if (c->exponent != 3) {
        chan_label_num(c->exponent, num, sizeof num);
        util_appendf(buf, len, &off, "-n%s", num);
    }
    if (c->noise_figure != 0) {
        chan_label_num(c->noise_figure, num, sizeof num);
        util_appendf(buf, len, &off, "-nf%s", num);
    }
}

static int ieee_create(util_params *params, void **state, size_t *payload,
                       char *label, size_t label_len, util_err *err)
{
    ieee_cfg cfg;
    if (parse(params, &cfg, err))
        return -1;
    ieee_cfg *c = malloc(sizeof *c);
    if (!c)
        return util_errf(err, "ieee802154: out of memory");
    *c = cfg;
    *state = c;
    *payload = c->payload;
    make_label(c, label, label_len);
    return 0;
}

static int lost(double per, util_rng *rng)
{
    if (per >= 1.0)
        return 1;
    if (per <= 0.0)
        return 0;
    return util_rng_uniform(rng) < per;
}

/* One packet from when the MAC takes it up at *t; leaves *t at when the
 * MAC takes up the next one. */
static void send_packet(const ieee_cfg *c, double *t, size_t len, int ack,
                        util_rng *rng, chan_arrival *out, chan_stats *st)
{
    size_t frame_bytes = PHY_HEADER + MAC_OVERHEAD + len;
    double frame = (double)frame_bytes * BYTE_TIME;
    double per_data = chan_ieee802154_per(c->snr_db, 8 * frame_bytes);
    double per_ack = chan_ieee802154_per(c->snr_db,
                                         8 * (PHY_HEADER + ACK_MPDU));
    double ifs = MAC_OVERHEAD + len <= MAX_SIFS_FRAME ? SIFS : LIFS;
    long max_attempts = ack ? 1 + c->retries : 1;

    out->arrived = 0;
    out->attempts = 0;
    out->t_start = *t;
    out->t_arrive = INFINITY;
    for (long a = 0; a < max_attempts; a++) {
        double backoff = (double)util_rng_below(rng, 1u << MIN_BE);
        double tx = *t + backoff * UNIT_BACKOFF + CCA_TIME + TURNAROUND;
        double end = tx + frame;
        out->attempts++;
        st->attempts++;
        st->airtime += frame;
        st->bytes_on_air += frame_bytes;
        int got = !lost(per_data, rng);
        if (got && !out->arrived) {
            out->arrived = 1;
            out->t_arrive = end + c->delay;
        }
        if (!ack) {
            st->t_end = end;
            *t = end + ifs;
            break;
        }
        if (got && !lost(per_ack, rng)) {
            double acked = end + 2 * c->delay + TURNAROUND +
                           (double)(PHY_HEADER + ACK_MPDU) * BYTE_TIME;
            st->t_end = acked;
            *t = acked + ifs;
            break;
        }
        *t = end + ACK_WAIT;
        st->t_end = *t;
    }
    if (!out->arrived)
        st->lost++;
}

static int ieee_arq(const void *state)
{
    const ieee_cfg *c = state;
    return c->ack && c->retries > 0;
}

static int ieee_transmit(const void *state, const size_t *len,
                         const uint8_t *retry, size_t n, util_rng *rng,
                         chan_arrival *out, chan_stats *stats, util_err *err)
{
    (void)err;
    const ieee_cfg *c = state;
    double t = 0;
    *stats = (chan_stats){0};
    /* The ACK request is a per-frame bit (7.2.1.1.4): a frame that may not
     * be retried goes without it, so no ACK wait either (as ns-3's
     * TX_OPTION_NONE). Without retries retry changes nothing. */
    int arq = ieee_arq(c);
    for (size_t i = 0; i < n; i++)
        send_packet(c, &t, len[i], c->ack && (!arq || !retry || retry[i]), rng,
                    &out[i], stats);
    return 0;
}

static void ieee_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_ieee802154_vtable = {
    .name = "ieee802154",
    .create = ieee_create,
    .transmit = ieee_transmit,
    .destroy = ieee_destroy,
    .arq = ieee_arq,
};
