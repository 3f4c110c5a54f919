/* Adam with decoupled weight decay (Loshchilov & Hutter), SGD with
 * momentum, and learning-rate schedules. The optimiser keeps one or two
 * state arrays per trainable parameter, saved in checkpoints so that a
 * resumed run continues exactly where it stopped. */
#include "nn/nn_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nn_optim {
    nn_model *m;
    nn_optim_cfg cfg;
    size_t n;       /* parameters when created */
    float **s1, **s2; /* Adam m and v; SGD velocity in s1 */
    long step;
};

int nn_optim_create(nn_model *m, const nn_optim_cfg *cfg, nn_optim **out,
                    util_err *err)
{
    *out = NULL;
    if (cfg->kind != NN_OPTIM_ADAM && cfg->kind != NN_OPTIM_SGD)
        return util_errf(err, "optimiser: unknown kind");
    nn_optim *o = calloc(1, sizeof *o);
    if (!o)
        return util_errf(err, "optimiser: out of memory");
    o->m = m;
    o->cfg = *cfg;
    o->n = nn_model_nparams(m);
    o->s1 = calloc(o->n ? o->n : 1, sizeof *o->s1);
    o->s2 = calloc(o->n ? o->n : 1, sizeof *o->s2);
    int ok = o->s1 && o->s2;
    for (size_t i = 0; ok && i < o->n; i++) {
        const nn_param *p = nn_model_cparam(m, i);
        if (!p->grad)
            continue;
        o->s1[i] = calloc(p->numel, sizeof(float));
        if (cfg->kind == NN_OPTIM_ADAM)
            o->s2[i] = calloc(p->numel, sizeof(float));
        ok = o->s1[i] && (cfg->kind != NN_OPTIM_ADAM || o->s2[i]);
    }
    if (!ok) {
        nn_optim_destroy(o);
        return util_errf(err, "optimiser: out of memory");
    }
    *out = o;
    return 0;
}

void nn_optim_destroy(nn_optim *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        if (o->s1)
            free(o->s1[i]);
        if (o->s2)
            free(o->s2[i]);
    }
    free(o->s1);
    free(o->s2);
    free(o);
}

long nn_optim_steps(const nn_optim *o)
{
    return o->step;
}

static void adam_param(const nn_optim *o, nn_param *p, float *m, float *v,
                       float lr)
{
    const nn_optim_cfg *c = &o->cfg;
    double bc1 = 1.0 - pow(c->beta1, (double)o->step);
    double bc2 = 1.0 - pow(c->beta2, (double)o->step);
    float a = (float)(lr / bc1), s2 = (float)(1.0 / sqrt(bc2));
    float decay = p->decay ? 1.0f - lr * c->weight_decay : 1.0f;
    for (size_t k = 0; k < p->numel; k++) {
        float g = p->grad[k];
        m[k] = c->beta1 * m[k] + (1.0f - c->beta1) * g;
        v[k] = c->beta2 * v[k] + (1.0f - c->beta2) * g * g;
        p->data[k] = p->data[k] * decay - a * m[k] / (sqrtf(v[k]) * s2 + c->eps);
    }
}

static void sgd_param(const nn_optim *o, nn_param *p, float *vel, float lr)
{
    const nn_optim_cfg *c = &o->cfg;
    float wd = p->decay ? c->weight_decay : 0.0f;
    for (size_t k = 0; k < p->numel; k++) {
        float g = p->grad[k] + wd * p->data[k];
        vel[k] = c->momentum * vel[k] + g;
        p->data[k] -= lr * (c->nesterov ? g + c->momentum * vel[k] : vel[k]);
    }
}

void nn_optim_step(nn_optim *o, float lr)
{
    o->step++;
    for (size_t i = 0; i < o->n; i++) {
        nn_param *p = nn_model_param(o->m, i);
        if (!p || !p->grad)
            continue;
        if (o->cfg.kind == NN_OPTIM_ADAM)
            adam_param(o, p, o->s1[i], o->s2[i], lr);
        else
            sgd_param(o, p, o->s1[i], lr);
    }
}

int nn_optim_write(const nn_optim *o, nn_st_writer *w, util_err *err)
{
    char name[NN_NAME_LEN + 16], step[32];
    for (size_t i = 0; i < o->n; i++) {
        const nn_param *p = nn_model_cparam(o->m, i);
        if (!p->grad)
            continue;
        snprintf(name, sizeof name, "optim.s1.%s", p->name);
        if (nn_st_writer_tensor(w, name, p->ndim, p->shape, o->s1[i], err))
            return -1;
        snprintf(name, sizeof name, "optim.s2.%s", p->name);
        if (o->s2[i] && nn_st_writer_tensor(w, name, p->ndim, p->shape, o->s2[i], err))
            return -1;
    }
    snprintf(step, sizeof step, "%ld", o->step);
    return nn_st_writer_meta(w, "optim.step", step, err);
}

int nn_optim_read(nn_optim *o, const nn_st_file *f, util_err *err)
{
    char name[NN_NAME_LEN + 16];
    for (size_t i = 0; i < o->n; i++) {
        const nn_param *p = nn_model_cparam(o->m, i);
        if (!p->grad)
            continue;
        snprintf(name, sizeof name, "optim.s1.%s", p->name);
        if (nn_st_read(f, name, p->ndim, p->shape, o->s1[i], err))
            return -1;
        snprintf(name, sizeof name, "optim.s2.%s", p->name);
        if (o->s2[i] && nn_st_read(f, name, p->ndim, p->shape, o->s2[i], err))
            return -1;
    }
    /* At most 2^53 (exact in a double, and far from LONG_MAX, which the
     * next step would overflow). */
    double step;
    if (nn_st_meta_num(f, "optim.step", 1, 0, 9007199254740992.0, &step, err))
        return -1;
    o->step = (long)step;
    return 0;
}

float nn_lr_at(const nn_lr_sched *s, long step)
{
    if (s->warmup > 0 && step < s->warmup)
        return s->base * (float)(step + 1) / (float)s->warmup;
    switch (s->kind) {
    case NN_LR_STEP:
        if (s->step_every <= 0)
            return s->base;
        return s->base * powf(s->gamma, (float)((step - s->warmup) / s->step_every));
    case NN_LR_COSINE: {
        long span = s->total - s->warmup;
        double t = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
        if (t > 1.0)
            t = 1.0;
        return s->min + (s->base - s->min) * 0.5f * (float)(1.0 + cos(M_PI * t));
    }
    case NN_LR_CONST:
    default:
        return s->base;
    }
}
