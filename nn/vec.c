/* Element-wise kernels (see vec.h for why they look the way they do). */
#include "nn/vec.h"

#define NN_VEC_MAIN(n) ((n) & ~(size_t)7)

/* y = max(x, 0) */
void nn_vec_relu(const float *restrict x, float *restrict y, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++) {
        float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx += y > 0 ? dy : 0 */
void nn_vec_relu_back(const float *restrict y, const float *restrict dy,
                      float *restrict dx, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++) {
        float g = dy[i], o = y[i];
        dx[i] += o > 0.0f ? g : 0.0f;
    }
    for (; i < n; i++)
        dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

/* y += x */
void nn_vec_add(const float *restrict x, float *restrict y, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        y[i] += x[i];
    for (; i < n; i++)
        y[i] += x[i];
}

/* y = a x + b */
void nn_vec_axpb(const float *restrict x, float *restrict y, float a, float b,
                 size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        y[i] = x[i] * a + b;
    for (; i < n; i++)
        y[i] = x[i] * a + b;
}

/* y += b */
void nn_vec_shift(float *restrict y, float b, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        y[i] += b;
    for (; i < n; i++)
        y[i] += b;
}

/* y = x * k */
void nn_vec_mul(const float *restrict x, const float *restrict k,
                float *restrict y, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        y[i] = x[i] * k[i];
    for (; i < n; i++)
        y[i] = x[i] * k[i];
}

/* dx += dy * k */
void nn_vec_mul_add(const float *restrict dy, const float *restrict k,
                    float *restrict dx, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        dx[i] += dy[i] * k[i];
    for (; i < n; i++)
        dx[i] += dy[i] * k[i];
}

/* Sum and sum of squares, eight float lanes (one plane at a time keeps
 * float accurate enough; callers add planes up in double). */
void nn_vec_sums(const float *restrict x, size_t n, double *s, double *s2)
{
    float a[8] = {0}, b[8] = {0};
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i += 8)
        for (int j = 0; j < 8; j++) {
            float v = x[i + j];
            a[j] += v;
            b[j] += v * v;
        }
    double sa = 0.0, sb = 0.0;
    for (int j = 0; j < 8; j++)
        sa += a[j], sb += b[j];
    for (; i < n; i++)
        sa += x[i], sb += (double)x[i] * x[i];
    *s += sa;
    *s2 += sb;
}

/* Sums of dy and of dy * (x - mean) * inv: batch norm's backward. */
void nn_vec_bn_sums(const float *restrict x, const float *restrict dy,
                    float mean, float inv, size_t n, double *sdy,
                    double *sdyx)
{
    float a[8] = {0}, b[8] = {0};
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i += 8)
        for (int j = 0; j < 8; j++) {
            float g = dy[i + j];
            a[j] += g;
            b[j] += g * ((x[i + j] - mean) * inv);
        }
    double sa = 0.0, sb = 0.0;
    for (int j = 0; j < 8; j++)
        sa += a[j], sb += b[j];
    for (; i < n; i++)
        sa += dy[i], sb += dy[i] * ((x[i] - mean) * inv);
    *sdy += sa;
    *sdyx += sb;
}

/* dx += k (dy - a - (x - mean) inv b) */
void nn_vec_bn_back(const float *restrict x, const float *restrict dy,
                    float *restrict dx, float mean, float inv, float k,
                    float a, float b, size_t n)
{
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i++)
        dx[i] += k * (dy[i] - a - (x[i] - mean) * inv * b);
    for (; i < n; i++)
        dx[i] += k * (dy[i] - a - (x[i] - mean) * inv * b);
}

/* Sum of x. */
double nn_vec_sum(const float *restrict x, size_t n)
{
    float a[8] = {0};
    size_t m = NN_VEC_MAIN(n), i;
    for (i = 0; i < m; i += 8)
        for (int j = 0; j < 8; j++)
            a[j] += x[i + j];
    double s = 0.0;
    for (int j = 0; j < 8; j++)
        s += a[j];
    for (; i < n; i++)
        s += x[i];
    return s;
}

