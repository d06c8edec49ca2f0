/* RELU6, int8: TFLM's Relu6Quantized clamps in the input's quantization, no rescaling. */
#include "tc_kernels.h"
#include "tc_requant.h"

/* out = clamp(in, q_in(0), q_in(6)) */
void tc_relu6_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)tc_clamp_i32(input[i], p->act.min, p->act.max);
    }
}
