/* Fault handlers: see fault.h. */
#include "fault.h"

#include "regs.h"
#include "uart.h"

/* The board's RAM region (common/sections.ld). */
extern const uint32_t __ram_start__[];
extern const uint32_t __ram_end__[];

#define FRAME_LR 5u
#define FRAME_PC 6u
#define FRAME_WORDS 8u

static const char *const s_names[] = {
	[FAULT_KIND_HARD] = "HardFault",
	[FAULT_KIND_MEMMANAGE] = "MemManage",
	[FAULT_KIND_BUS] = "BusFault",
	[FAULT_KIND_USAGE] = "UsageFault",
	[FAULT_KIND_UNEXPECTED] = "Unexpected",
};

void fault_init(void)
{
#if BOARD_HAS_CONFIGURABLE_FAULTS
	SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
#endif
}

__attribute__((used, noreturn)) void fault_report(const uint32_t *frame, uint32_t exc_return,
						  uint32_t kind)
{
	uint32_t pc = 0u;
	uint32_t lr = 0u;
	uint32_t ipsr;
	uintptr_t at = (uintptr_t)frame;

	(void)exc_return;
	/* A fault while stacking (e.g. stack overflow) leaves no usable frame:
	 * report 0 rather than fault again reading it. */
	if (at >= (uintptr_t)__ram_start__ && at <= (uintptr_t)__ram_end__ - FRAME_WORDS * 4u) {
		pc = frame[FRAME_PC];
		lr = frame[FRAME_LR];
	}
	__asm volatile("mrs %0, ipsr" : "=r"(ipsr));

	if (!uart_at_line_start()) {
		uart_putc('\n'); /* the fault may have cut a line short */
	}
	uart_puts("FAULT ");
	uart_puts(kind <= FAULT_KIND_UNEXPECTED ? s_names[kind] : "Unknown");
	uart_puts(" pc=");
	uart_put_hex32(pc);
	uart_puts(" lr=");
	uart_put_hex32(lr);
#if BOARD_HAS_CONFIGURABLE_FAULTS
	uart_puts(" cfsr=");
	uart_put_hex32(SCB_CFSR);
#endif
	if (kind == FAULT_KIND_UNEXPECTED) {
		uart_puts(" exception=");
		uart_put_u32(ipsr & 0x1FFu);
	}
	uart_putc('\n');

	for (;;) {
		/* Same or lower priority exceptions stay pending: sleep for good. */
		__asm volatile("wfi");
	}
}

__attribute__((naked)) void HardFault_Handler(void)
{
	FAULT_HANDLER_BODY(FAULT_KIND_HARD);
}

#if BOARD_HAS_CONFIGURABLE_FAULTS
__attribute__((naked)) void MemManage_Handler(void)
{
	FAULT_HANDLER_BODY(FAULT_KIND_MEMMANAGE);
}

__attribute__((naked)) void BusFault_Handler(void)
{
	FAULT_HANDLER_BODY(FAULT_KIND_BUS);
}

__attribute__((naked)) void UsageFault_Handler(void)
{
	FAULT_HANDLER_BODY(FAULT_KIND_USAGE);
}
#endif
