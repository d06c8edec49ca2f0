"""The Invoke entry points, as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from pipeline.config import ROOT


def test_renode_without_renode_fails_within_seconds_with_an_install_hint() -> None:
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if not (p and shutil.which("renode", path=p)))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "invoke", "test-firmware", "--emulator", "renode"], cwd=ROOT,
                          capture_output=True, text=True, check=False, env={**os.environ, "PATH": path})
    elapsed = time.monotonic() - started
    assert proc.returncode != 0
    assert "Renode is not installed" in proc.stderr + proc.stdout
    assert "docs/renode.md" in proc.stderr + proc.stdout
    assert elapsed < 10, f"took {elapsed:.1f} s"


def test_task_list_names_every_stage() -> None:
    proc = subprocess.run([sys.executable, "-m", "invoke", "--list"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    for task in ("all", "train", "quantize", "codegen", "build", "simulate", "test-firmware", "test", "clean",
                 "compress"):
        assert f"  {task} " in proc.stdout, task
