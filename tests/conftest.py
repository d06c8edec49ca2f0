"""Shared fixtures (the default model, built once per session and reused when unchanged) and the
test tiers: what each marker of pyproject.toml means, and the checks that keep them true.

``invoke test --fast`` runs the tier ``-m pipeline.entry.FAST_TESTS``: no firmware build, no
emulator, nothing slow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Each test session builds into its own directory, never the developer's build/: set before any
# pipeline module reads it (pipeline/config.py's BUILD_DIR), so that subprocesses inherit it too.
# A caller that sets TINYML_CI_BUILD_DIR itself chooses the directory (and keeps it).
BUILD_DIR_ENV = "TINYML_CI_BUILD_DIR"  # pipeline.config.BUILD_DIR_ENV, which cannot be imported yet
SESSION_BUILD_DIR = os.environ.get(BUILD_DIR_ENV) or tempfile.mkdtemp(prefix="tinyml-ci-tests-")
_SESSION_BUILD_DIR_OWNED = BUILD_DIR_ENV not in os.environ
os.environ[BUILD_DIR_ENV] = SESSION_BUILD_DIR

import pipeline.stages.build as firmware_build  # noqa: E402
from pipeline import config  # noqa: E402
from pipeline.config import BUILD_DIR  # noqa: E402
from pipeline.emulators.qemu import QemuBackend  # noqa: E402
from pipeline.entry import RENODE_NOT_INSTALLED, model_build, run_until  # noqa: E402
from pipeline.pipeline import ModelBuild  # noqa: E402
from pipeline.stages.train import SINGLE_THREAD_ENV  # noqa: E402

assert config.BUILD_DIR_ENV == BUILD_DIR_ENV
assert Path(SESSION_BUILD_DIR).resolve() == BUILD_DIR, f"pipeline.config was imported before {__file__}"


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module starts TensorFlow: training in this process (the digits fixture, a
    clean rebuild) must see one thread however many tests used TensorFlow before it."""
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)


def pytest_report_header() -> str:
    return f"build dir of this session: {BUILD_DIR}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's own build dir goes when every test passed; after a failure it stays to be read."""
    if _SESSION_BUILD_DIR_OWNED and exitstatus == 0:
        shutil.rmtree(BUILD_DIR, ignore_errors=True)


# What a fixture needs, so a test that uses it is marked by construction.
FIXTURE_NEEDS = {
    "digits": ("toolchain",),  # builds the firmware
    "renode": ("renode",),
    "bench_elf": ("toolchain", "qemu"),  # tests/test_cycle_model.py: assembles and runs the cycle bench
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers implied by fixtures, and ``emulator`` for every test that boots in QEMU or Renode."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            for marker in FIXTURE_NEEDS.get(fixture, ()):
                item.add_marker(marker)
        if item.get_closest_marker("qemu") or item.get_closest_marker("renode"):
            item.add_marker("emulator")


@pytest.fixture(autouse=True)
def _boots_only_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that boots QEMU or builds the firmware in this process must say so (markers ``qemu``,
    ``toolchain``), or it fails naming itself."""
    if not request.node.get_closest_marker("emulator"):
        def refuse_boot(*_args: object, **_kwargs: object) -> None:
            pytest.fail(f"{request.node.nodeid} boots QEMU but is not marked qemu (see tests/conftest.py)")

        monkeypatch.setattr(QemuBackend, "run", refuse_boot)
    if not request.node.get_closest_marker("toolchain"):
        def refuse_build(*_args: object, **_kwargs: object) -> None:
            pytest.fail(f"{request.node.nodeid} builds firmware but is not marked toolchain (see tests/conftest.py)")

        monkeypatch.setattr(firmware_build, "_run", refuse_build)


def require_tool(command: str, install: str) -> str:
    """The tool's path; a missing tool fails the test with the install command (never a skip)."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed: {install} (or run ./scripts/setup.sh)")
    return path


# Set by .ci/run (and by anyone who wants the Renode tests to be mandatory): a missing Renode
# then fails the real-Renode tests instead of leaving them not run.
REQUIRE_RENODE_ENV = "TINYML_REQUIRE_RENODE"


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
def digits_model() -> ModelBuild:
    """The digits model trained, quantized and generated (no firmware: the host tiers use it)."""
    build = model_build("digits")
    run_until(build, "codegen")
    return build


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
