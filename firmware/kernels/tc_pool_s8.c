/* AVERAGE_POOL_2D and MAX_POOL_2D, int8; input and output share scale and zero point. */
#include "tc_kernels.h"
#include "tc_requant.h"

/* The window of output (oy, ox), clipped to the input: [y0, y1) x [x0, x1) in filter coordinates. */
typedef struct {
    int32_t in_y0, in_x0, y0, y1, x0, x1;
} tc_window_t;

static inline tc_window_t tc_pool_window(const tc_pool_params_t *p, int32_t oy, int32_t ox)
{
    tc_window_t win;
    win.in_y0 = oy * p->stride_h - p->pad_h;
    win.in_x0 = ox * p->stride_w - p->pad_w;
    win.y0 = tc_max_i32(0, -win.in_y0);
    win.y1 = tc_min_i32(p->filter_h, p->input.h - win.in_y0);
    win.x0 = tc_max_i32(0, -win.in_x0);
    win.x1 = tc_min_i32(p->filter_w, p->input.w - win.in_x0);
    return win;
}

static inline const int8_t *tc_pool_at(const tc_pool_params_t *p, const int8_t *input, int32_t b,
                                       int32_t y, int32_t x)
{
    return &input[((b * p->input.h + y) * p->input.w + x) * p->input.c];
}

void tc_avg_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const tc_window_t win = tc_pool_window(p, oy, ox);
                const int32_t count = (win.y1 - win.y0) * (win.x1 - win.x0);
                for (int32_t c = 0; c < p->output.c; ++c) {
                    int32_t acc = 0;
                    for (int32_t fy = win.y0; fy < win.y1; ++fy) {
                        for (int32_t fx = win.x0; fx < win.x1; ++fx) {
                            acc += tc_pool_at(p, input, b, win.in_y0 + fy, win.in_x0 + fx)[c];
                        }
                    }
                    /* Round half away from zero, as TFLM's reference AveragePool. */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c + c] =
                        (int8_t)tc_clamp_i32(acc, p->act.min, p->act.max);
                }
            }
        }
    }
}

void tc_max_pool_s8(const tc_pool_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const tc_window_t win = tc_pool_window(p, oy, ox);
                for (int32_t c = 0; c < p->output.c; ++c) {
                    int32_t max = INT8_MIN;
                    for (int32_t fy = win.y0; fy < win.y1; ++fy) {
                        for (int32_t fx = win.x0; fx < win.x1; ++fx) {
                            max = tc_max_i32(max, tc_pool_at(p, input, b, win.in_y0 + fy, win.in_x0 + fx)[c]);
                        }
                    }
                    output[((b * p->output.h + oy) * p->output.w + ox) * p->output.c + c] =
                        (int8_t)tc_clamp_i32(max, p->act.min, p->act.max);
                }
            }
        }
    }
}
