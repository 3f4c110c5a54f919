/* Tensors and the layout moves shared by the layers. */
#include "nn/nn_impl.h"
#include "nn/vec.h"

#include <stdlib.h>
#include <string.h>

int nn_tensor_resize(nn_tensor *t, int n, int c, int h, int w, util_err *err)
{
    if (n < 0 || c < 0 || h < 0 || w < 0)
        return util_errf(err, "tensor: negative shape %dx%dx%dx%d", n, c, h, w);
    size_t need = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    if (need > t->cap) {
        float *p = realloc(t->data, need * sizeof *p);
        if (!p)
            return util_errf(err, "tensor: out of memory for %zu floats", need);
        memset(p + t->cap, 0, (need - t->cap) * sizeof *p);
        t->data = p;
        t->cap = need;
    }
    t->n = n;
    t->c = c;
    t->h = h;
    t->w = w;
    return 0;
}

void nn_tensor_free(nn_tensor *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

size_t nn_tensor_numel(const nn_tensor *t)
{
    return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

nn_shape nn_tensor_shape(const nn_tensor *t)
{
    nn_shape s = {t->n, t->c, t->h, t->w};
    return s;
}

void nn_tensor_zero(nn_tensor *t)
{
    if (t->data)
        memset(t->data, 0, nn_tensor_numel(t) * sizeof *t->data);
}

int nn_shape_eq(const nn_shape *a, const nn_shape *b)
{
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w;
}

void nn_nchw_to_cn(const float *x, int n, int c, int hw, float *y)
{
    size_t N = (size_t)n * (size_t)hw;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            memcpy(y + (size_t)ch * N + (size_t)b * hw,
                   x + ((size_t)b * c + ch) * hw, (size_t)hw * sizeof *x);
}

void nn_cn_to_nchw(const float *x, int n, int c, int hw, float *y, int add)
{
    size_t N = (size_t)n * (size_t)hw;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const float *src = x + (size_t)ch * N + (size_t)b * hw;
            float *dst = y + ((size_t)b * c + ch) * hw;
            if (add)
                nn_vec_add(src, dst, (size_t)hw);
            else
                memcpy(dst, src, (size_t)hw * sizeof *x);
        }
}
