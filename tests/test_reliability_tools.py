"""Missing tools: `invoke all` stops before any stage with one message listing every problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.config import ROOT


def test_invoke_all_lists_every_missing_and_too_old_tool_at_once(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cmake = bin_dir / "cmake"
    cmake.write_text("#!/bin/sh\necho 'cmake version 3.10.2'\n")
    cmake.chmod(0o755)
    env = {**os.environ, "PATH": str(bin_dir)}
    proc = subprocess.run([sys.executable, "-m", "invoke", "all", "--emulator", "qemu"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.count("error: missing tools:") == 1, proc.stderr
    expected = (
        "error: missing tools:\n"
        "  - arm-none-eabi-gcc is not installed (need >= 10.3)\n"
        "  - arm-none-eabi-objdump is not installed (need >= 2.35)\n"
        "  - cmake 3.10.2 is too old (need >= 3.20)\n"
        "  - qemu-system-arm is not installed (need >= 7.0)\n"
        "  - gcc is not installed (need >= 10.0)\n"
        "install them with: sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi"
        " cmake qemu-system-arm gcc"
        "  (or run ./scripts/setup.sh)"
    )
    assert expected in proc.stderr, proc.stderr
    assert "[train]" not in proc.stdout and "[quantize]" not in proc.stdout, "a stage ran before the tool check"
