"""The DSP build's CONV_2D and FULLY_CONNECTED kernels against TFLM, bit for bit, in QEMU: the *_wide
variants and the general tc_conv2d_s8_dsp / tc_fully_connected_s8_dsp the generator takes where the wide
ones refuse a layer (grouped convolution, a zero multiplier).

Op-test cases (pipeline/optest/cases.py) chosen to cover what tc_conv2d_s8_wide and
tc_fully_connected_s8_wide / _packed branch on: 1x1 and KxK filters, strides 1 to 3, SAME and VALID,
dilation 2, input depths a multiple of 4 (the word-wide gather) and not (the value-by-value
gather), output channels not a multiple of 4 (the last partial block), per-channel and
per-tensor quantization, with and without bias, every fused activation; FULLY_CONNECTED with
batches, depths not a multiple of 4 and per-tensor weights, and the packed int8 filter (depths 32 to 100,
odd unit counts, the SSAT and C epilogues, both quantizations); grouped CONV_2D (1x1 and 3x3) and a
channel whose multiplier is 0 (CONV_2D, FULLY_CONNECTED). Each test checks the DSP build calls the
kernel the case is meant for (codegen.json). Each case goes through the
bring-your-own flow (its TFLM reference on random int8 inputs), is built with TC_KERNELS=dsp and
booted in QEMU. TC_DSP_OPTEST_FULL=1 (shared with tests/test_dsp_ops.py) runs the first
FULL_CASES cases of both ops instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pipeline.optest.cases import OpCase, make_case
from pipeline.optest.firmware import CaseTooLargeForMcu, run_case_on_firmware, run_tflite_on_firmware
from pipeline.optest.patch import _find, load_model_t, save_model_t
from pipeline.optest.runner import CACHE, DEFAULT_SEED, _convert_missing
from pipeline.stages.firmware_run import compare_outputs
from tests.conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]

FULL = os.environ.get("TC_DSP_OPTEST_FULL") == "1"
FULL_CASES = 48
VECTORS = 4

SEARCHED = 300  # cases of each op searched for a feature


def _wide(s: dict) -> bool:
    """A case the wide kernels take: one group, no zero multiplier."""
    return s.get("groups", 1) == 1 and s["weights"] == "random"


def _depth(s: dict) -> int:
    return s["input_shape"][-1]


def _positions(s: dict) -> int:
    """Output positions (height x width) of a CONV_2D case: tc_conv2d_s8_wide takes them in pairs
    (tc_gemv2_s16), an odd last one alone (tc_gemv_s16)."""
    out = 1
    for size, k in zip(s["input_shape"][1:3], s["kernel_hw"], strict=True):
        span = size if s["padding"] == "SAME" else size - (k - 1) * s["dilation"]
        out *= -(-span // s["stride"])
    return out


def _odd(s: dict) -> bool:
    return _positions(s) % 2 == 1 and _positions(s) > 1


# What the DSP build's CONV_2D and FULLY_CONNECTED kernels branch on -> (kernel, a predicate on the spec).
# The first case of each is tested; tc_*_dsp are the general kernels the generator takes where the
# wide ones refuse a layer (grouped convolution, a zero multiplier: pipeline/codegen/kernels.py).
CONV_FEATURES = {
    "1x1, depth a multiple of 4 (word gather)": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel"] == 1
                                                 and _depth(s) % 4 == 0),
    "stride 3 SAME, per-tensor": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["stride"] == 3
                                  and s["padding"] == "SAME" and s["quant"] == "per_tensor"),
    "5x1 dilation 2, no bias": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel_hw"] == [5, 1]
                                and s["dilation"] == 2 and not s["bias"]),
    "5x5 stride 3 VALID, depth a multiple of 4": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel"] == 5
                                                  and s["stride"] == 3 and s["padding"] == "VALID"
                                                  and _depth(s) % 4 == 0),
    "stride 2, depth not a multiple of 4, 17 filters": ("tc_conv2d_s8_wide", lambda s: _wide(s)
                                                        and s["stride"] == 2 and _depth(s) % 4 != 0
                                                        and s["filters"] == 17),
    "RELU_N1_TO_1": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["act"] == "RELU_N1_TO_1"),
    "RELU6, per-channel": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["act"] == "RELU6"
                           and s["quant"] == "per_channel"),
    "3x3 dilation 2 SAME, depth 16, large": ("tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel_hw"] == [3, 3]
                                             and s["dilation"] == 2 and s["size"] == "large" and _depth(s) == 16),
    # Output positions in pairs, across rows (tc_gemv2_s16), and an odd last one (tc_gemv_s16); activations
    # NONE (the x2 epilogue's assembly block loop), RELU (SSAT and a max) and RELU6 (any range).
    "1x1, odd positions, depth a multiple of 4, no activation": ("tc_conv2d_s8_wide", lambda s: _wide(s)
                                                                 and s["kernel"] == 1 and _odd(s)
                                                                 and _depth(s) % 4 == 0 and s["act"] == "NONE"),
    "1x1 stride 2, even positions, depth and filters not multiples of 4": (
        "tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel"] == 1 and s["stride"] == 2
        and _positions(s) % 2 == 0 and _depth(s) % 4 != 0 and s["filters"] % 4 != 0),
    "3x3 SAME, odd positions, depth a multiple of 4": ("tc_conv2d_s8_wide", lambda s: _wide(s)
                                                        and s["kernel_hw"] == [3, 3] and s["padding"] == "SAME"
                                                        and _odd(s) and _depth(s) % 4 == 0),
    "3x3 stride 2 VALID, odd positions, depth and filters not multiples of 4, RELU": (
        "tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel_hw"] == [3, 3] and s["padding"] == "VALID"
        and s["stride"] == 2 and _odd(s) and _depth(s) % 4 != 0 and s["filters"] % 4 != 0 and s["act"] == "RELU"),
    "3x3 stride 2 SAME, even positions, depth a multiple of 4, no activation": (
        "tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel_hw"] == [3, 3] and s["padding"] == "SAME"
        and s["stride"] == 2 and _positions(s) % 2 == 0 and _depth(s) % 4 == 0 and s["act"] == "NONE"),
    "3x3 dilation 2, even positions, depth and filters not multiples of 4, no activation": (
        "tc_conv2d_s8_wide", lambda s: _wide(s) and s["kernel_hw"] == [3, 3] and s["dilation"] == 2
        and _positions(s) % 2 == 0 and _depth(s) % 4 != 0 and s["filters"] % 4 != 0 and s["act"] == "NONE"),
    "grouped 1x1": ("tc_conv2d_s8_dsp", lambda s: s["groups"] == 2 and s["kernel"] == 1),
    "grouped 3x3, stride 2": ("tc_conv2d_s8_dsp", lambda s: s["groups"] == 2 and s["kernel_hw"] == [3, 3]
                              and s["stride"] == 2),
    "a zero multiplier, 1x1 (the one-group fast path)": ("tc_conv2d_s8_dsp", lambda s: s["groups"] == 1
                                                         and s["weights"] == "zero_channel"
                                                         and s["quant"] == "per_channel" and s["kernel"] == 1
                                                         and s["stride"] == 1 and s["padding"] == "SAME"),
    "a zero multiplier, 3x3": ("tc_conv2d_s8_dsp", lambda s: s["groups"] == 1 and s["weights"] == "zero_channel"
                               and s["quant"] == "per_channel" and s["kernel"] == 3),
}
def _packed(s: dict) -> bool:
    """A wide case whose row tc_fully_connected_s8_packed takes (ops/conv.py packed_fits: padded to 32
    values at most a quarter longer than to 8; the generated weights keep within its bounds)."""
    return _wide(s) and 4 * -(-_depth(s) // 32) * 32 <= 5 * -(-_depth(s) // 8) * 8


FC_FEATURES = {
    "3 batches, per-tensor": ("tc_fully_connected_s8_wide", lambda s: _wide(s) and not _packed(s)
                              and s["batches"] == 3 and s["quant"] == "per_tensor"),
    "per-channel, RELU_N1_TO_1": ("tc_fully_connected_s8_wide", lambda s: _wide(s) and not _packed(s)
                                  and s["quant"] == "per_channel" and s["act"] == "RELU_N1_TO_1"),
    "no bias": ("tc_fully_connected_s8_wide", lambda s: _wide(s) and not _packed(s) and not s["bias"]),
    "depth 3 (no whole word)": ("tc_fully_connected_s8_wide", lambda s: _wide(s) and _depth(s) == 3),
    # The packed int8 filter (two channels per int16): rows padded to 32, channel pairs and blocks of 4.
    "packed, depth 100 (not a multiple of 8), 33 units, per-channel": (
        "tc_fully_connected_s8_packed", lambda s: _packed(s) and _depth(s) == 100 and s["units"] == 33
        and s["quant"] == "per_channel"),
    "packed, 1 unit (an odd channel alone), bias, no activation": (
        "tc_fully_connected_s8_packed", lambda s: _packed(s) and s["units"] == 1 and s["bias"]
        and s["act"] == "NONE"),
    "packed, 3 batches, per-channel, bias": ("tc_fully_connected_s8_packed", lambda s: _packed(s)
                                             and s["batches"] == 3 and s["quant"] == "per_channel"
                                             and s["bias"]),
    "packed, per-tensor, RELU, 33 units": ("tc_fully_connected_s8_packed", lambda s: _packed(s)
                                           and s["quant"] == "per_tensor" and s["act"] == "RELU"
                                           and s["units"] == 33),
    "packed, RELU_N1_TO_1 (the C epilogue)": ("tc_fully_connected_s8_packed", lambda s: _packed(s)
                                              and s["act"] == "RELU_N1_TO_1" and s["units"] % 4 != 0),
    "packed, RELU6, depth 32, 5 units": ("tc_fully_connected_s8_packed", lambda s: _packed(s)
                                        and s["act"] == "RELU6" and _depth(s) == 32 and s["units"] == 5),
    "a zero multiplier": ("tc_fully_connected_s8_dsp", lambda s: s["weights"] == "zero_channel"
                          and s["quant"] == "per_channel"),
}


def _batch_first(case: OpCase) -> bool:
    """The bring-your-own flow takes the first dimension as a batch of 1."""
    return case.spec["input_shape"][0] == 1


def _first(op: str, matches: Callable[[dict], bool], feature: str) -> OpCase:
    found = next((c for c in (make_case(op, i, DEFAULT_SEED) for i in range(SEARCHED))
                  if _batch_first(c) and matches(c.spec)), None)
    assert found is not None, f"no {op} case with {feature} among the first {SEARCHED}"
    return found


def _cases() -> list[tuple[OpCase, str]]:
    """(case, the kernel the DSP build must call for it)."""
    if FULL:
        cases = [make_case(op, i, DEFAULT_SEED) for op in ("CONV_2D", "FULLY_CONNECTED") for i in range(FULL_CASES)]
        return [(c, "") for c in cases if _batch_first(c)]
    chosen: dict[str, tuple[OpCase, str]] = {}
    for op, features in (("CONV_2D", CONV_FEATURES), ("FULLY_CONNECTED", FC_FEATURES)):
        for feature, (kernel, matches) in features.items():
            case = _first(op, matches, feature)
            chosen.setdefault(case.case_id, (case, kernel))
    return list(chosen.values())


CASES = _cases()


@pytest.mark.parametrize(("case", "kernel"), CASES, ids=[c.case_id for c, _ in CASES])
def test_dsp_conv_fc_is_bit_exact_with_tflm(case: OpCase, kernel: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    lost = _convert_missing([case], 1)
    if not (CACHE / f"{case.key}.tflite").exists():
        pytest.fail(f"{case.case_id}: the converter made no model: {lost or (CACHE / f'{case.key}.error').read_text()}")
    try:
        run = run_case_on_firmware(case, tmp_path, VECTORS)
    except CaseTooLargeForMcu as too_large:  # only among the full run's cases: reported, never passed
        pytest.skip(str(too_large))
    codegen = json.loads((run.build.generated / "codegen.json").read_text())
    called = {layer["kernels"]["dsp"] for layer in codegen["layers"] if layer["op"] == case.op}
    if kernel:
        assert called == {kernel}, f"{case.case_id}: the DSP build calls {called}, the case is meant for {kernel}"
    assert len(run.outputs) == len(run.expected), f"{case.case_id}: {len(run.outputs)} vectors run, {len(run.expected)}"
    exact = compare_outputs(run.outputs, run.expected)
    assert exact.first_mismatch is None, f"{case.case_id} {case.spec}: dsp ({called}) against TFLM: {exact.message()}"


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
SPLIT_CASES = [_first("CONV_2D", lambda s: _wide(s) and s["kernel"] == 1 and _depth(s) % 4 == 0 and s["bias"],
                      "1x1, depth a multiple of 4, bias"),
               # depth 1: more taps would saturate most outputs at this scale
               _first("CONV_2D", lambda s: _wide(s) and s["kernel"] > 1 and _odd(s) and s["bias"] and _depth(s) == 1
                      and s["filters"] % 4 != 0, "KxK, odd positions, depth 1, filters not a multiple of 4, bias"),
               _first("FULLY_CONNECTED", lambda s: _wide(s) and s["batches"] == 3, "3 batches"),
               _first("FULLY_CONNECTED", lambda s: _packed(s) and _depth(s) == 100 and s["units"] % 2 == 1,
                      "packed, depth 100, an odd unit count"),
               _first("FULLY_CONNECTED", lambda s: _wide(s) and not _packed(s), "the int16 form")]


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
