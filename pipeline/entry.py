"""What the Invoke tasks call: one function per task, the project's errors re-exported."""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

from pipeline.config import BUILD_DIR, ROOT
from pipeline.errors import PipelineError
from pipeline.pipeline import (
    ModelBuild,
    model_build,
    run_all,
    stage_build,
    stage_codegen,
    stage_quantize,
    stage_simulate,
    stage_train,
    run_robot_suite,
)

__all__ = ["ModelBuild", "PipelineError", "clean", "model_build", "run_all", "run_test_suite",
           "run_until", "stage_train"]

STAGES = ("train", "quantize", "codegen", "build", "simulate", "test-firmware")


def run_until(b: ModelBuild, last: str, emulator: str | None = None) -> Any:
    """Run (or reuse) the stages up to ``last``; return that stage's result."""
    results: dict[str, Any] = {"train": stage_train(b), "quantize": stage_quantize(b)}
    if last in ("train", "quantize"):
        return results[last]
    results["codegen"] = stage_codegen(b)
    if last == "codegen":
        return results["codegen"]
    results["build"] = stage_build(b)
    if last == "build":
        return results["build"]
    if last == "simulate":
        return stage_simulate(b, emulator)
    sizes = {**results["build"]["sizes"], "model_bytes": results["codegen"]["model_bytes"],
             "arena_bytes": results["codegen"]["arena_bytes"]}
    return run_robot_suite(b, emulator, sizes)


def run_test_suite() -> bool:
    """pytest, then the full pipeline with its Robot suite on the default model in QEMU."""
    print("== pytest", flush=True)
    pytest_rc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, check=False).returncode
    print("== Robot suite: invoke all --model digits --emulator qemu", flush=True)
    passed = run_all(model_build("digits"), "qemu")["passed"]
    print(f"test: pytest {'passed' if pytest_rc == 0 else f'FAILED (exit {pytest_rc})'}, "
          f"Robot suite on digits {'passed' if passed else 'FAILED'}")
    return pytest_rc == 0 and bool(passed)


def clean() -> None:
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    print(f"removed {BUILD_DIR}")
