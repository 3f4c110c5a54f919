/*
 * The physics of the ieee802154 channel model (channels/ieee802154.c),
 * exposed so that tests can check them at hand-computed points. Only
 * channels/ and its tests include this header.
 */
#ifndef CHANNELS_IEEE802154_H
#define CHANNELS_IEEE802154_H

#include <stddef.h>

/* SNR in dB at the receiver: tx_power (dBm) less the log-distance path
 * loss (reference loss 46.6777 dB at 1 m, the given exponent) less the
 * noise power of ns-3 lr-wpan's 5 MHz noise band at 290 K, raised by the
 * noise figure (dB). */
double chan_ieee802154_snr_db(double distance, double tx_power,
                              double exponent, double noise_figure);

/* O-QPSK bit error rate at a linear SNR (IEEE 802.15.4-2006 Annex E,
 * E.4.1.8, as ns-3's LrWpanErrorModel computes it). */
double chan_ieee802154_ber(double snr);

/* Probability that a frame of the given bits on air (PHY header included)
 * is lost at this SNR in dB: 1 below ns-3's -5 dB synchronisation floor,
 * else 1 - (1 - BER)^bits. */
double chan_ieee802154_per(double snr_db, size_t bits);

#endif
