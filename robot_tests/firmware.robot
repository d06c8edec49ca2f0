*** Settings ***
Documentation       Checks the model's firmware run in an emulator against TFLM's reference
...                 outputs and the budgets in the model's config. Each budgeted figure of the
...                 registry pipeline/figures.py that the firmware measures has its check here
...                 (tests/test_figures.py keeps the two in step). The run is the simulate
...                 stage's (reused while the ELF, the emulator, its version, its platform files
...                 and the bounds are unchanged; booted otherwise), read again for every run.
...                 Run through the pipeline: invoke test-firmware --model NAME [--emulator qemu|renode]

Library             FirmwareLibrary    ${SUITE_JSON}    ${EMULATOR}

Suite Setup         Firmware Run Should Be Available


*** Variables ***
${SUITE_JSON}       build/digits/suite.json
${EMULATOR}         ${EMPTY}


*** Test Cases ***
Firmware Should Report Every Vector
    [Documentation]    One VEC line per embedded input, and a SUMMARY line that agrees.
    Every Vector Should Be Reported

Outputs Should Equal The TFLM Reference Bit For Bit
    [Documentation]    The int8 output of every vector equals TFLM's host interpreter exactly.
    Outputs Should Equal The Reference

Printed Class Should Be The Argmax Of The Output
    [Documentation]    The class the firmware prints is the first maximum of its own output.
    Predicted Classes Should Be The Argmax

Instruction Counter Should Be Exact On Known Loops
    [Documentation]    Calibration loops of known length are counted within 10 instructions.
    Instruction Counter Should Be Calibrated    tolerance=10

On-Target Accuracy Should Meet The Budget
    [Documentation]    Accuracy of the firmware's classes on the held-out labels; skipped as not
    ...    applicable when the inputs have no labels.
    Figure Should Be Within Budget    target_accuracy

Instructions Per Inference Should Be Within Budget
    [Documentation]    The median instruction count of the inference function alone.
    Figure Should Be Within Budget    instructions_per_inference

Estimated Cycles Per Inference Should Be Within Budget
    [Documentation]    The cycle model's estimate for the inference function (always in QEMU, with its plugin).
    Figure Should Be Within Budget    estimated_cycles_per_inference

Sizes Should Be Within Budget
    [Documentation]    Each size figure against its budget key (pipeline/figures.py).
    [Template]    Figure Should Be Within Budget
    model_bytes
    model_flash_bytes
    flash_bytes
    ram_bytes
    arena_bytes

Stack Use Should Be Within Budget
    [Documentation]    Measured (stack painting) <= static (call graph) <= max_stack_bytes.
    Measured Stack Should Be Within The Static Bound
    Figure Should Be Within Budget    stack_bytes_static
    Figure Should Be Within Budget    stack_bytes_measured
