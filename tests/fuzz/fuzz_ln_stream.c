/*
 * LimitNet's bitstream alone: codec_ln_unpack (packet headers, the side
 * grid, the values through either entropy coder) without the decoder
 * network, which would cap the search at about 100 executions/s. Both
 * committed models, every receiver order. Input layout: tests/fuzz/fuzz.h;
 * byte 0 picks the model (bit 0), the coder (bit 1) and the order
 * (bits 2-3: channel, side grid, fallback; 3 is the side grid with no
 * fallback grid, channel order then).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#include "codec/limitnet.h"

static const char *const models[2] = {
    SOURCE_DIR "/models/limitnet-fmnist.safetensors",
    SOURCE_DIR "/models/limitnet-cluttered.safetensors",
};

FUZZ_TARGET(ln_stream)
{
    /* The models are read once: loading one costs far more than a run. */
    static codec_ln *m[2];
    if (size < 1)
        return 0;
    int which = data[0] & 1, coder = (data[0] >> 1) & 1 ? CODEC_LN_ARITH : CODEC_LN_HUFFMAN;
    int mode = (data[0] >> 2) & 3;
    util_err err = {{0}};
    if (!m[which] && codec_ln_load(models[which], &m[which], &err))
        FUZZ_FAIL("%s", err.msg);
    codec_ln_geom g = codec_ln_geometry(m[which]);
    static const int how[4] = {CODEC_LN_CHANNEL, CODEC_LN_SIDE, CODEC_LN_FALLBACK,
                               CODEC_LN_SIDE};
    const uint8_t *fallback = mode == 3 ? NULL : codec_ln_prior(m[which]);
    fuzz_packets fp;
    float *z = malloc((size_t)g.n * sizeof *z);
    uint8_t *known = malloc((size_t)g.n);
    if (!z || !known || fuzz_packets_read(data, size, &fp))
        FUZZ_FAIL("out of memory");
    int got = codec_ln_unpack(m[which], coder, how[mode], fallback, &fp.st, fp.arrived,
                              z, known, &err);
    if (got < 0 || got > g.n)
        FUZZ_FAIL("codec_ln_unpack returned %d of %d values: %s", got, g.n, err.msg);
    /* What it says it knows must be what it marked, and the rest zero. */
    int marked = 0;
    for (int i = 0; i < g.n; i++) {
        marked += known[i] != 0;
        if (!known[i] && z[i] != 0.0f)
            FUZZ_FAIL("value %d not received but %g", i, (double)z[i]);
    }
    if (marked != got)
        FUZZ_FAIL("codec_ln_unpack counted %d values, marked %d", got, marked);
    fuzz_packets_free(&fp);
    free(z);
    free(known);
    return 0;
}
