"""Boot a firmware once and turn its console into figures: outputs, instruction counts, stack.

Shared by the simulate stage and the Robot keyword library, so both read the
firmware the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.emulators import select_backend
from pipeline.emulators.base import EmulatorRun
from pipeline.errors import EmulatorError
from pipeline.firmware_log import CountModel, FirmwareReport, median_instructions, parse_console

# On Renode the DWT runs at PerformanceInMips x 10^6 Hz (renode/stm32f4_tinyml.repl): one tick per instruction.
DWT_TICKS_PER_INSTRUCTION = 1.0


@dataclass(frozen=True)
class FirmwareRun:
    emulator: str
    emulator_version: str
    console: Path
    report: FirmwareReport
    instructions: list[int]  # per vector
    instructions_per_inference: int  # median over vectors
    counter_source: str
    calibration_errors: list[int]  # counted minus executed, per calibration loop

    def outputs(self) -> np.ndarray:
        return np.array([v.output for v in self.report.vectors], dtype=np.int64)

    def predicted(self) -> np.ndarray:
        return np.array([v.predicted_class for v in self.report.vectors], dtype=np.int64)


def boot(elf: Path, workdir: Path, emulator: str | None, wall_timeout_s: float,
         emulated_timeout_s: float) -> FirmwareRun:
    """Run the firmware to its DONE line; raise EmulatorError subclasses on faults, hangs, aborts."""
    backend = select_backend(emulator)
    backend.check_available()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"simulate: booting {elf.name} in {backend.name}", flush=True)
    result = backend.run(EmulatorRun(elf, workdir, wall_timeout_s, emulated_timeout_s))
    console = workdir / "console.log"
    console.write_text(result.console)
    report = parse_console(result.console)
    if not report.done:
        raise EmulatorError(f"{backend.name}: the firmware stopped before DONE; last line: {report.last_line!r}")
    if report.counter_source == "dwt":
        ticks_per_instruction = DWT_TICKS_PER_INSTRUCTION
    else:
        ticks_per_instruction = float(getattr(backend, "ticks_per_instruction", 0.0))
        if not ticks_per_instruction:
            raise EmulatorError(f"{backend.name} has no deterministic SysTick clock: cannot count instructions")
    model = CountModel.calibrate(ticks_per_instruction, report.calibrations)
    counts = [model.instructions(v.ticks, v.wraps) for v in report.vectors]
    return FirmwareRun(
        emulator=backend.name,
        emulator_version=result.version,
        console=console,
        report=report,
        instructions=counts,
        instructions_per_inference=median_instructions(model, report.vectors) if report.vectors else 0,
        counter_source=report.counter_source,
        calibration_errors=model.calibration_errors(report.calibrations),
    )


@dataclass(frozen=True)
class BitExactness:
    matched: int
    total: int
    first_mismatch: int | None  # vector index
    expected: tuple[int, ...] = ()
    actual: tuple[int, ...] = ()

    def message(self) -> str:
        if self.first_mismatch is None:
            return f"{self.matched} of {self.total} vectors bit-exact"
        return (f"{self.total - self.matched} of {self.total} vectors differ from the TFLM reference; "
                f"first mismatch at vector {self.first_mismatch}: expected {list(self.expected)}, "
                f"got {list(self.actual)}")


def compare_outputs(actual: np.ndarray, expected: np.ndarray) -> BitExactness:
    """Vector-by-vector exact comparison; a missing vector counts as a mismatch."""
    total = len(expected)
    matched, first = 0, None
    for i in range(total):
        same = i < len(actual) and actual[i].shape == expected[i].shape and bool(np.all(actual[i] == expected[i]))
        if same:
            matched += 1
        elif first is None:
            first = i
    if first is None:
        return BitExactness(matched, total, None)
    got = tuple(int(v) for v in actual[first]) if first < len(actual) else ()
    return BitExactness(matched, total, first, tuple(int(v) for v in expected[first]), got)


def save_run(run: FirmwareRun, path: Path, extra: dict[str, object]) -> None:
    data = {
        "emulator": run.emulator,
        "emulator_version": run.emulator_version,
        "console": str(run.console),
        "instructions_per_inference": run.instructions_per_inference,
        "instructions": run.instructions,
        "counter_source": run.counter_source,
        "calibration_errors": run.calibration_errors,
        "calibrations": [asdict(c) for c in run.report.calibrations],
        "stack_bytes_measured": run.report.stack_used,
        **extra,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
