/*
 * Fault reporting: every fault handler prints one console line,
 *
 *   FAULT <type> pc=0x%08x lr=0x%08x cfsr=0x%08x
 *
 * from the exception frame the core stacked, then stops. The host ends the
 * run as soon as it sees the line.
 */
#ifndef BOARD_FAULT_H
#define BOARD_FAULT_H

#include <stdint.h>

typedef enum {
	FAULT_KIND_HARD = 0,
	FAULT_KIND_MEMMANAGE = 1,
	FAULT_KIND_BUS = 2,
	FAULT_KIND_USAGE = 3,
	FAULT_KIND_UNEXPECTED = 4, /* an exception nobody handles (NMI, IRQ, ...) */
} fault_kind_t;

/* Enable the MemManage, BusFault and UsageFault exceptions, so they report
 * as themselves instead of escalating to HardFault. */
void fault_init(void);

/* Called by the naked handlers with r0 = stacked frame, r1 = EXC_RETURN. */
void fault_report(const uint32_t *frame, uint32_t exc_return, uint32_t kind)
	__attribute__((noreturn));

/*
 * Body of a naked fault handler: pick the stack the frame was pushed on
 * (EXC_RETURN bit 2: 0 = MSP, 1 = PSP), then tail-branch to fault_report.
 * PC and LR sit at words 6 and 5 of the frame whether or not the core pushed
 * the extended (FPU) frame: the FP registers are stacked *above* xPSR.
 */
#define FAULT_HANDLER_BODY(kind)                                               \
	__asm volatile("tst lr, #4\n\t"                                        \
		       "ite eq\n\t"                                            \
		       "mrseq r0, msp\n\t"                                     \
		       "mrsne r0, psp\n\t"                                     \
		       "mov r1, lr\n\t"                                        \
		       "movs r2, %0\n\t"                                       \
		       "b fault_report\n\t"                                    \
		       : : "i"(kind))

#endif /* BOARD_FAULT_H */
