/*
 * Cortex-M7 (QEMU mps2-an500) support: instruction counter, stack and heap
 * high-water marks, semihosting. See m7.h for the interface and why the
 * counter counts instructions.
 */
#include "m7.h"

#include <errno.h>
#include <string.h>

/* System control space registers (ARMv7-M ARM, B3.2 and B3.3). */
#define SYST_CSR  (*(volatile uint32_t *)0xE000E010u) /* control and status */
#define SYST_RVR  (*(volatile uint32_t *)0xE000E014u) /* reload value */
#define SYST_CVR  (*(volatile uint32_t *)0xE000E018u) /* current value */
#define SCB_ICSR  (*(volatile uint32_t *)0xE000ED04u) /* interrupt ctrl/state */
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u) /* SysTick priority */

#define CSR_ENABLE    (1u << 0)
#define CSR_TICKINT   (1u << 1)
#define CSR_CLKSOURCE (1u << 2) /* 1: the processor clock, not the 1 MHz ref */
#define ICSR_PENDSTSET (1u << 26)

/* The largest reload: one period is 2^24 ticks = 671 M instructions, so a
 * wrap (and its handler's few instructions) is rare and most measurements
 * see none. */
#define RELOAD 0x00FFFFFFu
#define PERIOD ((uint64_t)RELOAD + 1u)

/* Wraps (transitions of SYST_CVR from 1 to 0) since m7_counter_start(),
 * counted by SysTick_Handler. */
static volatile uint32_t systick_wraps;

void SysTick_Handler(void)
{
    systick_wraps++;
}

void m7_counter_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;              /* any write clears the count and COUNTFLAG */
    SCB_ICSR = (1u << 25);     /* PENDSTCLR: drop a wrap left pending */
    systick_wraps = 0;
    SCB_SHPR3 &= 0x00FFFFFFu;  /* SysTick at the highest priority */
    SYST_CSR = CSR_CLKSOURCE | CSR_TICKINT | CSR_ENABLE;
}

uint64_t m7_counter_ticks(void)
{
    uint32_t primask, w, v;

    /* With interrupts masked the handler cannot run between reading the wrap
     * count and the counter; a wrap that happened meanwhile shows as a
     * pending SysTick exception instead, and then the counter is read again
     * so that both belong to the same side of the wrap. */
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    w = systick_wraps;
    v = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        w++;
        v = SYST_CVR;
    }
    __asm volatile("msr primask, %0" : : "r"(primask) : "memory");

    /* SYST_CVR runs 0 (cleared at start), RELOAD, RELOAD-1, ..., 1, 0,
     * RELOAD, ...; the handler counts each arrival at 0. After t ticks,
     * w = floor(t / PERIOD) and CVR = (PERIOD - t % PERIOD) % PERIOD, so
     * t = w * PERIOD + (CVR ? PERIOD - CVR : 0), the 0 state included. */
    return (uint64_t)w * PERIOD + (v ? PERIOD - v : 0);
}

uint32_t m7_counter_read(void)
{
    return (uint32_t)(m7_counter_ticks() * M7_INSN_PER_TICK);
}

/* ---- stack ------------------------------------------------------------ */

extern uint32_t __StackLimit[], __StackTop[];

void m7_stack_paint(void)
{
    uint32_t *sp;
    /* Writes go through a volatile pointer so that the compiler cannot turn
     * the loop into a memset call, whose own frame would lie in the very
     * area being painted. The 16 words just below SP are left alone for the
     * same reason (nothing of ours lives there, but we need no call to be
     * safe). */
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = __StackLimit; p < sp - 16; p++)
        *p = M7_STACK_PAINT;
}

size_t m7_stack_used(void)
{
    const uint32_t *p = __StackLimit;
    while (p < __StackTop && *p == M7_STACK_PAINT)
        p++;
    return (size_t)((const char *)__StackTop - (const char *)p);
}

size_t m7_stack_size(void)
{
    return (size_t)((char *)__StackTop - (char *)__StackLimit);
}

/* ---- heap ------------------------------------------------------------- */

extern char __HeapBase[], __HeapLimit[];
static char *heap_break;

/* Replaces librdimon's weak _sbrk, which bounds the heap by the current SP
 * only: ours stops at the linker script's __HeapLimit, the bottom of the
 * stack, and so records the heap high-water mark (newlib's malloc never
 * gives memory back to sbrk). */
void *_sbrk(ptrdiff_t incr)
{
    char *prev;
    if (!heap_break)
        heap_break = __HeapBase;
    if (incr > __HeapLimit - heap_break || incr < __HeapBase - heap_break) {
        errno = ENOMEM;
        return (void *)-1;
    }
    prev = heap_break;
    heap_break += incr;
    return prev;
}

size_t m7_heap_used(void)
{
    return heap_break ? (size_t)(heap_break - __HeapBase) : 0;
}

size_t m7_heap_size(void)
{
    return (size_t)(__HeapLimit - __HeapBase);
}

/* ---- semihosting ------------------------------------------------------ */

#define SYS_GET_CMDLINE    0x15
#define SYS_EXIT_EXTENDED  0x20
#define ADP_Stopped_ApplicationExit 0x20026u

int m7_semihost(int op, const void *arg)
{
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void m7_exit(int status)
{
    uint32_t block[2] = { ADP_Stopped_ApplicationExit, (uint32_t)status };
    m7_semihost(SYS_EXIT_EXTENDED, block);
    for (;;)                   /* not reached under QEMU */
        __asm volatile("wfi");
}

int m7_cmdline(char **argv, int max)
{
    static char buf[512];
    struct { char *ptr; uint32_t len; } block = { buf, sizeof buf - 1 };
    int argc = 0;
    char *p;

    if (max < 1)
        return 0;
    if (m7_semihost(SYS_GET_CMDLINE, &block) != 0)
        block.len = 0;
    buf[block.len < sizeof buf ? block.len : sizeof buf - 1] = '\0';
    for (p = buf; *p && argc < max - 1;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv[argc] = NULL;
    return argc;
}
