"""Shared fixtures: the default model, built once per session (and reused when unchanged)."""

from __future__ import annotations

import shutil

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
