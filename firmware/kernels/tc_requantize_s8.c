/* QUANTIZE int8 -> int8: TFLM's reference_ops::Requantize. */
#include "tc_kernels.h"
#include "tc_requant.h"

/* out = clamp(requant(in - zp_in, m, s) + zp_out, -128, 127) */
void tc_requantize_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = tc_requantize((int32_t)input[i] - p->input_zero_point, p->multiplier, p->shift)
                          + p->output_zero_point;
        output[i] = (int8_t)tc_clamp_i32(v, INT8_MIN, INT8_MAX);
    }
}
