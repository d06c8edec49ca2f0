/*
 * Test harness: runs the generated model on every test vector and prints the
 * console protocol parsed by pipeline/firmware_log.py:
 *
 *   BOOT model=<name> vectors=<n> counter=<dwt|systick> clock_hz=<hz>
 *   CALIB instructions=<n> ticks=<t> wraps=<w>              (x3)
 *   VEC <i> class=<c> ticks=<t> wraps=<w> out=<v0>,<v1>,...  (per vector)
 *   LDUMP <layer> bytes=<n> hex=<...>  (TC_LAYER_DUMP=<i> builds, vector i, see layer_dump.h)
 *   STACK reserved=<bytes> used=<bytes>
 *   SUMMARY vectors=<n>
 *   DONE
 *
 * The measured region is the tc_model_invoke() call alone: copying the input
 * in and the argmax/printing out are outside it.
 *
 * The stack is painted before every vector and measured right after its
 * invoke, before printing, so the STACK line is the deepest any inference
 * went (plus the harness frames live at that point), not the printing code.
 */
#include <stdint.h>
#include <string.h>

#include "cycle_counter.h"
#include "fault.h"
#include "layer_dump.h"
#include "model.h"
#include "profile.h"
#include "stack.h"
#include "test_vectors.h"
#include "uart.h"

/* Calibration loops: 2 * iters + 1 instructions each. At QEMU's 168 MHz
 * SysTick they give no wrap, some wraps and many wraps (see firmware_log). */
static const uint32_t s_calib_iters[] = {
	500000u,   /*  1,000,001 instructions */
	10000000u, /* 20,000,001 */
	30000000u, /* 60,000,001 */
#if defined(TC_CALIB_EXTRA_ITERS)
	/* Test only: a fourth loop the host checks against the first three
	 * (tests/test_qemu.py measures a 100,000,001-instruction loop). */
	(TC_CALIB_EXTRA_ITERS),
#endif
};

/*
 * On the DWT (one tick per instruction, no wraps) the loops only have to differ
 * in length, so they run 2^CALIB_DWT_SHIFT times shorter: 1.3 million
 * instructions instead of 81 million, most of a Renode boot otherwise.
 */
#define CALIB_DWT_SHIFT 6u

/*
 * One calibration loop, measured with the same cc_start/cc_stop as the
 * inference. noinline: the three loops then run identical code around the
 * counter reads, only iters differs. The asm is exactly "mov" + iters x
 * ("subs", "bne"): 2 * iters + 1 instructions.
 */
static __attribute__((noinline)) cc_span_t calib_run(uint32_t iters)
{
	cc_start();
	__asm volatile("mov r0, %0\n\t"
		       "1: subs r0, r0, #1\n\t"
		       "bne 1b"
		       : : "r"(iters) : "r0", "cc");
	return cc_stop();
}

/* Index of the largest output; ties go to the lowest index (numpy.argmax). */
static uint32_t argmax_s8(const int8_t *v, uint32_t n)
{
	uint32_t best = 0u;

	for (uint32_t i = 1u; i < n; i++) {
		if (v[i] > v[best]) {
			best = i;
		}
	}
	return best;
}

static void print_span(cc_span_t span)
{
	uart_puts(" ticks=");
	uart_put_i32(span.ticks);
	uart_puts(" wraps=");
	uart_put_u32(span.wraps);
}

#if defined(TC_FAULT_TEST) && TC_FAULT_TEST
/* Test only: the host checks the FAULT line's pc against this symbol. */
__attribute__((naked, noinline, used)) void fault_test_udf(void)
{
	__asm volatile("udf #0");
}
#endif

int main(void)
{
	uint32_t stack_max = 0u;

	uart_init();
	fault_init();
	const uint32_t calib_shift = cc_init() == CC_SOURCE_DWT ? CALIB_DWT_SHIFT : 0u;

	uart_puts("BOOT model=" TC_MODEL_NAME " vectors=");
	uart_put_u32(TC_TEST_VECTOR_COUNT);
	uart_puts(" counter=");
	uart_puts(cc_source_name());
	uart_puts(" clock_hz=");
	uart_put_u32(CC_CLOCK_HZ);
	uart_putc('\n');

#if defined(TC_FAULT_TEST) && TC_FAULT_TEST
	fault_test_udf();
#endif

	for (uint32_t k = 0u; k < sizeof(s_calib_iters) / sizeof(s_calib_iters[0]); k++) {
		const uint32_t iters = s_calib_iters[k] >> calib_shift;
		cc_span_t span = calib_run(iters);

		uart_puts("CALIB instructions=");
		uart_put_u32(2u * iters + 1u);
		print_span(span);
		uart_putc('\n');
	}

	for (uint32_t i = 0u; i < TC_TEST_VECTOR_COUNT; i++) {
		memcpy(tc_model_input(), tc_test_inputs[i], sizeof tc_test_inputs[i]);
		stack_paint();
#if defined(TC_PROFILE)
		tc_profile_reset();
#endif
#if defined(TC_LAYER_DUMP)
		tc_layer_dump_select(i == (uint32_t)(TC_LAYER_DUMP)); /* LDUMP lines of that vector */
#endif

		cc_start();
		tc_model_invoke();
		cc_span_t span = cc_stop();

		uint32_t used = stack_used();
		if (used > stack_max) {
			stack_max = used;
		}

		const int8_t *out = tc_model_output();

		uart_puts("VEC ");
		uart_put_u32(i);
		uart_puts(" class=");
		uart_put_u32(argmax_s8(out, TC_MODEL_OUTPUT_SIZE));
		print_span(span);
		uart_puts(" out=");
		for (uint32_t j = 0u; j < TC_MODEL_OUTPUT_SIZE; j++) {
			if (j != 0u) {
				uart_putc(',');
			}
			uart_put_i32(out[j]);
		}
		uart_putc('\n');
#if defined(TC_PROFILE)
		if (i == 0u) {
			tc_profile_print(); /* LAYER lines of the first vector */
		}
#endif
	}

	uart_puts("STACK reserved=");
	uart_put_u32(stack_reserved());
	uart_puts(" used=");
	uart_put_u32(stack_max);
	uart_putc('\n');
	uart_puts("SUMMARY vectors=");
	uart_put_u32(TC_TEST_VECTOR_COUNT);
	uart_putc('\n');
	uart_puts("DONE\n");

	for (;;) {
		__asm volatile("wfi");
	}
}
