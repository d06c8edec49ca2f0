/* Console formatting on the board's uart_tx: see uart.h. */
#include "uart.h"

static char s_last = '\n';

void uart_putc(char c)
{
	uart_tx(c);
	s_last = c;
}

void uart_puts(const char *s)
{
	while (*s != '\0') {
		uart_putc(*s++);
	}
}

void uart_put_u32(uint32_t v)
{
	char buf[11]; /* 4294967295 + NUL */
	uint32_t i = sizeof(buf) - 1u;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + (v % 10u));
		v /= 10u;
	} while (v != 0u);
	uart_puts(&buf[i]);
}

void uart_put_i32(int32_t v)
{
	if (v < 0) {
		uart_putc('-');
		/* Negate in unsigned arithmetic: -INT32_MIN overflows int32_t. */
		uart_put_u32(0u - (uint32_t)v);
	} else {
		uart_put_u32((uint32_t)v);
	}
}

void uart_put_hex32(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";

	uart_puts("0x");
	for (int32_t shift = 28; shift >= 0; shift -= 4) {
		uart_putc(digits[(v >> shift) & 0xFu]);
	}
}

int uart_at_line_start(void)
{
	return s_last == '\n';
}
