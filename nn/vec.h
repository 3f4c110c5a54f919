/*
 * Element-wise kernels written so that GCC's -O2 vectoriser takes them:
 * restrict pointers, a main loop whose trip count is a multiple of 8, and
 * loads into locals before any selection (a conditional load is control
 * flow to the vectoriser). They are out of line on purpose: once inlined,
 * GCC loses the restrict promise and leaves the loops scalar. Outside GEMM
 * these loops are where training spends its time, and scalar code with
 * data-dependent branches (a ReLU on random signs) costs several times more.
 */
#ifndef NN_VEC_H
#define NN_VEC_H

#include <stddef.h>

/* y = max(x, 0) */
void nn_vec_relu(const float *restrict x, float *restrict y, size_t n);
/* dx += y > 0 ? dy : 0 */
void nn_vec_relu_back(const float *restrict y, const float *restrict dy,
                      float *restrict dx, size_t n);
/* y += x */
void nn_vec_add(const float *restrict x, float *restrict y, size_t n);
/* y = a x + b */
void nn_vec_axpb(const float *restrict x, float *restrict y, float a,
                 float b, size_t n);
/* y += b */
void nn_vec_shift(float *restrict y, float b, size_t n);
/* y = x * k */
void nn_vec_mul(const float *restrict x, const float *restrict k,
                float *restrict y, size_t n);
/* dx += dy * k */
void nn_vec_mul_add(const float *restrict dy, const float *restrict k,
                    float *restrict dx, size_t n);
/* s += sum x, s2 += sum x^2: eight float lanes over one plane (accurate
 * enough there); callers add planes up in double. */
void nn_vec_sums(const float *restrict x, size_t n, double *s, double *s2);
/* Batch norm's backward: sdy += sum dy, sdyx += sum dy (x - mean) inv. */
void nn_vec_bn_sums(const float *restrict x, const float *restrict dy,
                    float mean, float inv, size_t n, double *sdy,
                    double *sdyx);
/* dx += k (dy - a - (x - mean) inv b) */
void nn_vec_bn_back(const float *restrict x, const float *restrict dy,
                    float *restrict dx, float mean, float inv, float k,
                    float a, float b, size_t n);
/* sum x */
double nn_vec_sum(const float *restrict x, size_t n);

#endif
