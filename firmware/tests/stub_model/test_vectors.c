/* Stub test vectors; tests/test_qemu.py holds the same numbers. */
#include "test_vectors.h"

const int8_t tc_test_inputs[TC_TEST_VECTOR_COUNT][TC_MODEL_INPUT_SIZE] = {
	/* rising: class 9 */
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	/* all outputs 5: a tie, class 0 like numpy.argmax */
	{5, 4, 3, 2, 1, 0, -1, -2, -3, -4, 0, 0, 0, 0, 0, 0},
	/* negatives, a peak at 3 */
	{-128, -100, -50, 90, -1, -7, -128, 0, 1, 2, 0, 0, 0, 0, 0, 0},
	/* saturation: 127 + 9 clamps to 127, ties with out[0] = 127: class 0 */
	{127, -128, 100, 50, 0, 0, 0, 0, 0, 118, 0, 0, 0, 0, 0, 0},
};
