/*
 * The LimitNet bitstream: packets that each decode on their own
 * (codec/limitnet.c documents the layout). Both ends derive the send order
 * from the same integers, so a receiver places every value it gets without
 * any further signalling. The side grid and the values go through one
 * entropy coder per packet (Huffman or arithmetic, the same on both ends),
 * so the grid costs what its statistics say, not 5 bits a cell, and needs
 * no length field: the values simply follow it.
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

static uint32_t get_bits(codec_ln_bits *b, int n)
{
    uint32_t v = 0;
    for (int k = 0; k < n; k++)
        v = (v << 1) | (uint32_t)codec_ln_bits_get(b);
    return v;
}

/* ---- one entropy coder over both tables --------------------------------------- */

typedef struct coder {
    int kind;
    codec_ln_bits b;  /* Huffman */
    codec_ln_arith a; /* arithmetic */
} coder;

static void start_write(coder *c, int kind, uint8_t *buf, size_t cap)
{
    c->kind = kind;
    c->b = (codec_ln_bits){buf, cap, 0};
    codec_ln_arith_start(&c->a, buf, cap);
}

static void start_read(coder *c, int kind, const uint8_t *buf, size_t len)
{
    c->kind = kind;
    /* The reader only reads; the cast fits the writer's struct. */
    c->b = (codec_ln_bits){(uint8_t *)buf, len, 0};
    if (kind == CODEC_LN_ARITH)
        codec_ln_arith_start_read(&c->a, buf, len);
}

static int put(coder *c, const codec_ln_huff *h, const codec_ln_freq *f, int s)
{
    return c->kind == CODEC_LN_ARITH ? codec_ln_arith_put(&c->a, f, s)
                                     : codec_ln_huff_put(h, &c->b, s);
}

static int get(coder *c, const codec_ln_huff *h, const codec_ln_freq *f)
{
    return c->kind == CODEC_LN_ARITH ? codec_ln_arith_get(&c->a, f)
                                     : codec_ln_huff_get(h, &c->b);
}

static size_t finish(coder *c)
{
    return c->kind == CODEC_LN_ARITH ? codec_ln_arith_finish(&c->a)
                                     : (c->b.pos + 7) / 8;
}

/* ---- packing ------------------------------------------------------------------- */

typedef struct packer {
    const codec_ln *m;
    int kind;
    const uint8_t *q;
    const int *order;
    int count;
} packer;

/* Fills buf (payload bytes, zeroed) with the side grid when cells is not
 * NULL and ranks *r.. of the order; returns the packet's length, or 0 when
 * the side grid alone does not fit. */
static size_t fill(const packer *p, const uint8_t *cells, int *r, uint8_t *buf,
                   size_t payload)
{
    codec_ln_geom g = codec_ln_geometry(p->m);
    int nb = count_bits(g.n), hw = g.h * g.w, maxn = (1 << nb) - 1;
    size_t off = (size_t)codec_ln_header_bytes(&g);
    coder c;
    start_write(&c, p->kind, buf + off, payload - off);
    for (int k = 0; cells && k < g.grid * g.grid; k++)
        if (put(&c, codec_ln_side_code(p->m), codec_ln_side_fcode(p->m), cells[k]))
            return 0;
    int n = 0;
    while (*r + n < p->count && n < maxn) {
        int at = p->order[*r + n];
        if (put(&c, codec_ln_code(p->m, at / hw), codec_ln_fcode(p->m, at / hw), p->q[at]))
            break;
        n++;
    }
    size_t used = finish(&c);
    /* The header fits: pack() checked that the payload holds it. */
    codec_ln_bits hb = {buf, off, 0};
    codec_ln_bits_put(&hb, cells ? 1u : 0u, 1);
    codec_ln_bits_put(&hb, (uint32_t)*r, nb);
    codec_ln_bits_put(&hb, (uint32_t)n, nb);
    *r += n;
    return off + used;
}

int codec_ln_pack(const codec_ln *m, int kind, const uint8_t *q,
                  const uint8_t *cells, int copies, int count, size_t payload,
                  codec_stream *out, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    if (count < 0 || count > g.n)
        return util_errf(err, "count %d outside 0..%d", count, g.n);
    if (payload <= (size_t)codec_ln_header_bytes(&g))
        return util_errf(err, "a %zu-byte payload cannot hold a LimitNet packet "
                         "header (%d bytes) and a value", payload,
                         codec_ln_header_bytes(&g));
    int *order = malloc((size_t)g.n * sizeof *order);
    uint8_t *buf = malloc(payload);
    int rc = order && buf ? 0 : util_errf(err, "out of memory");
    if (!rc)
        rc = codec_ln_order(&g, cells, order, err);
    packer pk = {m, kind, q, order, count};
    /* The first packet goes out even with no value when it carries the
     * side grid; every later one carries at least one value. The first
     * packet, the side grid and the best values, goes out `copies` times:
     * the decoder, trained on tail drop, cannot do without those values. */
    for (int r = 0, k = 0; !rc && (r < count || (k == 0 && cells)); k++) {
        int first = k == 0, side = cells && first;
        int r0 = r;
        memset(buf, 0, payload);
        size_t len = fill(&pk, side ? cells : NULL, &r, buf, payload);
        if (len == 0)
            rc = util_errf(err, "a %zu-byte payload cannot hold this image's "
                           "side grid", payload);
        else if (r == r0 && !(first && cells))
            rc = util_errf(err, "a %zu-byte payload cannot hold a LimitNet "
                           "packet header and value %d", payload, r);
        else
            for (int c = 0; !rc && c < (first ? copies : 1); c++)
                rc = codec_stream_push(out, buf, len, err);
    }
    free(order);
    free(buf);
    return rc;
}

/* ---- unpacking ----------------------------------------------------------------- */

typedef struct header {
    int side, r0, n;
} header;

/* Parses a packet's header; 0 if it is usable. */
static int parse(const codec_ln_geom *g, const codec_packet *p, header *h)
{
    int nb = count_bits(g->n);
    if (p->len < (size_t)codec_ln_header_bytes(g))
        return -1;
    /* The reader only reads; the cast fits the writer's struct. */
    codec_ln_bits b = {(uint8_t *)p->data, p->len, 0};
    h->side = (int)get_bits(&b, 1);
    h->r0 = (int)get_bits(&b, nb);
    h->n = (int)get_bits(&b, nb);
    if (h->r0 > g->n || h->n > g->n - h->r0)
        return -1;
    return 0;
}

/* Starts reading packet p's coded part and, when it has one, its side
 * grid into cells (may be NULL: read and dropped). Returns 0 if usable. */
static int open_packet(const codec_ln *m, int kind, const codec_packet *p,
                       const header *h, coder *c, uint8_t *cells)
{
    codec_ln_geom g = codec_ln_geometry(m);
    size_t off = (size_t)codec_ln_header_bytes(&g);
    start_read(c, kind, p->data + off, p->len - off);
    for (int k = 0; h->side && k < g.grid * g.grid; k++) {
        int v = get(c, codec_ln_side_code(m), codec_ln_side_fcode(m));
        if (v < 0 || v > CODEC_LN_SIDE_MAX)
            return -1;
        if (cells)
            cells[k] = (uint8_t)v;
    }
    return 0;
}

/* The side grid of the first arrived packet that carries a readable one. */
static int find_side(const codec_ln *m, int kind, const codec_stream *st,
                     const uint8_t *arrived, uint8_t *cells)
{
    codec_ln_geom g = codec_ln_geometry(m);
    for (size_t i = 0; i < st->n; i++) {
        header h;
        coder c;
        if (arrived[i] && !parse(&g, &st->pkt[i], &h) && h.side &&
            !open_packet(m, kind, &st->pkt[i], &h, &c, cells))
            return 1;
    }
    return 0;
}

/* Places one packet's values until its bits run out or a code is invalid. */
static int place(const codec_ln *m, int kind, const int *order,
                 const codec_packet *p, const header *h, float *z, uint8_t *known)
{
    codec_ln_geom g = codec_ln_geometry(m);
    int hw = g.h * g.w, added = 0;
    coder c;
    if (open_packet(m, kind, p, h, &c, NULL))
        return 0;
    for (int i = 0; i < h->n; i++) {
        int at = order[h->r0 + i];
        int q = get(&c, codec_ln_code(m, at / hw), codec_ln_fcode(m, at / hw));
        if (q < 0)
            break;
        z[at] = codec_ln_dequant(m, at / hw, q);
        added += !known[at];
        known[at] = 1;
    }
    return added;
}

int codec_ln_unpack(const codec_ln *m, int kind, int how, const uint8_t *fallback,
                    const codec_stream *st, const uint8_t *arrived, float *z,
                    uint8_t *known, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(m);
    uint8_t cells[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    const uint8_t *cp = NULL;
    if (how == CODEC_LN_FALLBACK)
        cp = fallback;
    else if (how == CODEC_LN_SIDE)
        cp = find_side(m, kind, st, arrived, cells) ? cells : fallback;
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
            total += place(m, kind, order, &st->pkt[i], &h, z, known);
    }
    free(order);
    free(own);
    return total;
}
