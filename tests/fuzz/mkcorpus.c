/*
 * Writes the seed corpus of every harness (tests/fuzz/targets.h). For the
 * decoders: real streams of real images, encoded with each harness's own
 * settings, whole and with a packet lost, in the records layout of
 * tests/fuzz/fuzz.h; grey settings encode Fashion-MNIST test items, RGB
 * ones cluttered test scenes. For the parsers: the shipped scenarios and
 * training configs, the example captures, small IDX, CIFAR, PNG and JPEG
 * files, small weight files and the headers of the committed ones. `make
 * fuzz-corpus` runs it into tests/fuzz/corpus/; files are named seed-*, so
 * those the fuzzer grew (named by their SHA-1) stay.
 *
 *   mkcorpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "codec/codec.h"
#include "codec/limitnet.h"
#include "data/data.h"
#include "nn/nn.h"
#include "tests/fuzz/targets.h"
#include "transport/transport.h"

#define ITEMS 2
#define PAYLOAD 51 /* EU868 LoRa at SF10, the testbed's usual packet */
#define MAXBUF (1 << 16)

static int write_file(const char *dir, const char *name, const uint8_t *buf, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(buf, 1, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    if (bad)
        fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
    return bad ? -1 : 0;
}

/* One input: byte0, then the stream's packets, packet `lost` marked lost
 * (none when out of range). */
static size_t records(uint8_t byte0, const codec_stream *st, size_t lost, uint8_t *buf)
{
    size_t at = 0;
    buf[at++] = byte0;
    for (size_t i = 0; i < st->n; i++)
        if (!fuzz_record_put(buf, MAXBUF, &at, i == lost, st->pkt[i].data, st->pkt[i].len))
            break;
    return at;
}

/* The images a setting of c channels encodes: test items or test scenes. */
static int open_images(int c, data_set **out, util_err *err)
{
    data_opts o = {.name = c == 1 ? "fashion-mnist" : "fmnist-cluttered",
                   .split = "test", .count = ITEMS, .size = 64, .seed = 7};
    return data_open_ex(&o, out, err);
}

/* Encodes ITEMS images with setting k and writes them whole and with
 * packet 1 lost; byte0 is what the harness reads as the setting. */
static int seed_setting(const char *dir, const char *target, const fuzz_setting *s,
                        uint8_t byte0, int k)
{
    util_err err = {{0}};
    data_set *ds = NULL;
    codec *c = fuzz_make_codec(s);
    codec_stream st;
    codec_stream_init(&st);
    static uint8_t buf[MAXBUF];
    int rc = open_images(s->c, &ds, &err);
    for (size_t i = 0; !rc && i < ITEMS; i++) {
        util_image img;
        int label;
        data_get(ds, i, &img, &label);
        rc = codec_encode(c, &img, PAYLOAD, &st, &err);
        for (size_t lost = 0; !rc && lost < 2; lost++) {
            char name[128];
            snprintf(name, sizeof name, "seed-%s%d-item%zu%s", target, k, i,
                     lost ? "-lost1" : "");
            rc = write_file(dir, name, buf, records(byte0, &st, lost ? 1 : SIZE_MAX, buf));
        }
    }
    if (rc && err.msg[0])
        fprintf(stderr, "mkcorpus: %s setting %d: %s\n", target, k, err.msg);
    codec_stream_free(&st);
    codec_destroy(c);
    data_free(ds);
    return rc;
}

static int subdir(const char *root, const char *name, char *dir, size_t cap)
{
    util_err err = {{0}};
    snprintf(dir, cap, "%s/%s", root, name);
    if (util_mkdirs(dir, &err)) {
        fprintf(stderr, "mkcorpus: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int seed_decoder(const char *root, const char *name, const fuzz_setting *t, size_t n)
{
    char dir[1024];
    int rc = subdir(root, name, dir, sizeof dir);
    for (size_t k = 0; !rc && k < n; k++)
        rc = seed_setting(dir, name, &t[k], (uint8_t)k, (int)k);
    return rc;
}

/* ln_stream's byte 0: model (bit 0), coder (bit 1), order (bits 2-3). */
static int seed_ln_stream(const char *root)
{
    static const fuzz_setting models[2][2] = {
        {{"limitnet", {"weights=models/limitnet-fmnist.safetensors", "keep=0.25"}, 28, 28, 1},
         {"limitnet", {"weights=models/limitnet-fmnist.safetensors", "keep=0.25",
                       "entropy=arith"}, 28, 28, 1}},
        {{"limitnet", {"weights=models/limitnet-cluttered.safetensors", "keep=0.25"}, 64, 64, 3},
         {"limitnet", {"weights=models/limitnet-cluttered.safetensors", "keep=0.25",
                       "entropy=arith"}, 64, 64, 3}},
    };
    char dir[1024];
    int rc = subdir(root, "ln_stream", dir, sizeof dir);
    for (int m = 0; !rc && m < 2; m++)
        for (int coder = 0; !rc && coder < 2; coder++)
            rc = seed_setting(dir, "ln_stream", &models[m][coder],
                              (uint8_t)(m | coder << 1 | 1 << 2), m * 2 + coder);
    return rc;
}

/* ---- the parsers' seeds ----------------------------------------------------------- */

/* The whole of a source file, or its first cap bytes (cap 0: all). */
static uint8_t *slurp(const char *rel, size_t cap, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    static uint8_t buf[1 << 20];
    *n = fread(buf, 1, cap && cap < sizeof buf ? cap : sizeof buf, f);
    fclose(f);
    return buf;
}

static int copy_seed(const char *dir, const char *name, const char *rel, size_t cap,
                     int byte0)
{
    size_t n;
    uint8_t *b = slurp(rel, cap, &n);
    if (!b)
        return -1;
    static uint8_t out[(1 << 20) + 1];
    size_t at = 0;
    if (byte0 >= 0)
        out[at++] = (uint8_t)byte0;
    memcpy(out + at, b, n);
    return write_file(dir, name, out, at + n);
}

/* A shipped scenario with the committed models swapped for the small ones
 * seed_weights writes: loading the 3.3 MB classifier for every input held
 * the scenario harness to 75 executions/s. */
static int scenario_seed(const char *dir, const char *name, const char *rel)
{
    static const char *const swap[][2] = {
        {"models/fmnist-classifier.safetensors",
         "tests/fuzz/corpus/weights/seed-tiny-classifier.safetensors"},
        {"models/limitnet-fmnist.safetensors",
         "tests/fuzz/corpus/weights/seed-tiny-limitnet.safetensors"},
        {"models/cluttered-classifier.safetensors",
         "tests/fuzz/corpus/weights/seed-tiny-classifier-rgb.safetensors"},
        {"models/limitnet-cluttered.safetensors",
         "tests/fuzz/corpus/weights/seed-tiny-limitnet-rgb.safetensors"}};
    size_t n;
    uint8_t *b = slurp(rel, 0, &n);
    if (!b)
        return -1;
    static char out[1 << 20];
    size_t at = 0;
    for (size_t i = 0; i < n && at + 128 < sizeof out;) {
        int hit = -1;
        for (int k = 0; k < 4 && hit < 0; k++)
            if (n - i >= strlen(swap[k][0]) && !memcmp(b + i, swap[k][0], strlen(swap[k][0])))
                hit = k;
        if (hit < 0) {
            out[at++] = (char)b[i++];
            continue;
        }
        at += (size_t)sprintf(out + at, "%s", swap[hit][1]);
        i += strlen(swap[hit][0]);
    }
    return write_file(dir, name, (const uint8_t *)out, at);
}

static int seed_scenarios(const char *root)
{
    static const char *const files[] = {
        "quickstart", "baselines", "cluttered_lora", "ieee802154", "lora-bursty-arq",
        "lora_sf_sweep", "loss_sweep", "ns3_lrwpan", "trace_replay-generic",
        "trace_replay-loratap", "trace_replay-semtech", "paper/fmnist_bytes",
        "paper/cluttered_bytes", NULL};
    char dir[1024], rel[256], name[128];
    int rc = subdir(root, "scenario", dir, sizeof dir);
    for (int i = 0; !rc && files[i]; i++) {
        snprintf(rel, sizeof rel, "scenarios/%s.json", files[i]);
        snprintf(name, sizeof name, "seed-%s.json", strchr(files[i], '/') ?
                 strchr(files[i], '/') + 1 : files[i]);
        rc = scenario_seed(dir, name, rel);
    }
    return rc;
}

/* The committed training configs. */
static int seed_train_configs(const char *root)
{
    static const char *const files[] = {"fmnist-classifier", "limitnet-fmnist",
                                        "cluttered-classifier", "limitnet-cluttered", NULL};
    char dir[1024], rel[256], name[128];
    int rc = subdir(root, "train_config", dir, sizeof dir);
    for (int i = 0; !rc && files[i]; i++) {
        snprintf(rel, sizeof rel, "models/%s.json", files[i]);
        snprintf(name, sizeof name, "seed-%s.json", files[i]);
        rc = copy_seed(dir, name, rel, 0, -1);
    }
    return rc;
}

/* The example captures under each option set of fuzz_trace's table that
 * reads their kind. */
static int seed_traces(const char *root)
{
    static const struct { const char *file; int byte0; } seeds[] = {
        {"generic", 0}, {"generic", 1}, {"generic", 2}, {"generic", 3},
        {"loratap", 4}, {"loratap", 5}, {"semtech", 6}, {"semtech", 7}};
    char dir[1024], rel[256], name[128];
    int rc = subdir(root, "trace", dir, sizeof dir);
    for (size_t i = 0; !rc && i < sizeof seeds / sizeof seeds[0]; i++) {
        snprintf(rel, sizeof rel, "scenarios/traces/%s.pcap", seeds[i].file);
        snprintf(name, sizeof name, "seed-%s-%d.pcap", seeds[i].file, seeds[i].byte0);
        rc = copy_seed(dir, name, rel, 0, seeds[i].byte0);
    }
    return rc;
}

/* Two small IDX files (3 images of 28x28, 3 labels), plain and gzip'd. */
static int seed_idx(const char *root)
{
    static uint8_t buf[16 + 3 * 784];
    char dir[1024], path[1200];
    int rc = subdir(root, "idx", dir, sizeof dir);
    for (int kind = 0; !rc && kind < 2; kind++) {
        static const uint8_t images[16] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28};
        static const uint8_t labels[8] = {0, 0, 8, 1, 0, 0, 0, 3};
        size_t head = kind ? 8 : 16, n = head + (kind ? 3 : 3 * 784);
        memcpy(buf, kind ? labels : images, head);
        for (size_t i = head; i < n; i++)
            buf[i] = (uint8_t)(kind ? i % 10 : i * 7);
        const char *name = kind ? "seed-labels.idx" : "seed-images.idx";
        rc = write_file(dir, name, buf, n);
        snprintf(path, sizeof path, "%s/%s.gz", dir, name);
        gzFile z = rc ? NULL : gzopen(path, "wb");
        if (!rc && (!z || gzwrite(z, buf, (unsigned)n) != (int)n || gzclose(z) != Z_OK)) {
            fprintf(stderr, "mkcorpus: %s: cannot write\n", path);
            rc = -1;
        }
    }
    return rc;
}

/* An IDX image file of four dimensions (2 RGB items of 3x2), which only
 * the idx dataset's reader takes. */
static int seed_idx_rgb(const char *root)
{
    static const uint8_t head[20] = {0, 0, 8, 4, 0, 0, 0, 2, 0, 0, 0, 2,
                                     0, 0, 0, 3, 0, 0, 0, 3};
    uint8_t buf[20 + 36];
    char dir[1024];
    memcpy(buf, head, sizeof head);
    for (size_t i = 20; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 5);
    return subdir(root, "idx", dir, sizeof dir) ||
           write_file(dir, "seed-rgb-images.idx", buf, sizeof buf);
}

/* Two records of each CIFAR kind, and a CIFAR-10 class-name file. */
static int seed_cifar(const char *root)
{
    static uint8_t buf[2 * 3074];
    static const char names[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\n"
                                "horse\nship\ntruck\n";
    char dir[1024];
    int rc = subdir(root, "cifar", dir, sizeof dir);
    for (int fine = 0; !rc && fine < 2; fine++) {
        size_t rec = fine ? 3074 : 3073;
        for (size_t i = 0; i < 2 * rec; i++)
            buf[i] = (uint8_t)(i % rec < (size_t)(1 + fine) ? i / rec + 3 : i * 11);
        rc = write_file(dir, fine ? "seed-cifar100.bin" : "seed-cifar10.bin", buf, 2 * rec);
    }
    return rc || write_file(dir, "seed-names.txt", (const uint8_t *)names,
                            sizeof names - 1);
}

/* Small PNG and JPEG files, grey and RGB: the JPEG is the jpeg codec's
 * baseline stream, whose packets are the file. */
static int seed_picture(const char *root)
{
    char dir[1024], path[1200];
    util_err err = {{0}};
    int rc = subdir(root, "picture", dir, sizeof dir);
    for (int c = 1; !rc && c <= 3; c += 2) {
        util_image img;
        util_params p;
        codec *jc = NULL;
        codec_stream st;
        codec_stream_init(&st);
        util_params_init(&p);
        rc = util_image_alloc(&img, 7, 5, c, &err);
        for (size_t i = 0; !rc && i < util_image_size(&img); i++)
            img.px[i] = (uint8_t)(i * 9);
        snprintf(path, sizeof path, "%s/seed-%s.png", dir, c == 1 ? "grey" : "rgb");
        if (!rc)
            rc = data_png_write(path, &img, &err) || codec_create("jpeg", &p, &jc, &err) ||
                 codec_encode(jc, &img, 1 << 15, &st, &err);
        static uint8_t buf[1 << 15];
        size_t n = 0;
        for (size_t k = 0; !rc && k < st.n && n + st.pkt[k].len <= sizeof buf; k++) {
            memcpy(buf + n, st.pkt[k].data, st.pkt[k].len);
            n += st.pkt[k].len;
        }
        if (!rc)
            rc = write_file(dir, c == 1 ? "seed-grey.jpg" : "seed-rgb.jpg", buf, n);
        codec_stream_free(&st);
        codec_destroy(jc);
        util_image_free(&img);
    }
    if (rc && err.msg[0])
        fprintf(stderr, "mkcorpus: picture: %s\n", err.msg);
    return rc;
}

/* A small LimitNet file with made-up but valid tables (as tests/test_limitnet.c
 * makes) and a small classifier, for c x side x side images; the headers of
 * the committed models. */
static void tiny_specs(int c, int side, char *enc, char *sal, char *dec, char *cls)
{
    int lat = side / 4;
    sprintf(enc, "{\"input\": [%d, %d, %d], \"layers\": ["
            "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 2, \"kernel\": 5, "
            "\"stride\": 4, \"pad\": 2}, {\"name\": \"r1\", \"type\": \"relu\"}]}",
            c, side, side);
    sprintf(sal, "{\"input\": [2, %d, %d], \"layers\": ["
            "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 1, \"kernel\": 1},"
            "{\"name\": \"s\", \"type\": \"sigmoid\"}]}", lat, lat);
    sprintf(dec, "{\"input\": [2, %d, %d], \"layers\": ["
            "{\"name\": \"d1\", \"type\": \"deconv2d\", \"out\": %d, \"kernel\": 4, "
            "\"stride\": 4}, {\"name\": \"s\", \"type\": \"sigmoid\"}]}", lat, lat, c);
    sprintf(cls, "{\"input\": [%d, %d, %d], \"layers\": ["
            "{\"name\": \"c1\", \"type\": \"conv2d\", \"out\": 2, \"kernel\": 3, "
            "\"stride\": 4, \"pad\": 1}, {\"name\": \"bn\", \"type\": \"batchnorm\"},"
            "{\"name\": \"r\", \"type\": \"relu\"}, {\"name\": \"g\", \"type\": \"gap\"},"
            "{\"name\": \"fc\", \"type\": \"linear\", \"out\": 10}]}", c, side, side);
}

static int tiny_limitnet(const char *path, int c, int side, util_err *err)
{
    char enc[512], sal[512], dec[512], cls[1024];
    tiny_specs(c, side, enc, sal, dec, cls);
    codec_ln *m = NULL;
    int rc = codec_ln_create(enc, sal, dec, 2, 3, &m, err);
    if (rc)
        return rc;
    util_rng rng;
    util_rng_seed(&rng, 7);
    nn_model_init(codec_ln_encoder(m), &rng);
    nn_model_init(codec_ln_saliency(m), &rng);
    nn_model_init(codec_ln_decoder(m), &rng);
    codec_ln_geom g = codec_ln_geometry(m);
    uint64_t counts[32];
    for (int j = 0; !rc && j < g.c; j++) {
        codec_ln_qmin(m)[j] = 0;
        codec_ln_qmax(m)[j] = 1;
        for (int q = 0; q < g.levels; q++)
            counts[q] = (uint64_t)(1 + q * (j + 1));
        rc = codec_ln_huff_lengths(counts, g.levels, CODEC_LN_MAX_CODE,
                                   codec_ln_codelen(m) + j * g.levels, err) ||
             codec_ln_freq_scale(counts, g.levels, codec_ln_freqs(m) + j * g.levels, err);
    }
    for (int v = 0; v < 32; v++)
        counts[v] = (uint64_t)(1 + v);
    for (int k = 0; k < g.grid * g.grid; k++)
        codec_ln_prior(m)[k] = (uint8_t)(k * 9 % 32);
    if (!rc)
        rc = codec_ln_huff_lengths(counts, 32, CODEC_LN_MAX_CODE, codec_ln_side_codelen(m), err) ||
             codec_ln_freq_scale(counts, 32, codec_ln_side_freqs(m), err) ||
             codec_ln_check_tables(m, err) || codec_ln_save(m, path, NULL, 0, err);
    codec_ln_free(m);
    return rc;
}

static int tiny_classifier(const char *path, int c, int side, util_err *err)
{
    char enc[512], sal[512], dec[512], cls[1024];
    tiny_specs(c, side, enc, sal, dec, cls);
    nn_model *m = NULL;
    int rc = nn_model_from_json(cls, &m, err);
    if (rc)
        return rc;
    util_rng rng;
    util_rng_seed(&rng, 7);
    nn_model_init(m, &rng);
    const char *const meta[] = {"limitnet.task", "classifier", "limitnet.model", cls,
                                "limitnet.mean", "0.286", "limitnet.std", "0.353"};
    rc = nn_model_save(m, path, meta, 4, err);
    nn_model_destroy(m);
    return rc;
}

/* A committed weight file's 8-byte length and JSON header, and a little
 * of the data after it. */
static int weights_head(const char *dir, const char *name, const char *rel)
{
    size_t n;
    uint8_t *b = slurp(rel, 8, &n);
    if (!b || n < 8)
        return -1;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    return hlen > 12000 ? -1 : copy_seed(dir, name, rel, 8 + (size_t)hlen + 64, -1);
}

static int seed_weights(const char *root)
{
    char dir[1024], path[1200];
    util_err err = {{0}};
    int rc = subdir(root, "weights", dir, sizeof dir);
    for (int rgb = 0; !rc && rgb < 2; rgb++) {
        const char *tag = rgb ? "-rgb" : "";
        snprintf(path, sizeof path, "%s/seed-tiny-limitnet%s.safetensors", dir, tag);
        if (tiny_limitnet(path, rgb ? 3 : 1, rgb ? 64 : 28, &err))
            rc = -1;
        snprintf(path, sizeof path, "%s/seed-tiny-classifier%s.safetensors", dir, tag);
        if (!rc && tiny_classifier(path, rgb ? 3 : 1, rgb ? 64 : 28, &err))
            rc = -1;
    }
    if (rc && err.msg[0])
        fprintf(stderr, "mkcorpus: %s\n", err.msg);
    static const char *const models[] = {"limitnet-fmnist", "limitnet-cluttered",
                                         "fmnist-classifier", "cluttered-classifier", NULL};
    for (int i = 0; !rc && models[i]; i++) {
        char rel[256], name[128];
        snprintf(rel, sizeof rel, "models/%s.safetensors", models[i]);
        snprintf(name, sizeof name, "seed-%s-head.safetensors", models[i]);
        rc = weights_head(dir, name, rel);
    }
    return rc;
}

/* The FEC receiver's: a JPEG stream of each test item, framed as the
 * transport layer sends it (redundancy 0.5; then also the first two
 * packets twice), whole, with data fragment 2 lost (the parity recovers
 * it), and with every third frame lost. Byte 0: the codec packets. */
static int seed_transport(const char *root)
{
    util_err err = {{0}};
    data_set *ds = NULL;
    static const fuzz_setting set = {"jpeg", {"mode=abbreviated", "quality=50"}, 28, 28, 1};
    char dir[1024];
    if (subdir(root, "transport", dir, sizeof dir))
        return -1;
    codec *c = fuzz_make_codec(&set);
    uint8_t *buf = malloc(MAXBUF);
    codec_stream st;
    codec_stream_init(&st);
    transport_tx tx;
    transport_tx_init(&tx);
    int rc = !buf || open_images(1, &ds, &err) ? -1 : 0;
    for (size_t i = 0; !rc && i < ITEMS * 2; i++) {
        util_image img;
        data_get(ds, i / 2, &img, NULL);
        transport_cfg cfg = {i % 2 ? 2 : 0, i % 2 ? 2 : 0, 0.5, 0, 0};
        transport_packet pkt[64];
        rc = codec_encode(c, &img, PAYLOAD - transport_cfg_header(&cfg), &st, &err) ||
             st.n > 64 ? -1 : 0;
        for (size_t j = 0; !rc && j < st.n; j++)
            pkt[j] = (transport_packet){st.pkt[j].data, st.pkt[j].len, 0};
        if (!rc)
            rc = transport_send(&cfg, pkt, st.n, &tx, &err);
        for (int how = 0; !rc && how < 3; how++) {
            size_t at = 0;
            buf[at++] = (uint8_t)st.n;
            for (size_t j = 0; j < tx.n; j++) {
                int lost = how == 1 ? tx.air[j].index == 2 : how == 2 && j % 3 == 2;
                fuzz_record_put(buf, MAXBUF, &at, lost, tx.data[j], tx.len[j]);
            }
            static const char *const hows[] = {"whole", "lost2", "lost-thirds"};
            char name[96];
            snprintf(name, sizeof name, "seed-jpeg-item%zu%s-%s.bin", i / 2,
                     i % 2 ? "-repeat" : "", hows[how]);
            rc = write_file(dir, name, buf, at);
        }
    }
    if (rc && err.msg[0])
        fprintf(stderr, "mkcorpus: transport: %s\n", err.msg);
    transport_tx_free(&tx);
    codec_stream_free(&st);
    codec_destroy(c);
    data_free(ds);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkcorpus DIR\n");
        return 2;
    }
    int rc = 0;
#define SEED_DECODER(name)                                                 \
    if (!rc)                                                               \
        rc = seed_decoder(argv[1], #name, fuzz_##name##_settings, fuzz_##name##_nsettings);
    FUZZ_DECODERS(SEED_DECODER)
    if (!rc)
        rc = seed_ln_stream(argv[1]);
    if (!rc)
        rc = seed_weights(argv[1]) || seed_scenarios(argv[1]) || seed_traces(argv[1]) ||
             seed_idx(argv[1]) || seed_idx_rgb(argv[1]) || seed_cifar(argv[1]) ||
             seed_picture(argv[1]) || seed_train_configs(argv[1]) ||
             seed_transport(argv[1]);
    return rc ? 1 : 0;
}
