/*
 * What `limitnet train adapt` shows the classifier: each training item
 * reconstructed by one codec setting of a scenario's family (drawn
 * uniformly) from a prefix of its packets of uniform length 1..n, n the
 * packets the setting makes of that item at the scenario's first channel's
 * payload. That is the runner's budget rule on a lossless link, so the
 * adapted classifier sees the partial images the runner will show it at
 * every byte budget and deadline. Lives in sim/ because the codec settings
 * come from a scenario; the training loop (train/) only calls it.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "sim/sim_impl.h"

struct sim_adapt {
    codec **c;
    size_t n, payload;
    codec_stream st;
    codec_packet *view;
    uint8_t *arrived;
    size_t cap;
    char what[160];
};

static int grow(sim_adapt *a, size_t n, util_err *err)
{
    if (n <= a->cap)
        return 0;
    size_t cap = 2 * n;
    codec_packet *v = realloc(a->view, cap * sizeof *v);
    if (v)
        a->view = v;
    uint8_t *m = realloc(a->arrived, cap);
    if (m)
        a->arrived = m;
    if (!v || !m)
        return util_errf(err, "out of memory");
    a->cap = cap;
    return 0;
}

int sim_adapt_reconstruct(void *ctx, const util_image *img, util_rng *rng, util_image *out,
                          util_err *err)
{
    sim_adapt *a = ctx;
    codec *c = a->c[util_rng_below(rng, a->n)];
    if (codec_encode(c, img, a->payload, &a->st, err) || grow(a, a->st.n + 1, err))
        return -1;
    size_t k = 1 + util_rng_below(rng, a->st.n);
    for (size_t j = 0; j < a->st.n; j++) {
        /* a packet not received keeps its length and no bytes, as in a run */
        a->arrived[j] = j < k;
        a->view[j] = (codec_packet){j < k ? a->st.pkt[j].data : NULL, a->st.pkt[j].len,
                                    a->st.pkt[j].priority};
    }
    codec_stream view = {a->view, a->st.n, a->st.n};
    return codec_decode(c, &view, a->arrived, out, err);
}

int sim_adapt_open(const char *scenario, const char *family, sim_adapt **out,
                   util_err *err)
{
    *out = NULL;
    sim_scenario *sc;
    if (sim_scenario_load(scenario, &sc, err))
        return -1;
    sim_adapt *a = calloc(1, sizeof *a);
    int rc = a ? 0 : util_errf(err, "out of memory");
    if (!rc) {
        codec_stream_init(&a->st);
        a->c = calloc(sc->ncodecs, sizeof *a->c);
        a->payload = sc->chans[0].payload;
        rc = a->c ? 0 : util_errf(err, "out of memory");
    }
    for (size_t k = 0; !rc && k < sc->ncodecs; k++) {
        const sim_codec_setting *set = &sc->codecs[k];
        char fam[SIM_NAME_LEN];
        sim_family_of(set->label, fam, sizeof fam);
        /* a family, or one setting by its whole label */
        if (strcmp(fam, family) != 0 && strcmp(set->label, family) != 0)
            continue;
        const transport_cfg *tc = &set->transport;
        if (tc->repeat_first || tc->fec_overhead > 0 || tc->arq)
            rc = util_errf(err, "%s: %s has a transport; adaptation takes codec packets "
                           "as they are", scenario, set->label);
        util_params p = set->params;
        if (!rc && (rc = codec_create(set->codec, &p, &a->c[a->n], err)) == 0)
            a->n++;
    }
    if (!rc && a->n == 0)
        rc = util_errf(err, "%s: no codec setting of family \"%s\" (a family is a label "
                       "without its numbers: jpeg-abbreviated-q30 -> jpeg-abbreviated; or "
                       "a whole label)",
                       scenario, family);
    if (!rc)
        snprintf(a->what, sizeof a->what, "%s (%zu setting%s of %s, prefixes of "
                 "%zu-byte packets)", family, a->n, a->n == 1 ? "" : "s", scenario,
                 a->payload);
    sim_scenario_free(sc);
    if (rc) {
        sim_adapt_close(a);
        return -1;
    }
    *out = a;
    return 0;
}

const char *sim_adapt_what(const sim_adapt *a)
{
    return a->what;
}

void sim_adapt_close(sim_adapt *a)
{
    if (!a)
        return;
    for (size_t k = 0; k < a->n; k++)
        codec_destroy(a->c[k]);
    free(a->c);
    codec_stream_free(&a->st);
    free(a->view);
    free(a->arrived);
    free(a);
}
