"""Bring your own model: a trained MLPerf Tiny .tflite through codegen, build, QEMU and the Robot suite."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.config import BUILD_DIR, ROOT
from tests.conftest import MLPERF_DIR, require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]


def test_a_bring_your_own_tflite_runs_bit_exact_and_reports_accuracy_as_not_applicable() -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    tflite = MLPERF_DIR / "ad01_int8.tflite"
    proc = subprocess.run([sys.executable, "-m", "invoke", "all", "--tflite", str(tflite), "--emulator", "qemu"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    metrics = json.loads((BUILD_DIR / "ad01_int8" / "metrics.json").read_text())
    assert metrics["bit_exact_matched"] == metrics["bit_exact_total"] == 20
    assert metrics["target_accuracy"] is None and metrics["int8_accuracy"] is None
    output = (BUILD_DIR / "ad01_int8" / "robot" / "output.xml").read_text()
    assert "not applicable: this model's inputs have no labels" in output
    assert "no budget" in proc.stdout, "figures without a budget are shown as such"
