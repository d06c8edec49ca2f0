/* DWT / SysTick tick counter: see cycle_counter.h. */
#include "cycle_counter.h"

#include "regs.h"

#define SYSTICK_RELOAD 0x00FFFFFFu

/* Iterations of the probe loop: long enough for any clocked CYCCNT to move. */
#define DWT_PROBE_ITERS 64u

static cc_source_t s_source;
static volatile uint32_t s_wraps; /* written by SysTick_Handler */
static uint32_t s_start;

void SysTick_Handler(void)
{
	s_wraps++;
}

static inline uint32_t dwt_probe(void)
{
	uint32_t before;
	uint32_t after;
	uint32_t n = DWT_PROBE_ITERS;

	SCB_DEMCR |= SCB_DEMCR_TRCENA;
	DWT_CYCCNT = 0u;
	DWT_CTRL |= DWT_CTRL_CYCCNTENA;
	before = DWT_CYCCNT;
	__asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
	after = DWT_CYCCNT;
	return after - before;
}

cc_source_t cc_init(void)
{
	if (dwt_probe() != 0u) {
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
