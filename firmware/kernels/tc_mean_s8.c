/*
 * MEAN, int8: TFLM's reference_ops::QuantizedMeanOrSum. The TFLM build we match takes this path
 * even when input and output quantization are equal (its plain sum / count path would truncate).
 */
#include "tc_kernels.h"
#include "tc_requant.h"

/* Advances a row-major index over dims; returns 0 after the last one. */
static inline int32_t tc_mean_next(const int32_t *dims, int32_t *index)
{
    for (int32_t d = TC_MEAN_DIMS - 1; d >= 0; --d) {
        if (++index[d] < dims[d]) {
            return 1;
        }
        index[d] = 0;
    }
    return 0;
}

/*
 * sum = sum of the inputs over the reduced dimensions (int32: count <= 2^24 cannot overflow);
 * out = clamp(requant(sum - zp_in * count, m, s) + zp_out), 1/count folded into (m, s).
 */
void tc_mean_s8(const tc_mean_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t stride[TC_MEAN_DIMS];
    int32_t outer[TC_MEAN_DIMS];
    int32_t inner[TC_MEAN_DIMS];
    int32_t s = 1;
    for (int32_t d = TC_MEAN_DIMS - 1; d >= 0; --d) {
        stride[d] = s;
        s *= p->dims[d];
        outer[d] = p->reduce[d] ? 1 : p->dims[d];
        inner[d] = p->reduce[d] ? p->dims[d] : 1;
    }
    int32_t out_index[TC_MEAN_DIMS] = {0};
    int32_t o = 0;
    do {
        int32_t base = 0;
        for (int32_t d = 0; d < TC_MEAN_DIMS; ++d) {
            base += out_index[d] * stride[d];
        }
        int32_t in_index[TC_MEAN_DIMS] = {0};
        int32_t sum = 0;
        do {
            int32_t at = base;
            for (int32_t d = 0; d < TC_MEAN_DIMS; ++d) {
                at += in_index[d] * stride[d];
            }
            sum += input[at];
        } while (tc_mean_next(inner, in_index));
        const int32_t v = tc_requantize(sum - p->input_zero_point * p->count, p->multiplier, p->shift)
                          + p->output_zero_point;
        output[o] = (int8_t)tc_clamp_i32(v, INT8_MIN, INT8_MAX);
        ++o;
    } while (tc_mean_next(outer, out_index));
}
