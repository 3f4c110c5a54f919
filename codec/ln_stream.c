/*
 * The LimitNet bitstream: packets that each decode on their own
 * (codec/limitnet.c documents the layout). Both ends derive the send order
 * from the same integers, so a receiver places every value it gets without
 * any further signalling.
 */
#include "codec/limitnet.h"

#include <stdlib.h>
#include <string.h>

/* Bits of a rank or a count: enough to write n itself. */
static int count_bits(int n)
{
    int b = 1;
    while ((1 << b) <= n)
        b++;
    return b;
}

int codec_ln_header_bytes(const codec_ln_geom *g)
{
    return (1 + 2 * count_bits(g->n) + 7) / 8;
}

int codec_ln_side_bytes(const codec_ln_geom *g)
{
    return (g->grid * g->grid * CODEC_LN_SIDE_BITS + 7) / 8;
}

static void put_bits(uint8_t *buf, size_t *pos, uint32_t v, int n)
{
    for (int k = n - 1; k >= 0; k--, (*pos)++)
        if ((v >> k) & 1)
            buf[*pos >> 3] |= (uint8_t)(0x80 >> (*pos & 7));
}

/* The caller checks that n bits remain. */
static uint32_t get_bits(const uint8_t *buf, size_t *pos, int n)
{
    uint32_t v = 0;
    for (int k = 0; k < n; k++, (*pos)++)
        v = (v << 1) | ((buf[*pos >> 3] >> (7 - (*pos & 7))) & 1);
    return v;
}

/* ---- packing ------------------------------------------------------------------- */

/* Fills buf (payload bytes, zeroed) with ranks *r.. of order; returns the
 * packet's length. */
static size_t fill(const codec_ln *m, int coder, const uint8_t *q, const int *order,
                   const uint8_t *cells, int *r, int count, uint8_t *buf,
                   size_t payload)
{
    codec_ln_geom g = codec_ln_geometry(m);
    int nb = count_bits(g.n), hw = g.h * g.w, maxn = (1 << nb) - 1;
    size_t off = (size_t)codec_ln_header_bytes(&g), pos = off * 8;
    if (cells) {
        for (int k = 0; k < g.grid * g.grid; k++)
            put_bits(buf, &pos, cells[k], CODEC_LN_SIDE_BITS);
        off += (size_t)codec_ln_side_bytes(&g);
    }
    codec_ln_bits b = {buf + off, payload - off, 0};
    codec_ln_arith a;
    codec_ln_arith_start(&a, buf + off, payload - off);
    int n = 0;
    while (*r + n < count && n < maxn) {
        int at = order[*r + n];
        if (coder == CODEC_LN_ARITH
                ? codec_ln_arith_put(&a, codec_ln_fcode(m, at / hw), q[at])
                : codec_ln_huff_put(codec_ln_code(m, at / hw), &b, q[at]))
            break;
        n++;
    }
    size_t used = coder == CODEC_LN_ARITH ? codec_ln_arith_finish(&a) : (b.pos + 7) / 8;
    pos = 0;
    put_bits(buf, &pos, cells ? 1u : 0u, 1);
    put_bits(buf, &pos, (uint32_t)*r, nb);
    put_bits(buf, &pos, (uint32_t)n, nb);
    *r += n;
    return off + used;
}

int codec_ln_pack(const codec_ln *m, int coder, const uint8_t *q,
                  const uint8_t *cells, int count, size_t payload, codec_stream *out, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    size_t need = (size_t)codec_ln_header_bytes(&g) +
                  (cells ? (size_t)codec_ln_side_bytes(&g) : 0) +
                  (coder == CODEC_LN_ARITH ? 4 : (CODEC_LN_MAX_CODE + 7) / 8);
    if (payload < need)
        return util_errf(err, "a %zu-byte payload cannot hold a LimitNet packet "
                         "(header, side grid and one value need %zu bytes)",
                         payload, need);
    if (count < 0 || count > g.n)
        return util_errf(err, "count %d outside 0..%d", count, g.n);
    int *order = malloc((size_t)g.n * sizeof *order);
    uint8_t *buf = malloc(payload);
    int rc = order && buf ? 0 : util_errf(err, "out of memory");
    if (!rc)
        rc = codec_ln_order(&g, cells, order, err);
    /* The first packet goes out even with no value when it carries the
     * side grid; every later one carries at least one value. */
    for (int r = 0, first = 1; !rc && (r < count || (first && cells)); first = 0) {
        memset(buf, 0, payload);
        int r0 = r;
        size_t len = fill(m, coder, q, order, first ? cells : NULL, &r, count, buf, payload);
        if (r == r0 && !(first && cells))
            rc = util_errf(err, "a %zu-byte payload cannot hold value %d", payload, r);
        else
            rc = codec_stream_push(out, buf, len, err);
    }
    free(order);
    free(buf);
    return rc;
}

/* ---- unpacking ----------------------------------------------------------------- */

typedef struct header {
    int side, r0, n;
    size_t off; /* where the values start */
} header;

/* Parses a packet's header; 0 if it is usable. */
static int parse(const codec_ln_geom *g, const codec_packet *p, header *h)
{
    int nb = count_bits(g->n);
    size_t hb = (size_t)codec_ln_header_bytes(g);
    if (p->len < hb)
        return -1;
    size_t pos = 0;
    h->side = (int)get_bits(p->data, &pos, 1);
    h->r0 = (int)get_bits(p->data, &pos, nb);
    h->n = (int)get_bits(p->data, &pos, nb);
    h->off = hb + (h->side ? (size_t)codec_ln_side_bytes(g) : 0);
    if (h->r0 > g->n || h->n > g->n - h->r0 || p->len < h->off)
        return -1;
    return 0;
}

/* The side grid of the first arrived packet that carries one. */
static int find_side(const codec_ln_geom *g, const codec_stream *st,
                     const uint8_t *arrived, uint8_t *cells)
{
    for (size_t i = 0; i < st->n; i++) {
        header h;
        if (!arrived[i] || parse(g, &st->pkt[i], &h) || !h.side)
            continue;
        size_t pos = (size_t)codec_ln_header_bytes(g) * 8;
        for (int k = 0; k < g->grid * g->grid; k++)
            cells[k] = (uint8_t)get_bits(st->pkt[i].data, &pos, CODEC_LN_SIDE_BITS);
        return 1;
    }
    return 0;
}

/* Places one packet's values until its bits run out or a code is invalid. */
static int place(const codec_ln *m, int coder, const int *order,
                 const codec_packet *p, const header *h, float *z, uint8_t *known)
{
    codec_ln_geom g = codec_ln_geometry(m);
    int hw = g.h * g.w, added = 0;
    /* The reader only reads; the cast fits the writer's struct. */
    codec_ln_bits b = {(uint8_t *)p->data + h->off, p->len - h->off, 0};
    codec_ln_arith a;
    if (coder == CODEC_LN_ARITH)
        codec_ln_arith_start_read(&a, p->data + h->off, p->len - h->off);
    for (int i = 0; i < h->n; i++) {
        int at = order[h->r0 + i];
        int q = coder == CODEC_LN_ARITH ? codec_ln_arith_get(&a, codec_ln_fcode(m, at / hw))
                                        : codec_ln_huff_get(codec_ln_code(m, at / hw), &b);
        if (q < 0)
            break;
        z[at] = codec_ln_dequant(m, at / hw, q);
        added += !known[at];
        known[at] = 1;
    }
    return added;
}

int codec_ln_unpack(const codec_ln *m, int coder, int how, const uint8_t *fallback,
                    const codec_stream *st, const uint8_t *arrived, float *z,
                    uint8_t *known, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    const uint8_t *cp = NULL;
    if (how == CODEC_LN_FALLBACK)
        cp = fallback;
    else if (how == CODEC_LN_SIDE)
        cp = find_side(&g, st, arrived, cells) ? cells : fallback;
    int *order = malloc((size_t)g.n * sizeof *order);
    uint8_t *own = known ? NULL : malloc((size_t)g.n);
    if (!order || (!known && !own)) {
        free(order);
        free(own);
        return util_errf(err, "out of memory");
    }
    known = known ? known : own;
    memset(z, 0, (size_t)g.n * sizeof *z);
    memset(known, 0, (size_t)g.n);
    int total = 0;
    if (codec_ln_order(&g, cp, order, err))
        total = -1;
    for (size_t i = 0; total >= 0 && i < st->n; i++) {
        header h;
        if (arrived[i] && !parse(&g, &st->pkt[i], &h))
            total += place(m, coder, order, &st->pkt[i], &h, z, known);
    }
    free(order);
    free(own);
    return total;
}
