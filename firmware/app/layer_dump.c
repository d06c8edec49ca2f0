/* Per-layer dump: see layer_dump.h. */
#include "layer_dump.h"

#include "uart.h"

static uint32_t s_selected;

void tc_layer_dump_select(uint32_t selected)
{
	s_selected = selected;
}

void tc_layer_dump(uint32_t layer, const void *data, uint32_t bytes)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;

	if (!s_selected) {
		return;
	}
	uart_puts("LDUMP ");
	uart_put_u32(layer);
	uart_puts(" bytes=");
	uart_put_u32(bytes);
	uart_puts(" hex=");
	for (uint32_t i = 0u; i < bytes; i++) {
		uart_putc(hex[p[i] >> 4]);
		uart_putc(hex[p[i] & 0x0fu]);
	}
	uart_putc('\n');
}
