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

/* Shapes of up to TC_MAX_DIMS dimensions, padded on the left with 1s. */
#define TC_MAX_DIMS 6

/* Broadcasting of two inputs to the output shape: element strides, 0 along broadcast dimensions. */
typedef struct {
    int32_t dims[TC_MAX_DIMS];        /* output shape */
    int32_t in1_strides[TC_MAX_DIMS]; /* input 1 element stride per output dimension */
    int32_t in2_strides[TC_MAX_DIMS]; /* input 2 element stride per output dimension */
} tc_broadcast_t;

/* ADD: both inputs rescaled to a common scale (times 2^left_shift), summed, rescaled to the output. */
typedef struct {
    tc_broadcast_t shape;
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t output_offset;                /* output zero point */
    int32_t left_shift;                   /* 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    tc_range_t act;
} tc_add_params_t;

/* MUL: (in1 + offset1) * (in2 + offset2) rescaled by scale1 * scale2 / output scale. */
typedef struct {
    tc_broadcast_t shape;
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t output_offset;                /* output zero point */
    int32_t output_multiplier, output_shift;
    tc_range_t act;
} tc_mul_params_t;

/* Element-wise requantizing ops: RELU, RELU6, LEAKY_RELU, QUANTIZE (int8 -> int8). */
typedef struct {
    int32_t size;                           /* elements */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;              /* input scale / output scale (LEAKY_RELU: for x >= 0) */
    int32_t alpha_multiplier, alpha_shift;  /* LEAKY_RELU: alpha * input scale / output scale, x < 0 */
    tc_range_t act;                         /* RELU: clamp range; RELU6: [q(0), q(6)] in input units */
} tc_unary_params_t;

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 at the graph's edges. */
typedef struct {
    int32_t size;
    int32_t zero_point; /* of the int8 side */
    float scale;        /* of the int8 side */
} tc_affine_params_t;

/* LOGISTIC and TANH, int8: input rescaled to Q4.27, gemmlowp fixed-point function. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |input - zero point| at or beyond which the output saturates */
    int32_t input_multiplier, input_left_shift;
} tc_sigmoid_params_t;

/* HARD_SWISH, int8 (TFLM's 16-bit fixed-point reference). */
typedef struct {
    int32_t size;
    int32_t input_zero_point, output_zero_point;
    int32_t output_multiplier;  /* int16 fixed-point: (input scale / 128) / output scale */
    int32_t output_exponent;    /* <= 0 */
    int32_t reluish_multiplier; /* int16 fixed-point: (input scale / 128) / (3 / 32768) */
    int32_t reluish_exponent;
} tc_hard_swish_params_t;

/* SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128), over the last dimension. */
typedef struct {
    int32_t outer_size, depth;
    int32_t input_multiplier, input_left_shift; /* beta * input scale in Q5.26 */
    int32_t diff_min;                           /* differences below this contribute exp() = 0 */
} tc_softmax_params_t;

/* MEAN, int8, over up to TC_MEAN_DIMS dimensions (TFLM's QuantizedMeanOrSum, also for equal quantization). */
#define TC_MEAN_DIMS 5
typedef struct {
    int32_t dims[TC_MEAN_DIMS];   /* input shape */
    int32_t reduce[TC_MEAN_DIMS]; /* 1 for a reduced dimension */
    int32_t count;                /* elements summed into each output */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;    /* input scale / output scale / count, as TFLM folds it */
} tc_mean_params_t;

/* PAD and PADV2, int8, up to TC_PAD_DIMS dimensions. */
#define TC_PAD_DIMS 5
typedef struct {
    int32_t input[TC_PAD_DIMS];  /* input shape */
    int32_t output[TC_PAD_DIMS]; /* output shape */
    int32_t before[TC_PAD_DIMS]; /* padding before the first element of each dimension */
    int32_t pad_value;
} tc_pad_params_t;

/* CONCATENATION, int8, inputs and output with the same quantization. */
#define TC_CONCAT_MAX_INPUTS 10
typedef struct {
    int32_t inputs_count;
    int32_t outer_size;                          /* product of the dimensions before the axis */
    int32_t copy_size[TC_CONCAT_MAX_INPUTS];     /* per input: product of its dimensions from the axis on */
} tc_concat_params_t;

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

/* DSP build (firmware/kernels/arm/): CONV_2D (one group) and FULLY_CONNECTED as int16 matrix-vector
 * products (pipeline/codegen/ops/conv.py, fully_connected.py lay the constants out). */
typedef struct {
    int32_t multiplier;  /* tc_requantize's multiplier */
    int32_t left_shift;  /* max(shift, 0) */
    int32_t right_shift; /* max(-shift, 0) */
    int32_t mask;        /* (1 << right_shift) - 1 */
    int32_t threshold;   /* (mask >> 1) + 1: round up from here, one more below zero */
} tc_requant_ch_t;

/*
 * The shorter epilogue, on a doubled accumulator (filter and bias doubled by the generator), for a
 * right shift e of 1 to 22: tc_requantize_x2 in kernels/arm/tc_dsp_common.h.
 */
typedef struct {
    int32_t multiplier;
    int32_t right;       /* e */
    int32_t round_zp;    /* 2^(e-1) + zp * 2^e */
} tc_requant_x2_t;

/* The x2 epilogue's constants of one block of 4 output channels, read in this order. */
typedef struct {
    int32_t bias[4];             /* doubled; zeros where the model has none or past the channels */
    tc_requant_x2_t quant[4];
} tc_gemv_x2_block_t;

/* The product of one int16 row with `channels` filters: shapes, epilogue constants. */
typedef struct {
    int32_t blocks;      /* row length / 8: the row and every filter zero-padded to it */
    int32_t channels;    /* output channels; filters come in blocks of 4 (zero-padded) */
    int32_t output_offset;
    tc_range_t act;
    /* Either the split epilogue's constants, rounded up to 4 channels (x2 NULL), ... */
    const int32_t *bias;
    const tc_requant_ch_t *quant;
    /* ... or, filter and bias doubled, the x2 epilogue's, per block of 4 channels (bias, quant NULL). */
    const tc_gemv_x2_block_t *x2;
} tc_gemv_params_t;

/* CONV_2D, one group: each output position's patch gathered into int16 scratch (value + input offset,
 * 0 at padding, pairs in SXTB16 order), then one tc_gemv_params_t product. */
typedef struct {
    tc_dims_t input, output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t input_offset;
    tc_gemv_params_t gemv;
} tc_conv_wide_params_t;

/* FULLY_CONNECTED: each batch row widened into int16 scratch (value + input offset). */
typedef struct {
    int32_t batches, input_depth;
    int32_t input_offset;
    tc_gemv_params_t gemv;
} tc_fc_wide_params_t;

void tc_conv2d_s8_wide(const tc_conv_wide_params_t *p, const int8_t *input, const int16_t *filter,
                       int8_t *scratch, int8_t *output);
void tc_fully_connected_s8_wide(const tc_fc_wide_params_t *p, const int8_t *input, const int16_t *filter,
                                int8_t *scratch, int8_t *output);

/* DSP build: ADD of two same-shape inputs; each input's rescaling (which depends on its int8 only) is a
 * generated table, indexed by the unsigned byte: table[(uint8_t)x] = requant((x - zp) << 20, m, s). */
typedef struct {
    int32_t size;                            /* elements */
    const int32_t *table1, *table2;          /* 256 entries each */
    int32_t output_multiplier, output_shift;
    int32_t output_offset;                   /* output zero point */
    tc_range_t act;
} tc_add_tables_params_t;

void tc_add_s8_tables(const tc_add_tables_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);

/* DSP build: AVERAGE_POOL_2D, four channels per word in int16 lanes (windows of at most 255 values). */
void tc_avg_pool_s8_simd(const tc_pool_params_t *p, const int8_t *input, int8_t *output);

#endif /* TC_KERNELS_H */
