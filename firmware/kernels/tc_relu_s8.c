/* RELU, int8: TFLM's ReluQuantized (requantizes to the output, then clamps at q(0)). */
#include "tc_kernels.h"
#include "tc_requant.h"

/* out = clamp(zp_out + requant(in - zp_in, m, s), act.min, act.max) */
void tc_relu_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = p->output_zero_point
                          + tc_requantize((int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift);
        output[i] = (int8_t)tc_clamp_i32(v, p->act.min, p->act.max);
    }
}
