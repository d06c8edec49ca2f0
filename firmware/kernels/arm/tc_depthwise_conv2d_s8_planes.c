/*
 * DEPTHWISE_CONV_2D, int8, per-channel quantization, depth multiplier 1:
 * Cortex-M4 DSP version of ../tc_depthwise_conv2d_s8.c, one channel at a time.
 *
 * The channel is copied into a padded int16 plane in the scratch buffer
 * (the padding holds the input zero point, the input offset is folded into
 * the bias: see tc_dw_fill_plane), so the inner loops need no bounds checks, and two
 * horizontally adjacent taps of one row are one word for SMLAD. The filter
 * and the bias come from the generator doubled, the filter channel-major as
 * int16, so that the accumulator is 2 * acc (|acc| < 2^30, checked there) as
 * tc_requantize_x2 wants it.
 *
 * 3x3, no dilation, stride 1 or 2: two outputs of a row per pass, the filter
 * rows held in registers as int16 pairs (w0, w1) and (w1, w2), which the
 * generator lays out per channel in the pass's orientation (transposed or not,
 * see below): [c][(w0, w1) of rows 0..2, then (w1, w2) of rows 0..2]:
 *   stride 1: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = p1*w0 + (p2,p3).(w1,w2)
 *   stride 2: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = (p2,p3).(w0,w1) + p4*w2
 * six MACs from two or three word loads and four SMLAD/SMLAxy per filter row.
 * Any other filter: a plain tap loop over the plane (SMLABB), the filter
 * [c][ky][kx].
 *
 * The 3x3 pass runs along the longer output dimension (kws: 25 rows of 5),
 * on a transposed plane (and filter) when that is the height.
 *
 * Plane: the rows and columns a tap reaches, a row's length rounded up to
 * even so that the pairs are word-aligned, room for either orientation, and
 * one word of slack after it (an odd last output runs as a pair: its
 * partner's taps, never used, may read up to two int16 past the row). Then
 * the channel's int32 accumulators, [line][k] contiguous, plus one (the last
 * odd line's dropped store). At stride 1 on rows of at most TC_DW_ROW int16
 * (tc_dw_3x3_pairs: two lines per pass) every plane row and accumulator line
 * is TC_DW_ROW long instead. All of a channel's accumulators come first, then
 * its requantization line by line (tc_dw_requant_x2_lines, tc_dw_requant_any).
 * The generator's scratch size is the same formula (pipeline/codegen/ops/depthwise.py).
 */
#include "tc_dsp_common.h"

static int32_t tc_even(int32_t n) { return (n + 1) & ~1; }

/* The plane row (int16) and accumulator line (int32) of tc_dw_3x3_pairs, fixed: its loads and
 * stores take them as immediate offsets. */
enum { TC_DW_ROW = 64 };

/*
 * Plane lines from the input: n int8 per line, step apart (line l starting at src + l * line_step),
 * to n contiguous int16 (line l at dst + l * dst_line int16), all in one assembly loop with fixed
 * registers (as tc_dw_3x3_channel: gcc 12 spills around a block this size, every line), in word
 * stores only: the byte loads pipeline on register offsets and PKHBT pairs them. A line whose dst
 * is only halfword-aligned (the padding makes it odd) starts with the word (zero point, first
 * value) over the border before it; then blocks of eight, four and two; an odd last value goes out
 * as (value, zero point): the int16 after a line is the border or the plane's slack, whose zero
 * point it rewrites, or the next line's first, written after it. n >= 1, lines >= 1.
 */
#define TC_DW_FILL_4                                                                                         \
    "ldrsb %[t0], [%[s]]\n\t"                                                                                 \
    "ldrsb %[t1], [%[s], %[st]]\n\t"                                                                          \
    "ldrsb %[t2], [%[s], %[st2]]\n\t"                                                                         \
    "ldrsb %[t3], [%[s], %[st3]]\n\t"                                                                         \
    "add %[s], %[s], %[st], lsl #2\n\t"                                                                       \
    "pkhbt %[t0], %[t0], %[t1], lsl #16\n\t"                                                                  \
    "pkhbt %[t2], %[t2], %[t3], lsl #16\n\t"                                                                  \
    "strd %[t0], %[t2], [%[d]], #8\n\t"

TC_ALL_REGISTERS static __attribute__((noinline)) void tc_dw_fill_lines(const int8_t *src, int32_t step, int32_t n,
                                                                        int32_t lines, int32_t line_step,
                                                                        int16_t *dst, int32_t dst_line,
                                                                        int32_t zero_point)
{
    struct {
        int32_t n;
        int32_t src_skip; /* from a line's end to the next line's start, input bytes */
        int32_t dst_skip; /* the same in plane bytes */
    } frame = {n, line_step - n * step, 2 * (dst_line - n)};
    register const int8_t *s __asm("r0") = src;
    register int32_t st __asm("r1") = step;
    register int32_t st2 __asm("r2") = 2 * step;
    register int32_t st3 __asm("r3") = 3 * step;
    register int16_t *d __asm("r4") = dst;
    register int32_t k __asm("r5");
    register int32_t t0 __asm("r6");
    register int32_t t1 __asm("r7");
    register int32_t t2 __asm("r8");
    register int32_t t3 __asm("r9");
    register int32_t left __asm("r10") = lines;
    register int32_t zp __asm("r11") = zero_point;

    __asm volatile("2:\n\t"
                   "ldr %[k], %[n]\n\t"
                   "tst %[d], #2\n\t"
                   "beq 3f\n\t"
                   "ldrsb %[t0], [%[s]]\n\t"
                   "add %[s], %[s], %[st]\n\t"
                   "pkhbt %[t0], %[zp], %[t0], lsl #16\n\t"
                   "str %[t0], [%[d], #-2]\n\t"
                   "add %[d], %[d], #2\n\t"
                   "sub %[k], %[k], #1\n\t"
                   "3:\n\t"
                   "subs %[k], %[k], #8\n\t"
                   "blt 5f\n\t"
                   "4:\n\t" TC_DW_FILL_4 TC_DW_FILL_4
                   "subs %[k], %[k], #8\n\t"
                   "bge 4b\n\t"
                   "5:\n\t"
                   "adds %[k], %[k], #8\n\t"
                   "beq 8f\n\t"
                   "tst %[k], #4\n\t"
                   "beq 6f\n\t" TC_DW_FILL_4
                   "6:\n\t"
                   "tst %[k], #2\n\t"
                   "beq 7f\n\t"
                   "ldrsb %[t0], [%[s]]\n\t"
                   "ldrsb %[t1], [%[s], %[st]]\n\t"
                   "add %[s], %[s], %[st], lsl #1\n\t"
                   "pkhbt %[t0], %[t0], %[t1], lsl #16\n\t"
                   "str %[t0], [%[d]], #4\n\t"
                   "7:\n\t"
                   "tst %[k], #1\n\t"
                   "beq 8f\n\t"
                   "ldrsb %[t0], [%[s]]\n\t"
                   "add %[s], %[s], %[st]\n\t"
                   "pkhbt %[t0], %[t0], %[zp], lsl #16\n\t"
                   "str %[t0], [%[d]], #2\n\t"
                   "8:\n\t"
                   "ldr %[t0], %[src_skip]\n\t"
                   "ldr %[t1], %[dst_skip]\n\t"
                   "add %[s], %[s], %[t0]\n\t"
                   "add %[d], %[d], %[t1]\n\t"
                   "subs %[left], %[left], #1\n\t"
                   "bne 2b"
                   : [s] "+r"(s), [d] "+r"(d), [k] "=&r"(k), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),
                     [t3] "=&r"(t3), [left] "+r"(left)
                   : [st] "r"(st), [st2] "r"(st2), [st3] "r"(st3), [zp] "r"(zp), [n] "m"(frame.n),
                     [src_skip] "m"(frame.src_skip), [dst_skip] "m"(frame.dst_skip)
                   : "cc", "memory");
}

#undef TC_DW_FILL_4

/*
 * How channel c of an input image goes into the plane's interior as int16 (tc_dw_fill_lines from
 * &in_b[c]): input (y, x) at plane[(y + pad_h) * plane_w + x + pad_w], or at
 * plane[(x + pad_w) * plane_w + y + pad_h] transposed, for the rows and columns a tap reaches
 * (y + pad_h < ext_h, x + pad_w < ext_w), one plane row at a time (contiguous stores). The input
 * offset is not added: the generator folds offset * (sum of the channel's filter) into the bias,
 * and the border holds the input zero point, whose taps then contribute (zp + offset) * w = 0 as
 * the reference's skipped ones.
 */
typedef struct {
    int32_t step, n, lines, line_step; /* tc_dw_fill_lines's, lines = 0: nothing to copy */
    int16_t *dst;
} tc_dw_fill_t;

static tc_dw_fill_t tc_dw_fill_layout(const tc_conv_params_t *p, int32_t ext_h, int32_t ext_w, int32_t plane_w,
                                      int32_t transpose, int16_t *plane)
{
    const int32_t depth = p->input.c;
    const int32_t row_bytes = p->input.w * depth;
    const int32_t rows = tc_min_i32(p->input.h, ext_h - p->pad_h);
    const int32_t cols = tc_min_i32(p->input.w, ext_w - p->pad_w);
    tc_dw_fill_t f = {depth, cols, rows, row_bytes, &plane[p->pad_h * plane_w + p->pad_w]};

    if (rows <= 0 || cols <= 0) {
        f.lines = 0;
    } else if (transpose) {
        f = (tc_dw_fill_t){row_bytes, rows, cols, depth, &plane[p->pad_w * plane_w + p->pad_h]};
    }
    return f;
}

/* One row of doubled accumulators and the requantization of a channel (tc_dsp_common.h). */
typedef struct {
    tc_requant_x2_t x2;          /* when tc_requant_x2_ok(shift) */
    tc_requant_split_t split;    /* otherwise, on the halved accumulator */
    int32_t output_offset;
    tc_range_t act;
} tc_dw_quant_t;

static inline __attribute__((always_inline)) void tc_dw_requant_lines(const int32_t *acc, int32_t acc_line,
                                                                       int32_t lines, int32_t line_len,
                                                                       const tc_dw_quant_t *q, int32_t fast,
                                                                       int32_t mode, int8_t *o, int32_t line_step,
                                                                       int32_t step)
{
    /* Only the form in use is set (tc_depthwise_conv2d_s8_planes). */
    const tc_requant_x2_t x2 = fast ? q->x2 : (tc_requant_x2_t){0, 0, 0};
    const tc_requant_split_t split = fast ? (tc_requant_split_t){0, 0, 0, 0, 0} : q->split;
    const int32_t output_offset = q->output_offset;
    const tc_range_t act = q->act;
    for (; lines > 0; --lines) {
        int8_t *ol = o;
        for (int32_t n = 0; n < line_len; ++n) {
            const int32_t a = acc[n];
            const int32_t v = fast ? tc_requantize_x2(a, &x2) : tc_requantize_split(a >> 1, &split) + output_offset;
            *ol = (int8_t)tc_clamp_act(v, act, fast ? mode : 0);
            ol += step;
        }
        acc += acc_line;
        o += line_step;
    }
}

/*
 * x2 with the clamp of mode 2 (SSAT alone) or 1 (and a max), the whole channel in one assembly loop
 * with fixed registers: per line its outputs two at a time (one LDRD, the two results' steps
 * interleaved: gcc 12 loads them apart, unpipelined), four per loop pass, then the rest.
 * x2 in its three-instruction form (TC_X2_MLA).
 */
#define TC_DW_NO_CLAMP(A) ""
#define TC_DW_CLAMP_MIN(A) "cmp %[" A "], %[min]\n\tit lt\n\tmovlt %[" A "], %[min]\n\t"
#define TC_DW_X2(A) TC_X2_MLA(A, "m", "rz", "t", "sh") "ssat %[" A "], #8, %[" A "]\n\t"
#define TC_DW_X2_PAIR(CLAMP)                                                                                 \
    "ldrd %[a0], %[a1], [%[acc]], #8\n\t" TC_DW_X2("a0") TC_DW_X2("a1") CLAMP("a0") CLAMP("a1")                \
    "strb %[a0], [%[o]]\n\t"                                                                                   \
    "strb %[a1], [%[o], %[step]]\n\t"                                                                          \
    "add %[o], %[o], %[step], lsl #1\n\t"
#define TC_DW_X2_LINES(CLAMP)                                                                                \
    __asm volatile("2:\n\t"                                                                                  \
                   "ldr %[t], %[quad_bytes]\n\t"                                                              \
                   "add %[end], %[acc], %[t]\n\t"                                                             \
                   "cmp %[acc], %[end]\n\t"                                                                   \
                   "beq 5f\n\t"                                                                               \
                   "1:\n\t" TC_DW_X2_PAIR(CLAMP) TC_DW_X2_PAIR(CLAMP)                                         \
                   "cmp %[acc], %[end]\n\t"                                                                   \
                   "bne 1b\n\t"                                                                               \
                   "5:\n\t"                                                                                   \
                   "ldr %[t], %[two]\n\t"                                                                     \
                   "cmp %[t], #0\n\t"                                                                         \
                   "beq 3f\n\t" TC_DW_X2_PAIR(CLAMP)                                                          \
                   "3:\n\t"                                                                                   \
                   "ldr %[t], %[odd]\n\t"                                                                     \
                   "cmp %[t], #0\n\t"                                                                         \
                   "beq 4f\n\t"                                                                               \
                   "ldr %[a0], [%[acc]], #4\n\t" TC_DW_X2("a0") CLAMP("a0")                                   \
                   "strb %[a0], [%[o]]\n\t"                                                                   \
                   "4:\n\t"                                                                                   \
                   "ldr %[t], %[o_skip]\n\t"                                                                  \
                   "add %[o], %[o], %[t]\n\t"                                                                 \
                   "ldr %[t], %[acc_skip]\n\t"                                                                \
                   "add %[acc], %[acc], %[t]\n\t"                                                             \
                   "subs %[left], %[left], #1\n\t"                                                            \
                   "bne 2b"                                                                                   \
                   : [acc] "+r"(a), [o] "+r"(out), [end] "=&r"(end), [a0] "=&r"(a0), [a1] "=&r"(a1),         \
                     [t] "=&r"(t), [left] "+r"(left)                                                          \
                   : [m] "r"(m), [rz] "r"(rz), [sh] "r"(sh), [min] "r"(min), [step] "r"(st),                 \
                     [quad_bytes] "m"(frame.quad_bytes), [two] "m"(frame.two), [odd] "m"(frame.odd),          \
                     [o_skip] "m"(frame.o_skip),                                                              \
                     [acc_skip] "m"(frame.acc_skip)                                                           \
                   : "cc", "memory")

TC_ALL_REGISTERS static __attribute__((noinline)) void tc_dw_requant_x2_lines(const int32_t *acc, int32_t acc_line,
                                                                              int32_t lines, int32_t line_len,
                                                                              const tc_requant_x2_t *x2,
                                                                              int32_t act_min, int32_t mode,
                                                                              int8_t *o, int32_t line_step,
                                                                              int32_t step)
{
    struct {
        int32_t quad_bytes; /* acc bytes of a line's whole fours */
        int32_t two;        /* two more outputs per line */
        int32_t odd;        /* an odd last output per line */
        int32_t o_skip;     /* from after a line's pairs to the next line's first output */
        int32_t acc_skip;   /* from after a line's accumulators to the next line's, bytes */
    } frame = {4 * (line_len & ~3), line_len & 2, line_len & 1, line_step - (line_len & ~1) * step,
               4 * (acc_line - line_len)};
    register const int32_t *a __asm("r0") = acc;
    register int8_t *out __asm("r1") = o;
    register const int32_t *end __asm("r2");
    register int32_t m __asm("r3") = x2->multiplier;
    register int32_t rz __asm("r4") = x2->round_zp;
    register int32_t sh __asm("r5") = x2->right;
    register int32_t min __asm("r6") = act_min;
    register int32_t st __asm("r7") = step;
    register int32_t a0 __asm("r8");
    register int32_t a1 __asm("r9");
    register int32_t left __asm("r10") = lines;
    register int32_t t __asm("r11");

    if (lines <= 0 || line_len <= 0) {
        return;
    }
    if (mode == 2) {
        TC_DW_X2_LINES(TC_DW_NO_CLAMP);
    } else {
        TC_DW_X2_LINES(TC_DW_CLAMP_MIN);
    }
}

#undef TC_DW_X2_LINES
#undef TC_DW_X2_PAIR
#undef TC_DW_X2
#undef TC_DW_CLAMP_MIN
#undef TC_DW_NO_CLAMP

/* Every output of one channel into acc ([oy][ox]), from the plane, any filter. */
static void tc_dw_taps_channel(const tc_conv_params_t *p, const int16_t *plane, int32_t plane_w, const int16_t *w,
                               int32_t bias, int32_t *acc)
{
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
        for (int32_t ox = 0; ox < p->output.w; ++ox) {
            int32_t sum = bias;
            for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                const int16_t *row = &plane[(oy * p->stride_h + ky * p->dilation_h) * plane_w + ox * p->stride_w];
                for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                    sum += (int32_t)row[kx * p->dilation_w] * w[ky * p->filter.w + kx];
                }
            }
            *acc++ = sum;
        }
    }
}

/*
 * Every output of one channel into acc, 3x3, no dilation, stride 1 or 2 (both directions the
 * same), line by line along the plane's rows, two outputs per pass, the filter rows as int16 pairs
 * (w0, w1) and (w1, w2) (index: filter row). Output k of line l goes to acc[l * line_len + k]. An
 * odd last output runs as a pair whose second result is ignored (its taps are in the plane or its
 * slack; its store lands on the next line's first output, written after it, or in acc's slack).
 *
 * Per pass and filter row (r: the plane at (stride * oy + ky, stride * ox), word-aligned: an even
 * plane index), six MACs:
 *   stride 1: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = p1*w0 + (p2,p3).(w1,w2)
 *   stride 2: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = (p2,p3).(w0,w1) + p4*w2
 * from one LDRD (and an LDR of p4), the bias the addend of each output's first MAC (out1's first,
 * before out0's overwrites it). In assembly, both loops: the three row pointers, the acc
 * pointer and its line's end, five filter words and four temporaries take all fourteen registers
 * (gcc 12 spills its own version), so the last row's (w1, w2), the bias and the per-line constants
 * live on the stack (and the memory the loop reads and writes is a "memory" clobber: an "m"
 * operand for it would take a register).
 */
#define TC_DW_3X3_LOOPS(ROW_PASS)                                                                            \
    __asm volatile("2:\n\t"                                                                                  \
                   "ldr %[a1], %[pair_bytes]\n\t"                                                            \
                   "add %[end], %[a], %[a1]\n\t"                                                             \
                   "1:\n\t"                                                                                  \
                   "ldr %[a0], %[bias]\n\t" ROW_PASS "strd %[a0], %[a1], [%[a]], #8\n\t"                     \
                   "cmp %[a], %[end]\n\t"                                                                    \
                   "bne 1b\n\t"                                                                              \
                   "ldr %[a0], %[skip]\n\t"                                                                  \
                   "add %[r0], %[r0], %[a0]\n\t"                                                             \
                   "add %[r1], %[r1], %[a0]\n\t"                                                             \
                   "add %[r2], %[r2], %[a0]\n\t"                                                             \
                   "ldr %[a0], %[back]\n\t"                                                                  \
                   "sub %[a], %[a], %[a0]\n\t"                                                               \
                   "ldr %[a0], %[lines]\n\t"                                                                 \
                   "subs %[a0], %[a0], #1\n\t"                                                               \
                   "str %[a0], %[lines]\n\t"                                                                 \
                   "bne 2b"                                                                                  \
                   : [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [a] "+r"(a), [end] "=&r"(end),             \
                     [p01] "=&r"(p01), [p23] "=&r"(p23), [a0] "=&r"(a0), [a1] "=&r"(a1),                      \
                     [lines] "+m"(frame.lines)                                                                \
                   : [w01_0] "r"(w01_0), [w01_1] "r"(w01_1), [w01_2] "r"(w01_2), [w12_0] "r"(w12_0),         \
                     [w12_1] "r"(w12_1), [bias] "m"(frame.bias), [w12_2] "m"(frame.w12_2),                   \
                     [pair_bytes] "m"(frame.pair_bytes), [skip] "m"(frame.skip), [back] "m"(frame.back)       \
                   : "cc", "memory")

TC_ALL_REGISTERS static __attribute__((noinline)) void tc_dw_3x3_channel(const int16_t *plane, int32_t plane_w, int32_t stride,
                                                        const int32_t w01[3], const int32_t w12[3], int32_t lines,
                                                        int32_t line_len, int32_t bias, int32_t *acc)
{
    const int32_t pairs = (line_len + 1) >> 1;
    struct {
        int32_t bias, w12_2;
        int32_t pair_bytes; /* acc bytes of a line's passes */
        int32_t skip;       /* from a line's last pass to the next line's first, in plane bytes */
        int32_t back;       /* 4 when an odd line's dropped store must be overwritten */
        int32_t lines;
    } frame = {bias, w12[2], 8 * pairs, 2 * stride * plane_w - 4 * stride * pairs, 4 * (line_len & 1), lines};
    /* Fixed registers: at -O0 gcc cannot allocate fourteen operands by itself. */
    register const int16_t *r0 __asm("r0") = plane;
    register const int16_t *r1 __asm("r1") = plane + plane_w;
    register const int16_t *r2 __asm("r2") = plane + 2 * plane_w;
    register int32_t *a __asm("r3") = acc;
    register int32_t *end __asm("r4");
    register int32_t p01 __asm("r5");
    register int32_t p23 __asm("r6");
    register int32_t a0 __asm("r7");
    register int32_t a1 __asm("r8");
    register int32_t w01_0 __asm("r9") = w01[0];
    register int32_t w01_1 __asm("r10") = w01[1];
    register int32_t w01_2 __asm("r11") = w01[2];
    register int32_t w12_0 __asm("r12") = w12[0];
    register int32_t w12_1 __asm("lr") = w12[1];

    if (lines <= 0 || line_len <= 0) {
        return;
    }
    if (stride == 1) {
        TC_DW_3X3_LOOPS("ldrd %[p01], %[p23], [%[r0]], #4\n\t"
                        "smlatb %[a1], %[p01], %[w01_0], %[a0]\n\t"
                        "smlad %[a0], %[p01], %[w01_0], %[a0]\n\t"
                        "smlabt %[a0], %[p23], %[w12_0], %[a0]\n\t"
                        "smlad %[a1], %[p23], %[w12_0], %[a1]\n\t"
                        "ldrd %[p01], %[p23], [%[r1]], #4\n\t"
                        "smlad %[a0], %[p01], %[w01_1], %[a0]\n\t"
                        "smlatb %[a1], %[p01], %[w01_1], %[a1]\n\t"
                        "smlabt %[a0], %[p23], %[w12_1], %[a0]\n\t"
                        "smlad %[a1], %[p23], %[w12_1], %[a1]\n\t"
                        "ldrd %[p01], %[p23], [%[r2]], #4\n\t"
                        "smlad %[a0], %[p01], %[w01_2], %[a0]\n\t"
                        "smlatb %[a1], %[p01], %[w01_2], %[a1]\n\t"
                        "ldr %[p01], %[w12_2]\n\t"
                        "smlabt %[a0], %[p23], %[p01], %[a0]\n\t"
                        "smlad %[a1], %[p23], %[p01], %[a1]\n\t");
    } else {
        TC_DW_3X3_LOOPS("ldrd %[p01], %[p23], [%[r0]], #8\n\t"
                        "smlad %[a1], %[p23], %[w01_0], %[a0]\n\t"
                        "smlad %[a0], %[p01], %[w01_0], %[a0]\n\t"
                        "smlabt %[a0], %[p23], %[w12_0], %[a0]\n\t"
                        "ldr %[p01], [%[r0]]\n\t"
                        "smlabt %[a1], %[p01], %[w12_0], %[a1]\n\t"
                        "ldrd %[p01], %[p23], [%[r1]], #8\n\t"
                        "smlad %[a0], %[p01], %[w01_1], %[a0]\n\t"
                        "smlabt %[a0], %[p23], %[w12_1], %[a0]\n\t"
                        "smlad %[a1], %[p23], %[w01_1], %[a1]\n\t"
                        "ldr %[p01], [%[r1]]\n\t"
                        "smlabt %[a1], %[p01], %[w12_1], %[a1]\n\t"
                        "ldrd %[p01], %[p23], [%[r2]], #8\n\t"
                        "smlad %[a0], %[p01], %[w01_2], %[a0]\n\t"
                        "smlad %[a1], %[p23], %[w01_2], %[a1]\n\t"
                        "ldr %[p01], %[w12_2]\n\t"
                        "smlabt %[a0], %[p23], %[p01], %[a0]\n\t"
                        "ldr %[p23], [%[r2]]\n\t"
                        "smlabt %[a1], %[p23], %[p01], %[a1]\n\t");
    }
}

#undef TC_DW_3X3_LOOPS

/*
 * Stride 1 on a plane of TC_DW_ROW int16 per row: two lines and two outputs of each per pass, the
 * four accumulators of a 2x2 block from four plane rows (one LDRD each, at fixed offsets: one row
 * pointer), 24 SMLAD/SMLAxy for 36 MACs, where the pass of one line reads three rows for 18: about
 * 54 cycles per four outputs against 64. Accumulators at acc[line * TC_DW_ROW + k]; lines even
 * (an odd last one: tc_dw_3x3_channel). Registers as tc_dw_3x3_channel's, the second line's
 * accumulators in the place of its row pointers.
 */
TC_ALL_REGISTERS static __attribute__((noinline)) void tc_dw_3x3_pairs(const int16_t *plane, const int32_t w01[3],
                                                                       const int32_t w12[3], int32_t lines,
                                                                       int32_t line_len, int32_t bias, int32_t *acc)
{
    const int32_t pairs = (line_len + 1) >> 1;
    struct {
        int32_t bias, w12_2;
        int32_t pair_bytes; /* acc bytes of a line's passes */
        int32_t r_skip;     /* plane bytes from a line pair's last pass to the next pair's first */
        int32_t a_skip;     /* the same in acc bytes */
        int32_t line_pairs;
    } frame = {bias, w12[2], 8 * pairs, 4 * TC_DW_ROW - 4 * pairs, 8 * TC_DW_ROW - 8 * pairs, lines >> 1};
    register const int16_t *r __asm("r0") = plane;
    register int32_t *a __asm("r1") = acc;
    register int32_t *end __asm("r2");
    register int32_t a0 __asm("r3");
    register int32_t a1 __asm("r4");
    register int32_t a2 __asm("r5");
    register int32_t a3 __asm("r6");
    register int32_t p01 __asm("r7");
    register int32_t p23 __asm("r8");
    register int32_t w01_0 __asm("r9") = w01[0];
    register int32_t w01_1 __asm("r10") = w01[1];
    register int32_t w01_2 __asm("r11") = w01[2];
    register int32_t w12_0 __asm("r12") = w12[0];
    register int32_t w12_1 __asm("lr") = w12[1];

    if (lines <= 0 || line_len <= 0) {
        return;
    }
    __asm volatile("2:\n\t"
                   "ldr %[a0], %[pair_bytes]\n\t"
                   "add %[end], %[a], %[a0]\n\t"
                   "1:\n\t"
                   "ldr %[a0], %[bias]\n\t"
                   "ldrd %[p01], %[p23], [%[r]]\n\t"
                   "mov %[a2], %[a0]\n\t"
                   "smlatb %[a1], %[p01], %[w01_0], %[a0]\n\t"
                   "smlad %[a0], %[p01], %[w01_0], %[a0]\n\t"
                   "smlabt %[a0], %[p23], %[w12_0], %[a0]\n\t"
                   "smlad %[a1], %[p23], %[w12_0], %[a1]\n\t"
                   "ldrd %[p01], %[p23], [%[r], #%c[row1]]\n\t"
                   "smlatb %[a3], %[p01], %[w01_0], %[a2]\n\t"
                   "smlad %[a2], %[p01], %[w01_0], %[a2]\n\t"
                   "smlabt %[a2], %[p23], %[w12_0], %[a2]\n\t"
                   "smlad %[a3], %[p23], %[w12_0], %[a3]\n\t"
                   "smlad %[a0], %[p01], %[w01_1], %[a0]\n\t"
                   "smlatb %[a1], %[p01], %[w01_1], %[a1]\n\t"
                   "smlabt %[a0], %[p23], %[w12_1], %[a0]\n\t"
                   "smlad %[a1], %[p23], %[w12_1], %[a1]\n\t"
                   "ldrd %[p01], %[p23], [%[r], #%c[row2]]\n\t"
                   "smlad %[a2], %[p01], %[w01_1], %[a2]\n\t"
                   "smlatb %[a3], %[p01], %[w01_1], %[a3]\n\t"
                   "smlabt %[a2], %[p23], %[w12_1], %[a2]\n\t"
                   "smlad %[a3], %[p23], %[w12_1], %[a3]\n\t"
                   "smlad %[a0], %[p01], %[w01_2], %[a0]\n\t"
                   "smlatb %[a1], %[p01], %[w01_2], %[a1]\n\t"
                   "ldr %[p01], %[w12_2]\n\t"
                   "smlabt %[a0], %[p23], %[p01], %[a0]\n\t"
                   "smlad %[a1], %[p23], %[p01], %[a1]\n\t"
                   "ldrd %[p01], %[p23], [%[r], #%c[row3]]\n\t"
                   "smlad %[a2], %[p01], %[w01_2], %[a2]\n\t"
                   "smlatb %[a3], %[p01], %[w01_2], %[a3]\n\t"
                   "ldr %[p01], %[w12_2]\n\t"
                   "smlabt %[a2], %[p23], %[p01], %[a2]\n\t"
                   "smlad %[a3], %[p23], %[p01], %[a3]\n\t"
                   "add %[r], %[r], #4\n\t"
                   "strd %[a2], %[a3], [%[a], #%c[acc1]]\n\t"
                   "strd %[a0], %[a1], [%[a]], #8\n\t"
                   "cmp %[a], %[end]\n\t"
                   "bne 1b\n\t"
                   "ldr %[a0], %[r_skip]\n\t"
                   "add %[r], %[r], %[a0]\n\t"
                   "ldr %[a0], %[a_skip]\n\t"
                   "add %[a], %[a], %[a0]\n\t"
                   "ldr %[a0], %[line_pairs]\n\t"
                   "subs %[a0], %[a0], #1\n\t"
                   "str %[a0], %[line_pairs]\n\t"
                   "bne 2b"
                   : [r] "+r"(r), [a] "+r"(a), [end] "=&r"(end), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
                     [a3] "=&r"(a3), [p01] "=&r"(p01), [p23] "=&r"(p23), [line_pairs] "+m"(frame.line_pairs)
                   : [w01_0] "r"(w01_0), [w01_1] "r"(w01_1), [w01_2] "r"(w01_2), [w12_0] "r"(w12_0),
                     [w12_1] "r"(w12_1), [bias] "m"(frame.bias), [w12_2] "m"(frame.w12_2),
                     [pair_bytes] "m"(frame.pair_bytes), [r_skip] "m"(frame.r_skip), [a_skip] "m"(frame.a_skip),
                     [row1] "i"(2 * TC_DW_ROW), [row2] "i"(4 * TC_DW_ROW), [row3] "i"(6 * TC_DW_ROW),
                     [acc1] "i"(4 * TC_DW_ROW)
                   : "cc", "memory");
}

/*
 * The requantization of a channel's accumulators (acc[line][k]) to out (output k of a line at
 * o[line * line_step + k * step]) in C, where tc_dw_requant_x2_lines does not take it: the split
 * form, or x2 with any clamp; out of line, so that its loop has the registers to itself.
 */
static __attribute__((noinline)) void tc_dw_requant_any(const int32_t *acc, int32_t acc_line, int32_t lines,
                                                        int32_t line_len, const tc_dw_quant_t *q, int32_t fast,
                                                        int8_t *o, int32_t line_step, int32_t step)
{
    if (fast) {
        tc_dw_requant_lines(acc, acc_line, lines, line_len, q, 1, 0, o, line_step, step);
    } else {
        tc_dw_requant_lines(acc, acc_line, lines, line_len, q, 0, 0, o, line_step, step);
    }
}

void tc_depthwise_conv2d_s8_planes(const tc_conv_params_t *p, const int8_t *input, const int16_t *filter,
                                   const int32_t *bias, int8_t *scratch, int8_t *output)
{
    const int32_t ext_h = (p->output.h - 1) * p->stride_h + (p->filter.h - 1) * p->dilation_h + 1;
    const int32_t ext_w = (p->output.w - 1) * p->stride_w + (p->filter.w - 1) * p->dilation_w + 1;
    const int32_t channels = p->output.c;
    const int32_t out_h = p->output.h;
    const int32_t out_w = p->output.w;
    const int32_t mode = tc_act_mode(p->act);
    /* 1 or 2: the 3x3 pass of that stride; 0: the tap loop. */
    const int32_t fast = p->filter.h == 3 && p->filter.w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
                         p->stride_h == p->stride_w && (p->stride_w == 1 || p->stride_w == 2) ? p->stride_w : 0;
    /* The 3x3 pass runs along the longer output dimension: a transposed plane when it is the height. */
    const int32_t transpose = fast && out_h > out_w;
    const int32_t along = transpose ? ext_h : ext_w, across = transpose ? ext_w : ext_h; /* the plane's */
    /* Stride 1 on rows that fit TC_DW_ROW: two lines per pass. */
    const int32_t pairs_pass = fast == 1 && tc_even(along) <= TC_DW_ROW;
    const int32_t plane_w = pairs_pass ? TC_DW_ROW : tc_even(along); /* one plane row */
    const int32_t lines = transpose ? out_w : out_h;                  /* output lines */
    const int32_t line_len = transpose ? out_h : out_w;
    const int32_t acc_line = pairs_pass ? TC_DW_ROW : line_len;
    const int32_t plane_size = pairs_pass ? across * TC_DW_ROW
                                          : tc_max_i32(ext_h * tc_even(ext_w), ext_w * tc_even(ext_h)) + 2;
    /* acc is [line][k]: along an output row, or down an output column when transposed. */
    const int32_t line_step = (transpose ? 1 : out_w) * channels, step = (transpose ? out_w : 1) * channels;
    /* The filter's int16 per channel: the pass's pairs, or [ky][kx] for the tap loop. */
    const int32_t filter_step = fast ? 2 * 6 : p->filter.h * p->filter.w;
    int16_t *plane = (int16_t *)(void *)scratch;
    /* After the plane and its slack (a whole number of words: plane_size is even): the channel's
     * accumulators, [line][k], and the slack of an odd last line's dropped store. */
    int32_t *acc = (int32_t *)(void *)&plane[plane_size];

    /* The border is never written below: the input zero point (padding) for every channel. */
    const int16_t zero_point = (int16_t)(-p->input_offset);
    for (int32_t i = 0; i < plane_size; ++i) {
        plane[i] = zero_point;
    }
    const tc_dw_fill_t fill = tc_dw_fill_layout(p, ext_h, ext_w, plane_w, transpose, plane);
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_b = &input[b * p->input.h * p->input.w * p->input.c];
        int8_t *out_b = &output[b * out_h * out_w * channels];
        for (int32_t c = 0; c < channels; ++c) {
            const int16_t *w = &filter[c * filter_step];
            const int32_t acc0 = bias ? bias[c] : 0;
            const int32_t fast_q = tc_requant_x2_ok(p->shift[c]);
            tc_dw_quant_t q;
            q.output_offset = p->output_offset;
            q.act = p->act;
            if (fast_q) {
                q.x2 = tc_requant_x2(p->multiplier[c], p->shift[c], p->output_offset);
            } else {
                q.split = tc_requant_split(p->multiplier[c], p->shift[c]);
            }
            if (fill.lines) {
                tc_dw_fill_lines(&in_b[c], fill.step, fill.n, fill.lines, fill.line_step, fill.dst, plane_w,
                                 zero_point);
            }
            if (fast) {
                const int32_t *pairs = (const int32_t *)(const void *)w;
                if (pairs_pass) {
                    /* An odd last line: the pass of one line, on the same plane rows. */
                    const int32_t last = lines & ~1;
                    tc_dw_3x3_pairs(plane, pairs, &pairs[3], last, line_len, acc0, acc);
                    if (lines & 1) {
                        tc_dw_3x3_channel(&plane[last * TC_DW_ROW], TC_DW_ROW, 1, pairs, &pairs[3], 1, line_len, acc0,
                                          &acc[last * TC_DW_ROW]);
                    }
                } else {
                    tc_dw_3x3_channel(plane, plane_w, fast, pairs, &pairs[3], lines, line_len, acc0, acc);
                }
            } else {
                tc_dw_taps_channel(p, plane, plane_w, w, acc0, acc);
            }
            if (fast_q && mode != 0) {
                tc_dw_requant_x2_lines(acc, acc_line, lines, line_len, &q.x2, p->act.min, mode, &out_b[c], line_step,
                                       step);
            } else {
                tc_dw_requant_any(acc, acc_line, lines, line_len, &q, fast_q, &out_b[c], line_step, step);
            }
        }
    }
}
