/*
 * doc: LoRa with LoRaWAN's regional rules: time on air from Semtech's
 * formula (channels/lora_phy.h), the region's data rates and payload
 * limits, EU868 sub-band duty cycles with channel hopping, US915's dwell
 * time, Class A receive windows, confirmed uplinks with retries, and loss
 * from a link budget and/or the shared loss models (channels/loss.h).
 *
 * Keys (defaults in brackets):
 *
 *   region      "eu868", "us915" or "none" (bare PHY)     ["eu868"]
 *   dr          the region's data rate: EU868 0..6 (DR0..DR5 = SF12..SF7
 *               at 125 kHz, DR6 = SF7/250 kHz), US915 0..4 (DR0..DR3 =
 *               SF10..SF7 at 125 kHz, DR4 = SF8/500 kHz); or give sf and bw
 *   sf          spreading factor 7..12                     [7]
 *   bw          bandwidth, kHz: 125, 250, 500              [125]
 *               (with a region, sf/bw must be one of its data rates)
 *   cr          coding rate 4/(4+cr), 1..4                 [1 = 4/5]
 *   preamble    preamble symbols, 6..65535                 [8, LoRaWAN's]
 *   implicit_header  boolean                               [false]
 *   crc         payload CRC, boolean                       [true]
 *   ldro        low-data-rate optimisation "auto", "on", "off"  ["auto":
 *               on when the symbol time is >= 16 ms, as Semtech's driver]
 *   framing     add LoRaWAN's 13 bytes (MHDR 1, FHDR 7, FPort 1, MIC 4)
 *               to every payload, boolean                  [true]
 *   payload     largest application payload, bytes         [the data
 *               rate's maximum; without a region 255 - framing]. Codecs
 *               are told this size. A value above the data rate's maximum
 *               is refused, never truncated.
 *   dwell_time  longest time on air of one packet, s; 0 = none
 *                                         [US915 0.4 (FCC 15.247), else 0]
 *   duty_cycle  EU868 only: "off_time", "credit" or "none" ["off_time"]
 *   frequencies EU868 only: uplink channels, MHz, comma-separated
 *                                         ["868.1,868.3,868.5"]
 *   confirmed   confirmed uplinks (the network server ACKs), boolean [false]
 *   retries     retransmissions of an unacknowledged confirmed uplink,
 *               0..7 (LoRaWAN allows at most 8 transmissions)  [0]
 *   rx1_delay   RECEIVE_DELAY1, s, 1..15                   [1]
 *   delay       gateway-to-application latency, s          [0]
 *   distance    m; turns on the link budget below          [off]
 *   tx_power    dBm                                        [14]
 *   d0, pl_d0   reference distance (m), its path loss (dB) [40, 127.41]
 *   path_exponent                                          [2.08]
 *   shadowing   log-normal shadowing sigma, dB             [3.57]
 *   noise_figure  dB                                       [6]
 *   snr_width   width of the SNR->PER waterfall, dB; 0 = hard threshold [0.5]
 *   loss.*      see channels/loss.h, on top of the link budget  [none]
 *
 * Sources. Data rates and payload limits: LoRaWAN Regional Parameters
 * (RP002) as coded in LoRaMac-node's region files; EU868 maximum
 * application payloads 51/51/51/115/222/222/222 are the repeater-compatible
 * ones (242 without a repeater), US915 11/53/125/242/242. EU868 sub-bands
 * (ETSI EN 300 220, LoRaMac-node RegionEU868): 863-865 MHz 0.1 %,
 * 865-868 1 %, 868.0-868.6 1 % (the default channels 868.1/868.3/868.5),
 * 868.7-869.2 0.1 %, 869.4-869.65 10 %, 869.7-870 1 %. Receive windows and
 * ACK_TIMEOUT = 2 +- 1 s: LoRaWAN 1.0.3, section 18 and 19. Link-budget
 * constants: channels/lora_phy.h.
 *
 * Duty cycle, one timer per sub-band:
 *   off_time  after an attempt of airtime a the sub-band is closed for
 *             a * (1/dc - 1) from its end (the per-transmission rule of
 *             LoRaSim, ns-3 lorawan and LoRaMac-node up to 4.4,
 *             RegionCommonCalcBackOff);
 *   credit    LoRaMac-node 4.5+ (RegionCommon.c: SetMaxTimeCredits,
 *             UpdateTimeCredits, RegionCommonUpdateBandTimeOff): each
 *             sub-band holds up to one hour (3600 s) of time credit, full at
 *             t = 0, refilled at one second per second; an attempt costs
 *             a / dc and may start only when the credit covers it; a band
 *             whose hour cannot cover one attempt is never usable (refused
 *             here). A fresh device may therefore burst 36 s of airtime on a
 *             1 % band before it is paced.
 *   none      no duty cycle (what-if runs; not legal in EU868).
 * Channel hopping: each attempt picks uniformly (from the stream's
 * generator) among the channels whose sub-band is open at the earliest
 * time any is; so channels in different sub-bands add capacity and
 * channels sharing one do not. US915 keeps no channel state: without a
 * duty cycle, which of its channels an attempt uses changes no timing.
 *
 * Class A timing. After an uplink ending at e, RX1 opens at e + rx1_delay
 * and RX2 one second later. Every window is open for 6 symbols
 * (LoRaMac-node's default minimum) at its data rate; RX1 uses the uplink's,
 * RX2 EU868 DR0 (SF12/125 kHz) or US915 DR8 (SF12/500 kHz) and the uplink's
 * without a region. (US915's RX1 is really at 500 kHz: the ACK time there
 * is overstated by tens of ms.) The device cannot send while its windows
 * are pending:
 *   unconfirmed, or a confirmed uplink that was lost:
 *       next attempt >= e + rx1_delay + 1 + RX2 window
 *   confirmed and received: the ACK (an empty 12-byte downlink: MHDR, FHDR,
 *       MIC; no payload CRC) comes in RX1:
 *       next attempt >= e + rx1_delay + ToA(ACK)
 *   a lost confirmed uplink is retransmitted after a further ACK_TIMEOUT,
 *       uniform in [1, 3] s, at most retries times.
 * With confirmed uplinks, a packet that chan_transmit's retry excludes is
 * sent unconfirmed: the device asks for ACKs only where it would act on
 * them (the paper's prioritised retransmission).
 * Then the sub-band's duty cycle may delay it further. A packet reaches the
 * application at the end of its first successful attempt plus delay. Not
 * modelled: ACK loss (an ACK always gets through, as in channels/link.c),
 * the data-rate step-down of repeated confirmed uplinks, gateway duty cycle.
 *
 * Link budget (only with distance): the stream draws one shadowing value
 * X ~ N(0, shadowing^2) -- one device at one place for the few minutes an
 * image takes -- so its SNR is tx_power - PL(distance) - X - noise floor,
 * and every attempt is lost with PER(SNR) (lora_phy.h), independently.
 * An attempt is lost if the link budget or loss.* loses it.
 */
#include "channels/chan_impl.h"
#include "channels/loss.h"
#include "channels/lora_phy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LORAWAN_FRAMING 13
#define LORA_PHY_MAX 255
#define ACK_PHY_BYTES 12
#define RX_WINDOW_SYMBOLS 6
#define MAX_CHANNELS 16
#define CREDIT_MAX 3600.0

typedef enum region { REGION_EU868, REGION_US915, REGION_NONE } region;
typedef enum dc_mode { DC_OFF_TIME, DC_CREDIT, DC_NONE } dc_mode;

static const char *const region_names[] = {"eu868", "us915", "none", NULL};
static const char *const region_titles[] = {"EU868", "US915", "none"};
static const char *const dc_names[] = {"off_time", "credit", "none", NULL};
static const char *const ldro_names[] = {"auto", "on", "off", NULL};

typedef struct data_rate {
    int sf;
    double bw;            /* Hz */
    size_t max_payload;   /* application payload, bytes */
} data_rate;

static const data_rate eu868_drs[] = {
    {12, 125e3, 51}, {11, 125e3, 51}, {10, 125e3, 51}, {9, 125e3, 115},
    {8, 125e3, 222}, {7, 125e3, 222}, {7, 250e3, 222},
};
static const data_rate us915_drs[] = {
    {10, 125e3, 11}, {9, 125e3, 53}, {8, 125e3, 125}, {7, 125e3, 242},
    {8, 500e3, 242},
};

typedef struct sub_band {
    double lo, hi;        /* MHz, [lo, hi) */
    double dc;
} sub_band;

static const sub_band eu868_bands[] = {
    {863.0, 865.0, 0.001}, {865.0, 868.0, 0.01}, {868.0, 868.6, 0.01},
    {868.7, 869.2, 0.001}, {869.4, 869.65, 0.1}, {869.7, 870.0, 0.01},
};
#define NBANDS (sizeof eu868_bands / sizeof eu868_bands[0])

typedef struct lora_cfg {
    region reg;
    int dr;                       /* -1 without a region */
    chan_lora_phy phy;
    int ldro_forced;              /* -1 auto, else 0/1 (for the label) */
    size_t framing, payload, max_payload;
    double dwell;
    dc_mode dc;
    size_t nch;
    double freq[MAX_CHANNELS];
    int band[MAX_CHANNELS];       /* index into eu868_bands */
    int confirmed;
    long retries;
    double rx1_delay, delay;
    double rx2_window, ack_toa;
    int budget;                   /* link budget on */
    double distance;
    chan_lora_budget b;
    double snr_mean;              /* before shadowing */
    chan_loss loss;
} lora_cfg;

/* ---- parameters ------------------------------------------------------------------ */

static int find_dr(const lora_cfg *c, const data_rate *drs, size_t n,
                   util_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (drs[i].sf == c->phy.sf && drs[i].bw == c->phy.bw)
            return (int)i;
    return util_errf(err, "sf: SF%d at %g kHz is not a %s data rate",
                     c->phy.sf, c->phy.bw / 1e3, region_titles[c->reg]);
}

static int parse_rate(util_params *p, lora_cfg *c, util_err *err)
{
    const data_rate *drs = c->reg == REGION_EU868 ? eu868_drs : us915_drs;
    size_t ndr = c->reg == REGION_EU868
                     ? sizeof eu868_drs / sizeof eu868_drs[0]
                     : sizeof us915_drs / sizeof us915_drs[0];
    long sf, dr;
    double bw;
    if (util_params_has(p, "dr")) {
        if (c->reg == REGION_NONE)
            return util_errf(err, "dr: region \"none\" has no data rates; "
                             "give sf and bw");
        if (util_params_has(p, "sf") || util_params_has(p, "bw"))
            return util_errf(err, "dr: give either dr or sf and bw, not both");
        if (util_params_int(p, "dr", 0, 0, (long)ndr - 1, &dr, err))
            return -1;
        c->phy.sf = drs[dr].sf;
        c->phy.bw = drs[dr].bw;
    } else {
        if (util_params_int(p, "sf", 7, 7, 12, &sf, err) ||
            util_params_num(p, "bw", 125, 125, 500, &bw, err))
            return -1;
        if (bw != 125 && bw != 250 && bw != 500)
            return util_errf(err, "bw: expected 125, 250 or 500 (kHz), got %g",
                             bw);
        c->phy.sf = (int)sf;
        c->phy.bw = bw * 1e3;
    }
    c->dr = -1;
    c->max_payload = LORA_PHY_MAX - c->framing;
    if (c->reg != REGION_NONE) {
        if ((c->dr = find_dr(c, drs, ndr, err)) < 0)
            return -1;
        /* The regional limit is on the LoRaWAN application payload; without
         * framing those 13 bytes are the user's too. */
        c->max_payload = drs[c->dr].max_payload + LORAWAN_FRAMING - c->framing;
    }
    return 0;
}

static int parse_phy(util_params *p, lora_cfg *c, util_err *err)
{
    long cr, preamble;
    int framing;
    const char *ldro;
    if (util_params_int(p, "cr", 1, 1, 4, &cr, err) ||
        util_params_int(p, "preamble", 8, 6, 65535, &preamble, err) ||
        util_params_bool(p, "implicit_header", 0, &c->phy.implicit, err) ||
        util_params_bool(p, "crc", 1, &c->phy.crc, err) ||
        util_params_str(p, "ldro", "auto", ldro_names, &ldro, err) ||
        util_params_bool(p, "framing", 1, &framing, err))
        return -1;
    c->phy.cr = (int)cr;
    c->phy.preamble = (int)preamble;
    c->framing = framing ? LORAWAN_FRAMING : 0;
    if (parse_rate(p, c, err))
        return -1;
    c->ldro_forced = strcmp(ldro, "auto") == 0 ? -1 : strcmp(ldro, "on") == 0;
    c->phy.ldro = c->ldro_forced < 0 ? chan_lora_ldro_auto(c->phy.sf, c->phy.bw)
                                     : c->ldro_forced;
    return 0;
}

static int parse_payload(util_params *p, lora_cfg *c, util_err *err)
{
    long payload;
    if (util_params_int(p, "payload", (long)c->max_payload, 1, 65535, &payload,
                        err))
        return -1;
    if ((size_t)payload > c->max_payload) {
        if (c->dr < 0)
            return util_errf(err, "payload: %ld bytes do not fit a LoRa frame "
                             "(at most %zu with%s LoRaWAN framing)", payload,
                             c->max_payload, c->framing ? "" : "out");
        return util_errf(err, "payload: %ld bytes exceed %s DR%d's (SF%d/%g "
                         "kHz) largest payload of %zu bytes", payload,
                         region_titles[c->reg], c->dr, c->phy.sf,
                         c->phy.bw / 1e3, c->max_payload);
    }
    c->payload = (size_t)payload;
    double def_dwell = c->reg == REGION_US915 ? 0.4 : 0;
    if (util_params_num(p, "dwell_time", def_dwell, 0, 1e3, &c->dwell, err))
        return -1;
    double toa = chan_lora_toa(&c->phy, c->payload + c->framing);
    if (c->dwell > 0 && toa > c->dwell) {
        size_t fit = c->payload;
        while (fit > 0 && chan_lora_toa(&c->phy, fit + c->framing) > c->dwell)
            fit--;
        return util_errf(err, "payload: %zu bytes take %.1f ms on air at "
                         "SF%d/%g kHz, over the %g ms dwell time (%zu bytes "
                         "fit)", c->payload, toa * 1e3, c->phy.sf,
                         c->phy.bw / 1e3, c->dwell * 1e3, fit);
    }
    return 0;
}

static int parse_frequencies(const char *s, lora_cfg *c, util_err *err)
{
    c->nch = 0;
    const char *q = s;
    for (;;) {
        char *end;
        double f = strtod(q, &end);
        if (end == q || (*end && *end != ','))
            return util_errf(err, "frequencies: expected MHz values separated "
                             "by commas, got \"%s\"", s);
        if (c->nch == MAX_CHANNELS)
            return util_errf(err, "frequencies: more than %d channels",
                             MAX_CHANNELS);
        size_t b = 0;
        while (b < NBANDS && !(f >= eu868_bands[b].lo && f < eu868_bands[b].hi))
            b++;
        if (b == NBANDS)
            return util_errf(err, "frequencies: %g MHz is in no EU868 "
                             "sub-band", f);
        c->freq[c->nch] = f;
        c->band[c->nch++] = (int)b;
        if (!*end)
            return 0;
        q = end + 1;
    }
}

static int parse_region_rules(util_params *p, lora_cfg *c, util_err *err)
{
    if (c->reg != REGION_EU868) {
        static const char *const eu_only[] = {"duty_cycle", "frequencies"};
        for (size_t i = 0; i < 2; i++)
            if (util_params_has(p, eu_only[i]))
                return util_errf(err, "%s: only for region \"eu868\" (%s has "
                                 "no duty cycle)", eu_only[i],
                                 region_titles[c->reg]);
        c->dc = DC_NONE;
        c->nch = 0;
        return 0;
    }
    const char *dc, *freqs;
    if (util_params_str(p, "duty_cycle", "off_time", dc_names, &dc, err) ||
        util_params_str(p, "frequencies", "868.1,868.3,868.5", NULL, &freqs,
                        err) ||
        parse_frequencies(freqs, c, err))
        return -1;
    c->dc = strcmp(dc, "off_time") == 0 ? DC_OFF_TIME
          : strcmp(dc, "credit") == 0   ? DC_CREDIT : DC_NONE;
    /* A packet that costs more than the whole hour of credit could never
     * be sent: refuse it rather than wait forever. */
    double toa = chan_lora_toa(&c->phy, c->payload + c->framing);
    for (size_t i = 0; c->dc == DC_CREDIT && i < c->nch; i++)
        if (toa / eu868_bands[c->band[i]].dc > CREDIT_MAX)
            return util_errf(err, "frequencies: %g MHz is in a %g %% sub-band "
                             "whose hourly credit cannot cover one %.2f s "
                             "packet", c->freq[i],
                             100 * eu868_bands[c->band[i]].dc, toa);
    return 0;
}

static const char *const budget_keys[] = {
    "tx_power", "d0", "pl_d0", "path_exponent", "shadowing", "noise_figure",
    "snr_width", NULL
};

static int parse_budget(util_params *p, lora_cfg *c, util_err *err)
{
    c->budget = util_params_has(p, "distance");
    if (!c->budget) {
        for (size_t i = 0; budget_keys[i]; i++)
            if (util_params_has(p, budget_keys[i]))
                return util_errf(err, "%s: the link budget needs a distance",
                                 budget_keys[i]);
        return 0;
    }
    chan_lora_budget *b = &c->b;
    if (util_params_num(p, "distance", 0, 1e-3, 1e7, &c->distance, err) ||
        util_params_num(p, "tx_power", 14, -30, 40, &b->tx_power, err) ||
        util_params_num(p, "d0", 40, 1e-3, 1e6, &b->d0, err) ||
        util_params_num(p, "pl_d0", 127.41, 0, 300, &b->pl_d0, err) ||
        util_params_num(p, "path_exponent", 2.08, 1, 10, &b->exponent, err) ||
        util_params_num(p, "shadowing", 3.57, 0, 30, &b->sigma, err) ||
        util_params_num(p, "noise_figure", 6, 0, 30, &b->noise_figure, err) ||
        util_params_num(p, "snr_width", 0.5, 0, 10, &b->width, err))
        return -1;
    c->snr_mean = b->tx_power - chan_lora_path_loss(b, c->distance) -
                  chan_lora_noise_floor(c->phy.bw, b->noise_figure);
    return 0;
}

static int parse_mac(util_params *p, lora_cfg *c, util_err *err)
{
    if (util_params_bool(p, "confirmed", 0, &c->confirmed, err) ||
        util_params_int(p, "retries", 0, 0, 7, &c->retries, err) ||
        util_params_num(p, "rx1_delay", 1, 1, 15, &c->rx1_delay, err) ||
        util_params_num(p, "delay", 0, 0, 1e6, &c->delay, err))
        return -1;
    if (c->retries > 0 && !c->confirmed)
        return util_errf(err, "retries: retransmissions need confirmed "
                         "uplinks (\"confirmed\": true)");
    chan_lora_phy rx2 = c->phy;
    if (c->reg != REGION_NONE) {
        rx2.sf = 12;
        rx2.bw = c->reg == REGION_EU868 ? 125e3 : 500e3;
    }
    c->rx2_window = RX_WINDOW_SYMBOLS * chan_lora_tsym(rx2.sf, rx2.bw);
    chan_lora_phy ack = c->phy;
    ack.crc = 0;
    ack.implicit = 0;
    c->ack_toa = chan_lora_toa(&ack, ACK_PHY_BYTES);
    return 0;
}

static int parse(util_params *p, lora_cfg *c, util_err *err)
{
    const char *reg;
    memset(c, 0, sizeof *c);
    if (util_params_str(p, "region", "eu868", region_names, &reg, err))
        return -1;
    c->reg = strcmp(reg, "eu868") == 0 ? REGION_EU868
           : strcmp(reg, "us915") == 0 ? REGION_US915 : REGION_NONE;
    return parse_phy(p, c, err) || parse_payload(p, c, err) ||
           parse_region_rules(p, c, err) || parse_budget(p, c, err) ||
           parse_mac(p, c, err) || chan_loss_parse(p, &c->loss, err) ? -1 : 0;
}

/* ---- label ------------------------------------------------------------------------ */

/* "-<tag><value>" when value differs from the default. */
static void append_num(char *buf, size_t len, size_t *off, const char *tag,
                       double v, double def)
{
    char num[32];
    if (v == def)
        return;
    chan_label_num(v, num, sizeof num);
    util_appendf(buf, len, off, "-%s%s", tag, num);
}

/* What differs from the defaults, so sweeps get distinct labels and the
 * common case a short one: "lora-eu868-sf7bw125". */
static void make_label(const lora_cfg *c, util_params *p, char *buf, size_t len)
{
    size_t off = 0;
    util_appendf(buf, len, &off, "lora-%s-sf%dbw%g", region_names[c->reg],
                 c->phy.sf, c->phy.bw / 1e3);
    append_num(buf, len, &off, "cr4_", 4 + c->phy.cr, 5);
    append_num(buf, len, &off, "pre", c->phy.preamble, 8);
    if (c->phy.implicit)
        util_appendf(buf, len, &off, "-ih");
    if (!c->phy.crc)
        util_appendf(buf, len, &off, "-nocrc");
    if (c->ldro_forced >= 0)
        util_appendf(buf, len, &off, "-ldro%s",
                     c->ldro_forced ? "on" : "off");
    if (!c->framing)
        util_appendf(buf, len, &off, "-raw");
    append_num(buf, len, &off, "p", (double)c->payload, (double)c->max_payload);
    append_num(buf, len, &off, "dwell", c->dwell,
               c->reg == REGION_US915 ? 0.4 : 0);
    if (c->reg == REGION_EU868 && c->dc != DC_OFF_TIME)
        util_appendf(buf, len, &off, "-dc%s",
                     c->dc == DC_CREDIT ? "credit" : "none");
    if (util_params_has(p, "frequencies")) {
        util_appendf(buf, len, &off, "-f");
        for (size_t i = 0; i < c->nch; i++) {
            char num[32];
            chan_label_num(c->freq[i], num, sizeof num);
            util_appendf(buf, len, &off, "%s%s", i ? "_" : "", num);
        }
    }
    if (c->confirmed)
        util_appendf(buf, len, &off, "-conf%ld", c->retries);
    append_num(buf, len, &off, "rx", c->rx1_delay, 1);
    append_num(buf, len, &off, "delay", c->delay, 0);
    if (c->budget) {
        append_num(buf, len, &off, "d", c->distance, 0);
        append_num(buf, len, &off, "tx", c->b.tx_power, 14);
        append_num(buf, len, &off, "d0_", c->b.d0, 40);
        append_num(buf, len, &off, "pl", c->b.pl_d0, 127.41);
        append_num(buf, len, &off, "n", c->b.exponent, 2.08);
        append_num(buf, len, &off, "sh", c->b.sigma, 3.57);
        append_num(buf, len, &off, "nf", c->b.noise_figure, 6);
        append_num(buf, len, &off, "w", c->b.width, 0.5);
    }
    char part[160];
    if (chan_loss_label(&c->loss, part, sizeof part) > 0)
        util_appendf(buf, len, &off, "-%s", part);
}

static int lora_create(util_params *params, void **state, size_t *payload,
                       char *label, size_t label_len, util_err *err)
{
    lora_cfg cfg;
    if (parse(params, &cfg, err))
        return -1;
    lora_cfg *c = malloc(sizeof *c);
    if (!c)
        return util_errf(err, "lora: out of memory");
    *c = cfg;
    *state = c;
    *payload = c->payload;
    make_label(c, params, label, label_len);
    return 0;
}

/* ---- transmission ------------------------------------------------------------------ */

/* One stream's progress: on the stack of one transmit call. */
typedef struct lora_run {
    double t;                     /* the MAC is free from here on */
    double band_free[NBANDS];     /* off_time: sub-band closed until */
    double credit[NBANDS];        /* credit: balance at credit_t, s */
    double credit_t[NBANDS];
    double per;                   /* link-budget loss per attempt */
    chan_loss_state loss;
} lora_run;

static double credit_at(const lora_run *r, int b, double t)
{
    return fmin(CREDIT_MAX, r->credit[b] + (t - r->credit_t[b]));
}

/* Earliest time >= run->t at which sub-band b allows an attempt of
 * airtime a. */
static double band_ready(const lora_cfg *c, const lora_run *r, int b, double a)
{
    double t = r->t;
    switch (c->dc) {
    case DC_OFF_TIME:
        return fmax(t, r->band_free[b]);
    case DC_CREDIT: {
        double need = a / eu868_bands[b].dc - credit_at(r, b, t);
        return need > 0 ? t + need : t;
    }
    case DC_NONE:
        break;
    }
    return t;
}

/* Picks the channel of the next attempt and returns when it starts; *band
 * is -1 when the region keeps no sub-band timers. */
static double pick_channel(const lora_cfg *c, const lora_run *r, double a,
                           util_rng *rng, int *band)
{
    *band = -1;
    if (c->nch == 0)
        return r->t;
    double ready[MAX_CHANNELS], tmin = INFINITY;
    for (size_t i = 0; i < c->nch; i++) {
        ready[i] = band_ready(c, r, c->band[i], a);
        tmin = fmin(tmin, ready[i]);
    }
    size_t cand[MAX_CHANNELS], n = 0;
    for (size_t i = 0; i < c->nch; i++)
        if (ready[i] <= tmin)
            cand[n++] = i;
    size_t k = n > 1 ? cand[util_rng_below(rng, n)] : cand[0];
    *band = c->band[k];
    return tmin;
}

static void spend_band(const lora_cfg *c, lora_run *r, int b, double start,
                       double a)
{
    if (b < 0)
        return;
    double dc = eu868_bands[b].dc;
    if (c->dc == DC_OFF_TIME) {
        r->band_free[b] = start + a + a * (1 / dc - 1);
    } else if (c->dc == DC_CREDIT) {
        r->credit[b] = credit_at(r, b, start) - a / dc;
        r->credit_t[b] = start;
    }
}

/* One attempt; returns 1 if it got through and sets *end. confirmed: the
 * uplink asks for an ACK. */
static int attempt(const lora_cfg *c, lora_run *r, double a, int confirmed,
                   int last, util_rng *rng, double *start, double *end)
{
    int band;
    *start = pick_channel(c, r, a, rng, &band);
    *end = *start + a;
    spend_band(c, r, band, *start, a);
    int lost = c->budget && util_rng_uniform(rng) < r->per;
    lost |= chan_loss_attempt(&c->loss, &r->loss, rng);
    if (confirmed && !lost)
        r->t = *end + c->rx1_delay + c->ack_toa;
    else
        r->t = *end + c->rx1_delay + 1 + c->rx2_window;
    if (confirmed && lost && !last)
        r->t += 1 + 2 * util_rng_uniform(rng);
    return !lost;
}

static void send_packet(const lora_cfg *c, lora_run *r, size_t len,
                        int confirmed, util_rng *rng, chan_arrival *out,
                        chan_stats *st)
{
    size_t on_air = len + c->framing;
    double a = chan_lora_toa(&c->phy, on_air), start, end = r->t;
    long max_attempts = confirmed ? 1 + c->retries : 1;
    *out = (chan_arrival){.t_arrive = INFINITY};
    while (!out->arrived && out->attempts < max_attempts) {
        int last = out->attempts + 1 == max_attempts;
        out->arrived = attempt(c, r, a, confirmed, last, rng, &start, &end);
        if (out->attempts++ == 0)
            out->t_start = start;
        st->airtime += a;
        st->bytes_on_air += on_air;
        st->attempts++;
    }
    st->t_end = end;
    if (out->arrived)
        out->t_arrive = end + c->delay;
    else
        st->lost++;
}

static int lora_transmit(const void *state, const size_t *len,
                         const uint8_t *retry, size_t n, util_rng *rng,
                         chan_arrival *out, chan_stats *stats, util_err *err)
{
    (void)err;
    const lora_cfg *c = state;
    lora_run r = {0};
    for (size_t b = 0; b < NBANDS; b++)
        r.credit[b] = CREDIT_MAX;
    if (c->budget) {
        double snr = c->snr_mean;
        if (c->b.sigma > 0)
            snr -= c->b.sigma * util_rng_normal(rng);
        r.per = chan_lora_per(snr, c->phy.sf, c->b.width);
    }
    chan_loss_start(&c->loss, &r.loss, rng);
    *stats = (chan_stats){0};
    /* A packet that may not be retried gains nothing from an ACK: it goes
     * out unconfirmed (prioritised retransmission over LoRaWAN). Without
     * retries nothing is retried, and retry changes nothing. */
    int arq = c->confirmed && c->retries > 0;
    for (size_t i = 0; i < n; i++)
        send_packet(c, &r, len[i], c->confirmed && (!arq || !retry || retry[i]),
                    rng, &out[i], stats);
    return 0;
}

static int lora_arq(const void *state)
{
    const lora_cfg *c = state;
    return c->confirmed && c->retries > 0;
}

static void lora_destroy(void *state)
{
    free(state);
}

const chan_vtable chan_lora_vtable = {
    .name = "lora",
    .create = lora_create,
    .transmit = lora_transmit,
    .destroy = lora_destroy,
    .arq = lora_arq,
};
