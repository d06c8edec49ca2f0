"""Run one op-test case on the firmware in QEMU: the DSP kernels' randomized bit-exactness check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.entry import model_build, run_until
from pipeline.optest.cases import OpCase
from pipeline.optest.runner import CACHE, _inputs
from pipeline.pipeline import ModelBuild
from pipeline.stages.build import BuildRequest, build_firmware
from pipeline.stages.firmware_run import boot
from pipeline.tflite.reader import read_model

CASE_STACK_BYTES = 8192


class CaseTooLargeForMcu(Exception):
    """The case's tensors do not fit the part's RAM: it cannot run on the firmware (the host op-test
    suite still checks it)."""


@dataclass(frozen=True)
class FirmwareCaseRun:
    build: ModelBuild  # the case as a bring-your-own model (its generated C, its reference)
    outputs: np.ndarray  # what the firmware printed, one row per vector
    expected: np.ndarray  # TFLM's outputs, one row per vector


def run_case_on_firmware(case: OpCase, work: Path, vectors: int, kernels: str = "dsp") -> FirmwareCaseRun:
    """The case's converted model (from the op-test cache) on ``vectors`` random int8 inputs, through
    the bring-your-own flow, built with ``kernels`` and booted in QEMU. CaseTooLargeForMcu when its
    arena and stack do not fit the part's RAM (the linker would refuse the image)."""
    cached = CACHE / f"{case.key}.tflite"
    if not cached.exists():
        error = CACHE / f"{case.key}.error"
        raise AssertionError(f"{case.case_id}: the converter made no model: "
                             f"{error.read_text() if error.exists() else 'no error recorded'}")
    return run_tflite_on_firmware(case, cached.read_bytes(), work, vectors, kernels)


def run_tflite_on_firmware(case: OpCase, tflite_bytes: bytes, work: Path, vectors: int,
                           kernels: str = "dsp") -> FirmwareCaseRun:
    """``tflite_bytes`` (the case's model, possibly edited) on the case's random inputs, as
    run_case_on_firmware."""
    work.mkdir(parents=True, exist_ok=True)
    tflite = work / f"dspop_{case.op.lower()}_{case.index}.tflite"
    tflite.write_bytes(tflite_bytes)
    inputs = work / "inputs.npy"
    np.save(inputs, _inputs(read_model(tflite), case, vectors))
    b = model_build(tflite=tflite, inputs=inputs)
    run_until(b, "codegen")
    arena = int(json.loads((b.generated / "codegen.json").read_text())["arena_bytes"])
    ram = b.board.ram.length
    if arena + CASE_STACK_BYTES > ram:
        raise CaseTooLargeForMcu(f"{case.case_id}: arena {arena:,} B + {CASE_STACK_BYTES:,} B of stack exceed the "
                                 f"{b.board.part}'s {ram:,} B of SRAM; the host op-test suite checks it")
    fw = build_firmware(BuildRequest(b.generated, work / "fw", stack_bytes=CASE_STACK_BYTES, kernels=kernels),
                        on_line=lambda _line: None)
    run = boot(fw.elf, work / "qemu", "qemu", b.cfg.emulator.wall_timeout_s, b.cfg.emulator.emulated_timeout_s)
    expected = np.load(b.reference)["tflm"]
    return FirmwareCaseRun(b, run.outputs(), expected.reshape(len(expected), -1))
