/*
 * Fixed-point requantization exactly as TFLM computes it (double rounding:
 * gemmlowp's SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT), the
 * variant the tflite-micro reference interpreter and CMSIS-NN use by default.
 */
#ifndef TC_REQUANT_H
#define TC_REQUANT_H

#include <stdint.h>

static inline int32_t tc_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tc_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t tc_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return tc_min_i32(tc_max_i32(v, lo), hi);
}

/* round(a * b / 2^31), saturating the single overflowing case a == b == INT32_MIN. */
static inline int32_t tc_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    /* Division, not a shift: gemmlowp truncates toward zero here. */
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* x / 2^exponent, rounding half away from zero. */
static inline int32_t tc_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((1ll << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31). */
static inline int32_t tc_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    /* The left shift wraps like TFLM's int32 multiply by (1 << left) does. */
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return tc_rounding_divide_by_pot(tc_doubling_high_mul(shifted, multiplier), right);
}

#endif /* TC_REQUANT_H */
