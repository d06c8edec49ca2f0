/* TANH, int8: TFLM's reference_integer_ops::Tanh (gemmlowp fixed point, Q4.27 input, output zero point 0). */
#include "tc_fixedpoint.h"
#include "tc_kernels.h"

/* out = clamp(round(tanh(x) * 128)), x = (in - zp) * scale in Q4.27; saturates beyond the radius. */
void tc_tanh_s8(const tc_sigmoid_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t x_q4 = tc_requantize(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = tc_fp_tanh(x_q4, 4);
            const int32_t y = tc_rounding_divide_by_pot(y_q0, 31 - 7);
            output[i] = (int8_t)tc_clamp_i32(y, INT8_MIN, INT8_MAX);
        }
    }
}
