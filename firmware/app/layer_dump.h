/*
 * Per-layer dump (build option TC_LAYER_DUMP=<vector>): the generated
 * tc_model_invoke() calls tc_layer_dump() after each layer; while selected it
 * prints the layer's output tensor as one console line
 *
 *   LDUMP <layer> bytes=<n> hex=<2n lower-case hex digits, in memory order>
 *
 * parsed by pipeline/analyses/layer_diff.py. The firmware harness selects the
 * vector TC_LAYER_DUMP names; the host harness (firmware/host/host_main.c)
 * selects every vector it is given. Both print through uart.h.
 */
#ifndef APP_LAYER_DUMP_H
#define APP_LAYER_DUMP_H

#include <stdint.h>

void tc_layer_dump_select(uint32_t selected);
void tc_layer_dump(uint32_t layer, const void *data, uint32_t bytes);

#endif /* APP_LAYER_DUMP_H */
