/*
 * A static-model binary arithmetic coder for the LimitNet bitstream, the
 * alternative to Huffman codes: the same per-channel statistics from
 * training data, as frequencies summing to 2^CODEC_LN_FREQ_BITS, but a
 * symbol costs -log2(p) bits rather than a whole number of bits, which
 * matters where one level (the ReLU zero) is far more likely than half.
 *
 * The integer coder of Witten, Neal and Cleary (CACM 1987) with 32-bit
 * registers and 64-bit products: a packet pays at most 2 bits plus the
 * pending ones to terminate, and the encoder knows before each symbol
 * whether it and the termination still fit, so packets are filled exactly.
 * The decoder reads zeros past the end of a packet, which is what the
 * encoder's termination assumes.
 */
#include "codec/limitnet.h"

#include <string.h>

#define TOP 0xffffffffu
#define HALF 0x80000000u
#define QUARTER 0x40000000u

int codec_ln_freq_build(const uint16_t *freq, int n, codec_ln_freq *f,
                        util_err *err)
{
    if (n < 1 || n > CODEC_LN_MAX_LEVELS)
        return util_errf(err, "arith: %d symbols", n);
    uint32_t sum = 0;
    f->n = n;
    f->cum[0] = 0;
    for (int i = 0; i < n; i++) {
        sum += freq[i];
        if (sum > CODEC_LN_FREQ_TOTAL)
            break;
        f->cum[i + 1] = (uint16_t)sum;
    }
    if (sum != CODEC_LN_FREQ_TOTAL)
        return util_errf(err, "frequencies sum to %u, not %u", sum,
                         CODEC_LN_FREQ_TOTAL);
    return 0;
}

int codec_ln_freq_scale(const uint64_t *counts, int n, uint16_t *freq,
                        util_err *err)
{
    if (n < 1 || n > CODEC_LN_MAX_LEVELS)
        return util_errf(err, "arith: %d symbols", n);
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += counts[i];
    if (total == 0)
        return util_errf(err, "arith: no symbol has a positive count");
    /* Every symbol keeps at least 1 so that none is impossible; the
     * remainder goes to the most frequent symbol. */
    uint32_t budget = CODEC_LN_FREQ_TOTAL - (uint32_t)n, sum = 0;
    int big = 0;
    for (int i = 0; i < n; i++) {
        freq[i] = (uint16_t)(1 + (uint64_t)budget * counts[i] / total);
        sum += freq[i];
        big = counts[i] > counts[big] ? i : big;
    }
    freq[big] = (uint16_t)(freq[big] + (CODEC_LN_FREQ_TOTAL - sum));
    return 0;
}

/* ---- encoder ------------------------------------------------------------------- */

static int emit(codec_ln_arith *a, int bit)
{
    if (codec_ln_bits_put(&a->b, (uint32_t)bit, 1))
        return -1;
    for (; a->pending; a->pending--)
        if (codec_ln_bits_put(&a->b, (uint32_t)!bit, 1))
            return -1;
    return 0;
}

void codec_ln_arith_start(codec_ln_arith *a, uint8_t *buf, size_t cap)
{
    memset(a, 0, sizeof *a);
    a->high = TOP;
    a->b = (codec_ln_bits){buf, cap, 0};
}

/* Narrows [low, high] to symbol s and shifts out settled bits. */
static int narrow(codec_ln_arith *a, const codec_ln_freq *f, int s, int encoding)
{
    uint64_t range = (uint64_t)a->high - a->low + 1;
    a->high = a->low + (uint32_t)(range * f->cum[s + 1] / CODEC_LN_FREQ_TOTAL - 1);
    a->low = a->low + (uint32_t)(range * f->cum[s] / CODEC_LN_FREQ_TOTAL);
    for (;;) {
        if (a->high < HALF) {
            if (encoding && emit(a, 0))
                return -1;
        } else if (a->low >= HALF) {
            if (encoding && emit(a, 1))
                return -1;
            a->low -= HALF, a->high -= HALF, a->value -= HALF;
        } else if (a->low >= QUARTER && a->high < HALF + QUARTER) {
            a->pending++;
            a->low -= QUARTER, a->high -= QUARTER, a->value -= QUARTER;
        } else {
            return 0;
        }
        a->low <<= 1;
        a->high = (a->high << 1) | 1;
        if (!encoding)
            a->value = (a->value << 1) | (uint32_t)codec_ln_bits_get(&a->b);
    }
}

/* Bits the termination would add now: one decisive bit, the pending ones,
 * and one more to leave the interval unambiguous. */
static size_t finish_bits(const codec_ln_arith *a)
{
    return 2 + a->pending;
}

int codec_ln_arith_put(codec_ln_arith *a, const codec_ln_freq *f, int s)
{
    if (s < 0 || s >= f->n || f->cum[s + 1] == f->cum[s])
        return -1;
    codec_ln_arith saved = *a;
    if (narrow(a, f, s, 1) || a->b.pos + finish_bits(a) > a->b.cap * 8) {
        *a = saved; /* bits written past the old position are ignored */
        return -1;
    }
    return 0;
}

size_t codec_ln_arith_finish(codec_ln_arith *a)
{
    a->pending++;
    /* codec_ln_arith_put kept room for these bits. */
    (void)emit(a, a->low >= QUARTER);
    size_t bytes = (a->b.pos + 7) / 8;
    /* Zero the unused tail of the last byte, so packets are deterministic. */
    if (a->b.pos & 7)
        a->b.buf[a->b.pos >> 3] &= (uint8_t)(0xff00 >> (a->b.pos & 7));
    return bytes;
}

/* ---- decoder ------------------------------------------------------------------- */

void codec_ln_arith_start_read(codec_ln_arith *a, const uint8_t *buf, size_t len)
{
    memset(a, 0, sizeof *a);
    a->high = TOP;
    /* The reader only reads; the cast fits the writer's struct. */
    a->b = (codec_ln_bits){(uint8_t *)buf, len, 0};
    for (int i = 0; i < 32; i++)
        a->value = (a->value << 1) | (uint32_t)codec_ln_bits_get(&a->b);
}

int codec_ln_arith_get(codec_ln_arith *a, const codec_ln_freq *f)
{
    uint64_t range = (uint64_t)a->high - a->low + 1;
    uint64_t cum = (((uint64_t)(a->value - a->low) + 1) * CODEC_LN_FREQ_TOTAL - 1) / range;
    if (a->value < a->low || a->value > a->high || cum >= CODEC_LN_FREQ_TOTAL)
        return -1;
    int lo = 0, hi = f->n - 1;
    while (lo < hi) { /* the last s with cum[s] <= cum */
        int mid = (lo + hi + 1) / 2;
        if (f->cum[mid] <= cum)
            lo = mid;
        else
            hi = mid - 1;
    }
    narrow(a, f, lo, 0);
    return lo;
}
