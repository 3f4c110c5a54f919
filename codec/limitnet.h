/*
 * codec/limitnet.h: the LimitNet model behind the `limitnet` and
 * `limitnet-nosal` codecs, for the trainer, the tests and tools.
 *
 * A LimitNet model is three networks and what both ends agree on:
 *
 *   encoder    image [1, H, W] in [0, 1]  ->  latent [C, h, w] (device)
 *   saliency   latent -> importance map [1, h, w] in (0, 1)    (device)
 *   decoder    latent with missing values zero -> image        (cloud)
 *   side grid  the map reduced to grid x grid cells of 32 levels (5 bits),
 *              entropy-coded with their own training statistics, sent first
 *   ranges     per-channel [min, max] of the latent, and the quantiser's
 *              bits (2^bits levels, clamped, never wrapped)
 *   codes      per-channel Huffman code lengths over the levels, and
 *              per-channel frequencies for the arithmetic coder, both
 *              from training data only
 *   prior      the mean side grid over training data: the decoder's guess
 *              when the side information is lost
 *
 * Gradual scoring (LIMITNET.md): value (j, y, x) scores
 * s(y, x) + (C - j) / 5, with s the saliency as the receiver will have it
 * (the quantised grid cell over (y, x)); values go out best first, ties by
 * latent index, so sender and receiver agree exactly. All of it is done in
 * integers (score * 155 = cell * 5 + (C - j) * 31), so both ends compute
 * the same order on any machine.
 *
 * Everything is read from and written to one safetensors file
 * (models/README.md): tensors "enc.*", "sal.*", "dec.*", "ln.qmin",
 * "ln.qmax", "ln.codelen", "ln.freq", "ln.sidelen", "ln.sidefreq" and
 * "ln.prior", and the metadata keys
 * limitnet.task = "limitnet", limitnet.encoder / .saliency / .decoder
 * (model JSON), limitnet.grid and limitnet.bits.
 */
#ifndef CODEC_LIMITNET_H
#define CODEC_LIMITNET_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "data/data.h"
#include "nn/nn.h"
#include "util/util.h"

#define CODEC_LN_SIDE_BITS 5            /* bits per side-grid cell */
#define CODEC_LN_SIDE_MAX 31            /* largest cell value */
#define CODEC_LN_MAX_BITS 8             /* quantiser bits, at most */
#define CODEC_LN_MAX_LEVELS (1 << CODEC_LN_MAX_BITS)
#define CODEC_LN_MAX_CODE 16            /* Huffman code length limit */
#define CODEC_LN_MAX_GRID 16
#define CODEC_LN_MAX_CHANNELS 64

typedef struct codec_ln codec_ln;

/* A fresh (untrained, uncalibrated) model from three model JSONs. */
int codec_ln_create(const char *enc_json, const char *sal_json,
                    const char *dec_json, int grid, int bits, codec_ln **out,
                    util_err *err);
/* Loads and checks a model file; errors name the file. */
int codec_ln_load(const char *path, codec_ln **out, util_err *err);
/* meta: extra key, value pairs (nmeta pairs). */
int codec_ln_save(const codec_ln *m, const char *path, const char *const *meta,
                  size_t nmeta, util_err *err);
void codec_ln_free(codec_ln *m);

nn_model *codec_ln_encoder(codec_ln *m);
nn_model *codec_ln_saliency(codec_ln *m);
nn_model *codec_ln_decoder(codec_ln *m);
const nn_model *codec_ln_cdecoder(const codec_ln *m);

typedef struct codec_ln_geom {
    int in_c, in_h, in_w;   /* image */
    int c, h, w;            /* latent */
    int n;                  /* latent values, c * h * w */
    int grid, bits, levels; /* side grid, quantiser bits, 2^bits */
} codec_ln_geom;
codec_ln_geom codec_ln_geometry(const codec_ln *m);

/* Calibration tables (writable for the trainer): qmin/qmax [c],
 * codelen [c][levels] (0 = symbol unused), prior [grid * grid]. */
float *codec_ln_qmin(codec_ln *m);
float *codec_ln_qmax(codec_ln *m);
uint8_t *codec_ln_codelen(codec_ln *m);
uint16_t *codec_ln_freqs(codec_ln *m); /* [c][levels], each row sums to 2^12 */
uint8_t *codec_ln_side_codelen(codec_ln *m); /* [32] */
uint16_t *codec_ln_side_freqs(codec_ln *m);  /* [32], sums to 2^12 */
uint8_t *codec_ln_prior(codec_ln *m);
/* Checks that the calibration tables are usable (ranges ordered, every
 * channel's code complete and within the length limit). */
int codec_ln_check_tables(codec_ln *m, util_err *err);
/* Channel j's Huffman code and arithmetic-coder frequencies (valid once
 * the tables were checked). */
struct codec_ln_huff;
struct codec_ln_freq;
const struct codec_ln_huff *codec_ln_code(const codec_ln *m, int j);
const struct codec_ln_freq *codec_ln_fcode(const codec_ln *m, int j);
/* The same for the side grid's cell values (0..31). */
const struct codec_ln_huff *codec_ln_side_code(const codec_ln *m);
const struct codec_ln_freq *codec_ln_side_fcode(const codec_ln *m);

/* The side grid of one saliency map (h * w floats, row-major): the mean
 * over each cell's positions, quantised to 0..31. */
void codec_ln_side(const codec_ln_geom *g, const float *sal, uint8_t *cells);
/* The send order: order[r] is the latent index (j * h * w + y * w + x) of
 * rank r. cells NULL orders by channel only (PNC-style tail drop). */
int codec_ln_order(const codec_ln_geom *g, const uint8_t *cells, int *order,
                   util_err *err);

/* Quantiser: level of value v in channel j, and a level's value. */
int codec_ln_quant(const codec_ln *m, int j, float v);
float codec_ln_dequant(const codec_ln *m, int j, int q);

/* ---- Huffman codes -------------------------------------------------------- */

/* Code lengths (1..maxlen, 0 for symbols of count 0) of a Huffman code for
 * counts[0..n-1]; lengths are limited to maxlen by flattening the counts.
 * A single used symbol gets length 1. Fails when no count is positive or n
 * symbols cannot fit in maxlen bits. */
int codec_ln_huff_lengths(const uint64_t *counts, int n, int maxlen,
                          uint8_t *len, util_err *err);

/* A canonical code built from lengths, for encoding and decoding. */
typedef struct codec_ln_huff {
    int n;
    uint16_t code[CODEC_LN_MAX_LEVELS];
    uint8_t len[CODEC_LN_MAX_LEVELS];
    /* decoding: per length, first code, count, and offset into sym[] */
    uint32_t first[CODEC_LN_MAX_CODE + 1];
    uint16_t count[CODEC_LN_MAX_CODE + 1];
    uint16_t offset[CODEC_LN_MAX_CODE + 1];
    uint16_t sym[CODEC_LN_MAX_LEVELS];
} codec_ln_huff;

/* Fails when the lengths do not form a complete prefix code. */
int codec_ln_huff_build(const uint8_t *len, int n, codec_ln_huff *h,
                        util_err *err);

/* Bits written MSB first into a fixed buffer. */
typedef struct codec_ln_bits {
    uint8_t *buf;
    size_t cap;   /* bytes */
    size_t pos;   /* bits written or read */
} codec_ln_bits;

/* Appends the n (<= 32) low bits of v, MSB first; -1, writing nothing,
 * when they do not fit. */
int codec_ln_bits_put(codec_ln_bits *b, uint32_t v, int n);
/* The next bit; 0 past the end, where pos still advances (the arithmetic
 * decoder reads zeros there, and callers compare pos with cap). */
int codec_ln_bits_get(codec_ln_bits *b);

/* Appends symbol s; returns -1 (writing nothing) when it does not fit. */
int codec_ln_huff_put(const codec_ln_huff *h, codec_ln_bits *b, int s);
/* Reads one symbol; -1 at the end of the buffer or on an invalid code. */
int codec_ln_huff_get(const codec_ln_huff *h, codec_ln_bits *b);


/* ---- arithmetic coding (codec/ln_arith.c) ----------------------------------- */

#define CODEC_LN_FREQ_BITS 12
#define CODEC_LN_FREQ_TOTAL (1u << CODEC_LN_FREQ_BITS)

/* Cumulative frequencies; cum[n] == CODEC_LN_FREQ_TOTAL. */
typedef struct codec_ln_freq {
    int n;
    uint16_t cum[CODEC_LN_MAX_LEVELS + 1];
} codec_ln_freq;

/* Fails unless freq[0..n-1] sums to CODEC_LN_FREQ_TOTAL. */
int codec_ln_freq_build(const uint16_t *freq, int n, codec_ln_freq *f,
                        util_err *err);
/* Frequencies from counts: proportional, every symbol at least 1. */
int codec_ln_freq_scale(const uint64_t *counts, int n, uint16_t *freq,
                        util_err *err);

typedef struct codec_ln_arith {
    uint32_t low, high, value;
    uint32_t pending;
    codec_ln_bits b;
} codec_ln_arith;

/* Encoding into cap bytes at buf: put returns -1, changing nothing, when
 * the symbol and the termination would not fit; finish terminates and
 * returns the bytes used. */
void codec_ln_arith_start(codec_ln_arith *a, uint8_t *buf, size_t cap);
int codec_ln_arith_put(codec_ln_arith *a, const codec_ln_freq *f, int s);
size_t codec_ln_arith_finish(codec_ln_arith *a);
/* Decoding len bytes; get returns -1 on a value no encoder could make. */
void codec_ln_arith_start_read(codec_ln_arith *a, const uint8_t *buf, size_t len);
int codec_ln_arith_get(codec_ln_arith *a, const codec_ln_freq *f);
/* ---- the bitstream (codec/ln_stream.c) ------------------------------------ */

/* Header bytes of every packet. */
int codec_ln_header_bytes(const codec_ln_geom *g);
/* The smallest payload codec_ln_pack takes for every image: a header and
 * any one symbol (a value, or with side set a side-grid cell) that the
 * coder can send. */
size_t codec_ln_min_payload(const codec_ln *m, int coder, int side);

/* Packs the first `count` values of the send order into packets of at
 * most payload bytes, appending to out. q holds every latent value's level
 * by latent index; cells is the side grid, or NULL for channel order
 * (then no side grid is sent). The first packet is sent `copies` times,
 * and the first `sides` packets (1 or more) carry the side grid; a side
 * grid too large for a packet is sent in parts before the values, each
 * part `copies` times (codec/limitnet.c has the layout). */
int codec_ln_pack(const codec_ln *m, int coder, const uint8_t *q,
                  const uint8_t *cells, int copies, int sides, int count,
                  size_t payload, codec_stream *out, util_err *err);

/* How the receiver orders values: by channel only (limitnet-nosal), by
 * the first side grid that arrived (else the fallback), or by the fallback
 * whatever arrived (an ablation: what losing the side grid costs). */
enum { CODEC_LN_CHANNEL, CODEC_LN_SIDE, CODEC_LN_FALLBACK };

/* The entropy coder of the values: both ends must use the same. */
enum { CODEC_LN_HUFFMAN, CODEC_LN_ARITH };

/* Reads the values that the arrived packets carry: z[i] is the
 * dequantised value of latent index i, or 0 where none arrived, and
 * known[i] (may be NULL) says which arrived. `how` is one of the above;
 * fallback NULL means channel order. Never fails on packet contents;
 * returns the number of distinct values known, or -1 for out of memory. */
int codec_ln_unpack(const codec_ln *m, int coder, int how, const uint8_t *fallback,
                    const codec_stream *st, const uint8_t *arrived, float *z,
                    uint8_t *known, util_err *err);


/* ---- the device's int8 encoder (codec/ln_int8.c) ------------------------- */

struct device_model;
typedef struct codec_ln_int8 codec_ln_int8;

/* FNV-1a 64 of a file's bytes: which weight file a device model came from. */
int codec_ln_fingerprint(const char *path, uint64_t *fp, util_err *err);

/* Post-training quantisation of m's encoder and saliency head for device/:
 * per-output-channel int8 weights, activation scales from the largest
 * output of each layer over `count` images of calib (training images
 * only: the caller's duty), the level thresholds, the sigmoid table and
 * the Huffman tables. name: a C identifier; fp: the weight file's
 * fingerprint. Fails, saying why, on networks device/ cannot run. */
int codec_ln_int8_build(codec_ln *m, const data_set *calib, size_t count,
                        const char *name, uint64_t fp, codec_ln_int8 **out,
                        util_err *err);
void codec_ln_int8_free(codec_ln_int8 *q);
const struct device_model *codec_ln_int8_model(const codec_ln_int8 *q);
/* Writes the model as C: path_c defines `const device_model
 * device_model_<name>`, path_h declares it with DEVICE_<NAME>_WORK, its
 * scratch bytes. about: one line on where it came from, for the comment. */
int codec_ln_int8_write(const codec_ln_int8 *q, const char *path_c,
                        const char *path_h, const char *about, util_err *err);

/* The compiled-in device model made from the weight file at path, or NULL
 * (with err saying how to make one) when none was. */
const struct device_model *codec_ln_int8_find(const char *path, util_err *err);

#endif
