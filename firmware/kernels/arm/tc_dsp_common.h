/*
 * Cortex-M4 helpers shared by the DSP kernels of this directory: loads, SXTAB16, the
 * requantizations and the clamp (the convolution kernels add tc_dsp.h's).
 */
#ifndef TC_DSP_COMMON_H
#define TC_DSP_COMMON_H

#include <arm_acle.h>
#include <stdint.h>

#include "tc_kernels.h"
#include "tc_requant.h"

/*
 * For a function whose assembly takes all fourteen allocatable registers, r7 included: no frame
 * pointer whatever the build's flags (Thumb's frame pointer is r7; at -O0 or with
 * -fno-omit-frame-pointer gcc 12 refuses the operands, or loops, instead).
 */
#define TC_ALL_REGISTERS __attribute__((optimize("omit-frame-pointer")))

/* One 32-bit word (two int16 or four int8) from a possibly unaligned address. */
static inline int32_t tc_load_word(const void *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

/* SXTAB16 of bytes 1 and 3 of x (ROR #8 folded in: gcc 12 does not fold the rotate by itself). */
static inline int32_t tc_sxtab16_odd(int32_t acc, int32_t x)
{
    int32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* Two int16 in one word: lo in the bottom halfword, hi in the top. */
static inline int32_t tc_pack_i16x2(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

/*
 * tc_requantize with the shift split once, ahead of a loop: the same result,
 * fewer instructions per call. For a positive multiplier (always, from the
 * generator) a * m cannot be the saturating INT32_MIN^2 case, and
 * (a * m + 2^30) >> 31 (one SMLAL, floor) equals gemmlowp's nudged division
 * truncated toward zero: for a negative product, trunc((ab + 1 - 2^30) / 2^31)
 * = floor((ab + 2^30) / 2^31). The rounding division by 2^right is
 * tc_rounding_divide_by_pot's (half away from zero) with its mask precomputed.
 */
typedef struct {
    int32_t multiplier;
    int32_t left;      /* left shift before the multiply */
    int32_t right;     /* right shift after it */
    int32_t mask;      /* 2^right - 1 */
    int32_t threshold; /* mask >> 1 */
} tc_requant_split_t;

static inline tc_requant_split_t tc_requant_split(int32_t multiplier, int32_t shift)
{
    tc_requant_split_t q;
    q.multiplier = multiplier;
    q.left = shift > 0 ? shift : 0;
    q.right = shift > 0 ? 0 : -shift;
    q.mask = (int32_t)((1ll << q.right) - 1);
    q.threshold = q.mask >> 1;
    return q;
}

static inline int32_t tc_requantize_split(int32_t acc, const tc_requant_split_t *q)
{
    const int32_t shifted = (int32_t)((uint32_t)acc << q->left);
    const int32_t high = (int32_t)(((int64_t)shifted * q->multiplier + (1ll << 30)) >> 31);
    const int32_t remainder = high & q->mask;
    const int32_t threshold = q->threshold + (int32_t)((uint32_t)high >> 31);
    return (high >> q->right) + (remainder > threshold ? 1 : 0);
}

/*
 * Requantization of a doubled accumulator a2 = 2 * a (|a| < 2^30, the generator's bound) in four
 * instructions, the output zero point folded in, for a right shift e in [1, 22]:
 *   h = SMMULR(a2, m) = (2 a m + 2^31) >> 32 = floor((a m + 2^30) / 2^31), gemmlowp's high half
 *       (see tc_requantize_split: the floor equals its truncated nudged division for m >= 0);
 *   round half away from zero of h / 2^e, plus zp = (h - [h < 0] + 2^(e-1) + zp 2^e) >> e,
 * one constant c = 2^(e-1) + zp 2^e (e <= 22 keeps |h| + |c| below 2^31). tc_requant_x2_t is in
 * tc_kernels.h (the generator emits it for the *_wide kernels).
 */

static inline int32_t tc_requant_x2_ok(int32_t shift) { return shift <= -1 && shift >= -22; }

static inline tc_requant_x2_t tc_requant_x2(int32_t multiplier, int32_t shift, int32_t output_offset)
{
    tc_requant_x2_t q;
    q.multiplier = multiplier;
    q.right = -shift;
    q.round_zp = (int32_t)((1u << (q.right - 1)) + (uint32_t)output_offset * (1u << q.right));
    return q;
}

/* (a * b + 2^31) >> 32, one SMMULR (gcc 12 has no pattern for it). */
static inline int32_t tc_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tc_requantize_x2(int32_t acc2, const tc_requant_x2_t *q)
{
    const int32_t high = tc_smmulr(acc2, q->multiplier);
    const int32_t rounded = high - (int32_t)((uint32_t)high >> 31) + q->round_zp;
    return rounded >> q->right;
}

/*
 * The fused activation's clamp, by what the range allows: 2 the whole int8 range (one SSAT),
 * 1 an upper bound of 127 (SSAT and a max), 0 any.
 */
static inline int32_t tc_act_mode(tc_range_t act)
{
    return act.max == 127 ? (act.min == -128 ? 2 : 1) : 0;
}

static inline __attribute__((always_inline)) int32_t tc_clamp_act(int32_t v, tc_range_t act, int32_t mode)
{
    if (mode == 0) {
        return tc_clamp_i32(v, act.min, act.max);
    }
    v = __ssat(v, 8);
    return mode == 2 ? v : tc_max_i32(v, act.min);
}

#endif /* TC_DSP_COMMON_H */
