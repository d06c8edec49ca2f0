"""What every emulator backend takes and gives back.

A backend boots one ELF, captures the firmware's USART2 console until the
firmware prints its final ``DONE`` line (or a fault line), and returns the text.
It never interprets the firmware's lines beyond knowing when to stop: that is
:mod:`pipeline.emulators.firmware_log`'s job, shared by every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Lines the firmware prints that end a run (see docs/architecture.md, "Console protocol").
DONE_LINE = "DONE"
FAULT_PREFIX = "FAULT "


@dataclass(frozen=True)
class EmulatorRun:
    """One run of a firmware in an emulator."""

    elf: Path
    workdir: Path  # logs, the UART capture and temporary files of this run go here
    wall_timeout_s: float = 120.0  # host seconds before the emulator is killed
    emulated_timeout_s: float = 60.0  # emulated seconds before the run is stopped


@dataclass
class EmulatorResult:
    """What came out of a run that ended (DONE or a fault line seen)."""

    emulator: str  # "qemu" or "renode"
    version: str  # the emulator's version string, for metrics.json
    console: str  # everything the firmware printed on USART2
    # SysTick ticks per executed instruction in this run (the unit of counter=systick);
    # counter=dwt needs none: the firmware accepts a DWT only at one tick per instruction.
    systick_ticks_per_instruction: float
    log_path: Path | None = None  # the emulator's own log, kept for reports
    extra: dict[str, str] = field(default_factory=dict)  # backend details (command line, ...)


class EmulatorBackend(Protocol):
    """An emulator that can boot the firmware."""

    name: str

    def check_available(self) -> None:
        """Raise EmulatorMissingError (with an install hint) if the emulator cannot run."""

    def version(self) -> str:
        """The emulator's version string."""

    def run(self, request: EmulatorRun) -> EmulatorResult:
        """Boot ``request.elf`` and return its console output.

        Raises EmulatorTimeoutError (with the last console line seen),
        CpuAbortError (with the PC), EmulatorCommandError or EmulatorMissingError.
        Never leaves an emulator process running, including on KeyboardInterrupt.
        """
