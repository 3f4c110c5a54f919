/* nn benchmarks, each with its baseline measured in the same run:
 *
 *   conv forward through im2col + GEMM against the naive loops
 *   classifier training images/s (forward, backward, Adam step)
 *   classifier inference images/s, batched and one image per call (the
 *   experiment runner's pattern), against training
 *   training and one-image inference with one OpenBLAS thread (what
 *   `limitnet run` uses, its workers being the parallelism) against two
 *
 * The classifier is the one in models/fmnist-classifier.json, fed random
 * images: speed does not depend on the pixel values. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "util/util.h"

#define CONFIG "models/fmnist-classifier.json"

static util_err err;

static void die(const char *what)
{
    fprintf(stderr, "bench_nn: %s: %s\n", what, err.msg);
    exit(1);
}

static void fill(float *p, size_t n, util_rng *r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)util_rng_normal(r);
}

/* Seconds per call of naive or GEMM convolution, repeated for >= 0.3 s. */
static double time_conv(int gemm, const float *x, int n, int cin, int h, int w,
                        const float *wt, const nn_conv_spec *s, float *col,
                        float *tmp, float *y)
{
    int reps = 0;
    double t0 = util_now(), t;
    do {
        if (gemm)
            nn_conv2d_gemm(x, n, cin, h, w, wt, NULL, s, col, tmp, y);
        else
            nn_conv2d_naive(x, n, cin, h, w, wt, NULL, s, y);
        reps++;
    } while ((t = util_now() - t0) < 0.3);
    return t / reps;
}

static void bench_conv(const char *label, int n, int cin, int h, int w,
                       nn_conv_spec s)
{
    int oh = nn_conv_out(h, s.kh, s.sh, s.ph), ow = nn_conv_out(w, s.kw, s.sw, s.pw);
    size_t K = (size_t)cin * s.kh * s.kw, N = (size_t)n * oh * ow;
    float *x = malloc(sizeof(float) * n * cin * h * w);
    float *wt = malloc(sizeof(float) * s.cout * K);
    float *col = malloc(sizeof(float) * K * N), *tmp = malloc(sizeof(float) * s.cout * N);
    float *y = malloc(sizeof(float) * s.cout * N);
    util_rng r;
    util_rng_seed(&r, 1);
    fill(x, (size_t)n * cin * h * w, &r);
    fill(wt, s.cout * K, &r);
    double tn = time_conv(0, x, n, cin, h, w, wt, &s, col, tmp, y);
    double tg = time_conv(1, x, n, cin, h, w, wt, &s, col, tmp, y);
    double gmac = (double)s.cout * K * N / 1e9;
    printf("conv %-40s naive %8.2f ms  gemm %7.2f ms  (%6.1f GMAC/s)  gemm/naive speed-up %6.1fx\n",
           label, 1e3 * tn, 1e3 * tg, gmac / tg, tn / tg);
    free(x), free(wt), free(col), free(tmp), free(y);
}

static nn_model *classifier(void)
{
    FILE *f = fopen(CONFIG, "rb");
    if (!f) {
        util_errf(&err, "cannot open (run from the repository root)");
        die(CONFIG);
    }
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    cJSON *root = cJSON_Parse(text);
    char *spec = root ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "model")) : NULL;
    nn_model *m = NULL;
    if (!spec || nn_model_from_json(spec, &m, &err))
        die(CONFIG);
    cJSON_free(spec);
    cJSON_Delete(root);
    util_rng r;
    util_rng_seed(&r, 2);
    nn_model_init(m, &r);
    return m;
}

/* Images per second for training steps at batch 128. */
static double bench_train(nn_model *m)
{
    const int B = 128;
    int out = nn_model_nodes(m) - 1;
    nn_shape in = nn_model_node_shape(m, NN_INPUT);
    nn_optim_cfg cfg = {NN_OPTIM_ADAM, 0.9f, 0.999f, 1e-8f, 0, 0, 0.01f};
    nn_optim *o;
    nn_ws *ws;
    nn_tensor x = {0}, g = {0};
    int labels[128];
    util_rng r;
    util_rng_seed(&r, 3);
    if (nn_optim_create(m, &cfg, &o, &err) || nn_ws_create(m, &ws, &err) ||
        nn_tensor_resize(&x, B, in.c, in.h, in.w, &err))
        die("train");
    fill(x.data, nn_tensor_numel(&x), &r);
    for (int i = 0; i < B; i++)
        labels[i] = i % 10;
    int steps = 0;
    double t0 = 0, t = 0;
    for (int i = 0; t < 3.0; i++) {
        if (i == 2)
            t0 = util_now(); /* first steps allocate */
        float loss;
        const nn_tensor *gs = &g;
        nn_model_zero_grad(m);
        if (nn_forward(m, ws, &x, &r, &err) ||
            nn_loss_softmax_ce(nn_ws_out(ws, out), labels, 0, &loss, &g, NULL, &err) ||
            nn_backward(m, ws, 1, &out, &gs, &err))
            die("train");
        nn_optim_step(o, 1e-4f);
        if (i >= 2)
            steps++, t = util_now() - t0;
    }
    nn_tensor_free(&x);
    nn_tensor_free(&g);
    nn_ws_destroy(ws);
    nn_optim_destroy(o);
    return steps * B / t;
}

/* Images per second in inference, batch images per call. */
static double bench_infer(const nn_model *m, int batch)
{
    nn_shape in = nn_model_node_shape(m, NN_INPUT);
    nn_ws *ws;
    nn_tensor x = {0};
    util_rng r;
    util_rng_seed(&r, 4);
    if (nn_ws_create(m, &ws, &err) || nn_tensor_resize(&x, batch, in.c, in.h, in.w, &err))
        die("infer");
    fill(x.data, nn_tensor_numel(&x), &r);
    long images = 0;
    double t0 = util_now(), t;
    do {
        if (nn_infer(m, ws, &x, &err))
            die("infer");
        images += batch;
    } while ((t = util_now() - t0) < 2.0);
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    return images / t;
}

int main(void)
{
    printf("nn benchmarks (%d cores, OpenBLAS threads as configured)\n", util_ncores());
    bench_conv("fmnist 32->64 3x3 14x14 batch 32", 32, 32, 14, 14,
               (nn_conv_spec){64, 3, 3, 1, 1, 1, 1, 0, 0, 0});
    bench_conv("fmnist 1->32 3x3 28x28 batch 32", 32, 1, 28, 28,
               (nn_conv_spec){32, 3, 3, 1, 1, 1, 1, 0, 0, 0});
    bench_conv("limitnet 3->16 7x7/2 224x224 batch 1", 1, 3, 224, 224,
               (nn_conv_spec){16, 7, 7, 2, 2, 3, 3, 0, 0, 0});
    bench_conv("limitnet 16->16 5x5/4 112x112 batch 1", 1, 16, 112, 112,
               (nn_conv_spec){16, 5, 5, 4, 4, 1, 1, 0, 0, 0});

    nn_model *m = classifier();
    printf("classifier %s: %zu parameters, %.2f M MACs per image\n", CONFIG,
           nn_model_param_count(m), nn_model_macs(m) / 1e6);
    int threads = openblas_get_num_threads();
    double train = bench_train(m);
    openblas_set_num_threads(1);
    double train1 = bench_train(m);
    openblas_set_num_threads(threads);
    if (nn_model_fold_bn(m, NULL, &err))
        die("fold");
    double inf = bench_infer(m, 256), one = bench_infer(m, 1);
    openblas_set_num_threads(1);
    double one1 = bench_infer(m, 1);
    printf("classifier training   %8.0f images/s (batch 128, %d BLAS threads)   %.2fx one thread\n",
           train, threads, train / train1);
    printf("classifier training   %8.0f images/s (batch 128, 1 BLAS thread)\n", train1);
    printf("classifier inference  %8.0f images/s (batch 256)                    %.1fx training\n",
           inf, inf / train);
    printf("classifier inference  %8.0f images/s (one image per call)           %.2fx batched\n",
           one, one / inf);
    printf("classifier inference  %8.0f images/s (one image per call, 1 thread) %.2fx %d threads\n",
           one1, one1 / one, threads);
    nn_model_destroy(m);
    return 0;
}
