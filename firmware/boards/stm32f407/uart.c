/*
 * STM32F407 console: USART2 on PA2 (TX only), polled.
 *
 * On QEMU netduinoplus2 USART2 is the *second* -serial; on Renode it is
 * sysbus.usart2.
 */
#include "uart.h"

#include "regs.h"

/* RCC, GPIOA, USART2 (RM0090). */
#define RCC_AHB1ENR  REG32(0x40023830u)
#define RCC_APB1ENR  REG32(0x40023840u)
#define GPIOA_MODER  REG32(0x40020000u)
#define GPIOA_AFRL   REG32(0x40020020u)
#define USART2_SR    REG32(0x40004400u)
#define USART2_DR    REG32(0x40004404u)
#define USART2_BRR   REG32(0x40004408u)
#define USART2_CR1   REG32(0x4000440Cu)

#define RCC_AHB1ENR_GPIOAEN  (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define USART_SR_TXE         (1u << 7)
#define USART_CR1_TE         (1u << 3)
#define USART_CR1_UE         (1u << 13)

/*
 * The clock tree is left at reset (HSI 16 MHz, APB1 16 MHz): emulators ignore
 * it, and not touching RCC_CR keeps the firmware from waiting on a PLL-ready
 * bit that QEMU never sets. 16 MHz / (16 * 8.6875) = 115200 baud.
 */
#define UART_BRR_115200_AT_16MHZ 0x8Bu

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

void uart_tx(char c)
{
	while ((USART2_SR & USART_SR_TXE) == 0u) {
	}
	USART2_DR = (uint32_t)(uint8_t)c;
}
