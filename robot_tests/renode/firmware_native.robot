*** Settings ***
Documentation       Boots a tinyml-ci firmware on Renode's STM32F4 with the project's overlay
...                 (renode/stm32f4_tinyml.repl) and checks it with Renode's own keywords.
...
...                 Run with Renode's renode-test (Renode 1.15.1, robotframework 6.1), e.g.
...                 renode-test -r results --variable ELF:/abs/tinyml_fw.elf
...                 --variable MAX_INSTRUCTIONS_PER_INFERENCE:1500000 robot_tests/renode/firmware_native.robot
...                 pipeline.renode_native.renode_test_command() builds this command from the
...                 model's config. Timeouts are in emulated seconds.
...
...                 Counting: the overlay's DWT runs at PerformanceInMips x 10^6 Hz, so a CYCCNT
...                 tick is one executed instruction. The ticks a VEC line reports also include
...                 the few instructions that read the counter, so ticks >= instructions of the
...                 inference: comparing raw ticks with the instruction budget is conservative
...                 (it can fail a model a few instructions under budget, never pass one over it).

Library             OperatingSystem


*** Variables ***
${ELF}                                  ${EMPTY}
${MAX_INSTRUCTIONS_PER_INFERENCE}       ${EMPTY}
${PLATFORM}                             ${CURDIR}/../../renode/stm32f4_tinyml.repl
${BOOT_TIMEOUT}                         5
${RUN_TIMEOUT}                          120


*** Test Cases ***
Firmware Boots, Runs Every Vector And Ends With DONE
    [Documentation]    BOOT on the DWT counter, then SUMMARY and DONE with no FAULT line.
    Boot Firmware
    ${boot}=    Wait For Line On Uart    BOOT    timeout=${BOOT_TIMEOUT}
    Should Contain    ${boot.line}    counter=dwt
    ...    msg=the firmware did not detect the overlay's DWT: ${boot.line}
    ${summary}=    Wait For Line On Uart    ^(SUMMARY|FAULT) .*$    timeout=${RUN_TIMEOUT}    treatAsRegex=true
    Should Start With    ${summary.line}    SUMMARY    msg=the firmware faulted: ${summary.line}
    ${end}=    Wait For Line On Uart    ^(DONE|FAULT .*)$    timeout=${RUN_TIMEOUT}    treatAsRegex=true
    Should Be Equal    ${end.line}    DONE    msg=the firmware faulted: ${end.line}

Every Inference Is Within The Instruction Budget
    [Documentation]    Per-vector DWT ticks (>= executed instructions) against the model's budget.
    Should Not Be Empty    ${MAX_INSTRUCTIONS_PER_INFERENCE}
    ...    msg=pass the budget with --variable MAX_INSTRUCTIONS_PER_INFERENCE:<n>
    Boot Firmware
    ${boot}=    Wait For Line On Uart    ^BOOT .*vectors=(\\d+)    timeout=${BOOT_TIMEOUT}    treatAsRegex=true
    ${vectors}=    Convert To Integer    ${boot.groups}[0]
    Should Be True    ${vectors} > 0    msg=the firmware announced no test vectors
    FOR    ${index}    IN RANGE    ${vectors}
        Vector Should Be Within Budget    ${index}
    END


*** Keywords ***
Boot Firmware
    [Documentation]    Creates the machine from the overlay, loads ${ELF} and starts it.
    Should Not Be Empty    ${ELF}    msg=pass the firmware with --variable ELF:<absolute path>
    ${platform}=    Normalize Path    ${PLATFORM}
    Execute Command    mach create "tinyml"
    Execute Command    machine LoadPlatformDescription @${platform}
    Execute Command    sysbus LoadELF @${ELF}
    Create Terminal Tester    sysbus.usart2
    Start Emulation

Vector Should Be Within Budget
    [Documentation]    Waits for the VEC line of vector ${index}; a FAULT line fails at once.
    [Arguments]    ${index}
    ${vec}=    Wait For Line On Uart    ^(VEC ${index} .*ticks=(\\d+) wraps=(\\d+).*|FAULT .*)$
    ...    timeout=${RUN_TIMEOUT}    treatAsRegex=true
    Should Start With    ${vec.line}    VEC    msg=the firmware faulted: ${vec.line}
    # A DWT wrap would take 2^32 instructions (43 s at 100 MIPS); the firmware only
    # counts wraps of SysTick, so on the DWT the tick count is complete as printed.
    Should Be Equal As Integers    ${vec.groups}[2]    0    msg=counter wrapped: ${vec.line}
    ${ticks}=    Convert To Integer    ${vec.groups}[1]
    Should Be True    ${ticks} <= ${MAX_INSTRUCTIONS_PER_INFERENCE}
    ...    msg=vector ${index}: ${ticks} DWT ticks > budget ${MAX_INSTRUCTIONS_PER_INFERENCE} instructions
