*** Settings ***
Documentation       Boots the model's firmware in an emulator and checks it against TFLM's reference
...                 outputs and the budgets in the model's config.
...                 Run through the pipeline: invoke test-firmware --model NAME [--emulator qemu|renode]

Library             FirmwareLibrary    ${SUITE_JSON}    ${EMULATOR}

Suite Setup         Boot Firmware


*** Variables ***
${SUITE_JSON}       build/digits/suite.json
${EMULATOR}         ${EMPTY}


*** Test Cases ***
Firmware Should Report Every Vector
    Every Vector Should Be Reported

Outputs Should Equal The TFLM Reference Bit For Bit
    Outputs Should Equal The Reference

Printed Class Should Be The Argmax Of The Output
    Predicted Classes Should Be The Argmax

On-Target Accuracy Should Meet The Budget
    Target Accuracy Should Meet The Budget

Instruction Counter Should Be Exact On Known Loops
    Instruction Counter Should Be Calibrated    tolerance=10

Instructions Per Inference Should Be Within Budget
    Instructions Per Inference Should Be Within Budget

Sizes Should Be Within Budget
    [Template]    Size Should Be Within Budget
    model_bytes
    model_flash_bytes
    flash_bytes
    ram_bytes
    arena_bytes

Stack Use Should Be Within Budget
    Stack Use Should Be Within Budget
