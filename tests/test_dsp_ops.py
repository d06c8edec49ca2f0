"""The DSP build's depthwise, pooling and ADD kernels against TFLM, bit for bit, in QEMU.

Op-test cases (pipeline/optest/cases.py) chosen to cover what the DSP kernels branch on:
depthwise stride 1 and 2, SAME and VALID, dilation, depth multiplier 1 and > 1 (the portable
call), 3x3 and other filters, channel counts not a multiple of 4; ADD with broadcasting;
average pooling. Each case goes through the bring-your-own flow (its TFLM reference on random
int8 inputs), is built with TC_KERNELS=dsp and booted in QEMU, WORKERS cases at a time.
TC_DSP_OPTEST_FULL=1 runs FULL_CASES cases per op instead of the default selection, and every
depthwise case among the first PASS_SEARCH that takes the 3x3 pass.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pytest

from pipeline.codegen.ops.depthwise import GROUPS_MAX_POSITIONS
from pipeline.optest.cases import OpCase, make_case
from pipeline.optest.firmware import CaseTooLargeForMcu, run_case_on_firmware
from pipeline.optest.runner import DEFAULT_SEED, _convert_missing
from pipeline.stages.firmware_run import compare_outputs
from tests.conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]

FULL = os.environ.get("TC_DSP_OPTEST_FULL") == "1"
FULL_CASES = 24
VECTORS = 16


PASS_SEARCH = 600  # depthwise cases searched for the kernel's 3x3 pass (about one in twenty takes it)


def _takes_the_pass(s: dict) -> bool:
    """The DSP kernel's 3x3 pass (tc_depthwise_conv2d_s8_planes: its assembly fill, pass and x2
    requantization): depth multiplier 1, 3x3, no dilation (stride 1 or 2)."""
    return s["depth_multiplier"] == 1 and s["kernel_hw"] == [3, 3] and s["dilation"] == 1


def _takes_the_groups(s: dict) -> bool:
    """The 3x3 pass's cases the generator gives the four-channel kernel (tc_depthwise_conv2d_s8_groups):
    a depth that is a multiple of 4 and a small output plane (its x2 shifts aside)."""
    h, w, c = s["input_shape"][1:]
    stride = s["stride"]
    out = [-(-n // stride) if s["padding"] == "SAME" else (n - 3) // stride + 1 for n in (h, w)]
    return _takes_the_pass(s) and c % 4 == 0 and out[0] * out[1] <= GROUPS_MAX_POSITIONS[stride]


def _depthwise_selection() -> list[OpCase]:
    """The first case of each feature the DSP depthwise kernel branches on; with TC_DSP_OPTEST_FULL,
    also every case among the first PASS_SEARCH that takes its 3x3 pass."""
    def dm1(s: dict) -> bool:
        return s["depth_multiplier"] == 1

    def pass_(s: dict) -> bool:
        return _takes_the_pass(s)

    wanted = {
        "3x3 stride 1 SAME": lambda s: dm1(s) and s["kernel"] == 3 and s["stride"] == 1 and s["dilation"] == 1
        and s["padding"] == "SAME",
        "3x3 stride 2 SAME": lambda s: dm1(s) and s["kernel_hw"] == [3, 3] and s["stride"] == 2
        and s["padding"] == "SAME",
        "3x3 stride 2 VALID": lambda s: dm1(s) and s["kernel"] == 3 and s["stride"] == 2 and s["padding"] == "VALID",
        "3x1 (the tap loop)": lambda s: dm1(s) and s["kernel_hw"] == [3, 1],
        "dilation 2": lambda s: dm1(s) and s["dilation"] == 2,
        "5x5": lambda s: dm1(s) and s["kernel"] == 5,
        "depth multiplier > 1": lambda s: s["depth_multiplier"] > 1,
        "3x3, channels not a multiple of 4": lambda s: dm1(s) and s["kernel_hw"] == [3, 3]
        and s["input_shape"][3] % 4 != 0,
        # The pass along the height (a transposed plane), both strides.
        "3x3 pass transposed, stride 1": lambda s: pass_(s) and s["stride"] == 1
        and s["input_shape"][1] > s["input_shape"][2],
        "3x3 pass transposed, stride 2": lambda s: pass_(s) and s["stride"] == 2
        and s["input_shape"][1] > s["input_shape"][2],
        # The assembly requantization's clamps (SSAT alone or with a max) and the C one.
        "3x3 pass, no activation": lambda s: pass_(s) and s["act"] == "NONE",
        "3x3 pass, RELU": lambda s: pass_(s) and s["act"] == "RELU",
        "3x3 pass, RELU6": lambda s: pass_(s) and s["act"] == "RELU6",
        # Plane lines of 16 and more: the fill's blocks of eight.
        "3x3 pass, wide": lambda s: pass_(s) and min(s["input_shape"][1:3]) >= 16,
        # The four-channel kernel: both strides, and its clamp of both bounds.
        "3x3 four channels at a time, stride 1": lambda s: _takes_the_groups(s) and s["stride"] == 1,
        "3x3 four channels at a time, stride 2": lambda s: _takes_the_groups(s) and s["stride"] == 2,
        "3x3 four channels at a time, RELU6": lambda s: _takes_the_groups(s) and s["act"] == "RELU6",
    }
    cases = [make_case("DEPTHWISE_CONV_2D", i, DEFAULT_SEED) for i in range(PASS_SEARCH)]
    chosen: dict[int, OpCase] = {}
    for name, matches in wanted.items():
        found = [c for c in cases if matches(c.spec)]
        assert found, f"no DEPTHWISE_CONV_2D case with {name} among the first {PASS_SEARCH}"
        chosen.setdefault(found[0].index, found[0])
    if FULL:
        chosen.update((c.index, c) for c in cases if _takes_the_pass(c.spec))
    return sorted(chosen.values(), key=lambda c: c.index)


def _cases() -> list[OpCase]:
    if FULL:
        cases = [make_case(op, i, DEFAULT_SEED) for op in ("DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D",
                                                          "MAX_POOL_2D") for i in range(FULL_CASES)]
        known = {c.case_id for c in cases}
        cases += [c for c in _depthwise_selection() if c.case_id not in known]
        return [c for c in cases if c.op != "ADD" or c.options["rank"] == 4]
    # Rank 4 only: the bring-your-own flow takes a batch of 1 as the first dimension.
    rank4 = [c for c in (make_case("ADD", i, DEFAULT_SEED) for i in range(40)) if c.options["rank"] == 4]
    adds = [c for c in rank4 if c.options["other"] in ("broadcast_const", "broadcast_mean")][:2]
    adds.append(next(c for c in rank4 if c.options["other"] in ("activation", "const_same_shape")))
    pools = [make_case("AVERAGE_POOL_2D", i, DEFAULT_SEED) for i in range(2)]
    return [*_depthwise_selection(), *adds, *pools]


CASES = _cases()
WORKERS = 4  # cases built and booted at once: each is a cmake build and a QEMU run


def _run_case(case: OpCase, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """The DSP firmware's outputs for the case's random inputs, and TFLM's."""
    run = run_case_on_firmware(case, work, VECTORS)
    return run.outputs, run.expected


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future]:
    """Every case run, WORKERS at a time (the models converted first, in one batch)."""
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    _convert_missing(CASES, WORKERS)
    root = tmp_path_factory.mktemp("dsp-ops")
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c.case_id: pool.submit(_run_case, c, root / f"{c.op.lower()}_{c.index}") for c in CASES}
        wait(futures.values())
    return futures


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_dsp_op_is_bit_exact_with_tflm(case: OpCase, runs: dict[str, Future]) -> None:
    try:
        outputs, expected = runs[case.case_id].result()
    except CaseTooLargeForMcu as too_large:  # only among the full run's cases: reported, never passed
        pytest.skip(str(too_large))
    assert len(outputs) == len(expected), f"{case.case_id}: {len(outputs)} vectors run, {len(expected)} expected"
    exact = compare_outputs(outputs, expected)
    assert exact.first_mismatch is None, f"{case.case_id} {case.spec}: dsp against TFLM: {exact.message()}"


def test_a_case_too_large_for_the_part_is_refused_with_its_numbers(tmp_path: Path) -> None:
    """A randomized case whose tensors exceed the STM32F407's SRAM (depth multiplier 3 on 48x48x16)
    cannot be linked: the firmware runner says so with the arena size instead of a linker failure."""
    case = make_case("DEPTHWISE_CONV_2D", 7, DEFAULT_SEED)
    _convert_missing([case], 1)
    too_large = r"arena [\d,]+ B \+ 8,192 B of stack exceed the STM32F407's 131,072 B"
    with pytest.raises(CaseTooLargeForMcu, match=too_large):
        run_case_on_firmware(case, tmp_path, 1)
