"""The Renode-only boards, STM32H743 (Cortex-M7) and STM32G0 (Cortex-M0+), on a real Renode.

Per board: digits built for it boots with every vector bit-exact with TFLM and the overlay's
instruction-counting DWT, and a udf reports the faulting PC from the stacked frame (with CFSR on the M7;
Armv6-M has none). Like tests/test_renode_real.py
these need ``renode`` on PATH (the ``renode`` fixture: not run without it, failed under
TINYML_REQUIRE_RENODE=1). The link refusals need only the toolchain.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.boards import load_board
from pipeline.entry import model_build, run_until
from pipeline.errors import FirmwareFaultError, StageError
from pipeline.pipeline import ModelBuild
from pipeline.stages.build import FIRMWARE_DIR, BuildRequest, build_firmware
from pipeline.stages.cycles import function_address
from pipeline.stages.firmware_run import boot

renode = pytest.mark.usefixtures("renode")

# What `readelf -A` must say of each board's ELF: its flags reached every compile and the link.
ARCH = {
    "stm32h743": ("Tag_CPU_arch: v7E-M", "Tag_FP_arch: FPv5/FP-D16 for ARMv8"),
    "stm32g0": ("Tag_CPU_arch: v6S-M",),
}
# The fault line of the udf test firmware. Armv6-M has no UsageFault and no CFSR: silicon takes a
# HardFault; Renode 1.15.1's Cortex-M0 model takes exception 6 (recorded), which the start-up's reserved
# slots report as Unexpected, with the stacked PC all the same.
FAULT_LINE = {
    "stm32h743": r"FAULT UsageFault pc=0x{pc:08x} lr=0x[0-9a-f]{{8}} cfsr=0x[0-9a-f]{{8}}",
    "stm32g0": r"FAULT Unexpected pc=0x{pc:08x} lr=0x[0-9a-f]{{8}} exception=6",
}
# The RAM each part has (its datasheet), and an array too big for it: on the G0 one that Renode's
# 48 KB map would still hold, so only the linker script stands between it and an emulator-only image.
PART_RAM = {"stm32h743": 128 * 1024, "stm32g0": 36 * 1024}
TOO_BIG = {"stm32h743": 144 * 1024, "stm32g0": 40 * 1024}


@pytest.fixture(scope="module", params=sorted(ARCH))
def board_digits(request: pytest.FixtureRequest) -> ModelBuild:
    """digits built for one of the Renode-only boards (train, quantize and codegen are shared)."""
    build = model_build("digits", board=request.param)
    run_until(build, "build")
    return build


def _attributes(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-readelf", "-A", str(elf)], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.renode
@pytest.mark.toolchain
@pytest.mark.slow
@renode
def test_digits_boots_bit_exact_with_exact_counts(board_digits: ModelBuild, tmp_path: Path) -> None:
    board = board_digits.board
    attributes = _attributes(board_digits.elf)
    assert all(tag in attributes for tag in ARCH[board.name]), attributes
    emu = board_digits.cfg.emulator
    run = boot(board_digits.elf, tmp_path / "run", "renode", emu.wall_timeout_s, emu.emulated_timeout_s,
               board.name)
    assert run.counter_source == "dwt", "the overlay's instruction-counting DWT was not detected"
    assert run.calibration_errors == [0, 0, 0]
    expected = np.load(board_digits.reference)["tflm"].reshape(360, -1)
    assert run.outputs().shape == expected.shape
    assert (run.outputs() == expected).all(), f"{board.name}: outputs differ from TFLM"


@pytest.mark.renode
@pytest.mark.toolchain
@renode
def test_udf_reports_the_fault_with_its_pc(board_digits: ModelBuild, tmp_path: Path) -> None:
    board = board_digits.board
    elf = build_firmware(BuildRequest(board_digits.generated, tmp_path / "fw", fault_test=True,
                                      stack_bytes=int(board_digits.cfg.budgets["max_stack_bytes"]),
                                      board=board.name)).elf
    pc = function_address(elf, "fault_test_udf")
    with pytest.raises(FirmwareFaultError) as caught:
        boot(elf, tmp_path / "run", "renode", 120.0, 30.0, board.name)
    line = str(caught.value).removeprefix("firmware fault: ")
    assert re.fullmatch(FAULT_LINE[board.name].format(pc=pc), line), line


@pytest.mark.toolchain
@pytest.mark.parametrize("board", sorted(ARCH))
def test_an_array_larger_than_the_part_s_ram_fails_to_link_with_both_sizes(board: str, tmp_path: Path) -> None:
    model = tmp_path / "big_model"
    shutil.copytree(FIRMWARE_DIR / "tests" / "stub_model", model)
    (model / "big.c").write_text(f"#include <stdint.h>\nint8_t tc_big_buffer[{TOO_BIG[board]}];\n")
    source = (model / "model.c").read_text()
    invoke = "void tc_model_invoke(void)\n{\n"
    assert invoke in source
    (model / "model.c").write_text(source.replace(
        invoke, "extern int8_t tc_big_buffer[];\n" + invoke + "\ttc_big_buffer[0] = tc_arena[0];\n"))
    with pytest.raises(StageError, match=rf"{board}: \w+ overflow") as caught:
        build_firmware(BuildRequest(model, tmp_path / "b", board=board))
    message = str(caught.value)
    part = load_board(board).part
    assert f"the {part} has {PART_RAM[board]:,} B" in message, message  # what the part has ...
    needs = re.search(r"the image needs ([\d,]+) B", message)
    assert needs is not None and int(needs[1].replace(",", "")) > TOO_BIG[board], message  # ... what it needs
