"""Shared fixtures: the default model, built once per session (and reused when unchanged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.entry import model_build, run_until
from pipeline.pipeline import ModelBuild


def require_tool(command: str, install: str) -> str:
    """The tool's path; a missing tool fails the test with the install command (never a skip)."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed: {install} (or run ./scripts/setup.sh)")
    return path


@pytest.fixture(scope="session")
def digits() -> ModelBuild:
    """The digits model trained, quantized, generated and built (stages reused when fresh)."""
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    build = model_build("digits")
    run_until(build, "build")
    return build


# MLPerf Tiny's trained int8 models (mlcommons/tiny, Apache-2.0: see the folder's LICENSE.md and README.md),
# kept in the repository so the test command works on any clone.
MLPERF_DIR = Path(__file__).parent / "fixtures" / "mlperf-tiny"
