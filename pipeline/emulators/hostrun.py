"""Compile generated C with the host's gcc and run it: bit-exact checks without an emulator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from pipeline.codegen.kernels import BY_FUNCTION, PORTABLE, files_of
from pipeline.config import ROOT
from pipeline.errors import StageError
from pipeline.tools import HOST_CC, tool_path

KERNELS = ROOT / "firmware" / "kernels"
HOST_MAIN = ROOT / "firmware" / "host" / "host_main.c"


CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fwrapv-pointer")


def portable_sources() -> list[Path]:
    """The portable kernels' sources, from the kernel manifest (the host build runs the portable set)."""
    functions = [name for name, kernel in BY_FUNCTION.items() if kernel.kernel_set == PORTABLE.name]
    return [KERNELS / source for source in files_of(functions)[0]]


def compile_kernel_objects(out_dir: Path) -> list[Path]:
    """Compile every portable kernel once (for builds of many models); return the object files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    for source in portable_sources():
        obj = out_dir / (source.stem + ".o")
        cmd = [tool_path(HOST_CC), *CFLAGS, f"-I{KERNELS / 'include'}", "-c", str(source), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StageError(f"host build of {source} failed:\n{proc.stderr.strip()}")
        objects.append(obj)
    return objects


def compile_host(generated: Path, out: Path, extra_flags: tuple[str, ...] = (),
                 kernel_objects: list[Path] | None = None, extra_sources: tuple[Path, ...] = ()) -> Path:
    """Build the host executable of a generated model (model.c + kernels + host harness + extra_sources)."""
    kernels = kernel_objects if kernel_objects is not None else portable_sources()
    sources = [generated / "model.c", *kernels, HOST_MAIN, *extra_sources]
    cmd = [tool_path(HOST_CC), *CFLAGS, f"-I{generated}", f"-I{KERNELS / 'include'}", *extra_flags,
           *map(str, sources), "-o", str(out), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"host build of {generated} failed:\n{proc.stderr.strip()}")
    return out


def run_host_raw(executable: Path, inputs: np.ndarray, workdir: Path) -> tuple[bytes, str]:
    """Run every input through the host build; return its output records' bytes and its stdout.

    Inputs are written as int8 records, or float32 records when ``inputs`` is
    float32 (a model whose first op is QUANTIZE from float32).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    in_path, out_path = workdir / "host_inputs.bin", workdir / "host_outputs.bin"
    in_dtype = np.float32 if inputs.dtype == np.float32 else np.int8
    in_path.write_bytes(np.ascontiguousarray(inputs, dtype=in_dtype).tobytes())
    proc = subprocess.run([str(executable), str(in_path), str(out_path)], capture_output=True, text=True,
                          check=False, timeout=600)
    if proc.returncode != 0:
        raise StageError(f"host model {executable} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return out_path.read_bytes(), proc.stdout


def run_host(executable: Path, inputs: np.ndarray, output_size: int, workdir: Path,
             output_dtype: type[np.generic] = np.int8) -> np.ndarray:
    """Run every input through the host build; return [n, output_size] of output_dtype."""
    out, _stdout = run_host_raw(executable, inputs, workdir)
    return np.frombuffer(out, dtype=output_dtype).reshape(len(inputs), output_size)
