/*
 * Console on a CMSDK APB UART (Arm Cortex-M System Design Kit TRM, "UART"), TX
 * only, polled: the MPS2 and MPS3 boards. The board's board.h gives the UART's
 * base address, BOARD_CMSDK_UART_BASE.
 */
#include "board.h"
#include "regs.h"
#include "uart.h"

#define UART_DATA    REG32(BOARD_CMSDK_UART_BASE + 0x000u)
#define UART_STATE   REG32(BOARD_CMSDK_UART_BASE + 0x004u)
#define UART_CTRL    REG32(BOARD_CMSDK_UART_BASE + 0x008u)
#define UART_BAUDDIV REG32(BOARD_CMSDK_UART_BASE + 0x010u)

#define UART_STATE_TX_FULL (1u << 0)
#define UART_CTRL_TX_EN    (1u << 0)

/* 115200 baud from the board's clock (the UART wants a divider of at least 16). */
#define UART_BAUDDIV_115200 (TC_BOARD_CLOCK_HZ / 115200u)

void uart_init(void)
{
	UART_BAUDDIV = UART_BAUDDIV_115200;
	UART_CTRL = UART_CTRL_TX_EN;
}

void uart_tx(char c)
{
	while ((UART_STATE & UART_STATE_TX_FULL) != 0u) {
	}
	UART_DATA = (uint32_t)(uint8_t)c;
}
