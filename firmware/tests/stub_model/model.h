/*
 * Hand-written stand-in for the generated model (same API as the codegen's
 * model.h), so the firmware and its tests build before the codegen exists.
 *
 * output[i] = clamp(input[i] + i, -128, 127) for i < TC_MODEL_OUTPUT_SIZE.
 */
#ifndef TC_MODEL_H
#define TC_MODEL_H

#include <stdint.h>

#define TC_MODEL_NAME "stub"
#define TC_MODEL_INPUT_SIZE 16 /* int8 elements */
#define TC_MODEL_OUTPUT_SIZE 10

int8_t *tc_model_input(void);
const int8_t *tc_model_output(void);
void tc_model_invoke(void);

#endif /* TC_MODEL_H */
