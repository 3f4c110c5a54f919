/* The codec interface: the registry, argument checks shared by every codec,
 * and packet streams. */
#include "codec/codec_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per codec. X(id, name) names codec_<id>_vtable,
 * whose .name must be name (the tests create every listed codec by name). */
#define CODEC_LIST(X) \
    X(jpeg, "jpeg") \
    X(j2k, "j2k") \
    X(webp, "webp") \
    X(limitnet, "limitnet") \
    X(limitnet_nosal, "limitnet-nosal")

#define AS_VTABLE(id, name) &codec_##id##_vtable,
#define AS_NAME(id, name) name,

static const codec_vtable *const registry[] = { CODEC_LIST(AS_VTABLE) };
static const char *const names[] = { CODEC_LIST(AS_NAME) NULL };

#define NCODECS (sizeof registry / sizeof registry[0])

#define LABEL_LEN 64

struct codec {
    const codec_vtable *vt;
    void *state;
    char label[LABEL_LEN];
};

static const codec_vtable *lookup(const char *name)
{
    for (size_t i = 0; i < NCODECS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

static int unknown_codec(const char *name, util_err *err)
{
    char list[256];
    util_list_text(list, sizeof list, names);
    return util_errf(err, "unknown codec \"%s\" (known: %s)", name, list);
}

int codec_create(const char *name, util_params *params, codec **out,
                 util_err *err)
{
    *out = NULL;
    const codec_vtable *vt = name ? lookup(name) : NULL;
    if (!vt)
        return unknown_codec(name ? name : "(null)", err);
    util_params empty;
    if (!params) {
        util_params_init(&empty);
        params = &empty;
    }
    codec *c = calloc(1, sizeof *c);
    if (!c)
        return util_errf(err, "out of memory for codec \"%s\"", name);
    c->vt = vt;
    if (vt->create(params, &c->state, c->label, sizeof c->label, err) != 0) {
        free(c);
        return -1;
    }
    if (util_params_check_used(params, err) != 0) {
        codec_destroy(c);
        return -1;
    }
    *out = c;
    return 0;
}

void codec_destroy(codec *c)
{
    if (!c)
        return;
    c->vt->destroy(c->state);
    free(c);
}

const char *codec_label(const codec *c)
{
    return c->label;
}

size_t codec_min_payload(const codec *c)
{
    return c->vt->min_payload ? c->vt->min_payload(c->state) : 1;
}

int codec_encode(codec *c, const util_image *img, size_t payload,
                 codec_stream *out, util_err *err)
{
    codec_stream_clear(out);
    if (!img || !img->px || img->w <= 0 || img->h <= 0 || img->c <= 0)
        return util_errf(err, "%s: encode needs an allocated image", c->label);
    if (payload == 0)
        return util_errf(err, "%s: payload size must be positive", c->label);
    size_t least = codec_min_payload(c);
    if (payload < least)
        return util_errf(err, "%s: a %zu-byte payload is below the %zu bytes this "
                         "setting needs a packet", c->label, payload, least);
    if (c->vt->encode(c->state, img, payload, out, err) != 0) {
        codec_stream_clear(out);
        return -1;
    }
    return 0;
}

/* Arrived packets are read, so they must have their bytes; missing ones are
 * never touched, so their data may be anything. */
static int check_stream(const codec *c, const codec_stream *s,
                        const uint8_t *arrived, util_err *err)
{
    if (!s)
        return util_errf(err, "%s: decode needs a stream", c->label);
    if (s->n > 0 && (!s->pkt || !arrived))
        return util_errf(err, "%s: decode needs packets and arrival flags",
                         c->label);
    for (size_t i = 0; i < s->n; i++)
        if (arrived[i] && s->pkt[i].len > 0 && !s->pkt[i].data)
            return util_errf(err, "%s: packet %zu arrived without data",
                             c->label, i);
    return 0;
}

int codec_decode(codec *c, const codec_stream *stream, const uint8_t *arrived,
                 util_image *out, util_err *err)
{
    if (!out || !out->px || out->w <= 0 || out->h <= 0 || out->c <= 0)
        return util_errf(err, "%s: decode needs an allocated output image",
                         c->label);
    if (check_stream(c, stream, arrived, err) != 0)
        return -1;
    return c->vt->decode(c->state, stream, arrived, out, err);
}

const char *const *codec_names(void)
{
    return names;
}

/* ---- streams ---------------------------------------------------------------- */

void codec_stream_init(codec_stream *s)
{
    s->pkt = NULL;
    s->n = 0;
    s->cap = 0;
}

void codec_stream_free(codec_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->pkt[i].data);
    free(s->pkt);
    codec_stream_init(s);
}

/* Packet buffers beyond n stay allocated, so that re-encoding into the same
 * stream reuses them (push reallocates them to size). */
void codec_stream_clear(codec_stream *s)
{
    s->n = 0;
}

static int grow(codec_stream *s, util_err *err)
{
    size_t cap = s->cap ? 2 * s->cap : 16;
    codec_packet *p = realloc(s->pkt, cap * sizeof *p);
    if (!p)
        return util_errf(err, "out of memory for %zu packets", cap);
    memset(p + s->cap, 0, (cap - s->cap) * sizeof *p);
    s->pkt = p;
    s->cap = cap;
    return 0;
}

int codec_stream_push(codec_stream *s, const uint8_t *data, size_t len,
                      util_err *err)
{
    if (s->n == s->cap && grow(s, err) != 0)
        return -1;
    codec_packet *p = &s->pkt[s->n];
    /* At least one byte: realloc(ptr, 0) may free and return NULL. */
    uint8_t *buf = realloc(p->data, len ? len : 1);
    if (!buf)
        return util_errf(err, "out of memory for a %zu-byte packet", len);
    if (len)
        memcpy(buf, data, len);
    p->data = buf;
    p->len = len;
    p->priority = 0;
    s->n++;
    return 0;
}

int codec_stream_split(codec_stream *s, const uint8_t *buf, size_t len,
                       size_t payload, util_err *err)
{
    if (payload == 0)
        return util_errf(err, "payload size must be positive");
    for (size_t off = 0; off < len; off += payload) {
        size_t n = len - off < payload ? len - off : payload;
        if (codec_stream_push(s, buf + off, n, err) != 0)
            return -1;
    }
    return 0;
}

size_t codec_stream_bytes(const codec_stream *s)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++)
        total += s->pkt[i].len;
    return total;
}

void codec_stream_rank(codec_stream *s, size_t essential)
{
    if (essential < 1)
        essential = 1;
    for (size_t i = 0; i < s->n; i++) {
        size_t below = i < essential ? 0 : i - essential + 1;
        s->pkt[i].priority = below >= CODEC_PRIORITY_MAX ? 0
                                                         : CODEC_PRIORITY_MAX - (int)below;
    }
}

size_t codec_stream_packets_for(size_t bytes, size_t payload)
{
    return payload ? bytes / payload + (bytes % payload != 0) : 0;
}
