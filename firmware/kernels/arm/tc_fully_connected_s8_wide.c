/*
 * FULLY_CONNECTED, int8, Cortex-M4 DSP build: the variants the generator emits with int16 or packed
 * int8 filters (pipeline/codegen/ops/fully_connected.py). The reference is ../tc_fully_connected_s8.c.
 * Each batch row is widened once into the int16 scratch row (value + input offset, zero-padded to
 * p->gemv.blocks * 8), then the product: tc_gemv_s16 with the filter offset already added to int16
 * filters, or tc_gemv_s8p with two channels' int8 weights packed in each int16 (filter offset 0).
 */
#include <stdint.h>

#include "tc_dsp.h"

/*
 * tc_widen_s8x4's result for n int8 (n a multiple of 16, src 4-aligned), 16 at a time: one LDM of
 * four words, then per two words four SXTAB16 and one STM of four: 27 cycles per 16 values where
 * the word loop takes 52. Every FULLY_CONNECTED row is widened once per inference.
 */
static inline __attribute__((always_inline)) int16_t *fc_widen_s8x16(const int8_t *src, int32_t n, int32_t offset2,
                                                                     int16_t *dst)
{
    if (n <= 0) {
        return dst;
    }
    register const int8_t *s __asm("r0") = src;
    register int16_t *d __asm("r1") = dst;
    register int32_t off __asm("r2") = offset2;
    register const int8_t *end __asm("r3") = src + n;
    register int32_t v0 __asm("r4");
    register int32_t v1 __asm("r5");
    register int32_t v2 __asm("r6");
    register int32_t v3 __asm("r7");
    register int32_t d0 __asm("r8");
    register int32_t d1 __asm("r9");
    register int32_t d2 __asm("r10");
    register int32_t d3 __asm("r11");
    __asm volatile("1:\n\t"
                   "ldm %[s]!, {%[v0], %[v1], %[v2], %[v3]}\n\t"
                   "sxtab16 %[d0], %[off], %[v0]\n\t"
                   "sxtab16 %[d1], %[off], %[v0], ror #8\n\t"
                   "sxtab16 %[d2], %[off], %[v1]\n\t"
                   "sxtab16 %[d3], %[off], %[v1], ror #8\n\t"
                   "stm %[d]!, {%[d0], %[d1], %[d2], %[d3]}\n\t"
                   "sxtab16 %[d0], %[off], %[v2]\n\t"
                   "sxtab16 %[d1], %[off], %[v2], ror #8\n\t"
                   "sxtab16 %[d2], %[off], %[v3]\n\t"
                   "sxtab16 %[d3], %[off], %[v3], ror #8\n\t"
                   "stm %[d]!, {%[d0], %[d1], %[d2], %[d3]}\n\t"
                   "cmp %[s], %[end]\n\t"
                   "bne 1b"
                   : [s] "+r"(s), [d] "+r"(d), [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [v3] "=&r"(v3),
                     [d0] "=&r"(d0), [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3)
                   : [off] "r"(off), [end] "r"(end)
                   : "cc", "memory");
    return d;
}

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
        const int32_t offset2 = tc_dual_offset(p->input_offset);
        const int32_t fast = ((uintptr_t)in & 3u) == 0 ? depth & ~15 : 0;
        int16_t *d = fc_widen_s8x16(in, fast, offset2, scratch);
        d = tc_widen_s8x4(in + fast, words - fast, offset2, d, 4);
        tc_zero_s16(d, end);
        /* The last depth % 4 values: slots 0, 2, 1 of their group (SXTB16 order). */
        static const uint8_t slot[3] = {0, 2, 1};
        for (int32_t k = words; k < depth; ++k) {
            d[slot[k - words]] = (int16_t)(in[k] + p->input_offset);
        }
        gemv(&p->gemv, scratch, filter, &output[b * p->gemv.channels]);
    }
}

/* TC_ALL_REGISTERS: fc_widen_s8x16 names r7, the frame pointer without optimization. */
TC_ALL_REGISTERS void tc_fully_connected_s8_wide(const tc_fc_wide_params_t *p, const int8_t *input,
                                                 const int16_t *filter, int8_t *scratch, int8_t *output)
{
    fc_rows(p, input, filter, scratch, output, tc_gemv_s16);
}

TC_ALL_REGISTERS void tc_fully_connected_s8_packed(const tc_fc_wide_params_t *p, const int8_t *input,
                                                   const int16_t *filter, int8_t *scratch, int8_t *output)
{
    fc_rows(p, input, filter, scratch, output, tc_gemv_s8p);
}
