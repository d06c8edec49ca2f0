"""QEMU backend: boots the firmware on ``qemu-system-arm -M <the board's machine>``.

The board (pipeline/boards.py) gives the machine, which ``-serial`` is the
firmware's console (the others go to ``null``; netduinoplus2's console USART2 is
the second) and the clock SysTick runs at. The UART capture is a plain file that
is polled: the run stops as soon as a complete ``DONE`` or ``FAULT ...`` line is in it.

Timing: ``-icount shift=N,sleep=off`` makes every instruction exactly 2^N ns of
virtual time, and the SysTick the firmware counts with runs at the board's clock
of that virtual time, so one instruction is 2^N * clock / 10^9 ticks
(:attr:`ticks_per_instruction`). The shift is the smallest giving at least
:data:`MIN_TICKS_PER_INSTRUCTION` ticks per instruction (:func:`icount_shift`):
5 (5.376 ticks) at the STM32F407's 168 MHz, 8 (6.4) at the MPS2's 25 MHz. Why:

* a SysTick tick must be finer than an instruction or single instructions cannot
  be resolved; each of the three readings that go into a count (the calibration
  base, the wrap calibration, the measurement) can be a tick off, so a wider
  margin keeps a 100,000,001-instruction measurement exact (measured at 168 MHz:
  shift 3, 1.3 ticks, counted it one instruction high, shifts 4 to 6 exactly);
* the firmware's 1,000,001-instruction calibration loop must fit in one SysTick
  period of 2^24 ticks (no wrap): fewer than 16.7 ticks per instruction; the
  smallest shift above 5 ticks is below 10, whatever the clock.

Bounds: the wall-clock bound (``EmulatorRun.wall_timeout_s``) is hard: the
process group is killed when it passes. QEMU has no option to stop after an
amount of *virtual* time, so the emulated bound is enforced through it: with
icount the virtual clock only advances by 2^shift ns per executed instruction
(``sleep=off``: idle time in ``wfi`` jumps straight to the next timer event), so
a run that has not finished within the wall bound is reported as a timeout
whatever its virtual time. ``emulated_timeout_s`` is translated into the
instruction budget it stands for (``extra["instruction_budget"]``) for the
report; the firmware's own DONE / FAULT lines end every run that behaves.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path

from pipeline.boards import DEFAULT_BOARD, Board, load_board
from pipeline.emulators.base import DONE_LINE, FAULT_PREFIX, EmulatorResult, EmulatorRun
from pipeline.errors import EmulatorError, EmulatorMissingError, EmulatorTimeoutError

QEMU_BINARY = "qemu-system-arm"
MIN_TICKS_PER_INSTRUCTION = 5.0
INSTALL_HINT = "install it with: sudo apt-get install qemu-system-arm"

_POLL_S = 0.05
_VERSION = re.compile(r"QEMU emulator version (\S+)")


class QemuBackend:
    """Boots one ELF per :meth:`run`; safe to reuse, holds no process between runs."""

    name = "qemu"

    def __init__(self, shift: int | None = None, binary: str = QEMU_BINARY,
                 extra_args: tuple[str, ...] = (), board: Board | None = None) -> None:
        self.board = board or load_board(DEFAULT_BOARD)
        self.board.check_emulator(self.name)
        assert self.board.qemu is not None  # check_emulator
        self.machine = self.board.qemu
        self.shift = icount_shift(self.board.clock_hz) if shift is None else shift
        if not 0 <= self.shift <= 10:
            raise ValueError(f"icount shift {self.shift} outside 0..10")
        self.binary = binary
        self.extra_args = extra_args  # e.g. the cycle model's -plugin (pipeline/stages/cycles.py)

    @property
    def ticks_per_instruction(self) -> float:
        """SysTick ticks per executed instruction, for CountModel."""
        return (1 << self.shift) * self.board.clock_hz / 1e9

    @property
    def ns_per_instruction(self) -> int:
        return 1 << self.shift

    def _path(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise EmulatorMissingError(f"{self.binary} not found on PATH; {INSTALL_HINT}")
        return path

    def check_available(self) -> None:
        self._path()

    def version(self) -> str:
        out = subprocess.run(
            [self._path(), "--version"], capture_output=True, text=True, check=False, timeout=30
        )
        match = _VERSION.search(out.stdout)
        if match is None:
            raise EmulatorError(f"cannot parse `{self.binary} --version`: {out.stdout!r}")
        return match.group(1)

    def command(self, elf: Path, uart: Path) -> list[str]:
        return [
            self._path(),
            "-M", self.machine.machine,
            "-nographic",
            "-kernel", str(elf),
            *("-serial", "null") * self.machine.console_serial,  # the UARTs before the console
            "-serial", f"file:{uart}",  # the firmware console
            "-monitor", "none",
            "-icount", f"shift={self.shift},sleep=off",
            *self.extra_args,
        ]  # fmt: skip

    def run(self, request: EmulatorRun) -> EmulatorResult:
        if not request.elf.is_file():
            raise EmulatorError(f"firmware ELF not found: {request.elf}")
        version = self.version()
        request.workdir.mkdir(parents=True, exist_ok=True)
        uart = request.workdir / "uart.log"
        log_path = request.workdir / "qemu.log"
        uart.unlink(missing_ok=True)
        cmd = self.command(request.elf.resolve(), uart.resolve())

        started = time.monotonic()
        with log_path.open("w") as log_file:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
            try:
                console, ended = self._wait(proc, uart, started + request.wall_timeout_s)
            finally:
                _kill_group(proc)
        wall = time.monotonic() - started

        extra = {
            "command": " ".join(cmd),
            "icount_shift": str(self.shift),
            "ticks_per_instruction": f"{self.ticks_per_instruction:g}",
            "wall_s": f"{wall:.3f}",
            "instruction_budget": str(int(request.emulated_timeout_s * 1e9) >> self.shift),
        }
        if ended == "exited":
            raise EmulatorError(
                f"{request.elf.name}: qemu exited with status {proc.returncode} before DONE"
                f" ({_tail(log_path)}); last console line: {_last_line(console)!r}"
            )
        if ended == "deadline":
            raise EmulatorTimeoutError(
                f"{request.elf.name}: no DONE or FAULT line within {request.wall_timeout_s:g} s"
                f" wall time (qemu killed); last console line: {_last_line(console)!r}"
            )
        return EmulatorResult(
            emulator=self.name, version=version, console=console,
            systick_ticks_per_instruction=self.ticks_per_instruction, log_path=log_path, extra=extra,
        )

    @staticmethod
    def _wait(proc: subprocess.Popen[bytes], uart: Path, deadline: float) -> tuple[str, str]:
        """Poll the UART file until a complete DONE / FAULT line ("finished"),
        QEMU's exit ("exited") or the deadline ("deadline")."""
        console = ""
        while True:
            exited = proc.poll() is not None  # before reading: no output lost at exit
            if uart.is_file():
                console = uart.read_bytes().decode("ascii", errors="replace")
                if _finished(console):
                    return console, "finished"
            if exited:
                return console, "exited"
            if time.monotonic() >= deadline:
                return console, "deadline"
            time.sleep(_POLL_S)


def icount_shift(clock_hz: int) -> int:
    """The smallest icount shift that gives SysTick at ``clock_hz`` at least MIN_TICKS_PER_INSTRUCTION."""
    return next(shift for shift in range(11) if (1 << shift) * clock_hz / 1e9 >= MIN_TICKS_PER_INSTRUCTION)


def _finished(console: str) -> bool:
    # Only complete lines: a FAULT line is still being printed until its '\n'.
    for line in console.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        text = line.strip()
        if text == DONE_LINE or text.startswith(FAULT_PREFIX):
            return True
    return False


def _last_line(console: str) -> str:
    lines = [ln.strip() for ln in console.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _tail(path: Path, lines: int = 5) -> str:
    with suppress(OSError):
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End QEMU and anything in its process group, then reap it.

    SIGKILL goes to the group while the leader is not yet reaped, so the group
    id cannot have been reused by an unrelated process. Nothing is lost: the
    console is a file QEMU wrote unbuffered, already read.
    """
    if proc.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
