/*
 * Cortex-M4 helpers shared by the DSP kernels of this directory: loads, SXTAB16 and the clamp
 * (the convolution kernels add tc_dsp.h's); the requantizations are tc_requant_dsp.h's.
 */
#ifndef TC_DSP_COMMON_H
#define TC_DSP_COMMON_H

#include <arm_acle.h>
#include <stdint.h>

#include "tc_kernels.h"
#include "tc_requant.h"
#include "tc_requant_dsp.h"

/*
 * For a function whose assembly takes all fourteen allocatable registers, r7 included: no frame
 * pointer whatever the build's flags (Thumb's frame pointer is r7; at -O0 or with
 * -fno-omit-frame-pointer gcc 12 refuses the operands, or loops, instead).
 */
#define TC_ALL_REGISTERS __attribute__((optimize("omit-frame-pointer")))

/* One 32-bit word (two int16 or four int8) from a possibly unaligned address. */
static inline int32_t tc_load_word(const void *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

/* SXTAB16 of bytes 1 and 3 of x (ROR #8 folded in: gcc 12 does not fold the rotate by itself). */
static inline int32_t tc_sxtab16_odd(int32_t acc, int32_t x)
{
    int32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* Two int16 in one word: lo in the bottom halfword, hi in the top. */
static inline int32_t tc_pack_i16x2(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

/*
 * The fused activation's clamp, by what the range allows: 2 the whole int8 range (one SSAT),
 * 1 an upper bound of 127 (SSAT and a max), 0 any.
 */
static inline int32_t tc_act_mode(tc_range_t act)
{
    return act.max == 127 ? (act.min == -128 ? 2 : 1) : 0;
}

static inline __attribute__((always_inline)) int32_t tc_clamp_act(int32_t v, tc_range_t act, int32_t mode)
{
    if (mode == 0) {
        return tc_clamp_i32(v, act.min, act.max);
    }
    v = __ssat(v, 8);
    return mode == 2 ? v : tc_max_i32(v, act.min);
}

#endif /* TC_DSP_COMMON_H */
