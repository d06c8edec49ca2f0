"""Finding and interrupting the emulator processes a test started (QEMU, renode and mono)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.config import ROOT


def pids_mentioning(marker: str, program: str = "") -> list[int]:
    """Live processes whose command line mentions ``marker`` (and ``program``, if given).

    Other engineers may run emulators on the same machine: only ours carry our
    temporary directory in their command line.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if program in cmdline and marker in cmdline:
            pids.append(int(entry.name))
    return pids


def interrupt_python(code: str, args: list[str], ready: Callable[[], bool], timeout_s: float = 60.0,
                     settle_s: float = 0.0) -> tuple[int, str]:
    """Run ``code`` in a child Python, send it SIGINT ``settle_s`` after ``ready()``; its (returncode, stderr)."""
    child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout_s
        while not ready() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert ready(), f"the child never got ready: {child.poll()=}"
        time.sleep(settle_s)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, stderr
