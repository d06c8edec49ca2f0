/*
 * The console functions of board/uart.h on the host's stdout, for harness code
 * shared with the firmware (app/layer_dump.c). Only what that code calls.
 */
#include <stdio.h>

#include "uart.h"

void uart_putc(char c)
{
    putchar(c);
}

void uart_puts(const char *s)
{
    fputs(s, stdout);
}

void uart_put_u32(uint32_t v)
{
    printf("%lu", (unsigned long)v);
}
