/* The channel interface: model registry, creation, and the checks every
 * model shares. */
#include "channels/chan_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every file-name-safe label a model writes must fit here. */
#define CHAN_LABEL_LEN 256

/* Adding a model: one file defining chan_<name>_vtable (whose .name is
 * "<name>"), its extern in chan_impl.h, and one X(name) here. The X-macro
 * gives both the vtable array and chan_names() from that one line. */
/* The ns-3 models exist only when the Makefile found ns-3 (LIMITNET_NS3). */
#ifdef LIMITNET_NS3
#define CHAN_NS3_MODELS(X) X(ns3_p2p) X(ns3_lrwpan)
#else
#define CHAN_NS3_MODELS(X)
#endif

#define CHAN_MODELS(X) \
    X(link) \
    X(ieee802154) \
    X(trace) \
    X(lora) \
    X(sigfox) \
    X(nbiot) \
    CHAN_NS3_MODELS(X)

#define VTABLE_PTR(m) &chan_##m##_vtable,
#define MODEL_NAME(m) #m,

static const chan_vtable *const registry[] = {CHAN_MODELS(VTABLE_PTR)};
static const char *const names[] = {CHAN_MODELS(MODEL_NAME) NULL};

#define NMODELS (sizeof registry / sizeof registry[0])

struct chan {
    const chan_vtable *vt;
    void *state;
    size_t payload;
    char label[CHAN_LABEL_LEN];
};

static const chan_vtable *lookup(const char *model)
{
    for (size_t i = 0; i < NMODELS; i++)
        if (strcmp(registry[i]->name, model) == 0)
            return registry[i];
    return NULL;
}

static int unknown_model(const char *model, util_err *err)
{
#ifndef LIMITNET_NS3
    if (strncmp(model, "ns3_", 4) == 0)
        return util_errf(err,
                         "channel model \"%s\" needs ns-3, which was not "
                         "found at build time (pkg-config ns3-core ns3-lr-wpan "
                         "...; scripts/install-deps.sh installs libns3-dev)",
                         model);
#endif
    char list[256];
    util_list_text(list, sizeof list, chan_names());
    return util_errf(err, "unknown channel model \"%s\" (known: %s)", model,
                     list);
}

int chan_create(const char *model, util_params *params, chan **out,
                util_err *err)
{
    *out = NULL;
    const chan_vtable *vt = lookup(model);
    if (!vt)
        return unknown_model(model, err);
    chan *c = calloc(1, sizeof *c);
    if (!c)
        return util_errf(err, "%s: out of memory", model);
    c->vt = vt;
    if (vt->create(params, &c->state, &c->payload, c->label, sizeof c->label,
                   err)) {
        free(c);
        return -1;
    }
    if (util_params_check_used(params, err)) {
        chan_destroy(c);
        return -1;
    }
    *out = c;
    return 0;
}

void chan_destroy(chan *c)
{
    if (!c)
        return;
    if (c->vt->destroy)
        c->vt->destroy(c->state);
    free(c);
}

size_t chan_payload(const chan *c)
{
    return c->payload;
}

const char *chan_label(const chan *c)
{
    return c->label;
}

int chan_transmit(const chan *c, const size_t *len, const uint8_t *retry,
                  size_t n, util_rng *rng, chan_arrival *out, chan_stats *stats,
                  util_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (len[i] > c->payload)
            return util_errf(err,
                             "packet %zu: %zu bytes exceed the channel's "
                             "payload size of %zu bytes", i, len[i],
                             c->payload);
    chan_stats local;
    return c->vt->transmit(c->state, len, retry, n, rng, out,
                           stats ? stats : &local, err);
}

int chan_has_arq(const chan *c)
{
    return c->vt->arq && c->vt->arq(c->state);
}

const char *const *chan_names(void)
{
    return names;
}
