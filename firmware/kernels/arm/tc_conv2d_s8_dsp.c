/*
 * CONV_2D, int8, per-channel quantization, grouped when the filter depth is a
 * divisor of the input depth: Cortex-M4 DSP version of ../tc_conv2d_s8.c, which
 * the generator calls where tc_conv2d_s8_wide is refused (grouped convolution,
 * a zero multiplier: pipeline/codegen/kernels.py).
 *
 * Shallow inputs (fewer than 4 channels, one group, patch of at most
 * TC_PATCH_MAX bytes; the first layer of digits has 1 channel): the per-row
 * runs would be shorter than a word, so the output position's patch is
 * gathered once into an int8 buffer on the stack (im2col), padding taps filled
 * with the input zero point so that input + offset is 0 there as in the
 * reference, and every filter is one SMLAD dot product over the whole patch.
 * Measured on digits, the gather costs more than it saves from 4 channels on.
 *
 * Otherwise no buffer: for one filter row ky, the valid taps kx0..kx1-1 are
 * one contiguous run of the input and of the filter when there is one group
 * and no horizontal dilation, and the dot product runs per run.
 *
 * Output channels go in pairs sharing the widened input.
 */
#include "tc_dsp.h"

/* Bytes of the stack im2col buffer: a 3x3x64 patch (MLPerf Tiny's ResNet). */
#define TC_PATCH_MAX 576

/* The patch of output position (in_y0, in_x0), in filter order [ky][kx][c]. */
static void conv_gather(const tc_conv_params_t *p, const int8_t *in_b, int32_t in_y0, int32_t in_x0, int8_t *patch)
{
    const int32_t depth = p->input.c;
    const int8_t zero_point = (int8_t)(-p->input_offset);

    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
        const int32_t in_y = in_y0 + p->dilation_h * ky;
        const int32_t row_valid = in_y >= 0 && in_y < p->input.h;
        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
            const int32_t in_x = in_x0 + p->dilation_w * kx;
            if (row_valid && in_x >= 0 && in_x < p->input.w) {
                const int8_t *src = &in_b[(in_y * p->input.w + in_x) * depth];
                for (int32_t c = 0; c < depth; ++c) {
                    *patch++ = src[c];
                }
            } else {
                for (int32_t c = 0; c < depth; ++c) {
                    *patch++ = zero_point;
                }
            }
        }
    }
}

/* Every output channel of one position from its gathered patch. */
static void conv_patch_channels(const tc_conv_params_t *p, const int8_t *patch, int32_t patch_bytes,
                                const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const int32_t out_c = p->output.c;

    for (int32_t oc = 0; oc < out_c; oc += 2) {
        /* A lone last channel runs as a pair with itself; the second result is dropped. */
        const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
        int32_t acc0 = 0;
        int32_t acc1 = 0;
        tc_dot2_s8(patch, p->input_offset, &filter[oc * patch_bytes], &filter[oc1 * patch_bytes], 0, patch_bytes,
                   &acc0, &acc1);
        out[oc] = tc_requant_out(acc0, bias, oc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act);
        out[oc1] = tc_requant_out(acc1, bias, oc1, p->multiplier[oc1], p->shift[oc1], p->output_offset, p->act);
    }
}

/* Both accumulators at output position (in_y0, in_x0) for filters w0 and w1. */
static inline void conv_position(const tc_conv_params_t *p, const int8_t *in_b, int32_t in_y0, int32_t in_x0,
                                 const int8_t *w0, const int8_t *w1, int32_t *acc0, int32_t *acc1)
{
    const int32_t depth = p->filter.c;
    const int32_t row_bytes = p->input.w * p->input.c;
    const int32_t contiguous = p->dilation_w == 1 && depth == p->input.c;
    const int32_t kx0 = contiguous ? tc_max_i32(0, -in_x0) : 0;
    const int32_t kx1 = contiguous ? tc_min_i32(p->filter.w, p->input.w - in_x0) : 0;

    for (int32_t ky = 0; ky < p->filter.h; ++ky) {
        const int32_t in_y = in_y0 + p->dilation_h * ky;
        if (in_y < 0 || in_y >= p->input.h) {
            continue;
        }
        const int8_t *in_row = in_b + in_y * row_bytes;
        const int32_t w_row = ky * p->filter.w * depth;
        if (contiguous) {
            if (kx1 > kx0) {
                const int32_t w_at = w_row + kx0 * depth;
                tc_dot2_s8(in_row + (in_x0 + kx0) * depth, p->input_offset, w0 + w_at, w1 + w_at, 0,
                           (kx1 - kx0) * depth, acc0, acc1);
            }
            continue;
        }
        for (int32_t kx = 0; kx < p->filter.w; ++kx) {
            const int32_t in_x = in_x0 + p->dilation_w * kx;
            if (in_x < 0 || in_x >= p->input.w) {
                continue;
            }
            const int32_t w_at = w_row + kx * depth;
            tc_dot2_s8(in_row + in_x * p->input.c, p->input_offset, w0 + w_at, w1 + w_at, 0, depth, acc0, acc1);
        }
    }
}

/* 1x1, stride 1, no padding, one group: a matrix product, pixel by pixel. */
static void conv_1x1(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     int8_t *output)
{
    const int32_t depth = p->input.c;
    const int32_t out_c = p->output.c;
    const int32_t pixels = p->output.n * p->output.h * p->output.w;

    for (int32_t px = 0; px < pixels; ++px) {
        const int8_t *in = &input[px * depth];
        int8_t *out = &output[px * out_c];
        for (int32_t oc = 0; oc < out_c; oc += 2) {
            /* A lone last channel runs as a pair with itself; the second result is dropped. */
            const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
            int32_t acc0 = 0;
            int32_t acc1 = 0;
            tc_dot2_s8(in, p->input_offset, &filter[oc * depth], &filter[oc1 * depth], 0, depth, &acc0, &acc1);
            out[oc] = tc_requant_out(acc0, bias, oc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act);
            out[oc1] = tc_requant_out(acc1, bias, oc1, p->multiplier[oc1], p->shift[oc1], p->output_offset, p->act);
        }
    }
}

void tc_conv2d_s8_dsp(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->filter.c;
    const int32_t groups = p->input.c / depth;
    const int32_t per_group = p->output.c / groups;
    const int32_t filter_bytes = p->filter.h * p->filter.w * depth;

    if (p->filter.h == 1 && p->filter.w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
        p->pad_w == 0 && groups == 1 && p->input.h == p->output.h && p->input.w == p->output.w) {
        conv_1x1(p, input, filter, bias, output);
        return;
    }

    if (groups == 1 && depth < 4 && filter_bytes <= TC_PATCH_MAX) {
        int8_t patch[TC_PATCH_MAX] __attribute__((aligned(4)));
        for (int32_t b = 0; b < p->output.n; ++b) {
            const int8_t *in_b = &input[b * p->input.h * p->input.w * p->input.c];
            for (int32_t oy = 0; oy < p->output.h; ++oy) {
                for (int32_t ox = 0; ox < p->output.w; ++ox) {
                    conv_gather(p, in_b, oy * p->stride_h - p->pad_h, ox * p->stride_w - p->pad_w, patch);
                    conv_patch_channels(p, patch, filter_bytes, filter, bias,
                                        &output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c]);
                }
            }
        }
        return;
    }

    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_b = &input[b * p->input.h * p->input.w * p->input.c];
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = &output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c];
                for (int32_t g = 0; g < groups; ++g) {
                    const int32_t oc_end = (g + 1) * per_group;
                    for (int32_t oc = g * per_group; oc < oc_end; oc += 2) {
                        /* Pairs stay inside a group: they share the group's input channels. */
                        const int32_t oc1 = oc + 1 < oc_end ? oc + 1 : oc;
                        int32_t acc0 = 0;
                        int32_t acc1 = 0;
                        conv_position(p, in_b + g * depth, in_y0, in_x0, &filter[oc * filter_bytes],
                                      &filter[oc1 * filter_bytes], &acc0, &acc1);
                        out[oc] = tc_requant_out(acc0, bias, oc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                                 p->act);
                        out[oc1] = tc_requant_out(acc1, bias, oc1, p->multiplier[oc1], p->shift[oc1],
                                                  p->output_offset, p->act);
                    }
                }
            }
        }
    }
}
