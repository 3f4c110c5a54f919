/*
 * nn internals shared by the layer files and the graph: the layer record,
 * its operations, and the per-workspace scratch state of one node.
 */
#ifndef NN_NN_IMPL_H
#define NN_NN_IMPL_H

#include "nn/nn.h"

/* Scratch a layer keeps between its forward and backward passes, one per
 * node per workspace; layers use the fields as they need. */
typedef struct nn_lstate {
    nn_tensor a, b;  /* e.g. im2col columns, transposed gradients */
    int *idx;        /* max pooling: argmax of each output */
    size_t idx_cap;
    int count;       /* batch norm: values per channel in the last batch */
} nn_lstate;

typedef struct nn_layer nn_layer;

typedef struct nn_layer_ops {
    const char *type;
    /* Output shape from the (batch) input shapes. */
    int (*shape)(const nn_layer *L, const nn_shape *in, int nin,
                 nn_shape *out, util_err *err);
    int (*forward)(const nn_layer *L, nn_lstate *st,
                   const nn_tensor *const *in, int nin, nn_tensor *out,
                   int training, util_rng *rng, util_err *err);
    /* Adds input gradients into din[i] (NULL: not needed) and parameter
     * gradients into the parameters' grad. */
    int (*backward)(const nn_layer *L, nn_lstate *st,
                    const nn_tensor *const *in, int nin,
                    const nn_tensor *out, const nn_tensor *dout,
                    nn_tensor *const *din, int training, util_err *err);
    /* After a training forward: running statistics. May be NULL. */
    void (*update)(const nn_layer *L, const nn_lstate *st);
    /* Multiply-accumulates per sample. May be NULL (counted as 0). */
    double (*macs)(const nn_layer *L, const nn_shape *in,
                   const nn_shape *out);
} nn_layer_ops;

struct nn_layer {
    const nn_layer_ops *ops;
    nn_conv_spec conv;        /* conv2d, deconv2d */
    int k, stride, pad;       /* pooling */
    int nout;                 /* linear */
    float p;                  /* dropout */
    float momentum, eps;      /* batch norm */
    nn_param *w, *b, *rm, *rv;
    const nn_custom_ops *cops;
    void *cctx;
};

extern const nn_layer_ops nn_ops_conv2d, nn_ops_deconv2d, nn_ops_relu,
    nn_ops_sigmoid, nn_ops_maxpool, nn_ops_avgpool, nn_ops_gap,
    nn_ops_linear, nn_ops_batchnorm, nn_ops_dropout, nn_ops_add,
    nn_ops_custom;

/* Adds a node with a layer whose parameters are registered afterwards
 * through nn_model_add_param; returns the node id or -1. */
int nn_model_add_node(nn_model *m, const char *name, const nn_layer *L,
                      const int *in, int nin, util_err *err);
nn_layer *nn_model_layer(nn_model *m, int node);
/* Registers "<node name>.<pname>" with the given shape; zeroed data, and
 * a zeroed grad when trainable. NULL on failure. */
nn_param *nn_model_add_param(nn_model *m, int node, const char *pname,
                             int ndim, const int *shape, int trainable,
                             int decay, util_err *err);

/* Batched im2col over an image of c x ih x iw read through a kernel with
 * geometry s onto an oh x ow grid: col is [c*kh*kw, n*oh*ow]. col2im adds
 * the columns back into img (accumulating); it clobbers the entries of col
 * that fall into the padding, so col must be scratch. */
void nn_im2col(const float *img, int n, int c, int ih, int iw,
               const nn_conv_spec *s, int oh, int ow, float *col);
void nn_col2im(float *col, int n, int c, int ih, int iw,
               const nn_conv_spec *s, int oh, int ow, float *img);

/* Moves [n, c, hw] to [c, n*hw] and back (adding when add is set). */
void nn_nchw_to_cn(const float *x, int n, int c, int hw, float *y);
void nn_cn_to_nchw(const float *x, int n, int c, int hw, float *y, int add);

int nn_shape_eq(const nn_shape *a, const nn_shape *b);

#endif
