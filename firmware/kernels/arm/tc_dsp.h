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

/* SXTAB16 of bytes 1 and 3: gcc 12 does not fold a rotate into the ROR #8 operand by itself. */
static inline int32_t tc_sxtab16_ror8(int32_t offset2, int32_t x)
{
    int32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(offset2), "r"(x));
    return r;
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
        const int32_t x13 = tc_sxtab16_ror8(x_off2, xv);
        const int32_t a = tc_read_s8x4_ia(&w0);
        s0 = __smlad(__sxtab16(w_off2, a), x02, s0);
        s0 = __smlad(tc_sxtab16_ror8(w_off2, a), x13, s0);
        const int32_t b = tc_read_s8x4_ia(&w1);
        s1 = __smlad(__sxtab16(w_off2, b), x02, s1);
        s1 = __smlad(tc_sxtab16_ror8(w_off2, b), x13, s1);
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
 * The int16 matrix-vector product of the *_wide kernels. x: the row, `blocks` * 8 int16 (value +
 * input offset, each group of four in SXTB16 order 0, 2, 1, 3), 8-byte aligned. w: per block of
 * four channels, per 8 row values, per channel, the same 8 values (the generator's layout), so one
 * LDRD fetches two pairs and the row is read once per four channels:
 *   per 8 row values and 4 channels: 2 + 8 LDRD, 16 SMLAD (32 MACs).
 * The accumulators start at the bias; the epilogue is tc_requant_ch's.
 */
/* Two words from an 8-byte step (4-aligned), one LDRD with post-increment (gcc 12 splits a uint64_t
 * load that is then used as two halves into two LDRs). The "m" operand tells gcc what it reads. */
static inline void tc_ldrd_ia(const int16_t **p, int32_t *lo, int32_t *hi)
{
    __asm("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(*p) : "m"(*(const int16_t (*)[4]) * p));
}

/*
 * tc_requantize(acc, multiplier, shift) + output offset, clamped, with the shift split at generation
 * time. Identical for every int32 acc (pipeline/codegen/ops/conv.py checks it against tc_requant.h's
 * formula; tests/test_requant_split.py):
 * - gemmlowp's nudge-and-truncate equals (ab + 2^30) >> 31 (for ab < 0 both are
 *   ceil((ab + 1 - 2^30) / 2^31)), and with multiplier2 = 2 * multiplier - 2^32 (the multiplier is in
 *   [2^30, 2^31): the generator keeps layers with a zero multiplier on the portable call),
 *   (2 * x * multiplier + 2^31) >> 32 = SMMULR(x, multiplier2) + x exactly; the saturating case
 *   (both INT32_MIN) cannot occur;
 * - RoundingDivideByPOT's remainder > (mask >> 1) + (d < 0) is remainder >= threshold + (d < 0).
 */
static inline int32_t tc_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* Two words, one LDRD with post-increment (gcc 12 issues one LDR per struct field). */
static inline void tc_ldrd_w_ia(const int32_t **p, int32_t *lo, int32_t *hi)
{
    __asm("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(*p) : "m"(*(const int32_t (*)[2]) * p));
}

static inline int32_t tc_ldr_w_ia(const int32_t **p)
{
    int32_t v;
    __asm("ldr %0, [%1], #4" : "=r"(v), "+r"(*p) : "m"(**p));
    return v;
}

/* One channel's epilogue; *q walks the tc_requant_ch_t array (5 words per channel). */
static inline int8_t tc_requant_ch(int32_t acc, const int32_t **q, int32_t output_offset, int32_t act_min,
                                   int32_t act_max)
{
    int32_t multiplier, left, right, mask;
    tc_ldrd_w_ia(q, &multiplier, &left);
    tc_ldrd_w_ia(q, &right, &mask);
    const int32_t x = (int32_t)((uint32_t)acc << left);
    const int32_t d = (int32_t)((uint32_t)tc_smmulr(x, multiplier) + (uint32_t)x);
    const uint32_t threshold = (uint32_t)tc_ldr_w_ia(q) + ((uint32_t)d >> 31);
    int32_t r = d >> right;
    /* r += remainder >= threshold: CMP sets the carry exactly then (both unsigned, <= 2^31). */
    __asm("cmp %1, %2\n\tadc %0, %0, #0" : "+r"(r) : "r"((uint32_t)d & (uint32_t)mask), "r"(threshold) : "cc");
    r += output_offset;
    return (int8_t)tc_clamp_i32(r, act_min, act_max);
}

static inline void tc_gemv_s16(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out)
{
    const int32_t channels = p->channels;
    const int32_t blocks = p->blocks;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->act.min;
    const int32_t act_max = p->act.max;
    const int32_t *bias = p->bias;
    const int32_t *q = (const int32_t *)(const void *)p->quant;

    for (int32_t c = 0; c < channels; c += 4) {
        int32_t a0, a1, a2, a3;
        tc_ldrd_w_ia(&bias, &a0, &a1);
        tc_ldrd_w_ia(&bias, &a2, &a3);
        const int16_t *xp = x;
        int32_t n = blocks;
        int32_t x0, x1, x2, x3, wa, wb;
        /* Per 8 row values: 2 LDRD of the row, per channel 2 LDRD and 4 SMLAD (gcc 12 spills C). */
        __asm volatile(
            "1:\n\t"
            "ldrd %[x0], %[x1], [%[xp]], #8\n\t"
            "ldrd %[x2], %[x3], [%[xp]], #8\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a0], %[wa], %[x0], %[a0]\n\t"
            "smlad %[a0], %[wb], %[x1], %[a0]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a0], %[wa], %[x2], %[a0]\n\t"
            "smlad %[a0], %[wb], %[x3], %[a0]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a1], %[wa], %[x0], %[a1]\n\t"
            "smlad %[a1], %[wb], %[x1], %[a1]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a1], %[wa], %[x2], %[a1]\n\t"
            "smlad %[a1], %[wb], %[x3], %[a1]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a2], %[wa], %[x0], %[a2]\n\t"
            "smlad %[a2], %[wb], %[x1], %[a2]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a2], %[wa], %[x2], %[a2]\n\t"
            "smlad %[a2], %[wb], %[x3], %[a2]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a3], %[wa], %[x0], %[a3]\n\t"
            "smlad %[a3], %[wb], %[x1], %[a3]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "smlad %[a3], %[wa], %[x2], %[a3]\n\t"
            "smlad %[a3], %[wb], %[x3], %[a3]\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp), [w] "+r"(w),
              [n] "+r"(n), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [wa] "=&r"(wa),
              [wb] "=&r"(wb)
            : "m"(*(const int16_t (*)[])x), "m"(*(const int16_t (*)[])w)
            : "cc");
        int8_t *o = &out[c];
        if (c + 4 <= channels) {
            o[0] = tc_requant_ch(a0, &q, output_offset, act_min, act_max);
            o[1] = tc_requant_ch(a1, &q, output_offset, act_min, act_max);
            o[2] = tc_requant_ch(a2, &q, output_offset, act_min, act_max);
            o[3] = tc_requant_ch(a3, &q, output_offset, act_min, act_max);
            continue;
        }
        /* The last, partial block: channels % 4 of its results are real. */
        o[0] = tc_requant_ch(a0, &q, output_offset, act_min, act_max);
        if (c + 1 < channels) {
            o[1] = tc_requant_ch(a1, &q, output_offset, act_min, act_max);
        }
        if (c + 2 < channels) {
            o[2] = tc_requant_ch(a2, &q, output_offset, act_min, act_max);
        }
    }
}

/* n int8 (n a multiple of 4, any alignment) widened to int16 + offset in SXTB16 order at dst (4-aligned). */
static inline int16_t *tc_widen_s8x4(const int8_t *src, int32_t n, int32_t offset2, int16_t *dst)
{
    uint32_t *d = (uint32_t *)(void *)dst;
    for (int32_t k = n >> 2; k > 0; --k) {
        const int32_t v = tc_read_s8x4_ia(&src);
        d[0] = (uint32_t)__sxtab16(offset2, v);
        d[1] = (uint32_t)tc_sxtab16_ror8(offset2, v);
        d += 2;
    }
    return (int16_t *)(void *)d;
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
