"""The firmware in QEMU: faults fail the Robot suite, Ctrl-C leaves no QEMU, counts are deterministic,
and the static stack bound holds against the measured one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.analyses.stack_usage import static_stack
from pipeline.pipeline import ModelBuild
from pipeline.stages.build import FIRMWARE_DIR, BuildRequest, build_firmware
from pipeline.stages.cycles import function_address
from pipeline.stages.firmware_run import FirmwareRun, boot
from tests.conftest import require_tool
from tests.processes import interrupt_python
from tests.test_digits_pipeline import _run_suite
from tests.test_qemu import _qemu_pids

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain, pytest.mark.slow]


@pytest.fixture(autouse=True)
def qemu_installed() -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")


def _boot(digits: ModelBuild, workdir: Path) -> FirmwareRun:
    return boot(digits.elf, workdir, "qemu", digits.cfg.emulator.wall_timeout_s, digits.cfg.emulator.emulated_timeout_s)


@pytest.fixture(scope="module")
def first_run(digits: ModelBuild, tmp_path_factory: pytest.TempPathFactory) -> FirmwareRun:
    return _boot(digits, tmp_path_factory.mktemp("run-first"))


def test_faulting_firmware_fails_the_robot_suite_with_the_fault_and_pc(
        digits: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elf = build_firmware(BuildRequest(digits.generated, tmp_path / "fw-fault", fault_test=True,
                                      stack_bytes=int(digits.cfg.budgets["max_stack_bytes"]))).elf
    pc = function_address(elf, "fault_test_udf")
    rc, output = _run_suite(digits, tmp_path, elf, dict(digits.cfg.budgets), monkeypatch)
    assert rc != 0
    assert "UsageFault" in output
    assert f"pc=0x{pc:08x}" in output, "the Robot failure names the faulting pc"
    assert _qemu_pids(str(tmp_path)) == [], "a qemu-system-arm process outlived the Robot suite"


CHILD = """
import sys
from pathlib import Path
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.qemu import QemuBackend
QemuBackend().run(EmulatorRun(elf=Path(sys.argv[1]), workdir=Path(sys.argv[2]), wall_timeout_s=60.0))
"""


def test_sigint_to_a_python_running_qemu_leaves_no_qemu(tmp_path: Path) -> None:
    elf = build_firmware(BuildRequest(FIRMWARE_DIR / "tests" / "stub_model", tmp_path / "fw-hang",
                                      extra_defines={"STUB_MODEL_HANG_AT": "1"})).elf
    # well inside the run once QEMU is up: the firmware hangs, the wall bound is 60 s
    returncode, stderr = interrupt_python(CHILD, [str(elf), str(tmp_path / "run")],
                                          ready=lambda: bool(_qemu_pids(str(tmp_path))), timeout_s=30,
                                          settle_s=0.5)
    assert returncode != 0
    assert "KeyboardInterrupt" in stderr, stderr
    assert _qemu_pids(str(tmp_path)) == [], "qemu outlived the interrupted Python process"


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()


def test_same_elf_gives_identical_per_vector_counts(
        digits: ModelBuild, first_run: FirmwareRun, tmp_path: Path) -> None:
    again = _boot(digits, tmp_path / "again")
    assert len(again.instructions) == len(first_run.instructions) >= 350
    assert again.instructions == first_run.instructions
    assert again.calibration_errors == first_run.calibration_errors


def test_counts_stay_identical_while_every_core_is_busy(
        digits: ModelBuild, first_run: FirmwareRun, tmp_path: Path, busy_cpu: None) -> None:
    loaded = _boot(digits, tmp_path / "loaded")
    assert loaded.instructions == first_run.instructions


def test_static_stack_bound_covers_the_measured_stack(digits: ModelBuild, first_run: FirmwareRun) -> None:
    measured = first_run.report.stack_used
    assert measured is not None and measured > 0
    static = static_stack(digits.elf, digits.firmware_dir)
    assert static.total_bytes >= measured, (static, measured)
    assert static.thread_bytes >= measured - 128, "the thread path should account for most of the measured stack"
