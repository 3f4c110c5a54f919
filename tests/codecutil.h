/*
 * Codec plumbing shared by the codec tests: include after testutil.h.
 * cu_make builds a codec from "key=value" strings; cu_encode and cu_decode
 * wrap the codec calls with the checks every test wants; cu_is_flat,
 * cu_same and cu_concat look at what came out.
 */
#ifndef TESTS_CODECUTIL_H
#define TESTS_CODECUTIL_H

#include "codec/codec.h"

#define MAXPKT 4096

/* Creates a codec from "key=value" strings (numbers and booleans where
 * they parse as such). */
static inline codec *cu_make(const char *name, const char *const *kv)
{
    util_params p;
    util_err err;
    util_params_init(&p);
    for (; kv && *kv; kv++) {
        char key[64];
        const char *eq = strchr(*kv, '=');
        assert_non_null(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
        char *end;
        double v = strtod(eq + 1, &end);
        if (*end == 0 && end != eq + 1)
            assert_int_equal(util_params_set_num(&p, key, v, &err), 0);
        else if (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "false"))
            assert_int_equal(util_params_set_bool(&p, key, eq[1] == 't', &err), 0);
        else
            assert_int_equal(util_params_set_str(&p, key, eq + 1, &err), 0);
    }
    codec *c = NULL;
    if (codec_create(name, &p, &c, &err) != 0)
        fail_msg("codec_create %s: %s", name, err.msg);
    return c;
}

static inline void cu_encode(codec *c, const util_image *img, size_t payload,
                   codec_stream *s)
{
    util_err err;
    codec_stream_init(s);
    if (codec_encode(c, img, payload, s, &err) != 0)
        fail_msg("encode %s: %s", codec_label(c), err.msg);
    assert_true(s->n > 0 && s->n <= MAXPKT);
    for (size_t i = 0; i < s->n; i++)
        assert_true(s->pkt[i].len > 0 && s->pkt[i].len <= payload);
}

/* Decodes with packets whose flag is set in arrived (NULL: the first k). */
static inline void cu_decode(codec *c, const codec_stream *s, const uint8_t *arrived,
                   size_t k, util_image *out)
{
    static uint8_t flags[MAXPKT];
    assert_true(s->n <= MAXPKT);
    for (size_t i = 0; i < s->n; i++)
        flags[i] = arrived ? arrived[i] : i < k;
    util_err err;
    memset(out->px, 7, util_image_size(out));
    if (codec_decode(c, s, flags, out, &err) != 0)
        fail_msg("decode %s: %s", codec_label(c), err.msg);
}

/* True when every sample of img is v. */
static inline int cu_is_flat(const util_image *img, uint8_t v)
{
    for (size_t i = 0; i < util_image_size(img); i++)
        if (img->px[i] != v)
            return 0;
    return 1;
}

/* True when a and b (of one size) hold the same samples. */
static inline int cu_same(const util_image *a, const util_image *b)
{
    return memcmp(a->px, b->px, util_image_size(a)) == 0;
}

/* The stream's packets back to back (free it); *len their total. */
static inline uint8_t *cu_concat(const codec_stream *s, size_t *len)
{
    *len = codec_stream_bytes(s);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    size_t off = 0;
    for (size_t i = 0; i < s->n; i++) {
        memcpy(buf + off, s->pkt[i].data, s->pkt[i].len);
        off += s->pkt[i].len;
    }
    return buf;
}

#endif
