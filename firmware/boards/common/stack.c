/* Stack painting: see stack.h. */
#include "stack.h"

/* Not a plausible address, small integer or int8 tensor fill. */
#define STACK_PAINT_WORD 0xC5A5C5A5u

/* Words left unpainted just below the stack pointer, for this function's own
 * use: it is a leaf, but keep clear of anything the compiler spills. */
#define STACK_PAINT_GUARD_WORDS 16u

extern uint32_t __stack_bottom__[]; /* common/sections.ld */
extern uint32_t __stack_top__[];

void stack_paint(void)
{
	uint32_t *sp;
	volatile uint32_t *p = __stack_bottom__;

	__asm volatile("mov %0, sp" : "=r"(sp));
	/* volatile: keep gcc from turning this into a memset() call whose own
	 * frame would sit inside the region being painted. */
	while (p < sp - STACK_PAINT_GUARD_WORDS) {
		*p++ = STACK_PAINT_WORD;
	}
}

uint32_t stack_used(void)
{
	const uint32_t *p = __stack_bottom__;

	while (p < __stack_top__ && *p == STACK_PAINT_WORD) {
		p++;
	}
	return (uint32_t)((uintptr_t)__stack_top__ - (uintptr_t)p);
}

uint32_t stack_reserved(void)
{
	return (uint32_t)((uintptr_t)__stack_top__ - (uintptr_t)__stack_bottom__);
}
