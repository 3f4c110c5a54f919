/* Losses: mean over elements (MSE, BCE) or over the batch (softmax CE),
 * each with its gradient, accumulated in double for stable sums. */
#include "nn/nn_impl.h"

#include <math.h>

static int match(const char *what, const nn_tensor *a, const nn_tensor *b,
                 util_err *err)
{
    nn_shape sa = nn_tensor_shape(a), sb = nn_tensor_shape(b);
    if (!nn_shape_eq(&sa, &sb))
        return util_errf(err, "%s: prediction %dx%dx%dx%d, target %dx%dx%dx%d",
                         what, sa.n, sa.c, sa.h, sa.w, sb.n, sb.c, sb.h, sb.w);
    if (nn_tensor_numel(a) == 0)
        return util_errf(err, "%s: empty tensors", what);
    return 0;
}

static int grad_like(nn_tensor *grad, const nn_tensor *t, util_err *err)
{
    return grad ? nn_tensor_resize(grad, t->n, t->c, t->h, t->w, err) : 0;
}

int nn_loss_mse(const nn_tensor *pred, const nn_tensor *target, float *loss,
                nn_tensor *grad, util_err *err)
{
    if (match("mse", pred, target, err) || grad_like(grad, pred, err))
        return -1;
    size_t n = nn_tensor_numel(pred);
    double s = 0.0;
    float k = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        float d = pred->data[i] - target->data[i];
        s += (double)d * d;
        if (grad)
            grad->data[i] = k * d;
    }
    *loss = (float)(s / (double)n);
    return 0;
}

int nn_loss_bce(const nn_tensor *prob, const nn_tensor *target, float *loss,
                nn_tensor *grad, util_err *err)
{
    if (match("bce", prob, target, err) || grad_like(grad, prob, err))
        return -1;
    const float lo = 1e-7f, hi = 1.0f - 1e-7f;
    size_t n = nn_tensor_numel(prob);
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        float p = prob->data[i], t = target->data[i];
        int clamped = !(p > lo && p < hi);
        p = p < lo ? lo : p > hi ? hi : p;
        s -= t * log(p) + (1.0 - t) * log(1.0 - p);
        /* The clamp is flat: no gradient through a clamped value. */
        if (grad)
            grad->data[i] = clamped ? 0.0f : (p - t) / (p * (1.0f - p)) / (float)n;
    }
    *loss = (float)(s / (double)n);
    return 0;
}

/* Loss of one sample and, when g is set, d(loss)/d(logits) / n into g. */
static double ce_one(const float *z, int C, int label, float smooth,
                     float *g, int n)
{
    float mx = z[0];
    for (int j = 1; j < C; j++)
        mx = z[j] > mx ? z[j] : mx;
    double sum = 0.0;
    for (int j = 0; j < C; j++)
        sum += exp((double)(z[j] - mx));
    double lse = log(sum) + mx, l = 0.0;
    for (int j = 0; j < C; j++) {
        double t = (j == label ? 1.0 - smooth : 0.0) + smooth / C;
        l -= t * ((double)z[j] - lse);
        if (g)
            g[j] = (float)((exp((double)z[j] - lse) - t) / n);
    }
    return l;
}

int nn_loss_softmax_ce(const nn_tensor *logits, const int *labels,
                       float smoothing, float *loss, nn_tensor *grad,
                       int *correct, util_err *err)
{
    int n = logits->n, C = logits->c * logits->h * logits->w;
    if (n <= 0 || C <= 1)
        return util_errf(err, "softmax_ce: need n > 0 and at least two classes");
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        return util_errf(err, "softmax_ce: smoothing must be in [0, 1)");
    if (grad_like(grad, logits, err))
        return -1;
    double s = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits->data + (size_t)i * C;
        if (labels[i] < 0 || labels[i] >= C)
            return util_errf(err, "softmax_ce: label %d of sample %d not in [0, %d)",
                             labels[i], i, C);
        s += ce_one(z, C, labels[i], smoothing,
                    grad ? grad->data + (size_t)i * C : NULL, n);
        int best = 0;
        for (int j = 1; j < C; j++)
            best = z[j] > z[best] ? j : best;
        hits += best == labels[i];
    }
    *loss = (float)(s / n);
    if (correct)
        *correct = hits;
    return 0;
}
