/* The model graph: nodes in the order they were added (which is a
 * topological order, as a layer can only read earlier nodes), parameters,
 * and the forward and backward passes over a workspace. */
#include "nn/nn_impl.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nn_node {
    char name[NN_NAME_LEN];
    nn_layer L;
    int in[NN_MAX_INPUTS];
    int nin;
    nn_shape shape; /* per sample */
    int alias;      /* >= 0: folded away, reads as that node */
} nn_node;

struct nn_model {
    nn_node *nodes;
    int nnodes, cap;
    nn_param **params; /* individually allocated: layers keep pointers */
    size_t nparams, pcap;
    size_t mark; /* nparams before the node being added */
    int folded;
};

struct nn_ws {
    int nnodes;
    nn_tensor *out, *grad;
    nn_lstate *st;
    char *reached;
    int input_grad;
    int training; /* mode of the last forward */
    int has_forward;
};

/* True when a * b * c (each in 0..INT_MAX) is beyond INT_MAX. The layers
 * count one sample's values (a linear layer's features) and a parameter's
 * values (a convolution's rows of columns) in int, and the sizes come from
 * model files: each node and parameter is checked as it is added. */
static int beyond_int(int a, int b, int c)
{
    uint64_t ab = (uint64_t)a * (uint64_t)b;
    return ab > INT_MAX || (c && ab > (uint64_t)INT_MAX / (uint64_t)c);
}

int nn_model_create(int c, int h, int w, nn_model **out, util_err *err)
{
    *out = NULL;
    if (c <= 0 || h <= 0 || w <= 0)
        return util_errf(err, "model: bad input shape %dx%dx%d", c, h, w);
    if (beyond_int(c, h, w))
        return util_errf(err, "model: input %dx%dx%d has more than %d values",
                         c, h, w, INT_MAX);
    nn_model *m = calloc(1, sizeof *m);
    if (!m || !(m->nodes = calloc(8, sizeof *m->nodes))) {
        free(m);
        return util_errf(err, "model: out of memory");
    }
    m->cap = 8;
    m->nnodes = 1;
    strcpy(m->nodes[0].name, "input");
    m->nodes[0].shape = (nn_shape){1, c, h, w};
    m->nodes[0].alias = -1;
    *out = m;
    return 0;
}

void nn_model_destroy(nn_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nparams; i++) {
        free(m->params[i]->data);
        free(m->params[i]->grad);
        free(m->params[i]);
    }
    free(m->params);
    free(m->nodes);
    free(m);
}

int nn_model_nodes(const nn_model *m)
{
    return m->nnodes;
}

int nn_model_find(const nn_model *m, const char *name)
{
    for (int i = 0; i < m->nnodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0)
            return i;
    return -1;
}

const char *nn_model_node_name(const nn_model *m, int node)
{
    return node >= 0 && node < m->nnodes ? m->nodes[node].name : NULL;
}

nn_shape nn_model_node_shape(const nn_model *m, int node)
{
    nn_shape z = {0, 0, 0, 0};
    return node >= 0 && node < m->nnodes ? m->nodes[node].shape : z;
}

const char *nn_model_node_type(const nn_model *m, int node)
{
    if (node < 0 || node >= m->nnodes)
        return NULL;
    const nn_layer_ops *ops = m->nodes[node].L.ops;
    return ops ? ops->type : "input";
}

int nn_model_node_inputs(const nn_model *m, int node, const int **in)
{
    if (node < 0 || node >= m->nnodes)
        return -1;
    *in = m->nodes[node].in;
    return m->nodes[node].nin;
}

int nn_model_node_conv(const nn_model *m, int node, nn_conv_spec *spec,
                       const float **w, const float **b)
{
    if (node < 0 || node >= m->nnodes || m->nodes[node].L.ops != &nn_ops_conv2d)
        return -1;
    const nn_layer *L = &m->nodes[node].L;
    *spec = L->conv;
    *w = L->w->data;
    *b = L->b ? L->b->data : NULL;
    return 0;
}

nn_layer *nn_model_layer(nn_model *m, int node)
{
    return &m->nodes[node].L;
}

/* ---- building ------------------------------------------------------------------ */

static int resolve(const nn_model *m, int id)
{
    while (m->nodes[id].alias >= 0)
        id = m->nodes[id].alias;
    return id;
}

static int check_name(const nn_model *m, const char *name, util_err *err)
{
    if (!name || !*name || strlen(name) >= NN_NAME_LEN - 16)
        return util_errf(err, "model: layer name missing or longer than %d",
                         NN_NAME_LEN - 17);
    if (strchr(name, '"') || strchr(name, '\\'))
        return util_errf(err, "model: layer name '%s' has a quote or backslash", name);
    if (nn_model_find(m, name) >= 0)
        return util_errf(err, "model: layer name '%s' used twice", name);
    return 0;
}

int nn_model_add_node(nn_model *m, const char *name, const nn_layer *L,
                      const int *in, int nin, util_err *err)
{
    if (check_name(m, name, err))
        return -1;
    if (m->folded)
        return util_errf(err, "%s: model has folded batch norms", name);
    if (nin < 1 || nin > NN_MAX_INPUTS)
        return util_errf(err, "%s: %d inputs (1 to %d allowed)", name, nin,
                         NN_MAX_INPUTS);
    for (int i = 0; i < nin; i++)
        if (in[i] < 0 || in[i] >= m->nnodes)
            return util_errf(err, "%s: input %d is not an existing node", name, in[i]);
    if (m->nnodes == m->cap) {
        nn_node *p = realloc(m->nodes, 2 * (size_t)m->cap * sizeof *p);
        if (!p)
            return util_errf(err, "%s: out of memory", name);
        m->nodes = p;
        m->cap *= 2;
    }
    nn_node *nd = &m->nodes[m->nnodes];
    memset(nd, 0, sizeof *nd);
    snprintf(nd->name, sizeof nd->name, "%s", name);
    nd->L = *L;
    memcpy(nd->in, in, (size_t)nin * sizeof *in);
    nd->nin = nin;
    nd->alias = -1;
    m->mark = m->nparams;
    return m->nnodes++;
}

nn_param *nn_model_add_param(nn_model *m, int node, const char *pname,
                             int ndim, const int *shape, int trainable,
                             int decay, util_err *err)
{
    if (m->nparams == m->pcap) {
        size_t cap = m->pcap ? 2 * m->pcap : 16;
        nn_param **p = realloc(m->params, cap * sizeof *p);
        if (!p)
            goto oom;
        m->params = p;
        m->pcap = cap;
    }
    nn_param *p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    /* Node names are at most NN_NAME_LEN - 17 characters (check_name). */
    snprintf(p->name, sizeof p->name, "%.47s.%.15s", m->nodes[node].name, pname);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || beyond_int((int)p->numel, shape[i], 1)) {
            free(p);
            if (shape[i] < 0)
                util_errf(err, "%s: parameter %s has a negative size",
                          m->nodes[node].name, pname);
            else
                util_errf(err, "%s: parameter %s has more than %d values",
                          m->nodes[node].name, pname, INT_MAX);
            return NULL;
        }
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->decay = decay;
    p->data = calloc(p->numel, sizeof *p->data);
    if (trainable)
        p->grad = calloc(p->numel, sizeof *p->grad);
    if (!p->data || (trainable && !p->grad)) {
        free(p->data);
        free(p->grad);
        free(p);
        goto oom;
    }
    m->params[m->nparams++] = p;
    return p;
oom:
    util_errf(err, "%s: out of memory for parameter %s", m->nodes[node].name, pname);
    return NULL;
}

/* Removes the node being added, and its parameters, after a failure. */
static void rollback(nn_model *m)
{
    for (size_t i = m->mark; i < m->nparams; i++) {
        free(m->params[i]->data);
        free(m->params[i]->grad);
        free(m->params[i]);
    }
    m->nparams = m->mark;
    m->nnodes--;
}

/* Finishes a node: its per-sample output shape from its inputs'. */
static int finish_node(nn_model *m, int id, util_err *err)
{
    nn_node *nd = &m->nodes[id];
    nn_shape in[NN_MAX_INPUTS];
    for (int i = 0; i < nd->nin; i++)
        in[i] = m->nodes[resolve(m, nd->in[i])].shape;
    const nn_shape *o = &nd->shape;
    int bad = nd->L.ops->shape(&nd->L, in, nd->nin, &nd->shape, err);
    if (!bad && beyond_int(o->c, o->h, o->w))
        bad = util_errf(err, "output %dx%dx%d has more than %d values", o->c,
                        o->h, o->w, INT_MAX);
    if (bad) {
        util_err_prefix(err, "%s: ", nd->name);
        rollback(m);
        return -1;
    }
    return id;
}

static int add_simple(nn_model *m, const char *name, const nn_layer_ops *ops,
                      const int *in, int nin, util_err *err)
{
    nn_layer L = {.ops = ops};
    int id = nn_model_add_node(m, name, &L, in, nin, err);
    return id < 0 ? -1 : finish_node(m, id, err);
}

static int add_conv(nn_model *m, const char *name, int in,
                    const nn_conv_spec *s, const nn_layer_ops *ops,
                    util_err *err)
{
    if (s->cout <= 0 || s->kh <= 0 || s->kw <= 0 || s->sh <= 0 || s->sw <= 0 ||
        s->ph < 0 || s->pw < 0 || s->oph < 0 || s->opw < 0)
        return util_errf(err, "%s: bad convolution geometry", name ? name : "?");
    if (ops == &nn_ops_conv2d && (s->oph || s->opw))
        return util_errf(err, "%s: output padding is for transposed convolutions", name);
    if (ops == &nn_ops_deconv2d && (s->oph >= s->sh || s->opw >= s->sw))
        return util_errf(err, "%s: output padding must be below the stride", name);
    nn_layer L = {.ops = ops, .conv = *s};
    int id = nn_model_add_node(m, name, &L, &in, 1, err);
    if (id < 0)
        return -1;
    int cin = m->nodes[resolve(m, in)].shape.c;
    int first = ops == &nn_ops_conv2d ? s->cout : cin;
    int second = ops == &nn_ops_conv2d ? cin : s->cout;
    int wshape[4] = {first, second, s->kh, s->kw};
    nn_layer *Lp = &m->nodes[id].L;
    Lp->w = nn_model_add_param(m, id, "weight", 4, wshape, 1, 1, err);
    if (Lp->w && s->bias)
        Lp->b = nn_model_add_param(m, id, "bias", 1, &s->cout, 1, 0, err);
    if (!Lp->w || (s->bias && !Lp->b)) {
        rollback(m);
        return -1;
    }
    return finish_node(m, id, err);
}

int nn_conv2d_ex(nn_model *m, const char *name, int in,
                 const nn_conv_spec *s, util_err *err)
{
    return add_conv(m, name, in, s, &nn_ops_conv2d, err);
}

int nn_deconv2d_ex(nn_model *m, const char *name, int in,
                   const nn_conv_spec *s, util_err *err)
{
    return add_conv(m, name, in, s, &nn_ops_deconv2d, err);
}

int nn_conv2d(nn_model *m, const char *name, int in, int cout, int k,
              int stride, int pad, int bias, util_err *err)
{
    nn_conv_spec s = {cout, k, k, stride, stride, pad, pad, 0, 0, bias};
    return nn_conv2d_ex(m, name, in, &s, err);
}

int nn_deconv2d(nn_model *m, const char *name, int in, int cout, int k,
                int stride, int pad, int outpad, int bias, util_err *err)
{
    nn_conv_spec s = {cout, k, k, stride, stride, pad, pad, outpad, outpad, bias};
    return nn_deconv2d_ex(m, name, in, &s, err);
}

int nn_relu(nn_model *m, const char *name, int in, util_err *err)
{
    return add_simple(m, name, &nn_ops_relu, &in, 1, err);
}

int nn_sigmoid(nn_model *m, const char *name, int in, util_err *err)
{
    return add_simple(m, name, &nn_ops_sigmoid, &in, 1, err);
}

int nn_gap(nn_model *m, const char *name, int in, util_err *err)
{
    return add_simple(m, name, &nn_ops_gap, &in, 1, err);
}

int nn_add(nn_model *m, const char *name, int a, int b, util_err *err)
{
    int in[2] = {a, b};
    return add_simple(m, name, &nn_ops_add, in, 2, err);
}

static int add_pool(nn_model *m, const char *name, int in, int k, int stride,
                    int pad, const nn_layer_ops *ops, util_err *err)
{
    if (k <= 0 || stride <= 0 || pad < 0 || 2 * pad > k)
        return util_errf(err, "%s: bad pooling window %d stride %d pad %d",
                         name ? name : "?", k, stride, pad);
    nn_layer L = {.ops = ops, .k = k, .stride = stride, .pad = pad};
    int id = nn_model_add_node(m, name, &L, &in, 1, err);
    return id < 0 ? -1 : finish_node(m, id, err);
}

int nn_maxpool(nn_model *m, const char *name, int in, int k, int stride,
               int pad, util_err *err)
{
    return add_pool(m, name, in, k, stride, pad, &nn_ops_maxpool, err);
}

int nn_avgpool(nn_model *m, const char *name, int in, int k, int stride,
               int pad, util_err *err)
{
    return add_pool(m, name, in, k, stride, pad, &nn_ops_avgpool, err);
}

int nn_linear(nn_model *m, const char *name, int in, int out, int bias,
              util_err *err)
{
    if (out <= 0)
        return util_errf(err, "%s: linear needs out > 0", name ? name : "?");
    nn_layer L = {.ops = &nn_ops_linear, .nout = out};
    int id = nn_model_add_node(m, name, &L, &in, 1, err);
    if (id < 0)
        return -1;
    nn_shape s = m->nodes[resolve(m, in)].shape;
    int wshape[2] = {out, s.c * s.h * s.w};
    nn_layer *Lp = &m->nodes[id].L;
    Lp->w = nn_model_add_param(m, id, "weight", 2, wshape, 1, 1, err);
    if (Lp->w && bias)
        Lp->b = nn_model_add_param(m, id, "bias", 1, &out, 1, 0, err);
    if (!Lp->w || (bias && !Lp->b)) {
        rollback(m);
        return -1;
    }
    return finish_node(m, id, err);
}

int nn_batchnorm(nn_model *m, const char *name, int in, float momentum,
                 float eps, util_err *err)
{
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f))
        return util_errf(err, "%s: batchnorm needs momentum in [0, 1] and eps > 0",
                         name ? name : "?");
    nn_layer L = {.ops = &nn_ops_batchnorm, .momentum = momentum, .eps = eps};
    int id = nn_model_add_node(m, name, &L, &in, 1, err);
    if (id < 0)
        return -1;
    int c = m->nodes[resolve(m, in)].shape.c;
    nn_layer *Lp = &m->nodes[id].L;
    if (!(Lp->w = nn_model_add_param(m, id, "weight", 1, &c, 1, 0, err)) ||
        !(Lp->b = nn_model_add_param(m, id, "bias", 1, &c, 1, 0, err)) ||
        !(Lp->rm = nn_model_add_param(m, id, "running_mean", 1, &c, 0, 0, err)) ||
        !(Lp->rv = nn_model_add_param(m, id, "running_var", 1, &c, 0, 0, err))) {
        rollback(m);
        return -1;
    }
    for (int i = 0; i < c; i++)
        Lp->w->data[i] = Lp->rv->data[i] = 1.0f;
    return finish_node(m, id, err);
}

int nn_dropout(nn_model *m, const char *name, int in, float p, util_err *err)
{
    if (!(p >= 0.0f && p < 1.0f))
        return util_errf(err, "%s: dropout p must be in [0, 1)", name ? name : "?");
    nn_layer L = {.ops = &nn_ops_dropout, .p = p};
    int id = nn_model_add_node(m, name, &L, &in, 1, err);
    return id < 0 ? -1 : finish_node(m, id, err);
}

int nn_custom(nn_model *m, const char *name, const int *in, int nin,
              const nn_custom_ops *ops, void *ctx, util_err *err)
{
    if (!ops || !ops->shape || !ops->forward)
        return util_errf(err, "%s: custom operation needs shape and forward",
                         name ? name : "?");
    nn_layer L = {.ops = &nn_ops_custom, .cops = ops, .cctx = ctx};
    int id = nn_model_add_node(m, name, &L, in, nin, err);
    return id < 0 ? -1 : finish_node(m, id, err);
}

/* ---- parameters ------------------------------------------------------------- */

size_t nn_model_nparams(const nn_model *m)
{
    return m->nparams;
}

nn_param *nn_model_param(nn_model *m, size_t i)
{
    return i < m->nparams ? m->params[i] : NULL;
}

const nn_param *nn_model_cparam(const nn_model *m, size_t i)
{
    return i < m->nparams ? m->params[i] : NULL;
}

void nn_model_zero_grad(nn_model *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (m->params[i]->grad)
            memset(m->params[i]->grad, 0, m->params[i]->numel * sizeof(float));
}

size_t nn_model_param_count(const nn_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nparams; i++)
        if (m->params[i]->grad)
            n += m->params[i]->numel;
    return n;
}

double nn_model_macs(const nn_model *m)
{
    double total = 0.0;
    for (int i = 1; i < m->nnodes; i++) {
        const nn_node *nd = &m->nodes[i];
        if (nd->alias >= 0 || !nd->L.ops->macs)
            continue;
        nn_shape in = m->nodes[resolve(m, nd->in[0])].shape;
        total += nd->L.ops->macs(&nd->L, &in, &nd->shape);
    }
    return total;
}

void nn_model_init(nn_model *m, util_rng *rng)
{
    for (int i = 1; i < m->nnodes; i++) {
        nn_layer *L = &m->nodes[i].L;
        if (L->ops == &nn_ops_batchnorm || !L->w)
            continue;
        /* He-normal on fan-in (PyTorch's fan-in: dims 1.. of the weight). */
        size_t fan_in = L->w->numel / (size_t)L->w->shape[0];
        double sd = sqrt(2.0 / (double)fan_in);
        for (size_t k = 0; k < L->w->numel; k++)
            L->w->data[k] = (float)(sd * util_rng_normal(rng));
        if (L->b)
            memset(L->b->data, 0, L->b->numel * sizeof(float));
    }
}

/* ---- batch-norm folding ------------------------------------------------------- */

static int consumers(const nn_model *m, int id)
{
    int n = 0;
    for (int i = 1; i < m->nnodes; i++)
        for (int k = 0; k < m->nodes[i].nin; k++)
            n += m->nodes[i].in[k] == id;
    return n;
}

/* conv weight [cout, ...]: scale rows; deconv weight [cin, cout, kh, kw]:
 * scale the cout slices of every row. */
static void scale_weight(nn_layer *C, int co, float s)
{
    const int *sh = C->w->shape;
    size_t k = (size_t)sh[2] * sh[3];
    if (C->ops == &nn_ops_conv2d) {
        size_t row = (size_t)sh[1] * k;
        for (size_t i = 0; i < row; i++)
            C->w->data[(size_t)co * row + i] *= s;
        return;
    }
    for (int ci = 0; ci < sh[0]; ci++)
        for (size_t i = 0; i < k; i++)
            C->w->data[((size_t)ci * sh[1] + co) * k + i] *= s;
}

static int fold_one(nn_model *m, int bn, util_err *err)
{
    nn_node *nd = &m->nodes[bn];
    int cid = nd->in[0];
    nn_layer *B = &nd->L;
    if (!m->nodes[cid].L.b) {
        int c = B->w->shape[0];
        nn_param *b = nn_model_add_param(m, cid, "bias", 1, &c, 1, 0, err);
        if (!b)
            return -1;
        m->nodes[cid].L.b = b;
        m->nodes[cid].L.conv.bias = 1;
    }
    nn_layer *C = &m->nodes[cid].L;
    for (int c = 0; c < B->w->shape[0]; c++) {
        float s = B->w->data[c] / sqrtf(B->rv->data[c] + B->eps);
        scale_weight(C, c, s);
        C->b->data[c] = (C->b->data[c] - B->rm->data[c]) * s + B->b->data[c];
    }
    nd->alias = cid;
    return 0;
}

/* Drops the folded batch norms' parameters from the list (they are no
 * longer part of what the model computes, nor of what it saves). */
static void drop_folded_params(nn_model *m)
{
    size_t j = 0;
    for (size_t i = 0; i < m->nparams; i++) {
        nn_param *p = m->params[i];
        int dead = 0;
        for (int k = 1; k < m->nnodes && !dead; k++) {
            const nn_layer *L = &m->nodes[k].L;
            dead = m->nodes[k].alias >= 0 &&
                   (p == L->w || p == L->b || p == L->rm || p == L->rv);
        }
        if (dead) {
            free(p->data);
            free(p->grad);
            free(p);
        } else {
            m->params[j++] = p;
        }
    }
    m->nparams = j;
    for (int k = 1; k < m->nnodes; k++)
        if (m->nodes[k].alias >= 0) {
            nn_layer *L = &m->nodes[k].L;
            L->w = L->b = L->rm = L->rv = NULL;
        }
}

int nn_model_fold_bn(nn_model *m, int *folded, util_err *err)
{
    int n = 0;
    for (int i = 1; i < m->nnodes; i++) {
        nn_node *nd = &m->nodes[i];
        if (nd->L.ops != &nn_ops_batchnorm || nd->alias >= 0)
            continue;
        const nn_layer_ops *prev = m->nodes[nd->in[0]].L.ops;
        if ((prev != &nn_ops_conv2d && prev != &nn_ops_deconv2d) ||
            consumers(m, nd->in[0]) != 1 || m->nodes[nd->in[0]].alias >= 0)
            continue;
        if (fold_one(m, i, err))
            return util_err_prefix(err, "%s: ", nd->name);
        n++;
    }
    if (n) {
        drop_folded_params(m);
        m->folded = 1;
    }
    if (folded)
        *folded = n;
    return 0;
}

/* ---- workspaces ------------------------------------------------------------- */

int nn_ws_create(const nn_model *m, nn_ws **out, util_err *err)
{
    nn_ws *ws = calloc(1, sizeof *ws);
    if (ws) {
        ws->nnodes = m->nnodes;
        ws->out = calloc((size_t)m->nnodes, sizeof *ws->out);
        ws->grad = calloc((size_t)m->nnodes, sizeof *ws->grad);
        ws->st = calloc((size_t)m->nnodes, sizeof *ws->st);
        ws->reached = calloc((size_t)m->nnodes, 1);
    }
    if (!ws || !ws->out || !ws->grad || !ws->st || !ws->reached) {
        nn_ws_destroy(ws);
        *out = NULL;
        return util_errf(err, "workspace: out of memory");
    }
    *out = ws;
    return 0;
}

void nn_ws_destroy(nn_ws *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ws->nnodes; i++) {
        if (ws->out) {
            nn_tensor_free(&ws->out[i]);
            nn_tensor_free(&ws->grad[i]);
        }
        if (ws->st) {
            nn_tensor_free(&ws->st[i].a);
            nn_tensor_free(&ws->st[i].b);
            free(ws->st[i].idx);
        }
    }
    free(ws->out);
    free(ws->grad);
    free(ws->st);
    free(ws->reached);
    free(ws);
}

void nn_ws_input_grad(nn_ws *ws, int on)
{
    ws->input_grad = on;
}

const nn_tensor *nn_ws_out(const nn_ws *ws, int node)
{
    return node >= 0 && node < ws->nnodes ? &ws->out[node] : NULL;
}

const nn_tensor *nn_ws_grad(const nn_ws *ws, int node)
{
    return node >= 0 && node < ws->nnodes ? &ws->grad[node] : NULL;
}

/* ---- forward and backward ----------------------------------------------------- */

static int forward_node(const nn_model *m, nn_ws *ws, int i, int training,
                        util_rng *rng, util_err *err)
{
    const nn_node *nd = &m->nodes[i];
    const nn_tensor *in[NN_MAX_INPUTS];
    nn_shape ins[NN_MAX_INPUTS], os;
    for (int k = 0; k < nd->nin; k++) {
        in[k] = &ws->out[resolve(m, nd->in[k])];
        ins[k] = nn_tensor_shape(in[k]);
    }
    if (nd->L.ops->shape(&nd->L, ins, nd->nin, &os, err) ||
        nn_tensor_resize(&ws->out[i], os.n, os.c, os.h, os.w, err) ||
        nd->L.ops->forward(&nd->L, &ws->st[i], in, nd->nin, &ws->out[i],
                           training, rng, err))
        return util_err_prefix(err, "%s: ", nd->name);
    return 0;
}

static int run(const nn_model *m, nn_ws *ws, const nn_tensor *x,
               int training, util_rng *rng, util_err *err)
{
    if (ws->nnodes != m->nnodes)
        return util_errf(err, "workspace made for %d nodes, model has %d",
                         ws->nnodes, m->nnodes);
    nn_shape s = m->nodes[0].shape;
    if (x->c != s.c || x->h != s.h || x->w != s.w || x->n <= 0)
        return util_errf(err, "input is %dx%dx%dx%d, model expects nx%dx%dx%d",
                         x->n, x->c, x->h, x->w, s.c, s.h, s.w);
    if (nn_tensor_resize(&ws->out[0], x->n, x->c, x->h, x->w, err))
        return -1;
    memcpy(ws->out[0].data, x->data, nn_tensor_numel(x) * sizeof *x->data);
    ws->has_forward = 0;
    for (int i = 1; i < m->nnodes; i++)
        if (m->nodes[i].alias < 0 && forward_node(m, ws, i, training, rng, err))
            return -1;
    ws->training = training;
    ws->has_forward = 1;
    return 0;
}

int nn_forward(nn_model *m, nn_ws *ws, const nn_tensor *x, util_rng *rng,
               util_err *err)
{
    if (m->folded)
        return util_errf(err, "model has folded batch norms: inference only");
    if (run(m, ws, x, 1, rng, err))
        return -1;
    for (int i = 1; i < m->nnodes; i++)
        if (m->nodes[i].L.ops->update)
            m->nodes[i].L.ops->update(&m->nodes[i].L, &ws->st[i]);
    return 0;
}

int nn_infer(const nn_model *m, nn_ws *ws, const nn_tensor *x, util_err *err)
{
    return run(m, ws, x, 0, NULL, err);
}

/* Marks node id as reached by the backward pass, zeroing its gradient the
 * first time. */
static int reach(nn_ws *ws, int id, util_err *err)
{
    if (ws->reached[id])
        return 0;
    const nn_tensor *o = &ws->out[id];
    if (nn_tensor_resize(&ws->grad[id], o->n, o->c, o->h, o->w, err))
        return -1;
    nn_tensor_zero(&ws->grad[id]);
    ws->reached[id] = 1;
    return 0;
}

static int seed(const nn_model *m, nn_ws *ws, int node, const nn_tensor *g,
                util_err *err)
{
    if (node < 0 || node >= m->nnodes)
        return util_errf(err, "backward: no node %d", node);
    int id = resolve(m, node);
    nn_shape a = nn_tensor_shape(&ws->out[id]), b = nn_tensor_shape(g);
    if (!nn_shape_eq(&a, &b))
        return util_errf(err, "backward: gradient for %s is %dx%dx%dx%d, output is %dx%dx%dx%d",
                         m->nodes[node].name, b.n, b.c, b.h, b.w, a.n, a.c, a.h, a.w);
    if (reach(ws, id, err))
        return -1;
    size_t n = nn_tensor_numel(g);
    for (size_t i = 0; i < n; i++)
        ws->grad[id].data[i] += g->data[i];
    return 0;
}

static int backward_node(const nn_model *m, nn_ws *ws, int i, util_err *err)
{
    const nn_node *nd = &m->nodes[i];
    const nn_tensor *in[NN_MAX_INPUTS];
    nn_tensor *din[NN_MAX_INPUTS];
    for (int k = 0; k < nd->nin; k++) {
        int src = resolve(m, nd->in[k]);
        in[k] = &ws->out[src];
        din[k] = NULL;
        if (src == 0 && !ws->input_grad)
            continue;
        if (reach(ws, src, err))
            return -1;
        din[k] = &ws->grad[src];
    }
    if (nd->L.ops->backward(&nd->L, &ws->st[i], in, nd->nin, &ws->out[i],
                            &ws->grad[i], din, ws->training, err))
        return util_err_prefix(err, "%s: ", nd->name);
    return 0;
}

int nn_backward(nn_model *m, nn_ws *ws, int nseeds, const int *nodes,
                const nn_tensor *const *grads, util_err *err)
{
    if (!ws->has_forward || ws->nnodes != m->nnodes)
        return util_errf(err, "backward: no forward pass in this workspace");
    memset(ws->reached, 0, (size_t)ws->nnodes);
    for (int s = 0; s < nseeds; s++)
        if (seed(m, ws, nodes[s], grads[s], err))
            return -1;
    for (int i = m->nnodes - 1; i >= 1; i--)
        if (ws->reached[i] && m->nodes[i].alias < 0 && backward_node(m, ws, i, err))
            return -1;
    if (!ws->reached[0] && ws->input_grad && reach(ws, 0, err))
        return -1;
    return 0;
}
