/*
 * CONV_2D, int8, one group, Cortex-M4 DSP build: the variant the generator emits with int16
 * filters (pipeline/codegen/ops/conv.py). The reference is ../tc_conv2d_s8.c.
 *
 * For each output position the patch [ky][kx][c] is gathered into an int16 scratch row as
 * value + input offset (0 at padding taps, as input + offset is there in the reference), in
 * SXTB16 pair order, zero-padded to a multiple of 8. Positions go in pairs (in output order, across
 * rows and batches): the two patches are interleaved per word (pair of values) and tc_gemv2_s16
 * (tc_gemv_s16.c) computes every output channel of both, each filter word loaded once for two
 * SMLADs; an odd last position is one row for tc_gemv_s16.
 * A position whose taps all fall inside the input (every position of a 1x1 layer without padding)
 * copies each filter row as one run. Otherwise, depths that are a multiple of 4 are widened from the
 * input a word at a time (one LDR, two SXTAB16, two stores per four values); other depths are first
 * gathered as int8 after the two int16 rows in the scratch (the generator reserves all three), then
 * widened the same way.
 * The generator stages the filters (and x2 epilogue blocks) of the first staged_channels channels:
 * they are first copied after those into the scratch, as every position rereads all of them and
 * SRAM has no flash wait states; the rest (a filter larger than the generator's cap) stay in flash.
 */
#include <stddef.h>

#include "tc_dsp.h"

/* First and one-past-last filter column whose input column is inside the image. */
static inline void conv_valid_columns(const tc_conv_wide_params_t *p, int32_t in_x0, int32_t *kx0, int32_t *kx1)
{
    const int32_t d = p->dilation_w;
    if (d == 1) { /* no division: the common case, once per output position */
        *kx0 = tc_max_i32(0, -in_x0);
        *kx1 = tc_min_i32(p->filter_w, p->input.w - in_x0);
        return;
    }
    *kx0 = in_x0 >= 0 ? 0 : (-in_x0 + d - 1) / d;
    *kx1 = tc_min_i32(p->filter_w, (p->input.w - in_x0 + d - 1) / d);
}

/* n zeros (n a multiple of 4) at dst, in tc_widen_s8x4's layout. */
static inline int16_t *conv_zero(int16_t *dst, int32_t n, int32_t step)
{
    for (int32_t k = n >> 2; k > 0; --k) {
        uint32_t *d = (uint32_t *)(void *)dst;
        d[0] = 0;
        d[step >> 2] = 0;
        dst += step;
    }
    return dst;
}

/*
 * The patch gathers write their row in tc_widen_s8x4's layout for `step` (4: a row of its own; 8:
 * one of tc_gemv2_s16's two rows, interleaved per word), the zero tail up to p->gemv.blocks * 8
 * values included.
 */

/* The patch of depth-multiple-of-4 input, a word at a time. */
static void conv_gather_words(const tc_conv_wide_params_t *p, const int8_t *in_b, int32_t in_y0, int32_t in_x0,
                              int16_t *row, int32_t step)
{
    const int32_t depth = p->input.c;
    const int32_t offset2 = tc_dual_offset(p->input_offset);
    int32_t kx0;
    int32_t kx1;
    conv_valid_columns(p, in_x0, &kx0, &kx1);
    int16_t *d = row;

    for (int32_t ky = 0; ky < p->filter_h; ++ky) {
        const int32_t in_y = in_y0 + p->dilation_h * ky;
        if (in_y < 0 || in_y >= p->input.h || kx1 <= kx0) {
            d = conv_zero(d, p->filter_w * depth, step);
            continue;
        }
        const int8_t *in_row = &in_b[in_y * p->input.w * depth];
        d = conv_zero(d, kx0 * depth, step);
        if (p->dilation_w == 1) {
            d = tc_widen_s8x4(&in_row[(in_x0 + kx0) * depth], (kx1 - kx0) * depth, offset2, d, step);
        } else {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                d = tc_widen_s8x4(&in_row[(in_x0 + p->dilation_w * kx) * depth], depth, offset2, d, step);
            }
        }
        d = conv_zero(d, (p->filter_w - kx1) * depth, step);
    }
    conv_zero(d, p->gemv.blocks * 8 - p->filter_h * p->filter_w * depth, step);
}

/* n bytes from src to dst, a word at a time while four are left (the M4 does unaligned LDR/STR). */
static inline int8_t *conv_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        __builtin_memcpy(dst, src, 4);
        dst += 4;
        src += 4;
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
    return dst;
}

/* n bytes of value v at dst. */
static inline int8_t *conv_fill(int8_t *dst, int8_t v, int32_t n)
{
    for (; n > 0; --n) {
        *dst++ = v;
    }
    return dst;
}

/*
 * The patch of any other depth: gathered in filter order as int8 into `bytes` (padding taps
 * hold the input zero point, so that value + offset is 0 there), then widened a word at a time.
 * The widened tail past the patch multiplies zero filter values, whatever it holds.
 */
static void conv_gather_bytes(const tc_conv_wide_params_t *p, const int8_t *in_b, int32_t in_y0, int32_t in_x0,
                              int8_t *bytes, int16_t *row, int32_t step)
{
    const int32_t depth = p->input.c;
    const int32_t tap_row = p->filter_w * depth;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t kx0;
    int32_t kx1;
    conv_valid_columns(p, in_x0, &kx0, &kx1);
    int8_t *d = bytes;

    for (int32_t ky = 0; ky < p->filter_h; ++ky) {
        const int32_t in_y = in_y0 + p->dilation_h * ky;
        if (in_y < 0 || in_y >= p->input.h || kx1 <= kx0) {
            d = conv_fill(d, zero_point, tap_row);
            continue;
        }
        const int8_t *in_row = &in_b[in_y * p->input.w * depth];
        d = conv_fill(d, zero_point, kx0 * depth);
        if (p->dilation_w == 1) {
            d = conv_copy(d, &in_row[(in_x0 + kx0) * depth], (kx1 - kx0) * depth);
        } else {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
                d = conv_copy(d, &in_row[(in_x0 + p->dilation_w * kx) * depth], depth);
            }
        }
        d = conv_fill(d, zero_point, (p->filter_w - kx1) * depth);
    }
    tc_widen_s8x4(bytes, p->gemv.blocks * 8, tc_dual_offset(p->input_offset), row, step);
}

/*
 * The patch of an output position whose taps all fall inside the input, without horizontal
 * dilation (most positions): each filter row is one contiguous run of the input, widened directly
 * when the depth is a multiple of 4, else copied into `bytes` a word at a time and then widened.
 */
static void conv_gather_inside(const tc_conv_wide_params_t *p, const int8_t *in_b, int32_t in_y0, int32_t in_x0,
                               int8_t *bytes, int16_t *row, int32_t step)
{
    const int32_t depth = p->input.c;
    const int32_t run = p->filter_w * depth;
    const int32_t row_step = p->dilation_h * p->input.w * depth;
    const int32_t offset2 = tc_dual_offset(p->input_offset);
    const int8_t *src = &in_b[(in_y0 * p->input.w + in_x0) * depth];

    if ((depth & 3) == 0) {
        int16_t *d = row;
        for (int32_t ky = p->filter_h; ky > 0; --ky, src += row_step) {
            d = tc_widen_s8x4(src, run, offset2, d, step);
        }
        conv_zero(d, p->gemv.blocks * 8 - p->filter_h * run, step);
        return;
    }
    int8_t *d = bytes;
    for (int32_t ky = p->filter_h; ky > 0; --ky, src += row_step) {
        d = conv_copy(d, src, run);
    }
    tc_widen_s8x4(bytes, p->gemv.blocks * 8, offset2, row, step);
}

/*
 * A constant array into SRAM, four words per LDM/STM (bytes: a multiple of 16, both ends 4-aligned):
 * read once from flash here instead of once per output position.
 */
static const void *conv_stage_words(const void *src_bytes, int8_t *dst_bytes, int32_t bytes)
{
    const uint32_t *src = (const uint32_t *)src_bytes;
    uint32_t *dst = (uint32_t *)(void *)dst_bytes;
    for (int32_t n = bytes >> 4; n > 0; --n) {
        uint32_t w0, w1, w2, w3;
        __asm volatile("ldm %[s]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
                       "stm %[d]!, {%[w0], %[w1], %[w2], %[w3]}"
                       : [s] "+r"(src), [d] "+r"(dst), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2),
                         [w3] "=&r"(w3)
                       :
                       : "memory");
    }
    return dst_bytes;
}

/* The product of one row: the staged channels' filters from SRAM, then the rest from flash. */
typedef struct {
    tc_gemv_params_t staged, rest;
    const int16_t *staged_filter, *rest_filter;
} conv_gemv_t;

/*
 * The first p->staged_channels channels' filters, and for the x2 epilogue their blocks, copied to
 * dst (after the two rows and, for other depths, the int8 patch); g: the two products over them.
 */
static void conv_stage(const tc_conv_wide_params_t *p, const int16_t *filter, int8_t *dst, conv_gemv_t *g)
{
    const int32_t filter_bytes = p->staged_channels * p->gemv.blocks * 16;
    g->staged = p->gemv;
    g->rest = p->gemv;
    g->staged_filter = filter;
    g->rest_filter = filter + p->staged_channels * p->gemv.blocks * 8;
    g->rest.channels = 0;
    if (p->staged_channels == 0) {
        return;
    }
    g->staged.channels = tc_min_i32(p->staged_channels, p->gemv.channels);
    g->rest.channels = p->gemv.channels - g->staged.channels;
    g->staged_filter = conv_stage_words(filter, dst, filter_bytes);
    if (p->gemv.x2 != NULL) {
        g->staged.x2 = conv_stage_words(p->gemv.x2, dst + filter_bytes, p->staged_channels / 4 * 64);
        g->rest.x2 = p->gemv.x2 + p->staged_channels / 4;
    } else {
        g->rest.bias = p->gemv.bias + p->staged_channels;
        g->rest.quant = p->gemv.quant + p->staged_channels;
    }
}

/* g->staged is never empty (without staging it is the whole product, from flash). */
static inline void conv_gemv(const conv_gemv_t *g, const int16_t *row, int8_t *out)
{
    tc_gemv_s16(&g->staged, row, g->staged_filter, out);
    if (g->rest.channels > 0) {
        tc_gemv_s16(&g->rest, row, g->rest_filter, out + g->staged.channels);
    }
}

/* The same for two interleaved rows. */
static inline void conv_gemv2(const conv_gemv_t *g, const int16_t *rows, int8_t *out_a, int8_t *out_b)
{
    tc_gemv2_s16(&g->staged, rows, g->staged_filter, out_a, out_b);
    if (g->rest.channels > 0) {
        tc_gemv2_s16(&g->rest, rows, g->rest_filter, out_a + g->staged.channels, out_b + g->staged.channels);
    }
}

/* An output position: batch, row, column. */
typedef struct {
    int32_t b, y, x;
} conv_pos_t;

static inline void conv_next(const tc_conv_wide_params_t *p, conv_pos_t *q)
{
    if (++q->x < p->output.w) {
        return;
    }
    q->x = 0;
    if (++q->y < p->output.h) {
        return;
    }
    q->y = 0;
    ++q->b;
}

/* The input's first tap row and column for position *q; whether all its taps fall inside (dilation_w 1). */
static inline int32_t conv_origin(const tc_conv_wide_params_t *p, const conv_pos_t *q, int32_t *in_y0, int32_t *in_x0)
{
    *in_y0 = q->y * p->stride_h - p->pad_h;
    *in_x0 = q->x * p->stride_w - p->pad_w;
    return p->dilation_w == 1 && *in_y0 >= 0 && *in_y0 + (p->filter_h - 1) * p->dilation_h < p->input.h &&
           *in_x0 >= 0 && *in_x0 + p->filter_w <= p->input.w;
}

static inline const int8_t *conv_batch(const tc_conv_wide_params_t *p, const int8_t *input, const conv_pos_t *q)
{
    return &input[q->b * p->input.h * p->input.w * p->input.c];
}

/* The patch of output position *q into row (tc_widen_s8x4's layout for step); *q moves to the next one. */
static void conv_patch(const tc_conv_wide_params_t *p, const int8_t *input, conv_pos_t *q, int8_t *bytes,
                       int16_t *row, int32_t step)
{
    int32_t in_y0;
    int32_t in_x0;
    const int8_t *in_b = conv_batch(p, input, q);
    if (conv_origin(p, q, &in_y0, &in_x0)) {
        conv_gather_inside(p, in_b, in_y0, in_x0, bytes, row, step);
    } else if ((p->input.c & 3) == 0) {
        conv_gather_words(p, in_b, in_y0, in_x0, row, step);
    } else {
        conv_gather_bytes(p, in_b, in_y0, in_x0, bytes, row, step);
    }
    conv_next(p, q);
}

/*
 * n int8 (n a multiple of 4) from each of a and b widened into tc_gemv2_s16's interleaved rows at dst:
 * one read of each and four words stored together per four values, against two tc_widen_s8x4 loops.
 */
static inline int16_t *conv_widen2(const int8_t *a, const int8_t *b, int32_t n, int32_t offset2, int16_t *dst)
{
    uint32_t *d = (uint32_t *)(void *)dst;
    for (int32_t k = n >> 2; k > 0; --k) {
        const int32_t va = tc_read_s8x4_ia(&a);
        const int32_t vb = tc_read_s8x4_ia(&b);
        d[0] = (uint32_t)__sxtab16(offset2, va);
        d[1] = (uint32_t)__sxtab16(offset2, vb);
        d[2] = (uint32_t)tc_sxtab16_odd(offset2, va);
        d[3] = (uint32_t)tc_sxtab16_odd(offset2, vb);
        d += 4;
    }
    return (int16_t *)(void *)d;
}

/*
 * The patches of positions *q and the next one into tc_gemv2_s16's two rows; *q moves past both.
 * Both inside the input with a depth a multiple of 4 (most pairs): each filter row of both widened
 * in one pass; otherwise one patch after the other.
 */
static void conv_patch2(const tc_conv_wide_params_t *p, const int8_t *input, conv_pos_t *q, int8_t *bytes,
                        int16_t *rows)
{
    conv_pos_t qb = *q;
    conv_next(p, &qb);
    int32_t ya;
    int32_t xa;
    int32_t yb;
    int32_t xb;
    if ((p->input.c & 3) == 0 && conv_origin(p, q, &ya, &xa) && conv_origin(p, &qb, &yb, &xb)) {
        const int32_t depth = p->input.c;
        const int32_t run = p->filter_w * depth;
        const int32_t row_step = p->dilation_h * p->input.w * depth;
        const int32_t offset2 = tc_dual_offset(p->input_offset);
        const int8_t *a = &conv_batch(p, input, q)[(ya * p->input.w + xa) * depth];
        const int8_t *b = &conv_batch(p, input, &qb)[(yb * p->input.w + xb) * depth];
        int16_t *d = rows;
        for (int32_t ky = p->filter_h; ky > 0; --ky, a += row_step, b += row_step) {
            d = conv_widen2(a, b, run, offset2, d);
        }
        tc_zero_s16(d, rows + p->gemv.blocks * 16);
        conv_next(p, &qb);
        *q = qb;
        return;
    }
    conv_patch(p, input, q, bytes, rows, 8);
    conv_patch(p, input, q, bytes, rows + 2, 8);
}

void tc_conv2d_s8_wide(const tc_conv_wide_params_t *p, const int8_t *input, const int16_t *filter,
                       int8_t *scratch_bytes, int8_t *output)
{
    int16_t *const rows = (int16_t *)(void *)scratch_bytes; /* two rows, 8-aligned in the arena */
    int8_t *const bytes = scratch_bytes + p->gemv.blocks * 32;
    const int32_t channels = p->gemv.channels;

    conv_gemv_t gemv;
    conv_stage(p, filter, bytes + ((p->input.c & 3) == 0 ? 0 : p->gemv.blocks * 8), &gemv);

    conv_pos_t q = {0, 0, 0};
    int32_t left = p->output.n * p->output.h * p->output.w;
    for (; left >= 2; left -= 2, output += 2 * channels) {
        conv_patch2(p, input, &q, bytes, rows);
        conv_gemv2(&gemv, rows, output, output + channels);
    }
    if (left > 0) {
        conv_patch(p, input, &q, bytes, rows, 4);
        conv_gemv(&gemv, rows, output);
    }
}
