"""Every portable kernel compiles warning-free as C11 with the host gcc and with arm-none-eabi-gcc
for the STM32F4 (Cortex-M4F), and each file defines the one public function it is named after; the
DSP kernels compile warning-free at every optimization level a user's build may pick."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

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
