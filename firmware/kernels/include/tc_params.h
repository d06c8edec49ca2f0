/*
 * tinyml-ci kernel parameter structs. Generated from pipeline/codegen/params.py
 * (python -m pipeline.codegen.params), which also renders every initializer of
 * them in the generated model.c: edit the description there, not this file.
 */
#ifndef TC_PARAMS_H
#define TC_PARAMS_H

#include <stdint.h>

/* shapes of up to TC_MAX_DIMS dimensions, padded on the left with 1s */
#define TC_MAX_DIMS 6
/* MEAN's input rank bound (TFLM's kMaxNumberOfAxis) */
#define TC_MEAN_DIMS 5
/* PAD's rank bound (TFLM's PadKernelMaxDimensionCount) */
#define TC_PAD_DIMS 5
/* CONCATENATION's input count bound (TFLM's kMaxInputNum) */
#define TC_CONCAT_MAX_INPUTS 10

/* A 4-D shape, NHWC. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tc_dims_t;

/* Clamp range of the fused activation, in output quantized units. */
typedef struct {
    int32_t min;
    int32_t max;
} tc_range_t;

/* CONV_2D and DEPTHWISE_CONV_2D. */
typedef struct {
    tc_dims_t input;
    tc_dims_t filter; /* conv: [out_ch, kh, kw, in_ch/groups]; depthwise: [1, kh, kw, out_ch] */
    tc_dims_t output;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_h; /* padding before the first row / column */
    int32_t pad_w; /* padding before the first row / column */
    int32_t depth_multiplier; /* depthwise only */
    int32_t input_offset; /* -input zero point */
    int32_t output_offset; /* output zero point */
    tc_range_t act;
    const int32_t *multiplier; /* per output channel */
    const int32_t *shift; /* per output channel, left shift if > 0 */
} tc_conv_params_t;

/* FULLY_CONNECTED: output[b][o] = sum_d (filter[o][d] + filter_offset) * (input[b][d] + input_offset). */
typedef struct {
    int32_t batches;
    int32_t input_depth;
    int32_t output_depth;
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    tc_range_t act;
    const int32_t *multiplier; /* output_depth entries if per_channel, else one */
    const int32_t *shift;
    int32_t per_channel;
} tc_fc_params_t;

/* AVERAGE_POOL_2D and MAX_POOL_2D. */
typedef struct {
    tc_dims_t input;
    tc_dims_t output;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_h;
    int32_t pad_w;
    tc_range_t act;
} tc_pool_params_t;

/* Broadcasting of two inputs to the output shape: element strides, 0 along broadcast dimensions. */
typedef struct {
    int32_t dims[TC_MAX_DIMS]; /* output shape */
    int32_t in1_strides[TC_MAX_DIMS]; /* input 1 element stride per output dimension */
    int32_t in2_strides[TC_MAX_DIMS]; /* input 2 element stride per output dimension */
} tc_broadcast_t;

/* ADD: both inputs rescaled to a common scale (times 2^left_shift), summed, rescaled to the output. */
typedef struct {
    tc_broadcast_t shape;
    int32_t input1_offset; /* -zero points */
    int32_t input2_offset; /* -zero points */
    int32_t output_offset; /* output zero point */
    int32_t left_shift; /* 20 for int8 */
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    tc_range_t act;
} tc_add_params_t;

/* MUL: (in1 + offset1) * (in2 + offset2) rescaled by scale1 * scale2 / output scale. */
typedef struct {
    tc_broadcast_t shape;
    int32_t input1_offset; /* -zero points */
    int32_t input2_offset; /* -zero points */
    int32_t output_offset; /* output zero point */
    int32_t output_multiplier;
    int32_t output_shift;
    tc_range_t act;
} tc_mul_params_t;

/* Element-wise requantizing ops: RELU, RELU6, LEAKY_RELU, QUANTIZE (int8 -> int8). */
typedef struct {
    int32_t size; /* elements */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* input scale / output scale (LEAKY_RELU: for x >= 0) */
    int32_t shift; /* input scale / output scale (LEAKY_RELU: for x >= 0) */
    int32_t alpha_multiplier; /* LEAKY_RELU: alpha * input scale / output scale, x < 0 */
    int32_t alpha_shift; /* LEAKY_RELU: alpha * input scale / output scale, x < 0 */
    tc_range_t act; /* RELU: clamp range; RELU6: [q(0), q(6)] in input units */
} tc_unary_params_t;

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 at the graph's edges. */
typedef struct {
    int32_t size;
    int32_t zero_point; /* of the int8 side */
    float scale; /* of the int8 side */
} tc_affine_params_t;

/* LOGISTIC and TANH, int8: input rescaled to Q4.27, gemmlowp fixed-point function. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |input - zero point| at or beyond which the output saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} tc_sigmoid_params_t;

/* HARD_SWISH, int8 (TFLM's 16-bit fixed-point reference). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier; /* int16 fixed-point: (input scale / 128) / output scale */
    int32_t output_exponent; /* <= 0 */
    int32_t reluish_multiplier; /* int16 fixed-point: (input scale / 128) / (3 / 32768) */
    int32_t reluish_exponent;
} tc_hard_swish_params_t;

/* SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128), over the last dimension. */
typedef struct {
    int32_t outer_size;
    int32_t depth;
    int32_t input_multiplier; /* beta * input scale in Q5.26 */
    int32_t input_left_shift; /* beta * input scale in Q5.26 */
    int32_t diff_min; /* differences below this contribute exp() = 0 */
} tc_softmax_params_t;

/* MEAN, int8, over up to TC_MEAN_DIMS dimensions (TFLM's QuantizedMeanOrSum, also for equal quantization). */
typedef struct {
    int32_t dims[TC_MEAN_DIMS]; /* input shape */
    int32_t reduce[TC_MEAN_DIMS]; /* 1 for a reduced dimension */
    int32_t count; /* elements summed into each output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* input scale / output scale / count, as TFLM folds it */
    int32_t shift; /* input scale / output scale / count, as TFLM folds it */
} tc_mean_params_t;

/* PAD and PADV2, int8, up to TC_PAD_DIMS dimensions. */
typedef struct {
    int32_t input[TC_PAD_DIMS]; /* input shape */
    int32_t output[TC_PAD_DIMS]; /* output shape */
    int32_t before[TC_PAD_DIMS]; /* padding before the first element of each dimension */
    int32_t pad_value;
} tc_pad_params_t;

/* CONCATENATION, int8, inputs and output with the same quantization. */
typedef struct {
    int32_t inputs_count;
    int32_t outer_size; /* product of the dimensions before the axis */
    int32_t copy_size[TC_CONCAT_MAX_INPUTS]; /* per input: product of its dimensions from the axis on */
} tc_concat_params_t;

/* DSP build: the split requantization's constants of one output channel. */
typedef struct {
    int32_t multiplier; /* tc_requantize's multiplier */
    int32_t left_shift; /* max(shift, 0) */
    int32_t right_shift; /* max(-shift, 0) */
    int32_t mask; /* (1 << right_shift) - 1 */
    int32_t threshold; /* (mask >> 1) + 1: round up from here, one more below zero */
} tc_requant_ch_t;

/* DSP build: the shorter epilogue, on a doubled accumulator (filter and bias doubled by the generator),
 * for a right shift e of 1 to 22: tc_requantize_x2 in kernels/arm/tc_requant_dsp.h. */
typedef struct {
    int32_t multiplier;
    int32_t right; /* e */
    int32_t round_zp; /* 2^(e-1) + zp * 2^e */
} tc_requant_x2_t;

/* The x2 epilogue's constants of one block of 4 output channels, read in this order. */
typedef struct {
    int32_t bias[4]; /* doubled; zeros where the model has none or past the channels (the packed form: the starting accumulators, in its filter stream) */
    tc_requant_x2_t quant[4];
} tc_gemv_x2_block_t;

/* The product of one int16 row with `channels` filters: shapes, epilogue constants. Either the split
 * epilogue's constants, rounded up to 4 channels (x2 NULL), or, filter and bias doubled, the x2
 * epilogue's, per block of 4 channels (bias, quant NULL). */
typedef struct {
    int32_t blocks; /* row length / 8: the row and every filter zero-padded to it */
    int32_t channels; /* output channels; filters come in blocks of 4 (zero-padded) */
    int32_t output_offset;
    tc_range_t act;
    const int32_t *bias;
    const tc_requant_ch_t *quant;
    const tc_gemv_x2_block_t *x2; /* the packed form (tc_gemv_s8p): its filter stream, which holds each block's constants around its filter */
} tc_gemv_params_t;

/* CONV_2D, one group: each output position's patch gathered into int16 scratch (value + input offset, 0 at
 * padding, pairs in SXTB16 order), then one tc_gemv_params_t product. */
typedef struct {
    tc_dims_t input;
    tc_dims_t output;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_h;
    int32_t pad_w;
    int32_t input_offset;
    int32_t staged_channels; /* a multiple of 4: the filters (and x2 epilogue blocks) of the first staged_channels channels are copied once per layer into the scratch after the row, so that every output position reads them from SRAM, not flash; the rest stay in flash */
    tc_gemv_params_t gemv;
} tc_conv_wide_params_t;

/* FULLY_CONNECTED: each batch row widened into int16 scratch (value + input offset). */
typedef struct {
    int32_t batches;
    int32_t input_depth;
    int32_t input_offset;
    tc_gemv_params_t gemv;
} tc_fc_wide_params_t;

/* DSP build: ADD of two same-shape inputs; each input's rescaling (which depends on its int8 only) is a
 * generated table, indexed by the unsigned byte: table[(uint8_t)x] = requant((x - zp) << 20, m, s). */
typedef struct {
    int32_t size; /* elements */
    const int32_t *table1; /* 256 entries */
    const int32_t *table2; /* 256 entries */
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset; /* output zero point */
    tc_range_t act;
} tc_add_tables_params_t;

#endif /* TC_PARAMS_H */
