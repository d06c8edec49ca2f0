/* LEAKY_RELU, int8: TFLM's QuantizeLeakyRelu, one multiplier per sign of the input. */
#include "tc_kernels.h"
#include "tc_requant.h"

/* x = in - zp_in; out = clamp(zp_out + requant(x, x >= 0 ? identity : alpha), -128, 127) */
void tc_leaky_relu_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        const int32_t scaled = x >= 0 ? tc_requantize(x, p->multiplier, p->shift)
                                      : tc_requantize(x, p->alpha_multiplier, p->alpha_shift);
        output[i] = (int8_t)tc_clamp_i32(p->output_zero_point + scaled, INT8_MIN, INT8_MAX);
    }
}
