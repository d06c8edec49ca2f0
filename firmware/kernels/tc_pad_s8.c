/* PAD and PADV2, int8: TFLM's reference_ops::Pad (a copy; the quantization is the input's). */
#include "tc_kernels.h"

/* out[i] = in[i - before] inside the input, pad_value elsewhere. */
void tc_pad_s8(const tc_pad_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t *in = p->input;
    const int32_t *out = p->output;
    const int32_t *b = p->before;
    int32_t o = 0;
    for (int32_t i0 = 0; i0 < out[0]; ++i0) {
        const int32_t j0 = i0 - b[0];
        for (int32_t i1 = 0; i1 < out[1]; ++i1) {
            const int32_t j1 = i1 - b[1];
            for (int32_t i2 = 0; i2 < out[2]; ++i2) {
                const int32_t j2 = i2 - b[2];
                for (int32_t i3 = 0; i3 < out[3]; ++i3) {
                    const int32_t j3 = i3 - b[3];
                    const int32_t inside = j0 >= 0 && j0 < in[0] && j1 >= 0 && j1 < in[1] && j2 >= 0
                                           && j2 < in[2] && j3 >= 0 && j3 < in[3];
                    const int8_t *row = inside ? &input[(((j0 * in[1] + j1) * in[2] + j2) * in[3] + j3) * in[4]] : input;
                    for (int32_t i4 = 0; i4 < out[4]; ++i4) {
                        const int32_t j4 = i4 - b[4];
                        output[o++] = inside && j4 >= 0 && j4 < in[4] ? row[j4] : (int8_t)p->pad_value;
                    }
                }
            }
        }
    }
}
