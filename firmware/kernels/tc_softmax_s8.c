/* SOFTMAX, int8 -> int8: TFLM's reference_ops::Softmax (gemmlowp fixed point). */
#include "tc_fixedpoint.h"
#include "tc_kernels.h"

/*
 * Per row: d = in - max(row); e = exp(beta * scale * d) in Q0.31 for d >= diff_min
 * (0 otherwise); out = round(e / sum(e) * 256) - 128. The sum is kept in Q12.19.
 */
void tc_softmax_s8(const tc_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t row = 0; row < p->outer_size; ++row) {
        const int8_t *in = &input[row * p->depth];
        int8_t *out = &output[row * p->depth];
        int32_t max_in_row = INT8_MIN;
        for (int32_t c = 0; c < p->depth; ++c) {
            max_in_row = tc_max_i32(max_in_row, in[c]);
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = tc_doubling_high_mul(diff * (1 << p->input_left_shift), p->input_multiplier);
                const int32_t e = tc_fp_exp_on_negative_values(scaled, 5);
                sum_of_exps = tc_fp_add(sum_of_exps, tc_rounding_divide_by_pot(e, 12));
            }
        }
        int32_t num_bits_over_unit = 0;
        const int32_t shifted_scale = tc_fp_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
        const int32_t exponent = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = tc_doubling_high_mul(diff * (1 << p->input_left_shift), p->input_multiplier);
                const int32_t e = tc_fp_exp_on_negative_values(scaled, 5);
                const int32_t unsat = tc_rounding_divide_by_pot(tc_doubling_high_mul(shifted_scale, e), exponent);
                out[c] = (int8_t)tc_clamp_i32(unsat - 128, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
}
