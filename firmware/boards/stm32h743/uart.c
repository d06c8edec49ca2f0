/*
 * STM32H743 console: USART2 on PA2 (TX only), polled. On Renode it is
 * sysbus.usart2 (platforms/cpus/stm32h743.repl).
 */
#include "uart.h"

#include "regs.h"
#include "stm32_usart.h"

/* RCC, GPIOA (RM0433). */
#define RCC_AHB4ENR  REG32(0x580244E0u)
#define RCC_APB1LENR REG32(0x580244E8u)
#define GPIOA_MODER  REG32(0x58020000u)
#define GPIOA_AFRL   REG32(0x58020020u)
#define USART2_BASE  0x40004400u

#define RCC_AHB4ENR_GPIOAEN   (1u << 0)
#define RCC_APB1LENR_USART2EN (1u << 17)

/*
 * The clock tree is left at reset (HSI 64 MHz, every prescaler 1, so USART2's
 * kernel clock is 64 MHz): emulators ignore it, and not touching it keeps the
 * firmware from waiting on ready bits an emulator may never set.
 */
#define USART2_KERNEL_HZ 64000000u

void uart_init(void)
{
	RCC_AHB4ENR |= RCC_AHB4ENR_GPIOAEN;
	RCC_APB1LENR |= RCC_APB1LENR_USART2EN;
	/* PA2: alternate function 7 (USART2_TX). */
	GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4);
	GPIOA_AFRL = (GPIOA_AFRL & ~(0xFu << 8)) | (7u << 8);
	stm32_usart_start(USART2_BASE, USART2_KERNEL_HZ, 115200u);
}

void uart_tx(char c)
{
	stm32_usart_tx(USART2_BASE, c);
}
