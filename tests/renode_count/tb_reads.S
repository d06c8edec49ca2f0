/*
 * CYCCNT reads that Renode 1.15.1 counts wrongly unless every translation block is one
 * instruction (renode/stm32f4_tinyml.repl; tests/test_renode_real.py runs this with and
 * without that setting). Renode adds a block's whole instruction count when the block
 * starts, so cpu.ExecutedInstructions read during a load in the middle of a block is the
 * count at the block's end. Two cases, printed on USART2:
 *
 *   SAME_BLOCK <hex>  CYCCNT read twice in one straight-line block, 5 instructions apart:
 *                     exact is 5 (00000005); with multi-instruction blocks both reads see
 *                     the same block end (00000000).
 *   LOOP_BAD <hex>    reads one per iteration of an 11-instruction loop, READS times; the
 *                     number of consecutive reads not 11 apart. Exact is 0. With
 *                     multi-instruction blocks each synchronisation point (every global
 *                     quantum: 10,000 instructions by default) that falls after the read in
 *                     the loop's block cuts that block short and its read comes out low.
 *                     11 is prime to the quantum, so successive cuts land on every offset
 *                     in the loop (the digits firmware hit this once in 360 inferences).
 *
 * then DONE (the line that ends a run). Everything in flash, the vector table first.
 */
	.syntax unified
	.cpu cortex-m4
	.thumb

	.equ	DWT, 0xe0001000		/* +0 CTRL, +4 CYCCNT */
	.equ	USART2, 0x40004400
	.equ	READS_AT, 0x20000000
	.equ	READS, 16384		/* 180,224 instructions: 18 quanta of 10,000 */
	.equ	LOOP_LENGTH, 11

	.section .text.vectors, "ax"
	.word	0x20020000		/* initial SP: top of the 128 KB SRAM */
	.word	reset			/* .thumb_func: bit 0 set */

	.text
	.global	reset
	.thumb_func
reset:
	ldr	r0, =DWT
	movs	r1, #1
	str	r1, [r0]		/* CTRL.CYCCNTENA */
	b	1f			/* the branch target starts a new block */
1:	ldr	r1, [r0, #4]
	nop
	nop
	nop
	nop
	ldr	r2, [r0, #4]		/* 5 instructions after the first read */
	subs	r7, r2, r1

	ldr	r3, =READS_AT
	ldr	r4, =READS
	b	2f
2:	ldr	r1, [r0, #4]		/* 1: the read */
	nop				/* 2..8 */
	nop
	nop
	nop
	nop
	nop
	nop
	str	r1, [r3], #4		/* 9 */
	subs	r4, r4, #1		/* 10 */
	bne	2b			/* 11: the loop's block ends here */

	ldr	r3, =READS_AT
	ldr	r4, =READS - 1
	movs	r6, #0
	ldr	r1, [r3], #4
3:	ldr	r2, [r3], #4
	subs	r5, r2, r1
	cmp	r5, #LOOP_LENGTH
	it	ne
	addne	r6, r6, #1
	mov	r1, r2
	subs	r4, r4, #1
	bne	3b

	ldr	r0, =USART2
	movw	r1, #0x200c		/* CR1: UE | TE | RE */
	str	r1, [r0, #0x0c]
	adr	r2, same_block
	bl	puts
	mov	r3, r7
	bl	put_hex
	adr	r2, loop_bad
	bl	puts
	mov	r3, r6
	bl	put_hex
	adr	r2, done
	bl	puts
4:	b	4b

/* puts: the NUL-terminated string at r2 to DR (r0 = USART2); clobbers r1, r2. */
	.thumb_func
puts:
	ldrb	r1, [r2], #1
	cbz	r1, 5f
	str	r1, [r0, #0x04]
	b	puts
5:	bx	lr

/* put_hex: r3 as 8 hex digits and a newline; clobbers r1, r2. */
	.thumb_func
put_hex:
	movs	r2, #28
6:	lsr	r1, r3, r2
	and	r1, r1, #0xf
	cmp	r1, #10
	ite	lo
	addlo	r1, r1, #'0'
	addhs	r1, r1, #'a' - 10
	str	r1, [r0, #0x04]
	subs	r2, r2, #4
	bpl	6b
	movs	r1, #'\n'
	str	r1, [r0, #0x04]
	bx	lr

	.balign 4
same_block:	.asciz	"SAME_BLOCK "
	.balign 4
loop_bad:	.asciz	"LOOP_BAD "
	.balign 4
done:	.asciz	"DONE\n"
	.ltorg
