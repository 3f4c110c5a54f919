/*
 * LoRa physical layer arithmetic shared by the LoRa channel (channels/lora.c)
 * and its tests: time on air and the link budget. Pure functions; only
 * channels/ and tests include this header.
 *
 * Time on air: Semtech, "SX1272/3/6/7/8: LoRa Modem Designer's Guide"
 * (AN1200.13), section 4, the formula also used by the ns-3 lorawan module
 * and LoRaSim:
 *
 *   Tsym  = 2^SF / BW
 *   Tpre  = (npreamble + 4.25) * Tsym
 *   nsym  = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH)
 *                        / (4 (SF - 2 DE))) * (CR + 4), 0)
 *   ToA   = Tpre + nsym * Tsym
 *
 * Link budget (all in dB/dBm):
 *
 *   PL(d)  = PL(d0) + 10 n log10(d / d0) + X,  X ~ N(0, sigma^2)
 *            log-distance path loss with log-normal shadowing; defaults
 *            d0 = 40 m, PL(d0) = 127.41 dB, n = 2.08, sigma = 3.57 dB are
 *            Bor et al., "Do LoRa Low-Power Wide-Area Networks Scale?"
 *            (MSWiM 2016), measured in a built-up area and used by
 *            LoRaSim and FLoRa. They are harsh: at 14 dBm the
 *            mean SNR reaches SF7's limit at about 140 m and SF12's at
 *            about 550 m (125 kHz, NF 6 dB).
 *   N      = -174 + 10 log10(BW) + NF          thermal noise (kTB at 290 K)
 *            plus the receiver's noise figure; NF = 6 dB is Semtech's
 *            figure in AN1200.22 ("LoRa Modulation Basics").
 *   SNR    = Ptx - PL(d) - N
 *   limit  = -7.5, -10, -12.5, -15, -17.5, -20 dB for SF7..SF12: the
 *            demodulator floor of the SX1276 datasheet (table 13), which
 *            with NF = 6 dB gives the -124..-137 dBm sensitivities at
 *            125 kHz that ns-3 lorawan uses.
 *   PER    = 1 / (1 + exp((SNR - limit) / w))
 *            a logistic waterfall centred on the limit (PER 50 % there).
 *            w is a modelling choice, not a measured figure: w = 0.5 dB
 *            takes PER from 90 % to 10 % over 2.2 dB, the steepness of
 *            published SX127x PER curves; w = 0 is the hard threshold of
 *            LoRaSim and ns-3 lorawan (received iff SNR >= limit).
 *            The curve ignores the packet length, as those simulators do.
 */
#ifndef CHANNELS_LORA_PHY_H
#define CHANNELS_LORA_PHY_H

#include <stddef.h>

typedef struct chan_lora_phy {
    int sf;          /* spreading factor, 7..12 */
    double bw;       /* bandwidth, Hz: 125e3, 250e3 or 500e3 */
    int cr;          /* coding rate 4/(4+cr), cr = 1..4 */
    int preamble;    /* programmed preamble symbols (the modem adds 4.25) */
    int implicit;    /* 1: implicit header (no PHY header sent) */
    int crc;         /* 1: payload CRC on */
    int ldro;        /* 1: low-data-rate optimisation on */
} chan_lora_phy;

/* Symbol time, s. */
double chan_lora_tsym(int sf, double bw);
/* Semtech's rule for low-data-rate optimisation: on when Tsym >= 16 ms
 * (SF11/12 at 125 kHz, SF12 at 250 kHz). */
int chan_lora_ldro_auto(int sf, double bw);
/* Time on air of a PHY payload of pl bytes, s. */
double chan_lora_toa(const chan_lora_phy *phy, size_t pl);

typedef struct chan_lora_budget {
    double tx_power;      /* dBm */
    double d0, pl_d0;     /* reference distance (m) and its path loss (dB) */
    double exponent;      /* path-loss exponent n */
    double sigma;         /* shadowing standard deviation, dB */
    double noise_figure;  /* dB */
    double width;         /* logistic width of the PER curve, dB; 0: step */
} chan_lora_budget;

/* Mean path loss at distance d (m), dB (no shadowing). */
double chan_lora_path_loss(const chan_lora_budget *b, double d);
/* Noise floor for bandwidth bw (Hz), dBm. */
double chan_lora_noise_floor(double bw, double noise_figure);
/* Demodulation SNR limit of a spreading factor, dB. */
double chan_lora_snr_limit(int sf);
/* Packet error rate at a given SNR (dB). */
double chan_lora_per(double snr, int sf, double width);

#endif
