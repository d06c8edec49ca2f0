/*
 * FULLY_CONNECTED, int8, Cortex-M4 DSP build: the variants the generator emits with int16 or packed
 * int8 filters (pipeline/codegen/ops/fully_connected.py). The reference is ../tc_fully_connected_s8.c.
 * Each batch row is widened once into the int16 scratch row (value + input offset, zero-padded to
 * p->gemv.blocks * 8), then the product: tc_gemv_s16 with the filter offset already added to int16
 * filters, or tc_gemv_s8p with two channels' int8 weights packed in each int16 (filter offset 0).
 */
#include "tc_dsp.h"

typedef void tc_gemv_fn(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out);

static inline __attribute__((always_inline)) void fc_rows(const tc_fc_wide_params_t *p, const int8_t *input,
                                                          const int16_t *filter, int8_t *scratch_bytes,
                                                          int8_t *output, tc_gemv_fn *gemv)
{
    int16_t *const scratch = (int16_t *)(void *)scratch_bytes; /* 8-aligned in the arena */
    const int32_t depth = p->input_depth;
    const int32_t words = depth & ~3;
    int16_t *const end = scratch + p->gemv.blocks * 8;

    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = &input[b * depth];
        int16_t *d = tc_widen_s8x4(in, words, tc_dual_offset(p->input_offset), scratch);
        tc_zero_s16(d, end);
        /* The last depth % 4 values: slots 0, 2, 1 of their group (SXTB16 order). */
        static const uint8_t slot[3] = {0, 2, 1};
        for (int32_t k = words; k < depth; ++k) {
            d[slot[k - words]] = (int16_t)(in[k] + p->input_offset);
        }
        gemv(&p->gemv, scratch, filter, &output[b * p->gemv.channels]);
    }
}

void tc_fully_connected_s8_wide(const tc_fc_wide_params_t *p, const int8_t *input, const int16_t *filter,
                                int8_t *scratch, int8_t *output)
{
    fc_rows(p, input, filter, scratch, output, tc_gemv_s16);
}

void tc_fully_connected_s8_packed(const tc_fc_wide_params_t *p, const int8_t *input, const int16_t *filter,
                                  int8_t *scratch, int8_t *output)
{
    fc_rows(p, input, filter, scratch, output, tc_gemv_s8p);
}
