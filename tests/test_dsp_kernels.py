"""The Cortex-M4 DSP kernels (firmware/kernels/arm/) are bit-exact with the portable ones, in QEMU.

Each model's firmware is built twice, TC_KERNELS=dsp and TC_KERNELS=portable, both are
booted in QEMU, and every vector's output must be the same in both and equal to TFLM's
reference. The MLPerf Tiny models come from ``tests/fixtures/mlperf-tiny/`` relative to the
repository root (read-only in CI): a missing file fails, it is never skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.entry import model_build, run_until
from pipeline.pipeline import ModelBuild
from pipeline.stages.build import BuildRequest, build_firmware
from pipeline.stages.firmware_run import FirmwareRun, boot, compare_outputs
from tests.conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]

from tests.conftest import MLPERF_DIR  # noqa: E402

MLPERF_MODELS = ("ad01_int8", "kws_ref_model", "vww_96_int8", "pretrainedResnet_quant")


def _boot(b: ModelBuild, kernels: str, tmp: Path) -> FirmwareRun:
    stack = int(b.cfg.budgets.get("max_stack_bytes", 8192))
    fw = build_firmware(BuildRequest(b.generated, tmp / f"fw-{kernels}", stack_bytes=stack, kernels=kernels),
                        on_line=lambda _line: None)
    return boot(fw.elf, tmp / f"qemu-{kernels}", "qemu", b.cfg.emulator.wall_timeout_s,
                b.cfg.emulator.emulated_timeout_s)


def _check_bit_exact(b: ModelBuild, tmp: Path) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    dsp = _boot(b, "dsp", tmp)
    portable = _boot(b, "portable", tmp)
    expected = np.load(b.reference)["tflm"]
    expected = expected.reshape(len(expected), -1)

    same = compare_outputs(dsp.outputs(), portable.outputs())
    assert same.first_mismatch is None, f"{b.name}: dsp against portable: {same.message()}"
    assert len(dsp.outputs()) == len(expected), f"{b.name}: {len(dsp.outputs())} vectors run, {len(expected)} expected"
    exact = compare_outputs(dsp.outputs(), expected)
    assert exact.first_mismatch is None, f"{b.name}: dsp against TFLM: {exact.message()}"


def test_digits_dsp_kernels_are_bit_exact(digits: ModelBuild, tmp_path: Path) -> None:
    _check_bit_exact(digits, tmp_path)


@pytest.mark.parametrize("name", MLPERF_MODELS)
def test_mlperf_dsp_kernels_are_bit_exact(name: str, tmp_path: Path) -> None:
    tflite = MLPERF_DIR / f"{name}.tflite"
    if not tflite.is_file():
        pytest.fail(f"{tflite} is missing: the MLPerf Tiny models are expected at ../shared/mlperf-tiny/ "
                    "in tests/fixtures/mlperf-tiny/")
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    b = model_build(tflite=tflite)
    run_until(b, "codegen")
    _check_bit_exact(b, tmp_path)
