"""QEMU backend: boot the stub firmware for real and check what it prints.

Needs arm-none-eabi-gcc, cmake and qemu-system-arm: when one is missing the
tests fail with the install command, they are never skipped.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.firmware_log import CountModel, FirmwareReport, parse_console
from pipeline.emulators.qemu import QemuBackend
from pipeline.errors import (
    EmulatorError,
    EmulatorMissingError,
    EmulatorTimeoutError,
    FirmwareFaultError,
)
from pipeline.stages.build import FIRMWARE_DIR, BuildRequest, build_firmware
from pipeline.tools import TOOLCHAIN, check_tools
from tests.processes import pids_mentioning

pytestmark = [pytest.mark.qemu, pytest.mark.toolchain]

STUB_MODEL = FIRMWARE_DIR / "tests" / "stub_model"
STUB_OUTPUT_SIZE = 10
UDF_SYMBOL = "fault_test_udf"
CFSR_UNDEFINSTR = 1 << 16


def _stub_inputs() -> list[list[int]]:
    """The stub's test vectors, read from its C source so the two cannot drift."""
    text = (STUB_MODEL / "test_vectors.c").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    body = text[text.index("= {") + 3 : text.rindex("};")]
    rows = re.findall(r"\{([^{}]*)\}", body)
    return [[int(v) for v in row.split(",") if v.strip()] for row in rows]


def _stub_expected(inputs: list[int]) -> tuple[int, ...]:
    return tuple(max(-128, min(127, inputs[i] + i)) for i in range(STUB_OUTPUT_SIZE))


def _numpy_argmax(values: tuple[int, ...]) -> int:
    return values.index(max(values))


def _qemu_pids(marker: str) -> list[int]:
    """Live qemu-system-arm processes whose command line mentions ``marker``."""
    return pids_mentioning(marker, "qemu-system-arm")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    check_tools(TOOLCHAIN)
    QemuBackend().check_available()
    return tmp_path_factory.mktemp("qemu")


@pytest.fixture(autouse=True)
def no_qemu_left_behind(workspace: Path) -> Iterator[None]:
    yield
    assert _qemu_pids(str(workspace)) == [], "a qemu-system-arm process outlived its run"


def _build(workspace: Path, name: str, **kwargs: object) -> Path:
    request = BuildRequest(model_dir=STUB_MODEL, build_dir=workspace / f"build-{name}", **kwargs)  # type: ignore[arg-type]
    return build_firmware(request).elf


@pytest.fixture(scope="module")
def stub_elf(workspace: Path) -> Path:
    return _build(workspace, "stub")


@pytest.fixture(scope="module")
def backend() -> QemuBackend:
    return QemuBackend()


def _run(backend: QemuBackend, elf: Path, workdir: Path, wall_s: float = 60.0) -> str:
    return backend.run(EmulatorRun(elf=elf, workdir=workdir, wall_timeout_s=wall_s)).console


@pytest.fixture(scope="module")
def stub_report(backend: QemuBackend, stub_elf: Path, workspace: Path) -> FirmwareReport:
    return parse_console(_run(backend, stub_elf, workspace / "run-stub"))


def test_version_is_parsed(backend: QemuBackend) -> None:
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", backend.version())


def test_ticks_per_instruction_follows_shift() -> None:
    assert QemuBackend(shift=3).ticks_per_instruction == pytest.approx(1.344)
    assert QemuBackend(shift=5).ticks_per_instruction == pytest.approx(5.376)


def test_stub_firmware_boots_and_finishes(stub_report: FirmwareReport) -> None:
    inputs = _stub_inputs()
    assert stub_report.done
    assert stub_report.model == "stub"
    assert stub_report.counter_source == "systick"
    assert stub_report.clock_hz == 168_000_000
    assert stub_report.vectors_announced == len(inputs) == stub_report.summary_vectors
    assert len(stub_report.calibrations) == 3


def test_vector_outputs_follow_the_stub_formula(stub_report: FirmwareReport) -> None:
    inputs = _stub_inputs()
    assert [v.index for v in stub_report.vectors] == list(range(len(inputs)))
    for vec, vector_in in zip(stub_report.vectors, inputs, strict=True):
        expected = _stub_expected(vector_in)
        assert vec.output == expected, f"vector {vec.index}"
        assert vec.predicted_class == _numpy_argmax(expected), f"vector {vec.index}"


def test_stack_is_measured(stub_report: FirmwareReport) -> None:
    assert stub_report.stack_reserved == 8192
    assert stub_report.stack_used is not None
    assert 0 < stub_report.stack_used < 1024


def test_calibration_loops_convert_within_ten_instructions(
    backend: QemuBackend, stub_report: FirmwareReport
) -> None:
    calibrations = stub_report.calibrations
    assert calibrations[0].wraps == 0
    assert 0 < calibrations[1].wraps < calibrations[2].wraps
    model = CountModel.calibrate(backend.ticks_per_instruction, calibrations)
    errors = model.calibration_errors(calibrations)
    assert all(abs(e) <= 10 for e in errors), (errors, model)
    # The counter code around the region costs a few instructions, a wrap a few more.
    assert 0 < model.overhead < 100 and 0 < model.wrap_cost < 100, model
    for vec in stub_report.vectors:
        assert 0 < model.instructions(vec.ticks, vec.wraps) < 1000


def test_hundred_million_instructions_are_counted_exactly(
    backend: QemuBackend, workspace: Path
) -> None:
    elf = _build(workspace, "calib100m", extra_defines={"TC_CALIB_EXTRA_ITERS": "50000000u"})
    report = parse_console(_run(backend, elf, workspace / "run-calib100m"))
    *standard, long_loop = report.calibrations
    assert long_loop.instructions == 100_000_001 and long_loop.wraps > 0
    model = CountModel.calibrate(backend.ticks_per_instruction, standard)
    assert model.calibration_errors([long_loop]) == [0], (long_loop, model)


def test_same_elf_twice_gives_identical_ticks(
    backend: QemuBackend, stub_elf: Path, stub_report: FirmwareReport, workspace: Path
) -> None:
    again = parse_console(_run(backend, stub_elf, workspace / "run-stub-again"))
    assert again.calibrations == stub_report.calibrations
    assert again.vectors == stub_report.vectors


def test_usage_fault_reports_the_udf_address(backend: QemuBackend, workspace: Path) -> None:
    elf = _build(workspace, "fault", fault_test=True)
    console = _run(backend, elf, workspace / "run-fault")
    match = re.search(
        r"^FAULT UsageFault pc=0x([0-9a-f]{8}) lr=0x([0-9a-f]{8}) cfsr=0x([0-9a-f]{8})$",
        console,
        re.MULTILINE,
    )
    assert match, console
    with elf.open("rb") as stream:
        symtab = ELFFile(stream).get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        found = symtab.get_symbol_by_name(UDF_SYMBOL)
        assert found, f"{UDF_SYMBOL} missing from the fault-test ELF"
        udf = found[0]
        udf_address = int(udf["st_value"]) & ~1  # drop the Thumb bit
    assert int(match.group(1), 16) == udf_address
    assert int(match.group(3), 16) & CFSR_UNDEFINSTR
    assert "DONE" not in console
    with pytest.raises(FirmwareFaultError, match="UsageFault"):
        parse_console(console)


def test_hang_ends_in_timeout_with_last_line(backend: QemuBackend, workspace: Path) -> None:
    elf = _build(workspace, "hang", extra_defines={"STUB_MODEL_HANG_AT": "1"})
    with pytest.raises(EmulatorTimeoutError) as info:
        _run(backend, elf, workspace / "run-hang", wall_s=3.0)
    assert "VEC 0 class=9" in str(info.value)


def test_keyboard_interrupt_leaves_no_qemu(
    backend: QemuBackend, stub_elf: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def interrupted(proc: object, uart: Path, deadline: float) -> tuple[str, str]:
        # Wait for the exec: right after the fork the child is still Python.
        for _ in range(100):
            seen.extend(_qemu_pids(str(workspace)))
            if seen:
                break
            time.sleep(0.02)
        raise KeyboardInterrupt

    monkeypatch.setattr(QemuBackend, "_wait", staticmethod(interrupted))
    with pytest.raises(KeyboardInterrupt):
        _run(backend, stub_elf, workspace / "run-interrupted")
    assert seen, "qemu was not running when the interrupt came"


def test_missing_qemu_names_the_apt_package(workspace: Path) -> None:
    with pytest.raises(EmulatorMissingError, match="apt-get install qemu-system-arm"):
        QemuBackend(binary="qemu-system-arm-not-installed").check_available()


def test_missing_elf_is_an_emulator_error(backend: QemuBackend, workspace: Path) -> None:
    with pytest.raises(EmulatorError, match="not found"):
        _run(backend, workspace / "nothing.elf", workspace / "run-missing")


def test_qemu_exit_before_done_is_an_error(backend: QemuBackend, workspace: Path) -> None:
    not_elf = workspace / "garbage.elf"
    not_elf.write_bytes(os.urandom(64))
    with pytest.raises(EmulatorError, match="exited"):
        _run(backend, not_elf, workspace / "run-garbage", wall_s=20.0)
