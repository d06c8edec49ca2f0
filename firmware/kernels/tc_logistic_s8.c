/* LOGISTIC, int8: TFLM's reference_integer_ops::Logistic (gemmlowp fixed point, Q4.27 input). */
#include "tc_sigmoid.h"

/* out = clamp(round(logistic(x) * 256) - 128), x = (in - zp) * scale in Q4.27; saturates beyond the radius. */
void tc_logistic_s8(const tc_sigmoid_params_t *p, const int8_t *input, int8_t *output)
{
    tc_sigmoid_family_s8(p, input, output, tc_fp_logistic, 31 - 8, -128);
}
