/* Stub model: see model.h. */
#include "model.h"

/* Like the generated code: input and output live in one arena. */
static int8_t tc_arena[TC_MODEL_INPUT_SIZE + TC_MODEL_OUTPUT_SIZE];

#if defined(STUB_MODEL_HANG_AT) || defined(STUB_MODEL_JUMP_AT)
/* Test only: the invoke numbered STUB_MODEL_HANG_AT never returns, so the
 * firmware never prints DONE (the host's timeout path); the one numbered
 * STUB_MODEL_JUMP_AT calls an address with no memory behind it (a HardFault on
 * silicon and in QEMU, a CPU abort in Renode). */
static uint32_t tc_stub_calls;
#endif

#if defined(STUB_MODEL_JUMP_AT)
/* 0x30000000: between SRAM and the peripherals, nothing mapped on the F4. */
#define STUB_MODEL_NO_MEMORY 0x30000001u
#endif

int8_t *tc_model_input(void)
{
	return &tc_arena[0];
}

const int8_t *tc_model_output(void)
{
	return &tc_arena[TC_MODEL_INPUT_SIZE];
}

void tc_model_invoke(void)
{
	const int8_t *in = tc_model_input();
	int8_t *out = &tc_arena[TC_MODEL_INPUT_SIZE];

#if defined(STUB_MODEL_HANG_AT)
	if (tc_stub_calls++ == (uint32_t)(STUB_MODEL_HANG_AT)) {
		for (;;) {
			__asm volatile("" ::: "memory");
		}
	}
#endif
#if defined(STUB_MODEL_JUMP_AT)
	if (tc_stub_calls++ == (uint32_t)(STUB_MODEL_JUMP_AT)) {
		((void (*)(void))STUB_MODEL_NO_MEMORY)();
	}
#endif
	for (int32_t i = 0; i < TC_MODEL_OUTPUT_SIZE; i++) {
		int32_t v = (int32_t)in[i] + i;
		out[i] = (int8_t)(v > 127 ? 127 : v);
	}
}
