/* Static Huffman codes for the LimitNet bitstream: lengths from training
 * counts, canonical codes from lengths, and MSB-first bit I/O. Canonical
 * codes let the model file carry only the lengths. */
#include "codec/limitnet.h"

#include <string.h>

/* Plain Huffman lengths by repeatedly merging the two lightest trees; n is
 * at most 256, so the quadratic search costs nothing. */
static void huffman(const uint64_t *counts, int n, uint8_t *len)
{
    uint64_t w[2 * CODEC_LN_MAX_LEVELS];
    int parent[2 * CODEC_LN_MAX_LEVELS], alive[2 * CODEC_LN_MAX_LEVELS];
    int nodes = n;
    for (int i = 0; i < n; i++) {
        w[i] = counts[i];
        alive[i] = counts[i] > 0;
        parent[i] = -1;
    }
    for (;;) {
        int a = -1, b = -1;
        for (int i = 0; i < nodes; i++) {
            if (!alive[i])
                continue;
            if (a < 0 || w[i] < w[a]) {
                b = a;
                a = i;
            } else if (b < 0 || w[i] < w[b]) {
                b = i;
            }
        }
        if (b < 0)
            break;
        w[nodes] = w[a] + w[b];
        alive[nodes] = 1;
        parent[nodes] = -1;
        alive[a] = alive[b] = 0;
        parent[a] = parent[b] = nodes++;
    }
    for (int i = 0; i < n; i++) {
        int d = 0;
        for (int k = i; counts[i] && parent[k] >= 0; k = parent[k])
            d++;
        len[i] = (uint8_t)(counts[i] ? (d ? d : 1) : 0);
    }
}

int codec_ln_huff_lengths(const uint64_t *counts, int n, int maxlen,
                          uint8_t *len, util_err *err)
{
    if (n < 1 || n > CODEC_LN_MAX_LEVELS || maxlen < 1 ||
        maxlen > CODEC_LN_MAX_CODE)
        return util_errf(err, "huffman: %d symbols, length limit %d", n, maxlen);
    uint64_t c[CODEC_LN_MAX_LEVELS];
    int used = 0;
    for (int i = 0; i < n; i++) {
        c[i] = counts[i];
        used += c[i] > 0;
    }
    if (used == 0)
        return util_errf(err, "huffman: no symbol has a positive count");
    if (maxlen < 31 && (uint64_t)used > ((uint64_t)1 << maxlen))
        return util_errf(err, "huffman: %d symbols do not fit in %d bits",
                         used, maxlen);
    /* Halving the counts (keeping them positive) flattens the tree until
     * the longest code fits; each pass at least halves the spread. */
    for (;;) {
        huffman(c, n, len);
        int longest = 0;
        for (int i = 0; i < n; i++)
            longest = len[i] > longest ? len[i] : longest;
        if (longest <= maxlen)
            return 0;
        for (int i = 0; i < n; i++)
            c[i] = c[i] ? (c[i] + 1) / 2 : 0;
    }
}

int codec_ln_huff_build(const uint8_t *len, int n, codec_ln_huff *h,
                        util_err *err)
{
    if (n < 1 || n > CODEC_LN_MAX_LEVELS)
        return util_errf(err, "huffman: %d symbols", n);
    memset(h, 0, sizeof *h);
    h->n = n;
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (len[i] > CODEC_LN_MAX_CODE)
            return util_errf(err, "symbol %d: code length %d over %d", i,
                             len[i], CODEC_LN_MAX_CODE);
        h->len[i] = len[i];
        h->count[len[i]]++;
        used += len[i] > 0;
    }
    h->count[0] = 0;
    /* Kraft sum in units of 2^-MAX: a complete code sums to exactly 1; a
     * lone symbol of length 1 is the one allowed incomplete code. */
    uint32_t kraft = 0;
    for (int l = 1; l <= CODEC_LN_MAX_CODE; l++)
        kraft += (uint32_t)h->count[l] << (CODEC_LN_MAX_CODE - l);
    int lone = used == 1 && h->count[1] == 1;
    if (!lone && kraft != (1u << CODEC_LN_MAX_CODE))
        return util_errf(err, "code lengths do not form a complete prefix "
                         "code (%d symbols used)", used);
    uint32_t code = 0;
    uint16_t off = 0;
    for (int l = 1; l <= CODEC_LN_MAX_CODE; l++) {
        code = (code + h->count[l - 1]) << 1;
        h->first[l] = code;
        h->offset[l] = off;
        off = (uint16_t)(off + h->count[l]);
    }
    uint32_t next[CODEC_LN_MAX_CODE + 1];
    uint16_t fill[CODEC_LN_MAX_CODE + 1];
    memcpy(next, h->first, sizeof next);
    memcpy(fill, h->offset, sizeof fill);
    for (int i = 0; i < n; i++) {
        int l = len[i];
        if (!l)
            continue;
        h->code[i] = (uint16_t)next[l]++;
        h->sym[fill[l]++] = (uint16_t)i;
    }
    return 0;
}

int codec_ln_bits_put(codec_ln_bits *b, uint32_t v, int n)
{
    if (b->pos + (size_t)n > b->cap * 8)
        return -1;
    for (int k = n - 1; k >= 0; k--, b->pos++) {
        uint8_t mask = (uint8_t)(0x80 >> (b->pos & 7));
        if ((v >> k) & 1)
            b->buf[b->pos >> 3] |= mask;
        else
            b->buf[b->pos >> 3] &= (uint8_t)~mask;
    }
    return 0;
}

int codec_ln_bits_get(codec_ln_bits *b)
{
    int bit = b->pos < b->cap * 8 && ((b->buf[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
    b->pos++;
    return bit;
}

int codec_ln_huff_put(const codec_ln_huff *h, codec_ln_bits *b, int s)
{
    if (s < 0 || s >= h->n || !h->len[s])
        return -1;
    return codec_ln_bits_put(b, h->code[s], h->len[s]);
}

int codec_ln_huff_get(const codec_ln_huff *h, codec_ln_bits *b)
{
    uint32_t code = 0;
    for (int l = 1; l <= CODEC_LN_MAX_CODE; l++) {
        if (b->pos >= b->cap * 8)
            return -1;
        code = (code << 1) | (uint32_t)codec_ln_bits_get(b);
        if (h->count[l] && code - h->first[l] < h->count[l])
            return h->sym[h->offset[l] + code - h->first[l]];
    }
    return -1;
}
