/*
 * Packet loss models shared by the channel models (link, LoRa, Sigfox,
 * 802.15.4, ...). Only channels/ includes this header.
 *
 * Parameters (flattened scenario keys):
 *
 *   loss.model      "none" (default), "independent" or "gilbert_elliott"
 *   loss.p          independent: loss probability per attempt, [0, 1]; required
 *   loss.p_gb       Gilbert-Elliott: P(good -> bad) per attempt, [0, 1]; required
 *   loss.p_bg       Gilbert-Elliott: P(bad -> good) per attempt, [0, 1]; required;
 *                   p_gb + p_bg > 0
 *   loss.loss_good  Gilbert-Elliott: loss probability in the good state (default 0)
 *   loss.loss_bad   Gilbert-Elliott: loss probability in the bad state (default 1)
 *
 * The Gilbert-Elliott parameters are tc-netem's, renamed:
 *
 *   tc qdisc ... netem loss gemodel p r 1-h 1-k
 *     p = loss.p_gb, r = loss.p_bg, 1-h = loss.loss_bad, 1-k = loss.loss_good
 *
 * and, like netem, each attempt first steps the chain and then draws the
 * loss in the new state. Stationary loss rate:
 *
 *   p/(p+r) * (1-h) + r/(p+r) * (1-k)
 *   = p_gb/(p_gb+p_bg) * loss_bad + p_bg/(p_gb+p_bg) * loss_good
 *
 * A chan_loss is configuration only and may be shared between threads; the
 * chain's state lives in a chan_loss_state that each transmission owns.
 */
#ifndef CHANNELS_LOSS_H
#define CHANNELS_LOSS_H

#include <stddef.h>

#include "util/util.h"

typedef enum chan_loss_kind {
    CHAN_LOSS_NONE,
    CHAN_LOSS_INDEPENDENT,
    CHAN_LOSS_GILBERT_ELLIOTT
} chan_loss_kind;

typedef struct chan_loss {
    chan_loss_kind kind;
    double p;                       /* independent */
    double p_gb, p_bg;              /* Gilbert-Elliott transitions */
    double loss_good, loss_bad;     /* Gilbert-Elliott per-state loss */
} chan_loss;

typedef struct chan_loss_state {
    int bad;                        /* Gilbert-Elliott: in the bad state */
} chan_loss_state;

/* Reads the loss.* keys; a key that belongs to another loss model is an
 * error naming it. */
int chan_loss_parse(util_params *params, chan_loss *out, util_err *err);

/* Long-run fraction of attempts lost. */
double chan_loss_stationary(const chan_loss *loss);

/* Starts a stream: draws the Gilbert-Elliott state from the stationary
 * distribution, so that short streams see the long-run loss on average. */
void chan_loss_start(const chan_loss *loss, chan_loss_state *st,
                     util_rng *rng);

/* One transmission attempt: returns 1 if it is lost. */
int chan_loss_attempt(const chan_loss *loss, chan_loss_state *st,
                      util_rng *rng);

/* A file-name-safe label part ("", "iid0.1", "ge0.05_0.3_0.8_0.01" in
 * netem's p_r_1-h_1-k order); returns the length snprintf would write. */
int chan_loss_label(const chan_loss *loss, char *buf, size_t len);

/* Formats a number for a label: like %.10g but without '+', which is not
 * file-name safe ("1e+20" -> "1e20"). */
void chan_label_num(double v, char *buf, size_t len);

#endif
