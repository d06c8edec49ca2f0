/* DEQUANTIZE int8 -> float32 (the graph's last op): TFLM's reference_ops::Dequantize. */
#include <string.h>

#include "tc_kernels.h"

/* out = scale * (in - zp), in float. */
void tc_dequantize_s8_f32(const tc_affine_params_t *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float value = p->scale * (float)((int32_t)input[i] - p->zero_point);
        memcpy(&output[i], &value, sizeof value); /* the arena is int8_t storage */
    }
}
