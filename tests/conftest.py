"""Shared fixtures: the default model, built once per session (and reused when unchanged)."""

from __future__ import annotations

import os
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


# Set by .ci/run (and by anyone who wants the Renode tests to be mandatory): a missing Renode
# then fails the real-Renode tests instead of leaving them not run.
REQUIRE_RENODE_ENV = "TINYML_REQUIRE_RENODE"
RENODE_NOT_INSTALLED = "renode: not installed"


@pytest.fixture(scope="session")
def renode() -> str:
    """The real Renode on PATH. Without it the test is not run (a skip that the test command's
    summary counts and names, never a pass), or fails when REQUIRE_RENODE_ENV is 1."""
    path = shutil.which("renode")
    if path is None:
        hint = "install Renode 1.15.1 and put it on PATH (docs/renode.md)"
        if os.environ.get(REQUIRE_RENODE_ENV) == "1":
            pytest.fail(f"{RENODE_NOT_INSTALLED} but {REQUIRE_RENODE_ENV}=1: {hint}")
        pytest.skip(f"{RENODE_NOT_INSTALLED}: {hint}")
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
