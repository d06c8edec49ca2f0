/*
 * Cortex-M4 DSP helpers for the kernels of this directory (selected by the
 * build with TC_KERNELS=dsp; the portable kernels one level up stay the
 * reference and the host build).
 *
 * The multiply-accumulate core: four int8 are loaded with one LDR, widened to
 * two int16 pairs with SXTAB16 (which adds the zero-point offset to both
 * halfwords in the same instruction), and multiplied pairwise with SMLAD, two
 * MACs per instruction. SXTB16 picks bytes 0 and 2, SXTAB16 with ROR #8 picks
 * bytes 1 and 3; both operands are split the same way, so the pairs
 * line up without repacking (CMSIS-NN's read_and_pad needs a PKHBT more
 * because its im2col buffer is in natural order).
 *
 * Exactness: |value + offset| <= 255 fits an int16 halfword, the products and
 * the accumulation wrap exactly like the portable int32 loop (SMLAD only sets
 * the Q flag, it does not saturate), and the epilogue is tc_requant.h's.
 */
#ifndef TC_DSP_H
#define TC_DSP_H

#include <arm_acle.h>
#include <stdint.h>

#include "tc_dsp_common.h"
#include "tc_kernels.h"
#include "tc_requant.h"

/* Four int8 from a possibly unaligned address (the M4 does unaligned LDR), advancing the pointer. */
static inline int32_t tc_read_s8x4_ia(const int8_t **p)
{
    int32_t v;
    __builtin_memcpy(&v, *p, sizeof(v));
    *p += 4;
    return v;
}

/* An offset in both halfwords, for SXTAB16. */
static inline int32_t tc_dual_offset(int32_t offset)
{
    return (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
}

/*
 * Two dot products sharing one operand, n values each:
 *   acc0 += sum_i (x[i] + x_offset) * (w0[i] + w_offset)
 *   acc1 += sum_i (x[i] + x_offset) * (w1[i] + w_offset)
 * The shared operand is widened once for both filters (output blocking by 2).
 */
static inline void tc_dot2_s8(const int8_t *x, int32_t x_offset, const int8_t *w0, const int8_t *w1,
                              int32_t w_offset, int32_t n, int32_t *acc0, int32_t *acc1)
{
    const int32_t x_off2 = tc_dual_offset(x_offset);
    const int32_t w_off2 = tc_dual_offset(w_offset);
    int32_t s0 = *acc0;
    int32_t s1 = *acc1;

    for (int32_t k = n >> 2; k > 0; --k) {
        const int32_t xv = tc_read_s8x4_ia(&x);
        const int32_t x02 = __sxtab16(x_off2, xv);
        const int32_t x13 = tc_sxtab16_odd(x_off2, xv);
        const int32_t a = tc_read_s8x4_ia(&w0);
        s0 = __smlad(__sxtab16(w_off2, a), x02, s0);
        s0 = __smlad(tc_sxtab16_odd(w_off2, a), x13, s0);
        const int32_t b = tc_read_s8x4_ia(&w1);
        s1 = __smlad(__sxtab16(w_off2, b), x02, s1);
        s1 = __smlad(tc_sxtab16_odd(w_off2, b), x13, s1);
    }
    for (int32_t k = n & 3; k > 0; --k) {
        const int32_t xv = (int32_t)*x++ + x_offset;
        s0 += ((int32_t)*w0++ + w_offset) * xv;
        s1 += ((int32_t)*w1++ + w_offset) * xv;
    }
    *acc0 = s0;
    *acc1 = s1;
}

/* The portable kernels' epilogue: bias, requantize, output offset, clamp. */
static inline int8_t tc_requant_out(int32_t acc, const int32_t *bias, int32_t ch, int32_t multiplier,
                                    int32_t shift, int32_t output_offset, tc_range_t act)
{
    if (bias) {
        acc += bias[ch];
    }
    acc = tc_requantize(acc, multiplier, shift) + output_offset;
    return (int8_t)tc_clamp_i32(acc, act.min, act.max);
}

/*
 * The int16 matrix-vector product of the *_wide kernels (tc_gemv_s16.c): every output channel of
 * one row x (p->blocks * 8 int16, value + input offset, each group of four in SXTB16 order 0, 2,
 * 1, 3, 8-byte aligned) with the filter w in the generator's layout, requantized into out.
 */
void tc_gemv_s16(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out);

/*
 * The same product for two rows at once, each filter word loaded once for both: x holds the two
 * rows interleaved per word (row A's two int16, then row B's: p->blocks * 16 int16),
 * row A's outputs go to out_a, row B's to out_b.
 */
void tc_gemv2_s16(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out_a, int8_t *out_b);

/*
 * The same product with the packed filter of tc_fully_connected_s8_packed: two channels' int8 weights
 * per int16 (tc_gemv_s16.c, TC_GEMV_PACKED_ROW_PASS); p->blocks a multiple of 4.
 */
void tc_gemv_s8p(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out);

/*
 * n int8 (n a multiple of 4, any alignment) widened to int16 + offset in SXTB16 order at dst (4-aligned):
 * per group of four its two words `step` / 4 words apart, each group `step` int16 after the previous
 * one (4: one row; 8: one of tc_gemv2_s16's two rows, interleaved per word); returns where the next
 * group goes.
 */
static inline int16_t *tc_widen_s8x4(const int8_t *src, int32_t n, int32_t offset2, int16_t *dst, int32_t step)
{
    for (int32_t k = n >> 2; k > 0; --k) {
        uint32_t *d = (uint32_t *)(void *)dst;
        const int32_t v = tc_read_s8x4_ia(&src);
        d[0] = (uint32_t)__sxtab16(offset2, v);
        d[step >> 2] = (uint32_t)tc_sxtab16_odd(offset2, v);
        dst += step;
    }
    return dst;
}

/* Zeros from dst to end (both 4-aligned). */
static inline void tc_zero_s16(int16_t *dst, const int16_t *end)
{
    uint32_t *d = (uint32_t *)(void *)dst;
    while (d < (const uint32_t *)(const void *)end) {
        *d++ = 0;
    }
}

#endif /* TC_DSP_H */
