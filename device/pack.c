/*
 * The device's packets (device/device.h): the send order, a Huffman bit
 * writer and the packet layout of codec/limitnet.c, byte for byte what
 * codec_ln_pack writes with the Huffman coder (tests/test_device.c
 * compares them), without an allocation.
 */
#include "device/device.h"

const char *device_strerror(int code)
{
    switch (code) {
    case DEVICE_OK: return "no error";
    case DEVICE_EARG: return "an argument or the model is outside its limits";
    case DEVICE_EHEADER: return "the payload cannot hold a packet header and a value";
    case DEVICE_ESIDE: return "the payload cannot hold a packet header and a side-grid cell";
    case DEVICE_EVALUE: return "the payload cannot hold a packet header and the next value";
    case DEVICE_ECODE: return "a value has no code in the model's tables";
    case DEVICE_EFULL: return "the packet buffer is full";
    default: return "unknown error";
    }
}

static int cell_of(int y, int n, int grid)
{
    return y * grid / n;
}

/* Scores are small integers (codec/limitnet.h: 155 * score = cell * 5 +
 * (C - j) * 31), so a counting sort, stable in the latent index, gives the
 * order in O(n) with one count per score; the key of each value is
 * recomputed rather than stored, which saves 2 bytes a value of RAM. */
static int key_of(int c, int h, int w, int grid, const uint8_t *cells, int i)
{
    int hw = h * w, j = i / hw, p = i % hw, y = p / w, x = p % w;
    int v = cells ? cells[cell_of(y, h, grid) * grid + cell_of(x, w, grid)] : 0;
    int top = (DEVICE_SIDE_LEVELS - 1) * 5 + c * 31;
    v = v < DEVICE_SIDE_LEVELS - 1 ? v : DEVICE_SIDE_LEVELS - 1;
    return top - (c - j) * 31 - v * 5;
}

void device_order(uint16_t c, uint16_t h, uint16_t w, uint16_t grid,
                  const uint8_t *cells, uint16_t *order, void *scratch)
{
    int n = c * h * w, top = (DEVICE_SIDE_LEVELS - 1) * 5 + c * 31;
    uint16_t *start = scratch;
    for (int k = 0; k <= top + 1; k++)
        start[k] = 0;
    for (int i = 0; i < n; i++)
        start[key_of(c, h, w, grid, cells, i) + 1]++;
    for (int k = 0; k <= top; k++)
        start[k + 1] = (uint16_t)(start[k + 1] + start[k]);
    for (int i = 0; i < n; i++)
        order[start[key_of(c, h, w, grid, cells, i)]++] = (uint16_t)i;
}

/* ---- bits ------------------------------------------------------------------------ */

typedef struct bits {
    uint8_t *buf;
    uint32_t cap, pos; /* bytes; bits written */
} bits;

/* Appends the n low bits of v, MSB first, into a zeroed buffer; -1,
 * writing nothing, when they do not fit. */
static int put_bits(bits *b, uint32_t v, int n)
{
    if (b->pos + (uint32_t)n > b->cap * 8u)
        return -1;
    for (int k = n - 1; k >= 0; k--, b->pos++)
        if ((v >> k) & 1)
            b->buf[b->pos >> 3] |= (uint8_t)(0x80 >> (b->pos & 7));
    return 0;
}

/* A symbol without a code fails as one that does not fit, as in
 * codec/ln_huff.c, so both packers stop at the same place. */
static int put_code(bits *b, const uint16_t *code, const uint8_t *len, int s)
{
    return len[s] ? put_bits(b, code[s], len[s]) : -1;
}

static int count_bits(int n)
{
    int b = 1;
    while ((1 << b) <= n)
        b++;
    return b;
}

/* ---- packets ----------------------------------------------------------------------- */

typedef struct packer {
    const device_model *m;
    const uint8_t *levels;
    const uint16_t *order;
    int n, count, nb, off; /* n: the model's values */
} packer;

/* Writes one packet at buf (payload bytes, zeroed): the side grid when
 * cells is not NULL, then ranks *r.. of the order while they fit. Returns
 * its length, or 0 when the side grid does not fit. */
static uint32_t fill(const packer *p, const uint8_t *cells, int *r, uint8_t *buf,
                     uint32_t payload)
{
    const device_model *m = p->m;
    int hw = m->h * m->w, maxn = (1 << p->nb) - 1, n = 0;
    bits b = {buf + p->off, payload - (uint32_t)p->off, 0};
    for (int k = 0; cells && k < m->grid * m->grid; k++)
        if (put_code(&b, m->side_code, m->side_len, cells[k]))
            return 0;
    while (*r + n < p->count && n < maxn) {
        int at = p->order[*r + n];
        size_t row = (size_t)(at / hw) * m->levels;
        if (put_code(&b, m->code + row, m->len + row, p->levels[at]))
            break;
        n++;
    }
    bits hb = {buf, (uint32_t)p->off, 0};
    put_bits(&hb, cells ? 1u : 0u, 1);
    put_bits(&hb, (uint32_t)*r, p->nb);
    put_bits(&hb, (uint32_t)n, p->nb);
    *r += n;
    return (uint32_t)p->off + (b.pos + 7) / 8;
}

/* Writes a part of the side grid at buf (payload bytes, zeroed): the cells
 * from k0 on while they fit, no values, rank field N + 1 + k0 for N
 * values (as codec/ln_stream.c). Returns its length; *n receives the cells. */
static uint32_t fill_part(const packer *p, const uint8_t *cells, int k0, int *n,
                          uint8_t *buf, uint32_t payload)
{
    const device_model *m = p->m;
    bits b = {buf + p->off, payload - (uint32_t)p->off, 0};
    *n = 0;
    while (k0 + *n < m->grid * m->grid &&
           !put_code(&b, m->side_code, m->side_len, cells[k0 + *n]))
        (*n)++;
    bits hb = {buf, (uint32_t)p->off, 0};
    put_bits(&hb, 1u, 1);
    put_bits(&hb, (uint32_t)(p->n + 1 + k0), p->nb);
    put_bits(&hb, (uint32_t)*n, p->nb);
    return (uint32_t)p->off + (b.pos + 7) / 8;
}

/* Appends the packet at out->buf + out->used (len bytes) `times` times. */
static int emit(device_packets *out, uint32_t len, int times)
{
    const uint8_t *src = out->buf + out->used;
    for (int t = 0; t < times; t++) {
        if (out->n >= out->maxn || out->cap - out->used < len)
            return DEVICE_EFULL;
        uint8_t *dst = out->buf + out->used;
        for (uint32_t i = 0; t && i < len; i++)
            dst[i] = src[i];
        out->len[out->n++] = (uint16_t)len;
        out->used += len;
    }
    return DEVICE_OK;
}

/* The zeroed room for the next packet, or NULL when out is full. */
static uint8_t *next_buf(device_packets *out, uint32_t payload)
{
    if (out->cap - out->used < payload)
        return NULL;
    uint8_t *buf = out->buf + out->used;
    for (uint32_t i = 0; i < payload; i++)
        buf[i] = 0;
    return buf;
}

/* A side grid too large for the first packet, in parts before the
 * values, each `copies` times. */
static int pack_parts(const packer *p, const uint8_t *cells, int copies,
                      uint32_t payload, device_packets *out)
{
    int cellsn = p->m->grid * p->m->grid;
    if (p->n + cellsn > (1 << p->nb) - 1)
        return DEVICE_ESIDE;
    for (int k0 = 0, n; k0 < cellsn; k0 += n) {
        uint8_t *buf = next_buf(out, payload);
        if (!buf)
            return DEVICE_EFULL;
        uint32_t len = fill_part(p, cells, k0, &n, buf, payload);
        if (n == 0)
            return DEVICE_ESIDE;
        int rc = emit(out, len, copies);
        if (rc)
            return rc;
    }
    return DEVICE_OK;
}

int device_pack(const device_model *m, const uint8_t *levels,
                const uint8_t *cells, int copies, int sides, int count,
                uint32_t payload, device_packets *out, void *work)
{
    int n = m->c * m->h * m->w;
    packer pk = {m, levels, work, n, count, count_bits(n), 0};
    pk.off = (1 + 2 * pk.nb + 7) / 8;
    if (count < 0 || count > n || n > DEVICE_MAX_VALUES || copies < 1 || sides < 1 ||
        payload > 65535 || (cells && m->grid > DEVICE_MAX_GRID))
        return DEVICE_EARG;
    if (payload <= (uint32_t)pk.off)
        return DEVICE_EHEADER;
    uint16_t *order = work;
    device_order(m->c, m->h, m->w, m->grid, cells, order, order + n);
    int parts = 0;
    for (int r = 0, k = 0; r < count || (k == 0 && cells); k++) {
        int r0 = r;
        const uint8_t *grid = k < sides && !parts ? cells : NULL;
        uint8_t *buf = next_buf(out, payload);
        if (!buf)
            return DEVICE_EFULL;
        uint32_t len = fill(&pk, grid, &r, buf, payload);
        parts |= len == 0;
        int rc = len == 0 ? pack_parts(&pk, grid, copies, payload, out)
                 : r == r0 && !grid ? DEVICE_EVALUE
                                    : emit(out, len, k == 0 ? copies : 1);
        if (rc)
            return rc;
    }
    return DEVICE_OK;
}
