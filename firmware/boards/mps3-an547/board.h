/* MPS3 AN547: what the shared drivers need to know about the board. */
#ifndef BOARD_H
#define BOARD_H

/* Console: CMSDK APB UART0, its secure alias (the core runs Secure; AN547 memory
 * map); QEMU's first -serial. */
#define BOARD_CMSDK_UART_BASE 0x59303000u

#endif /* BOARD_H */
