/*
 * Micro-benchmarks of the cycle model (tests/test_cycle_model.py derives each count by
 * hand from docs/cycle-model.md). The reset handler calls every bench_* once, then
 * prints DONE on USART2 (the line that ends a QEMU run) and spins.
 */
	.syntax unified
	.cpu cortex-m4
	.thumb

	.section .text.vectors, "ax"
	.word 0x20020000		/* initial SP: top of the 128 KB SRAM */
	.word reset			/* .thumb_func: bit 0 set */

	.text
	.global	reset
	.thumb_func
reset:
	bl	bench_alu
	bl	bench_load_chain
	bl	bench_load_store
	bl	bench_ldm
	bl	bench_push_pop
	bl	bench_smlad
	bl	bench_divide
	bl	bench_flash_data
	bl	bench_flash_code
	ldr	r0, =0x40004400		/* USART2 */
	movw	r1, #0x200c		/* CR1: UE | TE | RE */
	str	r1, [r0, #0x0c]
	adr	r2, done
1:	ldrb	r1, [r2], #1
	cbz	r1, 2f
	str	r1, [r0, #0x04]		/* DR */
	b	1b
2:	b	2b
done:	.asciz	"DONE\n"
	.ltorg

/* Data processing and a counted loop: 9 taken branches, 1 not taken. */
	.balign 64
	.thumb_func
bench_alu:
	movs	r0, #0
	movs	r1, #10
1:	adds	r0, r0, r1
	eors	r2, r0, r1
	subs	r1, #1
	bne	1b
	bx	lr

/* A pointer chase: every load's address is the previous load's result. */
	.balign 64
	.thumb_func
bench_load_chain:
	ldr	r0, =chain
	ldr	r0, [r0]
	ldr	r0, [r0]
	ldr	r0, [r0]
	ldr	r0, [r0]
	bx	lr
	.ltorg

/* Pipelined and non-pipelined single loads and stores (SRAM). */
	.balign 64
	.thumb_func
bench_load_store:
	ldr	r3, =0x20001000
	movs	r0, #1
	str	r0, [r3]
	ldr	r1, [r3]
	str	r1, [r3, #4]
	adds	r3, #8
	ldr	r2, [r3]
	ldr	r0, [r3], #4
	ldr	r1, [r3]
	bx	lr
	.ltorg

/* LDM of 1 to 8 registers (SRAM). */
	.balign 64
	.thumb_func
bench_ldm:
	ldr	r0, =0x20001000
	ldm	r0, {r1}
	ldm	r0, {r1-r2}
	ldm	r0, {r1-r3}
	ldm	r0, {r1-r4}
	ldm.w	r0, {r1-r5}
	ldm.w	r0, {r1-r6}
	ldm.w	r0, {r1-r7}
	ldm.w	r0, {r1-r8}
	bx	lr
	.ltorg

/* PUSH of 5 and a POP of 5 that returns. */
	.balign 64
	.thumb_func
bench_push_pop:
	push	{r4-r7, lr}
	pop	{r4-r7, pc}

/* An int8 dot product's inner loop: two post-indexed loads and an SMLAD, 4 times. */
	.balign 64
	.thumb_func
bench_smlad:
	ldr	r0, =0x20001000
	movs	r1, #0
	movs	r4, #4
1:	ldr	r2, [r0], #4
	ldr	r3, [r0], #4
	smlad	r1, r2, r3, r1
	subs	r4, #1
	bne	1b
	bx	lr
	.ltorg

	.balign 64
	.thumb_func
bench_divide:
	movs	r0, #100
	movs	r1, #7
	sdiv	r2, r0, r1
	udiv	r3, r0, r1
	bx	lr

/* Streams 64 bytes of flash (4 lines of 128 bits) through the data side; the code is one line. */
	.balign 64
	.thumb_func
bench_flash_data:
	ldr	r0, =table
	movs	r1, #0
	movs	r2, #16
1:	ldmia	r0!, {r3}
	adds	r1, r1, r3
	subs	r2, #1
	bne	1b
	bx	lr
	.ltorg

/* A loop over three lines of code, 4 times: the instruction side of the ART. */
	.balign 64
	.thumb_func
bench_flash_code:
	movs	r0, #4
	.rept 7				/* to the next line: executed */
	nop.n
	.endr
	.balign 16			/* (already aligned) */
1:	.rept 8
	adds	r1, #1
	.endr
	.rept 7
	adds	r1, #1
	.endr
	subs	r0, #1
	bne	1b
	bx	lr

	.section .rodata
	.balign 16
chain:	.word	chain + 4, chain + 8, chain + 12, chain + 16
table:	.rept 16
	.word	1
	.endr
