/*
 * Vector table and reset, for every board: FPU on (if the core has one), .data
 * copied, .bss zeroed, then main(). TC_BOARD_IRQ_COUNT (the board's irq_count,
 * from its board.toml) sizes the table.
 */
#include <stdint.h>

#include "fault.h"
#include "regs.h"

#define VECTOR_COUNT (16 + TC_BOARD_IRQ_COUNT) /* system exceptions + the part's IRQs */

/* the board's linker script (common/sections.ld) */
extern uint32_t __stack_top__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern const uint32_t __data_load__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];

int main(void);

void Reset_Handler(void);
void HardFault_Handler(void);  /* fault.c */
#if BOARD_HAS_CONFIGURABLE_FAULTS
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
#endif
void SysTick_Handler(void);    /* cycle_counter.c */

/* Anything nobody expects (NMI, SVC, an IRQ) reports itself instead of hanging
 * silently until the host's timeout. */
__attribute__((naked)) static void Default_Handler(void)
{
	FAULT_HANDLER_BODY(FAULT_KIND_UNEXPECTED);
}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
static const vector_t s_vectors[VECTOR_COUNT] = {
	[0] = (vector_t)(uintptr_t)__stack_top__,
	[1] = Reset_Handler,
	[2] = Default_Handler, /* NMI */
	[3] = HardFault_Handler,
#if BOARD_HAS_CONFIGURABLE_FAULTS
	[4] = MemManage_Handler,
	[5] = BusFault_Handler,
	[6] = UsageFault_Handler,
	[12] = Default_Handler, /* DebugMonitor */
#else
	/* Reserved on Armv6-M, never taken on silicon; Renode 1.15.1's Cortex-M0
	 * model takes an undefined instruction through slot 6 (UsageFault's) instead
	 * of HardFault, so they report rather than jump to address 0. */
	[4 ... 6] = Default_Handler,
#endif
	[11] = Default_Handler, /* SVCall */
	[14] = Default_Handler, /* PendSV */
	[15] = SysTick_Handler,
	[16 ... VECTOR_COUNT - 1] = Default_Handler,
};

void Reset_Handler(void)
{
	/*
	 * FPU first: with -mfloat-abi=hard any function may use s-registers, and
	 * an FP instruction with CP10/CP11 disabled is a UsageFault (NOCP).
	 * Nothing before this line may be compiled from float code.
	 */
#if defined(__ARM_FP)
	SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
	__asm volatile("dsb\n\tisb" : : : "memory");
#endif

	/* Not every boot path leaves VTOR at our table (bootloaders, emulators). */
	SCB_VTOR = (uint32_t)(uintptr_t)s_vectors;

	const uint32_t *src = __data_load__;
	for (uint32_t *dst = __data_start__; dst < __data_end__;) {
		*dst++ = *src++;
	}
	for (uint32_t *dst = __bss_start__; dst < __bss_end__;) {
		*dst++ = 0u;
	}

	(void)main();
	for (;;) {
		__asm volatile("wfi");
	}
}
