/*
 * Fault reporting: every fault handler prints one console line,
 *
 *   FAULT <type> pc=0x%08x lr=0x%08x cfsr=0x%08x
 *
 * from the exception frame the core stacked, then stops. The host ends the
 * run as soon as it sees the line. On Armv6-M (regs.h) every fault is a
 * HardFault and there is no CFSR: the line ends after lr.
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
 * as themselves instead of escalating to HardFault (nothing on Armv6-M). */
void fault_init(void);

/* Called by the naked handlers with r0 = stacked frame, r1 = EXC_RETURN. */
void fault_report(const uint32_t *frame, uint32_t exc_return, uint32_t kind)
	__attribute__((noreturn));

/*
 * Body of a naked fault handler: pick the stack the frame was pushed on
 * (EXC_RETURN bit 2: 0 = MSP, 1 = PSP), then call fault_report. PC and LR sit
 * at words 6 and 5 of the frame whether or not the core pushed the extended
 * (FPU) frame: the FP registers are stacked *above* xPSR. Armv6-M Thumb, so
 * that one body serves every core: no IT block, no TST with an immediate, and
 * BL rather than B, which reaches only 2 KB there (fault_report never returns,
 * so BL's LR costs nothing: EXC_RETURN is already in r1).
 */
#define FAULT_HANDLER_BODY(kind)                                               \
	__asm volatile("mov r1, lr\n\t"                                        \
		       "movs r0, #4\n\t"                                       \
		       "tst r0, r1\n\t"                                        \
		       "bne 1f\n\t"                                            \
		       "mrs r0, msp\n\t"                                       \
		       "b 2f\n"                                                 \
		       "1:\n\t"                                                \
		       "mrs r0, psp\n"                                          \
		       "2:\n\t"                                                \
		       "movs r2, %0\n\t"                                       \
		       "bl fault_report\n\t"                                   \
		       : : "i"(kind))

#endif /* BOARD_FAULT_H */
