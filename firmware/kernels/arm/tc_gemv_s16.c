/*
 * The int16 matrix-vector product of the DSP build's CONV_2D and FULLY_CONNECTED (the *_wide
 * kernels): every output channel of one row, four channels at a time.
 *
 * x: the row, `blocks` * 8 int16 (value + input offset, each group of four in SXTB16 order 0, 2,
 * 1, 3), 8-byte aligned. w: per block of four channels, per 8 row values, per word (pair of values),
 * the four channels' words (the generator's layout: pipeline/codegen/ops/conv.py), so one LDM
 * fetches one row word's four filter words and the row is read once per four channels:
 *   per 8 row values and 4 channels: 1 + 4 LDM, 16 SMLAD (32 MACs), 3 for the loop.
 * The accumulators start at the bias. Two epilogues, chosen by the generator per layer:
 * - x2 (filter and bias doubled, right shifts 1 to 22, |acc| < 2^30): tc_requantize_x2, seven
 *   instructions per output with the full int8 range (the whole block loop in assembly), in C
 *   with a narrower clamp or for a partial last block;
 * - split (any shift): tc_requant_ch, the split form of tc_requant.h's formula.
 * Both epilogues, TC_GEMV_X2_SAT included, are in tc_requant_dsp.h.
 *
 * tc_gemv_s8p is the same product with a packed int8 filter (tc_fully_connected_s8_packed, whose
 * weights are each read once: half the flash bytes of int16); only the row pass differs
 * (TC_GEMV_PACKED_ROW_PASS), the epilogues are shared.
 */
#include <stddef.h>

#include "tc_dsp.h"

/*
 * The row pass: a0..a3 += the row (xp, up to x_end) times the next four filters (wp). Per 8 row
 * values: one LDM of the row (four words), per row word one LDM of the four channels' words and 4
 * SMLAD, and the end test (the row's end from the stack: the loop takes all fourteen registers).
 * LDM needs its registers in ascending order, so every operand has a fixed register
 * (TC_GEMV_REGISTERS).
 */
#define TC_GEMV_WORD(X)                                                                                      \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                           \
    "smlad %[a0], %[w0], %[" X "], %[a0]\n\t"                                                                \
    "smlad %[a1], %[w1], %[" X "], %[a1]\n\t"                                                                \
    "smlad %[a2], %[w2], %[" X "], %[a2]\n\t"                                                                \
    "smlad %[a3], %[w3], %[" X "], %[a3]\n\t"

#define TC_GEMV_ROW_PASS                                                                                     \
    "1:\n\t"                                                                                                 \
    "ldm %[xp]!, {%[x0], %[x1], %[x2], %[x3]}\n\t" TC_GEMV_WORD("x0") TC_GEMV_WORD("x1") TC_GEMV_WORD("x2")    \
        TC_GEMV_WORD("x3")                                                                                   \
    "ldr %[w0], %[x_end]\n\t"                                                                                \
    "cmp %[xp], %[w0]\n\t"                                                                                   \
    "bne 1b\n\t"

/*
 * The packed row pass: the filter holds two channels' int8 weights in each int16, h = 256 a + b
 * (a the even channel of a pair, b the odd one: pipeline/codegen/ops/fully_connected.py checks
 * that h fits). With a row word X = (x0, x1) and a filter word W = (h0, h1):
 *   SMLAD(W, X)         = 256 (a0 x0 + a1 x1) + (b0 x0 + b1 x1)   into M (a0, a2),
 *   SMLAD(SXTB16(W), X) =                        b0 x0 + b1 x1    into N (a1, a3),
 * SXTB16 taking each half's low byte, b, sign-extended. So N is the odd channel's sum and
 * M - N = 256 times the even one's, exactly when that sum stays below 2^23 in magnitude (the
 * int32 arithmetic wraps; the generator checks the bound over every int8 row): four MACs per
 * filter word for two SMLAD and one SXTB16, where widening int8 weights takes two. Per 32 row
 * values and 4 channels: 4 LDM of the row, 8 LDM of filter words, 32 SXTB16, 64 SMLAD, one end test
 * (162 cycles for 128 MACs, 1.27 a MAC, before flash wait states).
 * The accumulators start at (256 bias_a + bias_b, bias_b); the decode leaves the two channels' sums
 * in a0..a3, doubled (DECODE_X2) for the x2 epilogue or as they are (DECODE_SPLIT).
 */
#define TC_GEMV_PAIR(M, N, W, X)                                                                             \
    "smlad %[" M "], %[" W "], %[" X "], %[" M "]\n\t"                                                        \
    "sxtb16 %[" W "], %[" W "]\n\t"                                                                          \
    "smlad %[" N "], %[" W "], %[" X "], %[" N "]\n\t"

#define TC_GEMV_PAIR_ROW(M, N)                                                                               \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" TC_GEMV_PAIR(M, N, "w0", "x0") TC_GEMV_PAIR(M, N, "w1", "x1") \
        TC_GEMV_PAIR(M, N, "w2", "x2") TC_GEMV_PAIR(M, N, "w3", "x3")

#define TC_GEMV_PACKED_8                                                                                     \
    "ldm %[xp]!, {%[x0], %[x1], %[x2], %[x3]}\n\t" TC_GEMV_PAIR_ROW("a0", "a1") TC_GEMV_PAIR_ROW("a2", "a3")

#define TC_GEMV_DECODE(M, N, SHIFT)                                                                          \
    "sub %[" M "], %[" M "], %[" N "]\n\t"                                                                   \
    "asr %[" M "], %[" M "], #" SHIFT "\n\t"
#define TC_GEMV_DECODE_SPLIT TC_GEMV_DECODE("a0", "a1", "8") TC_GEMV_DECODE("a2", "a3", "8")
#define TC_GEMV_DECODE_X2                                                                                    \
    TC_GEMV_DECODE("a0", "a1", "7") TC_GEMV_DECODE("a2", "a3", "7") "lsl %[a1], %[a1], #1\n\t"               \
                                                                    "lsl %[a3], %[a3], #1\n\t"

#define TC_GEMV_PACKED_ROW_PASS(DECODE)                                                                      \
    "1:\n\t" TC_GEMV_PACKED_8 TC_GEMV_PACKED_8 TC_GEMV_PACKED_8 TC_GEMV_PACKED_8 "ldr %[w0], %[x_end]\n\t"                                     \
    "cmp %[xp], %[w0]\n\t"                                                                                   \
    "bne 1b\n\t" DECODE

#define TC_GEMV_REGISTERS                                                                                    \
    register int32_t a0 __asm("r0");                                                                         \
    register int32_t a1 __asm("r1");                                                                         \
    register int32_t a2 __asm("r2");                                                                         \
    register int32_t a3 __asm("r3");                                                                         \
    register int32_t x0 __asm("r4");                                                                         \
    register int32_t x1 __asm("r5");                                                                         \
    register int32_t x2 __asm("r6");                                                                         \
    register int32_t x3 __asm("r7");                                                                         \
    register int32_t w0 __asm("r8");                                                                         \
    register int32_t w1 __asm("r9");                                                                         \
    register int32_t w2 __asm("r10");                                                                        \
    register int32_t w3 __asm("r11");                                                                        \
    register const int16_t *xp __asm("r12");                                                                 \
    register const int16_t *wp __asm("lr")

#define TC_GEMV_OPERANDS                                                                                     \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp), [wp] "+r"(wp), [x0] "=&r"(x0), \
        [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2),      \
        [w3] "=&r"(w3)

#define TC_GEMV_BLOCK4(ROW_PASS) __asm volatile(ROW_PASS : TC_GEMV_OPERANDS : [x_end] "m"(x_end) : "cc", "memory")

/*
 * Whole blocks of 4 channels with the x2 epilogue and the full int8 range (one SSAT), all in
 * assembly: per block one LDM of its biases into the accumulators, the row pass, and per output one
 * LDM of (multiplier, right, round_zp) and six instructions (tc_requantize_x2, SSAT, STRB). The
 * pointers that outlive a row pass live in a stack frame.
 */
#define TC_GEMV_X2_SAT_BLOCKS(ROW_PASS)                                                                      \
    __asm volatile("3:\n\t"                                                                                  \
                   "ldr %[xp], %[fx]\n\t"                                                                    \
                   "ldr %[w0], %[blk]\n\t"                                                                   \
                   "ldm %[w0]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"                                            \
                   "str %[w0], %[blk]\n\t" ROW_PASS "ldr %[w0], %[blk]\n\t"                                  \
                   "ldr %[w1], %[out]\n\t" TC_GEMV_X2_SAT("a0") TC_GEMV_X2_SAT("a1") TC_GEMV_X2_SAT("a2")    \
                       TC_GEMV_X2_SAT("a3") "str %[w0], %[blk]\n\t"                                          \
                                            "str %[w1], %[out]\n\t"                                          \
                                            "ldr %[w2], %[out_end]\n\t"                                      \
                                            "cmp %[w1], %[w2]\n\t"                                           \
                                            "bne 3b"                                                         \
                   : TC_GEMV_OPERANDS, [blk] "+m"(f.blk), [out] "+m"(f.out)                                  \
                   : [fx] "m"(f.x), [x_end] "m"(f.x_end), [out_end] "m"(f.out_end)                           \
                   : "cc", "memory")

/*
 * The same for the packed form, whose constants are in its filter stream (pipeline/codegen/ops/conv.py
 * wide_gemv): per block one LDM of its starting accumulators at wp, the row pass, then wp is at the
 * block's four tc_requant_x2_t: two LDM of two channels' constants each, and one STR of the four
 * bytes (BFI). No pointer but the output's lives in the frame.
 */
#define TC_GEMV_X2_SAT_PAIR(A, B)                                                                            \
    "ldm %[wp]!, {%[x0], %[x1], %[x2], %[x3], %[w2], %[w3]}\n\t" TC_X2_SAT_IN_PLACE(A, "x0", "x1", "x2")           \
        TC_X2_SAT_IN_PLACE(B, "x3", "w2", "w3")

#define TC_GEMV_X2_SAT_STREAM                                                                                \
    __asm volatile("3:\n\t"                                                                                  \
                   "ldr %[xp], %[fx]\n\t"                                                                    \
                   "ldm %[wp]!, {%[a0], %[a1], %[a2], %[a3]}\n\t" TC_GEMV_PACKED_ROW_PASS(TC_GEMV_DECODE_X2)  \
                   "ldr %[w1], %[out]\n\t" TC_GEMV_X2_SAT_PAIR("a0", "a1") TC_GEMV_X2_SAT_PAIR("a2", "a3")   \
                   "bfi %[a0], %[a1], #8, #8\n\t"                                                            \
                   "bfi %[a0], %[a2], #16, #8\n\t"                                                           \
                   "bfi %[a0], %[a3], #24, #8\n\t"                                                           \
                   "str %[a0], [%[w1]], #4\n\t"                                                              \
                   "str %[w1], %[out]\n\t"                                                                   \
                   "ldr %[w2], %[out_end]\n\t"                                                               \
                   "cmp %[w1], %[w2]\n\t"                                                                    \
                   "bne 3b"                                                                                  \
                   : TC_GEMV_OPERANDS, [out] "+m"(f.out)                                                     \
                   : [fx] "m"(f.x), [x_end] "m"(f.x_end), [out_end] "m"(f.out_end)                           \
                   : "cc", "memory")

/* The functions of one filter form each (the body is tc_gemv_form.h): so that every function holds
 * only its own row pass, as without optimization gcc keeps every branch and runs out of registers. */
#define TC_GEMV_PACKED 0
#define TC_GEMV_FN(name) name##_s16
#include "tc_gemv_form.h"
#undef TC_GEMV_PACKED
#undef TC_GEMV_FN

#define TC_GEMV_PACKED 1
#define TC_GEMV_FN(name) name##_s8p
#include "tc_gemv_form.h"
#undef TC_GEMV_PACKED
#undef TC_GEMV_FN

/*
 * Two rows at once (tc_gemv2_s16): each filter word loaded feeds two SMLADs, one per row. The rows
 * are interleaved per word (row A's word, then row B's), so that both are read from one pointer.
 * Per 8 row values and 4 channels (64 MACs), four steps, each one word of each row against one
 * word of each filter: 8 SMLAD and 6 words loaded, either by three LDM (3 + 3 + 3 cycles) or as two
 * chains of pipelined LDRs (both row words and two filter words, then two: 5 + 3 cycles, three
 * instructions more).
 * The first step is the LDM one, moving xp past its two words and wp past its four; the second
 * moves them past the block with its last load of each chain (a base-update load that a SMLAD
 * follows costs nothing more), the last two reach back. Blocks go two per loop, so that the end
 * test (6 cycles) comes once per two; an odd number of blocks enters at the second (5 cycles once
 * per pass): 17 + 3 x 16 + 3 = 68 cycles per block, 54.5 instructions, where two single-row passes
 * take 2 x 47 cycles (48 instructions).
 * Registers: a0..a3 row A's accumulators, b0..b3 row B's, then xa, xb, w0, w1, xp, wp (fourteen).
 */
/* Both row words (xa, xb) against two channels' words (w0, w1): four SMLAD. */
#define TC_GEMV2_SMLAD(A0, A1, B0, B1)                                                                       \
    "smlad %[" A0 "], %[w0], %[xa], %[" A0 "]\n\t"                                                            \
    "smlad %[" B0 "], %[w0], %[xb], %[" B0 "]\n\t"                                                            \
    "smlad %[" A1 "], %[w1], %[xa], %[" A1 "]\n\t"                                                            \
    "smlad %[" B1 "], %[w1], %[xb], %[" B1 "]\n\t"

/* One LDR step: the row words at xp + XA and xp + XB, channel c's word at wp + Wc. */
#define TC_GEMV2_STEP(XA, XB, W0, W1, W2, W3)                                                                \
    "ldr %[xa], [%[xp], #" XA "]\n\t"                                                                        \
    "ldr %[xb], [%[xp], #" XB "]\n\t"                                                                        \
    "ldr %[w0], [%[wp], #" W0 "]\n\t"                                                                        \
    "ldr %[w1], [%[wp], #" W1 "]\n\t" TC_GEMV2_SMLAD("a0", "a1", "b0", "b1")                                 \
    "ldr %[w0], [%[wp], #" W2 "]\n\t"                                                                        \
    "ldr %[w1], [%[wp], #" W3 "]\n\t" TC_GEMV2_SMLAD("a2", "a3", "b2", "b3")

#define TC_GEMV2_BLOCK                                                                                       \
    "ldm %[xp]!, {%[xa], %[xb]}\n\t"                                                                         \
    "ldm %[wp]!, {%[w0], %[w1]}\n\t" TC_GEMV2_SMLAD("a0", "a1", "b0", "b1")                                  \
    "ldm %[wp]!, {%[w0], %[w1]}\n\t" TC_GEMV2_SMLAD("a2", "a3", "b2", "b3")                                  \
    "ldr %[xb], [%[xp], #4]\n\t"                                                                             \
    "ldr %[w0], [%[wp], #8]\n\t"                                                                             \
    "ldr %[w1], [%[wp], #12]\n\t"                                                                            \
    "ldr %[xa], [%[xp]], #24\n\t" TC_GEMV2_SMLAD("a2", "a3", "b2", "b3")                                     \
    "ldr %[w1], [%[wp], #4]\n\t"                                                                             \
    "ldr %[w0], [%[wp]], #48\n\t" TC_GEMV2_SMLAD("a0", "a1", "b0", "b1")                                     \
    TC_GEMV2_STEP("-16", "-12", "-32", "-28", "-24", "-20")                                                 \
    TC_GEMV2_STEP("-8", "-4", "-16", "-12", "-8", "-4")

/* The row is blocks * 32 bytes: bit 5 of its length is set for an odd number of blocks. */
#define TC_GEMV2_ROW_PASS                                                                                    \
    "ldr %[w0], %[x_end]\n\t"                                                                                \
    "sub %[w0], %[w0], %[xp]\n\t"                                                                            \
    "tst %[w0], #32\n\t"                                                                                     \
    "bne 2f\n\t"                                                                                             \
    "1:\n\t" TC_GEMV2_BLOCK "2:\n\t" TC_GEMV2_BLOCK                                                          \
    "ldr %[w0], %[x_end]\n\t"                                                                                \
    "cmp %[xp], %[w0]\n\t"                                                                                   \
    "bne 1b\n\t"

#define TC_GEMV2_REGISTERS                                                                                   \
    register int32_t a0 __asm("r0");                                                                         \
    register int32_t a1 __asm("r1");                                                                         \
    register int32_t a2 __asm("r2");                                                                         \
    register int32_t a3 __asm("r3");                                                                         \
    register int32_t b0 __asm("r4");                                                                         \
    register int32_t b1 __asm("r5");                                                                         \
    register int32_t b2 __asm("r6");                                                                         \
    register int32_t b3 __asm("r7");                                                                         \
    register int32_t xa __asm("r8");                                                                         \
    register int32_t xb __asm("r9");                                                                         \
    register int32_t w0 __asm("r10");                                                                        \
    register int32_t w1 __asm("r11");                                                                        \
    register const int16_t *xp __asm("r12");                                                                 \
    register const int16_t *wp __asm("lr")

/* ACC: "+r" where the accumulators come in from C, "=&r" where the asm block sets them (gcc's 30 operands). */
#define TC_GEMV2_OPERANDS(ACC)                                                                               \
    [a0] ACC(a0), [a1] ACC(a1), [a2] ACC(a2), [a3] ACC(a3), [b0] ACC(b0), [b1] ACC(b1), [b2] ACC(b2),         \
        [b3] ACC(b3), [xp] "+r"(xp), [wp] "+r"(wp), [xa] "=&r"(xa), [xb] "=&r"(xb), [w0] "=&r"(w0),           \
        [w1] "=&r"(w1)

/* a[0..3] (row A) and a[4..7] (row B) += the rows times the next four filters; *w moves past them. */
static inline __attribute__((always_inline)) void tc_gemv2_block4(const int16_t *x, const int16_t **w, int32_t blocks,
                                                                  int32_t a[8])
{
    TC_GEMV2_REGISTERS;
    const int16_t *const x_end = x + blocks * 16;
    a0 = a[0];
    a1 = a[1];
    a2 = a[2];
    a3 = a[3];
    b0 = a[4];
    b1 = a[5];
    b2 = a[6];
    b3 = a[7];
    xp = x;
    wp = *w;
    __asm volatile(TC_GEMV2_ROW_PASS : TC_GEMV2_OPERANDS("+r") : [x_end] "m"(x_end) : "cc", "memory");
    *w = wp;
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
    a[4] = b0;
    a[5] = b1;
    a[6] = b2;
    a[7] = b3;
}

/* Channel k of both rows: its tc_requant_x2_t loaded once (LDM into xa, xb, w1) for both accumulators. */
#define TC_GEMV2_X2_SAT(K)                                                                                   \
    "ldm %[w0]!, {%[xa], %[xb], %[w1]}\n\t" TC_X2_SAT_IN_PLACE("a" K, "xa", "xb", "w1")                      \
        TC_X2_SAT_IN_PLACE("b" K, "xa", "xb", "w1")

/* A row's four int8 (in the low bytes of r0..r3) into one word, stored at *OUT, which moves past it. */
#define TC_GEMV2_STORE4(R, OUT)                                                                              \
    "bfi %[" R "0], %[" R "1], #8, #8\n\t"                                                                   \
    "bfi %[" R "0], %[" R "2], #16, #8\n\t"                                                                  \
    "bfi %[" R "0], %[" R "3], #24, #8\n\t"                                                                  \
    "ldr %[xp], %[" OUT "]\n\t"                                                                              \
    "str %[" R "0], [%[xp]], #4\n\t"                                                                         \
    "str %[xp], %[" OUT "]\n\t"

/*
 * Whole blocks of 4 channels with the x2 epilogue and the full int8 range, both rows, all in
 * assembly: per block one LDM of its biases into row A's accumulators, copied to row B's, the row
 * pass, then per channel one LDM of its constants for both rows' outputs, and per row one word of
 * four outputs (BFI, STR: the M4 stores unaligned words). The pointers that outlive a row pass live
 * in a stack frame.
 */
TC_ALL_REGISTERS static void tc_gemv2_s16_x2_sat(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w,
                                                 int8_t *out_a, int8_t *out_b, int32_t whole_blocks)
{
    struct {
        const int16_t *x, *x_end;
        const tc_gemv_x2_block_t *blk;
        int8_t *out_a, *out_b, *out_b_end;
    } f = {x, x + p->blocks * 16, p->x2, out_a, out_b, out_b + 4 * whole_blocks};
    TC_GEMV2_REGISTERS;
    wp = w;

    __asm volatile("3:\n\t"
                   "ldr %[xp], %[fx]\n\t"
                   "ldr %[w0], %[blk]\n\t"
                   "ldm %[w0]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"
                   "str %[w0], %[blk]\n\t"
                   "mov %[b0], %[a0]\n\t"
                   "mov %[b1], %[a1]\n\t"
                   "mov %[b2], %[a2]\n\t"
                   "mov %[b3], %[a3]\n\t" TC_GEMV2_ROW_PASS
                   "ldr %[w0], %[blk]\n\t" TC_GEMV2_X2_SAT("0") TC_GEMV2_X2_SAT("1") TC_GEMV2_X2_SAT("2")
                       TC_GEMV2_X2_SAT("3") TC_GEMV2_STORE4("a", "out_a") TC_GEMV2_STORE4("b", "out_b")
                   "str %[w0], %[blk]\n\t"
                   "ldr %[w1], %[out_b_end]\n\t"
                   "cmp %[xp], %[w1]\n\t"
                   "bne 3b"
                   : TC_GEMV2_OPERANDS("=&r"), [blk] "+m"(f.blk), [out_a] "+m"(f.out_a), [out_b] "+m"(f.out_b)
                   : [fx] "m"(f.x), [x_end] "m"(f.x_end), [out_b_end] "m"(f.out_b_end)
                   : "cc", "memory");
}

/*
 * Both rows in C, blocks [first, last) of channels, the last one possibly partial: the x2 epilogue
 * with any clamp (mode) or the split one (each channel's constants walked once per row). One
 * function for both and every mode, so that the row pass is not copied once more for each: it runs
 * for layers with a narrower clamp, a partial last block or the split epilogue only.
 */
TC_ALL_REGISTERS static __attribute__((noinline)) void tc_gemv2_s16_c(const tc_gemv_params_t *p, const int16_t *x,
                                                                      const int16_t *w, int8_t *out_a, int8_t *out_b,
                                                                      int32_t first, int32_t mode)
{
    const tc_range_t act = p->act;
    const int32_t *q = (const int32_t *)(const void *)p->quant;
    w += first * 4 * p->blocks * 8;
    out_a += first * 4;
    out_b += first * 4;
    for (int32_t c = first * 4; c < p->channels; c += 4) {
        const tc_gemv_x2_block_t *blk = p->x2 == NULL ? NULL : &p->x2[c >> 2];
        const int32_t *bias = blk == NULL ? &p->bias[c] : blk->bias;
        int32_t a[8];
        for (int32_t k = 0; k < 4; ++k) {
            a[k] = a[k + 4] = bias[k];
        }
        tc_gemv2_block4(x, &w, p->blocks, a);
        const int32_t n = tc_min_i32(4, p->channels - c);
        for (int32_t k = 0; k < n; ++k) {
            if (blk != NULL) {
                *out_a++ = (int8_t)tc_clamp_act(tc_requantize_x2(a[k], &blk->quant[k]), act, mode);
                *out_b++ = (int8_t)tc_clamp_act(tc_requantize_x2(a[k + 4], &blk->quant[k]), act, mode);
            } else {
                const int32_t *qb = q;
                *out_a++ = tc_requant_ch(a[k], &q, p->output_offset, act.min, act.max);
                *out_b++ = tc_requant_ch(a[k + 4], &qb, p->output_offset, act.min, act.max);
            }
        }
    }
}

TC_ALL_REGISTERS void tc_gemv2_s16(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out_a,
                                   int8_t *out_b)
{
    const int32_t mode = tc_act_mode(p->act);
    const int32_t whole_blocks = p->x2 != NULL && mode == 2 ? p->channels >> 2 : 0;
    if (whole_blocks > 0) {
        tc_gemv2_s16_x2_sat(p, x, w, out_a, out_b, whole_blocks);
    }
    if (whole_blocks * 4 < p->channels) { /* the split epilogue, a narrower clamp, or the partial block */
        tc_gemv2_s16_c(p, x, w, out_a, out_b, whole_blocks, mode);
    }
}
