"""Check, before any stage runs, that the external tools are there and new enough."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass

from pipeline.errors import ToolMissingError


@dataclass(frozen=True)
class Tool:
    command: str
    package: str  # the Debian/Ubuntu package that provides it
    minimum: tuple[int, ...]
    version_args: tuple[str, ...] = ("--version",)


ARM_BINUTILS = Tool("arm-none-eabi-objdump", "binutils-arm-none-eabi", (2, 35))  # objdump, size: stack, cycles
TOOLCHAIN = (
    Tool("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi", (10, 3)),
    ARM_BINUTILS,
    Tool("cmake", "cmake", (3, 20)),
)
QEMU = Tool("qemu-system-arm", "qemu-system-arm", (7, 0))
HOST_CC = Tool("gcc", "gcc", (10, 0))  # the generated C on the host, the QEMU cycle plugin

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def tool_version(tool: Tool) -> tuple[int, ...] | None:
    """The tool's version, or None when it is not installed."""
    path = shutil.which(tool.command)
    return None if path is None else _version_of(path, tool.version_args)


@functools.cache
def _version_of(path: str, version_args: tuple[str, ...]) -> tuple[int, ...]:
    proc = subprocess.run([path, *version_args], capture_output=True, text=True, check=False, timeout=30)
    first = (proc.stdout or proc.stderr).splitlines()[0] if (proc.stdout or proc.stderr) else ""
    # The last version-looking number of the first line: "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205"
    matches = _VERSION.findall(first.split(")")[-1]) or _VERSION.findall(first)
    return tuple(int(x) for x in matches[0] if x) if matches else (0,)


def check_tools(tools: tuple[Tool, ...]) -> None:
    """Raise one ToolMissingError listing every missing or too-old tool and the install command."""
    problems, packages = [], []
    for tool in tools:
        version = tool_version(tool)
        wanted = ".".join(map(str, tool.minimum))
        if version is None:
            problems.append(f"{tool.command} is not installed (need >= {wanted})")
        elif version < tool.minimum:
            problems.append(f"{tool.command} {'.'.join(map(str, version))} is too old (need >= {wanted})")
        else:
            continue
        packages.append(tool.package)
    if problems:
        raise ToolMissingError(
            "missing tools:\n  - " + "\n  - ".join(problems)
            + f"\ninstall them with: sudo apt-get install {' '.join(packages)}  (or run ./scripts/setup.sh)"
        )


def tool_path(tool: Tool) -> str:
    """The tool's path; ToolMissingError, with the install command, when it is missing or too old."""
    check_tools((tool,))
    path = shutil.which(tool.command)
    assert path is not None  # check_tools found it
    return path
