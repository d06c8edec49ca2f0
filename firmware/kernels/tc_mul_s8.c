/* MUL, int8, with broadcasting: TFLM's reference_integer_ops::MulElementwise. */
#include "tc_broadcast.h"
#include "tc_kernels.h"
#include "tc_requant.h"

/* out = clamp(requant((in1 + off1) * (in2 + off2), m, s) + zp_out); |product| <= 2^16. */
void tc_mul_s8(const tc_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = tc_broadcast_size(&p->shape);
    tc_broadcast_iter_t it = {{0}, 0, 0};
    for (int32_t i = 0; i < size; ++i) {
        const int32_t a = p->input1_offset + input1[it.offset1];
        const int32_t b = p->input2_offset + input2[it.offset2];
        const int32_t raw = tc_requantize(a * b, p->output_multiplier, p->output_shift) + p->output_offset;
        output[i] = (int8_t)tc_clamp_i32(raw, p->act.min, p->act.max);
        tc_broadcast_next(&p->shape, &it);
    }
}
