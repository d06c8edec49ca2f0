"""Compile generated C with the host's gcc and run it: bit-exact checks without an emulator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from pipeline.config import ROOT
from pipeline.errors import StageError, ToolMissingError

KERNELS = ROOT / "firmware" / "kernels"
HOST_MAIN = ROOT / "firmware" / "host" / "host_main.c"


def compile_host(generated: Path, out: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Build the host executable of a generated model (model.c + kernels + host harness)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolMissingError("no host C compiler (gcc): install it with: sudo apt-get install gcc")
    sources = [generated / "model.c", *sorted(KERNELS.glob("*.c")), HOST_MAIN]
    cmd = [cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fwrapv-pointer",
           f"-I{generated}", f"-I{KERNELS / 'include'}", *extra_flags, *map(str, sources), "-o", str(out), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"host build of {generated} failed:\n{proc.stderr.strip()}")
    return out


def run_host(executable: Path, inputs: np.ndarray, output_size: int, workdir: Path) -> np.ndarray:
    """Run every input through the host build; return [n, output_size] int8."""
    workdir.mkdir(parents=True, exist_ok=True)
    in_path, out_path = workdir / "host_inputs.bin", workdir / "host_outputs.bin"
    in_path.write_bytes(np.ascontiguousarray(inputs, dtype=np.int8).tobytes())
    proc = subprocess.run([str(executable), str(in_path), str(out_path)], capture_output=True, text=True,
                          check=False, timeout=600)
    if proc.returncode != 0:
        raise StageError(f"host model {executable} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return np.frombuffer(out_path.read_bytes(), dtype=np.int8).reshape(len(inputs), output_size)
