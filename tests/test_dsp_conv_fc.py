"""The DSP build's CONV_2D and FULLY_CONNECTED kernels (the *_wide variants) against TFLM, bit for bit, in QEMU.

Op-test cases (pipeline/optest/cases.py) chosen to cover what tc_conv2d_s8_wide and
tc_fully_connected_s8_wide branch on: 1x1 and KxK filters, strides 1 to 3, SAME and VALID,
dilation 2, input depths a multiple of 4 (the word-wide gather) and not (the value-by-value
gather), output channels not a multiple of 4 (the last partial block), per-channel and
per-tensor quantization, with and without bias, every fused activation; FULLY_CONNECTED with
batches, depths not a multiple of 4 and per-tensor weights. Each case goes through the
bring-your-own flow (its TFLM reference on random int8 inputs), is built with TC_KERNELS=dsp and
booted in QEMU. TC_DSP_OPTEST_FULL=1 (shared with tests/test_dsp_ops.py) runs the first
FULL_CASES cases of both ops instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pipeline.firmware_run import compare_outputs
from pipeline.optest.cases import OpCase, make_case
from pipeline.optest.firmware import CaseTooLargeForMcu, run_case_on_firmware, run_tflite_on_firmware
from pipeline.optest.patch import _find, load_model_t, save_model_t
from pipeline.optest.runner import CACHE, DEFAULT_SEED, _convert_missing
from tests.conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]

FULL = os.environ.get("TC_DSP_OPTEST_FULL") == "1"
FULL_CASES = 48
VECTORS = 4

# Indices into make_case(op, i, DEFAULT_SEED), with what each one covers.
CONV_SELECTION = {
    2: "3x3 stride 3 SAME, depth 7, one filter, per-tensor, RELU6",
    3: "5x1 dilation 2 SAME, depth 2, 17 filters, no bias",
    6: "1x1 SAME, depth 12 (word gather), 16 filters, bias",
    13: "5x5 stride 3 VALID, depth 16 (word gather), RELU",
    15: "3x1 stride 2 SAME, depth 5, 17 filters, RELU_N1_TO_1",
    16: "1x1 stride 3 VALID, depth 4, 7 filters, per-tensor",
    18: "1x1 stride 2 SAME, depth 8, 17 filters, per-channel",
    20: "3x3 dilation 2 SAME, depth 16 (word gather, tap by tap), 48x48",
}
FC_SELECTION = {
    0: "3 batches, depth 32, 33 units, per-tensor, RELU",
    1: "depth 32, 2 units, per-channel, RELU_N1_TO_1",
    3: "depth 8, 10 units, no bias",
    4: "depth 3 (no whole word), 2 units, per-channel",
}


def _batch_first(case: OpCase) -> bool:
    """The bring-your-own flow takes the first dimension as a batch of 1."""
    return case.spec["input_shape"][0] == 1


def _cases() -> list[OpCase]:
    if FULL:
        cases = [make_case(op, i, DEFAULT_SEED) for op in ("CONV_2D", "FULLY_CONNECTED") for i in range(FULL_CASES)]
        return [c for c in cases if _batch_first(c)]
    return [*(make_case("CONV_2D", i, DEFAULT_SEED) for i in CONV_SELECTION),
            *(make_case("FULLY_CONNECTED", i, DEFAULT_SEED) for i in FC_SELECTION)]


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_dsp_conv_fc_is_bit_exact_with_tflm(case: OpCase, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    lost = _convert_missing([case], 1)
    if not (CACHE / f"{case.key}.tflite").exists():
        pytest.fail(f"{case.case_id}: the converter made no model: {lost or (CACHE / f'{case.key}.error').read_text()}")
    try:
        run = run_case_on_firmware(case, tmp_path, VECTORS)
    except CaseTooLargeForMcu as too_large:  # only among the full run's cases: reported, never passed
        pytest.skip(str(too_large))
    codegen = (run.build.generated / "model.c").read_text()
    wide = "tc_conv2d_s8_wide" if case.op == "CONV_2D" else "tc_fully_connected_s8_wide"
    assert wide in codegen, f"{case.case_id}: the DSP build does not call {wide}"
    assert len(run.outputs) == len(run.expected), f"{case.case_id}: {len(run.outputs)} vectors run, {len(run.expected)}"
    exact = compare_outputs(run.outputs, run.expected)
    assert exact.first_mismatch is None, f"{case.case_id} {case.spec}: dsp against TFLM: {exact.message()}"


def _split_epilogue_model(data: bytes, op_name: str, top_multiplier: float) -> bytes:
    """The model with the op's output scale set so that its largest effective multiplier (input scale
    times filter scale over output scale) is ``top_multiplier`` (0.5 or more: a left shift, the split
    epilogue), and its filter values in {-1, 0, 1} and bias zero so that the outputs do not all
    saturate at such a scale."""
    model = load_model_t(data)
    op = _find(model, op_name)
    tensors = model.subgraphs[0].tensors
    input_scale = float(tensors[op.inputs[0]].quantization.scale[0])
    filter_scale = max(float(s) for s in tensors[op.inputs[1]].quantization.scale)
    tensors[op.outputs[0]].quantization.scale = [input_scale * filter_scale / top_multiplier]
    rng = np.random.default_rng(20261128)
    filter_buffer = model.buffers[tensors[op.inputs[1]].buffer]
    filter_buffer.data = rng.integers(-1, 2, len(filter_buffer.data)).astype(np.int8).view(np.uint8)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        bias_buffer = model.buffers[tensors[op.inputs[2]].buffer]
        bias_buffer.data = np.zeros(len(bias_buffer.data), np.uint8)
    return save_model_t(model)


# Generated cases all have right shifts of 1 to 22 (the x2 epilogue): none of the 400 CONV_2D and
# FULLY_CONNECTED cases has an effective multiplier of 0.5 or more. These two get one by an edit
# (_split_epilogue_model), so that the split epilogue (tc_requant_ch) runs on the firmware too.
SPLIT_CASES = [make_case("CONV_2D", 6, DEFAULT_SEED), make_case("FULLY_CONNECTED", 0, DEFAULT_SEED)]


@pytest.mark.parametrize("case", SPLIT_CASES, ids=[c.case_id for c in SPLIT_CASES])
def test_the_split_epilogue_is_bit_exact_with_tflm(case: OpCase, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    _convert_missing([case], 1)
    cached = CACHE / f"{case.key}.tflite"
    assert cached.exists(), f"{case.case_id}: the converter made no model"
    run = run_tflite_on_firmware(case, _split_epilogue_model(cached.read_bytes(), case.op, 0.75), tmp_path, VECTORS)
    codegen = (run.build.generated / "model.c").read_text()
    assert "_quant_wide" in codegen and "_epilogue_x2" not in codegen, f"{case.case_id}: not the split epilogue"
    unsaturated = int(((run.expected > -128) & (run.expected < 127)).sum())
    assert unsaturated >= run.expected.size // 4, f"{case.case_id}: only {unsaturated} outputs inside the int8 range"
    exact = compare_outputs(run.outputs, run.expected)
    assert exact.first_mismatch is None, f"{case.case_id} (edited): dsp against TFLM: {exact.message()}"
