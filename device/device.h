/*
 * device/device.h: LimitNet's device side -- encoder, saliency head, side
 * grid, quantiser, send order, Huffman coding and packets -- as
 * freestanding C11 for a microcontroller, and the very same code on the
 * host (the `limitnet` codec's "encoder": "int8").
 *
 * Nothing here allocates, prints or reads a file, and nothing beyond
 * <stdint.h> and <stddef.h> is used, so the files build for a Cortex-M7
 * with newlib-nano as they build for the host. All arithmetic is in
 * integers, so both builds send identical bytes for the same image.
 *
 * Networks are int8: per-output-channel symmetric weight scales, int32
 * accumulation, activations in bytes. Every input of every layer is the
 * image (pixels 0..255, scale 1/255) or a ReLU output, so activations are
 * unsigned bytes with zero point 0; only the saliency head's last
 * convolution, before its sigmoid, is a signed byte. Requantisation is
 * acc * mult >> shift with rounding (a Q31 multiplier, as CMSIS-NN and
 * TFLite do), which keeps the float scales out of the device.
 *
 * Where the float codec rounds the latent to 2^bits levels, the device
 * compares the last encoder layer's accumulator with per-channel integer
 * thresholds (the level boundaries in accumulator units): no division,
 * and no second rounding of the latent. The side grid is the mean of a
 * 256-entry sigmoid table over each cell, rounded to 0..31 in integers.
 *
 * A model is const data generated from a weight file by
 * `limitnet device-export` (codec/ln_int8.c); model_<name>.c files here
 * are such output. Layouts: activations height x width x channels (the
 * image as util_image has it), weights [cout][kh][kw][cin], so the inner
 * loop runs over contiguous input channels; levels by latent index
 * j * h * w + y * w + x, as codec/limitnet.h numbers them.
 */
#ifndef DEVICE_DEVICE_H
#define DEVICE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#define DEVICE_SIDE_LEVELS 32  /* side-grid cell values 0..31 */
#define DEVICE_MAX_GRID 16
#define DEVICE_MAX_LEVELS 256
#define DEVICE_MAX_VALUES 65535 /* latent values; the send order is uint16 */

/* One convolution (square kernel) and what follows it: a ReLU (output
 * 0..255) or nothing (output -128..127, kept as a signed byte). */
typedef struct device_conv {
    uint16_t cin, cout, hin, win, hout, wout;
    uint8_t k, stride, pad, relu;
    const int8_t *w;       /* [cout][k][k][cin] */
    const int32_t *bias;   /* [cout], in accumulator units */
    const int32_t *mult;   /* [cout], Q31 */
    const uint8_t *shift;  /* [cout], total right shift, 1..62 */
} device_conv;

typedef struct device_model {
    const char *name;
    uint64_t fingerprint;  /* FNV-1a 64 of the weight file's bytes */
    uint16_t in_c, in_h, in_w; /* image */
    uint16_t c, h, w;          /* latent */
    uint16_t grid, levels;     /* side grid cells per side; 2^bits */
    uint8_t nenc, nsal;
    const device_conv *enc, *sal;
    /* [c][levels - 1]: value j is at least level k when the last encoder
     * layer's accumulator (after its ReLU) is >= thresh[j][k - 1] */
    const int32_t *thresh;
    /* [256]: sigmoid of the saliency head's last output v, at v + 128,
     * times 65535 */
    const uint16_t *sigmoid;
    /* Huffman codes of the values ([c][levels]) and of the side-grid
     * cells ([32]); length 0 marks a symbol without a code */
    const uint16_t *code;
    const uint8_t *len;
    const uint16_t *side_code;
    const uint8_t *side_len;
    uint32_t work;             /* bytes of scratch the calls below need */
} device_model;

enum {
    DEVICE_OK = 0,
    DEVICE_EARG,        /* a count, a payload or a model outside its limits */
    DEVICE_EHEADER,     /* the payload cannot hold a header and one value */
    DEVICE_ESIDE,       /* the payload cannot hold one cell of the side grid */
    DEVICE_EVALUE,      /* a later packet cannot hold its first value */
    DEVICE_ECODE,       /* a level or cell without a code in the tables */
    DEVICE_EFULL        /* the packet buffer is full */
};

/* A short English description of a DEVICE_* code. */
const char *device_strerror(int code);

/* Latent values and side grid of one image (in_h x in_w x in_c bytes):
 * levels[c * h * w] and, unless cells is NULL, cells[grid * grid].
 * work: m->work bytes, 4-byte aligned. */
int device_encode(const device_model *m, const uint8_t *image, uint8_t *levels,
                  uint8_t *cells, void *work);

/* The send order (codec/limitnet.h): order[r] is the latent index of rank
 * r; cells NULL orders by channel only. scratch: (31 * 5 + c * 31 + 2)
 * uint16 counts, 2-byte aligned. */
void device_order(uint16_t c, uint16_t h, uint16_t w, uint16_t grid,
                  const uint8_t *cells, uint16_t *order, void *scratch);

/* Packets as codec/limitnet.c documents them: packet i is len[i] bytes,
 * the packets one after another in buf. */
typedef struct device_packets {
    uint8_t *buf;
    uint32_t cap, used;  /* bytes */
    uint16_t *len;
    uint32_t maxn, n;    /* packets */
} device_packets;

/* Packs the first `count` values of the send order into packets of at
 * most `payload` bytes (Huffman-coded), the first sent `copies` times and
 * the first `sides` carrying the side grid; a side grid too large for a
 * packet goes out in parts first, each `copies` times. cells NULL: channel
 * order and no side grid (limitnet-nosal). The bytes are those of
 * codec_ln_pack with the Huffman coder. */
int device_pack(const device_model *m, const uint8_t *levels,
                const uint8_t *cells, int copies, int sides, int count,
                uint32_t payload, device_packets *out, void *work);

/* Bytes of work device_pack needs for a latent of n values in c channels:
 * the send order and device_order's counts. */
#define DEVICE_PACK_WORK(n, c) \
    ((size_t)(n) * 2 + ((size_t)(DEVICE_SIDE_LEVELS - 1) * 5 + (size_t)(c) * 31 + 2) * 2)

#endif
