/* MPS2 AN500: what the shared drivers need to know about the board. */
#ifndef BOARD_H
#define BOARD_H

/* Console: CMSDK APB UART0 (AN500 memory map); QEMU's first -serial. */
#define BOARD_CMSDK_UART_BASE 0x40004000u

#endif /* BOARD_H */
