/* CONV_2D, int8, per-channel quantization, grouped when the filter depth is a divisor of the input depth. */
#include "tc_kernels.h"
#include "tc_requant.h"

void tc_conv2d_s8(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output)
{
    const int32_t filter_depth = p->filter.c;
    const int32_t groups = p->input.c / filter_depth;
    const int32_t filters_per_group = p->output.c / groups;

    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    const int32_t group_base = (oc / filters_per_group) * filter_depth;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                        const int32_t in_y = in_y0 + p->dilation_h * ky;
                        if (in_y < 0 || in_y >= p->input.h) {
                            continue; /* padding: input + offset is 0 there */
                        }
                        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                            const int32_t in_x = in_x0 + p->dilation_w * kx;
                            if (in_x < 0 || in_x >= p->input.w) {
                                continue;
                            }
                            const int8_t *in = &input[((b * p->input.h + in_y) * p->input.w + in_x) * p->input.c
                                                      + group_base];
                            const int8_t *w = &filter[((oc * p->filter.h + ky) * p->filter.w + kx) * filter_depth];
                            for (int32_t ic = 0; ic < filter_depth; ++ic) {
                                /* |w| <= 128, |in + offset| <= 255: 2^15 per term, no overflow below 2^16 terms. */
                                acc += (int32_t)w[ic] * ((int32_t)in[ic] + p->input_offset);
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = tc_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
                    output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c + oc] =
                        (int8_t)tc_clamp_i32(acc, p->act.min, p->act.max);
                }
            }
        }
    }
}
