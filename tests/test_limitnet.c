/* The LimitNet codec: Huffman codes, gradual-score order, the packetised
 * bitstream (round trip, every subset of packets, supersets, hostile
 * bytes, determinism), weight-file errors, and the committed model. */
#include "tests/testutil.h"
#include "tests/codecutil.h"

#include <math.h>

#include "codec/codec.h"
#include "codec/limitnet.h"
#include "data/data.h"
#include "tasks/task.h"

#define W 28
#define H 28
#define COMMITTED SOURCE_DIR "/models/limitnet-fmnist.safetensors"
#define CLASSIFIER SOURCE_DIR "/models/fmnist-classifier.safetensors"

/* A small untrained model (latent 4 x 7 x 7) with made-up but valid tables:
 * the bitstream does not care whether the weights are any good. */
static const char *ENC =
    "{\"input\": [1, 28, 28], \"layers\": ["
    "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 8, \"kernel\": 5, \"stride\": 2, \"pad\": 2},"
    "{\"name\": \"r1\", \"type\": \"relu\"},"
    "{\"name\": \"c2\", \"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"stride\": 2, \"pad\": 1},"
    "{\"name\": \"r2\", \"type\": \"relu\"}]}";
static const char *SAL =
    "{\"input\": [4, 7, 7], \"layers\": ["
    "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 1, \"kernel\": 3, \"pad\": 1},"
    "{\"name\": \"s\", \"type\": \"sigmoid\"}]}";
static const char *DEC =
    "{\"input\": [4, 7, 7], \"layers\": ["
    "{\"name\": \"d1\", \"type\": \"deconv2d\", \"out\": 8, \"kernel\": 4, \"stride\": 2, \"pad\": 1},"
    "{\"name\": \"r1\", \"type\": \"relu\"},"
    "{\"name\": \"d2\", \"type\": \"deconv2d\", \"out\": 1, \"kernel\": 4, \"stride\": 2, \"pad\": 1},"
    "{\"name\": \"s\", \"type\": \"sigmoid\"}]}";

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

/* The same decoder without its sigmoid: its output is not bounded. */
static const char *DEC_LINEAR =
    "{\"input\": [4, 7, 7], \"layers\": ["
    "{\"name\": \"d1\", \"type\": \"deconv2d\", \"out\": 8, \"kernel\": 4, \"stride\": 2, \"pad\": 1},"
    "{\"name\": \"r1\", \"type\": \"relu\"},"
    "{\"name\": \"d2\", \"type\": \"deconv2d\", \"out\": 1, \"kernel\": 4, \"stride\": 2, \"pad\": 1}]}";

static void make_model_with(const char *dec, const char *path, codec_ln **out)
{
    util_err err;
    codec_ln *m;
    assert_int_equal(codec_ln_create(ENC, SAL, dec, 4, 6, &m, &err), 0);
    util_rng rng;
    util_rng_seed(&rng, 7);
    nn_model_init(codec_ln_encoder(m), &rng);
    nn_model_init(codec_ln_saliency(m), &rng);
    nn_model_init(codec_ln_decoder(m), &rng);
    codec_ln_geom g = codec_ln_geometry(m);
    uint64_t counts[CODEC_LN_MAX_LEVELS];
    for (int j = 0; j < g.c; j++) {
        codec_ln_qmin(m)[j] = 0;
        codec_ln_qmax(m)[j] = 0.5f + 0.25f * (float)j;
        for (int q = 0; q < g.levels; q++)
            counts[q] = 1 + (uint64_t)(100000.0 * exp(-0.3 * q * (j + 1)));
        assert_int_equal(codec_ln_huff_lengths(counts, g.levels, CODEC_LN_MAX_CODE,
                                               codec_ln_codelen(m) + j * g.levels, &err), 0);
        assert_int_equal(codec_ln_freq_scale(counts, g.levels,
                                             codec_ln_freqs(m) + j * g.levels, &err), 0);
    }
    for (int k = 0; k < g.grid * g.grid; k++)
        codec_ln_prior(m)[k] = (uint8_t)(k % 32);
    for (int v = 0; v < 32; v++)
        counts[v] = 1 + (uint64_t)(1000 * exp(-0.2 * v)) + (v == 31 ? 500 : 0);
    assert_int_equal(codec_ln_huff_lengths(counts, 32, CODEC_LN_MAX_CODE,
                                           codec_ln_side_codelen(m), &err), 0);
    assert_int_equal(codec_ln_freq_scale(counts, 32, codec_ln_side_freqs(m), &err), 0);
    assert_int_equal(codec_ln_check_tables(m, &err), 0);
    assert_int_equal(codec_ln_save(m, path, NULL, 0, &err), 0);
    if (out)
        *out = m;
    else
        codec_ln_free(m);
}

static void make_model(const char *path, codec_ln **out)
{
    make_model_with(DEC, path, out);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/small.safetensors", f->dir);
    make_model(f->path, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static codec *open_coded(const char *name, const char *path, double keep,
                         int coder)
{
    util_params p;
    util_err err;
    codec *c = NULL;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "weights", path, &err), 0);
    assert_int_equal(util_params_set_str(&p, "entropy", coder == CODEC_LN_ARITH
                                         ? "arith" : "huffman", &err), 0);
    assert_int_equal(util_params_set_num(&p, "keep", keep, &err), 0);
    if (codec_create(name, &p, &c, &err))
        fail_msg("%s", err.msg);
    return c;
}

static codec *open_codec(const char *name, const char *path, double keep)
{
    return open_coded(name, path, keep, CODEC_LN_HUFFMAN);
}

/* A blob with texture: gives a varied latent. */
static void make_image(util_image *img, int seed)
{
    util_err err;
    assert_int_equal(util_image_alloc(img, W, H, 1, &err), 0);
    util_rng rng;
    util_rng_seed(&rng, (uint64_t)seed);
    double cx = 8 + 12 * util_rng_uniform(&rng), cy = 8 + 12 * util_rng_uniform(&rng);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            double v = 230 * exp(-r2 / 60) + 25 * util_rng_uniform(&rng);
            img->px[y * W + x] = (uint8_t)(v > 255 ? 255 : v);
        }
}

/* ---- Huffman ------------------------------------------------------------- */

static void roundtrip_symbols(const uint8_t *len, int n, const int *syms, int count)
{
    util_err err;
    codec_ln_huff h;
    assert_int_equal(codec_ln_huff_build(len, n, &h, &err), 0);
    uint8_t buf[4096] = {0};
    codec_ln_bits w = {buf, sizeof buf, 0};
    for (int i = 0; i < count; i++)
        assert_int_equal(codec_ln_huff_put(&h, &w, syms[i]), 0);
    codec_ln_bits r = {buf, (w.pos + 7) / 8, 0};
    for (int i = 0; i < count; i++)
        assert_int_equal(codec_ln_huff_get(&h, &r), syms[i]);
}

static void test_huff_one_symbol(void **state)
{
    (void)state;
    util_err err;
    uint64_t counts[64] = {0};
    uint8_t len[64];
    counts[17] = 1000;
    assert_int_equal(codec_ln_huff_lengths(counts, 64, 16, len, &err), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(len[i], i == 17 ? 1 : 0);
    int syms[5] = {17, 17, 17, 17, 17};
    roundtrip_symbols(len, 64, syms, 5);
    /* The unused half of a lone code is an invalid code, not a symbol. */
    codec_ln_huff h;
    assert_int_equal(codec_ln_huff_build(len, 64, &h, &err), 0);
    uint8_t ones = 0xff;
    codec_ln_bits r = {&ones, 1, 0};
    assert_int_equal(codec_ln_huff_get(&h, &r), -1);
    assert_int_equal(codec_ln_huff_put(&h, &(codec_ln_bits){&ones, 1, 0}, 3), -1);
}

static void test_huff_all_symbols(void **state)
{
    (void)state;
    util_err err;
    uint64_t counts[64];
    uint8_t len[64];
    for (int i = 0; i < 64; i++)
        counts[i] = 5;
    assert_int_equal(codec_ln_huff_lengths(counts, 64, 16, len, &err), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(len[i], 6);
    int syms[64];
    for (int i = 0; i < 64; i++)
        syms[i] = 63 - i;
    roundtrip_symbols(len, 64, syms, 64);
}

static void test_huff_empty_and_invalid(void **state)
{
    (void)state;
    util_err err;
    uint64_t counts[64] = {0};
    uint8_t len[64] = {0};
    assert_int_equal(codec_ln_huff_lengths(counts, 64, 16, len, &err), -1);
    assert_non_null(strstr(err.msg, "no symbol"));
    /* Nothing to read from an empty buffer. */
    len[0] = len[1] = 1;
    codec_ln_huff h;
    assert_int_equal(codec_ln_huff_build(len, 64, &h, &err), 0);
    codec_ln_bits r = {NULL, 0, 0};
    assert_int_equal(codec_ln_huff_get(&h, &r), -1);
    /* Incomplete and over-full codes are refused. */
    len[1] = 2;
    assert_int_equal(codec_ln_huff_build(len, 64, &h, &err), -1);
    len[1] = 1;
    len[2] = 1;
    assert_int_equal(codec_ln_huff_build(len, 64, &h, &err), -1);
    /* 300 symbols cannot have distinct 8-bit codes. */
    uint64_t many[CODEC_LN_MAX_LEVELS];
    for (int i = 0; i < CODEC_LN_MAX_LEVELS; i++)
        many[i] = 1;
    uint8_t l2[CODEC_LN_MAX_LEVELS];
    assert_int_equal(codec_ln_huff_lengths(many, CODEC_LN_MAX_LEVELS, 7, l2, &err), -1);
}

static void test_huff_length_limit(void **state)
{
    (void)state;
    util_err err;
    uint64_t counts[64];
    uint8_t len[64];
    /* Fibonacci-like counts make a maximally deep tree without a limit. */
    uint64_t a = 1, b = 1;
    for (int i = 0; i < 64; i++) {
        counts[i] = a;
        uint64_t c = a + b;
        a = b;
        b = c > (1ULL << 62) ? (1ULL << 62) : c;
    }
    assert_int_equal(codec_ln_huff_lengths(counts, 64, 12, len, &err), 0);
    double kraft = 0;
    for (int i = 0; i < 64; i++) {
        assert_true(len[i] >= 1 && len[i] <= 12);
        kraft += ldexp(1, -len[i]);
    }
    assert_true(fabs(kraft - 1) < 1e-12);
    util_rng rng;
    util_rng_seed(&rng, 3);
    int syms[1000];
    for (int i = 0; i < 1000; i++)
        syms[i] = (int)util_rng_below(&rng, 64);
    roundtrip_symbols(len, 64, syms, 1000);
}


/* ---- arithmetic coder -------------------------------------------------------- */

/* Encodes syms into cap bytes until one does not fit; decodes them back.
 * Returns how many fitted. */
static int arith_roundtrip(const uint64_t *counts, int n, const int *syms,
                           int count, size_t cap)
{
    util_err err;
    uint16_t freq[CODEC_LN_MAX_LEVELS];
    codec_ln_freq f;
    assert_int_equal(codec_ln_freq_scale(counts, n, freq, &err), 0);
    assert_int_equal(codec_ln_freq_build(freq, n, &f, &err), 0);
    uint8_t *buf = calloc(cap ? cap : 1, 1);
    codec_ln_arith a;
    codec_ln_arith_start(&a, buf, cap);
    int k = 0;
    while (k < count && codec_ln_arith_put(&a, &f, syms[k]) == 0)
        k++;
    size_t used = codec_ln_arith_finish(&a);
    assert_true(used <= cap);
    codec_ln_arith_start_read(&a, buf, used);
    for (int i = 0; i < k; i++)
        assert_int_equal(codec_ln_arith_get(&a, &f), syms[i]);
    free(buf);
    return k;
}

static void test_arith_edges(void **state)
{
    (void)state;
    util_err err;
    uint64_t counts[64] = {0};
    int syms[2000];
    /* One symbol far likelier than the rest: many per byte. */
    counts[0] = 1000000;
    for (int i = 0; i < 2000; i++)
        syms[i] = 0;
    int fitted = arith_roundtrip(counts, 64, syms, 2000, 4);
    assert_true(fitted > 100);
    /* All symbols equally likely: 6 bits each. */
    for (int i = 0; i < 64; i++)
        counts[i] = 7;
    for (int i = 0; i < 2000; i++)
        syms[i] = (i * 37) % 64;
    assert_int_equal(arith_roundtrip(counts, 64, syms, 2000, 2000), 2000);
    fitted = arith_roundtrip(counts, 64, syms, 2000, 51);
    assert_true(fitted >= 64 && fitted <= 68); /* 408 bits, 6 per symbol */
    /* Random symbols from a skewed source, and the rarest symbol. */
    util_rng rng;
    util_rng_seed(&rng, 5);
    for (int i = 0; i < 64; i++)
        counts[i] = 1 + (uint64_t)(1e6 * exp(-0.5 * i));
    for (int i = 0; i < 2000; i++)
        syms[i] = util_rng_uniform(&rng) < 0.05 ? 63 : (int)util_rng_below(&rng, 6);
    assert_int_equal(arith_roundtrip(counts, 64, syms, 2000, 4000), 2000);
    /* Nothing fits in zero bytes; an empty stream finishes cleanly. */
    assert_int_equal(arith_roundtrip(counts, 64, syms, 10, 0), 0);
    assert_int_equal(arith_roundtrip(counts, 64, syms, 0, 8), 0);
    /* Frequencies must sum to the total; counts must not all be zero. */
    uint16_t freq[64] = {0};
    codec_ln_freq f;
    freq[0] = 100;
    assert_int_equal(codec_ln_freq_build(freq, 64, &f, &err), -1);
    assert_non_null(strstr(err.msg, "sum to"));
    uint64_t zero[64] = {0};
    assert_int_equal(codec_ln_freq_scale(zero, 64, freq, &err), -1);
}
/* ---- order -------------------------------------------------------------------- */

static void test_order(void **state)
{
    (void)state;
    util_err err;
    codec_ln_geom g = {1, 28, 28, 12, 7, 7, 588, 4, 6, 64};
    int order[588], seen[588] = {0};
    assert_int_equal(codec_ln_order(&g, NULL, order, &err), 0);
    for (int i = 0; i < 588; i++)
        assert_int_equal(order[i], i); /* channel order */
    uint8_t cells[16] = {0};
    cells[15] = 31; /* bottom-right cell: rows/cols 6 (7 * 3 / 4 = 5.25 -> 6..6) */
    assert_int_equal(codec_ln_order(&g, cells, order, &err), 0);
    for (int i = 0; i < 588; i++)
        seen[order[i]]++;
    for (int i = 0; i < 588; i++)
        assert_int_equal(seen[i], 1);
    /* Cell 15 covers latent (6, 6) only: its saliency (1.0) is worth five
     * channels, so channel 5's value there ties channel 0's plain values
     * (score 12/5 = 7/5 + 1) and loses the tie by index; channel 4's wins. */
    int pos_c4 = -1, pos_c0_first = -1;
    for (int r = 0; r < 588; r++) {
        if (order[r] == 4 * 49 + 48)
            pos_c4 = r;
        if (order[r] == 0)
            pos_c0_first = r;
    }
    assert_true(pos_c4 < pos_c0_first);
    assert_int_equal(order[0], 48); /* channel 0 at the salient spot first */
    int pos_c5 = -1;
    for (int r = 0; r < 588; r++)
        if (order[r] == 5 * 49 + 48)
            pos_c5 = r;
    assert_true(pos_c5 > 48); /* after all of channel 0 */
}

static void test_side_grid(void **state)
{
    (void)state;
    codec_ln_geom g = {1, 28, 28, 12, 7, 7, 588, 4, 6, 64};
    float sal[49];
    for (int i = 0; i < 49; i++)
        sal[i] = (i / 7 < 4 ? 1.0f : 0.0f);
    uint8_t cells[16];
    codec_ln_side(&g, sal, cells);
    /* Rows 0-1 -> cell row 0, 2-3 -> 1, 4-5 -> 2, 6 -> 3. */
    for (int k = 0; k < 16; k++)
        assert_int_equal(cells[k], k / 4 < 2 ? 31 : 0);
    /* A saliency head from a weight file need not end in a sigmoid: values
     * beyond long's range are clamped, not handed to lrintf (whose result
     * is then unspecified: 1e30 gave cell value 0). */
    for (int i = 0; i < 49; i++)
        sal[i] = i / 7 < 4 ? 1e30f : i / 7 < 6 ? -1e30f : NAN;
    codec_ln_side(&g, sal, cells);
    for (int k = 0; k < 16; k++)
        assert_int_equal(cells[k], k / 4 < 2 ? 31 : 0);
}

/* ---- bitstream --------------------------------------------------------------- */

/* What the encoder quantised: dequant(quant(encoder(img))). */
static void expected_latent(const char *path, const util_image *img, float *z)
{
    util_err err;
    codec_ln *m;
    assert_int_equal(codec_ln_load(path, &m, &err), 0);
    codec_ln_geom g = codec_ln_geometry(m);
    nn_ws *ws;
    nn_tensor x = {0};
    assert_int_equal(nn_ws_create(codec_ln_encoder(m), &ws, &err), 0);
    assert_int_equal(nn_tensor_resize(&x, 1, 1, H, W, &err), 0);
    for (int i = 0; i < W * H; i++)
        x.data[i] = img->px[i] / 255.0f;
    assert_int_equal(nn_infer(codec_ln_encoder(m), ws, &x, &err), 0);
    const nn_tensor *out = nn_ws_out(ws, nn_model_nodes(codec_ln_encoder(m)) - 1);
    for (int i = 0; i < g.n; i++) {
        int j = i / (g.h * g.w);
        z[i] = codec_ln_dequant(m, j, codec_ln_quant(m, j, out->data[i]));
    }
    nn_tensor_free(&x);
    nn_ws_destroy(ws);
    codec_ln_free(m);
}

static void test_roundtrip_exact(void **state)
{
    fixture *f = *state;
    util_err err;
    const char *names[] = {"limitnet", "limitnet-nosal"};
    for (int kc = 0; kc < 4; kc++) {
        int k = kc % 2, coder = kc / 2 ? CODEC_LN_ARITH : CODEC_LN_HUFFMAN;
        codec *c = open_coded(names[k], f->path, 1.0, coder);
        codec_ln *m;
        assert_int_equal(codec_ln_load(f->path, &m, &err), 0);
        for (int seed = 1; seed <= 5; seed++) {
            util_image img;
            make_image(&img, seed);
            codec_stream st;
            codec_stream_init(&st);
            assert_int_equal(codec_encode(c, &img, 20, &st, &err), 0);
            assert_true(st.n >= 2);
            for (size_t i = 0; i < st.n; i++)
                assert_true(st.pkt[i].len <= 20);
            uint8_t arrived[256];
            memset(arrived, 1, sizeof arrived);
            float z[196], want[196];
            uint8_t known[196];
            assert_int_equal(codec_ln_unpack(m, coder, k == 0 ? CODEC_LN_SIDE : CODEC_LN_CHANNEL, NULL, &st, arrived, z, known, &err), 196);
            expected_latent(f->path, &img, want);
            for (int i = 0; i < 196; i++)
                assert_true(z[i] == want[i]);
            /* limitnet's first packet carries the side grid, nosal's never. */
            assert_int_equal(st.pkt[0].data[0] >> 7, k == 0);
            codec_stream_free(&st);
            util_image_free(&img);
        }
        codec_ln_free(m);
        codec_destroy(c);
    }
}

/* Every subset of a 9-packet stream decodes, adding a packet never loses a
 * value, and the decoder returns an image for each. */
static void every_subset(const fixture *f, int coder)
{
    util_err err;
    codec *c = open_coded("limitnet", f->path, 1.0, coder);
    codec_ln *m;
    assert_int_equal(codec_ln_load(f->path, &m, &err), 0);
    util_image img, out;
    make_image(&img, 11);
    assert_int_equal(util_image_alloc(&out, W, H, 1, &err), 0);
    codec_stream st;
    codec_stream_init(&st);
    /* The smallest payload that takes the side grid and makes at most 9
     * packets. */
    size_t payload = 8;
    while (codec_encode(c, &img, payload, &st, &err) || st.n > 9) {
        assert_true(payload < 200);
        codec_stream_clear(&st);
        payload++;
    }
    assert_true(st.n >= 5);
    size_t n = st.n, nsub = (size_t)1 << n;
    uint8_t (*known)[196] = malloc(nsub * sizeof *known);
    float z[196];
    for (size_t s = 0; s < nsub; s++) {
        uint8_t arrived[16];
        for (size_t i = 0; i < n; i++)
            arrived[i] = (uint8_t)((s >> i) & 1);
        assert_true(codec_ln_unpack(m, coder, CODEC_LN_SIDE, codec_ln_prior(m), &st, arrived, z,
                                    known[s], &err) >= 0);
        if (s % 37 == 0)
            assert_int_equal(codec_decode(c, &st, arrived, &out, &err), 0);
    }
    for (size_t s = 0; s < nsub; s++)
        for (size_t i = 0; i < n; i++) {
            size_t sup = s | ((size_t)1 << i);
            /* With the side packet in both (or in neither), the order is the
             * same, so a superset knows every value the subset knew. */
            if ((s & 1) != (sup & 1))
                continue;
            for (int v = 0; v < 196; v++)
                assert_true(!known[s][v] || known[sup][v]);
        }
    free(known);
    codec_stream_free(&st);
    util_image_free(&img);
    util_image_free(&out);
    codec_ln_free(m);
    codec_destroy(c);
}

/* Header fields of a packet of the 196-value fixture (8-bit fields). */
static int pkt_side(const codec_packet *p)
{
    return p->data[0] >> 7;
}

static int pkt_r0(const codec_packet *p)
{
    return ((p->data[0] & 0x7f) << 1) | (p->data[1] >> 7);
}

/* Payloads too small for the header and the whole side grid (Sigfox's 12
 * bytes, US915 DR0's 11): the grid spans packets, every value arrives
 * exactly, and a payload below codec_min_payload is refused by name. */
static void small_payloads(const fixture *f, int coder)
{
    util_err err;
    codec *c = open_coded("limitnet", f->path, 1.0, coder);
    codec_ln *m;
    assert_int_equal(codec_ln_load(f->path, &m, &err), 0);
    size_t least = codec_min_payload(c);
    assert_true(least > 3 && least < 8);
    util_image img;
    make_image(&img, 4);
    float z[196], want[196];
    expected_latent(f->path, &img, want);
    codec_stream st;
    codec_stream_init(&st);
    assert_int_equal(codec_encode(c, &img, least - 1, &st, &err), -1);
    assert_non_null(strstr(err.msg, "below the"));
    int spanned = 0;
    for (size_t payload = least; payload <= 24; payload++) {
        assert_int_equal(codec_encode(c, &img, payload, &st, &err), 0);
        uint8_t arrived[512];
        assert_true(st.n < sizeof arrived);
        memset(arrived, 1, st.n);
        size_t parts = 0;
        for (size_t i = 0; i < st.n; i++) {
            assert_true(st.pkt[i].len <= payload);
            parts += pkt_side(&st.pkt[i]) && pkt_r0(&st.pkt[i]) > 0;
        }
        /* Parts come first, one after another, and only when needed. */
        for (size_t i = 0; i < parts; i++)
            assert_true(pkt_side(&st.pkt[i]) && pkt_r0(&st.pkt[i]) > 0);
        spanned += parts > 1;
        assert_int_equal(codec_ln_unpack(m, coder, CODEC_LN_SIDE, NULL, &st, arrived, z,
                                         NULL, &err), 196);
        for (int i = 0; i < 196; i++)
            assert_true(z[i] == want[i]);
        /* A lost part: the prior fills its cells; without one, the
         * receiver falls back to channel order. Both decode (the values
         * that a guessed order still reads, as with a lost whole grid). */
        if (parts > 1) {
            arrived[0] = 0;
            int got = codec_ln_unpack(m, coder, CODEC_LN_SIDE, codec_ln_prior(m), &st,
                                      arrived, z, NULL, &err);
            assert_true(got > 0 && got <= 196);
            got = codec_ln_unpack(m, coder, CODEC_LN_SIDE, NULL, &st, arrived, z, NULL, &err);
            assert_true(got > 0 && got <= 196);
        }
    }
    assert_true(spanned > 0);
    codec_stream_free(&st);
    util_image_free(&img);
    codec_ln_free(m);
    codec_destroy(c);
}

static void test_small_payloads(void **state)
{
    small_payloads(*state, CODEC_LN_HUFFMAN);
    small_payloads(*state, CODEC_LN_ARITH);
}

/* The committed model over Sigfox (12 bytes) and US915 DR0 (11): the
 * channels whose payloads used to be refused. */
static void test_committed_small_payloads(void **state)
{
    (void)state;
    util_err err;
    codec *c = open_codec("limitnet", COMMITTED, 1.0);
    assert_true(codec_min_payload(c) <= 11);
    util_image img, out;
    make_image(&img, 9);
    assert_int_equal(util_image_alloc(&out, W, H, 1, &err), 0);
    codec_stream st;
    codec_stream_init(&st);
    for (size_t payload = 11; payload <= 12; payload++) {
        assert_int_equal(codec_encode(c, &img, payload, &st, &err), 0);
        assert_true(st.n > 20);
        uint8_t arrived[1024];
        assert_true(st.n <= sizeof arrived);
        memset(arrived, 1, st.n);
        assert_int_equal(codec_decode(c, &st, arrived, &out, &err), 0);
    }
    codec_stream_free(&st);
    util_image_free(&img);
    util_image_free(&out);
    codec_destroy(c);
}

/* side_packets k: the first k packets carry the whole grid (r0 at most N,
 * so never taken for a part), the rest none; with the first packet lost,
 * the second's grid orders every other value exactly. Zero and
 * limitnet-nosal are refused. */
static void test_side_packets(void **state)
{
    fixture *f = *state;
    util_err err;
    util_params p;
    codec *c = NULL;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "weights", f->path, &err), 0);
    assert_int_equal(util_params_set_num(&p, "side_packets", 3, &err), 0);
    if (codec_create("limitnet", &p, &c, &err))
        fail_msg("%s", err.msg);
    assert_non_null(strstr(codec_label(c), "-side3"));
    codec_ln *m;
    assert_int_equal(codec_ln_load(f->path, &m, &err), 0);
    util_image img;
    make_image(&img, 6);
    float z[196], want[196];
    uint8_t known[196];
    expected_latent(f->path, &img, want);
    codec_stream st;
    codec_stream_init(&st);
    assert_int_equal(codec_encode(c, &img, 30, &st, &err), 0);
    assert_true(st.n > 4);
    for (size_t i = 0; i < st.n; i++) {
        assert_int_equal(pkt_side(&st.pkt[i]), i < 3);
        assert_true(pkt_r0(&st.pkt[i]) <= 196);
    }
    uint8_t arrived[64];
    assert_true(st.n <= sizeof arrived);
    memset(arrived, 1, st.n);
    arrived[0] = 0;
    int got = codec_ln_unpack(m, CODEC_LN_HUFFMAN, CODEC_LN_SIDE, NULL, &st, arrived, z,
                              known, &err);
    assert_true(got > 100 && got < 196);
    for (int i = 0; i < 196; i++)
        assert_true(known[i] ? z[i] == want[i] : z[i] == 0);
    codec_stream_free(&st);
    codec_destroy(c);
    /* A grid-less stream (nosal) has no such key; 0 is out of range. */
    const char *names[] = {"limitnet", "limitnet-nosal"};
    const double bad[] = {0, 2};
    for (int k = 0; k < 2; k++) {
        util_params_init(&p);
        assert_int_equal(util_params_set_str(&p, "weights", f->path, &err), 0);
        assert_int_equal(util_params_set_num(&p, "side_packets", bad[k], &err), 0);
        c = NULL;
        assert_int_equal(codec_create(names[k], &p, &c, &err), -1);
        assert_non_null(strstr(err.msg, "side_packets"));
    }
    util_image_free(&img);
    codec_ln_free(m);
}

static void test_every_subset(void **state)
{
    every_subset(*state, CODEC_LN_HUFFMAN);
    every_subset(*state, CODEC_LN_ARITH);
}

static void test_duplicates_and_order(void **state)
{
    fixture *f = *state;
    util_err err;
    codec *c = open_codec("limitnet", f->path, 1.0);
    util_image img, a, b;
    make_image(&img, 5);
    assert_int_equal(util_image_alloc(&a, W, H, 1, &err), 0);
    assert_int_equal(util_image_alloc(&b, W, H, 1, &err), 0);
    codec_stream st, rev;
    codec_stream_init(&st);
    codec_stream_init(&rev);
    assert_int_equal(codec_encode(c, &img, 24, &st, &err), 0);
    /* Reversed, each packet twice. */
    for (size_t i = st.n; i-- > 0;)
        for (int k = 0; k < 2; k++)
            assert_int_equal(codec_stream_push(&rev, st.pkt[i].data, st.pkt[i].len, &err), 0);
    uint8_t all[256];
    memset(all, 1, sizeof all);
    assert_int_equal(codec_decode(c, &st, all, &a, &err), 0);
    assert_int_equal(codec_decode(c, &rev, all, &b, &err), 0);
    assert_memory_equal(a.px, b.px, W * H);
    /* Nothing at all: flat grey. */
    uint8_t none[256] = {0};
    assert_int_equal(codec_decode(c, &st, none, &a, &err), 0);
    for (int i = 0; i < W * H; i++)
        assert_int_equal(a.px[i], 128);
    codec_stream_free(&st);
    codec_stream_free(&rev);
    util_image_free(&img);
    util_image_free(&a);
    util_image_free(&b);
    codec_destroy(c);
}

static void test_garbage(void **state)
{
    fixture *f = *state;
    util_err err;
    const char *names[] = {"limitnet", "limitnet-nosal"};
    util_rng rng;
    util_rng_seed(&rng, 99);
    util_image out, img;
    assert_int_equal(util_image_alloc(&out, W, H, 1, &err), 0);
    make_image(&img, 3);
    for (int kc = 0; kc < 4; kc++) {
        int k = kc % 2;
        codec *c = open_coded(names[k], f->path, 1.0, kc / 2 ? CODEC_LN_ARITH : CODEC_LN_HUFFMAN);
        codec_stream good;
        codec_stream_init(&good);
        assert_int_equal(codec_encode(c, &img, 51, &good, &err), 0);
        for (int round = 0; round < 400; round++) {
            codec_stream st;
            codec_stream_init(&st);
            size_t n = 1 + util_rng_below(&rng, 8);
            uint8_t arrived[8];
            for (size_t i = 0; i < n; i++) {
                uint8_t buf[64];
                size_t len = util_rng_below(&rng, 65);
                if (round % 2 && i < good.n) { /* bit flips in real packets */
                    len = good.pkt[i].len;
                    memcpy(buf, good.pkt[i].data, len);
                    for (int b = 0; b < 3 && len; b++)
                        buf[util_rng_below(&rng, len)] ^= (uint8_t)(1u << util_rng_below(&rng, 8));
                } else {
                    for (size_t j = 0; j < len; j++)
                        buf[j] = (uint8_t)util_rng_next(&rng);
                }
                assert_int_equal(codec_stream_push(&st, buf, len, &err), 0);
                arrived[i] = (uint8_t)(util_rng_below(&rng, 4) != 0);
            }
            assert_int_equal(codec_decode(c, &st, arrived, &out, &err), 0);
            codec_stream_free(&st);
        }
        codec_stream_free(&good);
        codec_destroy(c);
    }
    util_image_free(&out);
    util_image_free(&img);
}

static void test_deterministic_and_keep(void **state)
{
    fixture *f = *state;
    util_err err;
    codec *a = open_codec("limitnet", f->path, 1.0);
    codec *b = open_codec("limitnet", f->path, 1.0);
    codec *half = open_codec("limitnet", f->path, 0.25);
    codec *ns = open_codec("limitnet-nosal", f->path, 0.25);
    assert_string_equal(codec_label(half), "limitnet-k0.25");
    assert_string_equal(codec_label(ns), "limitnet-nosal-k0.25");
    util_image img;
    make_image(&img, 8);
    codec_stream sa, sb, sh, sn;
    codec_stream_init(&sa);
    codec_stream_init(&sb);
    codec_stream_init(&sh);
    codec_stream_init(&sn);
    assert_int_equal(codec_encode(a, &img, 51, &sa, &err), 0);
    assert_int_equal(codec_encode(b, &img, 51, &sb, &err), 0);
    assert_int_equal(codec_encode(half, &img, 222, &sh, &err), 0);
    assert_int_equal(codec_encode(ns, &img, 222, &sn, &err), 0);
    assert_int_equal(sa.n, sb.n);
    for (size_t i = 0; i < sa.n; i++) {
        assert_int_equal(sa.pkt[i].len, sb.pkt[i].len);
        assert_memory_equal(sa.pkt[i].data, sb.pkt[i].data, sa.pkt[i].len);
    }
    codec_ln *m;
    assert_int_equal(codec_ln_load(f->path, &m, &err), 0);
    float z[196];
    uint8_t all[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(codec_ln_unpack(m, CODEC_LN_HUFFMAN, CODEC_LN_SIDE, NULL, &sh, all, z, NULL, &err), 49);
    assert_int_equal(codec_ln_unpack(m, CODEC_LN_HUFFMAN, CODEC_LN_CHANNEL, NULL, &sn, all, z, NULL, &err), 49);
    /* Same values, but nosal spends no side grid. */
    assert_true(codec_stream_bytes(&sn) < codec_stream_bytes(&sh));
    codec_ln_free(m);
    codec_stream_free(&sa);
    codec_stream_free(&sb);
    codec_stream_free(&sh);
    codec_stream_free(&sn);
    util_image_free(&img);
    codec_destroy(a);
    codec_destroy(b);
    codec_destroy(half);
    codec_destroy(ns);
}

static void test_misuse(void **state)
{
    fixture *f = *state;
    util_err err;
    codec *c = open_codec("limitnet", f->path, 1.0);
    util_image img, big;
    make_image(&img, 1);
    codec_stream st;
    codec_stream_init(&st);
    assert_int_equal(codec_encode(c, &img, 3, &st, &err), -1);
    assert_non_null(strstr(err.msg, "3-byte payload is below"));
    assert_int_equal(util_image_alloc(&big, 32, 32, 1, &err), 0);
    assert_int_equal(codec_encode(c, &big, 51, &st, &err), -1);
    assert_non_null(strstr(err.msg, "28x28x1"));
    codec_stream_free(&st);
    util_image_free(&img);
    util_image_free(&big);
    codec_destroy(c);
}

/* A decoder from a weight file may say anything: a pixel of 1e30 is
 * white, not handed to lrintf (whose result is unspecified beyond long's
 * range: it came out black). */
static void test_unbounded_decoder(void **state)
{
    fixture *f = *state;
    util_err err;
    char path[160];
    snprintf(path, sizeof path, "%s/linear.safetensors", f->dir);
    codec_ln *m;
    make_model_with(DEC_LINEAR, path, &m);
    nn_model *dec = codec_ln_decoder(m);
    for (size_t i = 0; i < nn_model_nparams(dec); i++) {
        nn_param *p = nn_model_param(dec, i);
        if (strcmp(p->name, "d2.weight") == 0)
            memset(p->data, 0, p->numel * sizeof *p->data);
        if (strcmp(p->name, "d2.bias") == 0)
            p->data[0] = 1e30f;
    }
    assert_int_equal(codec_ln_save(m, path, NULL, 0, &err), 0);
    codec_ln_free(m);
    codec *c = open_codec("limitnet", path, 1.0);
    util_image img, rec;
    make_image(&img, 3);
    assert_int_equal(util_image_alloc(&rec, W, H, 1, &err), 0);
    codec_stream st;
    cu_encode(c, &img, 51, &st);
    cu_decode(c, &st, NULL, st.n, &rec);
    for (int i = 0; i < W * H; i++)
        if (rec.px[i] != 255)
            fail_msg("pixel %d is %d, expected 255", i, rec.px[i]);
    codec_stream_free(&st);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&rec);
}

static void test_bad_weights(void **state)
{
    fixture *f = *state;
    util_err err;
    util_params p;
    codec *c;
    char path[160];
    size_t len = 0;
    char *data = tu_read_file(f->path, &len);
    assert_non_null(data);
    snprintf(path, sizeof path, "%s/cut.safetensors", f->dir);
    tu_write_file(path, data, len - 100);
    util_params_init(&p);
    util_params_set_str(&p, "weights", path, &err);
    assert_int_equal(codec_create("limitnet", &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "cut.safetensors"));
    assert_non_null(strstr(err.msg, "truncated"));
    free(data);
    util_params_init(&p);
    util_params_set_str(&p, "weights", CLASSIFIER, &err);
    assert_int_equal(codec_create("limitnet", &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "not a LimitNet model"));
    util_params_init(&p);
    util_params_set_str(&p, "weights", f->path, &err);
    util_params_set_str(&p, "fallback", "guess", &err);
    assert_int_equal(codec_create("limitnet", &p, &c, &err), -1);
    assert_non_null(strstr(err.msg, "fallback"));
}


/* ---- the trainer ------------------------------------------------------------- */

/* models/limitnet-fmnist.json with its sizes shrunk: 256 training items,
 * one epoch per phase, output into dir. */
/* A committed LimitNet config (src) cut to one epoch a phase on 256
 * training items, its outputs in dir. */
static void small_config_from(const char *src, const char *dir, const char *path)
{
    size_t len;
    char *text = tu_read_file(src, &len);
    assert_non_null(text);
    char *out = malloc(len + 4096);
    char *p = out;
    for (const char *s = text; *s;) {
        if (!strncmp(s, "\"validation\": 5000", 18)) {
            p += sprintf(p, "\"validation\": 59744");
            s += 18;
        } else if (!strncmp(s, "\"epochs\": ", 10)) {
            p += sprintf(p, "\"epochs\": 1");
            s += 10;
            while (*s >= '0' && *s <= '9')
                s++;
        } else if (!strncmp(s, "\"build/train/", 13)) {
            p += sprintf(p, "\"%s/", dir);
            s += 13;
        } else {
            *p++ = *s++;
        }
    }
    *p = 0;
    tu_write_file(path, out, strlen(out));
    free(out);
    free(text);
}

static void small_config(const char *dir, const char *path)
{
    small_config_from(SOURCE_DIR "/models/limitnet-fmnist.json", dir, path);
}

/* A weight file whose encoder metadata claims an input of 1e300 channels
 * (out of int's range: the cast was undefined behaviour): refused with a
 * message, by the loader and by `limitnet check` on a scenario naming it,
 * which writes nothing. */
static void test_huge_input_meta(void **state)
{
    (void)state;
    char dir[64], path[128], scen[160], json[512], cmd[512], msg[4096];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/huge.safetensors", dir);
    tu_st_replace(COMMITTED, path, "{\\\"input\\\":[1,28,28]", "{\\\"input\\\":[1e300,28,28]");
    codec_ln *m = NULL;
    util_err err;
    assert_int_equal(codec_ln_load(path, &m, &err), -1);
    assert_non_null(strstr(err.msg, "huge.safetensors"));
    assert_non_null(strstr(err.msg, "model.input"));
    snprintf(json, sizeof json, "{\"dataset\": {\"name\": \"fashion-mnist\", \"count\": 4}, "
             "\"codecs\": [{\"name\": \"limitnet\", \"weights\": \"%s\"}], \"channel\": "
             "{\"model\": \"link\"}, \"deadlines\": [1], \"output\": \"%s/out\"}", path, dir);
    snprintf(scen, sizeof scen, "%s/s.json", dir);
    tu_write_file(scen, json, strlen(json));
    snprintf(cmd, sizeof cmd, "%s check %s", LIMITNET_BIN, scen);
    assert_int_equal(tu_run(cmd, msg, sizeof msg), 2);
    assert_non_null(strstr(msg, "model.input"));
    snprintf(cmd, sizeof cmd, "%s run %s", LIMITNET_BIN, scen);
    assert_int_not_equal(tu_run(cmd, msg, sizeof msg), 0);
    snprintf(cmd, sizeof cmd, "test ! -e %s/out", dir);
    assert_int_equal(system(cmd), 0);
    tu_rmtree(dir);
}

/* Three short phases on 256 items, then calibration: the file loads as a
 * codec that round-trips, and --resume skips straight to calibration. */
/* The FNV-1a hash a weight file's metadata gives tensor `name`, into b
 * (the JSON header follows the file's 8-byte length). */
static const char *meta_hash(const char *file, const char *name, char b[32])
{
    char key[96];
    snprintf(key, sizeof key, "\"nn.fnv1a64.%s\":\"", name);
    const char *p = strstr(file + 8, key);
    assert_non_null(p);
    p += strlen(key);
    size_t n = strcspn(p, "\"");
    assert_true(n > 0 && n < 32);
    memcpy(b, p, n);
    b[n] = 0;
    return b;
}

static void test_train_small(void **state)
{
    (void)state;
    char dir[64], cfg[128], weights[160], cmd[512], out[8192];
    tu_tempdir(dir);
    snprintf(cfg, sizeof cfg, "%s/small.json", dir);
    snprintf(weights, sizeof weights, "%s/limitnet-fmnist.safetensors", dir);
    small_config(dir, cfg);
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "phase 3 epoch  1/1"));
    assert_non_null(strstr(out, "latent 12x7x7 = 588 values"));
    codec *c = open_codec("limitnet", weights, 0.5);
    util_err err;
    util_image img, rec;
    make_image(&img, 2);
    assert_int_equal(util_image_alloc(&rec, W, H, 1, &err), 0);
    codec_stream st;
    cu_encode(c, &img, 51, &st);
    cu_decode(c, &st, NULL, st.n, &rec);
    codec_stream_free(&st);
    codec_destroy(c);
    util_image_free(&img);
    util_image_free(&rec);
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s --resume", LIMITNET_BIN, cfg);
    /* A checkpoint whose numbers were edited is refused, naming the file
     * and the key (atoi wrapped 4294967299 to 3 and took "3x" as 3; atof
     * took "nan"). */
    char ckpt[192];
    snprintf(ckpt, sizeof ckpt, "%s/limitnet-fmnist.ckpt.safetensors", dir);
    size_t clen = 0;
    char *orig = tu_read_file(ckpt, &clen);
    assert_non_null(orig);
    static const struct {
        const char *from, *to, *key;
    } edits[] = {
        {"\"train.phases\":\"3\"", "\"train.phases\":\"4294967299\"", "train.phases"},
        {"\"train.phases\":\"3\"", "\"train.phases\":\"3x\"", "train.phases"},
        {"\"train.phases\":\"3\"", "\"train.phases\":\"4\"", "train.phases"},
        {"\"train.seconds\":\"", "\"train.seconds\":\"nan", "train.seconds"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        tu_st_replace(ckpt, ckpt, edits[i].from, edits[i].to);
        int rc = tu_run(cmd, out, sizeof out);
        if (rc != 1 || !strstr(out, ckpt) || !strstr(out, edits[i].key))
            fail_msg("edit %zu: exit %d, %s", i, rc, out);
        tu_write_file(ckpt, orig, clen);
    }
    free(orig);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "resuming after phase 3 of 3"));
    assert_null(strstr(out, "epoch"));
    /* A config that adds a fourth phase, with holes and packet loss, for
     * the decoder alone, continues the run; the device side's tensors and
     * the coder's tables stay bit for bit, the decoder's change. */
    char *before = tu_read_file(weights, NULL);
    size_t len = 0;
    char *text = tu_read_file(cfg, &len);
    char *last = strstr(text, "{\"epochs\": 1, \"lr\": 0.00005}");
    assert_non_null(last);
    char *four = malloc(len + 128);
    sprintf(four, "%.*s{\"epochs\": 1, \"lr\": 0.00005}, {\"epochs\": 1, \"lr\": 0.00005, "
            "\"holes\": 0.5, \"packet_loss\": 0.5, \"decoder_only\": true}%s",
            (int)(last - text), text,
            last + strlen("{\"epochs\": 1, \"lr\": 0.00005}"));
    tu_write_file(cfg, four, strlen(four));
    free(four);
    free(text);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "resuming after phase 3 of 4"));
    assert_non_null(strstr(out, "phase 4 epoch  1/1"));
    assert_non_null(strstr(out, "4 phases"));
    char *after = tu_read_file(weights, NULL);
    static const char *const same[] = {"enc.conv1.weight", "enc.conv3.bias",
                                       "sal.conv5.weight", "ln.qmax", "ln.codelen",
                                       "ln.prior", "ln.sidefreq"};
    char h0[32], h1[32];
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (strcmp(meta_hash(before, same[i], h0), meta_hash(after, same[i], h1)))
            fail_msg("%s changed in a decoder-only phase", same[i]);
    assert_string_not_equal(meta_hash(before, "dec.conv1.weight", h0),
                            meta_hash(after, "dec.conv1.weight", h1));
    free(before);
    free(after);
    tu_rmtree(dir);
}

/* The joint fine-tune (the paper's phase 3, models/limitnet-fmnist-joint.json
 * cut short): the pair's classifier is a classifier file the task loads,
 * with weights of its own; the file it started from is untouched; a
 * resume past the joint phase takes the pair's classifier up again and
 * leaves it bit for bit. */
static void test_train_joint(void **state)
{
    (void)state;
    char dir[64], cfg[128], cls[192], cmd[512], out[8192];
    tu_tempdir(dir);
    snprintf(cfg, sizeof cfg, "%s/joint.json", dir);
    small_config_from(SOURCE_DIR "/models/limitnet-fmnist-joint.json", dir, cfg);
    snprintf(cls, sizeof cls, "%s/limitnet-fmnist-joint-classifier.safetensors", dir);
    size_t n0 = 0;
    char *clean = tu_read_file(SOURCE_DIR "/models/fmnist-classifier.safetensors", &n0);
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "phase 4 epoch  1/1"));
    task_classifier *tc;
    util_err err;
    if (task_classifier_load(cls, &tc, &err))
        fail_msg("%s", err.msg);
    task_classifier_free(tc);
    size_t n1 = 0, n2 = 0;
    char *joint = tu_read_file(cls, &n1);
    char h0[32], h1[32];
    assert_string_not_equal(meta_hash(clean, "fc2.weight", h0),
                            meta_hash(joint, "fc2.weight", h1));
    char *again = tu_read_file(SOURCE_DIR "/models/fmnist-classifier.safetensors", &n2);
    assert_true(n0 == n2 && memcmp(clean, again, n0) == 0);
    free(again);
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s --resume", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "resuming after phase 4 of 4"));
    again = tu_read_file(cls, &n2);
    assert_true(n1 == n2 && memcmp(joint, again, n1) == 0);
    free(again);
    free(joint);
    free(clean);
    /* joint needs a classifier to train and a place for it */
    snprintf(cmd, sizeof cmd, "sed -i '/\"classifier_output\"/d' %s", cfg);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s --check", LIMITNET_BIN, cfg);
    assert_int_equal(tu_run(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "classifier_output"));
    tu_rmtree(dir);
}

/* The cloud classifier's normalisation is checked as the task checks it
 * (atof took "abc" as 0; 1e300 became infinity as a float). */
static void test_train_bad_classifier(void **state)
{
    (void)state;
    char dir[64], cfg[128], cls[128], cmd[512], out[8192];
    tu_tempdir(dir);
    snprintf(cfg, sizeof cfg, "%s/small.json", dir);
    snprintf(cls, sizeof cls, "%s/cls.safetensors", dir);
    small_config(dir, cfg);
    char from[160], to[160];
    snprintf(from, sizeof from, "\"models/fmnist-classifier.safetensors\"");
    snprintf(to, sizeof to, "\"%s\"", cls);
    size_t len = 0;
    char *text = tu_read_file(cfg, &len);
    char *at = strstr(text, from);
    assert_non_null(at);
    char *edited = malloc(len + strlen(to));
    sprintf(edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    tu_write_file(cfg, edited, strlen(edited));
    free(edited);
    free(text);
    static const struct {
        const char *from, *to, *key;
    } cases[] = {
        {"\"limitnet.std\":\"0.353\"", "\"limitnet.std\":\"1e300\"", "limitnet.std"},
        {"\"limitnet.mean\":\"0.286\"", "\"limitnet.mean\":\"abc\"", "limitnet.mean"},
    };
    snprintf(cmd, sizeof cmd, "%s train limitnet --config %s", LIMITNET_BIN, cfg);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_st_replace(CLASSIFIER, cls, cases[i].from, cases[i].to);
        int rc = tu_run(cmd, out, sizeof out);
        if (rc != 1 || !strstr(out, cls) || !strstr(out, cases[i].key))
            fail_msg("case %zu: exit %d, %s", i, rc, out);
    }
    tu_rmtree(dir);
}

static void test_train_bad_configs(void **state)
{
    (void)state;
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"task\": \"limitnet\", \"color\": 1}", "unknown key"},
        {"{\"task\": \"classifier\"}", ""},
        {"{\"task\": \"limitnet\", \"classifier\": \"c\", \"output\": \"o\", "
         "\"checkpoint\": \"k\", \"phases\": [{\"epochs\": 1}]}", "phases: expected a list of 3"},
        {"{\"task\": \"limitnet\", \"classifier\": \"c\", \"output\": \"o\", "
         "\"checkpoint\": \"k\", \"bits\": 9, \"phases\": []}", "bits"},
        {"{\"task\": \"limitnet\", \"classifier\": \"c\", \"output\": \"o\", "
         "\"checkpoint\": \"k\", \"phases\": [{}, {}, {}, {\"packet_loss\": 1.5}]}",
         "phases[3].packet_loss"},
        {"{\"task\": \"limitnet\"", "JSON"},
    };
    char dir[64], path[128], cmd[512], out[4096];
    tu_tempdir(dir);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_file(path, cases[i].json, strlen(cases[i].json));
        snprintf(cmd, sizeof cmd, "%s train limitnet --config %s", LIMITNET_BIN, path);
        int rc = tu_run(cmd, out, sizeof out);
        if (rc != 2 || !strstr(out, "bad.json") || !strstr(out, cases[i].msg))
            fail_msg("case %zu: exit %d, %s", i, rc, out);
    }
    tu_rmtree(dir);
}
/* The committed model on real test items: all packets give back nearly the
 * clean accuracy, and losing the side packet still leaves an image the
 * classifier mostly gets right. */
static void test_committed_model(void **state)
{
    (void)state;
    util_err err;
    data_set *ds;
    task_classifier *cls;
    assert_int_equal(data_open("fashion-mnist", "test", NULL, 0, 200, &ds, &err), 0);
    assert_int_equal(task_classifier_load(CLASSIFIER, &cls, &err), 0);
    codec *c = open_codec("limitnet", COMMITTED, 1.0);
    util_image recon[3];
    for (int k = 0; k < 3; k++)
        assert_int_equal(util_image_alloc(&recon[k], W, H, 1, &err), 0);
    int hits = 0, hits_noside = 0, hits_mid = 0, hits_copy = 0;
    util_params p;
    codec *twice;
    util_params_init(&p);
    assert_int_equal(util_params_set_str(&p, "weights", COMMITTED, &err), 0);
    assert_int_equal(util_params_set_num(&p, "first_copies", 2, &err), 0);
    assert_int_equal(codec_create("limitnet", &p, &twice, &err), 0);
    assert_string_equal(codec_label(twice), "limitnet-twice-k1");
    codec_stream st2;
    codec_stream_init(&st2);
    codec_stream st;
    codec_stream_init(&st);
    for (size_t i = 0; i < data_count(ds); i++) {
        util_image img;
        int label, pred[3];
        data_get(ds, i, &img, &label);
        assert_int_equal(codec_encode(c, &img, 51, &st, &err), 0);
        uint8_t arrived[64];
        memset(arrived, 1, sizeof arrived);
        assert_int_equal(codec_decode(c, &st, arrived, &recon[0], &err), 0);
        arrived[0] = 0;
        assert_int_equal(codec_decode(c, &st, arrived, &recon[1], &err), 0);
        arrived[0] = 1;
        arrived[2] = 0;
        assert_int_equal(codec_decode(c, &st, arrived, &recon[2], &err), 0);
        assert_int_equal(task_classifier_predict(cls, recon, 3, pred, &err), 0);
        hits += pred[0] == label;
        hits_noside += pred[1] == label;
        hits_mid += pred[2] == label;
        /* Twice-sent first packet: the first copy lost, the second arrives. */
        assert_int_equal(codec_encode(twice, &img, 51, &st2, &err), 0);
        assert_true(st2.n == st.n + 1);
        assert_memory_equal(st2.pkt[0].data, st2.pkt[1].data, st2.pkt[0].len);
        memset(arrived, 1, sizeof arrived);
        arrived[0] = 0;
        assert_int_equal(codec_decode(twice, &st2, arrived, &recon[0], &err), 0);
        assert_int_equal(task_classifier_predict(cls, recon, 1, pred, &err), 0);
        hits_copy += pred[0] == label;
    }
    print_message("committed model, 200 test items: %d%% all packets, %d%% without "
                  "the first, %d%% without the third, %d%% without the first of two first "
                  "copies\n", hits / 2, hits_noside / 2, hits_mid / 2, hits_copy / 2);
    /* The decoder learnt with tail drop only: without the first packet's
     * top-ranked values it is near chance (README), and a mid-stream loss
     * costs little. A second copy of the first packet restores it. */
    assert_true(hits >= 160);
    assert_true(hits_mid >= 150);
    assert_true(hits_copy >= 160);
    codec_stream_free(&st);
    codec_stream_free(&st2);
    util_image_free(&recon[0]);
    util_image_free(&recon[1]);
    util_image_free(&recon[2]);
    codec_destroy(c);
    codec_destroy(twice);
    task_classifier_free(cls);
    data_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huff_one_symbol),
        cmocka_unit_test(test_huff_all_symbols),
        cmocka_unit_test(test_huff_empty_and_invalid),
        cmocka_unit_test(test_huff_length_limit),
        cmocka_unit_test(test_arith_edges),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_side_grid),
        cmocka_unit_test_setup_teardown(test_roundtrip_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_subset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_payloads, setup, teardown),
        cmocka_unit_test(test_committed_small_payloads),
        cmocka_unit_test_setup_teardown(test_side_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_and_keep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unbounded_decoder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_weights, setup, teardown),
        cmocka_unit_test(test_committed_model),
        cmocka_unit_test(test_huge_input_meta),
        cmocka_unit_test(test_train_small),
        cmocka_unit_test(test_train_joint),
        cmocka_unit_test(test_train_bad_classifier),
        cmocka_unit_test(test_train_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
