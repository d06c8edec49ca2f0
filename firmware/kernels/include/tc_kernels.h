/*
 * tinyml-ci int8 kernels: parameter structs and entry points.
 *
 * Every kernel follows one argument order: parameters, then input data,
 * constant operands (filter, bias), and the output last (the only non-const
 * pointer). Shapes are NHWC. Quantization constants (multipliers, shifts,
 * offsets, activation ranges) are computed by the code generator, never at
 * run time. The arithmetic is TFLM's reference int8 arithmetic: see
 * docs/numeric-contract.md.
 */
#ifndef TC_KERNELS_H
#define TC_KERNELS_H

#include <stdint.h>

typedef struct {
    int32_t n, h, w, c;
} tc_dims_t;

/* Clamp range of the fused activation, in output quantized units. */
typedef struct {
    int32_t min, max;
} tc_range_t;

/* CONV_2D and DEPTHWISE_CONV_2D. */
typedef struct {
    tc_dims_t input;
    tc_dims_t filter;          /* conv: [out_ch, kh, kw, in_ch/groups]; depthwise: [1, kh, kw, out_ch] */
    tc_dims_t output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;      /* padding before the first row / column */
    int32_t depth_multiplier;  /* depthwise only */
    int32_t input_offset;      /* -input zero point */
    int32_t output_offset;     /* output zero point */
    tc_range_t act;
    const int32_t *multiplier; /* per output channel */
    const int32_t *shift;      /* per output channel, left shift if > 0 */
} tc_conv_params_t;

/* FULLY_CONNECTED: output[b][o] = sum_d (filter[o][d] + filter_offset) * (input[b][d] + input_offset). */
typedef struct {
    int32_t batches, input_depth, output_depth;
    int32_t input_offset, filter_offset, output_offset;
    tc_range_t act;
    const int32_t *multiplier; /* output_depth entries if per_channel, else one */
    const int32_t *shift;
    int32_t per_channel;
} tc_fc_params_t;

/* AVERAGE_POOL_2D and MAX_POOL_2D. */
typedef struct {
    tc_dims_t input, output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    tc_range_t act;
} tc_pool_params_t;

void tc_conv2d_s8(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output);
void tc_depthwise_conv2d_s8(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output);
void tc_fully_connected_s8(const tc_fc_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output);
void tc_avg_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output);
void tc_max_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output);

#endif /* TC_KERNELS_H */
