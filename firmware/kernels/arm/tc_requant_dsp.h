/*
 * The fast forms of tc_requant.h's tc_requantize (TFLM's MultiplyByQuantizedMultiplier, the
 * reference form), all in this header: the same result as the reference wherever the stated
 * domain holds, in fewer instructions. Which kernels use which form, and under which multiplier
 * and shift ranges: docs/numeric-contract.md. Their equivalence with the reference is tested in C
 * on the Cortex-M4 (QEMU) and, where the form is portable, on the host: firmware/tests/requant/.
 *
 *   split  tc_requantize_split   portable C, any shift, multiplier >= 0
 *   x2     tc_requantize_x2      SMMULR (a C model of it off the M4), doubled accumulator,
 *                                right shift 1..22, |acc| < 2^30, output zero point folded in
 *   ch     tc_requant_ch         M4 only (LDRD, SMMULR, CMP/ADC), any shift, multiplier in
 *                                [2^30, 2^31), constants from the generator (tc_requant_ch_t)
 *   x2 sat TC_GEMV_X2_SAT        M4 assembly text of x2 followed by SSAT #8 and STRB
 *   x2 mla TC_X2_MLA             M4 assembly text of x2 in three instructions (SMMLAR)
 */
#ifndef TC_REQUANT_DSP_H
#define TC_REQUANT_DSP_H

#include <stdint.h>

#include "tc_kernels.h"
#include "tc_requant.h"

/* (a * b + 2^31) >> 32: one SMMULR on the M4 (gcc 12 has no pattern for it), its arithmetic elsewhere. */
static inline int32_t tc_smmulr(int32_t a, int32_t b)
{
#if defined(__ARM_FEATURE_DSP)
    int32_t r;
    __asm("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + (1ll << 31)) >> 32);
#endif
}

/*
 * split: tc_requantize with the shift split once, ahead of a loop: the same result,
 * fewer instructions per call. For a multiplier >= 0 (always, from the generator) a * m cannot
 * be the saturating INT32_MIN^2 case, and (a * m + 2^30) >> 31 (one SMLAL, floor) equals
 * gemmlowp's nudged division truncated toward zero: for a negative product,
 * trunc((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31). The rounding division by 2^right is
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
 * x2: requantization of a doubled accumulator a2 = 2 * a (|a| < 2^30, the generator's bound) in
 * four instructions, the output zero point folded in, for a right shift e in [1, 22]:
 *   h = SMMULR(a2, m) = (2 a m + 2^31) >> 32 = floor((a m + 2^30) / 2^31), gemmlowp's high half
 *       (see split: the floor equals its truncated nudged division for m >= 0);
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

static inline int32_t tc_requantize_x2(int32_t acc2, const tc_requant_x2_t *q)
{
    const int32_t high = tc_smmulr(acc2, q->multiplier);
    const int32_t rounded = high - (int32_t)((uint32_t)high >> 31) + q->round_zp;
    return rounded >> q->right;
}

#if defined(__ARM_FEATURE_DSP)

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

/*
 * ch: one channel's split epilogue in tc_gemv_s16: tc_requantize(acc, multiplier, shift) + output
 * offset, clamped, with the shift split at generation time (pipeline/codegen/ops/conv.py); *q walks
 * the tc_requant_ch_t array (5 words per channel). Identical for every int32 acc:
 * - gemmlowp's nudge-and-truncate equals (ab + 2^30) >> 31 (for ab < 0 both are
 *   ceil((ab + 1 - 2^30) / 2^31)), and with multiplier2 = 2 * multiplier - 2^32 (the multiplier is in
 *   [2^30, 2^31): the generator keeps layers with a zero multiplier on the portable call),
 *   (2 * x * multiplier + 2^31) >> 32 = SMMULR(x, multiplier2) + x exactly; the saturating case
 *   (both INT32_MIN) cannot occur;
 * - RoundingDivideByPOT's remainder > (mask >> 1) + (d < 0) is remainder >= threshold + (d < 0).
 */
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

/*
 * x2 sat: x2 with the full int8 range, as assembly text for an asm block whose operands are named
 * (tc_gemv_s16.c's block loops): TC_X2_SAT_IN_PLACE requantizes the doubled accumulator in %[A]
 * with the constants in %[M], %[R], %[Z] (multiplier, right, round_zp), leaving the int8 in %[A];
 * TC_X2_SAT first loads them (LDM, registers in ascending order) from %[Q]++, walking the
 * tc_requant_x2_t array, and then stores the int8 at %[OUT]++. TC_GEMV_X2_SAT: TC_X2_SAT with
 * tc_gemv_s16.c's single-row operand names.
 */
#define TC_X2_SAT_IN_PLACE(A, M, R, Z)                                                                       \
    "smmulr %[" A "], %[" A "], %[" M "]\n\t"                                                                \
    "sub %[" A "], %[" A "], %[" A "], lsr #31\n\t"                                                          \
    "add %[" A "], %[" A "], %[" Z "]\n\t"                                                                   \
    "asr %[" A "], %[" A "], %[" R "]\n\t"                                                                   \
    "ssat %[" A "], #8, %[" A "]\n\t"
#define TC_X2_SAT(A, Q, M, R, Z, OUT)                                                                        \
    "ldm %[" Q "]!, {%[" M "], %[" R "], %[" Z "]}\n\t" TC_X2_SAT_IN_PLACE(A, M, R, Z)                         \
    "strb %[" A "], [%[" OUT "]], #1\n\t"
#define TC_GEMV_X2_SAT(A) TC_X2_SAT(A, "w0", "x0", "x1", "x2", "w1")

/*
 * x2 mla: x2 as assembly text for an asm block with named operands, the doubled accumulator %[A] to
 * its result (before any clamp): h - [h < 0] + round_zp is one SMMLAR of A and the multiplier %[M]
 * with the addend round_zp - [A < 0] (%[RZ], into %[T]; T may be RZ). Exact: h = SMMULR(A, m) has A's
 * sign (m >= 0) or is 0, SMMLAR's addend does not change the rounding of the product, and where
 * h = 0 with A < 0 the extra -1 cannot move (round_zp - 1) >> e below round_zp >> e, round_zp being
 * 2^(e-1) modulo 2^e (e >= 1). Then ASR by %[SH] (e).
 */
#define TC_X2_MLA(A, M, RZ, T, SH)                                                                           \
    "add %[" T "], %[" RZ "], %[" A "], asr #31\n\t"                                                          \
    "smmlar %[" A "], %[" A "], %[" M "], %[" T "]\n\t"                                                       \
    "asr %[" A "], %[" A "], %[" SH "]\n\t"

#endif /* __ARM_FEATURE_DSP */

#endif /* TC_REQUANT_DSP_H */
