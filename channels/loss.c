/* Packet loss models: none, independent, Gilbert-Elliott (see loss.h). */
#include "channels/loss.h"

#include <stdio.h>
#include <string.h>

static const char *const model_names[] = {
    "none", "independent", "gilbert_elliott", NULL
};

/* Keys each model reads; a key of another model present in the scenario is
 * almost certainly a mistake, so it is reported as such rather than as a
 * plain "unknown key". */
static const char *const model_keys[][5] = {
    [CHAN_LOSS_NONE] = {NULL},
    [CHAN_LOSS_INDEPENDENT] = {"loss.p", NULL},
    [CHAN_LOSS_GILBERT_ELLIOTT] = {"loss.p_gb", "loss.p_bg", "loss.loss_good",
                                   "loss.loss_bad", NULL},
};

static int reads_key(chan_loss_kind kind, const char *key)
{
    for (size_t i = 0; model_keys[kind][i]; i++)
        if (strcmp(model_keys[kind][i], key) == 0)
            return 1;
    return 0;
}

static int check_foreign_keys(const util_params *params, chan_loss_kind kind,
                              util_err *err)
{
    for (size_t k = 0; k < sizeof model_keys / sizeof model_keys[0]; k++)
        for (size_t i = 0; model_keys[k][i]; i++) {
            const char *key = model_keys[k][i];
            if (util_params_has(params, key) && !reads_key(kind, key))
                return util_errf(err, "%s: not used with loss.model \"%s\"",
                                 key, model_names[kind]);
        }
    return 0;
}

/* A probability the model cannot do without: no default would be right. */
static int required_prob(util_params *params, const char *key,
                         chan_loss_kind kind, double *out, util_err *err)
{
    if (!util_params_has(params, key))
        return util_errf(err, "%s: required with loss.model \"%s\"", key,
                         model_names[kind]);
    return util_params_num(params, key, 0, 0, 1, out, err);
}

static int parse_ge(util_params *params, chan_loss *l, util_err *err)
{
    chan_loss_kind k = CHAN_LOSS_GILBERT_ELLIOTT;
    if (required_prob(params, "loss.p_gb", k, &l->p_gb, err) ||
        required_prob(params, "loss.p_bg", k, &l->p_bg, err) ||
        util_params_num(params, "loss.loss_good", 0, 0, 1, &l->loss_good, err) ||
        util_params_num(params, "loss.loss_bad", 1, 0, 1, &l->loss_bad, err))
        return -1;
    /* Both zero leaves the chain stuck in its initial state: no stationary
     * distribution, so the long-run loss would depend on the first draw. */
    if (l->p_gb + l->p_bg <= 0)
        return util_errf(err, "loss.p_gb: loss.p_gb + loss.p_bg must be > 0");
    return 0;
}

int chan_loss_parse(util_params *params, chan_loss *out, util_err *err)
{
    const char *name;
    memset(out, 0, sizeof *out);
    if (util_params_str(params, "loss.model", "none", model_names, &name, err))
        return -1;
    size_t k = 0;
    while (strcmp(model_names[k], name) != 0)
        k++;
    out->kind = (chan_loss_kind)k;
    if (check_foreign_keys(params, out->kind, err))
        return -1;
    switch (out->kind) {
    case CHAN_LOSS_NONE:
        return 0;
    case CHAN_LOSS_INDEPENDENT:
        return required_prob(params, "loss.p", out->kind, &out->p, err);
    case CHAN_LOSS_GILBERT_ELLIOTT:
        return parse_ge(params, out, err);
    }
    return 0;
}

static double stationary_bad(const chan_loss *l)
{
    return l->p_gb / (l->p_gb + l->p_bg);
}

double chan_loss_stationary(const chan_loss *loss)
{
    switch (loss->kind) {
    case CHAN_LOSS_NONE:
        return 0;
    case CHAN_LOSS_INDEPENDENT:
        return loss->p;
    case CHAN_LOSS_GILBERT_ELLIOTT: {
        double pb = stationary_bad(loss);
        return pb * loss->loss_bad + (1 - pb) * loss->loss_good;
    }
    }
    return 0;
}

void chan_loss_start(const chan_loss *loss, chan_loss_state *st,
                     util_rng *rng)
{
    st->bad = 0;
    if (loss->kind == CHAN_LOSS_GILBERT_ELLIOTT)
        st->bad = util_rng_uniform(rng) < stationary_bad(loss);
}

/* uniform() < p is never true for p = 0 and always true for p = 1, so the
 * edge cases need no special handling. */
static int draw(util_rng *rng, double p)
{
    return util_rng_uniform(rng) < p;
}

int chan_loss_attempt(const chan_loss *loss, chan_loss_state *st,
                      util_rng *rng)
{
    switch (loss->kind) {
    case CHAN_LOSS_NONE:
        return 0;
    case CHAN_LOSS_INDEPENDENT:
        return draw(rng, loss->p);
    case CHAN_LOSS_GILBERT_ELLIOTT:
        /* netem's order: step the chain, then draw in the new state. */
        if (st->bad ? draw(rng, loss->p_bg) : draw(rng, loss->p_gb))
            st->bad = !st->bad;
        return draw(rng, st->bad ? loss->loss_bad : loss->loss_good);
    }
    return 0;
}

void chan_label_num(double v, char *buf, size_t len)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.10g", v);
    size_t j = 0;
    for (size_t i = 0; tmp[i] && j + 1 < len; i++)
        if (tmp[i] != '+')
            buf[j++] = tmp[i];
    if (len)
        buf[j] = 0;
}

int chan_loss_label(const chan_loss *loss, char *buf, size_t len)
{
    char a[32], b[32], c[32], d[32];
    switch (loss->kind) {
    case CHAN_LOSS_NONE:
        return snprintf(buf, len, "%s", "");
    case CHAN_LOSS_INDEPENDENT:
        chan_label_num(loss->p, a, sizeof a);
        return snprintf(buf, len, "iid%s", a);
    case CHAN_LOSS_GILBERT_ELLIOTT:
        chan_label_num(loss->p_gb, a, sizeof a);
        chan_label_num(loss->p_bg, b, sizeof b);
        chan_label_num(loss->loss_bad, c, sizeof c);
        chan_label_num(loss->loss_good, d, sizeof d);
        return snprintf(buf, len, "ge%s_%s_%s_%s", a, b, c, d);
    }
    return snprintf(buf, len, "%s", "");
}
