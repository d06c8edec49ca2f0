/*
 * Raw tick counter around a measured region.
 *
 * Two sources, chosen once at boot by cc_init():
 *  - DWT CYCCNT when it counts exactly one tick per executed instruction
 *    (Renode with the project's overlay, renode/stm32f4_tinyml.repl, whose
 *    CYCCNT is the CPU's instruction count). 32 bits, wraps is always 0.
 *  - SysTick otherwise (QEMU has no DWT: CYCCNT reads 0). Processor clock,
 *    reload 0xFFFFFF, and an interrupt per wrap that counts wraps; elapsed ticks
 *    = ticks + wraps * 2^24. The host removes the instructions of the wrap
 *    interrupts and of cc_start/cc_stop themselves with its CountModel,
 *    calibrated on loops measured with these same two functions.
 */
#ifndef BOARD_CYCLE_COUNTER_H
#define BOARD_CYCLE_COUNTER_H

#include <stdint.h>

/* SysTick clock of the emulated part: the board's clock_hz (its board.toml). */
#define CC_CLOCK_HZ TC_BOARD_CLOCK_HZ

typedef enum {
	CC_SOURCE_SYSTICK = 0,
	CC_SOURCE_DWT = 1,
} cc_source_t;

typedef struct {
	int32_t ticks;  /* counter ticks, excluding whole wraps (may be < 0 if wraps > 0) */
	uint32_t wraps; /* SysTick wrap interrupts taken inside the region */
} cc_span_t;

/* Probe DWT, fall back to SysTick; call once, before any measurement. */
cc_source_t cc_init(void);

/* "dwt" or "systick", as printed on the BOOT line. */
const char *cc_source_name(void);

/*
 * Start and stop a measurement. Not inline on purpose: the calibration loops
 * and the inference call must run exactly the same counter code, so that the
 * overhead solved on the loops is the overhead of the inference measurement.
 */
void cc_start(void);
cc_span_t cc_stop(void);

#endif /* BOARD_CYCLE_COUNTER_H */
