"""Renode backend: boots the firmware headless and captures USART2 to a file.

One run is one ``renode --disable-xwt --console --plain -e ... -e ...`` process
(facts below were recorded with Renode 1.15.1, see tests/fixtures/renode-1.15.1/):

* monitor answers are hex (``0x00000000001E861E``), one per line;
* a refused command prints ``There was an error executing command '<cmd>'`` and
  the reason on the next line; the remaining ``-e`` commands (``quit`` too) are
  skipped and Renode then exits 0 once its standard input is closed;
* ``CPU abort [PC=0x...]`` (e.g. a jump outside memory) leaves ``emulation
  RunFor`` hanging for ever, so the log is watched while Renode runs and the
  process is killed as soon as the abort appears;
* Renode deletes ``renode-*`` folders in TMPDIR that are not live pids, so each
  run gets its own TMPDIR inside its workdir; ``RENODE_CI_MODE=YES`` and a private
  ``XDG_CONFIG_HOME`` keep it from writing settings and history under ``~/.config``;
* counting: the overlay's DWT counts executed instructions (see the .repl); the
  SysTick fallback's unit is the NVIC's SysTick frequency over PerformanceInMips x
  10^6, both asked from the monitor before the run (stm32f4.repl: 72 MHz over 100
  MIPS, 0.72 ticks per instruction, with Renode's 1 us time resolution).

The process runs in its own process group (``renode`` is a launcher script
around mono) and the whole group is killed on every way out of :meth:`run`.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import ROOT
from pipeline.emulators.base import DONE_LINE, FAULT_PREFIX, EmulatorResult, EmulatorRun
from pipeline.errors import (
    CpuAbortError,
    EmulatorCommandError,
    EmulatorError,
    EmulatorMissingError,
    EmulatorTimeoutError,
)

DEFAULT_PLATFORM = ROOT / "renode" / "stm32f4_tinyml.repl"
MACHINE_NAME = "tinyml"
UART = "sysbus.usart2"

INSTALL_HINT = (
    "Renode is not installed (no 'renode' on PATH). Install Antmicro's portable Linux "
    "package of Renode 1.15.1 (it bundles its runtime, no pip or system packages needed):\n"
    "  curl -fLO https://github.com/renode/renode/releases/download/v1.15.1/"
    "renode-1.15.1.linux-portable.tar.gz\n"
    "  mkdir -p ~/.local/renode && tar -xzf renode-1.15.1.linux-portable.tar.gz "
    "-C ~/.local/renode --strip-components=1\n"
    '  export PATH="$HOME/.local/renode:$PATH"\n'
    "and for renode-test its own venv: python3 -m venv ~/.local/renode/venv && "
    "~/.local/renode/venv/bin/pip install -r ~/.local/renode/tests/requirements.txt\n"
    "On the project's machines ./scripts/setup.sh installs the Renode bundle beside the checkout. "
    "See docs/renode.md, 'Installing Renode'."
)

_VERSION = re.compile(r"Renode,? v(?:ersion )?(\d+(?:\.\d+)+)")
_HEX_ANSWER = re.compile(r"^(0x[0-9A-Fa-f]+)[ \t]*$", re.MULTILINE)
_COMMAND_ERROR = re.compile(r"There was an error executing command '(?P<command>.*)'")
_CPU_ABORT = re.compile(r"CPU abort \[PC=(?P<pc>0x[0-9A-Fa-f]+)\]:?[ \t]*(?P<reason>[^\r\n]*)")


# ---------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class CommandErrorReport:
    command: str
    reason: str  # the line Renode printed after the error ("" if not printed yet)


@dataclass(frozen=True)
class CpuAbortReport:
    pc: int
    reason: str


def parse_version(text: str) -> str:
    """The version number from ``renode --version`` (or a log banner): '1.15.1.696'."""
    match = _VERSION.search(text)
    if match is None:
        raise EmulatorError(f"cannot read a Renode version from: {text.strip()[:200]!r}")
    return match.group(1)


def parse_hex_answers(log: str) -> list[int]:
    """Every monitor answer in a log, in order (Renode answers numbers in hex)."""
    return [int(m.group(1), 16) for m in _HEX_ANSWER.finditer(log)]


def find_command_error(log: str) -> CommandErrorReport | None:
    match = _COMMAND_ERROR.search(log)
    if match is None:
        return None
    rest = log[match.end() :].split("\n")
    # rest[0] is what followed the quote on the error line; the reason is the next
    # line, and only once it is complete (newline-terminated).
    reason = rest[1].strip() if len(rest) > 2 else ""
    return CommandErrorReport(match.group("command"), reason)


def find_cpu_abort(log: str) -> CpuAbortReport | None:
    match = _CPU_ABORT.search(log)
    if match is None:
        return None
    return CpuAbortReport(int(match.group("pc"), 16), match.group("reason").strip())


def console_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def last_line(text: str) -> str:
    lines = console_lines(text)
    return lines[-1] if lines else "(nothing)"


def final_line_seen(console: str) -> bool:
    """True once the firmware printed a complete DONE or FAULT line (it stops after either)."""
    complete = console[: console.rfind("\n") + 1]
    return any(
        line == DONE_LINE or line.startswith(FAULT_PREFIX) for line in console_lines(complete)
    )


def emulated_bound(seconds: float) -> str:
    """``RunFor`` argument: whole seconds, rounded up, as the recorded runs wrote it."""
    total = max(1, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _monitor_path(path: Path) -> str:
    # Renode 1.15.1's monitor splits its arguments on spaces (quoted paths came in 1.15.2).
    text = str(path.resolve())
    if any(ch.isspace() for ch in text):
        raise EmulatorError(
            f"Renode 1.15 cannot take a path containing spaces: {text!r}; "
            "move the build or work directory"
        )
    return "@" + text


def monitor_commands(
    elf: Path, platform: Path, uart_log: Path, emulated_timeout_s: float, before_run: tuple[str, ...] = ()
) -> list[str]:
    """The monitor commands of one run, in order; ``before_run`` go right before RunFor."""
    return [
        f'mach create "{MACHINE_NAME}"',
        f"machine LoadPlatformDescription {_monitor_path(platform)}",
        # true = flush after every byte, so the capture can be watched while Renode runs
        f"{UART} CreateFileBackend {_monitor_path(uart_log)} true",
        f"sysbus LoadELF {_monitor_path(elf)}",
        # Asked before the run (it is killed once DONE is printed): the SysTick unit.
        "sysbus.cpu PerformanceInMips",
        "sysbus.nvic Frequency",
        *before_run,
        f'emulation RunFor "{emulated_bound(emulated_timeout_s)}"',
        "sysbus.cpu ExecutedInstructions",
        "sysbus.cpu PC",
        "quit",
    ]


def build_command(
    renode: str, elf: Path, platform: Path, uart_log: Path, emulated_timeout_s: float,
    before_run: tuple[str, ...] = (),
) -> list[str]:
    """The full argv of one headless run."""
    argv = [renode, "--disable-xwt", "--console", "--plain"]
    for command in monitor_commands(elf, platform, uart_log, emulated_timeout_s, before_run):
        argv += ["-e", command]
    return argv


# ------------------------------------------------------------ process control


def private_environment(tmpdir: Path) -> dict[str, str]:
    """The environment of a Renode process: a private TMPDIR (Renode deletes renode-* folders of
    dead pids in it at start-up) and no settings, caches or monitor history under ~/.config/renode."""
    return {**os.environ, "TMPDIR": str(tmpdir), "RENODE_CI_MODE": "YES", "XDG_CONFIG_HOME": str(tmpdir / "config")}


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the launcher and everything it started; reap the launcher."""
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _LogTail:
    """Reads a growing file incrementally (Renode's log can grow to megabytes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.text = ""

    def poll(self) -> str:
        if self.path.exists():
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
            self._offset += len(data)
            self.text += data.decode("utf-8", errors="replace")
        return self.text


@dataclass
class _Outcome:
    kind: str  # "exited" | "cpu-abort" | "command-error" | "final-line" | "wall-timeout"
    returncode: int | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class RenodeBackend:
    """Boots the firmware in Renode; see the module docstring for the run's shape."""

    executable: str = "renode"
    platform: Path = DEFAULT_PLATFORM
    poll_interval_s: float = 0.1
    # Seconds to let Renode exit on its own after a command error before killing it
    # (it does once stdin is closed, which is how we start it).
    command_error_grace_s: float = 2.0
    # Stop as soon as the firmware printed DONE or FAULT instead of emulating the rest
    # of the emulated-time bound (the firmware only sleeps or spins after either).
    stop_on_final_line: bool = True
    # Monitor commands run after loading the ELF, before the emulation starts (e.g. the
    # profiler hooks of pipeline/analyses/flame_graph.py).
    before_run: tuple[str, ...] = ()
    name: str = field(default="renode", init=False)

    # -- EmulatorBackend --------------------------------------------------

    def check_available(self) -> None:
        if self._resolve() is None:
            raise EmulatorMissingError(INSTALL_HINT)

    def version(self) -> str:
        exe = self._require()
        try:
            done = subprocess.run(
                [exe, "--version"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmulatorError(f"'{exe} --version' did not answer within 60 s") from exc
        return parse_version(done.stdout.decode(errors="replace"))

    def run(self, request: EmulatorRun) -> EmulatorResult:
        exe = self._require()
        # A missing ELF is left to Renode: its monitor error names the file (EmulatorCommandError).
        workdir = request.workdir.resolve()
        tmpdir = workdir / "renode-tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        uart_log = workdir / "renode-uart.log"
        log_path = workdir / "renode.log"
        uart_log.unlink(missing_ok=True)
        argv = build_command(exe, request.elf, self.platform, uart_log, request.emulated_timeout_s,
                             self.before_run)
        started = time.monotonic()
        try:
            outcome, log = self._execute(argv, log_path, uart_log, tmpdir, request.wall_timeout_s)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)  # Renode's unpacked libraries: it was killed
        wall_s = time.monotonic() - started
        console = uart_log.read_text(errors="replace") if uart_log.exists() else ""
        extra = {"command_line": shlex.join(argv), "uart_log": str(uart_log), "wall_s": f"{wall_s:.3f}"}
        extra.update(outcome.details)
        _raise_for_outcome(outcome, log, console, log_path, request)
        answers = parse_hex_answers(log)
        if len(answers) < 2:
            raise EmulatorError(
                f"Renode did not answer 'sysbus.cpu PerformanceInMips' and 'sysbus.nvic Frequency' "
                f"(Renode log: {log_path}); the platform {self.platform} must declare a Cortex-M "
                "sysbus.cpu and its sysbus.nvic"
            )
        mips, systick_hz = answers[0], answers[1]
        extra["performance_in_mips"] = str(mips)
        extra["systick_hz"] = str(systick_hz)
        if outcome.kind == "exited" and len(answers) >= 4:
            extra["executed_instructions"] = str(answers[2])
            extra["pc"] = hex(answers[3])
        return EmulatorResult(
            self.name, _banner_version(log), console,
            systick_ticks_per_instruction=systick_hz / (mips * 1_000_000), log_path=log_path, extra=extra,
        )

    # -- internals --------------------------------------------------------

    def _resolve(self) -> str | None:
        return shutil.which(self.executable)

    def _require(self) -> str:
        exe = self._resolve()
        if exe is None:
            raise EmulatorMissingError(INSTALL_HINT)
        return exe

    def _execute(
        self, argv: list[str], log_path: Path, uart_log: Path, tmpdir: Path, wall_timeout_s: float
    ) -> tuple[_Outcome, str]:
        env = private_environment(tmpdir)
        with log_path.open("wb") as log_file:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,  # closed stdin: Renode exits after a refused command
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # own process group, killed as a whole
                )
            except FileNotFoundError as exc:
                raise EmulatorMissingError(INSTALL_HINT) from exc
            try:
                outcome = self._supervise(proc, _LogTail(log_path), uart_log, wall_timeout_s)
            finally:
                kill_group(proc)  # also on KeyboardInterrupt and on any error above
        return outcome, log_path.read_text(errors="replace")

    def _supervise(
        self, proc: subprocess.Popen[bytes], log: _LogTail, uart_log: Path, wall_timeout_s: float
    ) -> _Outcome:
        deadline = time.monotonic() + wall_timeout_s
        error_seen_at: float | None = None
        while True:
            returncode = proc.poll()
            text = log.poll()
            abort = find_cpu_abort(text)
            if abort is not None:
                return _Outcome("cpu-abort", returncode, {"pc": hex(abort.pc)})
            error = find_command_error(text)
            if error is not None:
                error_seen_at = error_seen_at or time.monotonic()
                waited = time.monotonic() - error_seen_at
                if error.reason or returncode is not None or waited > self.command_error_grace_s:
                    return _Outcome("command-error", returncode)
            elif returncode is not None:
                return _Outcome("exited", returncode)
            if self.stop_on_final_line and _final_line_in(uart_log):
                return _Outcome("final-line", returncode, {"stopped": "after final line"})
            if time.monotonic() > deadline:
                return _Outcome("wall-timeout", returncode)
            time.sleep(self.poll_interval_s)


def _final_line_in(uart_log: Path) -> bool:
    return uart_log.exists() and final_line_seen(uart_log.read_text(errors="replace"))


def _banner_version(log: str) -> str:
    try:
        return parse_version(log)
    except EmulatorError:
        return "unknown"


def _raise_for_outcome(
    outcome: _Outcome, log: str, console: str, log_path: Path, request: EmulatorRun
) -> None:
    """Turn every way a run can end without DONE/FAULT into the project's error."""
    seen = last_line(console)
    if outcome.kind == "cpu-abort":
        abort = find_cpu_abort(log)
        assert abort is not None  # the outcome was decided on this very text
        raise CpuAbortError(
            f"Renode: CPU abort at PC={abort.pc:#010x}: {abort.reason} "
            f"(last console line: {seen!r}; Renode log: {log_path}). Real hardware would "
            "take a HardFault here; Renode stops the CPU instead, so the run was killed."
        )
    if outcome.kind == "command-error":
        error = find_command_error(log)
        assert error is not None
        raise EmulatorCommandError(
            f"Renode refused the command {error.command!r}: "
            f"{error.reason or '(no reason printed)'}. The remaining commands were not run "
            f"(Renode log: {log_path})."
        )
    if outcome.kind == "wall-timeout":
        raise EmulatorTimeoutError(
            f"Renode did not finish within {request.wall_timeout_s:g} s of wall-clock time and "
            f"was killed; last console line: {seen!r} (Renode log: {log_path})."
        )
    if outcome.kind != "exited" or final_line_seen(console):
        return
    if outcome.returncode != 0:
        raise EmulatorError(
            f"Renode exited with code {outcome.returncode} before the firmware finished; "
            f"last console line: {seen!r}; see the Renode log: {log_path}"
        )
    raise EmulatorTimeoutError(
        f"the emulated-time bound ({request.emulated_timeout_s:g} s) was hit: RunFor returned "
        f"and the firmware had printed neither {DONE_LINE} nor a FAULT line; last console "
        f"line: {seen!r} (Renode log: {log_path})."
    )
