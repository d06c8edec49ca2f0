/*
 * The USART of the STM32F0/F7/G0/H7/L4 families (RM0433, RM0444): status in
 * ISR (0x1C) and data in TDR (0x28), UE in CR1 bit 0. The STM32F4's USART
 * (SR/DR, UE in bit 13) is a different block. A board's uart.c enables the
 * clocks and the TX pin, then uses these on its console USART.
 */
#ifndef BOARD_STM32_USART_H
#define BOARD_STM32_USART_H

#include <stdint.h>

#include "regs.h"

#define STM32_USART_CR1(base) REG32((base) + 0x00u)
#define STM32_USART_BRR(base) REG32((base) + 0x0Cu)
#define STM32_USART_ISR(base) REG32((base) + 0x1Cu)
#define STM32_USART_TDR(base) REG32((base) + 0x28u)

#define STM32_USART_CR1_UE  (1u << 0)
#define STM32_USART_CR1_TE  (1u << 3)
#define STM32_USART_ISR_TXE (1u << 7) /* TXFNF when the FIFO is on; it stays off */

/* 8N1, TX only, oversampling by 16: BRR = kernel clock / baud rate. */
static inline void stm32_usart_start(uint32_t base, uint32_t kernel_hz, uint32_t baud)
{
	STM32_USART_BRR(base) = (kernel_hz + baud / 2u) / baud;
	STM32_USART_CR1(base) = STM32_USART_CR1_UE | STM32_USART_CR1_TE;
}

static inline void stm32_usart_tx(uint32_t base, char c)
{
	while ((STM32_USART_ISR(base) & STM32_USART_ISR_TXE) == 0u) {
	}
	STM32_USART_TDR(base) = (uint32_t)(uint8_t)c;
}

#endif /* BOARD_STM32_USART_H */
