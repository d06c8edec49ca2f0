/* QUANTIZE float32 -> int8 (the graph's first op): TFLM's reference_ops::AffineQuantize. */
#include <math.h>
#include <string.h>

#include "tc_kernels.h"
#include "tc_requant.h"

/* out = clamp(round(in / scale) + zp), the division in float, round half away from zero. */
void tc_quantize_f32_s8(const tc_affine_params_t *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        float value;
        memcpy(&value, &input[i], sizeof value); /* the arena is int8_t storage */
        const int32_t q = (int32_t)roundf(value / p->scale) + p->zero_point;
        output[i] = (int8_t)tc_clamp_i32(q, INT8_MIN, INT8_MAX);
    }
}
