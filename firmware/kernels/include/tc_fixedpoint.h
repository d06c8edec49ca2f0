/*
 * gemmlowp's fixed-point arithmetic (fixedpoint/fixedpoint.h), scalar int32
 * and int16, as TFLM's reference int8 SOFTMAX, LOGISTIC, TANH and HARD_SWISH
 * use it. A value with k integer bits is an int32 raw r meaning r / 2^(31-k).
 * Each function names the gemmlowp function it reproduces; additions that
 * gemmlowp performs on raw int32 values wrap, so they go through uint32 here.
 */
#ifndef TC_FIXEDPOINT_H
#define TC_FIXEDPOINT_H

#include <stdint.h>

#include "tc_requant.h"

static inline int32_t tc_fp_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t tc_fp_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0: a saturating left shift. */
static inline int32_t tc_fp_saturating_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1ll << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* RoundingHalfSum: (a + b) / 2 rounded to nearest, half away from zero. */
static inline int32_t tc_fp_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out. */
static inline int32_t tc_fp_exp_on_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;     /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;  /* 1/3 */
    const int32_t x = tc_fp_add(a, 1 << 28);      /* a + 1/8 */
    const int32_t x2 = tc_doubling_high_mul(x, x);
    const int32_t x3 = tc_doubling_high_mul(x2, x);
    const int32_t x4 = tc_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = tc_rounding_divide_by_pot(x4, 2);
    const int32_t poly = tc_rounding_divide_by_pot(
        tc_fp_add(tc_doubling_high_mul(tc_fp_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return tc_fp_add(constant_term, tc_doubling_high_mul(constant_term, tc_fp_add(x, poly)));
}

/* exp_on_negative_values: a has integer_bits integer bits (a <= 0); the result is Q0.31. */
static inline int32_t tc_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    static const int32_t multipliers[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242, /* exp(-2^k), k = -2..4 */
    };
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = tc_fp_sub(a & mask, one_quarter);
    const int32_t rescaled = integer_bits > 0
        ? tc_fp_saturating_shl(a_mod_quarter_minus_one_quarter, integer_bits)
        : a_mod_quarter_minus_one_quarter;
    int32_t result = tc_fp_exp_on_interval(rescaled);
    const int32_t remainder = tc_fp_sub(a_mod_quarter_minus_one_quarter, a);
    for (int32_t k = -2; k <= 4; ++k) {
        if (integer_bits > k) {
            const int32_t bit = fractional_bits + k;
            if (remainder & (int32_t)(1u << bit)) {
                result = tc_doubling_high_mul(result, multipliers[k + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -(1 << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* The Newton-Raphson iteration shared by 1/(1+x) and (1-x)/(1+x); returns x ~ 1/half_denominator in Q2.29. */
static inline int32_t tc_fp_newton_reciprocal(int32_t half_denominator)
{
    const int32_t constant_48_over_17 = 1515870810;   /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540;
    int32_t x = tc_fp_add(constant_48_over_17, tc_doubling_high_mul(half_denominator, constant_neg_32_over_17));
    for (int32_t i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = tc_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = tc_fp_sub(1 << 29, half_denominator_times_x);
        x = tc_fp_add(x, tc_fp_saturating_shl(tc_doubling_high_mul(x, one_minus), 2));
    }
    return x;
}

/* one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out. */
static inline int32_t tc_fp_one_over_one_plus_x(int32_t a)
{
    const int32_t x = tc_fp_newton_reciprocal(tc_fp_rounding_half_sum(a, INT32_MAX));
    return tc_fp_saturating_shl(x, 1); /* Rescale<0>(ExactMulByPot<-1>(x)) */
}

/* one_minus_x_over_one_plus_x_for_x_in_0_1: Q0.31 in and out. */
static inline int32_t tc_fp_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t x = tc_fp_newton_reciprocal(tc_fp_rounding_half_sum(a, INT32_MAX));
    return tc_fp_saturating_shl(tc_fp_sub(x, 1 << 29), 2); /* Rescale<0>(x - 1) */
}

/* logistic: a has integer_bits integer bits; the result is Q0.31. */
static inline int32_t tc_fp_logistic(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 1 << 30; /* 0.5 */
    }
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t positive = tc_fp_one_over_one_plus_x(tc_fp_exp_on_negative_values(-abs_a, integer_bits));
    return a > 0 ? positive : tc_fp_sub(INT32_MAX, positive);
}

/* tanh: a has integer_bits integer bits; the result is Q0.31. */
static inline int32_t tc_fp_tanh(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 0;
    }
    const int32_t negative_abs = a < 0 ? a : -a;
    /* ExactMulByPot<1>: the same raw value read with one more integer bit. */
    const int32_t t = tc_fp_one_minus_x_over_one_plus_x(tc_fp_exp_on_negative_values(negative_abs, integer_bits + 1));
    return a < 0 ? -t : t;
}

/* CountLeadingZeros of a uint32 (32 for 0). */
static inline int32_t tc_clz_u32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLM's GetReciprocal: 1/x for x > 0 with x_integer_digits integer bits, as a Q0.31 scale and a shift. */
static inline int32_t tc_fp_reciprocal(int32_t x, int32_t x_integer_digits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = tc_clz_u32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - (1u << 31));
    return tc_fp_one_over_one_plus_x(shifted_sum_minus_one);
}

/* int16 SaturatingRoundingDoublingHighMul. */
static inline int16_t tc_doubling_high_mul_s16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* int16 RoundingDivideByPOT. */
static inline int16_t tc_rounding_divide_by_pot_s16(int16_t x, int32_t exponent)
{
    const int32_t mask = (1 << exponent) - 1;
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

#endif /* TC_FIXEDPOINT_H */
