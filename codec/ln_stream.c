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

/* Fills buf (payload bytes, zeroed) with a part of the side grid: as many
 * cells from k0 on as fit, no values. Returns the packet's length and sets
 * *n to the cells written (0 when not even one fits). */
static size_t fill_part(const packer *p, const uint8_t *cells, int k0, int *n,
                        uint8_t *buf, size_t payload)
{
    codec_ln_geom g = codec_ln_geometry(p->m);
    int nb = count_bits(g.n);
    size_t off = (size_t)codec_ln_header_bytes(&g);
    coder c;
    start_write(&c, p->kind, buf + off, payload - off);
    *n = 0;
    while (k0 + *n < g.grid * g.grid &&
           !put(&c, codec_ln_side_code(p->m), codec_ln_side_fcode(p->m), cells[k0 + *n]))
        (*n)++;
    size_t used = finish(&c);
    codec_ln_bits hb = {buf, off, 0};
    codec_ln_bits_put(&hb, 1, 1);
    codec_ln_bits_put(&hb, (uint32_t)(g.n + 1 + k0), nb);
    codec_ln_bits_put(&hb, (uint32_t)*n, nb);
    return off + used;
}

/* A side grid that does not fit one packet goes out in parts, each sent
 * `copies` times, before the values. */
static int pack_parts(const packer *p, const uint8_t *cells, int copies,
                      uint8_t *buf, size_t payload, codec_stream *out, util_err *err)
{
    codec_ln_geom g = codec_ln_geometry(p->m);
    int cellsn = g.grid * g.grid, rc = 0;
    if (g.n + cellsn > (1 << count_bits(g.n)) - 1)
        return util_errf(err, "a %zu-byte payload cannot hold this image's side "
                         "grid, and a %dx%d grid is too large to span packets of "
                         "this model", payload, g.grid, g.grid);
    for (int k0 = 0, n; !rc && k0 < cellsn; k0 += n) {
        memset(buf, 0, payload);
        size_t len = fill_part(p, cells, k0, &n, buf, payload);
        if (n == 0)
            return util_errf(err, "a %zu-byte payload cannot hold a LimitNet "
                             "packet header and side-grid cell %d", payload, k0);
        for (int c = 0; !rc && c < copies; c++)
            rc = codec_stream_push(out, buf, len, err);
    }
    return rc;
}

int codec_ln_pack(const codec_ln *m, int kind, const uint8_t *q,
                  const uint8_t *cells, int copies, int sides, int count,
                  size_t payload, codec_stream *out, util_err *err)
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
     * the decoder, trained on tail drop, cannot do without those values.
     * The first `sides` packets carry the grid, so that losing the first
     * one does not lose the send order. A grid too large for a packet goes
     * out in parts first (each `copies` times), and the values follow in
     * packets of their own. */
    int parts = 0;
    for (int r = 0, k = 0; !rc && (r < count || (k == 0 && cells)); k++) {
        int r0 = r;
        const uint8_t *grid = k < sides && !parts ? cells : NULL;
        memset(buf, 0, payload);
        size_t len = fill(&pk, grid, &r, buf, payload);
        if (len == 0) {
            rc = pack_parts(&pk, grid, copies, buf, payload, out, err);
            parts = 1;
        } else if (r == r0 && !grid)
            rc = util_errf(err, "a %zu-byte payload cannot hold a LimitNet "
                           "packet header and value %d", payload, r);
        else
            for (int c = 0; !rc && c < (k == 0 ? copies : 1); c++)
                rc = codec_stream_push(out, buf, len, err);
    }
    free(order);
    free(buf);
    return rc;
}

/* The payload below which some symbol cannot go into a packet on its own:
 * the header and the longest code (or, arithmetic coded, the symbol with
 * its termination). */
size_t codec_ln_min_payload(const codec_ln *m, int kind, int side)
{
    codec_ln_geom g = codec_ln_geometry(m);
    size_t most = 1;
    for (int j = side ? -1 : 0; j < g.c; j++) {
        const codec_ln_huff *h = j < 0 ? codec_ln_side_code(m) : codec_ln_code(m, j);
        const codec_ln_freq *f = j < 0 ? codec_ln_side_fcode(m) : codec_ln_fcode(m, j);
        for (int s = 0; s < (j < 0 ? CODEC_LN_SIDE_MAX + 1 : g.levels); s++) {
            if (kind != CODEC_LN_ARITH && h->len[s] == 0)
                continue; /* never sent: the encoder refuses it at any size */
            uint8_t buf[16];
            size_t cap = 1;
            for (coder c; cap < sizeof buf; cap++) {
                memset(buf, 0, sizeof buf);
                start_write(&c, kind, buf, cap);
                if (!put(&c, h, f, s))
                    break;
            }
            most = cap > most ? cap : most;
        }
    }
    return (size_t)codec_ln_header_bytes(&g) + most;
}

/* ---- unpacking ----------------------------------------------------------------- */

typedef struct header {
    int side, r0, n;
    int part; /* a part of the side grid: cells r0 .. r0 + n - 1, no values */
} header;

/* Parses a packet's header; 0 if it is usable. A packet with the side
 * grid and a first rank above N (the value count) is a part of the grid,
 * r0 - N - 1 its first cell; at ranks up to N it carries the whole grid
 * and then its values. */
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
    h->part = h->side && h->r0 > g->n;
    if (h->part) {
        h->r0 -= g->n + 1;
        return h->n < 1 || h->r0 + h->n > g->grid * g->grid ? -1 : 0;
    }
    if (h->r0 > g->n || h->n > g->n - h->r0)
        return -1;
    return 0;
}

/* Starts reading packet p's coded part and, when it has one, its side
 * grid (or its part of it) into cells (may be NULL: read and dropped).
 * Returns 0 if usable. */
static int open_packet(const codec_ln *m, int kind, const codec_packet *p,
                       const header *h, coder *c, uint8_t *cells)
{
    codec_ln_geom g = codec_ln_geometry(m);
    size_t off = (size_t)codec_ln_header_bytes(&g);
    start_read(c, kind, p->data + off, p->len - off);
    int k0 = h->part ? h->r0 : 0, k1 = h->part ? h->r0 + h->n : g.grid * g.grid;
    for (int k = k0; h->side && k < k1; k++) {
        int v = get(c, codec_ln_side_code(m), codec_ln_side_fcode(m));
        if (v < 0 || v > CODEC_LN_SIDE_MAX)
            return -1;
        if (cells)
            cells[k] = (uint8_t)v;
    }
    return 0;
}

/* The side grid of the first arrived packet that carries a whole readable
 * one; else the parts that arrived, the fallback's cells where parts are
 * missing (none may be missing without a fallback). */
static int find_side(const codec_ln *m, int kind, const codec_stream *st,
                     const uint8_t *arrived, const uint8_t *fallback, uint8_t *cells)
{
    codec_ln_geom g = codec_ln_geometry(m);
    uint8_t part[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID];
    uint8_t have[CODEC_LN_MAX_GRID * CODEC_LN_MAX_GRID] = {0};
    int got = 0, cellsn = g.grid * g.grid;
    for (size_t i = 0; i < st->n; i++) {
        header h;
        coder c;
        if (!arrived[i] || parse(&g, &st->pkt[i], &h) || !h.side ||
            open_packet(m, kind, &st->pkt[i], &h, &c, part))
            continue;
        if (!h.part) {
            memcpy(cells, part, (size_t)cellsn);
            return 1;
        }
        for (int k = h.r0; k < h.r0 + h.n; k++) {
            got += !have[k];
            have[k] = 1;
            cells[k] = part[k];
        }
    }
    if (got == 0 || (got < cellsn && !fallback))
        return 0;
    for (int k = 0; k < cellsn; k++)
        if (!have[k])
            cells[k] = fallback[k];
    return 1;
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
        cp = find_side(m, kind, st, arrived, fallback, cells) ? cells : fallback;
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
        if (arrived[i] && !parse(&g, &st->pkt[i], &h) && !h.part)
            total += place(m, kind, order, &st->pkt[i], &h, z, known);
    }
    free(order);
    free(own);
    return total;
}
