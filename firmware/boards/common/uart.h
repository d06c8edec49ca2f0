/*
 * Polled console, TX only. Each board's uart.c drives its console UART
 * (uart_init, uart_tx); common/uart.c formats on top of uart_tx. Polling keeps
 * the console usable from fault handlers.
 */
#ifndef BOARD_UART_H
#define BOARD_UART_H

#include <stdint.h>

/* The board's (its uart.c). */
void uart_init(void);
void uart_tx(char c);              /* waits until the UART takes the character */

/* Common (common/uart.c). */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_u32(uint32_t v);     /* decimal */
void uart_put_i32(int32_t v);      /* decimal, '-' when negative */
void uart_put_hex32(uint32_t v);   /* "0x" + 8 lower-case hex digits */
int uart_at_line_start(void);      /* 1 when the last character sent was '\n' */

#endif /* BOARD_UART_H */
