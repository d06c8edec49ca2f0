/* Per-layer profile marks: see profile.h. */
#include "profile.h"

#include "cycle_counter.h"
#include "uart.h"

typedef struct {
	uint32_t layer;
	cc_span_t span;
} mark_t;

static mark_t s_marks[TC_PROFILE_MAX_MARKS];
static uint32_t s_count;
static uint32_t s_dropped;

void tc_profile_reset(void)
{
	s_count = 0u;
	s_dropped = 0u;
}

void tc_profile_mark(uint32_t layer)
{
	/* The counter first: the bookkeeping below lands in the next layer's span. */
	cc_span_t span = cc_stop();

	if (s_count < TC_PROFILE_MAX_MARKS) {
		s_marks[s_count].layer = layer;
		s_marks[s_count].span = span;
		s_count++;
	} else {
		s_dropped++;
	}
}

void tc_profile_print(void)
{
	for (uint32_t i = 0u; i < s_count; i++) {
		uart_puts("LAYER ");
		uart_put_u32(s_marks[i].layer);
		uart_puts(" ticks=");
		uart_put_i32(s_marks[i].span.ticks);
		uart_puts(" wraps=");
		uart_put_u32(s_marks[i].span.wraps);
		uart_putc('\n');
	}
	if (s_dropped != 0u) {
		uart_puts("LAYERS_DROPPED ");
		uart_put_u32(s_dropped);
		uart_putc('\n');
	}
}
