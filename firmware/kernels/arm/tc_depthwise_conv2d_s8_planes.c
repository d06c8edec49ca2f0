/*
 * DEPTHWISE_CONV_2D, int8, per-channel quantization, depth multiplier 1:
 * Cortex-M4 DSP version of ../tc_depthwise_conv2d_s8.c, one channel at a time.
 *
 * The channel is copied into a padded int16 plane in the scratch buffer
 * (the padding holds the input zero point, the input offset is folded into
 * the bias: see tc_dw_fill_plane), so the inner loops need no bounds checks, and two
 * horizontally adjacent taps of one row are one word for SMLAD. The filter
 * and the bias come from the generator doubled, the filter channel-major as
 * int16 ([c][ky][kx]), so that the accumulator is 2 * acc (|acc| < 2^30,
 * checked there) as tc_requantize_x2 wants it.
 *
 * 3x3, no dilation, stride 1 or 2: two outputs of a row per pass, the filter
 * rows held in registers as int16 pairs (w0, w1) and (w1, w2):
 *   stride 1: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = p1*w0 + (p2,p3).(w1,w2)
 *   stride 2: out0 = (p0,p1).(w0,w1) + p2*w2      out1 = (p2,p3).(w0,w1) + p4*w2
 * six MACs from two or three word loads and four SMLAD/SMLAxy per filter row.
 * Any other filter: a plain tap loop over the plane (SMLABB).
 *
 * The 3x3 pass runs along the longer output dimension (kws: 25 rows of 5),
 * on a transposed plane (and filter) when that is the height.
 *
 * Plane: the rows and columns a tap reaches, a row's length rounded up to
 * even so that the pairs are word-aligned, room for either orientation, and
 * one word of slack after it (an odd last output runs as a pair: its
 * partner's taps, never used, may read up to two int16 past the row). Then
 * the channel's int32 accumulators and as many again as the longer output
 * dimension, plus one (the dropped stores). All of a channel's accumulators
 * come first, then its requantization in one flat pass (output stride: the
 * channel count). The generator's scratch size is the same formula
 * (pipeline/codegen/ops/depthwise.py).
 */
#include "tc_dsp_common.h"

static int32_t tc_even(int32_t n) { return (n + 1) & ~1; }

/*
 * Channel c of input image b into the plane's interior as int16: input (y, x) at
 * plane[(y + pad_h) * y_step + (x + pad_w) * x_step] for the rows and columns a tap reaches
 * (y + pad_h < ext_h, x + pad_w < ext_w). The input offset is not added: the generator folds
 * offset * (sum of the channel's filter) into the bias, and the border holds the input zero
 * point, whose taps then contribute (zp + offset) * w = 0 as the reference's skipped ones.
 */
static void tc_dw_fill_plane(const tc_conv_params_t *p, const int8_t *in_b, int32_t c, int32_t ext_h,
                             int32_t ext_w, int32_t y_step, int32_t x_step, int16_t *plane)
{
    const int32_t depth = p->input.c;
    const int32_t rows = tc_min_i32(p->input.h, ext_h - p->pad_h);
    const int32_t cols = tc_min_i32(p->input.w, ext_w - p->pad_w);

    for (int32_t y = 0; y < rows; ++y) {
        const int8_t *src = &in_b[y * p->input.w * depth + c];
        int16_t *dst = &plane[(y + p->pad_h) * y_step + p->pad_w * x_step];
        int32_t x = cols;
        for (; x >= 4; x -= 4) {
            const int16_t a = src[0], b = src[depth], d = src[2 * depth], e = src[3 * depth];
            dst[0] = a;
            dst[x_step] = b;
            dst[2 * x_step] = d;
            dst[3 * x_step] = e;
            dst += 4 * x_step;
            src += 4 * depth;
        }
        for (; x > 0; --x) {
            *dst = *src;
            dst += x_step;
            src += depth;
        }
    }
}

/* One row of doubled accumulators and the requantization of a channel (tc_dsp_common.h). */
typedef struct {
    tc_requant_x2_t x2;          /* when tc_requant_x2_ok(shift) */
    tc_requant_split_t split;    /* otherwise, on the halved accumulator */
    int32_t output_offset;
    tc_range_t act;
} tc_dw_quant_t;

static inline __attribute__((always_inline)) void tc_dw_requant_row(const int32_t *acc, int32_t n,
                                                                     const tc_dw_quant_t *q, int32_t fast,
                                                                     int32_t mode, int8_t *o, int32_t step)
{
    const tc_dw_quant_t quant = *q;
    for (; n > 0; --n) {
        const int32_t a = *acc++;
        const int32_t v = fast ? tc_requantize_x2(a, &quant.x2)
                               : tc_requantize_split(a >> 1, &quant.split) + quant.output_offset;
        *o = (int8_t)tc_clamp_act(v, quant.act, fast ? mode : 0);
        o += step;
    }
}

/* Every output of one channel into acc ([oy][ox]), from the plane, any filter. */
static void tc_dw_taps_channel(const tc_conv_params_t *p, const int16_t *plane, int32_t plane_w, const int16_t *w,
                               int32_t bias, int32_t *acc)
{
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
        for (int32_t ox = 0; ox < p->output.w; ++ox) {
            int32_t sum = bias;
            for (int32_t ky = 0; ky < p->filter.h; ++ky) {
                const int16_t *row = &plane[(oy * p->stride_h + ky * p->dilation_h) * plane_w + ox * p->stride_w];
                for (int32_t kx = 0; kx < p->filter.w; ++kx) {
                    sum += (int32_t)row[kx * p->dilation_w] * w[ky * p->filter.w + kx];
                }
            }
            *acc++ = sum;
        }
    }
}

/* One filter row of outputs ox and ox + 1 (3x3): r = the plane at (stride * oy + ky, stride * ox). */
static inline __attribute__((always_inline)) void tc_dw_row_3x3(const int16_t *r, int32_t stride, int32_t w01,
                                                                int32_t w12, int32_t *a0, int32_t *a1)
{
    /* r is word-aligned (even plane index): one LDRD for both words. */
    uint64_t p0123;
    __builtin_memcpy(&p0123, __builtin_assume_aligned(r, 4), sizeof(p0123));
    const int32_t p01 = (int32_t)p0123, p23 = (int32_t)(p0123 >> 32);
    *a0 = __smlabt(p23, w12, __smlad(p01, w01, *a0));
    if (stride == 1) {
        *a1 = __smlad(p23, w12, __smlatb(p01, w01, *a1));
    } else {
        *a1 = __smlabt(tc_load_word(r + 4), w12, __smlad(p23, w01, *a1));
    }
}

/*
 * Every output of one channel into acc, 3x3, no dilation, stride 1 or 2 (both directions the
 * same), line by line along the plane's rows, the filter rows in registers as int16 pairs
 * (w0, w1) and (w1, w2). Output k of line l goes to acc[l * line_step + k * step]. An odd last
 * output runs as a pair whose second result is ignored (its taps are in the plane or its slack;
 * its store lands on the next line's first output, written after it, or in acc's slack).
 */
static inline __attribute__((always_inline)) void tc_dw_3x3_channel(
    const int16_t *plane, int32_t plane_w, int32_t stride, const int32_t w01[3], const int32_t w12[3], int32_t lines,
    int32_t line_len, int32_t bias, int32_t *acc, int32_t line_step, int32_t step)
{
    const int32_t w01_0 = w01[0], w01_1 = w01[1], w01_2 = w01[2];
    const int32_t w12_0 = w12[0], w12_1 = w12[1], w12_2 = w12[2];
    for (int32_t line = 0; line < lines; ++line) {
        const int16_t *r = &plane[line * stride * plane_w];
        int32_t *a = &acc[line * line_step];
        for (int32_t k = line_len; k > 0; k -= 2) {
            int32_t a0 = bias, a1 = bias;
            tc_dw_row_3x3(r, stride, w01_0, w12_0, &a0, &a1);
            tc_dw_row_3x3(r + plane_w, stride, w01_1, w12_1, &a0, &a1);
            tc_dw_row_3x3(r + 2 * plane_w, stride, w01_2, w12_2, &a0, &a1);
            a[0] = a0;
            a[step] = a1;
            a += 2 * step;
            r += 2 * stride;
        }
    }
}

static void tc_dw_3x3_channel_s1(const int16_t *plane, int32_t plane_w, const int32_t w01[3], const int32_t w12[3],
                                 int32_t lines, int32_t line_len, int32_t bias, int32_t *acc, int32_t line_step,
                                 int32_t step)
{
    tc_dw_3x3_channel(plane, plane_w, 1, w01, w12, lines, line_len, bias, acc, line_step, step);
}

static void tc_dw_3x3_channel_s2(const int16_t *plane, int32_t plane_w, const int32_t w01[3], const int32_t w12[3],
                                 int32_t lines, int32_t line_len, int32_t bias, int32_t *acc, int32_t line_step,
                                 int32_t step)
{
    tc_dw_3x3_channel(plane, plane_w, 2, w01, w12, lines, line_len, bias, acc, line_step, step);
}

/* The requantization of a channel, specialized by tc_requant_x2_ok and the clamp's mode. */
static void tc_dw_requant_any(const int32_t *acc, int32_t n, const tc_dw_quant_t *q, int32_t fast, int32_t mode,
                              int8_t *o, int32_t step)
{
    if (!fast) {
        tc_dw_requant_row(acc, n, q, 0, 0, o, step);
    } else if (mode == 2) {
        tc_dw_requant_row(acc, n, q, 1, 2, o, step);
    } else if (mode == 1) {
        tc_dw_requant_row(acc, n, q, 1, 1, o, step);
    } else {
        tc_dw_requant_row(acc, n, q, 1, 0, o, step);
    }
}

void tc_depthwise_conv2d_s8_planes(const tc_conv_params_t *p, const int8_t *input, const int16_t *filter,
                                   const int32_t *bias, int8_t *scratch, int8_t *output)
{
    const int32_t ext_h = (p->output.h - 1) * p->stride_h + (p->filter.h - 1) * p->dilation_h + 1;
    const int32_t ext_w = (p->output.w - 1) * p->stride_w + (p->filter.w - 1) * p->dilation_w + 1;
    const int32_t plane_size = tc_max_i32(ext_h * tc_even(ext_w), ext_w * tc_even(ext_h)) + 2;
    const int32_t taps = p->filter.h * p->filter.w;
    const int32_t channels = p->output.c;
    const int32_t out_h = p->output.h;
    const int32_t out_w = p->output.w;
    const int32_t mode = tc_act_mode(p->act);
    /* 1 or 2: the 3x3 pass of that stride; 0: the tap loop. */
    const int32_t fast = p->filter.h == 3 && p->filter.w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
                         p->stride_h == p->stride_w && (p->stride_w == 1 || p->stride_w == 2) ? p->stride_w : 0;
    /* The 3x3 pass runs along the longer output dimension: a transposed plane when it is the height. */
    const int32_t transpose = fast && out_h > out_w;
    const int32_t plane_w = transpose ? tc_even(ext_h) : tc_even(ext_w); /* one plane row */
    const int32_t lines = transpose ? out_w : out_h;                      /* output lines, one per pass */
    const int32_t line_len = transpose ? out_h : out_w;
    int16_t *plane = (int16_t *)(void *)scratch;
    /* After the plane and its slack (a whole number of words: plane_size is even): the channel's
     * accumulators, [oy][ox], and the slack of an odd line's dropped store. */
    int32_t *acc = (int32_t *)(void *)&plane[plane_size];

    /* The border is never written below: the input zero point (padding) for every channel. */
    const int16_t zero_point = (int16_t)(-p->input_offset);
    for (int32_t i = 0; i < plane_size; ++i) {
        plane[i] = zero_point;
    }
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_b = &input[b * p->input.h * p->input.w * p->input.c];
        int8_t *out_b = &output[b * out_h * out_w * channels];
        for (int32_t c = 0; c < channels; ++c) {
            const int16_t *w = &filter[c * taps];
            const int32_t acc0 = bias ? bias[c] : 0;
            const int32_t fast_q = tc_requant_x2_ok(p->shift[c]);
            const tc_dw_quant_t q = {tc_requant_x2(p->multiplier[c], fast_q ? p->shift[c] : -1, p->output_offset),
                                     tc_requant_split(p->multiplier[c], p->shift[c]), p->output_offset, p->act};
            int32_t w01[3] = {0, 0, 0}, w12[3] = {0, 0, 0};
            if (fast) {
                /* Filter rows along the pass: (ky, kx), or (kx, ky) transposed. */
                const int32_t along = transpose ? 3 : 1, across = transpose ? 1 : 3;
                for (int32_t k = 0; k < 3; ++k) {
                    w01[k] = tc_pack_i16x2(w[k * across], w[k * across + along]);
                    w12[k] = tc_pack_i16x2(w[k * across + along], w[k * across + 2 * along]);
                }
            }
            tc_dw_fill_plane(p, in_b, c, ext_h, ext_w, transpose ? 1 : plane_w, transpose ? plane_w : 1, plane);
            if (fast == 1) {
                tc_dw_3x3_channel_s1(plane, plane_w, w01, w12, lines, line_len, acc0, acc, transpose ? 1 : out_w,
                                     transpose ? out_w : 1);
            } else if (fast == 2) {
                tc_dw_3x3_channel_s2(plane, plane_w, w01, w12, lines, line_len, acc0, acc, transpose ? 1 : out_w,
                                     transpose ? out_w : 1);
            } else {
                tc_dw_taps_channel(p, plane, plane_w, w, acc0, acc);
            }
            tc_dw_requant_any(acc, out_h * out_w, &q, fast_q, mode, &out_b[c], channels);
        }
    }
}
