/*
 * Host harness: runs the generated model on the build machine, for bit-exact
 * tests against the reference interpreter without an emulator.
 * Usage: host_model <inputs.bin> <outputs.bin>; records of TC_MODEL_INPUT_SIZE
 * TC_MODEL_INPUT_TYPE values in (int8, or float32 for a model that starts with
 * QUANTIZE), TC_MODEL_OUTPUT_SIZE TC_MODEL_OUTPUT_TYPE values out. Built with
 * TC_LAYER_DUMP (and app/layer_dump.c, uart_stdio.c) it also prints every
 * layer's output on stdout.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#if defined(TC_LAYER_DUMP)
#include "layer_dump.h"
#endif

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s inputs.bin outputs.bin\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    if (!in || !out) {
        perror("host_model");
        return 2;
    }
#if defined(TC_LAYER_DUMP)
    tc_layer_dump_select(1u); /* LDUMP lines on stdout for every record */
#endif
    static TC_MODEL_INPUT_TYPE record[TC_MODEL_INPUT_SIZE];
    static TC_MODEL_OUTPUT_TYPE result[TC_MODEL_OUTPUT_SIZE];
    while (fread(record, 1, sizeof record, in) == sizeof record) {
        memcpy(tc_model_input(), record, sizeof record);
        tc_model_invoke();
        memcpy(result, tc_model_output(), sizeof result);
        fwrite(result, 1, sizeof result, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
