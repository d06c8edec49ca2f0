/*
 * tinyml-ci int8 kernels: entry points (parameter structs: tc_params.h).
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

#include "tc_params.h" /* the parameter structs, generated from pipeline/codegen/params.py */

void tc_conv2d_s8(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                  const int32_t *bias, int8_t *output);
void tc_depthwise_conv2d_s8(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output);
void tc_fully_connected_s8(const tc_fc_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output);
void tc_avg_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output);
void tc_max_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output);
void tc_add_s8(const tc_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void tc_mul_s8(const tc_mul_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void tc_relu_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output);
void tc_relu6_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output);
void tc_leaky_relu_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output);
void tc_requantize_s8(const tc_unary_params_t *p, const int8_t *input, int8_t *output);
void tc_quantize_f32_s8(const tc_affine_params_t *p, const float *input, int8_t *output);
void tc_dequantize_s8_f32(const tc_affine_params_t *p, const int8_t *input, float *output);
void tc_logistic_s8(const tc_sigmoid_params_t *p, const int8_t *input, int8_t *output);
void tc_tanh_s8(const tc_sigmoid_params_t *p, const int8_t *input, int8_t *output);
void tc_hard_swish_s8(const tc_hard_swish_params_t *p, const int8_t *input, int8_t *output);
void tc_softmax_s8(const tc_softmax_params_t *p, const int8_t *input, int8_t *output);
void tc_mean_s8(const tc_mean_params_t *p, const int8_t *input, int8_t *output);
void tc_pad_s8(const tc_pad_params_t *p, const int8_t *input, int8_t *output);
void tc_concatenation_s8(const tc_concat_params_t *p, const int8_t *const *inputs, int8_t *output);

/* DSP build (firmware/kernels/arm/): CONV_2D (grouped too) and FULLY_CONNECTED where the *_wide kernels
 * below refuse the layer (a zero multiplier, groups), same parameters as the portable kernels. */
void tc_conv2d_s8_dsp(const tc_conv_params_t *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);
void tc_fully_connected_s8_dsp(const tc_fc_params_t *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output);

/* DSP build (firmware/kernels/arm/): DEPTHWISE_CONV_2D, depth multiplier 1, filter int16 channel-major
 * [c][ky][kx], scratch: one padded int16 channel plane (size: pipeline/codegen/ops/depthwise.py). */
void tc_depthwise_conv2d_s8_planes(const tc_conv_params_t *p, const int8_t *input, const int16_t *filter,
                                   const int32_t *bias, int8_t *scratch, int8_t *output);
/* DSP build: the same for small output planes, four channels at a time, 3x3, stride 1 or 2, the
 * constants in blocks per four channels (pipeline/codegen/ops/depthwise.py group_blocks). */
void tc_depthwise_conv2d_s8_groups(const tc_conv_params_t *p, const int8_t *input, const int32_t *blocks,
                                   int8_t *scratch, int8_t *output);

/* DSP build (firmware/kernels/arm/): CONV_2D (one group) and FULLY_CONNECTED as int16 matrix-vector
 * products (pipeline/codegen/ops/conv.py, fully_connected.py lay the constants out). */
void tc_conv2d_s8_wide(const tc_conv_wide_params_t *p, const int8_t *input, const int16_t *filter,
                       int8_t *scratch, int8_t *output);
void tc_fully_connected_s8_wide(const tc_fc_wide_params_t *p, const int8_t *input, const int16_t *filter,
                                int8_t *scratch, int8_t *output);
/* DSP build: FULLY_CONNECTED with two channels' int8 weights packed in each int16 (256 a + b), read once:
 * half the filter bytes of the int16 form (pipeline/codegen/ops/fully_connected.py _fc_packed). */
void tc_fully_connected_s8_packed(const tc_fc_wide_params_t *p, const int8_t *input, const int16_t *filter,
                                  int8_t *scratch, int8_t *output);

/* DSP build: ADD of two same-shape inputs, each input's rescaling a generated table. */
void tc_add_s8_tables(const tc_add_tables_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);

/* DSP build: AVERAGE_POOL_2D, four channels per word in int16 lanes (windows of at most 255 values). */
void tc_avg_pool_s8_simd(const tc_pool_params_t *p, const int8_t *input, int8_t *output);

#endif /* TC_KERNELS_H */
