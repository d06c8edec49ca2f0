"""The default model through the pipeline: host bit-exactness, budgets, reuse and determinism."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import pipeline as pl
from pipeline.config import ROOT
from pipeline.emulators.hostrun import compile_host, run_host
from pipeline.pipeline import ModelBuild, run_robot_suite
from pipeline.stages.build import BuildRequest, build_firmware
from tests.conftest import require_tool


def test_generated_c_on_the_host_equals_tflm_on_every_held_out_sample(digits_model: ModelBuild,
                                                                      tmp_path: Path) -> None:
    ref = np.load(digits_model.reference)
    inputs, expected = ref["inputs"], ref["tflm"]
    assert len(inputs) >= 350, "the held-out split must have at least 350 samples"
    exe = compile_host(digits_model.generated, tmp_path / "digits_host")
    got = run_host(exe, inputs.reshape(len(inputs), -1), expected.shape[1], tmp_path)
    mismatched = np.flatnonzero(np.any(got != expected, axis=1))
    assert mismatched.size == 0, (f"{mismatched.size} vectors differ; first {mismatched[0]}: "
                                  f"expected {expected[mismatched[0]].tolist()}, got {got[mismatched[0]].tolist()}")


def test_default_model_meets_its_model_size_and_accuracy_targets(digits_model: ModelBuild) -> None:
    codegen = json.loads((digits_model.generated / "codegen.json").read_text())
    quantize = json.loads((digits_model.dir / "quantize.json").read_text())
    assert codegen["model_bytes"] <= 8192
    assert quantize["int8_accuracy"] >= 0.97




def _run_suite(digits: ModelBuild, tmp_path: Path, elf: Path, budgets: dict[str, float],
               monkeypatch: pytest.MonkeyPatch, emulator: str = "qemu") -> tuple[int, str]:
    """Run the Robot suite on ``elf`` with ``budgets``, in a build dir under tmp_path."""
    reference = digits.reference
    results = pl.run_until(digits, "build")  # all reused: their typed results, as the suite gets them
    monkeypatch.setattr(pl, "BUILD_DIR", tmp_path)
    build = ModelBuild(pl.ModelConfig(**{**digits.cfg.__dict__, "budgets": budgets}))
    build.dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference, build.reference)
    build.firmware_dir.mkdir(parents=True, exist_ok=True)
    if elf != build.elf:
        shutil.copy(elf, build.elf)
    rc = run_robot_suite(build, emulator, pl.suite_sizes(results))
    return rc, (build.dir / "robot" / "output.xml").read_text()


@pytest.mark.qemu
def test_suite_fails_when_a_budget_is_below_the_measured_value(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    budgets = {**digits.cfg.budgets, "max_model_bytes": 1000.0}
    rc, output = _run_suite(digits, tmp_path, Path(digits.elf), budgets, monkeypatch)
    assert rc != 0
    assert re.search(r"model_bytes [\d,]+, budget 1,000", output), "the failure names both numbers"


@pytest.mark.qemu
def test_suite_fails_when_one_weight_byte_of_the_generated_c_changes(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    generated = tmp_path / "generated"
    shutil.copytree(digits.generated, generated)
    model_c = generated / "model.c"
    text = model_c.read_text()
    # The first value of the last layer's weights as the firmware build compiles them (the DSP
    # build's int16 layout where the layer has one): every vector's outputs depend on it.
    filters = list(re.finditer(r"tc_l\d+_filter(_s16)?\[\d+\][^{]*\{\s*(-?\d+)", text))
    match = next((m for m in reversed(filters) if m.group(1)), filters[-1])
    value = int(match.group(2))
    changed = text[: match.start(2)] + str(value + 1 if value < 127 else value - 1) + text[match.end(2):]
    model_c.write_text(changed)
    elf = build_firmware(BuildRequest(generated, tmp_path / "fw",
                                      stack_bytes=int(digits.cfg.budgets["max_stack_bytes"]))).elf
    rc, output = _run_suite(digits, tmp_path, elf, dict(digits.cfg.budgets), monkeypatch)
    assert rc != 0
    assert "first mismatch at vector" in output


@pytest.mark.qemu
@pytest.mark.slow
def test_second_run_reuses_every_stage(digits: ModelBuild) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    cmd = [sys.executable, "-m", "invoke", "all", "--emulator", "qemu"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)  # brings every stage up to date
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for stage in ("train", "quantize", "codegen", "build", "simulate-qemu", "cycles"):
        assert f"[{stage}] reused" in proc.stdout, f"{stage} was not reused:\n{proc.stdout}"
    assert "[test-firmware] running" in proc.stdout, "the Robot suite must always run"
    ran = [line for line in proc.stdout.splitlines() if "] running" in line and not line.startswith("[test-firmware]")]
    assert not ran, f"a stage ran although nothing changed: {ran}\n{proc.stdout}"
    metrics = json.loads((digits.dir / "metrics.json").read_text())
    assert metrics["passed"] is True
    assert metrics["bit_exact_matched"] == metrics["bit_exact_total"] >= 350
    assert metrics["target_accuracy"] == metrics["int8_accuracy"]


@pytest.mark.slow
def test_a_clean_rebuild_gives_byte_identical_tflite_sources_and_elf(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tflite, generated, elf = digits.tflite, digits.generated, digits.elf
    monkeypatch.setattr(pl, "BUILD_DIR", tmp_path)
    again = ModelBuild(digits.cfg)
    pl.run_until(again, "build")
    assert again.tflite.read_bytes() == tflite.read_bytes(), ".tflite differs between clean runs"
    for name in ("model.c", "model.h", "test_vectors.c", "test_vectors.h"):
        assert (again.generated / name).read_bytes() == (generated / name).read_bytes(), name
    assert again.elf.read_bytes() == elf.read_bytes(), "ELF differs between clean runs"
