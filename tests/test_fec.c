/* TS004-1.0.0 forward error correction (transport/fec.c): parity rows
 * worked out by hand from the spec's procedure, then against a separate
 * transliteration of it; the encoder's XORs; the systematic part; exact
 * recovery from random losses; every loss pattern of small blocks against
 * the set of fragments that the received ones determine, found by brute
 * force without any elimination; contradictions; refused parameters.
 *
 * No published row vectors were found: the public implementations' tests
 * (Zephyr's tests/subsys/lorawan/frag_decoder) only round-trip random
 * data, and the one worked row in the spec, TS004-2.0.0 A.1's
 * "matrix_line(101,100) = 100'b0110010...", is an illustration that matches
 * neither version's generator (1.0.0's row 1 for M = 100 starts 0011011,
 * 2.0.0's line 101 starts 1000111), so it is not used. */
#include "testutil.h"

#include "transport/transport.h"
#include "util/util.h"

static util_err err;

/* ---- a reference generator, written apart from the library ----------------- */

/* prbs23 and matrix_line in the spec's own arithmetic (floor(x / 2),
 * bitand(x, 32) / 32, mod) rather than the library's shifts and masks, so
 * that a slip in either shows. */
static uint32_t ref_prbs23(uint32_t x)
{
    uint32_t b0 = x % 2, b1 = (x / 32) % 2;
    return x / 2 + (b0 != b1 ? 4194304u : 0u);
}

static int ref_pow2(int m)
{
    for (int p = 1; p <= m; p *= 2)
        if (p == m)
            return 1;
    return 0;
}

/* TS004-1.0.0: seed from the redundancy row number, every draw counts. */
static void ref_line_v1(int row, int m, uint8_t *line)
{
    uint32_t mm = (uint32_t)(m + ref_pow2(m));
    uint32_t x = 1 + 1001 * (uint32_t)row;
    for (int i = 0; i < m; i++)
        line[i] = 0;
    for (int nb = 0; nb < m / 2; nb++) {
        uint32_t r = 65536;
        while (r >= (uint32_t)m) {
            x = ref_prbs23(x);
            r = x % mm;
        }
        line[r] = 1;
    }
}

/* TS004-2.0.0 A.5, for contrast: seeded from the coded index N > M, and
 * only draws that set a new bit count. */
static void ref_line_v2(int n, int m, uint8_t *line)
{
    uint32_t mm = (uint32_t)(m + ref_pow2(m));
    uint32_t x = 1 + 1001 * (uint32_t)n;
    for (int i = 0; i < m; i++)
        line[i] = 0;
    for (int nb = 0; nb < m / 2;) {
        uint32_t r = 65536;
        while (r >= (uint32_t)m) {
            x = ref_prbs23(x);
            r = x % mm;
        }
        if (!line[r]) {
            line[r] = 1;
            nb++;
        }
    }
}

static void row_of(int row, int m, uint8_t *sel)
{
    if (transport_fec_parity_row(row, m, sel, &err))
        fail_msg("transport_fec_parity_row(%d, %d): %s", row, m, err.msg);
}

static void expect_row(int row, int m, const uint8_t *want)
{
    uint8_t got[TRANSPORT_FEC_M_MAX];
    row_of(row, m, got);
    for (int i = 0; i < m; i++)
        if (got[i] != want[i])
            fail_msg("row %d of M = %d: column %d is %d, expected %d", row, m,
                     i + 1, got[i], want[i]);
}

/* ---- rows -------------------------------------------------------------------- */

/* The recurrence has the period of a maximal 23-bit LFSR, as fec.c says. */
static void test_prbs23_period(void **state)
{
    (void)state;
    uint32_t x = 1;
    long steps = 0;
    do {
        x = ref_prbs23(x);
        steps++;
    } while (x != 1 && steps <= (1L << 23));
    assert_int_equal(steps, (1L << 23) - 1);
}

/* Rows worked by hand. Seed x = 1 + 1001 * row; a draw sets x =
 * floor(x / 2) + (bit0(x) XOR bit5(x)) * 2^22 and r = x mod M (mod M + 1
 * when M is a power of two, redrawing r = M); floor(M / 2) draws; a draw
 * sets column r + 1. Residues use 2^22 = 4194304 == 1 (mod 3), == 4 (mod
 * 5); 2^21 == 2 (mod 3). */
static void test_rows_by_hand(void **state)
{
    (void)state;
    /* M = 3, row 1: one draw mod 3. x = 1002 = 0b1111101010: bit0 0, bit5
     * 1, so x = 501 + 2^22 = 4194805 == 1 + 0 (501 == 0 mod 3): r = 1,
     * column 2. Redundancy fragment 1 is B2. */
    expect_row(1, 3, (const uint8_t[]){0, 1, 0});
    /* M = 3, row 2: x = 2003 = 0b11111010011: bit0 1, bit5 0, so x = 1001 +
     * 2^22 = 4195305 == 1 + 2 == 0 (mod 3): r = 0, column 1. */
    expect_row(2, 3, (const uint8_t[]){1, 0, 0});
    /* M = 2, a power of two: mod 3. Row 1 draws 4194805 == 1 (as above),
     * r = 1 < 2: column 2. */
    expect_row(1, 2, (const uint8_t[]){0, 1});
    /* M = 2, row 10: x = 10011 = 0b10011100011011: bit0 1, bit5 0, so x =
     * 5005 + 2^22 = 4199309 == 1 + 1 = 2 (mod 3): r = M, redrawn. Then
     * bit0 1, bit5 0 (5005 = 0b1001110001101), so x = 2099654 + 2^22 =
     * 6293958 = 2^22 + 2^21 + 2502 == 1 + 2 + 0 == 0: r = 0, column 1.
     * Plain mod 2 would have taken 4199309 mod 2 = 1, column 2. */
    expect_row(10, 2, (const uint8_t[]){1, 0});
    /* M = 4, row 1: two draws mod 5. 4194805 ends in 5: r = 0. Then bit0 1,
     * bit5 1 (501 = 0b111110101): x = 2097402, r = 2. Columns 1 and 3. */
    expect_row(1, 4, (const uint8_t[]){1, 0, 1, 0});
    /* M = 4, row 9: x = 9010 = 0b10001100110010: bit0 0, bit5 1, x = 4505 +
     * 2^22 = 4198809 == 4 (mod 5) = M, redrawn; bit0 1, bit5 0 (4505 =
     * 0b1000110011001), x = 2099404 + 2^22 = 6293708 == 3: r = 3. Second
     * draw: bit0 0, bit5 0 (2099404 = 2^21 + 2252, 2252 = 0b100011001100),
     * x = 3146854 == 4, redrawn; bit0 0, bit5 1 (3146854 = 2^21 + 2^20 +
     * 1126, 1126 = 0b10001100110), x = 1573427 + 2^22 = 5767731 == 1: r =
     * 1. Columns 4 and 2. */
    expect_row(9, 4, (const uint8_t[]){0, 1, 0, 1});
    /* M = 6, row 1: three draws mod 6. 4194805 is odd and == 1 (mod 3): r =
     * 1. 2097402 = 2^21 + 250 is even and == 2 + 1 == 0 (mod 3): r = 0.
     * bit0 0, bit5 1 (250 = 0b11111010): x = 1048701 + 2^22 = 5243005, odd
     * and == 1 + 1 + 2 == 1 (mod 3; 1048701 = 2^20 + 125): r = 1 again. The
     * repeat leaves two ones, not three: TS004-1.0.0 counts every draw
     * (2.0.0 would draw on). */
    expect_row(1, 6, (const uint8_t[]){1, 1, 0, 0, 0, 0});
    /* M = 1: floor(1 / 2) = 0 draws, an empty row. */
    expect_row(1, 1, (const uint8_t[]){0});
    expect_row(TRANSPORT_FEC_N_MAX - 1, 1, (const uint8_t[]){0});
}

/* The library against the reference for many sizes (odd, even, powers of
 * two and their neighbours) over their first rows and their last. */
static void check_rows(int m)
{
    static uint8_t got[TRANSPORT_FEC_M_MAX], want[TRANSPORT_FEC_M_MAX];
    int last = TRANSPORT_FEC_N_MAX - m;
    for (int row = 1; row <= last; row++) {
        if (row == 41)
            row = last - 40;
        row_of(row, m, got);
        ref_line_v1(row, m, want);
        if (memcmp(got, want, (size_t)m))
            fail_msg("row %d of M = %d differs from the reference", row, m);
    }
}

static void test_rows_reference(void **state)
{
    (void)state;
    static const int sizes[] = {100, 127, 128, 129, 255, 256, 257, 511, 512,
                                1000, 1023, 1024};
    for (int m = 1; m <= 70; m++)
        check_rows(m);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        check_rows(sizes[k]);
}

/* Every row of the largest blocks and of small powers of two can be made
 * (each redraw loop ends), and about half the columns are selected. */
static void test_rows_all(void **state)
{
    (void)state;
    static const int sizes[] = {2, 4, 8, 1000, 1024};
    static uint8_t sel[TRANSPORT_FEC_M_MAX];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int m = sizes[k];
        long ones = 0, rows = TRANSPORT_FEC_N_MAX - m;
        for (int row = 1; row <= rows; row++) {
            row_of(row, m, sel);
            for (int i = 0; i < m; i++)
                ones += sel[i];
        }
        /* floor(m / 2) draws with repeats: m (1 - (1 - 1/m)^(m/2)), about
         * 0.39 m for large m; at most m / 2 in any case. */
        double mean = (double)ones / (double)rows;
        assert_true(mean <= m / 2);
        if (m >= 1000)
            assert_true(mean > 0.38 * m && mean < 0.41 * m);
    }
}

/* The library is 1.0.0, not 2.0.0: the two differ on these rows. */
static void test_not_v2(void **state)
{
    (void)state;
    uint8_t v1[6], v2[6];
    row_of(1, 6, v1);
    ref_line_v2(7, 6, v2);
    int ones2 = 0;
    for (int i = 0; i < 6; i++)
        ones2 += v2[i];
    assert_int_equal(ones2, 3);
    assert_memory_not_equal(v1, v2, 6);
    /* Row 1 of M = 32 under both numberings. */
    uint8_t a[32], b[32];
    row_of(1, 32, a);
    ref_line_v2(33, 32, b);
    assert_memory_not_equal(a, b, 32);
}

/* ---- encoding ---------------------------------------------------------------- */

static void random_bytes(util_rng *rng, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)util_rng_below(rng, 256);
}

static void encode(const uint8_t *data, int m, size_t f, int n, uint8_t *par)
{
    if (transport_fec_encode(data, m, f, n, par, &err))
        fail_msg("transport_fec_encode(M %d, N %d, F %zu): %s", m, n, f,
                 err.msg);
}

static void test_encode_by_hand(void **state)
{
    (void)state;
    /* M = 3: rows 1 and 2 select B2 and B1 (test_rows_by_hand). */
    const uint8_t data[3 * 2] = {0x11, 0x12, 0x21, 0x22, 0x31, 0x32};
    uint8_t par[2 * 2];
    encode(data, 3, 2, 5, par);
    assert_memory_equal(par, ((const uint8_t[]){0x21, 0x22, 0x11, 0x12}), 4);
    /* M = 4, row 1 selects B1 and B3. */
    const uint8_t d4[4] = {0x01, 0x02, 0x04, 0x08};
    uint8_t p4[1];
    encode(d4, 4, 1, 5, p4);
    assert_int_equal(p4[0], 0x05);
    /* N = M writes nothing and needs no buffer. */
    assert_int_equal(transport_fec_encode(d4, 4, 1, 4, NULL, &err), 0);
}

/* Each redundancy fragment is the XOR its row selects. */
static void test_encode_rows(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 7);
    enum { M = 37, N = 80, F = 5 };
    uint8_t data[M * F], par[(N - M) * F], sel[M];
    random_bytes(&rng, data, sizeof data);
    encode(data, M, F, N, par);
    for (int row = 1; row <= N - M; row++) {
        uint8_t want[F] = {0};
        row_of(row, M, sel);
        for (int i = 0; i < M; i++)
            for (int b = 0; sel[i] && b < F; b++)
                want[b] ^= data[i * F + b];
        assert_memory_equal(par + (row - 1) * F, want, F);
    }
}

static void test_split(void **state)
{
    (void)state;
    const char msg[] = "0123456789";
    uint8_t *block = NULL;
    int m = 0;
    assert_int_equal(transport_fec_split(msg, 10, 4, &block, &m, &err), 0);
    assert_int_equal(m, 3);
    assert_memory_equal(block, "0123456789\0\0", 12);
    free(block);
    assert_int_equal(transport_fec_split(msg, 8, 4, &block, &m, &err), 0);
    assert_int_equal(m, 2);
    assert_memory_equal(block, "01234567", 8);
    free(block);
    assert_int_equal(transport_fec_split(msg, 1, 1, &block, &m, &err), 0);
    assert_int_equal(m, 1);
    free(block);
    /* The largest block, and one byte more. */
    size_t big = (size_t)TRANSPORT_FEC_M_MAX * 3;
    uint8_t *src = calloc(big + 1, 1);
    assert_non_null(src);
    assert_int_equal(transport_fec_split(src, big, 3, &block, &m, &err), 0);
    assert_int_equal(m, TRANSPORT_FEC_M_MAX);
    free(block);
    assert_int_equal(transport_fec_split(src, big + 1, 3, &block, &m, &err), -1);
    assert_null(block);
    assert_string_equal(err.msg, "message: 3073 bytes need 1025 fragments of 3 "
                        "bytes, more than M = 1024");
    free(src);
}

/* ---- decoding helpers ---------------------------------------------------------- */

/* A block and its coded fragments: data fragments, then redundancy. */
typedef struct block {
    int m, n;
    size_t f;
    uint8_t *coded;   /* n * f: coded fragment i at (i - 1) * f */
} block;

static block make_block(util_rng *rng, int m, int n, size_t f)
{
    block b = {m, n, f, malloc((size_t)n * f)};
    assert_non_null(b.coded);
    random_bytes(rng, b.coded, (size_t)m * f);
    encode(b.coded, m, f, n, b.coded + (size_t)m * f);
    return b;
}

static const uint8_t *frag_data(const block *b, int index)
{
    return b->coded + (size_t)(index - 1) * b->f;
}

/* Decodes the coded fragments whose indices are listed; fails the test on
 * an error. */
static void decode_list(const block *b, const int *idx, int count,
                        uint8_t *out, uint8_t *known, transport_fec_result *r)
{
    transport_fec_frag *fr = malloc(((size_t)count + 1) * sizeof *fr);
    assert_non_null(fr);
    for (int k = 0; k < count; k++)
        fr[k] = (transport_fec_frag){idx[k], frag_data(b, idx[k])};
    if (transport_fec_decode(b->m, b->n, b->f, fr, count, out, known, r, &err))
        fail_msg("transport_fec_decode(M %d, N %d): %s", b->m, b->n, err.msg);
    free(fr);
}

/* What must hold of any result: recovered fragments are the original
 * ones, unrecovered ones zeros, received data fragments all known, and the
 * counts add up. */
static void check_result(const block *b, const int *idx, int count,
                         const uint8_t *out, const uint8_t *known,
                         const transport_fec_result *r)
{
    int data_in = 0, parity_in = 0, flagged = 0;
    for (int k = 0; k < count; k++) {
        if (idx[k] <= b->m) {
            data_in++;
            assert_int_equal(known[idx[k] - 1], 1);
        } else {
            parity_in++;
        }
    }
    static const uint8_t zeros[TRANSPORT_FEC_F_MAX];
    for (int i = 0; i < b->m; i++) {
        const uint8_t *got = out + (size_t)i * b->f;
        assert_true(known[i] == 0 || known[i] == 1);
        flagged += known[i];
        if (known[i] && memcmp(got, frag_data(b, i + 1), b->f))
            fail_msg("M %d N %d: data fragment %d claimed but wrong", b->m,
                     b->n, i + 1);
        if (!known[i] && memcmp(got, zeros, b->f))
            fail_msg("data fragment %d not recovered but not zeros", i + 1);
    }
    assert_int_equal(r->received, data_in);
    assert_int_equal(r->recovered, flagged);
    assert_int_equal(r->solved, flagged - data_in);
    assert_true(r->rank >= r->recovered && r->rank <= b->m);
    assert_int_equal(r->unused, parity_in - (r->rank - data_in));
}

/* ---- decoding ------------------------------------------------------------------ */

/* With every data fragment in, the block is just those fragments: nothing
 * is solved, and the redundancy fragments are only checked. */
static void test_systematic(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 11);
    block b = make_block(&rng, 50, 70, 9);
    uint8_t out[50 * 9], known[50];
    transport_fec_result r;
    int idx[70];
    /* The data fragments alone, in order. */
    for (int k = 0; k < 50; k++)
        idx[k] = k + 1;
    decode_list(&b, idx, 50, out, known, &r);
    assert_memory_equal(out, b.coded, sizeof out);
    assert_int_equal(r.received, 50);
    assert_int_equal(r.solved, 0);
    assert_int_equal(r.rank, 50);
    assert_int_equal(r.unused, 0);
    /* All 70, redundancy first, data backwards: the same, 20 unused. */
    for (int k = 0; k < 70; k++)
        idx[k] = k < 20 ? 51 + k : 50 - (k - 20);
    decode_list(&b, idx, 70, out, known, &r);
    assert_memory_equal(out, b.coded, sizeof out);
    assert_int_equal(r.recovered, 50);
    assert_int_equal(r.solved, 0);
    assert_int_equal(r.unused, 20);
    check_result(&b, idx, 70, out, known, &r);
    /* Nothing received: nothing known. */
    decode_list(&b, NULL, 0, out, known, &r);
    assert_int_equal(r.recovered, 0);
    assert_int_equal(r.rank, 0);
    free(b.coded);
}

/* One missing data fragment and the one redundancy fragment that selects
 * it with received ones: M = 3, fragment 4 is B2 (row 1 selects B2). */
static void test_single_loss(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 3);
    block b = make_block(&rng, 3, 5, 4);
    uint8_t out[12], known[3];
    transport_fec_result r;
    decode_list(&b, (const int[]){1, 3, 4}, 3, out, known, &r);
    assert_memory_equal(known, ((const uint8_t[]){1, 1, 1}), 3);
    assert_memory_equal(out, b.coded, 12);
    assert_int_equal(r.solved, 1);
    /* Fragment 5 is B1: with only 4 and 5, B1 and B2 but not B3. */
    decode_list(&b, (const int[]){5, 4}, 2, out, known, &r);
    assert_memory_equal(known, ((const uint8_t[]){1, 1, 0}), 3);
    check_result(&b, (const int[]){5, 4}, 2, out, known, &r);
    free(b.coded);
}

/* Random blocks and random losses: what is claimed is right, the result is
 * the same in any order, and with a margin of fragments beyond M nearly
 * every block is complete. */
static void test_random_losses(void **state)
{
    (void)state;
    static const struct { int m, n, f, trials; } cases[] = {
        {10, 25, 7, 400}, {32, 48, 20, 300}, {64, 96, 3, 200},
        {100, 130, 51, 100}, {128, 170, 13, 100}, {255, 300, 1, 50},
        {1024, 1100, 4, 6},
    };
    util_rng rng;
    util_rng_seed(&rng, 2024);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int m = cases[c].m, n = cases[c].n, complete = 0, margin = 0;
        size_t f = (size_t)cases[c].f;
        block b = make_block(&rng, m, n, f);
        uint8_t *out = malloc((size_t)m * f), *out2 = malloc((size_t)m * f);
        uint8_t *known = malloc((size_t)m), *known2 = malloc((size_t)m);
        int *idx = malloc((size_t)n * sizeof *idx);
        assert_true(out && out2 && known && known2 && idx);
        for (int t = 0; t < cases[c].trials; t++) {
            /* A random number of fragments kept, M - 5 .. N, in random
             * order (a partial Fisher-Yates shuffle of 1..N). */
            int keep = m - 5 + (int)util_rng_below(&rng, (uint64_t)(n - m + 6));
            if (keep < 0)
                keep = 0;
            for (int i = 0; i < n; i++)
                idx[i] = i + 1;
            for (int i = 0; i < keep; i++) {
                int j = i + (int)util_rng_below(&rng, (uint64_t)(n - i));
                int tmp = idx[i];
                idx[i] = idx[j];
                idx[j] = tmp;
            }
            transport_fec_result r, r2;
            decode_list(&b, idx, keep, out, known, &r);
            check_result(&b, idx, keep, out, known, &r);
            /* Reversed order: the same result. */
            for (int i = 0; i < keep / 2; i++) {
                int tmp = idx[i];
                idx[i] = idx[keep - 1 - i];
                idx[keep - 1 - i] = tmp;
            }
            decode_list(&b, idx, keep, out2, known2, &r2);
            assert_memory_equal(out, out2, (size_t)m * f);
            assert_memory_equal(known, known2, (size_t)m);
            assert_memory_equal(&r, &r2, sizeof r);
            if (keep >= m + 10) {
                margin++;
                complete += r.recovered == m;
            }
        }
        /* A dense random GF(2) matrix with 10 rows to spare has full rank
         * with probability about 1 - 2^-10. */
        if (margin > 0 && complete < margin - margin / 20 - 1)
            fail_msg("M %d: %d of %d blocks complete with M + 10 fragments",
                     m, complete, margin);
        free(b.coded);
        free(out);
        free(out2);
        free(known);
        free(known2);
        free(idx);
    }
}

/* Every subset of the N coded fragments of small blocks. The expected
 * result comes without elimination: the code is linear, so the received
 * fragments pin data fragment j down exactly when every difference d of
 * two data blocks (a bit per fragment, 2^M of them) that changes none of
 * the received coded fragments leaves fragment j unchanged too. The rank
 * of the received rows is M - log2 of the number of such d. */
static void exhaustive(int m, int n, util_rng *rng, long *partial)
{
    enum { F = 2 };
    block b = make_block(rng, m, n, F);
    uint32_t code[1 << 10];
    uint8_t sel[16];
    uint32_t rowmask[16] = {0};
    for (int row = 1; row <= n - m; row++) {
        row_of(row, m, sel);
        for (int i = 0; i < m; i++)
            rowmask[row - 1] |= (uint32_t)sel[i] << i;
    }
    /* code[d]: bit k set when coded fragment k + 1 changes under d. */
    for (uint32_t d = 0; d < (1u << m); d++) {
        code[d] = d;
        for (int row = 1; row <= n - m; row++)
            code[d] |= (uint32_t)(__builtin_popcount(d & rowmask[row - 1]) & 1)
                       << (m + row - 1);
    }
    uint8_t out[10 * F], known[10];
    int idx[16];
    for (uint32_t s = 0; s < (1u << n); s++) {
        uint32_t free_bits = 0;
        int kernel = 0, count = 0;
        for (uint32_t d = 0; d < (1u << m); d++) {
            if (code[d] & s)
                continue;
            free_bits |= d;
            kernel++;
        }
        for (int k = 0; k < n; k++)
            if (s >> k & 1)
                idx[count++] = k + 1;
        transport_fec_result r;
        decode_list(&b, idx, count, out, known, &r);
        check_result(&b, idx, count, out, known, &r);
        for (int i = 0; i < m; i++)
            if (known[i] != !(free_bits >> i & 1))
                fail_msg("M %d N %d subset 0x%x: fragment %d %s, expected %s",
                         m, n, s, i + 1, known[i] ? "claimed" : "missed",
                         known[i] ? "undetermined" : "determined");
        int log2k = 0;
        while ((1 << log2k) < kernel)
            log2k++;
        assert_int_equal(1 << log2k, kernel);
        assert_int_equal(r.rank, m - log2k);
        *partial += r.recovered > 0 && r.recovered < m && r.solved > 0;
    }
    free(b.coded);
}

static void test_every_loss_pattern(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 5);
    long partial = 0;
    for (int m = 1; m <= 8; m++)
        exhaustive(m, m + 4, &rng, &partial);
    exhaustive(9, 12, &rng, &partial);
    exhaustive(10, 13, &rng, &partial);
    /* Partial recovery (some fragments solved, the block incomplete) does
     * occur, so the per-fragment answer was tested, not only all or
     * nothing. */
    assert_true(partial > 1000);
}

/* ---- contradictions ------------------------------------------------------------ */

static void test_contradiction(void **state)
{
    (void)state;
    util_rng rng;
    util_rng_seed(&rng, 9);
    block b = make_block(&rng, 4, 8, 3);
    transport_fec_frag fr[8];
    for (int k = 0; k < 8; k++)
        fr[k] = (transport_fec_frag){k + 1, frag_data(&b, k + 1)};
    uint8_t bad[3];
    memcpy(bad, frag_data(&b, 6), 3);
    bad[1] ^= 0x40;
    fr[5].data = bad;
    uint8_t out[12], known[4];
    transport_fec_result r = {1, 1, 1, 1, 1};
    assert_int_equal(transport_fec_decode(4, 8, 3, fr, 8, out, known, &r, &err), -1);
    assert_string_equal(err.msg, "frags[5]: fragment 6 is the XOR of other "
                        "received fragments but differs from it: the fragments "
                        "contradict each other (one corrupted, or coded with "
                        "another M or TS004 version)");
    assert_memory_equal(known, ((const uint8_t[]){0, 0, 0, 0}), 4);
    static const uint8_t zeros[12];
    assert_memory_equal(out, zeros, 12);
    assert_int_equal(r.recovered, 0);
    assert_int_equal(r.rank, 0);
    /* M = 1: every redundancy fragment is zeros; one that is not is
     * refused even with fragment 1 missing. */
    uint8_t one[3] = {0, 0, 1};
    transport_fec_frag f1[1] = {{2, one}};
    assert_int_equal(transport_fec_decode(1, 3, 3, f1, 1, out, known, &r, &err), -1);
    one[2] = 0;
    assert_int_equal(transport_fec_decode(1, 3, 3, f1, 1, out, known, &r, &err), 0);
    assert_int_equal(r.recovered, 0);
    assert_int_equal(r.unused, 1);
    /* A corrupted fragment that nothing else implies goes unnoticed: the
     * solved fragment is then wrong (fec.c leaves this to integrity
     * checks). M = 3, fragments 1, 3 and a corrupted 4 (= B2). */
    block c = make_block(&rng, 3, 5, 3);
    uint8_t bad4[3];
    memcpy(bad4, frag_data(&c, 4), 3);
    bad4[0] ^= 1;
    transport_fec_frag f3[3] = {{1, frag_data(&c, 1)}, {3, frag_data(&c, 3)},
                                {4, bad4}};
    assert_int_equal(transport_fec_decode(3, 5, 3, f3, 3, out, known, &r, &err), 0);
    assert_int_equal(r.recovered, 3);
    assert_memory_equal(out + 3, bad4, 3);
    free(b.coded);
    free(c.coded);
}

/* ---- refusals ------------------------------------------------------------------ */

static void expect_err(int rc, const char *says)
{
    assert_int_equal(rc, -1);
    if (!strstr(err.msg, says))
        fail_msg("got \"%s\", expected \"%s\"", err.msg, says);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t sel[8], data[64] = {0}, par[64], out[64];
    uint8_t known[8];
    /* Rows. */
    expect_err(transport_fec_parity_row(1, 0, sel, &err),
               "M: expected 1..1024 data fragments, got 0");
    expect_err(transport_fec_parity_row(1, 1025, sel, &err),
               "M: expected 1..1024 data fragments, got 1025");
    expect_err(transport_fec_parity_row(0, 4, sel, &err),
               "row: expected redundancy row 1..16379 (N at most 16383), got 0");
    expect_err(transport_fec_parity_row(16380, 4, sel, &err), "got 16380");
    expect_err(transport_fec_parity_row(1, 4, NULL, &err), "NULL argument");
    assert_int_equal(transport_fec_parity_row(16379, 4, sel, &err), 0);
    /* Encoding. */
    expect_err(transport_fec_encode(data, 0, 4, 4, par, &err),
               "M: expected 1..1024 data fragments, got 0");
    expect_err(transport_fec_encode(data, 4, 4, 3, par, &err),
               "N: expected 4..16383 coded fragments (at least M = 4), got 3");
    expect_err(transport_fec_encode(data, 4, 4, 16384, par, &err), "got 16384");
    expect_err(transport_fec_encode(data, 4, 0, 8, par, &err),
               "F: expected 1..4096 bytes per fragment, got 0");
    expect_err(transport_fec_encode(data, 4, 4097, 8, par, &err), "got 4097");
    expect_err(transport_fec_encode(NULL, 4, 4, 8, par, &err), "NULL argument");
    expect_err(transport_fec_encode(data, 4, 4, 8, NULL, &err), "NULL argument");
    /* Splitting. */
    uint8_t *block = (uint8_t *)1;
    int m;
    expect_err(transport_fec_split("x", 0, 4, &block, &m, &err),
               "message: empty, nothing to fragment");
    assert_null(block);
    expect_err(transport_fec_split("x", 1, 0, &block, &m, &err),
               "F: expected 1..4096 bytes per fragment, got 0");
    expect_err(transport_fec_split(NULL, 1, 4, &block, &m, &err), "NULL argument");
    expect_err(transport_fec_split("x", 1, 4, NULL, &m, &err), "NULL argument");
    /* Decoding: bad sizes write nothing. */
    transport_fec_frag fr[4] = {{1, data}, {5, data}, {3, data}, {2, data}};
    transport_fec_result r = {7, 7, 7, 7, 7};
    memset(known, 0xAA, sizeof known);
    expect_err(transport_fec_decode(0, 8, 4, fr, 4, out, known, &r, &err),
               "M: expected 1..1024 data fragments, got 0");
    expect_err(transport_fec_decode(4, 3, 4, fr, 4, out, known, &r, &err),
               "N: expected 4..16383 coded fragments (at least M = 4), got 3");
    expect_err(transport_fec_decode(4, 8, 0, fr, 4, out, known, &r, &err),
               "F: expected 1..4096 bytes per fragment, got 0");
    expect_err(transport_fec_decode(4, 8, 4, fr, -1, out, known, &r, &err),
               "count: expected 0..8 fragments (N), got -1");
    expect_err(transport_fec_decode(4, 8, 4, fr, 9, out, known, &r, &err),
               "count: expected 0..8 fragments (N), got 9");
    expect_err(transport_fec_decode(4, 8, 4, NULL, 4, out, known, &r, &err),
               "NULL argument");
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, NULL, known, &r, &err),
               "NULL argument");
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, out, NULL, &r, &err),
               "NULL argument");
    assert_int_equal(known[0], 0xAA);
    assert_int_equal(r.received, 7);
    /* Bad fragments: outputs left zeros. */
    fr[1].index = 9;
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, out, known, &r, &err),
               "frags[1]: index 9 outside 1..N = 1..8");
    assert_int_equal(known[0], 0);
    assert_int_equal(r.received, 0);
    fr[1].index = 0;
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, out, known, &r, &err),
               "frags[1]: index 0 outside 1..N = 1..8");
    fr[1].index = 3;
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, out, known, &r, &err),
               "frags[2]: index 3 given twice (also frags[1])");
    fr[1].index = 5;
    fr[3].data = NULL;
    expect_err(transport_fec_decode(4, 8, 4, fr, 4, out, known, &r, &err),
               "frags[3]: index 2 has no data");
    /* A NULL err and NULL res are allowed. */
    assert_int_equal(transport_fec_decode(0, 8, 4, fr, 4, out, known, NULL, NULL), -1);
    fr[3].data = data;
    assert_int_equal(transport_fec_decode(4, 8, 4, fr, 4, out, known, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prbs23_period),
        cmocka_unit_test(test_rows_by_hand),
        cmocka_unit_test(test_rows_reference),
        cmocka_unit_test(test_rows_all),
        cmocka_unit_test(test_not_v2),
        cmocka_unit_test(test_encode_by_hand),
        cmocka_unit_test(test_encode_rows),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_systematic),
        cmocka_unit_test(test_single_loss),
        cmocka_unit_test(test_random_losses),
        cmocka_unit_test(test_every_loss_pattern),
        cmocka_unit_test(test_contradiction),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
