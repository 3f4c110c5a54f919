/* LoRa time on air and link budget; formulas and sources in lora_phy.h. */
#include "channels/lora_phy.h"

#include <math.h>

double chan_lora_tsym(int sf, double bw)
{
    return ldexp(1.0, sf) / bw;
}

int chan_lora_ldro_auto(int sf, double bw)
{
    /* 16 ms exactly is SF11/125 kHz and SF12/250 kHz, both "on" in
     * Semtech's driver: compare with a margin below 16 ms, not at it. */
    return chan_lora_tsym(sf, bw) >= 0.016 - 1e-12;
}

double chan_lora_toa(const chan_lora_phy *p, size_t pl)
{
    double tsym = chan_lora_tsym(p->sf, p->bw);
    double tpre = (p->preamble + 4.25) * tsym;
    double num = 8.0 * (double)pl - 4.0 * p->sf + 28 + 16 * p->crc -
                 20 * p->implicit;
    double den = 4.0 * (p->sf - 2 * p->ldro);
    double blocks = ceil(num / den);
    double nsym = 8 + fmax(blocks * (p->cr + 4), 0);
    return tpre + nsym * tsym;
}

double chan_lora_path_loss(const chan_lora_budget *b, double d)
{
    return b->pl_d0 + 10 * b->exponent * log10(d / b->d0);
}

double chan_lora_noise_floor(double bw, double noise_figure)
{
    return -174 + 10 * log10(bw) + noise_figure;
}

double chan_lora_snr_limit(int sf)
{
    /* SX1276 datasheet, table 13: 2.5 dB per SF step from -7.5 at SF7. */
    return -7.5 - 2.5 * (sf - 7);
}

double chan_lora_per(double snr, int sf, double width)
{
    double margin = snr - chan_lora_snr_limit(sf);
    if (width <= 0)
        return margin >= 0 ? 0 : 1;
    return 1 / (1 + exp(margin / width));
}
