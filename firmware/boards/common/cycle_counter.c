/* DWT / SysTick tick counter: see cycle_counter.h. */
#include "cycle_counter.h"

#include "regs.h"

#define SYSTICK_RELOAD 0x00FFFFFFu

/*
 * The probe runs the same counted loop twice, DWT_PROBE_SHORT and
 * DWT_PROBE_LONG iterations of a two-instruction body, and accepts CYCCNT only
 * if the two readings differ by exactly the 2 x (LONG - SHORT) instructions
 * the longer loop adds: the counter then counts one tick per executed
 * instruction, which is what the host assumes for counter=dwt. Everything
 * else falls back to SysTick:
 *  - QEMU: CYCCNT reads 0 (difference 0);
 *  - Renode's stock DWT: clocked from virtual time that only moves at
 *    synchronisation points, so the readings jump by whole quanta (often 0);
 *  - a DWT that counts cycles (silicon): taken branches cost more than one.
 */
#define DWT_PROBE_SHORT 64u
#define DWT_PROBE_LONG  192u
#define DWT_PROBE_EXTRA (2u * (DWT_PROBE_LONG - DWT_PROBE_SHORT))

static cc_source_t s_source;
static volatile uint32_t s_wraps; /* written by SysTick_Handler */
static uint32_t s_start;

void SysTick_Handler(void)
{
	s_wraps++;
}

/* Not inline: both probe calls must run exactly the same instructions. */
static __attribute__((noinline)) uint32_t dwt_ticks_over_loop(uint32_t n)
{
	uint32_t before = DWT_CYCCNT;

	__asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
	return DWT_CYCCNT - before;
}

static inline int dwt_counts_instructions(void)
{
	SCB_DEMCR |= SCB_DEMCR_TRCENA;
	DWT_CYCCNT = 0u;
	DWT_CTRL |= DWT_CTRL_CYCCNTENA;

	uint32_t short_loop = dwt_ticks_over_loop(DWT_PROBE_SHORT);
	uint32_t long_loop = dwt_ticks_over_loop(DWT_PROBE_LONG);

	return short_loop != 0u && long_loop - short_loop == DWT_PROBE_EXTRA;
}

cc_source_t cc_init(void)
{
	if (dwt_counts_instructions()) {
		s_source = CC_SOURCE_DWT;
		return s_source;
	}
	s_source = CC_SOURCE_SYSTICK;
	SYST_RVR = SYSTICK_RELOAD;
	SYST_CVR = 0u;
	SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
	return s_source;
}

const char *cc_source_name(void)
{
	return s_source == CC_SOURCE_DWT ? "dwt" : "systick";
}

/*
 * SysTick is restarted for every measurement, so that a region shorter than
 * one period never shows a wrap (the host needs a wrap-free calibration loop)
 * and every measurement starts at the same counter phase.
 */
static inline void systick_restart(void)
{
	SYST_CSR = 0u;
	SCB_ICSR = SCB_ICSR_PENDSTCLR; /* drop a wrap that fired before the stop */
	SYST_CVR = 0u;                 /* clears; reloads from RVR on the next tick */
	s_wraps = 0u;
	SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
	while (SYST_CVR == 0u) {
		/* wait for the reload, so the start value is a real count */
	}
}

void cc_start(void)
{
	if (s_source == CC_SOURCE_DWT) {
		s_start = DWT_CYCCNT;
		return;
	}
	systick_restart();
	s_start = SYST_CVR;
}

cc_span_t cc_stop(void)
{
	cc_span_t span;

	if (s_source == CC_SOURCE_DWT) {
		span.ticks = (int32_t)(DWT_CYCCNT - s_start);
		span.wraps = 0u;
		return span;
	}

	uint32_t wraps;
	uint32_t now;

	/* (wraps, VAL) must come from the same period: re-read if a wrap
	 * interrupt ran between the two reads. */
	do {
		wraps = s_wraps;
		now = SYST_CVR;
	} while (wraps != s_wraps);

	/* SysTick counts down. */
	span.ticks = (int32_t)s_start - (int32_t)now;
	span.wraps = wraps;
	return span;
}
