/*
 * AVERAGE_POOL_2D, int8: Cortex-M4 DSP version of tc_avg_pool_s8 (../tc_pool_s8.c).
 * Four channels per word: SXTAB16 adds bytes 0 and 2 (and, rotated, 1 and 3) of
 * the input word to two int16 lanes each, one instruction per two values. The
 * lanes cannot overflow: the generator uses this kernel for windows of at most
 * 255 values (255 * 128 < 2^15). The division and clamp are the reference's.
 */
#include "tc_dsp_common.h"

static inline int8_t tc_avg_out(int32_t sum, int32_t count, tc_range_t act)
{
    /* Round half away from zero, as TFLM's reference AveragePool. */
    const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return (int8_t)tc_clamp_i32(avg, act.min, act.max);
}

void tc_avg_pool_s8_simd(const tc_pool_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->input.c;
    const int32_t row_bytes = p->input.w * depth;

    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_b = &input[b * p->input.h * row_bytes];
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t y0 = tc_max_i32(0, -in_y0), y1 = tc_min_i32(p->filter_h, p->input.h - in_y0);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t x0 = tc_max_i32(0, -in_x0), x1 = tc_min_i32(p->filter_w, p->input.w - in_x0);
                const int32_t count = (y1 - y0) * (x1 - x0);
                const int8_t *window = &in_b[(in_y0 + y0) * row_bytes + (in_x0 + x0) * depth];
                int8_t *out = &output[((b * p->output.h + oy) * p->output.w + ox) * depth];
                int32_t c = 0;
                for (; c + 4 <= depth; c += 4) {
                    int32_t even = 0, odd = 0; /* lanes: channels c, c+2 and c+1, c+3 */
                    for (int32_t y = y0; y < y1; ++y) {
                        const int8_t *px = &window[(y - y0) * row_bytes + c];
                        for (int32_t x = x1 - x0; x > 0; --x) {
                            const int32_t v = tc_load_word(px);
                            even = __sxtab16(even, v);
                            odd = tc_sxtab16_odd(odd, v);
                            px += depth;
                        }
                    }
                    out[c] = tc_avg_out((int16_t)even, count, p->act);
                    out[c + 1] = tc_avg_out((int16_t)odd, count, p->act);
                    out[c + 2] = tc_avg_out(even >> 16, count, p->act);
                    out[c + 3] = tc_avg_out(odd >> 16, count, p->act);
                }
                for (; c < depth; ++c) {
                    int32_t sum = 0;
                    for (int32_t y = y0; y < y1; ++y) {
                        for (int32_t x = x0; x < x1; ++x) {
                            sum += window[(y - y0) * row_bytes + (x - x0) * depth + c];
                        }
                    }
                    out[c] = tc_avg_out(sum, count, p->act);
                }
            }
        }
    }
}
