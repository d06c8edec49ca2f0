/*
 * STM32G071 console: USART2 on PA2 (TX only, the Nucleo-G071RB's ST-LINK
 * port), polled. On Renode it is sysbus.usart2 (platforms/cpus/stm32g0.repl).
 */
#include "uart.h"

#include "regs.h"
#include "stm32_usart.h"

/* RCC, GPIOA (RM0444). */
#define RCC_IOPENR   REG32(0x40021034u)
#define RCC_APBENR1  REG32(0x4002103Cu)
#define GPIOA_MODER  REG32(0x50000000u)
#define GPIOA_AFRL   REG32(0x50000020u)
#define USART2_BASE  0x40004400u

#define RCC_IOPENR_GPIOAEN   (1u << 0)
#define RCC_APBENR1_USART2EN (1u << 17)

/*
 * The clock tree is left at reset (HSISYS 16 MHz, APB prescaler 1, so USART2's
 * kernel clock is 16 MHz): emulators ignore it, and not touching it keeps the
 * firmware from waiting on ready bits an emulator may never set.
 */
#define USART2_KERNEL_HZ 16000000u

void uart_init(void)
{
	RCC_IOPENR |= RCC_IOPENR_GPIOAEN;
	RCC_APBENR1 |= RCC_APBENR1_USART2EN;
	/* PA2: alternate function 1 (USART2_TX). */
	GPIOA_MODER = (GPIOA_MODER & ~(3u << 4)) | (2u << 4);
	GPIOA_AFRL = (GPIOA_AFRL & ~(0xFu << 8)) | (1u << 8);
	stm32_usart_start(USART2_BASE, USART2_KERNEL_HZ, 115200u);
}

void uart_tx(char c)
{
	stm32_usart_tx(USART2_BASE, c);
}
