/* Stub test vectors: same API as the codegen's test_vectors.h. */
#ifndef TC_TEST_VECTORS_H
#define TC_TEST_VECTORS_H

#include <stdint.h>

#include "model.h"

#define TC_TEST_VECTOR_COUNT 4

extern const int8_t tc_test_inputs[TC_TEST_VECTOR_COUNT][TC_MODEL_INPUT_SIZE];

#endif /* TC_TEST_VECTORS_H */
