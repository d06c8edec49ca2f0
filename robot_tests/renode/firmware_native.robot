*** Settings ***
Documentation       Boots a tinyml-ci firmware on Renode's STM32F4 with the project's overlay
...                 (renode/stm32f4_tinyml.repl) and checks it with Renode's own keywords.
...
...                 Run with Renode's renode-test (Renode 1.15.1, robotframework 6.1), e.g.
...                 renode-test -r results --variable ELF:/abs/tinyml_fw.elf
...                 --variable MAX_INSTRUCTIONS_PER_INFERENCE:1500000 robot_tests/renode/firmware_native.robot
...                 pipeline.emulators.renode_native.renode_test_command() builds this command from the
...                 model's config. Timeouts are in emulated seconds.
...
...                 Counting: the overlay's DWT returns the CPU's executed-instruction count, and the
...                 firmware prints counter=dwt only when its probe saw exactly one CYCCNT tick per
...                 instruction; any other counter (counter=systick: Renode's stock DWT, or none)
...                 fails the budget check, since its ticks are not instructions. A VEC line's ticks
...                 also include the instructions of the counter reads around the inference; the
...                 suite takes that overhead from the first CALIB line (a loop of known length)
...                 and checks the other two CALIB loops with it, as the pipeline's host code does.

Library             OperatingSystem


*** Variables ***
${ELF}                                  ${EMPTY}
${MAX_INSTRUCTIONS_PER_INFERENCE}       ${EMPTY}
${PLATFORM}                             ${CURDIR}/../../renode/stm32f4_tinyml.repl
${BOOT_TIMEOUT}                         5
${CALIBRATION_TOLERANCE}                10
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

Instruction Counter Should Be Exact On Known Loops
    [Documentation]    The DWT counter, and the CALIB loops counted within ${CALIBRATION_TOLERANCE} instructions.
    [Tags]    counter
    Boot Firmware
    Counter Should Be The Instruction-Counting DWT
    ${overhead}=    Counter Read Overhead
    FOR    ${loop}    IN RANGE    2
        ${calib}=    Wait For Line On Uart    ^CALIB instructions=(\\d+) ticks=(\\d+) wraps=0$
        ...    timeout=${RUN_TIMEOUT}    treatAsRegex=true
        ${error}=    Evaluate    int(${calib.groups}[1]) - ${overhead} - int(${calib.groups}[0])
        Should Be True    abs(${error}) <= ${CALIBRATION_TOLERANCE}
        ...    msg=calibration loop ${loop + 2}, ${calib.line}: counted ${error} instructions off (overhead ${overhead})
    END

Every Inference Is Within The Instruction Budget
    [Documentation]    Per-vector instructions (DWT ticks less the counter reads) against the model's budget.
    [Tags]    budget
    Should Not Be Empty    ${MAX_INSTRUCTIONS_PER_INFERENCE}
    ...    msg=pass the budget with --variable MAX_INSTRUCTIONS_PER_INFERENCE:<n>
    Boot Firmware
    ${vectors}=    Counter Should Be The Instruction-Counting DWT
    ${overhead}=    Counter Read Overhead
    FOR    ${index}    IN RANGE    ${vectors}
        Vector Should Be Within Budget    ${index}    ${overhead}
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

Counter Should Be The Instruction-Counting DWT
    [Documentation]    Waits for BOOT; fails unless it names the DWT. Returns the number of vectors.
    ${boot}=    Wait For Line On Uart    ^BOOT .*vectors=(\\d+) counter=(\\w+)    timeout=${BOOT_TIMEOUT}
    ...    treatAsRegex=true
    ${why}=    Set Variable    not the overlay's instruction-counting DWT: its ticks are not instructions
    Should Be Equal    ${boot.groups}[1]    dwt    msg=counter=${boot.groups}[1], ${why} (${boot.line})
    ${vectors}=    Convert To Integer    ${boot.groups}[0]
    Should Be True    ${vectors} > 0    msg=the firmware announced no test vectors
    RETURN    ${vectors}

Counter Read Overhead
    [Documentation]    Ticks minus instructions of the first CALIB loop: the counter reads' own instructions.
    ${calib}=    Wait For Line On Uart    ^CALIB instructions=(\\d+) ticks=(\\d+) wraps=0$
    ...    timeout=${RUN_TIMEOUT}    treatAsRegex=true
    ${overhead}=    Evaluate    int(${calib.groups}[1]) - int(${calib.groups}[0])
    Should Be True    0 <= ${overhead} <= 100    msg=implausible counter-read overhead ${overhead}: ${calib.line}
    RETURN    ${overhead}

Vector Should Be Within Budget
    [Documentation]    Waits for the VEC line of vector ${index}; a FAULT line fails at once.
    [Arguments]    ${index}    ${overhead}
    ${vec}=    Wait For Line On Uart    ^(VEC ${index} .*ticks=(\\d+) wraps=(\\d+).*|FAULT .*)$
    ...    timeout=${RUN_TIMEOUT}    treatAsRegex=true
    Should Start With    ${vec.line}    VEC    msg=the firmware faulted: ${vec.line}
    # A DWT wrap would take 2^32 instructions (43 s at 100 MIPS); the firmware only
    # counts wraps of SysTick, so on the DWT the tick count is complete as printed.
    Should Be Equal As Integers    ${vec.groups}[2]    0    msg=counter wrapped: ${vec.line}
    ${instructions}=    Evaluate    int(${vec.groups}[1]) - ${overhead}
    ${counted}=    Set Variable    DWT ticks ${vec.groups}[1] less ${overhead} for the counter reads
    Should Be True    ${instructions} <= ${MAX_INSTRUCTIONS_PER_INFERENCE}
    ...    msg=vector ${index}: ${instructions} instructions > budget ${MAX_INSTRUCTIONS_PER_INFERENCE} (${counted})
