/*
 * Host harness: runs the generated model on the build machine, for bit-exact
 * tests against the reference interpreter without an emulator.
 * Usage: host_model <inputs.bin> <outputs.bin>; records of TC_MODEL_INPUT_SIZE
 * int8 values in, TC_MODEL_OUTPUT_SIZE int8 values out.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

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
    int8_t record[TC_MODEL_INPUT_SIZE];
    while (fread(record, 1, sizeof record, in) == sizeof record) {
        memcpy(tc_model_input(), record, sizeof record);
        tc_model_invoke();
        fwrite(tc_model_output(), 1, TC_MODEL_OUTPUT_SIZE, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
