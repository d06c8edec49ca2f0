/*
 * Every fast requantization form of firmware/kernels/arm/tc_requant_dsp.h against the reference
 * form, tc_requant.h's tc_requantize (TFLM's MultiplyByQuantizedMultiplier), over edge cases and
 * a seeded random sweep, each case within the domain the form states (docs/numeric-contract.md).
 *
 * Built for the Cortex-M4 (CMakeLists.txt here, booted in QEMU by tests/test_requant_forms.py) it
 * runs every form, the assembly ones included; built for the host with gcc it runs the portable
 * forms (split; x2 with SMMULR's C model). Output, one line per form, then DONE:
 *   requant <form>: PASS <cases> cases
 *   requant <form>: FAIL <failures> of <cases> cases, first acc=.. m=.. shift=.. zp=.. act_min=.. want=.. got=..
 * The mutant_* forms are deliberately wrong (a rounding slip each); the edge cases must catch
 * them (FAIL), which shows that the cases reach negative ties and the values just below a tie.
 */
#include <stddef.h>
#include <stdint.h>

#include "tc_requant.h"
#include "tc_requant_dsp.h"

#if defined(__ARM_FEATURE_DSP)
#include "uart.h"
#define TC_TEST_ON_M4 1
#else
#include <stdio.h>
static void uart_init(void) {}
static void uart_puts(const char *s) { fputs(s, stdout); }
static void uart_put_i32(int32_t v) { printf("%ld", (long)v); }
static void uart_put_u32(uint32_t v) { printf("%lu", (unsigned long)v); }
#define TC_TEST_ON_M4 0
#endif

#define SHIFT_MIN (-31) /* QuantizeMultiplier gives 0, 0 below (pipeline/codegen/quant.py) */
#define SHIFT_MAX 30    /* TFLM's DCHECK(shift <= 30) in MultiplyByQuantizedMultiplier */
#define ACT_MAX 127
#define RANDOM_CASES 60000u
#define RANDOM_SEED 20261203u

typedef struct {
    int32_t acc, multiplier, shift, zp, act_min;
} rq_case_t;

typedef struct {
    const char *name;
    int (*in_domain)(const rq_case_t *c);
    int32_t (*want)(const rq_case_t *c);
    int32_t (*got)(const rq_case_t *c);
    uint32_t cases, failures;
    rq_case_t first;
    int32_t first_want, first_got;
} rq_form_t;

/* ---- what each form must return: the reference, plus its epilogue where the form has one ---- */

static int32_t reference(const rq_case_t *c) { return tc_requantize(c->acc, c->multiplier, c->shift); }

/* The output offset is an int32 addition in TFLM too: it wraps, as the kernels' ADD does. */
static int32_t reference_zp(const rq_case_t *c) { return (int32_t)((uint32_t)reference(c) + (uint32_t)c->zp); }

/*
 * The reference itself, on values worked out by hand from gemmlowp's definitions (high half: the
 * product plus 2^30, or 1 - 2^30 when negative, divided by 2^31 truncating; then RoundingDivideByPOT
 * rounding half away from zero): both signs of both roundings, the one saturating product, the
 * int32 ends and a left shift that wraps.
 */
typedef struct {
    rq_case_t c;
    int32_t want;
} rq_known_t;

static const rq_known_t known[] = {
    {{5, 1 << 30, 0, 0, -128}, 3},                      /* 2.5: high (6 * 2^30) / 2^31 = 3 */
    {{-5, 1 << 30, 0, 0, -128}, -2},                    /* -2.5: high trunc(-2.99..) = -2 */
    {{2, 1 << 30, -1, 0, -128}, 1},                     /* 0.5: high 1 (1.5 truncated), 1 / 2 -> 1 */
    {{-2, 1 << 30, -1, 0, -128}, -1},                   /* -0.5: high -1 (-1.49..), -1 / 2 -> -1 */
    {{3, 1 << 30, -1, 0, -128}, 1},                     /* 0.75: high 2, 2 / 2 = 1 */
    {{-3, 1 << 30, -1, 0, -128}, -1},                   /* -0.75: high -1, -1 / 2 -> -1 */
    {{6, 1 << 30, -2, 0, -128}, 1},                     /* 0.75: high 3 (3.5 truncated), 3 / 4 -> 1 */
    {{1, 1 << 30, 1, 0, -128}, 1},                      /* x = 2, high 1 */
    {{INT32_MIN, INT32_MIN, 0, 0, -128}, INT32_MAX},    /* the saturating product */
    {{INT32_MAX, INT32_MAX, 0, 0, -128}, INT32_MAX - 1}, /* 2^31 - 2 + (2^30 + 1) / 2^31, truncated */
    {{1 << 30, INT32_MAX, 1, 0, -128}, INT32_MIN + 1},  /* x wraps to INT32_MIN; -2^31 + 1 - 0.49.. */
    {{-(1 << 30), 1 << 30, -31, 0, -128}, 0},           /* -2^29 / 2^31 = -0.25 -> 0 */
};

static rq_form_t reference_form = {"reference", NULL, NULL, reference, 0, 0, {0}, 0, 0};

static void check_reference(void)
{
    for (int32_t i = 0; i < (int32_t)(sizeof(known) / sizeof(known[0])); ++i) {
        const int32_t got = reference(&known[i].c);
        ++reference_form.cases;
        if (got != known[i].want && reference_form.failures++ == 0) {
            reference_form.first = known[i].c;
            reference_form.first_want = known[i].want;
            reference_form.first_got = got;
        }
    }
}

/* ---- domains (tc_requant_dsp.h) ---- */

static int any_shift(const rq_case_t *c) { return c->shift >= SHIFT_MIN && c->shift <= SHIFT_MAX; }

static int split_domain(const rq_case_t *c) { return c->multiplier >= 0 && any_shift(c); }

static int x2_domain(const rq_case_t *c)
{
    return c->multiplier >= 0 && tc_requant_x2_ok(c->shift) && c->acc > -(1 << 30) && c->acc < (1 << 30);
}

/* ---- the forms ---- */

static int32_t split_got(const rq_case_t *c)
{
    const tc_requant_split_t q = tc_requant_split(c->multiplier, c->shift);
    return tc_requantize_split(c->acc, &q);
}

static int32_t x2_got(const rq_case_t *c)
{
    const tc_requant_x2_t q = tc_requant_x2(c->multiplier, c->shift, c->zp);
    return tc_requantize_x2(2 * c->acc, &q);
}

/* Rounds ties half up (no [h < 0] term): wrong for negative ties. */
static int32_t mutant_x2_no_sign_got(const rq_case_t *c)
{
    const tc_requant_x2_t q = tc_requant_x2(c->multiplier, c->shift, c->zp);
    return (tc_smmulr(2 * c->acc, q.multiplier) + q.round_zp) >> q.right;
}

/* Rounds up from one below the tie (>= for >): wrong just below every positive tie. */
static int32_t mutant_split_ge_got(const rq_case_t *c)
{
    const tc_requant_split_t q = tc_requant_split(c->multiplier, c->shift);
    const int32_t high = (int32_t)(((int64_t)(int32_t)((uint32_t)c->acc << q.left) * q.multiplier + (1ll << 30)) >> 31);
    const int32_t threshold = q.threshold + (int32_t)((uint32_t)high >> 31);
    return (high >> q.right) + ((high & q.mask) >= threshold && q.right > 0 ? 1 : 0);
}

#if TC_TEST_ON_M4
static int32_t reference_clamped(const rq_case_t *c) { return tc_clamp_i32(reference_zp(c), c->act_min, ACT_MAX); }

static int32_t reference_saturated(const rq_case_t *c) { return tc_clamp_i32(reference_zp(c), -128, 127); }

static int ch_domain(const rq_case_t *c) { return c->multiplier >= (1 << 30) && any_shift(c); }

/* tc_requant_ch_t as pipeline/codegen/ops/conv.py (wide_gemv) lays it out. */
static int32_t ch_got(const rq_case_t *c)
{
    const int32_t right = c->shift > 0 ? 0 : -c->shift;
    const int32_t mask = (int32_t)((1ll << right) - 1);
    const int32_t quant[5] = {(int32_t)(2u * (uint32_t)c->multiplier), c->shift > 0 ? c->shift : 0, right, mask,
                              (mask >> 1) + 1};
    const int32_t *q = quant;
    return tc_requant_ch(c->acc, &q, c->zp, c->act_min, ACT_MAX);
}

/* TC_GEMV_X2_SAT's text in an asm block with tc_gemv_s16.c's operand names (LDM wants r4 < r5 < r6). */
static int32_t x2_sat_got(const rq_case_t *c)
{
    const tc_requant_x2_t quant = tc_requant_x2(c->multiplier, c->shift, c->zp);
    int8_t out[4] = {0};
    register int32_t a0 __asm("r0") = 2 * c->acc;
    register int32_t x0 __asm("r4");
    register int32_t x1 __asm("r5");
    register int32_t x2 __asm("r6");
    register const tc_requant_x2_t *w0 __asm("r8") = &quant;
    register int8_t *w1 __asm("r9") = out;
    __asm volatile(TC_GEMV_X2_SAT("a0")
                   : [a0] "+r"(a0), [w0] "+r"(w0), [w1] "+r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2)
                   : "m"(quant)
                   : "memory");
    return out[0];
}

/* TC_X2_MLA's text in an asm block (round_zp's register is its scratch, as in the groups kernel). */
static int32_t x2_mla_got(const rq_case_t *c)
{
    const tc_requant_x2_t q = tc_requant_x2(c->multiplier, c->shift, c->zp);
    int32_t a = 2 * c->acc, rz = q.round_zp;
    __asm(TC_X2_MLA("a", "m", "rz", "rz", "sh") : [a] "+r"(a), [rz] "+r"(rz) : [m] "r"(q.multiplier), [sh] "r"(q.right));
    return a;
}
#endif

static rq_form_t forms[] = {
    {"split", split_domain, reference, split_got, 0, 0, {0}, 0, 0},
    {"x2", x2_domain, reference_zp, x2_got, 0, 0, {0}, 0, 0},
#if TC_TEST_ON_M4
    {"ch", ch_domain, reference_clamped, ch_got, 0, 0, {0}, 0, 0},
    {"x2_sat", x2_domain, reference_saturated, x2_sat_got, 0, 0, {0}, 0, 0},
    {"x2_mla", x2_domain, reference_zp, x2_mla_got, 0, 0, {0}, 0, 0},
#endif
    {"mutant_x2_no_sign", x2_domain, reference_zp, mutant_x2_no_sign_got, 0, 0, {0}, 0, 0},
    {"mutant_split_ge", split_domain, reference, mutant_split_ge_got, 0, 0, {0}, 0, 0},
};
#define FORM_COUNT ((int32_t)(sizeof(forms) / sizeof(forms[0])))

static void check(const rq_case_t *c)
{
    for (int32_t i = 0; i < FORM_COUNT; ++i) {
        rq_form_t *f = &forms[i];
        if (!f->in_domain(c)) {
            continue;
        }
        const int32_t want = f->want(c);
        const int32_t got = f->got(c);
        ++f->cases;
        if (want != got && f->failures++ == 0) {
            f->first = *c;
            f->first_want = want;
            f->first_got = got;
        }
    }
}

/* ---- the cases ---- */

static const int32_t edge_accs[] = {
    INT32_MIN, INT32_MIN + 1, -(1 << 30), -(1 << 30) + 1, -(1 << 29) - 1, -65537, -7, -6, -5, -3, -2, -1,
    0, 1, 2, 3, 5, 6, 7, 65537, (1 << 29) + 1, (1 << 30) - 1, 1 << 30, INT32_MAX - 1, INT32_MAX,
};
/* 0 and 1, the smallest (2^30) and largest multipliers QuantizeMultiplier emits, their neighbours,
 * and 3 * 2^29, whose products with acc = 2 mod 4 are ties of the high multiply. */
static const int32_t edge_multipliers[] = {
    0, 1, 2, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, 3 << 29, INT32_MAX - 1, INT32_MAX,
};
static const int32_t edge_zps[] = {-128, -1, 0, 1, 127};
static const int32_t edge_act_mins[] = {-128, 0};

#define COUNT(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

static void edge_grid(void)
{
    for (int32_t ai = 0; ai < COUNT(edge_accs); ++ai) {
        for (int32_t mi = 0; mi < COUNT(edge_multipliers); ++mi) {
            for (int32_t shift = SHIFT_MIN; shift <= SHIFT_MAX; ++shift) {
                for (int32_t zi = 0; zi < COUNT(edge_zps); ++zi) {
                    for (int32_t ki = 0; ki < COUNT(edge_act_mins); ++ki) {
                        const rq_case_t c = {edge_accs[ai], edge_multipliers[mi], shift, edge_zps[zi],
                                             edge_act_mins[ki]};
                        check(&c);
                    }
                }
            }
        }
    }
}

/*
 * Accumulators whose high half h = floor((acc m + 2^30) / 2^31) sits on a tie of h / 2^e (the
 * rounding division) or one either side of it, both signs, up to the int32 ends; random
 * accumulators rarely land there once e is large.
 */
static void rounding_ties(void)
{
    for (int32_t mi = 0; mi < COUNT(edge_multipliers); ++mi) {
        const int64_t m = edge_multipliers[mi];
        if (m == 0) {
            continue;
        }
        for (int32_t e = 1; e <= -SHIFT_MIN; ++e) {
            for (int64_t k = -3; k <= 2; ++k) {
                for (int64_t d = -1; d <= 1; ++d) {
                    const int64_t h = k * (1ll << e) + (1ll << (e - 1)) + d;
                    if (h < INT32_MIN || h > INT32_MAX) {
                        continue;
                    }
                    /* floor division: the smallest acc with floor((acc m + 2^30) / 2^31) >= h, and one below */
                    const int64_t num = h * (1ll << 31) - (1ll << 30);
                    const int64_t lo = num >= 0 ? (num + m - 1) / m : -((-num) / m);
                    for (int64_t acc = lo - 1; acc <= lo; ++acc) {
                        if (acc < INT32_MIN || acc > INT32_MAX) {
                            continue;
                        }
                        for (int32_t zi = 0; zi < COUNT(edge_zps); zi += 2) {
                            const rq_case_t c = {(int32_t)acc, (int32_t)m, -e, edge_zps[zi], -128};
                            check(&c);
                        }
                    }
                }
            }
        }
    }
}

static uint32_t rng_state = RANDOM_SEED;

static uint32_t next_random(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void random_sweep(void)
{
    for (uint32_t i = 0; i < RANDOM_CASES; ++i) {
        const uint32_t r = next_random();
        /* Accumulators of every magnitude: full int32, below 2^30 (x2's domain), below 2^16. */
        const uint32_t raw = next_random();
        const int32_t acc = (r & 3) == 0 ? (int32_t)raw
                            : (r & 3) == 1 ? (int32_t)raw >> 2
                                           : (int32_t)raw >> 16;
        /* Mostly QuantizeMultiplier's [2^30, 2^31), sometimes any non-negative multiplier. */
        const uint32_t mr = next_random();
        const int32_t multiplier = (r & 4) ? (int32_t)((mr >> 2) | (1u << 30)) : (int32_t)(mr >> 1);
        const int32_t shift = SHIFT_MIN + (int32_t)((r >> 3) % (uint32_t)(SHIFT_MAX - SHIFT_MIN + 1));
        const int32_t zp = (int32_t)((r >> 10) & 0xFF) - 128;
        const int32_t act_min = -(int32_t)((r >> 18) & 0x7F) - 1 + ((r >> 25) & 1 ? 1 : 0);
        const rq_case_t c = {acc, multiplier, shift, zp, act_min};
        check(&c);
    }
}

static void report(const rq_form_t *f)
{
    uart_puts("requant ");
    uart_puts(f->name);
    if (f->failures == 0) {
        uart_puts(": PASS ");
        uart_put_u32(f->cases);
        uart_puts(" cases\n");
        return;
    }
    uart_puts(": FAIL ");
    uart_put_u32(f->failures);
    uart_puts(" of ");
    uart_put_u32(f->cases);
    uart_puts(" cases, first acc=");
    uart_put_i32(f->first.acc);
    uart_puts(" m=");
    uart_put_i32(f->first.multiplier);
    uart_puts(" shift=");
    uart_put_i32(f->first.shift);
    uart_puts(" zp=");
    uart_put_i32(f->first.zp);
    uart_puts(" act_min=");
    uart_put_i32(f->first.act_min);
    uart_puts(" want=");
    uart_put_i32(f->first_want);
    uart_puts(" got=");
    uart_put_i32(f->first_got);
    uart_puts("\n");
}

int main(void)
{
    uart_init();
    uart_puts(TC_TEST_ON_M4 ? "requant equivalence on the Cortex-M4\n" : "requant equivalence on the host\n");
    check_reference();
    report(&reference_form);
    edge_grid();
    rounding_ties();
    random_sweep();
    for (int32_t i = 0; i < FORM_COUNT; ++i) {
        report(&forms[i]);
    }
    uart_puts("DONE\n");
    return 0;
}
