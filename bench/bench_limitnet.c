/* LimitNet on Fashion-MNIST test items: encode (device side: encoder,
 * saliency head, quantiser, Huffman packets) and decode (cloud side:
 * unpacking and the decoder network) per image, as ratios against
 * abbreviated JPEG at quality 10 measured in the same run, and the mean
 * bytes and bits per sent value at a few keep-fractions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "data/data.h"

#define NITEMS 500
#define PAYLOAD 51
#define WEIGHTS "models/limitnet-fmnist.safetensors"

static int die(const util_err *err)
{
    fprintf(stderr, "bench_limitnet: %s\n", err->msg);
    return 1;
}

static int make(const char *name, double keep, codec **c, util_err *err)
{
    util_params p;
    util_params_init(&p);
    if (strcmp(name, "jpeg") == 0) {
        if (util_params_set_str(&p, "mode", "abbreviated", err) ||
            util_params_set_num(&p, "quality", 10, err))
            return -1;
    } else if (util_params_set_str(&p, "weights", WEIGHTS, err) ||
               util_params_set_num(&p, "keep", keep, err)) {
        return -1;
    }
    return codec_create(name, &p, c, err);
}

typedef struct timing {
    double enc, dec, bytes; /* images per second; mean bytes */
} timing;

static int run(const char *name, double keep, const data_set *ds, timing *t,
               util_err *err)
{
    codec *c;
    if (make(name, keep, &c, err))
        return -1;
    size_t n = data_count(ds);
    codec_stream *s = calloc(n, sizeof *s);
    util_image out;
    uint8_t all[256];
    memset(all, 1, sizeof all);
    int rc = s ? util_image_alloc(&out, 28, 28, 1, err) : util_errf(err, "out of memory");
    double t0 = util_now(), bytes = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        util_image img;
        int label;
        data_get(ds, i, &img, &label);
        rc = codec_encode(c, &img, PAYLOAD, &s[i], err);
        bytes += (double)codec_stream_bytes(&s[i]);
    }
    double t1 = util_now();
    for (size_t i = 0; !rc && i < n; i++)
        rc = codec_decode(c, &s[i], all, &out, err);
    double t2 = util_now();
    t->enc = (double)n / (t1 - t0);
    t->dec = (double)n / (t2 - t1);
    t->bytes = bytes / (double)n;
    for (size_t i = 0; s && i < n; i++)
        codec_stream_free(&s[i]);
    free(s);
    if (!rc)
        util_image_free(&out);
    codec_destroy(c);
    return rc;
}

int main(void)
{
    util_err err;
    data_set *ds;
    if (data_open("fashion-mnist", "test", NULL, 0, NITEMS, &ds, &err))
        return die(&err);
    timing jp, ln, ns;
    if (run("jpeg", 1, ds, &jp, &err) || run("limitnet", 1, ds, &ln, &err) ||
        run("limitnet-nosal", 1, ds, &ns, &err))
        return die(&err);
    printf("%d test items, %d-byte payloads; baseline: abbreviated JPEG q10 "
           "(%.1f B), %.0f img/s encode, %.0f img/s decode\n",
           NITEMS, PAYLOAD, jp.bytes, jp.enc, jp.dec);
    printf("limitnet k1        %6.1f B  encode %7.0f img/s (x%.3f)  decode %7.0f img/s (x%.3f)\n",
           ln.bytes, ln.enc, ln.enc / jp.enc, ln.dec, ln.dec / jp.dec);
    printf("limitnet-nosal k1  %6.1f B  encode %7.0f img/s (x%.3f)  decode %7.0f img/s (x%.3f)\n",
           ns.bytes, ns.enc, ns.enc / jp.enc, ns.dec, ns.dec / jp.dec);
    static const double keeps[] = {0.05, 0.1, 0.25, 0.5};
    for (size_t k = 0; k < sizeof keeps / sizeof keeps[0]; k++) {
        timing t;
        if (run("limitnet", keeps[k], ds, &t, &err))
            return die(&err);
        /* 588 latent values; 3-byte headers and the 10-byte side grid
         * included, so this is what the radio pays per value. */
        printf("limitnet k%-5g     %6.1f B  %.2f bits per sent value, all overheads included\n",
               keeps[k], t.bytes, 8 * t.bytes / (keeps[k] * 588));
    }
    data_free(ds);
    return 0;
}
