/*
 * The body of tc_gemv_s16.c's product for one filter form, included once per form with
 * TC_GEMV_PACKED (0: int16 filter, tc_gemv_s16; 1: packed int8 pairs, tc_gemv_s8p) and TC_GEMV_FN
 * (the name suffix) defined; the row passes and block loops are tc_gemv_s16.c's macros.
 */

/* int16 elements of one block of 4 channels per 8 row values; the packed x2 stream's constants per block. */
#if TC_GEMV_PACKED
#define TC_GEMV_BLOCK_ELEMS 16
#define TC_GEMV_STREAM_ELEMS 32 /* 4 starting accumulators and 4 tc_requant_x2_t, as int16 */
#else
#define TC_GEMV_BLOCK_ELEMS 32
#define TC_GEMV_STREAM_ELEMS 0
#endif

/*
 * a0..a3 += the row times the next four filters (the packed form: the pair sums decoded, doubled
 * when `doubled`, for the x2 epilogue); *w moves past them.
 */
static inline __attribute__((always_inline)) void TC_GEMV_FN(tc_gemv_block4)(const int16_t *x, const int16_t **w,
                                                                             int32_t blocks, int32_t *acc0,
                                                                             int32_t *acc1, int32_t *acc2,
                                                                             int32_t *acc3, int32_t doubled)
{
    TC_GEMV_REGISTERS;
    const int16_t *const x_end = x + blocks * 8;
    a0 = *acc0;
    a1 = *acc1;
    a2 = *acc2;
    a3 = *acc3;
    xp = x;
    wp = *w;
#if TC_GEMV_PACKED
    if (doubled) {
        TC_GEMV_BLOCK4(TC_GEMV_PACKED_ROW_PASS(TC_GEMV_DECODE_X2));
    } else {
        TC_GEMV_BLOCK4(TC_GEMV_PACKED_ROW_PASS(TC_GEMV_DECODE_SPLIT));
    }
#else
    (void)doubled;
    TC_GEMV_BLOCK4(TC_GEMV_ROW_PASS);
#endif
    *w = wp;
    *acc0 = a0;
    *acc1 = a1;
    *acc2 = a2;
    *acc3 = a3;
}

TC_ALL_REGISTERS static void TC_GEMV_FN(tc_gemv_split)(const tc_gemv_params_t *p, const int16_t *x,
                                                       const int16_t *w, int8_t *out)
{
    const int32_t channels = p->channels;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->act.min;
    const int32_t act_max = p->act.max;
    const int32_t *bias = p->bias;
    const int32_t *q = (const int32_t *)(const void *)p->quant;

    for (int32_t c = 0; c < channels; c += 4) {
        int32_t a[4];
        tc_ldrd_w_ia(&bias, &a[0], &a[1]);
        tc_ldrd_w_ia(&bias, &a[2], &a[3]);
        TC_GEMV_FN(tc_gemv_block4)(x, &w, p->blocks, &a[0], &a[1], &a[2], &a[3], 0);
        /* The last block may be partial: channels % 4 of its results are real. */
        const int32_t n = tc_min_i32(4, channels - c);
        for (int32_t k = 0; k < n; ++k) {
            *out++ = tc_requant_ch(a[k], &q, output_offset, act_min, act_max);
        }
    }
}

/* Whole blocks of 4 channels, the x2 epilogue and the full int8 range, all in assembly. */
TC_ALL_REGISTERS static void TC_GEMV_FN(tc_gemv_x2_sat)(const tc_gemv_params_t *p, const int16_t *x,
                                                        const int16_t *w, int8_t *out, int32_t whole_blocks)
{
    struct {
        const int16_t *x, *x_end;
        const tc_gemv_x2_block_t *blk;
        int8_t *out, *out_end;
    } f = {x, x + p->blocks * 8, p->x2, out, out + 4 * whole_blocks};
    TC_GEMV_REGISTERS;
    wp = w;
#if TC_GEMV_PACKED
    TC_GEMV_X2_SAT_STREAM;
#else
    TC_GEMV_X2_SAT_BLOCKS(TC_GEMV_ROW_PASS);
#endif
}

/* The x2 epilogue in C: blocks [first, last) of channels, the last one possibly partial. */
static inline __attribute__((always_inline)) void TC_GEMV_FN(tc_gemv_x2)(const tc_gemv_params_t *p,
                                                                        const int16_t *x, const int16_t *w,
                                                                        int8_t *out, int32_t first, int32_t mode)
{
    const tc_range_t act = p->act;
    w += first * (TC_GEMV_BLOCK_ELEMS * p->blocks + TC_GEMV_STREAM_ELEMS);
    out += first * 4;
    for (int32_t c = first * 4; c < p->channels; c += 4) {
#if TC_GEMV_PACKED
        /* The stream: the block's starting accumulators, its filter, its four tc_requant_x2_t. */
        const int32_t *bias = (const int32_t *)(const void *)w;
        w += 8;
#else
        const tc_gemv_x2_block_t *blk = &p->x2[c >> 2];
        const int32_t *bias = blk->bias;
#endif
        int32_t a[4] = {bias[0], bias[1], bias[2], bias[3]};
        TC_GEMV_FN(tc_gemv_block4)(x, &w, p->blocks, &a[0], &a[1], &a[2], &a[3], 1);
#if TC_GEMV_PACKED
        const tc_requant_x2_t *quant = (const tc_requant_x2_t *)(const void *)w;
        w += 24;
#else
        const tc_requant_x2_t *quant = blk->quant;
#endif
        const int32_t n = tc_min_i32(4, p->channels - c);
        for (int32_t k = 0; k < n; ++k) {
            *out++ = (int8_t)tc_clamp_act(tc_requantize_x2(a[k], &quant[k]), act, mode);
        }
    }
}

TC_ALL_REGISTERS void TC_GEMV_FN(tc_gemv)(const tc_gemv_params_t *p, const int16_t *x, const int16_t *w, int8_t *out)
{
    if (p->x2 == NULL) {
        TC_GEMV_FN(tc_gemv_split)(p, x, w, out);
        return;
    }
    switch (tc_act_mode(p->act)) {
    case 2: {
        const int32_t whole_blocks = p->channels >> 2;
        if (whole_blocks > 0) {
            TC_GEMV_FN(tc_gemv_x2_sat)(p, x, w, out, whole_blocks);
        }
        TC_GEMV_FN(tc_gemv_x2)(p, x, w, out, whole_blocks, 2); /* the partial block, if any */
        break;
    }
    case 1:
        TC_GEMV_FN(tc_gemv_x2)(p, x, w, out, 0, 1);
        break;
    default:
        TC_GEMV_FN(tc_gemv_x2)(p, x, w, out, 0, 0);
        break;
    }
}

#undef TC_GEMV_BLOCK_ELEMS
#undef TC_GEMV_STREAM_ELEMS
