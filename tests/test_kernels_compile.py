"""Every portable kernel compiles warning-free as C11 with the host gcc and with arm-none-eabi-gcc
for the STM32F4 (Cortex-M4F), and each file defines the one public function it is named after; the
DSP kernels compile warning-free at every optimization level a user's build may pick."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pipeline.codegen.kernels import KERNEL_SETS
from pipeline.codegen.kernels import KERNELS as KERNELS_MANIFEST
from pipeline.config import ROOT
from tests.conftest import require_tool

KERNELS = ROOT / "firmware" / "kernels"
WARNINGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror")
CORTEX_M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
SOURCES = sorted(KERNELS.glob("*.c"))


@pytest.mark.parametrize(("compiler", "flags"), [
    ("gcc", ()), pytest.param("arm-none-eabi-gcc", CORTEX_M4, marks=pytest.mark.toolchain)])
def test_kernels_compile_without_warnings(compiler: str, flags: tuple[str, ...], tmp_path: Path) -> None:
    cc = require_tool(compiler, "sudo apt-get install gcc gcc-arm-none-eabi libnewlib-arm-none-eabi")
    for source in SOURCES:
        proc = subprocess.run([cc, *WARNINGS, *flags, f"-I{KERNELS / 'include'}", "-c", str(source),
                               "-o", str(tmp_path / (source.stem + ".o"))], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, f"{compiler} {source.name}:\n{proc.stderr}"


DSP_SOURCES = sorted((KERNELS / "arm").glob("*.c"))


@pytest.mark.toolchain
@pytest.mark.parametrize("optimization", [("-O0",), ("-O1",), ("-Os",), ("-O2",), ("-O3",),
                                          ("-O2", "-fno-omit-frame-pointer")], ids=" ".join)
def test_dsp_kernels_compile_at_every_optimization_level(optimization: tuple[str, ...], tmp_path: Path) -> None:
    """Their assembly takes all fourteen registers, r7 included: at -O0 or with a frame pointer gcc 12
    refused the operands or looped forever (hence the timeout) before TC_ALL_REGISTERS."""
    cc = require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    for source in DSP_SOURCES:
        cmd = [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", *optimization, *CORTEX_M4,
               f"-I{KERNELS / 'include'}", "-c", str(source), "-o", str(tmp_path / (source.stem + ".o"))]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"arm-none-eabi-gcc {' '.join(optimization)} {source.name}: no result within 120 s")
        assert proc.returncode == 0, f"arm-none-eabi-gcc {' '.join(optimization)} {source.name}:\n{proc.stderr}"


def test_each_new_kernel_file_defines_the_function_it_is_named_after() -> None:
    header = (KERNELS / "include" / "tc_kernels.h").read_text()
    for source in SOURCES:
        if source.stem == "tc_pool_s8":  # the one file with two entry points (avg, max), kept as it was
            continue
        public = re.findall(r"^void (tc_\w+)\(", source.read_text(), flags=re.MULTILINE)
        assert public == [source.stem], f"{source.name} defines {public}"
        assert f"void {source.stem}(" in header, f"{source.stem} is not declared in tc_kernels.h"


def test_every_kernel_source_is_in_the_manifest() -> None:
    """CMake and invoke export build only what the manifest lists: a source outside it is never compiled."""
    declared = {s for k in KERNELS_MANIFEST for s in k.sources}
    present = {p.relative_to(KERNELS).as_posix() for p in KERNELS.rglob("*.c")}
    assert present == declared, f"not in pipeline/codegen/kernels.py: {sorted(present - declared)}; " \
                                f"declared but absent: {sorted(declared - present)}"


@pytest.mark.toolchain
def test_each_manifest_kernel_is_defined_in_its_source_and_lists_the_headers_it_includes(tmp_path: Path) -> None:
    """The manifest's function, source and headers against the compiler's view: the defining object's
    symbol table (nm) and the dependency list (-MM) of its sources."""
    cc = require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    nm = require_tool("arm-none-eabi-nm", "sudo apt-get install binutils-arm-none-eabi")
    for kernel in KERNELS_MANIFEST:
        flags = [*CORTEX_M4, f"-I{KERNELS / 'include'}"]
        obj = tmp_path / f"{kernel.function}.o"
        subprocess.run([cc, *flags, "-O2", "-c", str(KERNELS / kernel.sources[0]), "-o", str(obj)], check=True)
        symbols = subprocess.run([nm, "--defined-only", str(obj)], capture_output=True, text=True, check=True).stdout
        assert f" T {kernel.function}\n" in symbols, f"{kernel.sources[0]} does not define {kernel.function}"
        deps = subprocess.run([cc, *flags, "-MM", *(str(KERNELS / s) for s in kernel.sources)],
                              capture_output=True, text=True, check=True).stdout.replace("\\\n", " ").split()
        headers = {Path(d).resolve().relative_to(KERNELS).as_posix() for d in deps if d.endswith(".h")}
        assert headers == set(kernel.headers), f"{kernel.function}: the manifest lists {sorted(kernel.headers)}, " \
                                               f"its sources include {sorted(headers)}"


def test_the_stub_model_lists_every_kernel_set() -> None:
    """The hand-written kernels.cmake of firmware/tests/stub_model (which calls no kernel) names the sets
    and defines a generated one would."""
    text = (ROOT / "firmware" / "tests" / "stub_model" / "kernels.cmake").read_text()
    assert f"set(TC_KERNEL_SETS {' '.join(KERNEL_SETS)})" in text
    for kernel_set in KERNEL_SETS.values():
        assert f"set(TC_KERNEL_DEFINES_{kernel_set.name}{' ' if kernel_set.define else ''}{kernel_set.define})" in text
        assert f"set(TC_KERNEL_SOURCES_{kernel_set.name})" in text
