/*
 * The device's int8 encoder made from a float LimitNet model
 * (codec/limitnet.h): post-training quantisation, calibrated on training
 * images, and its output as C source for device/ (device/device.h says
 * what the numbers mean).
 *
 * Choices, and why:
 *  - weights: symmetric, per output channel, max |w| -> 127. Per-channel
 *    scales cost nothing at run time (one multiplier per channel) and keep
 *    small channels from rounding to zero.
 *  - activations: unsigned bytes, scale = the largest value the layer
 *    gave over the calibration images / 255. These networks are small and
 *    their ReLU outputs have no long tails worth clipping (the README's
 *    int8 figures measure what this costs).
 *  - the latent is never rounded twice: levels come from the last
 *    accumulators through thresholds placed where the float quantiser's
 *    rounding boundaries are.
 */
#include "codec/limitnet.h"
#include "device/device.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 16

struct codec_ln_int8 {
    device_model dm;
    device_conv conv[MAX_LAYERS]; /* encoder layers, then saliency layers */
    char name[64];
    /* owned arrays behind the const pointers of dm and conv */
    int8_t *w[MAX_LAYERS];
    int32_t *bias[MAX_LAYERS], *mult[MAX_LAYERS];
    uint8_t *shift[MAX_LAYERS];
    int32_t *thresh;
    uint16_t sigmoid[256];
    uint16_t *code;
    uint8_t *len;
    uint16_t side_code[DEVICE_SIDE_LEVELS];
    uint8_t side_len[DEVICE_SIDE_LEVELS];
    /* host-only: each layer's node and scales */
    int node[MAX_LAYERS];
    double s_out[MAX_LAYERS];
};

int codec_ln_fingerprint(const char *path, uint64_t *fp, util_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return util_errf(err, "%s: %s", path, strerror(errno));
    uint64_t h = 14695981039346656037ull;
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return util_errf(err, "%s: read error", path);
    *fp = h;
    return 0;
}

void codec_ln_int8_free(codec_ln_int8 *q)
{
    if (!q)
        return;
    for (int i = 0; i < MAX_LAYERS; i++) {
        free(q->w[i]);
        free(q->bias[i]);
        free(q->mult[i]);
        free(q->shift[i]);
    }
    free(q->thresh);
    free(q->code);
    free(q->len);
    free(q);
}

const struct device_model *codec_ln_int8_model(const codec_ln_int8 *q)
{
    return &q->dm;
}

/* ---- the networks' structure ------------------------------------------------- */

/* Reads net's nodes as conv2d (+ relu) pairs into q->conv from index at;
 * the last conv is followed by `last` ("relu" or "sigmoid"). */
static int layers(codec_ln_int8 *q, const nn_model *net, const char *what,
                  const char *last, int at, int *count, util_err *err)
{
    int nodes = nn_model_nodes(net), k = 0;
    for (int i = 1; i < nodes; i++) {
        const int *in;
        int nin = nn_model_node_inputs(net, i, &in);
        const char *type = nn_model_node_type(net, i);
        if (nin != 1 || in[0] != i - 1)
            return util_errf(err, "%s: node %s: the device runs chains of layers only",
                             what, nn_model_node_name(net, i));
        if (strcmp(type, "conv2d") == 0) {
            nn_conv_spec s;
            const float *w, *b;
            nn_model_node_conv(net, i, &s, &w, &b);
            if (s.kh != s.kw || s.sh != s.sw || s.ph != s.pw || s.kh > 255 ||
                s.sh > 255 || s.ph > 255)
                return util_errf(err, "%s: %s: the device takes square kernels, strides "
                                 "and paddings only", what, nn_model_node_name(net, i));
            if (at + k >= MAX_LAYERS)
                return util_errf(err, "%s: more than %d convolutions", what, MAX_LAYERS);
            nn_shape is = nn_model_node_shape(net, i - 1), os = nn_model_node_shape(net, i);
            q->conv[at + k] = (device_conv){
                (uint16_t)is.c, (uint16_t)os.c, (uint16_t)is.h, (uint16_t)is.w,
                (uint16_t)os.h, (uint16_t)os.w, (uint8_t)s.kh, (uint8_t)s.sh,
                (uint8_t)s.ph, 0, NULL, NULL, NULL, NULL};
            q->node[at + k++] = i;
        } else if (strcmp(type, "relu") == 0 && k && !q->conv[at + k - 1].relu &&
                   q->node[at + k - 1] == i - 1) {
            q->conv[at + k - 1].relu = 1;
            q->node[at + k - 1] = i; /* calibrate on the ReLU's output */
        } else if (!(strcmp(type, last) == 0 && strcmp(last, "sigmoid") == 0 &&
                     i == nodes - 1 && k)) {
            return util_errf(err, "%s: node %s (%s): the device runs conv2d layers each "
                             "followed by a relu, and a final %s", what,
                             nn_model_node_name(net, i), type, last);
        }
    }
    int ends_relu = k && q->conv[at + k - 1].relu;
    if (!k || ends_relu != (strcmp(last, "relu") == 0))
        return util_errf(err, "%s: must end in a conv2d and a %s", what, last);
    *count = k;
    return 0;
}

/* ---- calibration ------------------------------------------------------------------ */

/* Largest output of every layer over the calibration images (largest
 * magnitude for the saliency head's last, signed, layer). */
static int calibrate(codec_ln_int8 *q, codec_ln *m, const data_set *ds, size_t count,
                     util_err *err)
{
    const nn_model *enc = codec_ln_encoder(m), *sal = codec_ln_saliency(m);
    codec_ln_geom g = codec_ln_geometry(m);
    nn_ws *we = NULL, *wsal = NULL;
    nn_tensor x = {0};
    int ne = q->dm.nenc, rc = nn_ws_create(enc, &we, err) || nn_ws_create(sal, &wsal, err) ||
                              nn_tensor_resize(&x, 1, g.in_c, g.in_h, g.in_w, err);
    for (size_t k = 0; !rc && k < count; k++) {
        util_image im;
        int label;
        data_get(ds, k, &im, &label);
        int plane = im.w * im.h;
        for (int c = 0; c < im.c; c++)
            for (int i = 0; i < plane; i++)
                x.data[c * plane + i] = im.px[(size_t)i * im.c + c] / 255.0f;
        rc = nn_infer(enc, we, &x, err) ||
             nn_infer(sal, wsal, nn_ws_out(we, nn_model_nodes(enc) - 1), err);
        for (int l = 0; !rc && l < ne + q->dm.nsal; l++) {
            const nn_tensor *t = nn_ws_out(l < ne ? we : wsal, q->node[l]);
            for (size_t i = 0; i < nn_tensor_numel(t); i++) {
                double v = fabs(t->data[i]);
                q->s_out[l] = v > q->s_out[l] ? v : q->s_out[l];
            }
        }
    }
    nn_ws_destroy(we);
    nn_ws_destroy(wsal);
    nn_tensor_free(&x);
    return rc ? -1 : 0;
}

/* ---- one layer -------------------------------------------------------------------- */

/* mult (Q31) and shift with mult / 2^shift = M, for 0 <= M < 2^30. */
static int multiplier(double M, int32_t *mult, uint8_t *shift, util_err *err)
{
    int e;
    double f = frexp(M, &e); /* M = f * 2^e, f in [0.5, 1) */
    long long mm = llround(f * 2147483648.0);
    if (mm == 2147483648ll)
        mm /= 2, e++;
    int sh = 31 - e;
    if (M <= 0 || sh > 62)
        mm = 0, sh = 62; /* the output is 0 whatever the input */
    if (sh < 1)
        return util_errf(err, "a requantisation factor of %g is too large", M);
    *mult = (int32_t)mm;
    *shift = (uint8_t)sh;
    return 0;
}

/* Quantises layer l of net (its conv at node `at`), which reads values of
 * scale s_in; *s_acc[oc] gets the accumulator's scale per channel. */
static int quantise(codec_ln_int8 *q, const nn_model *net, int l, double s_in,
                    double *s_acc, util_err *err)
{
    device_conv *L = &q->conv[l];
    nn_conv_spec s;
    const float *w, *b;
    nn_model_node_conv(net, q->node[l] - L->relu, &s, &w, &b);
    int k = L->k, cin = L->cin, per = k * k * cin;
    q->w[l] = malloc((size_t)L->cout * per);
    q->bias[l] = malloc((size_t)L->cout * sizeof(int32_t));
    q->mult[l] = malloc((size_t)L->cout * sizeof(int32_t));
    q->shift[l] = malloc(L->cout);
    if (!q->w[l] || !q->bias[l] || !q->mult[l] || !q->shift[l])
        return util_errf(err, "out of memory");
    double s_out = q->s_out[l] > 0 ? q->s_out[l] / (L->relu ? 255.0 : 127.0) : 1.0 / 255;
    q->s_out[l] = s_out;
    for (int oc = 0; oc < L->cout; oc++) {
        const float *wo = w + (size_t)oc * per; /* [cin][k][k] */
        double big = 0;
        for (int i = 0; i < per; i++)
            big = fabs(wo[i]) > big ? fabs(wo[i]) : big;
        double sw = big > 0 ? big / 127.0 : 1.0;
        for (int ic = 0; ic < cin; ic++)
            for (int t = 0; t < k * k; t++) /* to [k][k][cin] */
                q->w[l][(size_t)oc * per + (size_t)t * cin + ic] =
                    (int8_t)lrint(wo[(size_t)ic * k * k + t] / sw);
        s_acc[oc] = s_in * sw;
        double bq = b ? round(b[oc] / s_acc[oc]) : 0;
        if (!(fabs(bq) < 1e9))
            return util_errf(err, "layer %d: bias %g is beyond int32 accumulators",
                             l, b ? b[oc] : 0.0);
        q->bias[l][oc] = (int32_t)bq;
        if (multiplier(s_acc[oc] / s_out, &q->mult[l][oc], &q->shift[l][oc], err))
            return util_err_prefix(err, "layer %d: ", l);
    }
    L->w = q->w[l], L->bias = q->bias[l], L->mult = q->mult[l], L->shift = q->shift[l];
    return 0;
}

/* Thresholds of the latent levels in channel j's accumulator units: the
 * float quantiser rounds t = (z - qmin) / (qmax - qmin) * (levels - 1),
 * so level k starts at z = qmin + (k - 1/2) (qmax - qmin) / (levels - 1). */
static int thresholds(codec_ln_int8 *q, codec_ln *m, const double *s_acc, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    int top = g.levels - 1;
    q->thresh = malloc((size_t)g.c * top * sizeof *q->thresh);
    if (!q->thresh)
        return util_errf(err, "out of memory");
    for (int j = 0; j < g.c; j++) {
        double lo = codec_ln_qmin(m)[j], hi = codec_ln_qmax(m)[j];
        for (int k = 1; k <= top; k++) {
            double t = ceil((lo + (k - 0.5) * (hi - lo) / top) / s_acc[j]);
            t = t < -2147483647.0 ? -2147483647.0 : t > 2147483647.0 ? 2147483647.0 : t;
            q->thresh[(size_t)j * top + k - 1] = (int32_t)t;
        }
    }
    return 0;
}

static int tables(codec_ln_int8 *q, codec_ln *m, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    q->code = malloc((size_t)g.c * g.levels * sizeof *q->code);
    q->len = malloc((size_t)g.c * g.levels);
    if (!q->code || !q->len)
        return util_errf(err, "out of memory");
    for (int j = 0; j < g.c; j++) {
        const codec_ln_huff *h = codec_ln_code(m, j);
        for (int s = 0; s < g.levels; s++) {
            q->code[(size_t)j * g.levels + s] = h->code[s];
            q->len[(size_t)j * g.levels + s] = h->len[s];
        }
    }
    const codec_ln_huff *h = codec_ln_side_code(m);
    for (int s = 0; s < DEVICE_SIDE_LEVELS; s++)
        q->side_code[s] = h->code[s], q->side_len[s] = h->len[s];
    double s_pre = q->s_out[q->dm.nenc + q->dm.nsal - 1];
    for (int v = -128; v < 128; v++)
        q->sigmoid[v + 128] = (uint16_t)lrint(65535.0 / (1.0 + exp(-v * s_pre)));
    return 0;
}

static uint32_t work_bytes(const codec_ln_int8 *q)
{
    size_t plane = 0, n = (size_t)q->dm.c * q->dm.h * q->dm.w;
    for (int l = 0; l < q->dm.nenc + q->dm.nsal; l++) {
        size_t v = (size_t)q->conv[l].hout * q->conv[l].wout * q->conv[l].cout;
        plane = v > plane ? v : plane;
    }
    size_t enc = 2 * ((plane + 3) & ~(size_t)3), pack = DEVICE_PACK_WORK(n, q->dm.c);
    return (uint32_t)(((enc > pack ? enc : pack) + 3) & ~(size_t)3);
}

int codec_ln_int8_build(codec_ln *m, const data_set *calib, size_t count,
                        const char *name, uint64_t fp, codec_ln_int8 **out,
                        util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    int dw, dh, dc;
    data_dims(calib, &dw, &dh, &dc);
    if (dw != g.in_w || dh != g.in_h || dc != g.in_c)
        return util_errf(err, "calibration images are %dx%dx%d, the model takes %dx%dx%d",
                         dw, dh, dc, g.in_w, g.in_h, g.in_c);
    if (count < 1 || count > data_count(calib))
        return util_errf(err, "calibration: %zu images asked, %zu there", count,
                         data_count(calib));
    if (g.grid > DEVICE_MAX_GRID || g.n > DEVICE_MAX_VALUES)
        return util_errf(err, "the device takes grids up to %d and latents up to %d values",
                         DEVICE_MAX_GRID, DEVICE_MAX_VALUES);
    codec_ln_int8 *q = calloc(1, sizeof *q);
    if (!q)
        return util_errf(err, "out of memory");
    snprintf(q->name, sizeof q->name, "%s", name);
    int ne = 0, ns = 0;
    double s_acc[CODEC_LN_MAX_CHANNELS > 256 ? CODEC_LN_MAX_CHANNELS : 256];
    int rc = layers(q, codec_ln_encoder(m), "encoder", "relu", 0, &ne, err) ||
             layers(q, codec_ln_saliency(m), "saliency", "sigmoid", ne, &ns, err);
    q->dm = (device_model){q->name, fp, (uint16_t)g.in_c, (uint16_t)g.in_h,
                           (uint16_t)g.in_w, (uint16_t)g.c, (uint16_t)g.h,
                           (uint16_t)g.w, (uint16_t)g.grid, (uint16_t)g.levels,
                           (uint8_t)ne, (uint8_t)ns, q->conv, q->conv + ne,
                           NULL, q->sigmoid, NULL, NULL, q->side_code, q->side_len, 0};
    for (int l = 0; !rc && l < ne + ns; l++)
        if (q->conv[l].cout > (int)(sizeof s_acc / sizeof *s_acc))
            rc = util_errf(err, "layer %d has more than %zu channels", l,
                           sizeof s_acc / sizeof *s_acc);
    if (!rc)
        rc = calibrate(q, m, calib, count, err);
    double s_in = 1.0 / 255;
    for (int l = 0; !rc && l < ne + ns; l++) {
        if (l == ne)
            s_in = q->s_out[ne - 1]; /* the saliency head reads the latent */
        const nn_model *net = l < ne ? codec_ln_encoder(m) : codec_ln_saliency(m);
        rc = quantise(q, net, l, s_in, s_acc, err);
        if (!rc && l == ne - 1)
            rc = thresholds(q, m, s_acc, err);
        s_in = q->s_out[l];
    }
    if (!rc)
        rc = tables(q, m, err);
    if (rc) {
        codec_ln_int8_free(q);
        return -1;
    }
    q->dm.thresh = q->thresh, q->dm.code = q->code, q->dm.len = q->len;
    q->dm.work = work_bytes(q);
    *out = q;
    return 0;
}

/* ---- C source ------------------------------------------------------------------------ */

typedef enum { I8, U8, I32, U16 } ctype;

/* One array definition, twelve numbers a line. */
static void array(FILE *f, const char *type, const char *name, const void *data,
                  ctype t, size_t n)
{
    fprintf(f, "static const %s %s[%zu] = {", type, name, n);
    for (size_t i = 0; i < n; i++) {
        long long v = t == I8 ? ((const int8_t *)data)[i]
                    : t == U8 ? ((const uint8_t *)data)[i]
                    : t == U16 ? ((const uint16_t *)data)[i]
                               : (long long)((const int32_t *)data)[i];
        fprintf(f, "%s%lld%s", i % 12 ? " " : "\n    ", v, i + 1 < n ? "," : "");
    }
    fprintf(f, "\n};\n\n");
}

static void layer_arrays(FILE *f, const codec_ln_int8 *q, int l)
{
    const device_conv *L = &q->conv[l];
    char nm[32];
    size_t co = L->cout;
    snprintf(nm, sizeof nm, "l%d_w", l);
    array(f, "int8_t", nm, L->w, I8, co * L->k * L->k * L->cin);
    snprintf(nm, sizeof nm, "l%d_bias", l);
    array(f, "int32_t", nm, L->bias, I32, co);
    snprintf(nm, sizeof nm, "l%d_mult", l);
    array(f, "int32_t", nm, L->mult, I32, co);
    snprintf(nm, sizeof nm, "l%d_shift", l);
    array(f, "uint8_t", nm, L->shift, U8, co);
}

static void write_source(FILE *f, const codec_ln_int8 *q, const char *hname,
                         const char *about)
{
    const device_model *d = &q->dm;
    int nl = d->nenc + d->nsal;
    fprintf(f, "/*\n * Generated by `limitnet device-export`: do not edit.\n"
               " * %s\n */\n#include \"%s\"\n\n", about, hname);
    for (int l = 0; l < nl; l++)
        layer_arrays(f, q, l);
    fprintf(f, "static const device_conv layers[%d] = {\n", nl);
    for (int l = 0; l < nl; l++) {
        const device_conv *L = &q->conv[l];
        fprintf(f, "    {%u, %u, %u, %u, %u, %u, %u, %u, %u, %u, l%d_w, l%d_bias, "
                   "l%d_mult, l%d_shift},\n", L->cin, L->cout, L->hin, L->win, L->hout,
                L->wout, L->k, L->stride, L->pad, L->relu, l, l, l, l);
    }
    fprintf(f, "};\n\n");
    array(f, "int32_t", "thresh", d->thresh, I32, (size_t)d->c * (d->levels - 1));
    array(f, "uint16_t", "sigmoid", d->sigmoid, U16, 256);
    array(f, "uint16_t", "code", d->code, U16, (size_t)d->c * d->levels);
    array(f, "uint8_t", "len", d->len, U8, (size_t)d->c * d->levels);
    array(f, "uint16_t", "side_code", d->side_code, U16, DEVICE_SIDE_LEVELS);
    array(f, "uint8_t", "side_len", d->side_len, U8, DEVICE_SIDE_LEVELS);
    fprintf(f, "const device_model device_model_%s = {\n"
               "    \"%s\", 0x%016llxull, %u, %u, %u, %u, %u, %u, %u, %u, %u, %u,\n"
               "    layers, layers + %u, thresh, sigmoid, code, len, side_code, side_len,\n"
               "    %lu,\n};\n", d->name, d->name, (unsigned long long)d->fingerprint,
            d->in_c, d->in_h, d->in_w, d->c, d->h, d->w, d->grid, d->levels, d->nenc,
            d->nsal, d->nenc, (unsigned long)d->work);
}

static void write_header(FILE *f, const codec_ln_int8 *q, const char *about)
{
    char up[64];
    size_t i = 0;
    for (; q->name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)(q->name[i] >= 'a' && q->name[i] <= 'z' ? q->name[i] - 32 : q->name[i]);
    up[i] = 0;
    fprintf(f, "/*\n * Generated by `limitnet device-export`: do not edit.\n"
               " * %s\n */\n#ifndef DEVICE_MODEL_%s_H\n#define DEVICE_MODEL_%s_H\n\n"
               "#include \"device/device.h\"\n\n"
               "/* sizes for static buffers: bytes of work for device_encode and\n"
               " * device_pack, of an image, latent values, side-grid cells */\n"
               "#define DEVICE_%s_WORK %lu\n#define DEVICE_%s_IMAGE %lu\n"
               "#define DEVICE_%s_VALUES %lu\n#define DEVICE_%s_CELLS %lu\n\n"
               "extern const device_model device_model_%s;\n\n#endif\n",
            about, up, up, up, (unsigned long)q->dm.work, up,
            (unsigned long)q->dm.in_c * q->dm.in_h * q->dm.in_w, up,
            (unsigned long)q->dm.c * q->dm.h * q->dm.w, up,
            (unsigned long)q->dm.grid * q->dm.grid, q->name);
}

/* Writes through a temporary file and renames, so a failed export leaves
 * the committed file as it was. */
static int write_file(const char *path, const codec_ln_int8 *q, const char *hname,
                      const char *about, int header, util_err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return util_errf(err, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return util_errf(err, "%s: %s", tmp, strerror(errno));
    if (header)
        write_header(f, q, about);
    else
        write_source(f, q, hname, about);
    int bad = ferror(f);
    if (fclose(f) || bad || rename(tmp, path)) {
        remove(tmp);
        return util_errf(err, "%s: write error", path);
    }
    return 0;
}

int codec_ln_int8_write(const codec_ln_int8 *q, const char *path_c,
                        const char *path_h, const char *about, util_err *err)
{
    /* The source includes the header by its path from the repository
     * root, as every include here is written, wherever the files go. */
    char hname[128];
    snprintf(hname, sizeof hname, "device/model_%s.h", q->name);
    return write_file(path_h, q, hname, about, 1, err) ||
           write_file(path_c, q, hname, about, 0, err);
}

/* ---- the compiled-in models ------------------------------------------------------- */

#include "device/model_cluttered.h"
#include "device/model_fmnist.h"

/* Every model `make device-models` exports, as the host build has them. */
static const device_model *const compiled[] = {&device_model_fmnist,
                                               &device_model_cluttered};

const struct device_model *codec_ln_int8_find(const char *path, util_err *err)
{
    uint64_t fp;
    if (codec_ln_fingerprint(path, &fp, err))
        return NULL;
    for (size_t i = 0; i < sizeof compiled / sizeof *compiled; i++)
        if (compiled[i]->fingerprint == fp)
            return compiled[i];
    util_errf(err, "%s: no int8 encoder was built from this weight file (make "
              "device-models exports one for each committed model)", path);
    return NULL;
}
