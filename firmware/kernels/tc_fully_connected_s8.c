/* FULLY_CONNECTED, int8, per-tensor or per-channel quantization. */
#include "tc_kernels.h"
#include "tc_requant.h"

void tc_fully_connected_s8(const tc_fc_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = &input[b * p->input_depth];
        for (int32_t o = 0; o < p->output_depth; ++o) {
            const int8_t *w = &filter[o * p->input_depth];
            int32_t acc = 0;
            for (int32_t d = 0; d < p->input_depth; ++d) {
                acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
            }
            if (bias) {
                acc += bias[o];
            }
            const int32_t q = p->per_channel ? o : 0;
            acc = tc_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset;
            output[b * p->output_depth + o] = (int8_t)tc_clamp_i32(acc, p->act.min, p->act.max);
        }
    }
}
