/* CONCATENATION, int8: TFLM's reference_ops::Concatenation (a copy; equal quantization checked by the generator). */
#include "tc_kernels.h"

/* For each outer index, the inputs' slices one after the other. */
void tc_concatenation_s8(const tc_concat_params_t *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t o = 0;
    for (int32_t outer = 0; outer < p->outer_size; ++outer) {
        for (int32_t k = 0; k < p->inputs_count; ++k) {
            const int8_t *in = &inputs[k][outer * p->copy_size[k]];
            for (int32_t i = 0; i < p->copy_size[k]; ++i) {
                output[o++] = in[i];
            }
        }
    }
}
