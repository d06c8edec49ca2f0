"""Boards: firmware/boards/<name>/board.toml, read into a typed :class:`Board`.

A board folder holds everything that differs per part: its ``board.toml`` (core, compiler flags,
kernel sets, clock, emulators), its linker script (the part's memory regions, each named) and
its console driver. What every board shares (start-up, fault reporting, counter, stack painting,
profile marks, the sections of the linker script) is in ``firmware/boards/common/``.
docs/adding-a-board.md is the recipe.

The memory regions are read from the linker script's MEMORY block, the one place they are
written: the size figures (pipeline/analyses/elf_sizes.py) and the build stage's "does not fit"
message take them from here. A missing or mistyped key, an unknown kernel set or emulator, or a
linker script without the regions named is refused with the file and the problem named.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.codegen.kernels import KERNEL_SETS
from pipeline.config import ROOT, read_toml
from pipeline.errors import ConfigError

BOARDS_DIR = ROOT / "firmware" / "boards"
COMMON_DIR = BOARDS_DIR / "common"
DEFAULT_BOARD = "stm32f407"

# `NAME (attrs) : ORIGIN = <n>, LENGTH = <n>[K|M]` inside MEMORY { ... } (GNU ld's syntax, the forms we use).
_MEMORY_BLOCK = re.compile(r"\bMEMORY\s*\{(?P<body>[^}]*)\}", re.DOTALL)
_REGION = re.compile(
    r"(?P<name>\w+)\s*(?:\([^)]*\))?\s*:\s*ORIGIN\s*=\s*(?P<origin>0x[0-9A-Fa-f]+|\d+)\s*,"
    r"\s*LENGTH\s*=\s*(?P<length>0x[0-9A-Fa-f]+|\d+)\s*(?P<unit>[KM]?)"
)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_UNITS = {"": 1, "K": 1024, "M": 1024 * 1024}

_KEYS: dict[str, type] = {
    "name": str, "part": str, "description": str, "cpu": str, "cpu_flags": str, "kernel_sets": list,
    "clock_hz": int, "irq_count": int, "drivers": list, "linker_script": str, "cycle_model": bool,
    "ram_constants": bool, "memory": dict, "emulators": dict,
}
_EMULATOR_KEYS: dict[str, dict[str, type]] = {
    "qemu": {"machine": str, "console_serial": int},
    "renode": {"platform": str},
}


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    origin: int
    length: int

    def contains(self, address: int) -> bool:
        return self.origin <= address < self.origin + self.length


@dataclass(frozen=True)
class QemuMachine:
    machine: str  # qemu-system-arm -M <machine>
    console_serial: int  # which -serial is the firmware's console (the others go to null)


@dataclass(frozen=True)
class Board:
    name: str
    part: str  # the part as people write it, for messages ("STM32F407")
    description: str
    folder: Path
    cpu: str  # gcc's -mcpu
    cpu_flags: tuple[str, ...]  # every compile and the link
    kernel_sets: tuple[str, ...]  # kernel sets the core can run (pipeline/codegen/kernels.py); first: default
    clock_hz: int  # SysTick's clock in the emulators: the unit of counter=systick
    irq_count: int  # the vector table's external interrupts
    linker_script: Path
    memory: tuple[MemoryRegion, ...]  # the linker script's MEMORY regions
    flash: MemoryRegion
    ram: MemoryRegion
    cycle_model: bool  # docs/cycle-model.md's Cortex-M4 model applies to this core
    ram_constants: bool  # a model's [codegen] ram_constants_bytes runs its streamed constants from RAM here
    qemu: QemuMachine | None  # None: QEMU does not model this board
    renode_platform: Path | None  # None: Renode does not model this board

    @property
    def kernels(self) -> str:
        """The kernel set a build of this board uses unless told otherwise."""
        return self.kernel_sets[0]

    @property
    def emulators(self) -> tuple[str, ...]:
        """The emulators that model this board."""
        return tuple(e for e, there in (("qemu", self.qemu), ("renode", self.renode_platform)) if there)

    def region(self, name: str) -> MemoryRegion | None:
        return next((r for r in self.memory if r.name == name), None)

    def check_emulator(self, emulator: str) -> None:
        """ConfigError unless ``emulator`` models this board."""
        if emulator not in self.emulators:
            raise ConfigError(f"board {self.name}: {emulator} does not model it "
                              f"({self.folder / 'board.toml'} lists {', '.join(self.emulators) or 'no emulator'})")


def board_names() -> list[str]:
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board.toml"))


@functools.cache
def load_board(name: str = DEFAULT_BOARD) -> Board:
    """The board ``name`` (a folder of firmware/boards/); ConfigError naming the known boards if none."""
    path = BOARDS_DIR / name / "board.toml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name) or not path.is_file():
        raise ConfigError(f"no board '{name}': {path} does not exist; boards: {', '.join(board_names())}")
    return read_board(path)


def _get(path: Path, table: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    if key not in table:
        raise ConfigError(f"{path}: missing key '{key}'{where}")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key} = {value!r}{where} must be {'a ' + kind.__name__}")
    return value


def _unknown(path: Path, table: dict[str, Any], allowed: dict[str, Any], where: str = "") -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{path}: unknown key '{key}'{where} (mistyped?); expected one of {', '.join(allowed)}")


def read_board(path: Path) -> Board:
    """Read and check one board.toml and its linker script."""
    data = read_toml(path, "board")
    _unknown(path, data, _KEYS)
    folder = path.parent
    name = _get(path, data, "name", str)
    if name != folder.name:
        raise ConfigError(f"{path}: name = {name!r} must be the folder's name, {folder.name!r}")
    sets = tuple(_get(path, data, "kernel_sets", list))
    unknown = [s for s in sets if s not in KERNEL_SETS]
    if not sets or unknown or len(set(sets)) != len(sets):
        raise ConfigError(f"{path}: kernel_sets = {list(sets)!r}: want distinct kernel sets of "
                          f"pipeline/codegen/kernels.py ({', '.join(KERNEL_SETS)}), the default first")
    for driver in _get(path, data, "drivers", list):
        if not (BOARDS_DIR / "drivers" / f"{driver}.c").is_file():
            raise ConfigError(f"{path}: drivers: no {BOARDS_DIR / 'drivers' / f'{driver}.c'}")
    linker_script = folder / _get(path, data, "linker_script", str)
    memory = memory_regions(linker_script)
    mem_table = _get(path, data, "memory", dict)
    _unknown(path, mem_table, {"flash": str, "ram": str}, " in [memory]")
    flash, ram = (_named_region(path, linker_script, memory, _get(path, mem_table, k, str, " in [memory]"))
                  for k in ("flash", "ram"))
    emulators = _get(path, data, "emulators", dict)
    _unknown(path, emulators, _EMULATOR_KEYS, " in [emulators]")
    for emulator, table in emulators.items():
        where = f" in [emulators.{emulator}]"
        _unknown(path, table, _EMULATOR_KEYS[emulator], where)
        for key, kind in _EMULATOR_KEYS[emulator].items():
            _get(path, table, key, kind, where)
    qemu = QemuMachine(emulators["qemu"]["machine"], emulators["qemu"]["console_serial"]) \
        if "qemu" in emulators else None
    renode = ROOT / emulators["renode"]["platform"] if "renode" in emulators else None
    if renode is not None and not renode.is_file():
        raise ConfigError(f"{path}: [emulators.renode] platform: {renode} does not exist")
    return Board(
        name=name,
        part=_get(path, data, "part", str),
        description=_get(path, data, "description", str),
        folder=folder,
        cpu=_get(path, data, "cpu", str),
        cpu_flags=tuple(_get(path, data, "cpu_flags", str).split()),
        kernel_sets=sets,
        clock_hz=_get(path, data, "clock_hz", int),
        irq_count=_get(path, data, "irq_count", int),
        linker_script=linker_script,
        memory=memory,
        flash=flash,
        ram=ram,
        cycle_model=_get(path, data, "cycle_model", bool),
        ram_constants=_get(path, data, "ram_constants", bool),
        qemu=qemu,
        renode_platform=renode,
    )


def _named_region(path: Path, script: Path, memory: tuple[MemoryRegion, ...], name: str) -> MemoryRegion:
    region = next((r for r in memory if r.name == name), None)
    if region is None:
        raise ConfigError(f"{path}: [memory] names region {name!r}, which {script} does not declare "
                          f"(its regions: {', '.join(r.name for r in memory)})")
    return region


def memory_regions(script: Path) -> tuple[MemoryRegion, ...]:
    """The regions of the MEMORY block of a linker script."""
    try:
        text = _COMMENT.sub(" ", script.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{script}: linker script not found") from None
    block = _MEMORY_BLOCK.search(text)
    regions = tuple(
        MemoryRegion(m["name"], int(m["origin"], 0), int(m["length"], 0) * _UNITS[m["unit"]])
        for m in _REGION.finditer(block["body"] if block else "")
    )
    if not regions:
        raise ConfigError(f"{script}: no MEMORY block with `NAME : ORIGIN = ..., LENGTH = ...` regions")
    return regions
