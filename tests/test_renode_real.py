"""The firmware on a real Renode: counts equal QEMU's, faults, bounds and clean-up, renode-test.

Every test here needs ``renode`` on PATH (the ``renode`` fixture): without it they are not
run, and the test command's summary says so (``renode: not installed, N tests not run``);
``.ci/run`` sets TINYML_REQUIRE_RENODE=1 so that a missing Renode fails them instead.
Facts they pin were measured with Renode 1.15.1 (docs/renode.md, "What was measured").
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from pipeline.analyses.flame_graph import renode_flame_graph
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.renode import RenodeBackend, console_lines
from pipeline.emulators.renode_native import RenodeTestReport, run_native_suite
from pipeline.errors import CpuAbortError, EmulatorCommandError, EmulatorTimeoutError, FirmwareFaultError
from pipeline.pipeline import ModelBuild
from pipeline.stages.build import FIRMWARE_DIR, BuildRequest, build_firmware
from pipeline.stages.cycles import function_address
from pipeline.stages.firmware_run import FirmwareRun, boot
from tests.conftest import require_tool
from tests.processes import interrupt_python, pids_mentioning
from tests.test_digits_pipeline import _run_suite

pytestmark = [pytest.mark.renode, pytest.mark.emulator, pytest.mark.toolchain, pytest.mark.usefixtures("renode")]

# The stock platform's SVD download, which the overlay's init section removes.
DOWNLOAD_LINE = re.compile(r"Download", re.IGNORECASE)

# The CYCCNT reads that need one instruction per translation block (renode/stm32f4_tinyml.repl).
TB_READS = Path(__file__).parent / "renode_count" / "tb_reads.S"
BARE_METAL_LD = Path(__file__).parent / "cycle_bench" / "bench.ld"  # vector table first, all in flash
# Renode 1.15.1's own maximum translation block size (`sysbus.cpu MaximumBlockSize` on the stock cpu).
STOCK_MAXIMUM_BLOCK_SIZE = 10000


def _stub_elf(tmp_path: Path, name: str, defines: dict[str, str]) -> Path:
    return build_firmware(BuildRequest(FIRMWARE_DIR / "tests" / "stub_model", tmp_path / name,
                                       extra_defines=defines)).elf


def _renode_run(elf: Path, workdir: Path, wall_s: float = 120.0, emulated_s: float = 30.0) -> str:
    return RenodeBackend().run(EmulatorRun(elf, workdir, wall_s, emulated_s)).console


@pytest.fixture(scope="module")
def renode_digits(digits: ModelBuild, tmp_path_factory: pytest.TempPathFactory) -> tuple[FirmwareRun, Path]:
    workdir = tmp_path_factory.mktemp("renode-digits")
    emu = digits.cfg.emulator
    return boot(digits.elf, workdir, "renode", emu.wall_timeout_s, emu.emulated_timeout_s), workdir


# ------------------------------------------------------------ counting


def test_renode_counts_every_vector_exactly_as_qemu_does(
        digits: ModelBuild, renode_digits: tuple[FirmwareRun, Path], tmp_path: Path) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    on_renode, _ = renode_digits
    emu = digits.cfg.emulator
    on_qemu = boot(digits.elf, tmp_path / "qemu", "qemu", emu.wall_timeout_s, emu.emulated_timeout_s)
    assert on_renode.counter_source == "dwt", "the overlay's instruction-counting DWT was not detected"
    assert on_qemu.counter_source == "systick"
    assert all(abs(e) <= 10 for e in on_renode.calibration_errors), on_renode.calibration_errors
    assert len(on_renode.instructions) == len(on_qemu.instructions) == 360
    assert on_renode.instructions == on_qemu.instructions
    assert (on_renode.outputs() == on_qemu.outputs()).all()


@pytest.fixture(scope="module")
def tb_reads_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi")
    elf = tmp_path_factory.mktemp("tb-reads") / "tb_reads.elf"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-T", str(BARE_METAL_LD),
                    str(TB_READS), "-o", str(elf)], check=True)
    return elf


def _tb_reads(elf: Path, workdir: Path, before_run: tuple[str, ...] = ()) -> dict[str, int]:
    console = RenodeBackend(before_run=before_run).run(EmulatorRun(elf, workdir, 120.0, 10.0)).console
    lines = console_lines(console)
    assert lines[-1] == "DONE", console
    return {name: int(value, 16) for name, value in (line.split() for line in lines[:-1])}


def test_cyccnt_reads_are_exact_inside_a_block_and_across_quantum_boundaries(
        tb_reads_elf: Path, tmp_path: Path) -> None:
    # Exact: 5 instructions between two reads of one block, every loop read 11 after the last,
    # also at a shorter quantum (its boundaries land on other instructions of the loop).
    assert _tb_reads(tb_reads_elf, tmp_path / "default") == {"SAME_BLOCK": 5, "LOOP_BAD": 0}
    quantum = ('emulation SetGlobalQuantum "0.00005"',)
    assert _tb_reads(tb_reads_elf, tmp_path / "quantum", quantum) == {"SAME_BLOCK": 5, "LOOP_BAD": 0}


def test_cyccnt_reads_are_wrong_with_renode_s_own_block_size(tb_reads_elf: Path, tmp_path: Path) -> None:
    # The same firmware detects the error the overlay's cpu section removes: both reads of one block
    # see the block's end, and each quantum boundary after the loop's read makes two differences wrong.
    stock = (f"sysbus.cpu MaximumBlockSize {STOCK_MAXIMUM_BLOCK_SIZE}",)
    found = _tb_reads(tb_reads_elf, tmp_path / "stock", stock)
    assert found["SAME_BLOCK"] == 0, found
    assert found["LOOP_BAD"] >= 2, found


def test_the_run_leaves_no_download_no_temp_folder_and_no_renode_settings(
        renode_digits: tuple[FirmwareRun, Path]) -> None:
    _, workdir = renode_digits
    log = (workdir / "renode.log").read_text()
    assert "Renode, version 1.15" in log
    assert not DOWNLOAD_LINE.search(log), "the overlay should load without the SVD download"
    assert not (workdir / "renode-tmp").exists(), "Renode's private TMPDIR (its unpacked libraries) is removed"


def test_renode_writes_nothing_into_home_or_the_system_temp(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, system_tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    system_tmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    elf = _stub_elf(tmp_path, "fw-stub", {})
    assert _renode_run(elf, tmp_path / "run").rstrip().endswith("DONE")
    assert list(home.iterdir()) == [], "Renode wrote into the user's home (~/.config/renode)"
    assert list(system_tmp.iterdir()) == [], "Renode wrote into the system's temporary directory"


# ------------------------------------------------------------ faults and bounds


def test_udf_firmware_gives_the_fault_report_with_its_pc(digits: ModelBuild, tmp_path: Path) -> None:
    elf = build_firmware(BuildRequest(digits.generated, tmp_path / "fw-fault", fault_test=True,
                                      stack_bytes=int(digits.cfg.budgets["max_stack_bytes"]))).elf
    pc = function_address(elf, "fault_test_udf")
    with pytest.raises(FirmwareFaultError, match=rf"FAULT UsageFault pc=0x{pc:08x}"):
        boot(elf, tmp_path / "run", "renode", 120.0, 30.0)
    assert pids_mentioning(str(tmp_path)) == []


def test_execution_outside_memory_is_a_cpu_abort_and_renode_is_stopped_at_once(tmp_path: Path) -> None:
    elf = _stub_elf(tmp_path, "fw-jump", {"STUB_MODEL_JUMP_AT": "0"})
    # Renode's RunFor never returns after an abort (recorded): only watching the log stops it, and a
    # run stopped by the wall bound would be an EmulatorTimeoutError, not this.
    with pytest.raises(CpuAbortError, match=r"CPU abort at PC=0x30000000") as caught:
        _renode_run(elf, tmp_path / "run", wall_s=120.0, emulated_s=600.0)
    assert "last console line: 'BOOT" in str(caught.value) or "CALIB" in str(caught.value)
    assert pids_mentioning(str(tmp_path)) == [], "a Renode process outlived the aborted run"


def test_a_missing_elf_gives_renode_s_monitor_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-firmware.elf"
    with pytest.raises(EmulatorCommandError, match=r"Renode refused the command 'sysbus LoadELF @.*no-such-firmware"):
        _renode_run(missing, tmp_path / "run")
    assert pids_mentioning(str(tmp_path)) == []


def test_a_firmware_without_done_is_stopped_at_the_emulated_bound_with_its_last_line(tmp_path: Path) -> None:
    elf = _stub_elf(tmp_path, "fw-hang", {"STUB_MODEL_HANG_AT": "1"})
    with pytest.raises(EmulatorTimeoutError, match=r"emulated-time bound \(1 s\).*last console line: 'VEC 0 "):
        _renode_run(elf, tmp_path / "run", wall_s=120.0, emulated_s=1.0)
    assert pids_mentioning(str(tmp_path)) == []


def test_a_firmware_without_done_is_stopped_at_the_wall_clock_bound_with_its_last_line(tmp_path: Path) -> None:
    elf = _stub_elf(tmp_path, "fw-hang", {"STUB_MODEL_HANG_AT": "1"})
    # The firmware prints VEC 0 right after Renode's start (4 to 8 s here), then hangs.
    bound = r"within 15 s of wall-clock time.*last console line: '(VEC 0|CALIB|BOOT)"
    with pytest.raises(EmulatorTimeoutError, match=bound):
        _renode_run(elf, tmp_path / "run", wall_s=15.0, emulated_s=3600.0)
    assert pids_mentioning(str(tmp_path)) == [], "Renode outlived the wall-clock bound"


CHILD = """
import sys
from pathlib import Path
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.renode import RenodeBackend
RenodeBackend().run(EmulatorRun(Path(sys.argv[1]), Path(sys.argv[2]), 300.0, 3600.0))
"""


def test_ctrl_c_leaves_no_renode_or_mono_process(tmp_path: Path) -> None:
    elf = _stub_elf(tmp_path, "fw-hang", {"STUB_MODEL_HANG_AT": "1"})
    workdir = tmp_path / "run"
    uart = workdir / "renode-uart.log"

    def hanging() -> bool:  # Renode runs the firmware, which now hangs in its second inference
        return uart.is_file() and "VEC 0" in uart.read_text(errors="replace")

    _, stderr = interrupt_python(CHILD, [str(elf), str(workdir)], ready=hanging)
    assert "KeyboardInterrupt" in stderr, stderr
    assert pids_mentioning(str(workdir)) == [], "a renode/mono process outlived the interrupted run"


# ------------------------------------------------------------ profiler


def test_flame_graph_covers_exactly_one_inference(digits: ModelBuild, tmp_path: Path,
                                                  renode_digits: tuple[FirmwareRun, Path]) -> None:
    exact = renode_digits[0].instructions_per_inference
    flame = renode_flame_graph(digits.elf, tmp_path / "flame", 120.0, 30.0, "digits")
    lines = flame.path.read_text().splitlines()
    assert lines and all(line.startswith("tc_model_invoke") for line in lines)
    # Renode's profiler keeps its own count: within 0.1 % of the DWT's, never a second inference
    assert abs(flame.instructions - exact) <= exact // 1000, (flame.instructions, exact)
    assert next(iter(flame.by_function)) == "tc_gemv2_s16"  # digits' hottest kernel: CONV_2D in position pairs
    assert flame.png.stat().st_size > 10_000


# ------------------------------------------------------------ the pipeline's Robot suite on Renode


def test_the_robot_suite_passes_on_renode(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc, output = _run_suite(digits, tmp_path, Path(digits.elf), dict(digits.cfg.budgets), monkeypatch, "renode")
    assert rc == 0, "the Robot suite failed on Renode (see its output.xml)"
    run = json.loads((tmp_path / "digits" / "firmware_run.json").read_text())
    assert run["emulator"] == "renode" and run["counter_source"] == "dwt"
    assert "Instructions Per Inference Should Be Within Budget" in output


# ------------------------------------------------------------ renode-test and the native suite


def _native(digits: ModelBuild, tmp_path: Path, budgets: dict[str, float], platform: Path | None = None,
            include_tag: str | None = None) -> tuple[RenodeTestReport, str]:
    require_tool("renode-test", "it ships with Renode (docs/renode.md)")
    report = run_native_suite(digits.elf, budgets, tmp_path / "results", platform, include_tag)
    assert pids_mentioning(str(tmp_path)) == [], "a Renode process outlived renode-test"
    return report, (tmp_path / "results" / "renode-test.log").read_text()


def test_native_suite_passes_under_renode_test(digits: ModelBuild, tmp_path: Path) -> None:
    report, log = _native(digits, tmp_path, dict(digits.cfg.budgets))
    assert report.passed, log
    assert len(report.statuses) == 3 and not report.missing_keywords


def test_native_suite_fails_naming_both_numbers_when_the_budget_is_below_the_count(
        digits: ModelBuild, renode_digits: tuple[FirmwareRun, Path], tmp_path: Path) -> None:
    measured = renode_digits[0].instructions[0]
    budgets = {**digits.cfg.budgets, "max_instructions_per_inference": float(measured - 1)}
    report, log = _native(digits, tmp_path, budgets, include_tag="budget")
    assert not report.passed, log
    message = report.messages["Every Inference Is Within The Instruction Budget"]
    assert f"vector 0: {measured} instructions > budget {measured - 1}" in message, message


def test_native_suite_fails_when_the_counter_is_not_the_instruction_counting_dwt(
        digits: ModelBuild, tmp_path: Path) -> None:
    # Renode's stock DWT (a timer on virtual time): the firmware's probe refuses it.
    stock = tmp_path / "stock-dwt.repl"
    stock.write_text('using "platforms/cpus/stm32f4.repl"\n\n'
                     "dwt: Miscellaneous.DWT @ sysbus 0xE0001000\n    frequency: 100000000\n\n"
                     'sysbus:\n    init:\n        Tag <0x40023800, 0x40023803> "RCC_CR" 0x00000000\n')
    report, log = _native(digits, tmp_path, dict(digits.cfg.budgets), platform=stock, include_tag="budget")
    assert not report.passed, log
    message = report.messages["Every Inference Is Within The Instruction Budget"]
    assert "counter=systick, not the overlay's instruction-counting DWT" in message, message
