/* The LimitNet model: its three networks, the tables both ends share, the
 * side grid, the send order and the quantiser (codec/limitnet.h). */
#include "codec/limitnet.h"
#include "device/device.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct codec_ln {
    nn_model *enc, *sal, *dec;
    char *enc_json, *sal_json, *dec_json;
    codec_ln_geom g;
    float qmin[CODEC_LN_MAX_CHANNELS], qmax[CODEC_LN_MAX_CHANNELS];
    uint8_t *codelen; /* [c][levels] */
    uint16_t *freq;   /* [c][levels] */
    uint8_t prior[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    codec_ln_huff *huff; /* [c], built from codelen by check_tables */
    codec_ln_freq *fcode; /* [c], built from freq by check_tables */
    uint8_t sidelen[CODEC_LN_SIDE_MAX + 1];
    uint16_t sidefreq[CODEC_LN_SIDE_MAX + 1];
    codec_ln_huff side_huff;
    codec_ln_freq side_fcode;
};

void codec_ln_free(codec_ln *m)
{
    if (!m)
        return;
    nn_model_destroy(m->enc);
    nn_model_destroy(m->sal);
    nn_model_destroy(m->dec);
    free(m->enc_json);
    free(m->sal_json);
    free(m->dec_json);
    free(m->codelen);
    free(m->huff);
    free(m->freq);
    free(m->fcode);
    free(m);
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int build(codec_ln *m, util_err *err)
{
    if (nn_model_from_json(m->enc_json, &m->enc, err))
        return util_err_prefix(err, "encoder: ");
    if (nn_model_from_json(m->sal_json, &m->sal, err))
        return util_err_prefix(err, "saliency: ");
    if (nn_model_from_json(m->dec_json, &m->dec, err))
        return util_err_prefix(err, "decoder: ");
    nn_shape in = nn_model_node_shape(m->enc, NN_INPUT);
    nn_shape z = nn_model_node_shape(m->enc, nn_model_nodes(m->enc) - 1);
    nn_shape si = nn_model_node_shape(m->sal, NN_INPUT);
    nn_shape so = nn_model_node_shape(m->sal, nn_model_nodes(m->sal) - 1);
    nn_shape di = nn_model_node_shape(m->dec, NN_INPUT);
    nn_shape dout = nn_model_node_shape(m->dec, nn_model_nodes(m->dec) - 1);
    if (si.c != z.c || si.h != z.h || si.w != z.w || di.c != z.c ||
        di.h != z.h || di.w != z.w)
        return util_errf(err, "saliency and decoder inputs must be the "
                         "encoder's output, %dx%dx%d", z.c, z.h, z.w);
    if (so.c != 1 || so.h != z.h || so.w != z.w)
        return util_errf(err, "saliency output must be 1x%dx%d", z.h, z.w);
    if (dout.c != in.c || dout.h != in.h || dout.w != in.w)
        return util_errf(err, "decoder output must be the encoder's input, "
                         "%dx%dx%d", in.c, in.h, in.w);
    if (z.c > CODEC_LN_MAX_CHANNELS)
        return util_errf(err, "latent has %d channels, at most %d", z.c,
                         CODEC_LN_MAX_CHANNELS);
    if ((double)z.c * z.h * z.w > DEVICE_MAX_VALUES)
        return util_errf(err, "latent has %dx%dx%d values, at most %d (the send "
                         "order is 16-bit)", z.c, z.h, z.w, DEVICE_MAX_VALUES);
    codec_ln_geom *g = &m->g;
    g->in_c = in.c, g->in_h = in.h, g->in_w = in.w;
    g->c = z.c, g->h = z.h, g->w = z.w, g->n = z.c * z.h * z.w;
    g->levels = 1 << g->bits;
    if (g->grid > g->h || g->grid > g->w)
        return util_errf(err, "grid %d is finer than the %dx%d latent",
                         g->grid, g->h, g->w);
    m->codelen = calloc((size_t)g->c * (size_t)g->levels, 1);
    m->huff = calloc((size_t)g->c, sizeof *m->huff);
    m->freq = calloc((size_t)g->c * (size_t)g->levels, sizeof *m->freq);
    m->fcode = calloc((size_t)g->c, sizeof *m->fcode);
    if (!m->codelen || !m->huff || !m->freq || !m->fcode)
        return util_errf(err, "out of memory");
    for (int j = 0; j < g->c; j++)
        m->qmin[j] = 0, m->qmax[j] = 1;
    return 0;
}

int codec_ln_create(const char *enc_json, const char *sal_json,
                    const char *dec_json, int grid, int bits, codec_ln **out,
                    util_err *err)
{
    *out = NULL;
    if (grid < 1 || grid > CODEC_LN_MAX_GRID)
        return util_errf(err, "grid: expected 1..%d, got %d",
                         CODEC_LN_MAX_GRID, grid);
    if (bits < 1 || bits > CODEC_LN_MAX_BITS)
        return util_errf(err, "bits: expected 1..%d, got %d",
                         CODEC_LN_MAX_BITS, bits);
    codec_ln *m = calloc(1, sizeof *m);
    if (!m)
        return util_errf(err, "out of memory");
    m->g.grid = grid;
    m->g.bits = bits;
    m->enc_json = dup(enc_json);
    m->sal_json = dup(sal_json);
    m->dec_json = dup(dec_json);
    if (!m->enc_json || !m->sal_json || !m->dec_json) {
        codec_ln_free(m);
        return util_errf(err, "out of memory");
    }
    if (build(m, err)) {
        codec_ln_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

/* ---- files ------------------------------------------------------------------ */

/* Integer tables are stored as F32 tensors (safetensors readers everywhere
 * know F32); exactly one of d8, d16 receives them. */
static int read_ints(const nn_st_file *f, const char *name, int n, int hi,
                     uint8_t *d8, uint16_t *d16, util_err *err)
{
    float *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return util_errf(err, "out of memory");
    int shape[1] = {n};
    int rc = nn_st_read(f, name, 1, shape, tmp, err);
    for (int i = 0; !rc && i < n; i++) {
        if (!(tmp[i] >= 0 && tmp[i] <= hi && tmp[i] == floorf(tmp[i])))
            rc = util_errf(err, "tensor '%s'[%d]: expected an integer in "
                           "0..%d, got %g", name, i, hi, tmp[i]);
        else if (d8)
            d8[i] = (uint8_t)tmp[i];
        else
            d16[i] = (uint16_t)tmp[i];
    }
    free(tmp);
    return rc;
}

static int read_file(const nn_st_file *f, codec_ln **out, util_err *err)
{
    const char *task = nn_st_meta(f, "limitnet.task");
    const char *e = nn_st_meta(f, "limitnet.encoder");
    const char *s = nn_st_meta(f, "limitnet.saliency");
    const char *d = nn_st_meta(f, "limitnet.decoder");
    double grid, bits;
    if (!task || strcmp(task, "limitnet") || !e || !s || !d)
        return util_errf(err, "not a LimitNet model (metadata limitnet.task, "
                         ".encoder, .saliency, .decoder)");
    if (nn_st_meta_num(f, "limitnet.grid", 1, 1, CODEC_LN_MAX_GRID, &grid, err) ||
        nn_st_meta_num(f, "limitnet.bits", 1, 1, CODEC_LN_MAX_BITS, &bits, err) ||
        codec_ln_create(e, s, d, (int)grid, (int)bits, out, err))
        return -1;
    codec_ln *m = *out;
    const codec_ln_geom *g = &m->g;
    int shape[1] = {g->c};
    if (nn_st_read_model(f, m->enc, "enc.", err) ||
        nn_st_read_model(f, m->sal, "sal.", err) ||
        nn_st_read_model(f, m->dec, "dec.", err) ||
        nn_st_read(f, "ln.qmin", 1, shape, m->qmin, err) ||
        nn_st_read(f, "ln.qmax", 1, shape, m->qmax, err) ||
        read_ints(f, "ln.codelen", g->c * g->levels, CODEC_LN_MAX_CODE,
                  m->codelen, NULL, err) ||
        read_ints(f, "ln.freq", g->c * g->levels, (int)CODEC_LN_FREQ_TOTAL,
                  NULL, m->freq, err) ||
        read_ints(f, "ln.prior", g->grid * g->grid, CODEC_LN_SIDE_MAX,
                  m->prior, NULL, err) ||
        read_ints(f, "ln.sidelen", CODEC_LN_SIDE_MAX + 1, CODEC_LN_MAX_CODE,
                  m->sidelen, NULL, err) ||
        read_ints(f, "ln.sidefreq", CODEC_LN_SIDE_MAX + 1, (int)CODEC_LN_FREQ_TOTAL,
                  NULL, m->sidefreq, err) ||
        codec_ln_check_tables(m, err))
        return -1;
    return 0;
}

int codec_ln_load(const char *path, codec_ln **out, util_err *err)
{
    *out = NULL;
    nn_st_file *f;
    if (nn_st_open(path, &f, err))
        return -1;
    int rc = read_file(f, out, err);
    nn_st_close(f);
    if (rc) {
        codec_ln_free(*out);
        *out = NULL;
        /* nn_st messages already start with the path. */
        if (err && strncmp(err->msg, path, strlen(path)) != 0)
            util_err_prefix(err, "%s: ", path);
        return -1;
    }
    return 0;
}

int codec_ln_save(const codec_ln *m, const char *path, const char *const *meta,
                  size_t nmeta, util_err *err)
{
    const codec_ln_geom *g = &m->g;
    size_t ncode = (size_t)g->c * (size_t)g->levels;
    size_t nprior = (size_t)(g->grid * g->grid);
    size_t ns = CODEC_LN_SIDE_MAX + 1;
    float *tmp = malloc((2 * ncode + nprior + 2 * ns) * sizeof *tmp);
    nn_st_writer *w = NULL;
    if (!tmp || nn_st_writer_create(&w, err)) {
        free(tmp);
        return tmp ? -1 : util_errf(err, "out of memory");
    }
    for (size_t i = 0; i < ncode; i++)
        tmp[i] = m->codelen[i];
    for (size_t i = 0; i < nprior; i++)
        tmp[ncode + i] = m->prior[i];
    for (size_t i = 0; i < ncode; i++)
        tmp[ncode + nprior + i] = m->freq[i];
    float *side = tmp + 2 * ncode + nprior;
    for (size_t i = 0; i < ns; i++) {
        side[i] = m->sidelen[i];
        side[ns + i] = m->sidefreq[i];
    }
    char grid[16], bits[16];
    snprintf(grid, sizeof grid, "%d", g->grid);
    snprintf(bits, sizeof bits, "%d", g->bits);
    int sc[1] = {g->c}, sl[1] = {(int)ncode}, sp[1] = {(int)nprior}, ss[1] = {(int)ns};
    int rc = nn_st_writer_model(w, m->enc, "enc.", err) ||
             nn_st_writer_model(w, m->sal, "sal.", err) ||
             nn_st_writer_model(w, m->dec, "dec.", err) ||
             nn_st_writer_tensor(w, "ln.qmin", 1, sc, m->qmin, err) ||
             nn_st_writer_tensor(w, "ln.qmax", 1, sc, m->qmax, err) ||
             nn_st_writer_tensor(w, "ln.codelen", 1, sl, tmp, err) ||
             nn_st_writer_tensor(w, "ln.prior", 1, sp, tmp + ncode, err) ||
             nn_st_writer_tensor(w, "ln.freq", 1, sl, tmp + ncode + nprior, err) ||
             nn_st_writer_tensor(w, "ln.sidelen", 1, ss, side, err) ||
             nn_st_writer_tensor(w, "ln.sidefreq", 1, ss, side + ns, err) ||
             nn_st_writer_meta(w, "limitnet.task", "limitnet", err) ||
             nn_st_writer_meta(w, "limitnet.encoder", m->enc_json, err) ||
             nn_st_writer_meta(w, "limitnet.saliency", m->sal_json, err) ||
             nn_st_writer_meta(w, "limitnet.decoder", m->dec_json, err) ||
             nn_st_writer_meta(w, "limitnet.grid", grid, err) ||
             nn_st_writer_meta(w, "limitnet.bits", bits, err);
    for (size_t i = 0; !rc && i < nmeta; i++)
        rc = nn_st_writer_meta(w, meta[2 * i], meta[2 * i + 1], err);
    if (!rc)
        rc = nn_st_writer_save(w, path, err);
    nn_st_writer_destroy(w);
    free(tmp);
    return rc ? -1 : 0;
}

/* ---- accessors --------------------------------------------------------------- */

nn_model *codec_ln_encoder(codec_ln *m) { return m->enc; }
nn_model *codec_ln_saliency(codec_ln *m) { return m->sal; }
nn_model *codec_ln_decoder(codec_ln *m) { return m->dec; }
const nn_model *codec_ln_cdecoder(const codec_ln *m) { return m->dec; }
codec_ln_geom codec_ln_geometry(const codec_ln *m) { return m->g; }
float *codec_ln_qmin(codec_ln *m) { return m->qmin; }
float *codec_ln_qmax(codec_ln *m) { return m->qmax; }
uint8_t *codec_ln_codelen(codec_ln *m) { return m->codelen; }
uint8_t *codec_ln_prior(codec_ln *m) { return m->prior; }

int codec_ln_check_tables(codec_ln *m, util_err *err)
{
    const codec_ln_geom *g = &m->g;
    for (int j = 0; j < g->c; j++) {
        if (!(m->qmax[j] > m->qmin[j]) || !isfinite(m->qmin[j]) ||
            !isfinite(m->qmax[j]))
            return util_errf(err, "ln.qmin/ln.qmax: channel %d has range "
                             "[%g, %g]", j, m->qmin[j], m->qmax[j]);
        if (codec_ln_huff_build(m->codelen + (size_t)j * g->levels, g->levels,
                                &m->huff[j], err))
            return util_err_prefix(err, "ln.codelen: channel %d: ", j);
        if (codec_ln_freq_build(m->freq + (size_t)j * g->levels, g->levels,
                                &m->fcode[j], err))
            return util_err_prefix(err, "ln.freq: channel %d: ", j);
    }
    if (codec_ln_huff_build(m->sidelen, CODEC_LN_SIDE_MAX + 1, &m->side_huff, err))
        return util_err_prefix(err, "ln.sidelen: ");
    if (codec_ln_freq_build(m->sidefreq, CODEC_LN_SIDE_MAX + 1, &m->side_fcode, err))
        return util_err_prefix(err, "ln.sidefreq: ");
    return 0;
}

/* ---- side grid and order ------------------------------------------------------ */

/* Cell of latent row y (or column) when n rows are split into grid cells. */
static int cell_of(int y, int n, int grid)
{
    return y * grid / n;
}

void codec_ln_side(const codec_ln_geom *g, const float *sal, uint8_t *cells)
{
    float sum[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID] = {0};
    int cnt[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID] = {0};
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            int k = cell_of(y, g->h, g->grid) * g->grid + cell_of(x, g->w, g->grid);
            sum[k] += sal[y * g->w + x];
            cnt[k]++;
        }
    for (int k = 0; k < g->grid * g->grid; k++) {
        /* Clamped before lrintf, whose result is unspecified beyond long's
         * range: a saliency head from a weight file need not end in a
         * sigmoid (NaN goes to 0). */
        float v = (cnt[k] ? sum[k] / (float)cnt[k] : 0.0f) * CODEC_LN_SIDE_MAX;
        cells[k] = (uint8_t)(!(v > 0) ? 0 : v >= CODEC_LN_SIDE_MAX ? CODEC_LN_SIDE_MAX
                                                                 : lrintf(v));
    }
}

int codec_ln_order(const codec_ln_geom *g, const uint8_t *cells, int *order,
                   util_err *err)
{
    /* One implementation for both ends: the device's (device/pack.c). */
    uint16_t *o = malloc(DEVICE_PACK_WORK(g->n, g->c));
    if (!o)
        return util_errf(err, "out of memory for the send order");
    device_order((uint16_t)g->c, (uint16_t)g->h, (uint16_t)g->w, (uint16_t)g->grid,
                 cells, o, o + g->n);
    for (int i = 0; i < g->n; i++)
        order[i] = o[i];
    free(o);
    return 0;
}

/* ---- quantiser ------------------------------------------------------------------ */

int codec_ln_quant(const codec_ln *m, int j, float v)
{
    int top = m->g.levels - 1;
    float t = (v - m->qmin[j]) / (m->qmax[j] - m->qmin[j]) * (float)top;
    if (!(t > 0))   /* also NaN */
        return 0;
    if (t >= (float)top)
        return top;
    return (int)lrintf(t);
}

float codec_ln_dequant(const codec_ln *m, int j, int q)
{
    return m->qmin[j] + (m->qmax[j] - m->qmin[j]) * (float)q /
                            (float)(m->g.levels - 1);
}

const codec_ln_huff *codec_ln_code(const codec_ln *m, int j)
{
    return &m->huff[j];
}

const codec_ln_freq *codec_ln_fcode(const codec_ln *m, int j)
{
    return &m->fcode[j];
}

uint16_t *codec_ln_freqs(codec_ln *m)
{
    return m->freq;
}

const codec_ln_huff *codec_ln_side_code(const codec_ln *m)
{
    return &m->side_huff;
}

const codec_ln_freq *codec_ln_side_fcode(const codec_ln *m)
{
    return &m->side_fcode;
}

uint8_t *codec_ln_side_codelen(codec_ln *m)
{
    return m->sidelen;
}

uint16_t *codec_ln_side_freqs(codec_ln *m)
{
    return m->sidefreq;
}
