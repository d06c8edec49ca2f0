/*
 * DEPTHWISE_CONV_2D, int8, per-channel quantization, depth multiplier 1, 3x3, no dilation, stride
 * 1 or 2 (both directions), a depth that is a multiple of 4: Cortex-M4 DSP version of
 * ../tc_depthwise_conv2d_s8.c for small output planes, four channels at a time.
 *
 * tc_depthwise_conv2d_s8_planes pays per channel and per plane line (its fill, pass and
 * requantization loops); on planes of a few outputs (vww_mobilenet's 6x6 and 3x3) that is most of
 * its time. Here a group of four channels is one pass over its output positions:
 *
 * - the group's input, padded, in the scratch buffer as int16 with the input offset added: pixel
 *   (y, x) of the rows and columns the taps reach (input (y - pad_h, x - pad_w)) at
 *   grid[(y * ext_w + x) * 2], the words (c0, c2) and (c1, c3); the padding is 0 (the reference
 *   skips those taps);
 * - the group's block of constants (pipeline/codegen/ops/depthwise.py group_blocks), copied after
 *   it: every position rereads all of it, and from flash its nine 16-byte lines would miss the
 *   ART's 8-line data cache each time (docs/cycle-model.md). Words: per tap the doubled filter as
 *   int16 pairs (c0, c2), (c1, c3) (18), the doubled bias (4), and per channel tc_requant_x2_t's
 *   multiplier (4), round_zp (4) and right shift (4);
 * - per output position, in assembly: per tap two words of the grid and two of the filter (four
 *   pipelined loads) and four SMLAxy; then x2 of each channel (TC_X2_MLA), the four int8 in one word (BFI), the activation's clamp on
 *   all four at once (SSUB8 and SEL) and one store.
 */
#include "tc_dsp_common.h"

enum { TC_DWG_WORDS = 34 }; /* one group's block of constants */

/* n grid pixels of padding (0, 0). */
static inline int32_t *tc_dwg_zero(int32_t *grid, int32_t n)
{
    for (; n > 0; --n) {
        grid[0] = 0;
        grid[1] = 0;
        grid += 2;
    }
    return grid;
}

/*
 * Group g's grid (see above): four channels of every input pixel, offset added, and the padding:
 * the rows above the input with the first row's left columns, per input row its pixels (two per
 * step) and the columns right of it with the next row's left ones, the rows below (no test per
 * pixel).
 */
static void tc_dwg_fill(const tc_conv_params_t *p, const int8_t *in_b, int32_t g, int32_t ext_h, int32_t ext_w,
                        int32_t *grid)
{
    const int32_t depth = p->input.c;
    const int32_t offset2 = (int32_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
    const int32_t top = tc_min_i32(p->pad_h, ext_h);
    const int32_t rows = tc_max_i32(0, tc_min_i32(p->input.h, ext_h - top));
    const int32_t left = tc_min_i32(p->pad_w, ext_w);
    const int32_t cols = tc_max_i32(0, tc_min_i32(p->input.w, ext_w - left));
    const int32_t right = ext_w - left - cols;
    const int32_t *end = &grid[2 * ext_w * ext_h];

    grid = tc_dwg_zero(grid, ext_w * top + (rows ? left : 0));
    for (int32_t y = 0; y < rows; ++y) {
        const int8_t *src = &in_b[y * p->input.w * depth + 4 * g];
        int32_t x = cols;
        for (; x >= 2; x -= 2) {
            const int32_t v0 = tc_load_word(src), v1 = tc_load_word(&src[depth]);
            grid[0] = __sxtab16(offset2, v0);
            grid[1] = tc_sxtab16_odd(offset2, v0);
            grid[2] = __sxtab16(offset2, v1);
            grid[3] = tc_sxtab16_odd(offset2, v1);
            grid += 4;
            src += 2 * depth;
        }
        if (x) {
            const int32_t v = tc_load_word(src);
            grid[0] = __sxtab16(offset2, v);
            grid[1] = tc_sxtab16_odd(offset2, v);
            grid += 2;
        }
        grid = tc_dwg_zero(grid, right + (y + 1 < rows ? left : 0));
    }
    tc_dwg_zero(grid, (int32_t)(end - grid) / 2);
}

/* One tap: grid words at Q + XOFF (bytes), filter words at w + WOFF. */
#define TC_DWG_TAP(Q, XOFF, WOFF)                                                                            \
    "ldr %[x0], [%[" Q "], #" XOFF "]\n\t"                                                                   \
    "ldr %[x1], [%[" Q "], #" XOFF "+4]\n\t"                                                                 \
    "ldr %[wa], [%[w], #" WOFF "]\n\t"                                                                       \
    "ldr %[wb], [%[w], #" WOFF "+4]\n\t"                                                                     \
    "smlabb %[a0], %[x0], %[wa], %[a0]\n\t"                                                                  \
    "smlatt %[a2], %[x0], %[wa], %[a2]\n\t"                                                                  \
    "smlabb %[a1], %[x1], %[wb], %[a1]\n\t"                                                                  \
    "smlatt %[a3], %[x1], %[wb], %[a3]\n\t"

/* x2 of channel I (its accumulator A): multiplier, round_zp and right shift from the block. */
#define TC_DWG_X2(A, I)                                                                                      \
    "ldr %[x0], [%[w], #88+4*" I "]\n\t"                                                                     \
    "ldr %[x1], [%[w], #104+4*" I "]\n\t"                                                                    \
    "ldr %[wa], [%[w], #120+4*" I "]\n\t" TC_X2_MLA(A, "x0", "x1", "x1", "wa") "ssat %[" A "], #8, %[" A "]\n\t"

#define TC_DWG_NO_CLAMP ""
#define TC_DWG_CLAMP_MIN "ldr %[x0], %[min4]\n\tssub8 %[x1], %[a0], %[x0]\n\tsel %[a0], %[a0], %[x0]\n\t"
#define TC_DWG_CLAMP_MAX "ldr %[x0], %[max4]\n\tssub8 %[x1], %[x0], %[a0]\n\tsel %[a0], %[a0], %[x0]\n\t"

/*
 * Every output position of the group, line by line: q0..q2 the grid's three rows at a position's
 * taps, advanced by STEP (bytes: 8 * stride) per position and by the frame's q_skip per line; o its
 * output, advanced by the depth (an output line ends where the next begins).
 */
#define TC_DWG_LINES(STEP, CLAMP)                                                                            \
    __asm volatile("1:\n\t"                                                                                  \
                   "ldr %[a0], [%[w], #72]\n\t"                                                              \
                   "ldr %[a1], [%[w], #76]\n\t"                                                              \
                   "ldr %[a2], [%[w], #80]\n\t"                                                              \
                   "ldr %[a3], [%[w], #84]\n\t" TC_DWG_TAP("q0", "0", "0") TC_DWG_TAP("q0", "8", "8")        \
                       TC_DWG_TAP("q0", "16", "16") TC_DWG_TAP("q1", "0", "24") TC_DWG_TAP("q1", "8", "32")  \
                           TC_DWG_TAP("q1", "16", "40") TC_DWG_TAP("q2", "0", "48") TC_DWG_TAP("q2", "8", "56") \
                               TC_DWG_TAP("q2", "16", "64") TC_DWG_X2("a0", "0") TC_DWG_X2("a1", "1")        \
                                   TC_DWG_X2("a2", "2") TC_DWG_X2("a3", "3")                                 \
                   "bfi %[a0], %[a1], #8, #8\n\t"                                                            \
                   "bfi %[a0], %[a2], #16, #8\n\t"                                                           \
                   "bfi %[a0], %[a3], #24, #8\n\t" CLAMP                                                     \
                   "str %[a0], [%[o]]\n\t"                                                                   \
                   "add %[o], %[o], %[depth]\n\t"                                                            \
                   "add %[q0], %[q0], #" STEP "\n\t"                                                         \
                   "add %[q1], %[q1], #" STEP "\n\t"                                                         \
                   "add %[q2], %[q2], #" STEP "\n\t"                                                         \
                   "ldr %[x0], %[o_end]\n\t"                                                                 \
                   "cmp %[o], %[x0]\n\t"                                                                     \
                   "bne 1b\n\t"                                                                              \
                   "ldr %[x1], %[line_bytes]\n\t"                                                            \
                   "ldr %[wa], %[q_skip]\n\t"                                                                \
                   "add %[x0], %[x0], %[x1]\n\t"                                                             \
                   "str %[x0], %[o_end]\n\t"                                                                 \
                   "add %[q0], %[q0], %[wa]\n\t"                                                             \
                   "add %[q1], %[q1], %[wa]\n\t"                                                             \
                   "add %[q2], %[q2], %[wa]\n\t"                                                             \
                   "ldr %[x0], %[lines]\n\t"                                                                 \
                   "subs %[x0], %[x0], #1\n\t"                                                               \
                   "str %[x0], %[lines]\n\t"                                                                 \
                   "bne 1b"                                                                                  \
                   : [q0] "+r"(q0), [q1] "+r"(q1), [q2] "+r"(q2), [o] "+r"(o), [a0] "=&r"(a0), [a1] "=&r"(a1), \
                     [a2] "=&r"(a2), [a3] "=&r"(a3), [x0] "=&r"(x0), [x1] "=&r"(x1), [wa] "=&r"(wa),          \
                     [wb] "=&r"(wb), [o_end] "+m"(frame.o_end), [lines] "+m"(frame.lines)                     \
                   : [w] "r"(w), [depth] "r"(depth), [min4] "m"(frame.min4), [max4] "m"(frame.max4),          \
                     [line_bytes] "m"(frame.line_bytes), [q_skip] "m"(frame.q_skip)                           \
                   : "cc", "memory")

/*
 * The output positions of the group whose block is at w and grid at grid, out its first output;
 * clamp: 2 none (SSAT's range), 1 the minimum, 0 both bounds. Fixed registers: the block takes all
 * fourteen (as tc_dw_3x3_channel's).
 */
TC_ALL_REGISTERS static __attribute__((noinline)) void tc_dwg_group(const int32_t *block, const int32_t *grid,
                                                                    int32_t ext_w, int32_t stride, int32_t out_h,
                                                                    int32_t out_w, int32_t depth_bytes, int8_t *out,
                                                                    int32_t clamp, int32_t min4, int32_t max4)
{
    struct {
        int8_t *o_end; /* the current line's */
        int32_t lines;
        int32_t line_bytes; /* of output */
        int32_t q_skip;     /* grid bytes from a line's end to the next line's start */
        int32_t min4, max4;
    } frame = {&out[out_w * depth_bytes], out_h, out_w * depth_bytes, 8 * stride * (ext_w - out_w), min4, max4};
    register const int32_t *q0 __asm("r0") = grid;
    register const int32_t *q1 __asm("r1") = &grid[2 * ext_w];
    register const int32_t *q2 __asm("r2") = &grid[4 * ext_w];
    register int8_t *o __asm("r3") = out;
    register int32_t a0 __asm("r4");
    register int32_t a1 __asm("r5");
    register int32_t a2 __asm("r6");
    register int32_t a3 __asm("r7");
    register int32_t x0 __asm("r8");
    register int32_t x1 __asm("r9");
    register int32_t wa __asm("r10");
    register int32_t wb __asm("r11");
    register const int32_t *w __asm("r12") = block;
    register int32_t depth __asm("lr") = depth_bytes;

    if (stride == 1) {
        if (clamp == 2) {
            TC_DWG_LINES("8", TC_DWG_NO_CLAMP);
        } else if (clamp == 1) {
            TC_DWG_LINES("8", TC_DWG_CLAMP_MIN);
        } else {
            TC_DWG_LINES("8", TC_DWG_CLAMP_MIN TC_DWG_CLAMP_MAX);
        }
    } else {
        if (clamp == 2) {
            TC_DWG_LINES("16", TC_DWG_NO_CLAMP);
        } else if (clamp == 1) {
            TC_DWG_LINES("16", TC_DWG_CLAMP_MIN);
        } else {
            TC_DWG_LINES("16", TC_DWG_CLAMP_MIN TC_DWG_CLAMP_MAX);
        }
    }
}

#undef TC_DWG_LINES
#undef TC_DWG_CLAMP_MAX
#undef TC_DWG_CLAMP_MIN
#undef TC_DWG_NO_CLAMP
#undef TC_DWG_X2
#undef TC_DWG_TAP

/* Four copies of an int8 in one word. */
static int32_t tc_dwg_bytes4(int32_t v) { return (int32_t)(((uint32_t)v & 0xFFu) * 0x01010101u); }

void tc_depthwise_conv2d_s8_groups(const tc_conv_params_t *p, const int8_t *input, const int32_t *blocks,
                                   int8_t *scratch, int8_t *output)
{
    const int32_t stride = p->stride_w;
    const int32_t out_h = p->output.h, out_w = p->output.w, depth = p->output.c;
    const int32_t ext_h = (out_h - 1) * stride + 3;
    const int32_t ext_w = (out_w - 1) * stride + 3;
    int32_t *grid = (int32_t *)(void *)scratch;
    int32_t *block = &grid[2 * ext_h * ext_w];
    const int32_t clamp = tc_act_mode(p->act);
    const int32_t min4 = tc_dwg_bytes4(p->act.min), max4 = tc_dwg_bytes4(p->act.max);

    if (out_h <= 0 || out_w <= 0) {
        return;
    }
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_b = &input[b * p->input.h * p->input.w * p->input.c];
        int8_t *out_b = &output[b * out_h * out_w * depth];
        for (int32_t g = 0; g < depth / 4; ++g) {
            __builtin_memcpy(block, &blocks[g * TC_DWG_WORDS], sizeof(int32_t) * TC_DWG_WORDS);
            tc_dwg_fill(p, in_b, g, ext_h, ext_w, grid);
            tc_dwg_group(block, grid, ext_w, stride, out_h, out_w, depth, &out_b[4 * g], clamp, min4, max4);
        }
    }
}
