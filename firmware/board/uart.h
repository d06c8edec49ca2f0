/*
 * Polled console on USART2 (PA2, TX only).
 *
 * On QEMU netduinoplus2 USART2 is the *second* -serial; on Renode it is
 * sysbus.usart2. Polling keeps the console usable from fault handlers.
 */
#ifndef BOARD_UART_H
#define BOARD_UART_H

#include <stdint.h>

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_u32(uint32_t v);     /* decimal */
void uart_put_i32(int32_t v);      /* decimal, '-' when negative */
void uart_put_hex32(uint32_t v);   /* "0x" + 8 lower-case hex digits */
int uart_at_line_start(void);      /* 1 when the last character sent was '\n' */

#endif /* BOARD_UART_H */
