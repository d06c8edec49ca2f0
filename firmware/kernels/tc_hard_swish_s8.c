/* HARD_SWISH, int8: TFLM's reference_ops::HardSwish (16-bit fixed point). */
#include "tc_fixedpoint.h"
#include "tc_kernels.h"

/* value * 2^amount, saturated to int16. */
static inline int16_t tc_saturating_shl_s16(int16_t value, int32_t amount)
{
    const int32_t result = (int32_t)value * (1 << amount);
    return (int16_t)tc_clamp_i32(result, INT16_MIN, INT16_MAX);
}

/* SQDMULH: (a * b) / 2^15 truncated toward zero, saturating -1 * -1. */
static inline int16_t tc_doubling_high_mul_trunc_s16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/*
 * out = x * relu6(x + 3) / 6: x on a 2^7 finer scale, "reluish" = (x + 3) / 6 clamped
 * to [0, 1] as a 16-bit fraction, product rescaled to the output.
 */
void tc_hard_swish_s8(const tc_hard_swish_params_t *p, const int8_t *input, int8_t *output)
{
    const int16_t output_multiplier = (int16_t)p->output_multiplier;
    const int16_t reluish_multiplier = (int16_t)p->reluish_multiplier;
    for (int32_t i = 0; i < p->size; ++i) {
        const int16_t x = (int16_t)((int32_t)input[i] - p->input_zero_point);
        const int16_t x_hires = (int16_t)(x * (1 << 7));
        const int16_t x_preshift = tc_doubling_high_mul_s16(x_hires, output_multiplier);
        int16_t reluish = x_hires;
        if (p->reluish_exponent > 0) {
            reluish = tc_saturating_shl_s16(reluish, p->reluish_exponent - 1);
        }
        reluish = tc_doubling_high_mul_s16(reluish, reluish_multiplier);
        if (p->reluish_exponent > 0) {
            reluish = tc_saturating_shl_s16(reluish, 1);
        }
        if (p->reluish_exponent < 0) {
            reluish = tc_rounding_divide_by_pot_s16(reluish, -p->reluish_exponent);
        }
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        const int16_t preshift = tc_doubling_high_mul_trunc_s16(reluish, x_preshift);
        int16_t y = tc_rounding_divide_by_pot_s16(preshift, -p->output_exponent);
        y = (int16_t)(y + p->output_zero_point);
        output[i] = (int8_t)tc_clamp_i32(y, INT8_MIN, INT8_MAX);
    }
}
