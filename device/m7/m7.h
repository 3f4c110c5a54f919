/*
 * Minimal bare-metal support for the Cortex-M7 of QEMU's mps2-an500 board:
 * a deterministic instruction counter, the stack high-water mark, the heap
 * (_sbrk) high-water mark and Arm semihosting calls.
 *
 * The counter is meant for QEMU run with `-icount shift=0`: every guest
 * instruction then advances the virtual clock by exactly 2^0 = 1 ns, and
 * SysTick (clocked from the board's 25 MHz SYSCLK) ticks once per 40 ns, i.e.
 * once per 40 instructions. The count is therefore a pure function of the
 * executed code and data, not of the host's speed: run it twice, get the
 * same number. bench/device/calib_m7.c checks the 40 against loops of a known
 * instruction count. It says nothing about cycles on real silicon (no
 * pipeline, cache or wait-state model): it is an instruction count.
 */
#ifndef LIMITNET_DEVICE_M7_H
#define LIMITNET_DEVICE_M7_H

#include <stddef.h>
#include <stdint.h>

/* SysTick ticks per 2^shift ns of icount time: SYSCLK is 25 MHz in QEMU's
 * hw/arm/mps2.c, so one tick is 40 ns = 40 instructions at shift=0. */
#define M7_INSN_PER_TICK 40u

/* Starts (or restarts) the counter at 0: SysTick on the processor clock,
 * full 24-bit reload, its interrupt counting the wraps. */
void m7_counter_start(void);

/* Instructions executed since m7_counter_start(), with a resolution of
 * M7_INSN_PER_TICK. Wraps at 2^32 (about 4.3e9 instructions); take
 * differences of two reads for an interval. */
uint32_t m7_counter_read(void);

/* The raw 64-bit SysTick tick count since m7_counter_start() (wraps
 * included). For calibration. */
uint64_t m7_counter_ticks(void);

/* Fills the unused part of the stack, from __StackLimit up to just below the
 * caller's stack pointer, with M7_STACK_PAINT, so that m7_stack_used()
 * reports the deepest use from now on. The reset handler calls it once. */
#define M7_STACK_PAINT 0xDEADBEEFu
void m7_stack_paint(void);

/* Bytes of stack used (from __StackTop down to the lowest word that no
 * longer holds the paint) since the last m7_stack_paint(). */
size_t m7_stack_used(void);

/* Total stack size (__StackTop - __StackLimit). */
size_t m7_stack_size(void);

/* Heap handed out by _sbrk so far (the break never moves back: newlib's
 * malloc does not return memory to sbrk), and the heap's capacity. */
size_t m7_heap_used(void);
size_t m7_heap_size(void);

/* Arm semihosting (BKPT 0xAB on M-profile): op in r0, argument block in r1,
 * result in r0. */
int m7_semihost(int op, const void *arg);

/* Ends the QEMU run with `status` as its exit status, via SYS_EXIT_EXTENDED
 * (semihosting v2; QEMU honours it for AArch32). Does not flush stdio: use
 * exit() for that. */
void m7_exit(int status) __attribute__((noreturn));

/* Reads the semihosting command line (QEMU: the -kernel file name followed by
 * -append's text) and splits it at spaces into argv (at most max-1 entries,
 * argv[argc] = NULL). Returns argc (0 if the host gives no command line). */
int m7_cmdline(char **argv, int max);

#endif
