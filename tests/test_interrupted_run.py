"""Interrupting `invoke all` and running it again gives what an uninterrupted run gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import ROOT
from pipeline.pipeline import ModelBuild
from tests.conftest import require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]

ARTIFACTS = ("digits.tflite", "generated/model.c", "generated/test_vectors.c", "firmware/tinyml_fw.elf")


def _invoke_all(build_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TINYML_CI_BUILD_DIR": str(build_dir)}
    return subprocess.Popen([sys.executable, "-m", "invoke", "all", "--emulator", "qemu"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def test_a_run_interrupted_in_training_then_rerun_matches_an_uninterrupted_run(
        digits: ModelBuild, tmp_path: Path) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    first = _invoke_all(tmp_path)
    assert first.stdout is not None
    before = []
    for line in first.stdout:  # until the training stage has started
        before.append(line)
        if line.startswith("[train] running"):
            break
    assert before and before[-1].startswith("[train] running"), f"training never started:\n{''.join(before)}"
    os.killpg(first.pid, signal.SIGINT)
    out, _ = first.communicate(timeout=60)
    out = "".join(before) + out
    assert first.returncode != 0, f"the interrupted run must not report success:\n{out[-2000:]}"
    assert not (tmp_path / "digits" / ".stamps" / "train.json").exists(), "an interrupted stage left a stamp"

    second = _invoke_all(tmp_path)
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out[-3000:]
    for artifact in ARTIFACTS:
        assert (tmp_path / "digits" / artifact).read_bytes() == (digits.dir / artifact).read_bytes(), artifact
