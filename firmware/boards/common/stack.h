/*
 * Stack high-water mark by painting.
 *
 * stack_paint() fills the unused part of the stack (from the bottom of the
 * linker's .stack section up to the caller's stack pointer) with a pattern;
 * stack_used() finds the lowest word that no longer holds it. The result
 * counts everything that ran in between, exception frames included, plus the
 * frames that were live at paint time (startup, main).
 */
#ifndef BOARD_STACK_H
#define BOARD_STACK_H

#include <stdint.h>

void stack_paint(void);
uint32_t stack_used(void);     /* bytes, high-water mark since the last paint */
uint32_t stack_reserved(void); /* bytes, the linker's .stack (TC_STACK_BYTES) */

#endif /* BOARD_STACK_H */
