/* ADD, int8, with broadcasting: TFLM's reference_integer_ops::AddFunc. */
#include "tc_broadcast.h"
#include "tc_kernels.h"
#include "tc_requant.h"

/*
 * out = clamp(requant(requant((in1 + off1) << left_shift, m1, s1)
 *                   + requant((in2 + off2) << left_shift, m2, s2), m_out, s_out) + zp_out)
 * |in + off| <= 255 and left_shift = 20: 2^28 per term, no int32 overflow.
 */
void tc_add_s8(const tc_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = tc_broadcast_size(&p->shape);
    tc_broadcast_iter_t it = {{0}, 0, 0};
    for (int32_t i = 0; i < size; ++i) {
        const int32_t shifted1 = (p->input1_offset + input1[it.offset1]) * (1 << p->left_shift);
        const int32_t shifted2 = (p->input2_offset + input2[it.offset2]) * (1 << p->left_shift);
        const int32_t scaled1 = tc_requantize(shifted1, p->input1_multiplier, p->input1_shift);
        const int32_t scaled2 = tc_requantize(shifted2, p->input2_multiplier, p->input2_shift);
        const int32_t raw = tc_requantize(scaled1 + scaled2, p->output_multiplier, p->output_shift)
                            + p->output_offset;
        output[i] = (int8_t)tc_clamp_i32(raw, p->act.min, p->act.max);
        tc_broadcast_next(&p->shape, &it);
    }
}
