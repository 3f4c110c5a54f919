/*
 * The forward error correction of LoRa Alliance TS004-1.0.0, "LoRaWAN
 * Fragmented Data Block Transport Specification v1.0.0" (2018). This is
 * version 1.0.0: TS004-2.0.0 (2022) changed the parity matrix (below), and
 * the two do not interoperate.
 *
 * What comes from where. The spec itself (read at
 * https://read.uberflip.com/i/1428356, the LoRa Alliance's hosted copy):
 *   ch. 7 "Fragment error coding": M data ("uncoded") fragments B1..BM of
 *     one length; coded fragment N is a bitwise XOR of a subset of them; N
 *     may exceed M, the coding ratio being M / N;
 *   ch. 8 "Fragment decoding and reassembling": the receiver's elimination
 *     (fetch C = matrix_line(N, M), XOR out the rows already held, keep the
 *     row at its first 1 if anything is left, so that the held rows form a
 *     triangular matrix, then substitute back from the last line up);
 *   ch. 11 "Preliminary Matlab code", the encoder: the first w coded
 *     fragments are the uncoded ones ("binary data without coding"), then
 *     parity fragment y = 1..w is the XOR of the fragments that
 *     matrix_line(y, w) selects. So redundancy row m is numbered from 1 and
 *     coded fragment M + m carries it.
 * The body of ch. 11's matrix_line and prbs23 we could not read in full;
 * their steps below are those that every public implementation written for
 * 1.0.0 agrees on, each of which we read: Semtech's LoRaMac-node
 * (src/apps/LoRaMac/common/LmHandler/packages/FragDecoder.c,
 * FragGetParityMatrixRow and FragPrbs23), Zephyr
 * (tests/subsys/lorawan/frag_decoder/src/frag_encoder.c, which says it
 * follows TS004-1.0.0 and not 2.0.0, and
 * subsys/lorawan/services/frag_decoder_lowmem.c), JiapengLi/
 * LoRaWANFragmentedDataBlockTransportAlgorithm (frag.c), and the mbed
 * FUOTA code (FragmentationMath, FragmentationGetParityMatrixRow). Their
 * prbs23 is also, word for word, TS004-2.0.0's (A.5, "standard
 * implementation of a 23bit prbs generator", at
 * https://read.uberflip.com/i/1464683/31).
 *
 * Where they differ. The 1.0.0 implementations differ only in how they
 * halve x (x >> 1, x / 2, floor(x / 2.0)), which is the same for the
 * non-negative x that occur. TS004-2.0.0's A.5 matrix_line differs from
 * all of them in three ways, as Lora-net/SWL2001 issue #106 also works
 * out: it is called with the coded fragment's own index (seed 1 + 1001 N,
 * N > M) where 1.0.0 passes the redundancy row number N - M; it counts
 * only draws that set a new bit, so every row has exactly floor(M / 2)
 * ones, where 1.0.0 counts every draw and a repeated draw leaves one
 * fewer; and it returns the unit vector for N <= M, where 1.0.0 never
 * calls it for the data fragments. We follow 1.0.0 throughout, as the
 * Zephyr and Semtech LoRaMac-node decoders do; a 2.0.0 decoder would
 * reconstruct wrong data from our redundancy fragments.
 *
 * The decoder is ch. 8's elimination in spirit, done on a batch: the
 * received data fragments are substituted into every redundancy row
 * first, so that the elimination runs over the L missing fragments only
 * (at most L x L bits, the "little" matrix of Semtech's decoder, where
 * ch. 8 describes M x M), rows are kept at their first 1
 * (ch. 8 step 3b), and the back substitution (step 5) then leaves the held
 * rows in reduced row echelon form. Where ch. 8 stops at "all lines of A
 * updated", we also report partial results: B_j is determined by the
 * received fragments exactly when the unit vector e_j lies in the span of
 * their rows, and in reduced row echelon form that is exactly when some
 * held row is e_j itself (a sum of held rows has a 1 at each summand's
 * pivot, which no other held row touches, so a sum equal to e_j has one
 * summand). Unlike the LoRaMac-node decoder, which drops a fragment older
 * than the last one and gives up beyond FRAG_MAX_REDUNDANCY losses,
 * fragments may come in any order and any number may be missing.
 *
 * Cost: a redundancy fragment costs about M / 2 + L fragment XORs (its
 * row's received fragments, then the held rows), and the back substitution
 * at most one XOR per pair of held row and column, so O(count * M * F) in
 * all, with M * (M / 8 + F) bytes of working memory at most.
 */
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

/* ---- the parity matrix ------------------------------------------------------ */

/* TS004's prbs23: a 23-bit LFSR shifting right, whose new bit 22 is the
 * XOR of bits 0 and 5, i.e. s[k + 23] = s[k] ^ s[k + 5]: polynomial
 * x^23 + x^5 + 1, the reciprocal of the usual PRBS23 x^23 + x^18 + 1, of
 * period 2^23 - 1 on the nonzero 23-bit states (tests/test_fec.c checks). Only x = 0 maps to 0, so no
 * seed reaches it. Seeds go up to 1 + 1001 * 16382 < 2^24, and x < 2^24
 * gives (x >> 1) + 2^22 < 2^24, so uint32_t holds the spec's arithmetic
 * (floor(x / 2) + b * 2^22) exactly; seeds of 2^23 and more (rows from
 * 8381 on) are not 23-bit states, but the arithmetic is the same for them. */
static uint32_t prbs23(uint32_t x)
{
    uint32_t b0 = x & 1u;
    uint32_t b5 = (x >> 5) & 1u;
    return (x >> 1) + ((b0 ^ b5) << 22);
}

static int is_pow2(int m)
{
    return m > 0 && (m & (m - 1)) == 0;
}

/* matrix_line(row, m) of TS004-1.0.0 ch. 11, as the 1.0.0 implementations
 * named above compute it, into sel[0..m):
 *   - the seed is x = 1 + 1001 * row, row being the redundancy row number
 *     1, 2, ... (not the coded index M + row: that is 2.0.0);
 *   - floor(m / 2) draws, each setting one bit; a bit drawn twice stays 1,
 *     so a row can have fewer ones (1.0.0: every draw counts);
 *   - a draw steps x = prbs23(x) and takes r = x mod m, until r < m;
 *   - but when m is a power of two, r = x mod (m + 1) instead (the spec's
 *     flag "m = 1" added to M), and a draw of r = m is thrown away and
 *     drawn again ("this can happen if m=1, in that case just try again
 *     with a different random number", TS004-2.0.0 A.5, unchanged there).
 *     Why: x mod 2^k would read only the low k bits of the register,
 *     which repeat in patterns (Zephyr's comment: "Powers of 2 tend to
 *     generate patterns").
 * The spec starts each draw with r = 2^16 so that its `while r >= M` loop
 * runs at least once; with m <= TRANSPORT_FEC_M_MAX < 2^16 a do-while is
 * the same. m = 1 gives no draws: an all-zero row. */
static void matrix_line(int row, int m, uint8_t *sel)
{
    uint32_t mod = (uint32_t)m + (is_pow2(m) ? 1u : 0u);
    uint32_t x = 1u + 1001u * (uint32_t)row;
    memset(sel, 0, (size_t)m);
    for (int k = 0; k < m / 2; k++) {
        uint32_t r;
        do {
            x = prbs23(x);
            r = x % mod;
        } while (r >= (uint32_t)m);
        sel[r] = 1;
    }
}

/* ---- parameters -------------------------------------------------------------- */

static int check_m(int m, util_err *err)
{
    if (m < 1 || m > TRANSPORT_FEC_M_MAX)
        return util_errf(err, "M: expected 1..%d data fragments, got %d",
                         TRANSPORT_FEC_M_MAX, m);
    return 0;
}

static int check_f(size_t f, util_err *err)
{
    if (f < 1 || f > TRANSPORT_FEC_F_MAX)
        return util_errf(err, "F: expected 1..%d bytes per fragment, got %zu",
                         TRANSPORT_FEC_F_MAX, f);
    return 0;
}

static int check_mnf(int m, int n, size_t f, util_err *err)
{
    if (check_m(m, err) || check_f(f, err))
        return -1;
    if (n < m || n > TRANSPORT_FEC_N_MAX)
        return util_errf(err, "N: expected %d..%d coded fragments (at least "
                         "M = %d), got %d", m, TRANSPORT_FEC_N_MAX, m, n);
    return 0;
}

/* ---- encoding ------------------------------------------------------------------ */

static void xor_bytes(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] ^= src[i];
}

int transport_fec_split(const void *msg, size_t len, size_t frag_size,
                        uint8_t **block, int *m, util_err *err)
{
    if (block)
        *block = NULL;
    if (!block || !m || (len && !msg))
        return util_errf(err, "transport_fec_split: NULL argument");
    if (check_f(frag_size, err))
        return -1;
    if (len == 0)
        return util_errf(err, "message: empty, nothing to fragment");
    size_t count = len / frag_size + (len % frag_size != 0);
    if (count > TRANSPORT_FEC_M_MAX)
        return util_errf(err, "message: %zu bytes need %zu fragments of %zu "
                         "bytes, more than M = %d", len, count, frag_size,
                         TRANSPORT_FEC_M_MAX);
    uint8_t *b = malloc(count * frag_size);
    if (!b)
        return util_errf(err, "message: out of memory for %zu fragments",
                         count);
    memcpy(b, msg, len);
    memset(b + len, 0, count * frag_size - len);
    *block = b;
    *m = (int)count;
    return 0;
}

int transport_fec_parity_row(int row, int m, uint8_t *sel, util_err *err)
{
    if (check_m(m, err))
        return -1;
    if (row < 1 || row > TRANSPORT_FEC_N_MAX - m)
        return util_errf(err, "row: expected redundancy row 1..%d (N at most "
                         "%d), got %d", TRANSPORT_FEC_N_MAX - m,
                         TRANSPORT_FEC_N_MAX, row);
    if (!sel)
        return util_errf(err, "transport_fec_parity_row: NULL argument");
    matrix_line(row, m, sel);
    return 0;
}

int transport_fec_encode(const uint8_t *data, int m_data, size_t frag_size,
                         int n, uint8_t *parity, util_err *err)
{
    if (check_mnf(m_data, n, frag_size, err))
        return -1;
    if (!data || (n > m_data && !parity))
        return util_errf(err, "transport_fec_encode: NULL argument");
    uint8_t *sel = malloc((size_t)m_data);
    if (!sel)
        return util_errf(err, "transport_fec_encode: out of memory");
    for (int row = 1; row <= n - m_data; row++) {
        uint8_t *out = parity + (size_t)(row - 1) * frag_size;
        matrix_line(row, m_data, sel);
        memset(out, 0, frag_size);
        for (int i = 0; i < m_data; i++)
            if (sel[i])
                xor_bytes(out, data + (size_t)i * frag_size, frag_size);
    }
    free(sel);
    return 0;
}

/* ---- decoding ------------------------------------------------------------------ */

/* The elimination's state. Column c = 0..l-1 stands for the c-th missing
 * data fragment, miss[c]; col[i] is data fragment i's column, or -1 when it
 * was received. The held row whose first 1 is at column c (its pivot) is
 * rows + c * words with payload pay + c * f, present when held[c]: ch. 8's
 * matrix A and its fragment store, one line per pivot. */
typedef struct decoder {
    int m, l, words;
    size_t f;
    int *col, *miss;
    uint8_t *sel, *held, *pay, *p;
    uint64_t *rows, *v;
} decoder;

static void decoder_free(decoder *d)
{
    free(d->col);
    free(d->miss);
    free(d->sel);
    free(d->held);
    free(d->pay);
    free(d->p);
    free(d->rows);
    free(d->v);
}

static uint64_t *row_at(const decoder *d, int c)
{
    return d->rows + (size_t)c * (size_t)d->words;
}

static int bit_at(const uint64_t *v, int c)
{
    return (int)((v[c / 64] >> (c % 64)) & 1u);
}

/* Refuses indices outside 1..n and repeats, before anything is decoded. */
static int check_frags(const transport_fec_frag *frags, int count, int n,
                       util_err *err)
{
    int *first = malloc(((size_t)n + 1) * sizeof *first);
    if (!first)
        return util_errf(err, "transport_fec_decode: out of memory");
    for (int i = 0; i <= n; i++)
        first[i] = -1;
    int rc = 0;
    for (int k = 0; k < count && !rc; k++) {
        int idx = frags[k].index;
        if (idx < 1 || idx > n)
            rc = util_errf(err, "frags[%d]: index %d outside 1..N = 1..%d",
                           k, idx, n);
        else if (first[idx] >= 0)
            rc = util_errf(err, "frags[%d]: index %d given twice (also "
                           "frags[%d])", k, idx, first[idx]);
        else if (!frags[k].data)
            rc = util_errf(err, "frags[%d]: index %d has no data", k, idx);
        else
            first[idx] = k;
    }
    free(first);
    return rc;
}

/* Copies the received data fragments to out and numbers the missing ones
 * as columns; returns how many were received. */
static int take_data(decoder *d, const transport_fec_frag *frags, int count,
                     uint8_t *out, uint8_t *known)
{
    int received = 0;
    for (int k = 0; k < count; k++) {
        int i = frags[k].index - 1;
        if (i < d->m) {
            memcpy(out + (size_t)i * d->f, frags[k].data, d->f);
            known[i] = 1;
            received++;
        }
    }
    d->l = 0;
    for (int i = 0; i < d->m; i++) {
        d->col[i] = known[i] ? -1 : d->l;
        if (!known[i])
            d->miss[d->l++] = i;
    }
    return received;
}

static int decoder_alloc(decoder *d, int m, size_t f)
{
    d->m = m;
    d->f = f;
    d->col = malloc((size_t)m * sizeof *d->col);
    d->miss = malloc((size_t)m * sizeof *d->miss);
    d->sel = malloc((size_t)m);
    d->p = malloc(f);
    return d->col && d->miss && d->sel && d->p ? 0 : -1;
}

/* The elimination's matrices, once the number of missing fragments l is
 * known (at least one word and one row, so that no size is 0). */
static int decoder_alloc_rows(decoder *d)
{
    size_t l = d->l > 0 ? (size_t)d->l : 1;
    d->words = (d->l + 63) / 64 > 0 ? (d->l + 63) / 64 : 1;
    d->held = calloc(l, 1);
    d->pay = malloc(l * d->f);
    d->rows = calloc(l * (size_t)d->words, sizeof *d->rows);
    d->v = malloc((size_t)d->words * sizeof *d->v);
    return d->held && d->pay && d->rows && d->v ? 0 : -1;
}

/* Redundancy row `row` with the received data fragments taken out (ch. 8
 * step 2 for the rows of received fragments, which are unit rows): the
 * missing ones it selects into d->v, the payload minus the received ones
 * into d->p. */
static void load_row(decoder *d, int row, const uint8_t *data,
                     const uint8_t *out)
{
    matrix_line(row, d->m, d->sel);
    memcpy(d->p, data, d->f);
    memset(d->v, 0, (size_t)d->words * sizeof *d->v);
    for (int i = 0; i < d->m; i++) {
        if (!d->sel[i])
            continue;
        if (d->col[i] < 0)
            xor_bytes(d->p, out + (size_t)i * d->f, d->f);
        else
            d->v[d->col[i] / 64] |= (uint64_t)1 << (d->col[i] % 64);
    }
}

/* Adds held row c to v (and its payload to p): a held row has no 1 left of
 * its pivot, so words before c's are untouched. */
static void add_row(const decoder *d, uint64_t *v, uint8_t *p, int c)
{
    const uint64_t *r = row_at(d, c);
    for (int w = c / 64; w < d->words; w++)
        v[w] ^= r[w];
    xor_bytes(p, d->pay + (size_t)c * d->f, d->f);
}

/* Ch. 8 steps 2 and 3: clears v's 1s from the left with the held rows;
 * returns the column of the first 1 no held row covers, or -1 when v
 * became zero (the fragment was the XOR of held ones). Adding row c
 * clears bit c and touches only bits to its right, so the scan moves
 * right and ends. */
static int reduce(const decoder *d, uint64_t *v, uint8_t *p)
{
    for (int w = 0; w < d->words; w++) {
        while (v[w]) {
            int c = w * 64 + __builtin_ctzll(v[w]);
            if (!d->held[c])
                return c;
            add_row(d, v, p, c);
        }
    }
    return -1;
}

static int is_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Ch. 8 step 5, carried to the end: from the last pivot back to the first,
 * clears every 1 of row c at another pivot's column with that pivot's row,
 * already cleared itself, so only non-pivot columns stay. */
static void back_substitute(decoder *d)
{
    for (int c = d->l - 1; c >= 0; c--) {
        if (!d->held[c])
            continue;
        uint64_t *r = row_at(d, c);
        uint8_t *p = d->pay + (size_t)c * d->f;
        for (int j = c + 1; j < d->l; j++)
            if (d->held[j] && bit_at(r, j))
                add_row(d, r, p, j);
    }
}

/* A held row equal to e_c determines missing fragment c (see the top). */
static int collect(const decoder *d, uint8_t *out, uint8_t *known)
{
    int solved = 0;
    for (int c = 0; c < d->l; c++) {
        if (!d->held[c])
            continue;
        const uint64_t *r = row_at(d, c);
        int unit = 1;
        for (int w = 0; w < d->words && unit; w++)
            unit = r[w] == (w == c / 64 ? (uint64_t)1 << (c % 64) : 0);
        if (!unit)
            continue;
        int i = d->miss[c];
        memcpy(out + (size_t)i * d->f, d->pay + (size_t)c * d->f, d->f);
        known[i] = 1;
        solved++;
    }
    return solved;
}

/* Every redundancy fragment through steps 2-3: kept at its pivot, or,
 * when it reduces to nothing, checked to carry nothing either. */
static int eliminate(decoder *d, const transport_fec_frag *frags, int count,
                     const uint8_t *out, transport_fec_result *r,
                     util_err *err)
{
    for (int k = 0; k < count; k++) {
        int idx = frags[k].index;
        if (idx <= d->m)
            continue;
        load_row(d, idx - d->m, frags[k].data, out);
        int c = reduce(d, d->v, d->p);
        if (c < 0) {
            if (!is_zero(d->p, d->f))
                return util_errf(err, "frags[%d]: fragment %d is the XOR of "
                                 "other received fragments but differs from "
                                 "it: the fragments contradict each other (one "
                                 "corrupted, or coded with another M or TS004 "
                                 "version)", k, idx);
            r->unused++;
            continue;
        }
        memcpy(row_at(d, c), d->v, (size_t)d->words * sizeof *d->v);
        memcpy(d->pay + (size_t)c * d->f, d->p, d->f);
        d->held[c] = 1;
        r->rank++;
    }
    return 0;
}

static int decode(decoder *d, int m, size_t f, const transport_fec_frag *frags,
                  int count, uint8_t *out, uint8_t *known,
                  transport_fec_result *r, util_err *err)
{
    if (decoder_alloc(d, m, f))
        return util_errf(err, "transport_fec_decode: out of memory");
    r->received = take_data(d, frags, count, out, known);
    r->rank = r->received;
    if (decoder_alloc_rows(d))
        return util_errf(err, "transport_fec_decode: out of memory for %d "
                         "missing fragments", d->l);
    if (eliminate(d, frags, count, out, r, err))
        return -1;
    back_substitute(d);
    r->solved = collect(d, out, known);
    r->recovered = r->received + r->solved;
    return 0;
}

int transport_fec_decode(int m_data, int n, size_t frag_size,
                         const transport_fec_frag *frags, int count,
                         uint8_t *out, uint8_t *known,
                         transport_fec_result *res, util_err *err)
{
    if (check_mnf(m_data, n, frag_size, err))
        return -1;
    if (count < 0 || count > n)
        return util_errf(err, "count: expected 0..%d fragments (N), got %d",
                         n, count);
    if (!out || !known || (count > 0 && !frags))
        return util_errf(err, "transport_fec_decode: NULL argument");
    transport_fec_result r = {0};
    memset(out, 0, (size_t)m_data * frag_size);
    memset(known, 0, (size_t)m_data);
    if (res)
        *res = r;
    if (check_frags(frags, count, n, err))
        return -1;
    decoder d = {0};
    int rc = decode(&d, m_data, frag_size, frags, count, out, known, &r, err);
    decoder_free(&d);
    if (rc) {
        memset(out, 0, (size_t)m_data * frag_size);
        memset(known, 0, (size_t)m_data);
        return -1;
    }
    if (res)
        *res = r;
    return 0;
}
