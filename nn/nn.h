/*
 * nn: a small neural-network engine for training and running LimitNet and
 * the cloud's task models on a CPU.
 *
 *   nn_tensor     float32 NCHW tensor (a vector is [n, c, 1, 1])
 *   nn_model      a graph of named layers: node 0 is the input, each layer
 *                 adds a node fed by earlier nodes, so one output may feed
 *                 several heads (a branch) and a custom operation with its
 *                 own backward may sit anywhere
 *   nn_ws         per-caller workspace (activations, gradients, scratch):
 *                 one model may be run by several threads, each with its
 *                 own workspace
 *   nn_optim      Adam (decoupled weight decay) and SGD with momentum
 *   nn_lr_sched   constant, step or cosine learning rate with warm-up
 *   nn_st_*       weight files in the safetensors layout (models/README.md)
 *
 * Convolutions run as im2col + cblas_sgemm over chunks of several images,
 * so that OpenBLAS sees large matrices while the columns stay in cache;
 * everything else is serial C, written so that the compiler vectorises it.
 * OpenBLAS is the only source of threads; nn never sets its thread count
 * (that is process-global state and belongs to the program).
 *
 * Parameters follow PyTorch's layout and names, so a state_dict saved as
 * safetensors loads directly: conv "<layer>.weight" [cout, cin, kh, kw],
 * transposed conv [cin, cout, kh, kw], linear [out, in], batch norm
 * weight/bias/running_mean/running_var [c].
 */
#ifndef NN_NN_H
#define NN_NN_H

#include <stddef.h>

#include "util/util.h"

#define NN_NAME_LEN 64
#define NN_MAX_INPUTS 4
#define NN_INPUT 0 /* node id of the model's input */

/* ---- tensors --------------------------------------------------------------- */

typedef struct nn_shape {
    int n, c, h, w;
} nn_shape;

/* Owns data; a zero-initialised struct is a valid empty tensor. */
typedef struct nn_tensor {
    int n, c, h, w;
    float *data;
    size_t cap; /* floats allocated */
} nn_tensor;

/* Sets the shape, growing the allocation when needed; new contents are
 * zero, existing ones are left as they are. */
int nn_tensor_resize(nn_tensor *t, int n, int c, int h, int w, util_err *err);
void nn_tensor_free(nn_tensor *t);
size_t nn_tensor_numel(const nn_tensor *t);
nn_shape nn_tensor_shape(const nn_tensor *t);
void nn_tensor_zero(nn_tensor *t);

/* ---- models ------------------------------------------------------------------ */

typedef struct nn_model nn_model;

/* A model whose input is c x h x w per sample. */
int nn_model_create(int c, int h, int w, nn_model **out, util_err *err);
void nn_model_destroy(nn_model *m);

/* Convolution geometry. Output size: (in + 2p - k) / s + 1 for conv2d,
 * (in - 1) s - 2p + k + op for the transposed one (op < s). */
typedef struct nn_conv_spec {
    int cout;
    int kh, kw;
    int sh, sw; /* stride */
    int ph, pw; /* zero padding */
    int oph, opw; /* output padding (transposed only) */
    int bias;
} nn_conv_spec;

/* Layers. Each adds a node and returns its id (> 0), or -1 with err set.
 * Names must be unique; parameter names are "<name>.<param>". */
int nn_conv2d(nn_model *m, const char *name, int in, int cout, int k,
              int stride, int pad, int bias, util_err *err);
int nn_conv2d_ex(nn_model *m, const char *name, int in,
                 const nn_conv_spec *s, util_err *err);
int nn_deconv2d(nn_model *m, const char *name, int in, int cout, int k,
                int stride, int pad, int outpad, int bias, util_err *err);
int nn_deconv2d_ex(nn_model *m, const char *name, int in,
                   const nn_conv_spec *s, util_err *err);
int nn_relu(nn_model *m, const char *name, int in, util_err *err);
int nn_sigmoid(nn_model *m, const char *name, int in, util_err *err);
/* Pooling windows k x k; max pooling pads with -inf, average pooling
 * counts the padding (PyTorch's defaults). */
int nn_maxpool(nn_model *m, const char *name, int in, int k, int stride,
               int pad, util_err *err);
int nn_avgpool(nn_model *m, const char *name, int in, int k, int stride,
               int pad, util_err *err);
int nn_gap(nn_model *m, const char *name, int in, util_err *err);
/* Flattens its input (c*h*w features) and gives [n, out, 1, 1]. */
int nn_linear(nn_model *m, const char *name, int in, int out, int bias,
              util_err *err);
/* Per-channel batch norm; PyTorch's momentum (0.1) and eps (1e-5) are the
 * usual values. */
int nn_batchnorm(nn_model *m, const char *name, int in, float momentum,
                 float eps, util_err *err);
/* Inverted dropout: drops with probability p in training, identity else. */
int nn_dropout(nn_model *m, const char *name, int in, float p,
               util_err *err);
/* Element-wise sum of two nodes of the same shape. */
int nn_add(nn_model *m, const char *name, int a, int b, util_err *err);

/* A custom operation: ctx is the caller's and must outlive the model; the
 * operation must not keep per-call state in it if several threads run the
 * model at once. Shapes include the batch size. */
typedef struct nn_custom_ops {
    int (*shape)(void *ctx, const nn_shape *in, int nin, nn_shape *out,
                 util_err *err);
    int (*forward)(void *ctx, const nn_tensor *const *in, int nin,
                   nn_tensor *out, int training, util_rng *rng,
                   util_err *err);
    /* Adds d(loss)/d(in[i]) into din[i]; din[i] is NULL where no gradient
     * is needed. */
    int (*backward)(void *ctx, const nn_tensor *const *in, int nin,
                    const nn_tensor *out, const nn_tensor *dout,
                    nn_tensor *const *din, util_err *err);
} nn_custom_ops;
int nn_custom(nn_model *m, const char *name, const int *in, int nin,
              const nn_custom_ops *ops, void *ctx, util_err *err);

int nn_model_nodes(const nn_model *m);
/* Node id by name ("input" is node 0), or -1. */
int nn_model_find(const nn_model *m, const char *name);
const char *nn_model_node_name(const nn_model *m, int node);
/* Per-sample output shape of a node (n = 1). */
nn_shape nn_model_node_shape(const nn_model *m, int node);
/* What a converter to another runtime (device/) reads: a node's layer
 * type ("conv2d", "relu", ...; "input" for node 0), its input nodes (the
 * count, -1 for no such node), and a conv2d's geometry, weight
 * [cout][cin][kh][kw] and bias (NULL without one; -1 if not a conv2d). */
const char *nn_model_node_type(const nn_model *m, int node);
int nn_model_node_inputs(const nn_model *m, int node, const int **in);
int nn_model_node_conv(const nn_model *m, int node, nn_conv_spec *spec,
                       const float **w, const float **b);
/* Trainable parameters, and multiply-accumulates of one forward pass for
 * one sample. */
size_t nn_model_param_count(const nn_model *m);
double nn_model_macs(const nn_model *m);

/* Weights: He-normal for convolutions and linear layers, zero biases, unit
 * batch-norm scale. */
void nn_model_init(nn_model *m, util_rng *rng);

/* Folds every batch norm that directly follows a convolution (and is its
 * only consumer) into that convolution, for inference. Afterwards the
 * model can no longer be trained (nn_forward refuses), and saved files
 * carry the folded weights. *folded (may be NULL) counts them. */
int nn_model_fold_bn(nn_model *m, int *folded, util_err *err);

/* Parameters and buffers (batch-norm running statistics, grad == NULL). */
typedef struct nn_param {
    char name[NN_NAME_LEN];
    int ndim;
    int shape[4];
    size_t numel;
    float *data;
    float *grad; /* NULL for buffers */
    int decay;   /* weight decay applies (weights, not biases or norms) */
} nn_param;
size_t nn_model_nparams(const nn_model *m);
nn_param *nn_model_param(nn_model *m, size_t i);
const nn_param *nn_model_cparam(const nn_model *m, size_t i);
void nn_model_zero_grad(nn_model *m);

/* ---- running a model ------------------------------------------------------ */

typedef struct nn_ws nn_ws;

int nn_ws_create(const nn_model *m, nn_ws **out, util_err *err);
void nn_ws_destroy(nn_ws *ws);
/* Also compute the gradient with respect to the model's input (off by
 * default, as it costs a col2im in the first layer). */
void nn_ws_input_grad(nn_ws *ws, int on);

/* Training-mode forward pass (batch statistics, dropout from rng; updates
 * batch-norm running statistics). x is [n, c, h, w] as the model expects. */
int nn_forward(nn_model *m, nn_ws *ws, const nn_tensor *x, util_rng *rng,
               util_err *err);
/* Inference-mode forward pass; leaves the model untouched, so threads with
 * separate workspaces may call it on one model at once. */
int nn_infer(const nn_model *m, nn_ws *ws, const nn_tensor *x,
             util_err *err);
/* A node's output after a forward pass, and its gradient after backward. */
const nn_tensor *nn_ws_out(const nn_ws *ws, int node);
const nn_tensor *nn_ws_grad(const nn_ws *ws, int node);

/* Back-propagates the given gradients of the loss with respect to the
 * outputs of `nodes` (several heads: their contributions add up) through
 * the last nn_forward, adding into the parameters' grad. */
int nn_backward(nn_model *m, nn_ws *ws, int nseeds, const int *nodes,
                const nn_tensor *const *grads, util_err *err);

/* ---- losses ------------------------------------------------------------------ */
/* Each gives the mean loss and, when grad is not NULL, its gradient
 * (grad is resized to pred's shape). */

int nn_loss_mse(const nn_tensor *pred, const nn_tensor *target, float *loss,
                nn_tensor *grad, util_err *err);
/* prob in (0, 1) (a sigmoid output; clamped to [1e-7, 1 - 1e-7]); targets
 * in [0, 1]. */
int nn_loss_bce(const nn_tensor *prob, const nn_tensor *target, float *loss,
                nn_tensor *grad, util_err *err);
/* Softmax cross-entropy over the c channels of [n, c, 1, 1] logits, mean
 * over the batch, with label smoothing (0 for none). *correct (may be
 * NULL) counts top-1 hits. */
int nn_loss_softmax_ce(const nn_tensor *logits, const int *labels,
                       float smoothing, float *loss, nn_tensor *grad,
                       int *correct, util_err *err);

/* ---- optimisers and schedules --------------------------------------------- */

typedef enum nn_optim_kind { NN_OPTIM_ADAM, NN_OPTIM_SGD } nn_optim_kind;

typedef struct nn_optim_cfg {
    nn_optim_kind kind;
    float beta1, beta2, eps; /* Adam */
    float momentum;          /* SGD */
    int nesterov;            /* SGD */
    /* Adam: decoupled (AdamW), p -= lr * wd * p. SGD: L2 added to the
     * gradient, as in PyTorch. Only parameters with decay set. */
    float weight_decay;
} nn_optim_cfg;

typedef struct nn_optim nn_optim;

int nn_optim_create(nn_model *m, const nn_optim_cfg *cfg, nn_optim **out,
                    util_err *err);
void nn_optim_destroy(nn_optim *o);
/* One update with learning rate lr from the parameters' grad. */
void nn_optim_step(nn_optim *o, float lr);
long nn_optim_steps(const nn_optim *o);

/* Optimiser state for checkpoints: tensors "optim.s1.<param>" and
 * "optim.s2.<param>" (Adam's moments; SGD's velocity in s1) and the
 * metadata key "optim.step". The st types are declared below. */
typedef struct nn_st_writer nn_st_writer;
typedef struct nn_st_file nn_st_file;
int nn_optim_write(const nn_optim *o, nn_st_writer *w, util_err *err);
int nn_optim_read(nn_optim *o, const nn_st_file *f, util_err *err);

typedef enum nn_lr_kind { NN_LR_CONST, NN_LR_STEP, NN_LR_COSINE } nn_lr_kind;

typedef struct nn_lr_sched {
    nn_lr_kind kind;
    float base;      /* peak rate */
    float min;       /* cosine: final rate */
    long warmup;     /* steps of linear warm-up from base / warmup */
    long total;      /* cosine: steps in all */
    long step_every; /* step: multiply by gamma every this many steps */
    float gamma;
} nn_lr_sched;

float nn_lr_at(const nn_lr_sched *s, long step);

/* ---- weight files (safetensors layout) ------------------------------------- */

int nn_st_writer_create(nn_st_writer **out, util_err *err);
void nn_st_writer_destroy(nn_st_writer *w);
/* data is referenced, not copied: keep it alive until the save. */
int nn_st_writer_tensor(nn_st_writer *w, const char *name, int ndim,
                        const int *shape, const float *data, util_err *err);
int nn_st_writer_meta(nn_st_writer *w, const char *key, const char *value,
                      util_err *err);
/* Every parameter and buffer of m, named prefix + parameter name. */
int nn_st_writer_model(nn_st_writer *w, const nn_model *m,
                       const char *prefix, util_err *err);
/* Writes to a temporary name and renames, so a crash never leaves a half
 * file; adds a checksum of the data section to the metadata. */
int nn_st_writer_save(nn_st_writer *w, const char *path, util_err *err);

/* Reads and validates the whole file: header length, JSON, every entry's
 * dtype, shape and offsets, that the data section is covered exactly with
 * no holes or overlaps, the file length, and the checksum when present.
 * Errors name the file and the tensor. */
int nn_st_open(const char *path, nn_st_file **out, util_err *err);
void nn_st_close(nn_st_file *f);
/* Metadata value, or NULL when absent. */
const char *nn_st_meta(const nn_st_file *f, const char *key);
/* Metadata value that must be all of it a number in [lo, hi], an integer
 * when integral ("1.5" or "1e300" for a count is an error, not a rounding);
 * errors name the file and the key. Metadata comes from the file, so every
 * number read from it goes through here before a cast. */
int nn_st_meta_num(const nn_st_file *f, const char *key, int integral,
                   double lo, double hi, double *out, util_err *err);
size_t nn_st_count(const nn_st_file *f);
const char *nn_st_name(const nn_st_file *f, size_t i);
/* Copies tensor `name` into dst after checking that it is F32 with exactly
 * this shape. */
int nn_st_read(const nn_st_file *f, const char *name, int ndim,
               const int *shape, float *dst, util_err *err);
/* Reads every parameter and buffer of m from tensors prefix + name. */
int nn_st_read_model(const nn_st_file *f, nn_model *m, const char *prefix,
                     util_err *err);
/* Reads the whole model from f, which must hold exactly its tensors. */
int nn_st_load_model(const nn_st_file *f, nn_model *m, util_err *err);

/* Whole-model convenience: the file must hold exactly the model's
 * tensors. meta is key, value, key, value, ... (nmeta pairs). */
int nn_model_save(const nn_model *m, const char *path,
                  const char *const *meta, size_t nmeta, util_err *err);
int nn_model_load(nn_model *m, const char *path, util_err *err);

/* ---- models declared in JSON ------------------------------------------------ */

/* {"input": [c, h, w], "layers": [{"name": "conv1", "type": "conv2d",
 * "out": 32, "kernel": 3, "stride": 1, "pad": 1, "bias": false}, ...]}.
 * Each layer reads the previous one unless it names "input" (or "inputs"
 * for add); models/README.md lists the types and keys. Unknown keys are
 * errors naming the layer. */
int nn_model_from_json(const char *json, nn_model **out, util_err *err);

/* ---- reference loops (tests and benchmarks) -------------------------------- */

/* Output size of a convolution or transposed convolution along one axis,
 * or -1 when the geometry is impossible or the size beyond INT_MAX. */
int nn_conv_out(int in, int k, int s, int p);
int nn_deconv_out(int in, int k, int s, int p, int op);
/* Direct loops, x [n, cin, h, w], weight in the layer's layout, bias may
 * be NULL; y is [n, cout, oh, ow] and is overwritten. */
void nn_conv2d_naive(const float *x, int n, int cin, int h, int w,
                     const float *wt, const float *bias,
                     const nn_conv_spec *s, float *y);
void nn_deconv2d_naive(const float *x, int n, int cin, int h, int w,
                       const float *wt, const float *bias,
                       const nn_conv_spec *s, float *y);
/* The conv layer's forward path (im2col + GEMM, in chunks of images):
 * y = conv(x). col and tmp are scratch; cin*kh*kw * n*oh*ow and
 * cout * n*oh*ow floats are always enough (a chunk needs at most 4 MiB of
 * columns or one image's). */
void nn_conv2d_gemm(const float *x, int n, int cin, int h, int w,
                    const float *wt, const float *bias,
                    const nn_conv_spec *s, float *col, float *tmp, float *y);

#endif
