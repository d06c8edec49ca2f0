"""The build stage: generated C + kernels + harness -> one board's firmware ELF.

Drives the CMake project in ``firmware/`` (toolchain file
``firmware/cmake/arm-none-eabi.cmake``): configure with Ninja when it is
installed (else Unix Makefiles), build, and read the size figures of the ELF.

The ELF, ``.bin`` and ``.map`` of a previous build are deleted before building,
so a failed build leaves nothing that looks valid, and success is only reported
for an ELF written by this build. An image larger than one of the board's memory
regions fails to link; the error then says what the image needs and what the
part has, region by region (ld only says by how much it overflows).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.analyses.elf_sizes import SizeFigures, elf_sizes
from pipeline.boards import DEFAULT_BOARD, Board, MemoryRegion, load_board
from pipeline.codegen.kernels import KERNEL_SETS
from pipeline.config import ROOT
from pipeline.errors import StageError
from pipeline.tools import TOOLCHAIN, check_tools

log = logging.getLogger(__name__)

FIRMWARE_DIR = ROOT / "firmware"
TOOLCHAIN_FILE = FIRMWARE_DIR / "cmake" / "arm-none-eabi.cmake"
TARGET = "tinyml_fw"

# Lines of compiler / linker / CMake output worth showing when a build fails.
_ERROR_LINE = re.compile(
    r"\berror:|undefined reference|overflowed|tinyml-ci:|multiple definition"
    r"|No such file|CMake Error|FAILED:",
    re.IGNORECASE,
)
_MAX_ERROR_LINES = 40
_DEFINE_NAME = re.compile(r"^[A-Za-z_]\w*$")
# ld's two ways of saying an image does not fit a MEMORY region.
_OVERFLOWED = re.compile(r"region `(?P<region>\w+)' overflowed by (?P<bytes>\d+) bytes")
_OUTSIDE = re.compile(r"address (?P<end>0x[0-9a-fA-F]+) of \S+ section `\S+' is not within region `(?P<region>\w+)'")


@dataclass(frozen=True)
class BuildRequest:
    """One firmware build."""

    model_dir: Path  # the generated C: model.c/.h, kernels.cmake, test_vectors.c/.h (+ any other *.c)
    build_dir: Path  # CMake binary dir; reused between builds of the same request
    stack_bytes: int = 8192  # stack reserved by the linker script (TC_STACK_BYTES)
    fault_test: bool = False  # test only: 'udf #0' right after BOOT (TC_FAULT_TEST)
    extra_defines: dict[str, str] = field(default_factory=dict)  # C defines for every source
    kernels: str | None = None  # TC_KERNELS: one of the board's kernel sets (None: its default)
    board: str = DEFAULT_BOARD  # TC_BOARD: a folder of firmware/boards/


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    map_file: Path
    bin_file: Path
    sizes: SizeFigures
    toolchain_version: str  # first line of `arm-none-eabi-gcc --version`
    generator: str  # the CMake generator used
    seconds: float  # wall time of configure + build


def toolchain_version() -> str:
    out = subprocess.run(
        ["arm-none-eabi-gcc", "--version"], capture_output=True, text=True, check=False
    )
    return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"


def _generator(build_dir: Path) -> str:
    """Keep the generator a build dir was configured with; CMake refuses a switch."""
    cache = build_dir / "CMakeCache.txt"
    if cache.is_file():
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_GENERATOR:INTERNAL="):
                return line.split("=", 1)[1]
    return "Ninja" if shutil.which("ninja") else "Unix Makefiles"


def _defines_arg(defines: dict[str, str]) -> str:
    for name in defines:
        if not _DEFINE_NAME.match(name):
            raise StageError(f"extra define {name!r} is not a C identifier")
        if ";" in defines[name]:
            raise StageError(f"extra define {name}={defines[name]!r}: ';' is not allowed")
    return ";".join(f"{k}={v}" for k, v in sorted(defines.items()))


def _run(cmd: list[str], what: str, on_line: Callable[[str], None], board: Board | None = None) -> None:
    """Run a command, streaming its output; StageError with the error lines on failure (and, for a
    link that overflowed ``board``'s memory, what the image needs against what the part has)."""
    lines: list[str] = []
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            on_line(line)
        rc = proc.wait()
    if rc != 0:
        errors = [ln for ln in lines if _ERROR_LINE.search(ln)] or lines[-20:]
        shown = "\n".join(errors[:_MAX_ERROR_LINES])
        fit = _does_not_fit(board, lines) if board is not None else ""
        raise StageError(f"{fit}firmware {what} failed (exit {rc}): {' '.join(cmd)}\n{shown}")


def _does_not_fit(board: Board, lines: list[str]) -> str:
    """'<board>: RAM overflow: the image needs N B of RAM, the part has M B' per region ld refused."""
    needed: dict[MemoryRegion, int] = {}
    for line in lines:
        for m in _OVERFLOWED.finditer(line):
            if (region := board.region(m["region"])) is not None:
                needed[region] = max(needed.get(region, 0), region.length + int(m["bytes"]))
        for m in _OUTSIDE.finditer(line):
            if (region := board.region(m["region"])) is not None:
                needed[region] = max(needed.get(region, 0), int(m["end"], 16) - region.origin)
    return "".join(
        f"{board.name}: {region.name} overflow: the image needs {size:,} B of {region.name}, the {board.part} "
        f"has {region.length:,} B ({region.length // 1024} KB); it would only run in an emulator\n"
        for region, size in sorted(needed.items(), key=lambda item: item[0].name)
    )


def build_firmware(req: BuildRequest, on_line: Callable[[str], None] | None = None) -> BuildResult:
    """Configure and build the firmware for ``req``; return the ELF and its sizes.

    ``on_line`` receives every line of CMake / compiler output as it comes
    (default: the ``pipeline.stages.build`` logger at INFO).
    """
    check_tools(TOOLCHAIN)
    emit = on_line or log.info
    model_dir = req.model_dir.resolve()
    for name in ("model.c", "model.h", "kernels.cmake", "test_vectors.c", "test_vectors.h"):
        if not (model_dir / name).is_file():
            raise StageError(f"{model_dir} has no {name}: run the codegen stage first")
    board = load_board(req.board)
    kernels = req.kernels or board.kernels
    if kernels not in KERNEL_SETS:
        raise StageError(f"kernels={kernels!r}: want one of {', '.join(KERNEL_SETS)}")
    if kernels not in board.kernel_sets:
        raise StageError(f"kernels={kernels!r}: the {board.name} core runs only {', '.join(board.kernel_sets)}")
    if req.stack_bytes < 1024 or req.stack_bytes % 8:
        raise StageError(f"stack_bytes={req.stack_bytes}: want a multiple of 8, at least 1024")

    build_dir = req.build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    elf = build_dir / f"{TARGET}.elf"
    outputs = (elf, build_dir / f"{TARGET}.map", build_dir / f"{TARGET}.bin")
    for stale in outputs:
        stale.unlink(missing_ok=True)

    generator = _generator(build_dir)
    started = time.time()
    _run(
        [
            "cmake",
            "-S", str(FIRMWARE_DIR),
            "-B", str(build_dir),
            "-G", generator,
            f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}",
            f"-DTC_MODEL_DIR={model_dir}",
            f"-DTC_STACK_BYTES={req.stack_bytes}",
            f"-DTC_FAULT_TEST={'ON' if req.fault_test else 'OFF'}",
            f"-DTC_EXTRA_DEFINES={_defines_arg(req.extra_defines)}",
            f"-DTC_KERNELS={kernels}",
            f"-DTC_BOARD={board.name}",
        ],
        "configure",
        emit,
    )  # fmt: skip
    _run(["cmake", "--build", str(build_dir)], "build", emit, board)

    for output in outputs:
        if not output.is_file() or output.stat().st_mtime < started - 1.0:
            raise StageError(f"firmware build reported success but did not write {output}")
    return BuildResult(
        elf=elf,
        map_file=outputs[1],
        bin_file=outputs[2],
        sizes=elf_sizes(elf, board.flash),
        toolchain_version=toolchain_version(),
        generator=generator,
        seconds=time.time() - started,
    )
