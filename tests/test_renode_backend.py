"""The Renode backend: parsing of recorded Renode 1.15.1 runs, and end-to-end runs
against a fake ``renode`` that replays those recordings (Renode is not installed here)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import threading
import time
from pathlib import Path

import pytest

from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.firmware_log import parse_console
from pipeline.emulators.renode import (
    DEFAULT_PLATFORM,
    INSTALL_HINT,
    RenodeBackend,
    build_command,
    emulated_bound,
    final_line_seen,
    find_command_error,
    find_cpu_abort,
    monitor_commands,
    parse_hex_answers,
    parse_version,
)
from pipeline.errors import (
    CpuAbortError,
    EmulatorCommandError,
    EmulatorError,
    EmulatorMissingError,
    EmulatorTimeoutError,
    FirmwareFaultError,
)
from tests.renode_fake import FIRMWARE_OK, FIXTURES, write_fake_renode

RUNS = ("r1-stock-board.txt", "r2-cpu-platform-dwt.txt", "r3-fault.txt", "r4-udf.txt")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# ------------------------------------------------------------ recorded output


def test_version_is_read_from_renode_version_and_from_the_log_banner() -> None:
    assert parse_version(fixture("version.txt")) == "1.15.1.32676"
    for run in RUNS:
        assert parse_version(fixture(run)) == "1.15.1.32676"


def test_version_refuses_text_without_one() -> None:
    with pytest.raises(EmulatorError, match="cannot read a Renode version"):
        parse_version("bash: renode: command not found")


def test_hex_monitor_answers_are_read_in_order() -> None:
    # r1 asked ExecutedInstructions, PerformanceInMips, ReadDoubleWord 0xE0001004 (no DWT)
    assert parse_hex_answers(fixture("r1-stock-board.txt")) == [0x1E861E, 100, 0]
    assert parse_hex_answers(fixture("r2-cpu-platform-dwt.txt")) == [0x1E868A]
    assert parse_hex_answers(fixture("r4-udf.txt")) == [0x800006E]
    # the run killed after a CPU abort answered nothing
    assert parse_hex_answers(fixture("r3-fault.txt")) == []


def test_command_error_names_the_command_and_renodes_reason() -> None:
    error = find_command_error(fixture("r5-missing-elf.txt"))
    assert error is not None
    assert error.command == "sysbus LoadELF @<FW>/nonexistent.elf"
    assert error.reason == "File does not exist: <FW>/nonexistent.elf"
    for run in RUNS:
        assert find_command_error(fixture(run)) is None


def test_command_error_reason_waits_for_a_complete_line() -> None:
    partial = "There was an error executing command 'sysbus LoadELF @x'\nFile does not"
    error = find_command_error(partial)
    assert error is not None and error.reason == ""


def test_cpu_abort_gives_the_pc() -> None:
    abort = find_cpu_abort(fixture("r3-fault.txt"))
    assert abort is not None
    assert abort.pc == 0x30000000
    assert abort.reason.startswith("Trying to execute code outside RAM or ROM")
    for run in ("r1-stock-board.txt", "r2-cpu-platform-dwt.txt", "r4-udf.txt"):
        assert find_cpu_abort(fixture(run)) is None


def test_recorded_uart_captures_and_the_dwt_count() -> None:
    # Stock board: no DWT, CYCCNT reads 0. Overlay DWT at 100 MHz with 100 MIPS:
    # the 2,000,000-instruction loop reads exactly 2000000 ticks (1 tick = 1 instruction).
    assert "cyccnt=0\n" in fixture("r1-uart.log")
    assert "cyccnt=2000000\n" in fixture("r2-uart.log")
    assert "non existing peripheral at 0xE0001004" in fixture("r1-stock-board.txt")
    assert final_line_seen(fixture("r1-uart.log"))
    assert final_line_seen(fixture("r2-uart.log"))
    assert not final_line_seen(fixture("r3-uart.log"))  # hung after "about to fault"
    assert final_line_seen(fixture("r4-uart.log"))  # "FAULT handler entered"


def test_final_line_needs_its_newline() -> None:
    assert not final_line_seen("BOOT x\nDON")
    assert not final_line_seen("BOOT x\nDONE")  # still being written
    assert final_line_seen("BOOT x\nDONE\n")
    assert not final_line_seen("FAULTY\n")
    assert final_line_seen("FAULT HardFault pc=0x1 lr=0x2 cfsr=0x3\n")


def test_svd_download_is_in_the_stock_runs_and_not_with_the_offline_overlay() -> None:
    svd = "Downloading https://dl.antmicro.com/projects/renode/svd/STM32F40x.svd.gz"
    assert svd in fixture("r1-stock-board.txt")
    assert svd in fixture("r2-cpu-platform-dwt.txt")
    assert svd not in fixture("r3-fault.txt")
    assert svd not in fixture("r4-udf.txt")


# ------------------------------------------------------------ command line


def test_emulated_bound_is_whole_seconds_rounded_up() -> None:
    assert emulated_bound(1) == "00:00:01"
    assert emulated_bound(0.02) == "00:00:01"
    assert emulated_bound(60) == "00:01:00"
    assert emulated_bound(3725.5) == "01:02:06"


def test_command_line_wires_platform_uart_elf_and_bounds(tmp_path: Path) -> None:
    elf, uart = tmp_path / "fw.elf", tmp_path / "uart.log"
    argv = build_command("renode", elf, DEFAULT_PLATFORM, uart, emulated_timeout_s=42)
    assert argv[:4] == ["renode", "--disable-xwt", "--console", "--plain"]
    assert argv[4::2] == ["-e"] * 10
    assert argv[5::2] == [
        'mach create "tinyml"',
        f"machine LoadPlatformDescription @{DEFAULT_PLATFORM}",
        f"sysbus.usart2 CreateFileBackend @{uart.resolve()} true",
        f"sysbus LoadELF @{elf.resolve()}",
        "sysbus.cpu PerformanceInMips",
        "sysbus.nvic Frequency",
        'emulation RunFor "00:00:42"',
        "sysbus.cpu ExecutedInstructions",
        "sysbus.cpu PC",
        "quit",
    ]


def test_paths_with_spaces_are_refused_before_renode_runs(tmp_path: Path) -> None:
    spaced = tmp_path / "my build"
    with pytest.raises(EmulatorError, match="spaces"):
        monitor_commands(spaced / "fw.elf", DEFAULT_PLATFORM, tmp_path / "u.log", 1)


# ------------------------------------------------------------ fake renode, end to end


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[RenodeBackend, Path]:
    bindir, state = tmp_path / "bin", tmp_path / "state"
    bindir.mkdir()
    state.mkdir()
    exe = write_fake_renode(bindir)
    monkeypatch.setenv("FAKE_RENODE_STATE", str(state))
    return RenodeBackend(executable=str(exe), poll_interval_s=0.05), state


def request(tmp_path: Path, wall: float = 30.0, emulated: float = 60.0) -> EmulatorRun:
    elf = tmp_path / "fw" / "tinyml_fw.elf"
    elf.parent.mkdir(exist_ok=True)
    elf.write_bytes(b"\x7fELF")
    return EmulatorRun(elf, tmp_path / "work", wall_timeout_s=wall, emulated_timeout_s=emulated)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has exited


def assert_no_renode_left(state: Path) -> None:
    pids = [int(p) for p in (state / "pids").read_text().split()]
    deadline = time.monotonic() + 60  # a bound on the poll, not a timing check
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "a renode process (or its child) is still running"


def test_successful_run_returns_console_and_monitor_answers(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    backend.stop_on_final_line = False  # let the fake reach its monitor answers
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "done")
    result = backend.run(request(tmp_path, emulated=60))
    assert result.emulator == "renode"
    assert result.console == FIRMWARE_OK
    assert parse_console(result.console).done
    assert result.extra["executed_instructions"] == str(0x1E868A)
    assert result.extra["pc"] == "0x8000144"
    # SysTick at 72 MHz over 100 MIPS, as a real Renode 1.15.1 answered on the overlay
    assert result.systick_ticks_per_instruction == pytest.approx(0.72)
    assert result.version == "unknown"  # the fake printed no banner
    assert result.log_path is not None and "Machine paused" in result.log_path.read_text()
    recorded = json.loads((state / "argv.json").read_text())
    assert recorded["argv"][1:] == shlex.split(result.extra["command_line"])[1:]
    assert 'emulation RunFor "00:01:00"' in recorded["argv"]
    # TMPDIR inside the run's workdir: Renode's temp-folder clean-up cannot touch others'
    assert Path(recorded["tmpdir"]) == (tmp_path / "work" / "renode-tmp").resolve()
    assert not Path(recorded["tmpdir"]).exists(), "the private TMPDIR is removed after the run"
    # no settings or monitor history under the user's ~/.config/renode
    assert recorded["renode_ci_mode"] == "YES"
    assert Path(recorded["xdg_config_home"]).is_relative_to(recorded["tmpdir"])
    assert_no_renode_left(state)


def test_recorded_run_replays_to_a_result(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    backend.stop_on_final_line = False
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "recorded-r2")
    result = backend.run(request(tmp_path))
    assert result.console == fixture("r2-uart.log")
    assert result.version == "1.15.1.32676"
    assert "pc" not in result.extra  # r2 asked one question only
    assert_no_renode_left(state)


def test_run_stops_once_done_is_printed(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "done-then-hang")
    result = backend.run(request(tmp_path, wall=30))
    assert result.console == FIRMWARE_OK
    assert result.extra["stopped"] == "after final line"
    assert_no_renode_left(state)


def test_firmware_fault_is_returned_for_the_parser_to_raise(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    backend.stop_on_final_line = False
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "recorded-r4-fault")
    result = backend.run(request(tmp_path))
    assert result.console.endswith("FAULT handler entered\n")
    with pytest.raises(FirmwareFaultError, match="FAULT handler entered"):
        parse_console(result.console)
    assert_no_renode_left(state)


def test_command_error_raises_with_command_and_reason(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "command-error")
    req = request(tmp_path)
    with pytest.raises(EmulatorCommandError) as caught:
        backend.run(req)
    message = str(caught.value)
    assert f"'sysbus LoadELF @{req.elf.resolve()}'" in message
    assert f"File does not exist: {req.elf.resolve()}" in message
    assert "remaining commands were not run" in message
    assert_no_renode_left(state)


def test_cpu_abort_kills_renode_at_once_and_names_the_pc(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "cpu-abort")
    with pytest.raises(CpuAbortError) as caught:  # not EmulatorTimeoutError: no wait for the wall bound
        backend.run(request(tmp_path, wall=60))
    message = str(caught.value)
    assert "PC=0x30000000" in message
    assert "Trying to execute code outside RAM or ROM" in message
    assert "'about to fault'" in message  # the last console line
    assert_no_renode_left(state)


def test_wall_clock_bound_kills_renode_and_reports_the_last_line(
    fake, tmp_path, monkeypatch
) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "wall-timeout")
    with pytest.raises(EmulatorTimeoutError) as caught:
        backend.run(request(tmp_path, wall=1.5))
    assert "wall-clock" in str(caught.value)
    assert "'VEC 0 class=3'" in str(caught.value)
    assert_no_renode_left(state)


def test_emulated_bound_without_done_is_a_timeout(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "runfor-bound")
    with pytest.raises(EmulatorTimeoutError) as caught:
        backend.run(request(tmp_path, emulated=5))
    message = str(caught.value)
    assert "emulated-time bound (5 s) was hit" in message
    assert "'VEC 0 class=3'" in message
    assert_no_renode_left(state)


def test_renode_crash_is_an_emulator_error(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "crash")
    with pytest.raises(EmulatorError, match="exited with code 3"):
        backend.run(request(tmp_path))
    assert_no_renode_left(state)


def test_keyboard_interrupt_leaves_no_renode_behind(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "wall-timeout")
    stop = threading.Event()

    def interrupt_once_renode_runs() -> None:  # the fake writes its pids once it has started
        while not stop.wait(0.05):
            if (state / "pids").is_file() and (state / "pids").read_text().strip():
                os.kill(os.getpid(), signal.SIGINT)
                return

    watcher = threading.Thread(target=interrupt_once_renode_runs, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            backend.run(request(tmp_path, wall=60))
    finally:
        stop.set()
        watcher.join()
    assert_no_renode_left(state)


def test_version_runs_renode_version(fake, monkeypatch) -> None:
    backend, _ = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "done")
    assert backend.version() == "1.15.1.32676"


def test_missing_renode_is_reported_quickly_with_an_install_hint(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    backend = RenodeBackend()
    with pytest.raises(EmulatorMissingError) as caught:
        backend.check_available()
    assert str(caught.value) == INSTALL_HINT
    assert "renode-1.15.1.linux-portable.tar.gz" in INSTALL_HINT
    assert "docs/renode.md" in INSTALL_HINT
    with pytest.raises(EmulatorMissingError):
        backend.run(request(tmp_path))
    with pytest.raises(EmulatorMissingError):
        backend.version()


def test_missing_elf_is_left_to_renode_s_monitor_error(fake, tmp_path, monkeypatch) -> None:
    backend, state = fake
    monkeypatch.setenv("FAKE_RENODE_SCENARIO", "command-error")
    req = EmulatorRun(tmp_path / "nope.elf", tmp_path / "work")
    with pytest.raises(EmulatorCommandError, match=r"sysbus LoadELF @.*nope\.elf'.*File does not exist"):
        backend.run(req)
    assert_no_renode_left(state)
