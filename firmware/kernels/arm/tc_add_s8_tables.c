/*
 * ADD, int8, two inputs of the output's shape: Cortex-M4 DSP version of
 * ../tc_add_s8.c. Each input's shift-and-rescale depends on its int8 value
 * only, so the generator tabulates it, doubled (256 int32 per input, exact,
 * |sum| < 2^30 checked there); what is left per element is two table loads,
 * the sum's requantization (four instructions, tc_requantize_x2, when the
 * output shift allows, else tc_requantize_split of the halved sum) and the
 * clamp (one SSAT for RELU-free int8 ranges).
 */
#include "tc_dsp_common.h"

static inline __attribute__((always_inline)) int32_t tc_add_one(int32_t sum2, const tc_requant_x2_t *x2,
                                                                const tc_requant_split_t *split, int32_t offset,
                                                                tc_range_t act, int32_t fast, int32_t mode)
{
    const int32_t v = fast ? tc_requantize_x2(sum2, x2) : tc_requantize_split(sum2 >> 1, split) + offset;
    return tc_clamp_act(v, act, mode);
}

static inline __attribute__((always_inline)) void tc_add_tables_loop(const tc_add_tables_params_t *p,
                                                                    const uint8_t *in1, const uint8_t *in2,
                                                                    int8_t *out, int32_t fast, int32_t mode)
{
    const int32_t *t1 = p->table1;
    const int32_t *t2 = p->table2;
    const tc_requant_split_t split = tc_requant_split(p->output_multiplier, p->output_shift);
    const tc_requant_x2_t x2 = tc_requant_x2(p->output_multiplier, fast ? p->output_shift : -1, p->output_offset);
    const int32_t offset = p->output_offset;
    const tc_range_t act = p->act;

    int32_t i = p->size;
    for (; i >= 2; i -= 2) {
        const int32_t s0 = t1[in1[0]] + t2[in2[0]];
        const int32_t s1 = t1[in1[1]] + t2[in2[1]];
        in1 += 2;
        in2 += 2;
        out[0] = (int8_t)tc_add_one(s0, &x2, &split, offset, act, fast, mode);
        out[1] = (int8_t)tc_add_one(s1, &x2, &split, offset, act, fast, mode);
        out += 2;
    }
    if (i) {
        *out = (int8_t)tc_add_one(t1[*in1] + t2[*in2], &x2, &split, offset, act, fast, mode);
    }
}

void tc_add_s8_tables(const tc_add_tables_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const uint8_t *in1 = (const uint8_t *)input1;
    const uint8_t *in2 = (const uint8_t *)input2;
    const int32_t mode = tc_act_mode(p->act);
    if (!tc_requant_x2_ok(p->output_shift)) {
        tc_add_tables_loop(p, in1, in2, output, 0, 0);
    } else if (mode == 2) {
        tc_add_tables_loop(p, in1, in2, output, 1, 2);
    } else if (mode == 1) {
        tc_add_tables_loop(p, in1, in2, output, 1, 1);
    } else {
        tc_add_tables_loop(p, in1, in2, output, 1, 0);
    }
}
