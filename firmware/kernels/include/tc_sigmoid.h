/*
 * The shared body of LOGISTIC and TANH (TFLM's reference_integer_ops::Logistic / Tanh):
 * inputs beyond the input radius saturate; others are rescaled to Q4.27, go through the
 * gemmlowp fixed-point function, and are rounded down to int8.
 */
#ifndef TC_SIGMOID_H
#define TC_SIGMOID_H

#include "tc_fixedpoint.h"
#include "tc_kernels.h"

/* f is tc_fp_logistic or tc_fp_tanh; the result is round(f(x) * 2^(31 - output_shift)) + output_offset. */
static inline void tc_sigmoid_family_s8(const tc_sigmoid_params_t *p, const int8_t *input, int8_t *output,
                                        int32_t (*f)(int32_t, int32_t), int32_t output_shift,
                                        int32_t output_offset)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t x_q4 = tc_requantize(x, p->input_multiplier, p->input_left_shift);
            const int32_t y = tc_rounding_divide_by_pot(f(x_q4, 4), output_shift) + output_offset;
            output[i] = (int8_t)tc_clamp_i32(y, INT8_MIN, INT8_MAX);
        }
    }
}

#endif /* TC_SIGMOID_H */
