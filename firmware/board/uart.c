/* Polled USART2 console: see uart.h. */
#include "uart.h"

#include "regs.h"

/*
 * The clock tree is left at reset (HSI 16 MHz, APB1 16 MHz): emulators ignore
 * it, and not touching RCC_CR keeps the firmware from waiting on a PLL-ready
 * bit that QEMU never sets. 16 MHz / (16 * 8.6875) = 115200 baud.
 */
#define UART_BRR_115200_AT_16MHZ 0x8Bu

static char s_last = '\n';

void uart_init(void)
{
	RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
	RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
	/* PA2: alternate function 7 (USART2_TX). */
	GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4);
	GPIOA_AFRL = (GPIOA_AFRL & ~(0xFu << 8)) | (7u << 8);
	USART2_BRR = UART_BRR_115200_AT_16MHZ;
	USART2_CR1 = USART_CR1_UE | USART_CR1_TE;
}

void uart_putc(char c)
{
	while ((USART2_SR & USART_SR_TXE) == 0u) {
	}
	USART2_DR = (uint32_t)(uint8_t)c;
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
