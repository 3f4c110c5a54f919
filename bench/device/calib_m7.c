/*
 * Calibrates device/m7's instruction counter on QEMU mps2-an500 with
 * -icount shift=0: SysTick ticks over loops of a known instruction count.
 *
 * The loop is two Thumb-2 instructions per iteration (`subs; bne`, inline
 * asm, so the compiler cannot change it): N iterations are exactly 2N
 * instructions, plus a constant for entering and leaving. The slope of ticks
 * against 2N between two large N gives instructions per tick without that
 * constant; it must be M7_INSN_PER_TICK (40) for the counter to be right.
 *
 * A second loop of four instructions (load, multiply, subtract, branch)
 * checks that every instruction counts the same (icount counts
 * instructions, not cycles).
 *
 * Then a loop longer than one SysTick period (2^24 ticks = 671 M
 * instructions) checks that wraps are counted: its ticks must again be
 * 2N/40 within a few ticks (the wrap handler's own instructions).
 *
 * Usage: calib_m7.elf [--no-wrap]. Exit status 0 if both checks pass.
 */
#include <stdio.h>
#include <string.h>

#include "../../device/m7/m7.h"

static __attribute__((noinline)) void spin(uint32_t n)
{
    if (n == 0)
        return;
    __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

/* Four instructions per iteration, a load and a multiply among them: the
 * count must not depend on the kind of instruction (icount counts
 * instructions, not cycles). */
static __attribute__((noinline)) void spin4(uint32_t n)
{
    uint32_t x = 3, word = 0;
    if (n == 0)
        return;
    __asm volatile("1: ldr %1, [%3]\n\t"
                   "mul %1, %1, %1\n\t"
                   "subs %0, %0, #1\n\t"
                   "bne 1b"
                   : "+r"(n), "+r"(x) : "m"(word), "r"(&word) : "cc");
}

static uint64_t ticks_for(uint32_t n)
{
    uint64_t t0 = m7_counter_ticks();
    spin(n);
    return m7_counter_ticks() - t0;
}

static uint64_t ticks_for4(uint32_t n)
{
    uint64_t t0 = m7_counter_ticks();
    spin4(n);
    return m7_counter_ticks() - t0;
}

int main(int argc, char **argv)
{
    static const uint32_t ns[] = { 0, 1, 1000, 1000000, 10000000, 50000000 };
    int wrap = !(argc > 1 && strcmp(argv[argc - 1], "--no-wrap") == 0);
    uint64_t t[sizeof ns / sizeof ns[0]];
    int ok = 1;

    m7_counter_start();
    printf("calib: loop of N iterations = 2N instructions\n");
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        t[i] = ticks_for(ns[i]);
        printf("calib: N=%-9lu 2N=%-10lu ticks=%-9lu ticks*%u=%lu\n",
               (unsigned long)ns[i], 2ul * ns[i], (unsigned long)t[i],
               M7_INSN_PER_TICK, (unsigned long)(t[i] * M7_INSN_PER_TICK));
    }
    /* slopes: (2 * dN) / dticks, printed with 4 decimals in integers */
    for (size_t i = 4; i < sizeof ns / sizeof ns[0]; i++) {
        uint64_t dn2 = 2ull * (ns[i] - ns[3]);
        uint64_t dt = t[i] - t[3];
        uint64_t x10k = dt ? (dn2 * 10000u + dt / 2) / dt : 0;
        printf("calib: slope N=%lu..%lu: %lu instructions over %lu ticks"
               " = %lu.%04lu instructions/tick\n",
               (unsigned long)ns[3], (unsigned long)ns[i], (unsigned long)dn2,
               (unsigned long)dt, (unsigned long)(x10k / 10000u),
               (unsigned long)(x10k % 10000u));
        /* exact to one tick either end */
        if (dt * M7_INSN_PER_TICK + 2 * M7_INSN_PER_TICK < dn2 ||
            dt * M7_INSN_PER_TICK > dn2 + 2 * M7_INSN_PER_TICK)
            ok = 0;
    }
    {
        uint64_t a = ticks_for4(1000000), b = ticks_for4(10000000);
        uint64_t dn4 = 4ull * 9000000u, dt = b - a;
        printf("calib: 4-instruction loop (ldr, mul, subs, bne): %lu"
               " instructions over %lu ticks\n", (unsigned long)dn4,
               (unsigned long)dt);
        if (dt * M7_INSN_PER_TICK + 2 * M7_INSN_PER_TICK < dn4 ||
            dt * M7_INSN_PER_TICK > dn4 + 2 * M7_INSN_PER_TICK)
            ok = 0;
    }
    {
        uint32_t a = m7_counter_read(), b = m7_counter_read();
        printf("calib: two back-to-back m7_counter_read(): %lu instructions"
               " apart\n", (unsigned long)(b - a));
    }
    if (wrap) {
        /* 420 M iterations = 840 M instructions = 21 M ticks > 2^24 */
        uint32_t n = 420000000u;
        uint64_t dt = ticks_for(n), want = 2ull * n / M7_INSN_PER_TICK;
        printf("calib: wrap: N=%lu ticks=%lu expected %lu (2^24 = %lu): %s\n",
               (unsigned long)n, (unsigned long)dt, (unsigned long)want,
               1ul << 24,
               (dt + 2 >= want && dt <= want + 4) ? "ok" : "WRONG");
        if (!(dt + 2 >= want && dt <= want + 4))
            ok = 0;
    }
    printf("calib: stack used %lu of %lu bytes, heap %lu of %lu bytes\n",
           (unsigned long)m7_stack_used(), (unsigned long)m7_stack_size(),
           (unsigned long)m7_heap_used(), (unsigned long)m7_heap_size());
    printf("calib: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
