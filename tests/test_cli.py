"""The Invoke entry points, as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from pipeline.config import ROOT


def test_renode_without_renode_fails_before_any_stage_with_an_install_hint() -> None:
    path = _path_without_renode()
    proc = subprocess.run([sys.executable, "-m", "invoke", "test-firmware", "--emulator", "renode"], cwd=ROOT,
                          capture_output=True, text=True, check=False, env={**os.environ, "PATH": path})
    assert proc.returncode != 0
    assert "Renode is not installed" in proc.stderr + proc.stdout
    assert "docs/renode.md" in proc.stderr + proc.stdout
    assert "] running" not in proc.stdout and "] reused" not in proc.stdout, "a stage ran before the check"


def test_task_list_names_every_stage() -> None:
    proc = subprocess.run([sys.executable, "-m", "invoke", "--list"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    for task in ("all", "train", "quantize", "codegen", "build", "simulate", "test-firmware", "test", "clean",
                 "compress"):
        assert f"  {task} " in proc.stdout, task


def _path_without_renode() -> str:
    dirs = os.environ["PATH"].split(os.pathsep)
    return os.pathsep.join(p for p in dirs if not (p and shutil.which("renode", path=p)))


def test_without_renode_the_real_renode_tests_are_not_run_and_the_summary_counts_them(tmp_path) -> None:
    from pipeline.entry import renode_tests_not_run

    suite = ROOT / "tests" / "test_renode_real.py"
    expected = suite.read_text().count("\ndef test_")
    env = {k: v for k, v in os.environ.items() if k != "TINYML_REQUIRE_RENODE"}
    junit = tmp_path / "pytest.xml"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite), f"--junitxml={junit}"]
    skipped = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False,
                             env={**env, "PATH": _path_without_renode()})
    assert skipped.returncode == 0, skipped.stdout
    assert renode_tests_not_run(junit) == expected >= 14, skipped.stdout
    required = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False,
                              env={**env, "PATH": _path_without_renode(), "TINYML_REQUIRE_RENODE": "1"})
    assert required.returncode != 0
    assert "renode: not installed but TINYML_REQUIRE_RENODE=1" in required.stdout
