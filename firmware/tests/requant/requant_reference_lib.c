/*
 * tc_requant.h's reference form as a host shared library, for the one form that is not C: the
 * generator's numpy copy (pipeline/codegen/ops/elementwise.py _requantize, which tabulates the DSP
 * ADD's input rescaling at generation time). tests/test_requant_forms.py calls it through ctypes.
 */
#include <stdint.h>

#include "tc_requant.h"

void tc_test_requantize_n(const int32_t *acc, const int32_t *multiplier, const int32_t *shift, int32_t *out,
                          int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = tc_requantize(acc[i], multiplier[i], shift[i]);
    }
}
