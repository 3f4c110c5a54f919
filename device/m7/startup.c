/*
 * Start-up code for the Cortex-M7 of QEMU's mps2-an500 board, with newlib
 * (nano) and rdimon semihosting for stdio.
 *
 * Reset_Handler: enable the FPU, copy .data from its load image, zero .bss,
 * paint the stack (for m7_stack_used), open the semihosting stdio handles,
 * run the C library's constructors, fetch argc/argv over semihosting and
 * exit(main(argc, argv)): newlib flushes stdio, and rdimon's _exit ends the
 * QEMU run with SYS_EXIT_EXTENDED, so QEMU's exit status is main's.
 *
 * Faults: every exception without a handler of its own ends the run with
 * status 128 + exception number (HardFault: 131), after a line on the
 * semihosting console naming it and the faulting PC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m7.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __StackTop[];

extern int main(int argc, char **argv);
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);
void SysTick_Handler(void);

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

/* __libc_init_array calls _init after .preinit_array; crti.o would supply
 * it, but we link with -nostartfiles (this file is the start-up code), and
 * everything we need is in .init_array. */
void _init(void) {}
void _fini(void) {}

void Reset_Handler(void)
{
    /* CP10 and CP11 (the FPU) full access, before any code that the compiler
     * might have given a floating-point instruction; the barriers make the
     * new access rights apply to the instructions that follow (ARMv7-M ARM
     * B3.2.20). */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");

    /* .data: load image in CODE -> run address in RAM; then .bss. */
    {
        const uint32_t *src = __data_load;
        for (uint32_t *dst = __data_start; dst < __data_end;)
            *dst++ = *src++;
        for (uint32_t *dst = __bss_start; dst < __bss_end;)
            *dst++ = 0;
    }

    /* MemManage, BusFault and UsageFault get their own exception numbers
     * instead of escalating to HardFault, so that the exit status says
     * which it was. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);

    m7_stack_paint();
    initialise_monitor_handles();
    __libc_init_array();

    {
        static char *argv[16];
        int argc = m7_cmdline(argv, 16);
        exit(main(argc, argv));
    }
}

/* Writes a NUL-terminated string to the semihosting console (SYS_WRITE0);
 * usable from a fault handler, where stdio may be what broke. */
static void fault_puts(const char *s)
{
    m7_semihost(0x04, s);
}

static void fault_hex(uint32_t v)
{
    char b[11] = "0x";
    for (int i = 0; i < 8; i++)
        b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xF];
    b[10] = '\0';
    fault_puts(b);
}

/* Reports an exception and ends the run; `frame` is the exception frame the
 * core pushed (r0-r3, r12, lr, pc, xPSR), so frame[6] is the faulting PC. */
__attribute__((noreturn, used))
static void fault_report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    fault_puts("m7: unhandled exception ");
    fault_hex(ipsr);
    fault_puts(" at pc ");
    fault_hex(frame[6]);
    fault_puts(" CFSR ");
    fault_hex(*(volatile uint32_t *)0xE000ED28u);
    fault_puts("\n");
    m7_exit(128 + (int)ipsr);
}

/* Any exception without its own handler. Naked, so that the stack pointer
 * it hands on is still the one the core pushed the frame on (MSP or PSP,
 * as bit 2 of EXC_RETURN in lr says; we never switch to PSP ourselves). */
__attribute__((naked))
void Default_Handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b fault_report\n\t");
}

void NMI_Handler(void)        __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void)  __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void)  __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void)   __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void)        __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void)   __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void)     __attribute__((weak, alias("Default_Handler")));

typedef void (*m7_vector)(void);

/* 16 system exceptions, then the board's 32 external interrupts (QEMU gives
 * the AN500's NVIC num-irq = 32); all external ones go to Default_Handler.
 * Entry 0 is the initial main stack pointer. */
__attribute__((section(".vectors"), used))
const m7_vector m7_vectors[16 + 32] = {
    [0]  = (m7_vector)__StackTop,
    [1]  = Reset_Handler,
    [2]  = NMI_Handler,
    [3]  = HardFault_Handler,
    [4]  = MemManage_Handler,
    [5]  = BusFault_Handler,
    [6]  = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 ... 47] = Default_Handler,
};
