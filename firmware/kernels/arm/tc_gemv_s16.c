/*
 * The int16 matrix-vector product of the DSP build's CONV_2D and FULLY_CONNECTED (the *_wide
 * kernels): every output channel of one row, four channels at a time.
 *
 * x: the row, `blocks` * 8 int16 (value + input offset, each group of four in SXTB16 order 0, 2,
 * 1, 3), 8-byte aligned. w: per block of four channels, per 8 row values, per channel, the same 8
 * values (the generator's layout: pipeline/codegen/ops/conv.py), so one LDM fetches a channel's four
 * pairs and the row is read once per four channels:
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
 * values: one LDM of the row (four words), per channel one LDM of its 8 values and 4 SMLAD, and
 * the end test (the row's end from the stack: the loop takes all fourteen registers). LDM needs
 * its registers in ascending order, so every operand has a fixed register (TC_GEMV_REGISTERS).
 */
#define TC_GEMV_ROW_PASS                                                                                     \
    "1:\n\t"                                                                                                 \
    "ldm %[xp]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                                           \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                           \
    "smlad %[a0], %[w0], %[x0], %[a0]\n\t"                                                                   \
    "smlad %[a0], %[w1], %[x1], %[a0]\n\t"                                                                   \
    "smlad %[a0], %[w2], %[x2], %[a0]\n\t"                                                                   \
    "smlad %[a0], %[w3], %[x3], %[a0]\n\t"                                                                   \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                           \
    "smlad %[a1], %[w0], %[x0], %[a1]\n\t"                                                                   \
    "smlad %[a1], %[w1], %[x1], %[a1]\n\t"                                                                   \
    "smlad %[a1], %[w2], %[x2], %[a1]\n\t"                                                                   \
    "smlad %[a1], %[w3], %[x3], %[a1]\n\t"                                                                   \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                           \
    "smlad %[a2], %[w0], %[x0], %[a2]\n\t"                                                                   \
    "smlad %[a2], %[w1], %[x1], %[a2]\n\t"                                                                   \
    "smlad %[a2], %[w2], %[x2], %[a2]\n\t"                                                                   \
    "smlad %[a2], %[w3], %[x3], %[a2]\n\t"                                                                   \
    "ldm %[wp]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                                           \
    "smlad %[a3], %[w0], %[x0], %[a3]\n\t"                                                                   \
    "smlad %[a3], %[w1], %[x1], %[a3]\n\t"                                                                   \
    "smlad %[a3], %[w2], %[x2], %[a3]\n\t"                                                                   \
    "smlad %[a3], %[w3], %[x3], %[a3]\n\t"                                                                   \
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
    "ldm %[wp]!, {%[x0], %[x1], %[x2], %[x3], %[w2], %[w3]}\n\t" TC_X2_SAT_OP(A, "x0", "x1", "x2")           \
        TC_X2_SAT_OP(B, "x3", "w2", "w3")

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
