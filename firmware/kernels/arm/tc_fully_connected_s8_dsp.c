/*
 * FULLY_CONNECTED, int8, per-tensor or per-channel quantization: Cortex-M4 DSP
 * version of ../tc_fully_connected_s8.c, called where tc_fully_connected_s8_wide
 * is refused (a zero multiplier: pipeline/codegen/kernels.py). Two output
 * neurons per pass share the widened input row; both offsets ride on SXTAB16,
 * so a non-zero filter zero point costs nothing extra.
 */
#include "tc_dsp.h"

void tc_fully_connected_s8_dsp(const tc_fc_params_t *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->input_depth;
    const int32_t out_depth = p->output_depth;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = &input[b * depth];
        int8_t *out = &output[b * out_depth];
        for (int32_t o = 0; o < out_depth; o += 2) {
            /* A lone last neuron runs as a pair with itself; the second result is dropped. */
            const int32_t o1 = o + 1 < out_depth ? o + 1 : o;
            int32_t acc0 = 0;
            int32_t acc1 = 0;
            tc_dot2_s8(in, p->input_offset, &filter[o * depth], &filter[o1 * depth], p->filter_offset, depth, &acc0,
                       &acc1);
            const int32_t q0 = p->per_channel ? o : 0;
            const int32_t q1 = p->per_channel ? o1 : 0;
            out[o] = tc_requant_out(acc0, bias, o, p->multiplier[q0], p->shift[q0], p->output_offset, p->act);
            out[o1] = tc_requant_out(acc1, bias, o1, p->multiplier[q1], p->shift[q1], p->output_offset, p->act);
        }
    }
}
