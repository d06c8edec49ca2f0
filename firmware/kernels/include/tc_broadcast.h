/*
 * Walking an output tensor in memory order while following two broadcast
 * inputs: an odometer over TC_MAX_DIMS coordinates that keeps both inputs'
 * element offsets up to date (a stride of 0 repeats the input along that
 * dimension, as TFLM's NdArrayDescsForElementwiseBroadcast does).
 */
#ifndef TC_BROADCAST_H
#define TC_BROADCAST_H

#include "tc_kernels.h"

typedef struct {
    int32_t index[TC_MAX_DIMS];
    int32_t offset1, offset2;
} tc_broadcast_iter_t;

static inline int32_t tc_broadcast_size(const tc_broadcast_t *b)
{
    int32_t size = 1;
    for (int32_t d = 0; d < TC_MAX_DIMS; ++d) {
        size *= b->dims[d];
    }
    return size;
}

static inline void tc_broadcast_next(const tc_broadcast_t *b, tc_broadcast_iter_t *it)
{
    for (int32_t d = TC_MAX_DIMS - 1; d >= 0; --d) {
        it->offset1 += b->in1_strides[d];
        it->offset2 += b->in2_strides[d];
        if (++it->index[d] < b->dims[d]) {
            return;
        }
        it->offset1 -= b->in1_strides[d] * b->dims[d];
        it->offset2 -= b->in2_strides[d] * b->dims[d];
        it->index[d] = 0;
    }
}

#endif /* TC_BROADCAST_H */
