"""Static checks that belong to the test command: ruff (with its BLE rule), mypy on the package and
tasks.py, and robocop."""

from __future__ import annotations

import subprocess
import sys

from pipeline.config import ROOT


def test_ruff_is_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy_is_clean_on_the_package() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "pipeline", "tasks.py"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_pipeline_robot_suite_passes_robocop() -> None:
    proc = subprocess.run([sys.executable, "-m", "robocop", "check", "robot_tests/firmware.robot"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
