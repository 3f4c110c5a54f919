/* JPEG modes, JPEG 2000 and WebP on 28x28 images: bytes and PSNR at a few
 * settings, and encode/decode speed as ratios against JPEG baseline mode
 * in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "data/data.h"
#include "tasks/task.h"

#define SIDE 28
#define NITEMS 200

static const char *const modes[] = { "baseline", "progressive", "abbreviated" };
#define NMODES 3

static int die(const util_err *err)
{
    fprintf(stderr, "bench_codec: %s\n", err->msg);
    return 1;
}

static void make_blob(util_image *img)
{
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double r2 = (x - 12.0) * (x - 12.0) + (y - 14.0) * (y - 14.0);
            img->px[y * SIDE + x] = (uint8_t)lround(20 + 200 * exp(-r2 / 94.0));
        }
}

static int make(const char *mode, int q, int restart, codec **c, util_err *err)
{
    util_params p;
    util_params_init(&p);
    if (util_params_set_str(&p, "mode", mode, err) ||
        util_params_set_num(&p, "quality", q, err) ||
        util_params_set_num(&p, "restart", restart, err))
        return -1;
    return codec_create("jpeg", &p, c, err);
}

/* Mean bytes and PSNR of one setting over n images. */
static int measure(const char *mode, int q, int restart, const util_image *imgs,
                   size_t n, double *bytes, double *psnr, util_err *err)
{
    codec *c;
    if (make(mode, q, restart, &c, err))
        return -1;
    codec_stream s;
    codec_stream_init(&s);
    util_image out;
    uint8_t all[4096];
    memset(all, 1, sizeof all);
    int rc = util_image_alloc(&out, imgs[0].w, imgs[0].h, imgs[0].c, err);
    *bytes = *psnr = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = codec_encode(c, &imgs[i], 4096, &s, err);
        if (rc == 0)
            rc = codec_decode(c, &s, all, &out, err);
        *bytes += (double)codec_stream_bytes(&s) / (double)n;
        *psnr += task_psnr(&imgs[i], &out) / (double)n;
    }
    util_image_free(&out);
    codec_stream_free(&s);
    codec_destroy(c);
    return rc;
}

static int size_table(const char *what, const util_image *imgs, size_t n,
                      util_err *err)
{
    static const int qs[] = { 10, 30, 60 };
    printf("%s: bytes (PSNR dB) with all packets\n", what);
    printf("  %-18s %16s %16s %16s\n", "mode", "q10", "q30", "q60");
    for (int m = 0; m < NMODES; m++)
        for (int r = 0; r <= 1; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s%s", modes[m], r ? " r1" : "");
            printf("  %-18s", name);
            for (int i = 0; i < 3; i++) {
                double b, p;
                if (measure(modes[m], qs[i], r, imgs, n, &b, &p, err))
                    return -1;
                printf(" %8.1f (%5.2f)", b, p);
            }
            printf("\n");
        }
    return 0;
}

/* Images per second for encoding and for decoding every packet. */
static int speed_of(codec *c, const util_image *imgs, size_t n, double *enc,
                    double *dec, util_err *err)
{
    codec_stream s;
    codec_stream_init(&s);
    util_image out;
    uint8_t all[4096];
    memset(all, 1, sizeof all);
    int rc = util_image_alloc(&out, SIDE, SIDE, 1, err);
    const int reps = 20;
    double te = 0, td = 0;
    for (int r = 0; rc == 0 && r < reps; r++)
        for (size_t i = 0; rc == 0 && i < n; i++) {
            double t0 = util_now();
            rc = codec_encode(c, &imgs[i], 51, &s, err);
            double t1 = util_now();
            if (rc == 0)
                rc = codec_decode(c, &s, all, &out, err);
            te += t1 - t0;
            td += util_now() - t1;
        }
    *enc = reps * (double)n / te;
    *dec = reps * (double)n / td;
    util_image_free(&out);
    codec_stream_free(&s);
    return rc;
}

static int speed(const char *mode, const util_image *imgs, size_t n,
                 double *enc, double *dec, util_err *err)
{
    codec *c;
    if (make(mode, 30, 0, &c, err))
        return -1;
    int rc = speed_of(c, imgs, n, enc, dec, err);
    codec_destroy(c);
    return rc;
}

/* The other baselines, by name and "key=value" parameters. */
typedef struct setting {
    const char *name;
    const char *kv[5];
} setting;

static const setting others[] = {
    { "j2k", { "bytes=150", NULL } },
    { "j2k", { "bytes=200", NULL } },
    { "j2k", { "bytes=300", NULL } },
    { "j2k", { "bytes=100", "header=none", NULL } },
    { "j2k", { "bytes=150", "header=none", NULL } },
    { "j2k", { "bytes=200", "header=none", NULL } },
    { "j2k", { "bytes=300", "header=none", NULL } },
    { "j2k", { "levels=0", "bytes=150", "header=none", NULL } },
    { "j2k", { "levels=0", "bytes=300", "header=none", NULL } },
    { "j2k", { "mode=resolution", "layers=1", "bytes=200", "header=none", NULL } },
    { "webp", { "quality=5", NULL } },
    { "webp", { "quality=10", NULL } },
    { "webp", { "quality=30", NULL } },
    { "webp", { "quality=60", NULL } },
    { "webp", { "quality=10", "header=none", NULL } },
    { "webp", { "quality=30", "header=none", NULL } },
};
#define NOTHERS (sizeof others / sizeof others[0])

static int make_setting(const setting *st, codec **c, util_err *err)
{
    util_params p;
    util_params_init(&p);
    for (const char *const *kv = st->kv; *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
        char *end;
        double v = strtod(eq + 1, &end);
        if ((*end == 0 ? util_params_set_num(&p, key, v, err)
                       : util_params_set_str(&p, key, eq + 1, err)) != 0)
            return -1;
    }
    return codec_create(st->name, &p, c, err);
}

/* Mean bytes and PSNR of the other baselines with all packets. */
static int others_table(const char *what, const util_image *imgs, size_t n,
                        util_err *err)
{
    printf("%s: J2K and WebP, bytes (PSNR dB) with all packets\n", what);
    codec_stream s;
    codec_stream_init(&s);
    util_image out;
    uint8_t all[4096];
    memset(all, 1, sizeof all);
    if (util_image_alloc(&out, imgs[0].w, imgs[0].h, imgs[0].c, err))
        return -1;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < NOTHERS; k++) {
        codec *c;
        if ((rc = make_setting(&others[k], &c, err)) != 0)
            break;
        double bytes = 0, q = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = codec_encode(c, &imgs[i], 4096, &s, err);
            if (rc == 0)
                rc = codec_decode(c, &s, all, &out, err);
            bytes += (double)codec_stream_bytes(&s) / (double)n;
            q += task_psnr(&imgs[i], &out) / (double)n;
        }
        printf("  %-32s %8.1f (%5.2f)\n", codec_label(c), bytes, q);
        codec_destroy(c);
    }
    util_image_free(&out);
    codec_stream_free(&s);
    return rc;
}

static int speed_table(const util_image *imgs, size_t n, util_err *err)
{
    double enc0 = 0, dec0 = 0;
    printf("speed at q30, payload 51 (ratios against baseline)\n");
    for (int m = 0; m < NMODES; m++) {
        double enc, dec;
        if (speed(modes[m], imgs, n, &enc, &dec, err))
            return -1;
        if (m == 0) {
            enc0 = enc;
            dec0 = dec;
        }
        printf("  %-12s encode %8.0f img/s (x%.2f)  decode %8.0f img/s (x%.2f)\n",
               modes[m], enc, enc / enc0, dec, dec / dec0);
    }
    /* J2K at about JPEG q30's size, WebP at q30. */
    static const setting fast[] = {
        { "j2k", { "bytes=300", NULL } },
        { "j2k", { "bytes=200", "header=none", NULL } },
        { "webp", { "quality=30", NULL } },
    };
    for (size_t k = 0; k < sizeof fast / sizeof fast[0]; k++) {
        codec *c;
        double enc, dec;
        if (make_setting(&fast[k], &c, err))
            return -1;
        int rc = speed_of(c, imgs, n, &enc, &dec, err);
        if (rc == 0)
            printf("  %-24s encode %8.0f img/s (x%.2f)  decode %8.0f img/s "
                   "(x%.2f)\n", codec_label(c), enc, enc / enc0, dec,
                   dec / dec0);
        codec_destroy(c);
        if (rc)
            return -1;
    }
    return 0;
}

/* The first NITEMS test items, copied; 0 when the dataset is not there. */
static size_t load_fmnist(util_image *imgs, util_err *err)
{
    data_set *ds;
    if (data_open("fashion-mnist", "test", NULL, 0, NITEMS, &ds, err))
        return 0;
    size_t n = data_count(ds);
    for (size_t i = 0; i < n; i++) {
        util_image view;
        int label;
        data_get(ds, i, &view, &label);
        if (util_image_alloc(&imgs[i], view.w, view.h, view.c, err)) {
            n = i;
            break;
        }
        memcpy(imgs[i].px, view.px, util_image_size(&view));
    }
    data_free(ds);
    return n;
}

int main(void)
{
    util_err err;
    util_image blob;
    if (util_image_alloc(&blob, SIDE, SIDE, 1, &err))
        return die(&err);
    make_blob(&blob);
    if (size_table("28x28 grey blob", &blob, 1, &err))
        return die(&err);

    static util_image items[NITEMS];
    size_t n = load_fmnist(items, &err);
    if (n == 0)
        printf("Fashion-MNIST not available (%s): blob only\n", err.msg);
    else if (size_table("Fashion-MNIST test items 0..199, mean", items, n, &err) ||
             others_table("Fashion-MNIST test items 0..199, mean", items, n, &err))
        return die(&err);

    int rc = speed_table(n ? items : &blob, n ? n : 1, &err) ? die(&err) : 0;
    for (size_t i = 0; i < n; i++)
        util_image_free(&items[i]);
    util_image_free(&blob);
    return rc;
}
