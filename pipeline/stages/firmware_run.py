"""Boot a firmware once and turn its console into figures: outputs, instruction counts, stack.

Shared by the simulate stage and the Robot keyword library, so both read the
firmware the same way. :func:`simulate` is the simulate stage's boot: the Robot
suite asks it for the run too, and gets the saved run while the boot's
fingerprint (the ELF, the emulator and its version, its platform files, the
bounds) is unchanged, so ``invoke all`` boots the firmware once. The console is
parsed again on every call: figures and verdicts are never taken from a cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from pipeline.boards import DEFAULT_BOARD
from pipeline.config import ROOT
from pipeline.emulators import select_backend
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.firmware_log import CountModel, FirmwareReport, median_instructions, parse_console
from pipeline.errors import EmulatorError
from pipeline.fileutil import write_atomically
from pipeline.stagecache import Stage, decode, encode, run_stage

# The firmware reports counter=dwt only after its probe saw exactly one CYCCNT tick per
# executed instruction (firmware/boards/common/cycle_counter.c); SysTick's unit comes from the emulator.
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
    ticks_per_instruction: float  # the unit of counter_source in this run
    wall_s: float  # host seconds the emulator ran
    calibration_errors: list[int]  # counted minus executed, per calibration loop

    def outputs(self) -> np.ndarray:
        return np.array([v.output for v in self.report.vectors], dtype=np.int64)

    def predicted(self) -> np.ndarray:
        return np.array([v.predicted_class for v in self.report.vectors], dtype=np.int64)


@dataclass(frozen=True)
class RunFacts:
    """What a boot knows besides the console: enough to read the console again later."""

    emulator: str
    emulator_version: str
    systick_ticks_per_instruction: float
    wall_s: float


def boot(elf: Path, workdir: Path, emulator: str | None, wall_timeout_s: float,
         emulated_timeout_s: float, board: str = DEFAULT_BOARD) -> FirmwareRun:
    """Run the firmware (built for ``board``) to its DONE line; raise EmulatorError subclasses on
    faults, hangs, aborts."""
    return read_run(*_boot(elf, workdir, emulator, wall_timeout_s, emulated_timeout_s, board))


def _boot(elf: Path, workdir: Path, emulator: str | None, wall_timeout_s: float,
          emulated_timeout_s: float, board: str) -> tuple[Path, RunFacts]:
    """Boot once; the console lands in ``workdir/console.log``."""
    backend = select_backend(emulator, board)
    backend.check_available()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"simulate: booting {elf.name} in {backend.name}", flush=True)
    result = backend.run(EmulatorRun(elf, workdir, wall_timeout_s, emulated_timeout_s))
    console = workdir / "console.log"
    console.write_text(result.console)
    return console, RunFacts(backend.name, result.version, result.systick_ticks_per_instruction,
                             float(result.extra["wall_s"]))


def read_run(console: Path, facts: RunFacts) -> FirmwareRun:
    """The run a console holds: parsed, its counter converted and checked on the calibration loops."""
    report = parse_console(console.read_text())
    if not report.done:
        raise EmulatorError(f"{facts.emulator}: the firmware stopped before DONE; last line: {report.last_line!r}")
    ticks_per_instruction = counter_unit(report.counter_source, facts.systick_ticks_per_instruction)
    model = CountModel.calibrate(ticks_per_instruction, report.calibrations)
    counts = [model.instructions(v.ticks, v.wraps) for v in report.vectors]
    return FirmwareRun(
        emulator=facts.emulator,
        emulator_version=facts.emulator_version,
        console=console,
        report=report,
        instructions=counts,
        instructions_per_inference=median_instructions(model, report.vectors) if report.vectors else 0,
        counter_source=report.counter_source,
        ticks_per_instruction=ticks_per_instruction,
        wall_s=facts.wall_s,
        calibration_errors=model.calibration_errors(report.calibrations),
    )


@dataclass(frozen=True)
class BootRequest:
    """The simulate stage's boot of one ELF."""

    elf: Path
    build_dir: Path  # the board's build directory: the run goes to simulate/<emulator>/, its stamp to .stamps/
    emulator: str  # "qemu" or "renode"
    wall_timeout_s: float
    emulated_timeout_s: float
    board: str = DEFAULT_BOARD  # what the ELF was built for: the emulator's machine or platform

    @property
    def workdir(self) -> Path:
        return self.build_dir / "simulate" / self.emulator


def platform_files(emulator: str) -> tuple[Path, ...]:
    """The files that describe the emulated board: Renode's platform and script (QEMU's is built in)."""
    if emulator != "renode":
        return ()
    platform = ROOT / "renode"
    return tuple(sorted([*platform.glob("*.repl"), *platform.glob("*.resc")]))


def simulate_stage(req: BootRequest, emulator_version: str) -> Stage:
    """The boot's fingerprint: the ELF, the emulator and its version, its platform files, the bounds,
    and the code that boots and reads the firmware."""
    return Stage(
        f"simulate-{req.emulator}",
        req.build_dir,
        (ROOT / "pipeline" / "emulators", Path(__file__)),  # the backends and the console parser; this module
        (req.elf, *platform_files(req.emulator)),
        (req.workdir / "console.log", req.workdir / "run.json"),
        {"emulator": req.emulator, "board": req.board, "version": emulator_version,
         "wall_timeout_s": req.wall_timeout_s, "emulated_timeout_s": req.emulated_timeout_s},
    )


def boot_stage(req: BootRequest) -> Stage:
    """:func:`simulate_stage` with the installed emulator's version (the emulator must be installed)."""
    backend = select_backend(req.emulator, req.board)
    backend.check_available()
    return simulate_stage(req, backend.version())


def boot_once(req: BootRequest) -> RunFacts:
    """The simulate stage's work: boot, save the console and run.json; what the stamp records."""
    console, facts = _boot(req.elf, req.workdir, req.emulator, req.wall_timeout_s, req.emulated_timeout_s, req.board)
    save_run(read_run(console, facts), req.workdir / "run.json", asdict(facts))
    return facts


def saved_run(req: BootRequest, facts: RunFacts) -> FirmwareRun:
    """The run the simulate stage left for ``req``, its console parsed again."""
    return read_run(req.workdir / "console.log", facts)


def simulate(req: BootRequest) -> FirmwareRun:
    """The run of ``req.elf``: the saved one while the boot's fingerprint is unchanged, else a new boot
    (the Robot suite's way to the simulate stage of the pipeline's graph: the same stamp)."""
    facts, _reused = run_stage(boot_stage(req), lambda: boot_once(req), RunFacts)
    return saved_run(req, facts)


def counter_unit(counter_source: str, systick_ticks_per_instruction: float) -> float:
    """Ticks per executed instruction of the counter the firmware chose."""
    if counter_source == "dwt":
        return DWT_TICKS_PER_INSTRUCTION
    if counter_source == "systick":
        return systick_ticks_per_instruction
    raise EmulatorError(f"the firmware reported an unknown counter {counter_source!r} (expected dwt or systick)")


def count_model(run: FirmwareRun) -> CountModel:
    """The run's CountModel, from its counter's unit and its calibration loops."""
    return CountModel.calibrate(run.ticks_per_instruction, run.report.calibrations)


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


@dataclass(frozen=True)
class RunFigures:
    """The figures of pipeline/figures.py that a boot measures (stage "simulate")."""

    instructions_per_inference: int
    counter_source: str
    bit_exact_matched: int
    bit_exact_total: int
    target_accuracy: float | None  # None: the inputs have no labels
    stack_bytes_measured: int | None


def run_figures(run: FirmwareRun, expected: np.ndarray, labels: np.ndarray | None) -> RunFigures:
    """The boot's figures, evaluated now against the reference outputs ``expected`` and the ``labels``
    (None: accuracy not applicable)."""
    exact = compare_outputs(run.outputs(), expected)
    accuracy = None
    if labels is not None and len(run.report.vectors) == len(labels):
        accuracy = float(np.mean(run.predicted() == labels))
    return RunFigures(run.instructions_per_inference, run.counter_source, exact.matched, exact.total, accuracy,
                      run.report.stack_used)


@dataclass(frozen=True)
class SuiteFile:
    """suite.json: everything the Robot suite is given (pipeline/pipeline.py writes it for each suite run)."""

    model: str
    build_dir: Path
    elf: Path
    reference: Path
    config: Path
    budgets: dict[str, float]
    sizes: dict[str, int]  # the build's and the generator's figures, by figure name
    wall_timeout_s: float
    emulated_timeout_s: float
    board: str = DEFAULT_BOARD

    def write(self, path: Path) -> None:
        write_atomically(path, json.dumps(encode(self), indent=2) + "\n")

    @staticmethod
    def load(path: Path) -> SuiteFile:
        try:
            suite: SuiteFile = decode(SuiteFile, json.loads(path.read_text()))
        except ValueError as err:  # a suite file of another version, or edited by hand
            raise ValueError(f"{path}: not a suite file of this pipeline ({err}); run invoke test-firmware") from None
        return suite

    def boot(self, emulator: str) -> BootRequest:
        """The simulate stage's boot this suite evaluates, on ``emulator``."""
        return BootRequest(self.elf, self.build_dir, emulator, self.wall_timeout_s, self.emulated_timeout_s,
                           self.board)


@dataclass(frozen=True)
class SuiteRun:
    """firmware_run.json, as the Robot suite evaluated the boot: which emulator, and the figures."""

    emulator: str
    emulator_version: str
    figures: RunFigures

    @staticmethod
    def load(path: Path) -> SuiteRun | None:
        """The suite's record of its run; None when the suite wrote none (its setup failed)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        figures = decode(RunFigures, {f.name: data[f.name] for f in fields(RunFigures)})
        return SuiteRun(data["emulator"], data["emulator_version"], figures)


def save_run(run: FirmwareRun, path: Path, extra: dict[str, object]) -> None:
    data = {
        "emulator": run.emulator,
        "emulator_version": run.emulator_version,
        "console": str(run.console),
        "instructions_per_inference": run.instructions_per_inference,
        "instructions": run.instructions,
        "counter_source": run.counter_source,
        "ticks_per_instruction": run.ticks_per_instruction,
        "wall_s": run.wall_s,
        "calibration_errors": run.calibration_errors,
        "calibrations": [asdict(c) for c in run.report.calibrations],
        "stack_bytes_measured": run.report.stack_used,
        **extra,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
