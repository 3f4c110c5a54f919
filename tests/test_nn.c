/* nn: every layer's backward against central finite differences, the
 * convolutions against naive loops on awkward shapes, losses, branches,
 * custom operations, batch-norm folding and a small end-to-end training. */
#include "testutil.h"

#include <math.h>

#include "nn/nn.h"

static util_err err;

static void fill(float *p, size_t n, util_rng *r, float scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = scale * (float)(2.0 * util_rng_uniform(r) - 1.0);
}

static void make(nn_tensor *t, int n, int c, int h, int w, util_rng *r)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(nn_tensor_resize(t, n, c, h, w, &err), 0);
    fill(t->data, nn_tensor_numel(t), r, 1.0f);
}

/* Random weights, and random (non-zero) biases and batch-norm affine. */
static void randomise(nn_model *m, util_rng *r)
{
    nn_model_init(m, r);
    for (size_t i = 0; i < nn_model_nparams(m); i++) {
        nn_param *p = nn_model_param(m, i);
        if (strstr(p->name, ".bias") || strstr(p->name, "running_mean"))
            fill(p->data, p->numel, r, 0.5f);
        else if (strstr(p->name, "running_var"))
            for (size_t k = 0; k < p->numel; k++)
                p->data[k] = 0.5f + (float)util_rng_uniform(r);
        else if (p->ndim == 1)
            for (size_t k = 0; k < p->numel; k++)
                p->data[k] = 0.5f + (float)util_rng_uniform(r);
    }
}

/* ---- gradient checking ---------------------------------------------------- */

typedef struct gc {
    nn_model *m;
    nn_ws *ws;
    nn_tensor *x;
    int nout;
    int out[2];
    nn_tensor r[2]; /* loss = sum_k <out_k, r_k> */
    int training;
    double eps, tol;
} gc;

static double gc_loss(gc *g)
{
    util_rng rng;
    util_rng_seed(&rng, 99); /* the same dropout mask every time */
    if (g->training)
        assert_int_equal(nn_forward(g->m, g->ws, g->x, &rng, &err), 0);
    else
        assert_int_equal(nn_infer(g->m, g->ws, g->x, &err), 0);
    double l = 0.0;
    for (int k = 0; k < g->nout; k++) {
        const nn_tensor *o = nn_ws_out(g->ws, g->out[k]);
        for (size_t i = 0; g->r[k].data && i < nn_tensor_numel(o); i++)
            l += (double)o->data[i] * g->r[k].data[i];
    }
    return l;
}

static void gc_compare(gc *g, const char *what, size_t i, float *v, float analytic)
{
    float keep = *v;
    *v = keep + (float)g->eps;
    double lp = gc_loss(g);
    *v = keep - (float)g->eps;
    double lm = gc_loss(g);
    *v = keep;
    double num = (lp - lm) / (2.0 * g->eps);
    double diff = fabs(num - analytic);
    double lim = g->tol * (1.0 + fabs(num) + fabs(analytic));
    if (diff > lim)
        fail_msg("%s[%zu]: analytic %.6f, numeric %.6f", what, i, analytic, num);
}

/* Checks d(loss)/d(input) and d(loss)/d(every parameter). */
static void gradcheck(gc *g)
{
    util_rng r;
    util_rng_seed(&r, 7);
    assert_int_equal(nn_ws_create(g->m, &g->ws, &err), 0);
    nn_ws_input_grad(g->ws, 1);
    gc_loss(g);
    const nn_tensor *seeds[2];
    for (int k = 0; k < g->nout; k++) {
        const nn_tensor *o = nn_ws_out(g->ws, g->out[k]);
        make(&g->r[k], o->n, o->c, o->h, o->w, &r);
        seeds[k] = &g->r[k];
    }
    nn_model_zero_grad(g->m);
    gc_loss(g);
    assert_int_equal(nn_backward(g->m, g->ws, g->nout, g->out, seeds, &err), 0);
    nn_tensor dx = {0};
    const nn_tensor *gx = nn_ws_grad(g->ws, NN_INPUT);
    assert_int_equal(nn_tensor_resize(&dx, gx->n, gx->c, gx->h, gx->w, &err), 0);
    memcpy(dx.data, gx->data, nn_tensor_numel(gx) * sizeof(float));
    for (size_t i = 0; i < nn_tensor_numel(g->x); i++)
        gc_compare(g, "input", i, &g->x->data[i], dx.data[i]);
    for (size_t p = 0; p < nn_model_nparams(g->m); p++) {
        nn_param *pp = nn_model_param(g->m, p);
        if (!pp->grad)
            continue;
        float *an = malloc(pp->numel * sizeof *an);
        memcpy(an, pp->grad, pp->numel * sizeof *an);
        for (size_t i = 0; i < pp->numel; i++)
            gc_compare(g, pp->name, i, &pp->data[i], an[i]);
        free(an);
    }
    nn_tensor_free(&dx);
    for (int k = 0; k < g->nout; k++)
        nn_tensor_free(&g->r[k]);
    nn_ws_destroy(g->ws);
}

/* One layer on a random input, checked in the given mode. */
static void check_single(nn_model *m, int node, nn_tensor *x, int training,
                         double eps, double tol)
{
    util_rng r;
    util_rng_seed(&r, 3);
    randomise(m, &r);
    gc g = {.m = m, .x = x, .nout = 1, .out = {node}, .training = training,
            .eps = eps, .tol = tol};
    gradcheck(&g);
}

static void test_grad_conv(void **state)
{
    (void)state;
    /* stride > kernel, padding, odd and non-square sizes */
    const nn_conv_spec specs[] = {
        {3, 3, 3, 1, 1, 1, 1, 0, 0, 1}, {2, 1, 1, 3, 2, 0, 0, 0, 0, 1},
        {4, 2, 3, 3, 1, 1, 2, 0, 0, 0}, {3, 5, 5, 4, 4, 1, 1, 0, 0, 1},
    };
    util_rng r;
    util_rng_seed(&r, 11);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        nn_model *m;
        assert_int_equal(nn_model_create(2, 7, 5, &m, &err), 0);
        int id = nn_conv2d_ex(m, "conv", NN_INPUT, &specs[i], &err);
        assert_true(id > 0);
        nn_tensor x;
        make(&x, 2, 2, 7, 5, &r);
        check_single(m, id, &x, 1, 1e-2, 2e-3);
        nn_tensor_free(&x);
        nn_model_destroy(m);
    }
}

static void test_grad_deconv(void **state)
{
    (void)state;
    const nn_conv_spec specs[] = {
        {3, 3, 3, 2, 2, 1, 1, 1, 1, 1}, {2, 5, 5, 4, 4, 1, 1, 0, 0, 1},
        {2, 2, 3, 3, 1, 0, 1, 2, 0, 0}, {3, 1, 1, 3, 3, 0, 0, 1, 2, 1},
    };
    util_rng r;
    util_rng_seed(&r, 12);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        nn_model *m;
        assert_int_equal(nn_model_create(3, 4, 3, &m, &err), 0);
        int id = nn_deconv2d_ex(m, "deconv", NN_INPUT, &specs[i], &err);
        assert_true(id > 0);
        nn_tensor x;
        make(&x, 2, 3, 4, 3, &r);
        check_single(m, id, &x, 1, 1e-2, 2e-3);
        nn_tensor_free(&x);
        nn_model_destroy(m);
    }
}

/* Input values spread apart and away from zero, so that a perturbation
 * never flips a ReLU or a max. */
static void spread(nn_tensor *x, util_rng *r)
{
    size_t n = nn_tensor_numel(x);
    for (size_t i = 0; i < n; i++)
        x->data[i] = (float)(i + 1) * 0.1f * (util_rng_below(r, 2) ? 1.0f : -1.0f);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)util_rng_below(r, i + 1);
        float t = x->data[i];
        x->data[i] = x->data[j];
        x->data[j] = t;
    }
}

typedef int (*add_fn)(nn_model *m, int in);
static int add_relu(nn_model *m, int in) { return nn_relu(m, "l", in, &err); }
static int add_sigmoid(nn_model *m, int in) { return nn_sigmoid(m, "l", in, &err); }
static int add_maxpool(nn_model *m, int in) { return nn_maxpool(m, "l", in, 3, 2, 1, &err); }
static int add_maxpool2(nn_model *m, int in) { return nn_maxpool(m, "l", in, 2, 2, 0, &err); }
static int add_avgpool(nn_model *m, int in) { return nn_avgpool(m, "l", in, 3, 2, 1, &err); }
static int add_gap(nn_model *m, int in) { return nn_gap(m, "l", in, &err); }
static int add_linear(nn_model *m, int in) { return nn_linear(m, "l", in, 4, 1, &err); }
static int add_bn(nn_model *m, int in) { return nn_batchnorm(m, "l", in, 0.1f, 1e-5f, &err); }
static int add_dropout(nn_model *m, int in) { return nn_dropout(m, "l", in, 0.4f, &err); }

static void check_layer(add_fn add, int training, double eps, double tol)
{
    util_rng r;
    util_rng_seed(&r, 5);
    nn_model *m;
    assert_int_equal(nn_model_create(3, 5, 7, &m, &err), 0);
    int id = add(m, NN_INPUT);
    assert_true(id > 0);
    nn_tensor x;
    make(&x, 3, 3, 5, 7, &r);
    spread(&x, &r);
    for (size_t i = 0; i < nn_tensor_numel(&x); i++)
        x.data[i] *= 0.1f; /* keep sigmoid and batch norm in range */
    check_single(m, id, &x, training, eps, tol);
    nn_tensor_free(&x);
    nn_model_destroy(m);
}

static void test_grad_activations(void **state)
{
    (void)state;
    check_layer(add_relu, 1, 1e-3, 1e-3);
    check_layer(add_sigmoid, 1, 1e-3, 1e-3);
}

static void test_grad_pooling(void **state)
{
    (void)state;
    check_layer(add_maxpool, 1, 1e-3, 1e-3);
    check_layer(add_maxpool2, 1, 1e-3, 1e-3);
    check_layer(add_avgpool, 1, 1e-3, 1e-3);
    check_layer(add_gap, 1, 1e-3, 1e-3);
}

static void test_grad_linear(void **state)
{
    (void)state;
    check_layer(add_linear, 1, 1e-2, 1e-3);
}

static void test_grad_batchnorm(void **state)
{
    (void)state;
    check_layer(add_bn, 1, 1e-3, 5e-3); /* batch statistics */
    check_layer(add_bn, 0, 1e-3, 5e-3); /* running statistics */
}

static void test_grad_dropout(void **state)
{
    (void)state;
    check_layer(add_dropout, 1, 1e-2, 1e-3);
    check_layer(add_dropout, 0, 1e-2, 1e-3);
}

static void test_grad_add(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 8);
    nn_model *m;
    assert_int_equal(nn_model_create(2, 4, 4, &m, &err), 0);
    int a = nn_conv2d(m, "a", NN_INPUT, 3, 3, 1, 1, 1, &err);
    int b = nn_conv2d(m, "b", NN_INPUT, 3, 1, 1, 0, 0, &err);
    int s = nn_add(m, "sum", a, b, &err);
    int s2 = nn_add(m, "twice", s, s, &err);
    assert_true(a > 0 && b > 0 && s > 0 && s2 > 0);
    nn_tensor x;
    make(&x, 2, 2, 4, 4, &r);
    check_single(m, s2, &x, 1, 1e-2, 2e-3);
    nn_tensor_free(&x);
    nn_model_destroy(m);
}

/* LimitNet's shape: a latent feeding a saliency head and, through a
 * custom score-based drop, a decoder; two heads seed the backward pass. */
typedef struct drop_ctx {
    float threshold;
} drop_ctx;

static int drop_shape(void *ctx, const nn_shape *in, int nin, nn_shape *out,
                      util_err *e)
{
    (void)ctx;
    if (nin != 2 || in[1].c != 1 || in[0].h != in[1].h || in[0].w != in[1].w)
        return util_errf(e, "drop: expected latent and a one-channel score");
    *out = in[0];
    return 0;
}

static int drop_forward(void *ctx, const nn_tensor *const *in, int nin,
                        nn_tensor *out, int training, util_rng *rng, util_err *e)
{
    (void)nin, (void)training, (void)rng, (void)e;
    const drop_ctx *d = ctx;
    const nn_tensor *x = in[0], *s = in[1];
    size_t hw = (size_t)x->h * x->w;
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < x->c; c++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = ((size_t)b * x->c + c) * hw + i;
                out->data[k] = s->data[b * hw + i] >= d->threshold ? x->data[k] : 0.0f;
            }
    return 0;
}

static int drop_backward(void *ctx, const nn_tensor *const *in, int nin,
                         const nn_tensor *out, const nn_tensor *dout,
                         nn_tensor *const *din, util_err *e)
{
    (void)nin, (void)out, (void)e;
    const drop_ctx *d = ctx;
    const nn_tensor *x = in[0], *s = in[1];
    size_t hw = (size_t)x->h * x->w;
    if (!din[0])
        return 0;
    /* The ordering is not differentiable: no gradient to the score. */
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < x->c; c++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = ((size_t)b * x->c + c) * hw + i;
                if (s->data[b * hw + i] >= d->threshold)
                    din[0]->data[k] += dout->data[k];
            }
    return 0;
}

static const nn_custom_ops drop_ops = {drop_shape, drop_forward, drop_backward};

static void test_grad_branch_custom(void **state)
{
    (void)state;
    drop_ctx ctx = {0.5f};
    nn_model *m;
    assert_int_equal(nn_model_create(1, 6, 6, &m, &err), 0);
    int lat = nn_conv2d(m, "enc", NN_INPUT, 3, 3, 2, 1, 1, &err);
    int s1 = nn_conv2d(m, "sal1", lat, 2, 3, 1, 1, 1, &err);
    int s2 = nn_relu(m, "sal1_relu", s1, &err);
    int s3 = nn_conv2d(m, "sal2", s2, 1, 3, 1, 1, 1, &err);
    int sal = nn_sigmoid(m, "sal", s3, &err);
    int in[2] = {lat, sal};
    int drop = nn_custom(m, "drop", in, 2, &drop_ops, &ctx, &err);
    int dec = nn_deconv2d(m, "dec", drop, 2, 3, 2, 1, 1, 1, &err);
    assert_true(lat > 0 && sal > 0 && drop > 0 && dec > 0);
    nn_shape os = nn_model_node_shape(m, dec);
    assert_int_equal(os.h, 6);
    assert_int_equal(os.c, 2);
    util_rng r;
    util_rng_seed(&r, 21);
    nn_tensor x;
    make(&x, 2, 1, 6, 6, &r);
    randomise(m, &r);
    gc g = {.m = m, .x = &x, .nout = 2, .out = {dec, sal}, .training = 1,
            .eps = 1e-3, .tol = 3e-3};
    gradcheck(&g);
    nn_tensor_free(&x);
    nn_model_destroy(m);
}

/* ---- losses ------------------------------------------------------------------- */

typedef int (*loss_fn)(const nn_tensor *p, const nn_tensor *t, float *l,
                       nn_tensor *g, util_err *e);

static void check_loss(loss_fn f, int prob)
{
    util_rng r;
    util_rng_seed(&r, 4);
    nn_tensor p, t, g = {0};
    make(&p, 3, 2, 2, 3, &r);
    make(&t, 3, 2, 2, 3, &r);
    for (size_t i = 0; prob && i < nn_tensor_numel(&p); i++) {
        p.data[i] = 0.15f + 0.35f * (p.data[i] + 1.0f);
        t.data[i] = 0.5f * (t.data[i] + 1.0f);
    }
    float l, lp, lm;
    assert_int_equal(f(&p, &t, &l, &g, &err), 0);
    for (size_t i = 0; i < nn_tensor_numel(&p); i++) {
        float keep = p.data[i], eps = 1e-3f;
        p.data[i] = keep + eps;
        f(&p, &t, &lp, NULL, &err);
        p.data[i] = keep - eps;
        f(&p, &t, &lm, NULL, &err);
        p.data[i] = keep;
        assert_float_equal(g.data[i], (lp - lm) / (2 * eps), 2e-3);
    }
    nn_tensor_free(&p);
    nn_tensor_free(&t);
    nn_tensor_free(&g);
}

static void test_loss_mse_bce(void **state)
{
    (void)state;
    check_loss(nn_loss_mse, 0);
    check_loss(nn_loss_bce, 1);
    /* Known values. */
    nn_tensor a = {0}, b = {0};
    nn_tensor_resize(&a, 1, 2, 1, 1, &err);
    nn_tensor_resize(&b, 1, 2, 1, 1, &err);
    a.data[0] = 0.5f, a.data[1] = 0.25f, b.data[0] = 1.0f, b.data[1] = 0.0f;
    float l;
    assert_int_equal(nn_loss_mse(&a, &b, &l, NULL, &err), 0);
    assert_float_equal(l, (0.25 + 0.0625) / 2, 1e-6);
    assert_int_equal(nn_loss_bce(&a, &b, &l, NULL, &err), 0);
    assert_float_equal(l, (-log(0.5) - log(0.75)) / 2, 1e-6);
    nn_tensor_resize(&b, 1, 3, 1, 1, &err);
    assert_int_equal(nn_loss_mse(&a, &b, &l, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "mse"));
    nn_tensor_free(&a);
    nn_tensor_free(&b);
}

static void test_loss_softmax_ce(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 6);
    nn_tensor z, g = {0};
    make(&z, 4, 5, 1, 1, &r);
    int labels[4] = {0, 4, 2, 2};
    for (int s = 0; s < 2; s++) {
        float smooth = s ? 0.1f : 0.0f, l, lp, lm;
        int hits;
        assert_int_equal(nn_loss_softmax_ce(&z, labels, smooth, &l, &g, &hits, &err), 0);
        for (size_t i = 0; i < nn_tensor_numel(&z); i++) {
            float keep = z.data[i], eps = 1e-3f;
            z.data[i] = keep + eps;
            nn_loss_softmax_ce(&z, labels, smooth, &lp, NULL, NULL, &err);
            z.data[i] = keep - eps;
            nn_loss_softmax_ce(&z, labels, smooth, &lm, NULL, NULL, &err);
            z.data[i] = keep;
            assert_float_equal(g.data[i], (lp - lm) / (2 * eps), 1e-3);
        }
    }
    /* Uniform logits: loss log(C), no hits beyond class 0 ties. */
    memset(z.data, 0, 20 * sizeof(float));
    float l;
    assert_int_equal(nn_loss_softmax_ce(&z, labels, 0.0f, &l, NULL, NULL, &err), 0);
    assert_float_equal(l, log(5.0), 1e-5);
    labels[1] = 5;
    assert_int_equal(nn_loss_softmax_ce(&z, labels, 0.0f, &l, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "label 5"));
    nn_tensor_free(&z);
    nn_tensor_free(&g);
}

/* ---- convolutions against the naive loops ------------------------------------ */

static int rnd(util_rng *r, int lo, int hi)
{
    return lo + (int)util_rng_below(r, (uint64_t)(hi - lo + 1));
}

static void compare_conv(int deconv, util_rng *r)
{
    nn_conv_spec s = {rnd(r, 1, 5), rnd(r, 1, 5), rnd(r, 1, 5), rnd(r, 1, 4),
                      rnd(r, 1, 4), 0, 0, 0, 0, rnd(r, 0, 1)};
    s.ph = rnd(r, 0, s.kh);
    s.pw = rnd(r, 0, s.kw);
    if (deconv) {
        s.oph = rnd(r, 0, s.sh - 1);
        s.opw = rnd(r, 0, s.sw - 1);
    }
    int n = rnd(r, 1, 3), cin = rnd(r, 1, 4), h = rnd(r, 1, 6) * 2 + 1,
        w = rnd(r, 1, 6) * 2 + 1;
    int oh = deconv ? nn_deconv_out(h, s.kh, s.sh, s.ph, s.oph) : nn_conv_out(h, s.kh, s.sh, s.ph);
    int ow = deconv ? nn_deconv_out(w, s.kw, s.sw, s.pw, s.opw) : nn_conv_out(w, s.kw, s.sw, s.pw);
    if (oh <= 0 || ow <= 0)
        return;
    nn_model *m;
    assert_int_equal(nn_model_create(cin, h, w, &m, &err), 0);
    int id = deconv ? nn_deconv2d_ex(m, "c", NN_INPUT, &s, &err)
                    : nn_conv2d_ex(m, "c", NN_INPUT, &s, &err);
    assert_true(id > 0);
    randomise(m, r);
    nn_tensor x;
    make(&x, n, cin, h, w, r);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    assert_int_equal(nn_infer(m, ws, &x, &err), 0);
    const nn_tensor *y = nn_ws_out(ws, id);
    assert_int_equal(y->h, oh);
    assert_int_equal(y->w, ow);
    float *ref = malloc(nn_tensor_numel(y) * sizeof *ref);
    const nn_param *wt = nn_model_cparam(m, 0), *b = s.bias ? nn_model_cparam(m, 1) : NULL;
    if (deconv)
        nn_deconv2d_naive(x.data, n, cin, h, w, wt->data, b ? b->data : NULL, &s, ref);
    else
        nn_conv2d_naive(x.data, n, cin, h, w, wt->data, b ? b->data : NULL, &s, ref);
    for (size_t i = 0; i < nn_tensor_numel(y); i++)
        assert_float_equal(y->data[i], ref[i], 1e-4);
    free(ref);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    nn_model_destroy(m);
}

static void test_conv_vs_naive(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 31);
    for (int i = 0; i < 200; i++)
        compare_conv(0, &r);
}

static void test_deconv_vs_naive(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 32);
    for (int i = 0; i < 200; i++)
        compare_conv(1, &r);
}

/* Shapes big enough that the batch is split into chunks of two images
 * and one: batch results must equal image-by-image ones. */
static void check_chunked(int deconv)
{
    util_rng r;
    util_rng_seed(&r, 61);
    int n = 3, cin = 8, hw = 75; /* 72 x 5625 column floats per image */
    nn_model *m;
    assert_int_equal(nn_model_create(cin, hw, hw, &m, &err), 0);
    int id = deconv ? nn_deconv2d(m, "c", NN_INPUT, 8, 3, 2, 1, 1, 1, &err)
                    : nn_conv2d(m, "c", NN_INPUT, 8, 3, 1, 1, 1, &err);
    assert_true(id > 0);
    randomise(m, &r);
    nn_tensor x, dy;
    make(&x, n, cin, hw, hw, &r);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    nn_ws_input_grad(ws, 1);
    nn_shape os = nn_model_node_shape(m, id);
    make(&dy, n, os.c, os.h, os.w, &r);
    size_t per_in = (size_t)cin * hw * hw, per_out = (size_t)os.c * os.h * os.w;
    nn_param *w = nn_model_param(m, 0);
    /* Batch. */
    nn_model_zero_grad(m);
    assert_int_equal(nn_forward(m, ws, &x, &r, &err), 0);
    float *y = malloc(n * per_out * sizeof *y), *dx = malloc(n * per_in * sizeof *dx);
    float *dw = malloc(w->numel * sizeof *dw);
    memcpy(y, nn_ws_out(ws, id)->data, n * per_out * sizeof *y);
    const nn_tensor *seeds = &dy;
    assert_int_equal(nn_backward(m, ws, 1, &id, &seeds, &err), 0);
    memcpy(dx, nn_ws_grad(ws, NN_INPUT)->data, n * per_in * sizeof *dx);
    memcpy(dw, w->grad, w->numel * sizeof *dw);
    /* One image at a time, weight gradients adding up. */
    nn_model_zero_grad(m);
    nn_tensor x1 = {0}, dy1 = {0};
    nn_tensor_resize(&x1, 1, cin, hw, hw, &err);
    nn_tensor_resize(&dy1, 1, os.c, os.h, os.w, &err);
    for (int b = 0; b < n; b++) {
        memcpy(x1.data, x.data + b * per_in, per_in * sizeof(float));
        memcpy(dy1.data, dy.data + b * per_out, per_out * sizeof(float));
        assert_int_equal(nn_forward(m, ws, &x1, &r, &err), 0);
        for (size_t i = 0; i < per_out; i++)
            assert_float_equal(nn_ws_out(ws, id)->data[i], y[b * per_out + i], 1e-4);
        seeds = &dy1;
        assert_int_equal(nn_backward(m, ws, 1, &id, &seeds, &err), 0);
        for (size_t i = 0; i < per_in; i++)
            assert_float_equal(nn_ws_grad(ws, NN_INPUT)->data[i], dx[b * per_in + i], 1e-4);
    }
    for (size_t i = 0; i < w->numel; i++)
        assert_float_equal(w->grad[i], dw[i], 1e-2 * (1.0 + fabs(dw[i])));
    free(y), free(dx), free(dw);
    nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&x1), nn_tensor_free(&dy1);
    nn_ws_destroy(ws);
    nn_model_destroy(m);
}

static void test_conv_chunks(void **state)
{
    (void)state;
    check_chunked(0);
    check_chunked(1);
}

static void test_shapes_and_errors(void **state)
{
    (void)state;
    nn_model *m;
    assert_int_equal(nn_model_create(1, 28, 28, &m, &err), 0);
    int c = nn_conv2d(m, "conv1", NN_INPUT, 8, 3, 1, 1, 0, &err);
    assert_int_equal(nn_conv2d(m, "conv1", c, 8, 3, 1, 1, 0, &err), -1);
    assert_non_null(strstr(err.msg, "used twice"));
    assert_int_equal(nn_conv2d(m, "big", c, 8, 31, 1, 0, 0, &err), -1);
    assert_non_null(strstr(err.msg, "big"));
    assert_int_equal(nn_deconv2d(m, "d", c, 8, 3, 2, 1, 2, 0, &err), -1);
    assert_int_equal(nn_maxpool(m, "p", c, 2, 2, 2, &err), -1);
    int p = nn_maxpool(m, "pool", c, 2, 2, 0, &err);
    int l = nn_linear(m, "fc", p, 10, 1, &err);
    assert_true(p > 0 && l > 0);
    nn_shape s = nn_model_node_shape(m, p);
    assert_int_equal(s.h, 14);
    assert_int_equal(nn_model_param_count(m), 8 * 9 + 8 * 14 * 14 * 10 + 10);
    assert_true(fabs(nn_model_macs(m) - (8.0 * 28 * 28 * 9 + 1568.0 * 10)) < 1);
    assert_int_equal(nn_model_find(m, "fc"), l);
    /* A failed layer leaves no parameters behind. */
    assert_int_equal(nn_model_nparams(m), 3);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    nn_tensor x = {0};
    nn_tensor_resize(&x, 2, 1, 27, 28, &err);
    assert_int_equal(nn_infer(m, ws, &x, &err), -1);
    assert_non_null(strstr(err.msg, "expects"));
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    nn_model_destroy(m);
}

/* ---- batch norm --------------------------------------------------------------- */

static void test_batchnorm_stats(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 41);
    nn_model *m;
    assert_int_equal(nn_model_create(2, 3, 3, &m, &err), 0);
    int bn = nn_batchnorm(m, "bn", NN_INPUT, 0.1f, 1e-5f, &err);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    nn_tensor x;
    make(&x, 4, 2, 3, 3, &r);
    for (size_t i = 0; i < nn_tensor_numel(&x); i++)
        x.data[i] = 3.0f + 2.0f * x.data[i];
    assert_int_equal(nn_forward(m, ws, &x, &r, &err), 0);
    const nn_tensor *y = nn_ws_out(ws, bn);
    double s = 0, s2 = 0, xs = 0, xs2 = 0;
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < 9; i++) {
            float v = y->data[b * 18 + i], u = x.data[b * 18 + i];
            s += v, s2 += v * v, xs += u, xs2 += (double)u * u;
        }
    assert_float_equal(s / 36, 0.0, 1e-5);
    assert_float_equal(s2 / 36, 1.0, 1e-3);
    double mean = xs / 36, var = (xs2 / 36 - mean * mean) * 36 / 35;
    const nn_param *rm = nn_model_cparam(m, 2), *rv = nn_model_cparam(m, 3);
    assert_string_equal(rm->name, "bn.running_mean");
    assert_float_equal(rm->data[0], 0.1 * mean, 1e-5);
    assert_float_equal(rv->data[0], 0.9 + 0.1 * var, 1e-4);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    nn_model_destroy(m);
}

static void test_fold_bn(void **state)
{
    (void)state;
    util_rng r;
    util_rng_seed(&r, 42);
    nn_model *m;
    assert_int_equal(nn_model_create(2, 9, 9, &m, &err), 0);
    int c1 = nn_conv2d(m, "c1", NN_INPUT, 4, 3, 2, 1, 0, &err);
    int b1 = nn_batchnorm(m, "b1", c1, 0.1f, 1e-5f, &err);
    int r1 = nn_relu(m, "r1", b1, &err);
    int d1 = nn_deconv2d(m, "d1", r1, 3, 3, 2, 1, 0, 1, &err);
    int b2 = nn_batchnorm(m, "b2", d1, 0.1f, 1e-5f, &err);
    /* b3 follows a conv that has a second consumer: must not fold. */
    int c3 = nn_conv2d(m, "c3", b2, 2, 1, 1, 0, 1, &err);
    int b3 = nn_batchnorm(m, "b3", c3, 0.1f, 1e-5f, &err);
    int out = nn_add(m, "out", b3, c3, &err);
    assert_true(b1 > 0 && d1 > 0 && out > 0);
    randomise(m, &r);
    nn_tensor x;
    make(&x, 3, 2, 9, 9, &r);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    assert_int_equal(nn_infer(m, ws, &x, &err), 0);
    size_t n = nn_tensor_numel(nn_ws_out(ws, out));
    float *before = malloc(n * sizeof *before);
    memcpy(before, nn_ws_out(ws, out)->data, n * sizeof *before);
    int folded;
    assert_int_equal(nn_model_fold_bn(m, &folded, &err), 0);
    assert_int_equal(folded, 2);
    assert_int_equal(nn_infer(m, ws, &x, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(nn_ws_out(ws, out)->data[i], before[i], 1e-4);
    /* The folded model has no b1 or b2 tensors and refuses to train. */
    for (size_t i = 0; i < nn_model_nparams(m); i++)
        assert_null(strstr(nn_model_cparam(m, i)->name, "b1."));
    assert_int_equal(nn_forward(m, ws, &x, &r, &err), -1);
    free(before);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    nn_model_destroy(m);
}

/* ---- optimisers and schedules --------------------------------------------------- */

/* Minimises ||W x - t||^2 for a linear layer through the engine. */
static float fit_linear(const nn_optim_cfg *cfg, float lr, int steps)
{
    util_rng r;
    util_rng_seed(&r, 51);
    nn_model *m;
    assert_int_equal(nn_model_create(3, 1, 1, &m, &err), 0);
    int l = nn_linear(m, "fc", NN_INPUT, 2, 1, &err);
    nn_model_init(m, &r);
    nn_optim *o;
    assert_int_equal(nn_optim_create(m, cfg, &o, &err), 0);
    nn_ws *ws;
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    nn_tensor x, t, g = {0};
    make(&x, 8, 3, 1, 1, &r);
    make(&t, 8, 2, 1, 1, &r);
    /* Targets from a linear map, so the loss can reach zero. */
    for (int i = 0; i < 8; i++)
        for (int o2 = 0; o2 < 2; o2++)
            t.data[i * 2 + o2] = 0.3f * (float)o2 - 0.5f + x.data[i * 3] * 0.7f -
                                 x.data[i * 3 + 1 + o2] * 1.3f;
    float loss = 0;
    for (int i = 0; i < steps; i++) {
        nn_model_zero_grad(m);
        assert_int_equal(nn_forward(m, ws, &x, &r, &err), 0);
        assert_int_equal(nn_loss_mse(nn_ws_out(ws, l), &t, &loss, &g, &err), 0);
        const nn_tensor *gs = &g;
        assert_int_equal(nn_backward(m, ws, 1, &l, &gs, &err), 0);
        nn_optim_step(o, lr);
    }
    assert_int_equal(nn_optim_steps(o), steps);
    nn_tensor_free(&x);
    nn_tensor_free(&t);
    nn_tensor_free(&g);
    nn_ws_destroy(ws);
    nn_optim_destroy(o);
    nn_model_destroy(m);
    return loss;
}

static void test_optimisers(void **state)
{
    (void)state;
    nn_optim_cfg adam = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 0};
    nn_optim_cfg sgd = {NN_OPTIM_SGD, 0, 0, 0, 0.9f, 0, 0};
    nn_optim_cfg nag = {NN_OPTIM_SGD, 0, 0, 0, 0.9f, 1, 0};
    float l0 = fit_linear(&adam, 0.0f, 1);
    assert_true(fit_linear(&adam, 0.05f, 300) < 0.05f * l0);
    assert_true(fit_linear(&sgd, 0.05f, 300) < 0.05f * l0);
    assert_true(fit_linear(&nag, 0.05f, 300) < 0.05f * l0);
}

static void test_adamw_decay(void **state)
{
    (void)state;
    nn_model *m;
    assert_int_equal(nn_model_create(2, 1, 1, &m, &err), 0);
    assert_true(nn_linear(m, "fc", NN_INPUT, 1, 1, &err) > 0);
    nn_param *w = nn_model_param(m, 0), *b = nn_model_param(m, 1);
    w->data[0] = 1.0f, b->data[0] = 1.0f;
    nn_optim_cfg cfg = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 0.1f};
    nn_optim *o;
    assert_int_equal(nn_optim_create(m, &cfg, &o, &err), 0);
    nn_model_zero_grad(m);
    for (int i = 0; i < 10; i++)
        nn_optim_step(o, 0.5f);
    /* Zero gradient: weights shrink by (1 - lr wd) per step, biases not. */
    assert_float_equal(w->data[0], pow(0.95, 10), 1e-5);
    assert_float_equal(b->data[0], 1.0, 1e-6);
    nn_optim_destroy(o);
    nn_model_destroy(m);
}

static void test_schedules(void **state)
{
    (void)state;
    nn_lr_sched cos = {NN_LR_COSINE, 1.0f, 0.1f, 10, 110, 0, 0};
    assert_float_equal(nn_lr_at(&cos, 0), 0.1, 1e-6);
    assert_float_equal(nn_lr_at(&cos, 9), 1.0, 1e-6);
    assert_float_equal(nn_lr_at(&cos, 10), 1.0, 1e-6);
    assert_float_equal(nn_lr_at(&cos, 60), 0.55, 1e-6);
    assert_float_equal(nn_lr_at(&cos, 110), 0.1, 1e-6);
    assert_float_equal(nn_lr_at(&cos, 500), 0.1, 1e-6);
    nn_lr_sched step = {NN_LR_STEP, 1.0f, 0, 0, 0, 30, 0.5f};
    assert_float_equal(nn_lr_at(&step, 29), 1.0, 1e-6);
    assert_float_equal(nn_lr_at(&step, 30), 0.5, 1e-6);
    assert_float_equal(nn_lr_at(&step, 95), 0.125, 1e-6);
    nn_lr_sched c = {NN_LR_CONST, 0.3f, 0, 0, 0, 0, 0};
    assert_float_equal(nn_lr_at(&c, 1000), 0.3, 1e-6);
}

/* ---- models from JSON ------------------------------------------------------------- */

static const char *spec_ok =
    "{\"input\": [1, 12, 12], \"layers\": ["
    "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"pad\": 1, \"bias\": false},"
    "{\"name\": \"bn1\", \"type\": \"batchnorm\"},"
    "{\"name\": \"r1\", \"type\": \"relu\"},"
    "{\"name\": \"p1\", \"type\": \"maxpool\", \"kernel\": 2},"
    "{\"name\": \"c2\", \"type\": \"conv2d\", \"out\": 4, \"kernel\": [3, 1], \"pad\": [1, 0]},"
    "{\"name\": \"sum\", \"type\": \"add\", \"inputs\": [\"p1\", \"c2\"]},"
    "{\"name\": \"d\", \"type\": \"deconv2d\", \"out\": 2, \"kernel\": 3, \"stride\": 2, \"pad\": 1, \"out_pad\": 1},"
    "{\"name\": \"a\", \"type\": \"avgpool\", \"kernel\": 3, \"stride\": 3},"
    "{\"name\": \"g\", \"type\": \"gap\", \"input\": \"sum\"},"
    "{\"name\": \"drop\", \"type\": \"dropout\", \"p\": 0.5},"
    "{\"name\": \"fc\", \"type\": \"linear\", \"out\": 3},"
    "{\"name\": \"s\", \"type\": \"sigmoid\"}]}";

static void test_spec(void **state)
{
    (void)state;
    nn_model *m;
    assert_int_equal(nn_model_from_json(spec_ok, &m, &err), 0);
    assert_int_equal(nn_model_nodes(m), 13);
    nn_shape s = nn_model_node_shape(m, nn_model_find(m, "a"));
    assert_int_equal(s.h, 4);
    s = nn_model_node_shape(m, nn_model_find(m, "s"));
    assert_int_equal(s.c, 3);
    assert_int_equal(s.h, 1);
    nn_model_destroy(m);

    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"c\", \"type\": \"conv2d\", \"out\": 2, \"kernal\": 3}]}",
         "model.layers[0]: c: unknown key 'kernal' for a conv2d layer"},
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"c\", \"type\": \"conv2d\", \"kernel\": 3}]}",
         "model.layers[0]: c: out: required"},
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"r\", \"type\": \"relu\", \"input\": \"nope\"}]}",
         "model.layers[0]: r: input: no earlier layer 'nope'"},
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"r\", \"type\": \"swish\"}]}",
         "model.layers[0]: r: unknown type 'swish'"},
        {"{\"input\": [1, 8], \"layers\": []}",
         "model.input: expected [channels, height, width], integers in 1..65536"},
        /* Out of int's range: refused before any cast (issue: UB in the cast). */
        {"{\"input\": [1e300, 28, 28], \"layers\": [{\"name\": \"r\", \"type\": \"relu\"}]}",
         "model.input: expected [channels, height, width], integers in 1..65536"},
        {"{\"input\": [1, -1e300, 28], \"layers\": [{\"name\": \"r\", \"type\": \"relu\"}]}",
         "model.input: expected [channels, height, width], integers in 1..65536"},
        {"{\"input\": [1, 2.5, 28], \"layers\": [{\"name\": \"r\", \"type\": \"relu\"}]}",
         "model.input: expected [channels, height, width], integers in 1..65536"},
        {"{\"input\": [1, 8, 8], \"layers\": [], \"extra\": 1}", "model: unknown key 'extra'"},
        /* Floats from the file: 1e300 is no float (it became an eps of
         * infinity, which "eps > 0" let through). */
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"bn\", \"type\": \"batchnorm\", \"eps\": 1e300}]}",
         "model.layers[0]: bn: eps: expected a number in float's range"},
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"d\", \"type\": \"dropout\", \"p\": -1e300}]}",
         "model.layers[0]: d: p: expected a number in float's range"},
        /* Sizes whose products overflow int (undefined behaviour, and a
         * wrapped size that was accepted): each side is within 1..65536
         * and each layer key within 10^6. */
        {"{\"input\": [65536, 65536, 65536], \"layers\": [{\"name\": \"r\", \"type\": \"relu\"}]}",
         "model.input: model: input 65536x65536x65536 has more than 2147483647 values"},
        {"{\"input\": [1, 65536, 1], \"layers\": [{\"name\": \"d\", \"type\": \"deconv2d\", "
         "\"out\": 1, \"kernel\": 1, \"stride\": [98304, 1]}]}",
         "model.layers[0]: d: deconv2d: no output for 65536x1 input, kernel 1x1 pad 0,0"},
        {"{\"input\": [65536, 1, 1], \"layers\": [{\"name\": \"c\", \"type\": \"conv2d\", "
         "\"out\": 65536, \"kernel\": 65536, \"pad\": 32768}]}",
         "model.layers[0]: c: parameter weight has more than 2147483647 values"},
        {"{\"input\": [16, 8192, 8192], \"layers\": [{\"name\": \"c\", \"type\": \"conv2d\", "
         "\"out\": 1, \"kernel\": 3, \"pad\": 1}]}",
         "model.layers[0]: c: conv2d: the columns of one 16x8192x8192 image for a 3x3 kernel "
         "are more than 2147483647 values"},
        {"{\"input\": [1, 8, 8], \"layers\": [{\"name\": \"d\", \"type\": \"deconv2d\", "
         "\"out\": 65536, \"kernel\": 1, \"stride\": 8192}]}",
         "model.layers[0]: d: output 65536x57345x57345 has more than 2147483647 values"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nn_model_from_json(bad[i].json, &m, &err), -1);
        assert_null(m);
        assert_string_equal(err.msg, bad[i].msg);
    }
}

/* ---- training end to end ------------------------------------------------------------ */

/* Two classes of 8x8 images: a bright blob left or right. A small CNN
 * must learn it; two runs from the same seed must agree bit for bit. */
static void make_blobs(nn_tensor *x, int *labels, int n, util_rng *r)
{
    memset(x, 0, sizeof *x);
    nn_tensor_resize(x, n, 1, 8, 8, &err);
    for (int i = 0; i < n; i++) {
        labels[i] = (int)util_rng_below(r, 2);
        int cx = labels[i] ? 5 : 2, cy = (int)util_rng_below(r, 8);
        for (int k = 0; k < 64; k++) {
            int y = k / 8, xx = k % 8;
            float d2 = (float)((y - cy) * (y - cy) + (xx - cx) * (xx - cx));
            x->data[i * 64 + k] = expf(-d2 / 3.0f) + 0.3f * (float)util_rng_uniform(r);
        }
    }
}

static float train_blobs(uint64_t seed, float *param_sum)
{
    util_rng r;
    util_rng_seed(&r, seed);
    nn_model *m;
    assert_int_equal(nn_model_create(1, 8, 8, &m, &err), 0);
    int c = nn_conv2d(m, "c", NN_INPUT, 4, 3, 1, 1, 0, &err);
    c = nn_batchnorm(m, "bn", c, 0.1f, 1e-5f, &err);
    c = nn_relu(m, "r", c, &err);
    c = nn_maxpool(m, "p", c, 2, 2, 0, &err);
    c = nn_dropout(m, "d", c, 0.2f, &err);
    int out = nn_linear(m, "fc", c, 2, 1, &err);
    assert_true(out > 0);
    nn_model_init(m, &r);
    nn_optim_cfg cfg = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 1e-4f};
    nn_optim *o;
    nn_ws *ws;
    assert_int_equal(nn_optim_create(m, &cfg, &o, &err), 0);
    assert_int_equal(nn_ws_create(m, &ws, &err), 0);
    nn_tensor x, g = {0};
    int labels[32];
    float loss;
    for (int step = 0; step < 150; step++) {
        make_blobs(&x, labels, 32, &r);
        nn_model_zero_grad(m);
        assert_int_equal(nn_forward(m, ws, &x, &r, &err), 0);
        assert_int_equal(nn_loss_softmax_ce(nn_ws_out(ws, out), labels, 0, &loss, &g, NULL, &err), 0);
        const nn_tensor *gs = &g;
        assert_int_equal(nn_backward(m, ws, 1, &out, &gs, &err), 0);
        nn_optim_step(o, 0.01f);
        nn_tensor_free(&x);
    }
    make_blobs(&x, labels, 32, &r);
    int hits;
    assert_int_equal(nn_infer(m, ws, &x, &err), 0);
    assert_int_equal(nn_loss_softmax_ce(nn_ws_out(ws, out), labels, 0, &loss, NULL, &hits, &err), 0);
    *param_sum = 0;
    for (size_t i = 0; i < nn_model_nparams(m); i++)
        for (size_t k = 0; k < nn_model_cparam(m, i)->numel; k++)
            *param_sum += nn_model_cparam(m, i)->data[k] * (float)(k + 1);
    nn_tensor_free(&x);
    nn_tensor_free(&g);
    nn_ws_destroy(ws);
    nn_optim_destroy(o);
    nn_model_destroy(m);
    return (float)hits / 32.0f;
}

static void test_train_reproducible(void **state)
{
    (void)state;
    float s1, s2;
    float acc = train_blobs(77, &s1);
    assert_true(acc >= 0.9f);
    train_blobs(77, &s2);
    assert_true(s1 == s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_conv),
        cmocka_unit_test(test_grad_deconv),
        cmocka_unit_test(test_grad_activations),
        cmocka_unit_test(test_grad_pooling),
        cmocka_unit_test(test_grad_linear),
        cmocka_unit_test(test_grad_batchnorm),
        cmocka_unit_test(test_grad_dropout),
        cmocka_unit_test(test_grad_add),
        cmocka_unit_test(test_grad_branch_custom),
        cmocka_unit_test(test_loss_mse_bce),
        cmocka_unit_test(test_loss_softmax_ce),
        cmocka_unit_test(test_conv_vs_naive),
        cmocka_unit_test(test_deconv_vs_naive),
        cmocka_unit_test(test_conv_chunks),
        cmocka_unit_test(test_shapes_and_errors),
        cmocka_unit_test(test_batchnorm_stats),
        cmocka_unit_test(test_fold_bn),
        cmocka_unit_test(test_optimisers),
        cmocka_unit_test(test_adamw_decay),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_train_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
