"""Every portable kernel compiles warning-free as C11 with the host gcc and with arm-none-eabi-gcc
for the STM32F4 (Cortex-M4F), and each file defines the one public function it is named after."""

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


@pytest.mark.parametrize(("compiler", "flags"), [("gcc", ()), ("arm-none-eabi-gcc", CORTEX_M4)])
def test_kernels_compile_without_warnings(compiler: str, flags: tuple[str, ...], tmp_path: Path) -> None:
    cc = require_tool(compiler, "sudo apt-get install gcc gcc-arm-none-eabi libnewlib-arm-none-eabi")
    for source in SOURCES:
        proc = subprocess.run([cc, *WARNINGS, *flags, f"-I{KERNELS / 'include'}", "-c", str(source),
                               "-o", str(tmp_path / (source.stem + ".o"))], capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, f"{compiler} {source.name}:\n{proc.stderr}"


def test_each_new_kernel_file_defines_the_function_it_is_named_after() -> None:
    header = (KERNELS / "include" / "tc_kernels.h").read_text()
    for source in SOURCES:
        if source.stem == "tc_pool_s8":  # the one file with two entry points (avg, max), kept as it was
            continue
        public = re.findall(r"^void (tc_\w+)\(", source.read_text(), flags=re.MULTILINE)
        assert public == [source.stem], f"{source.name} defines {public}"
        assert f"void {source.stem}(" in header, f"{source.stem} is not declared in tc_kernels.h"
