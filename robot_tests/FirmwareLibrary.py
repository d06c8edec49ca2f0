"""Robot Framework keywords: boot the firmware in an emulator and check it against the reference.

Everything the suite needs comes from one JSON file the pipeline writes
(``build/<model>/suite.json``): the ELF, the reference outputs, the labels,
the measured sizes and the budgets from the model's config. Which budget bounds a
figure, in which direction, and where its value comes from (the stage that measures
it) is the figure registry's, pipeline/figures.py. The library holds no module
globals; each suite gets its own instance.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from robot.api import SkipExecution
from robot.api.deco import keyword, library

from pipeline import figures
from pipeline.boards import load_board
from pipeline.emulators import default_emulator
from pipeline.figures import Figure
from pipeline.stages.cycles import InferenceCycles, inference_cycles
from pipeline.stages.firmware_run import (
    FirmwareRun,
    RunFigures,
    SuiteFile,
    compare_outputs,
    run_figures,
    save_run,
    simulate,
)

NO_RUN = "no firmware run: 'Firmware Run Should Be Available' failed or did not run"


@library(scope="SUITE", auto_keywords=False)
class FirmwareLibrary:
    def __init__(self, suite_json: str, emulator: str = "") -> None:
        self.suite = SuiteFile.load(Path(suite_json))
        self.emulator = emulator or None
        self.build_dir = self.suite.build_dir
        reference = np.load(self.suite.reference)
        self.expected = reference["tflm"].reshape(len(reference["tflm"]), -1).astype(np.int64)
        self.labels = reference["labels"] if "labels" in reference.files else None
        self._run: FirmwareRun | None = None
        self._run_figures: RunFigures | None = None
        self._cycle_figures: InferenceCycles | None = None

    @property
    def run(self) -> FirmwareRun:
        if self._run is None:
            raise AssertionError(NO_RUN)
        return self._run

    @property
    def figures_of_run(self) -> RunFigures:
        """The figures of the run (pipeline/stages/firmware_run.py, run_figures), evaluated in the suite setup."""
        if self._run_figures is None:
            raise AssertionError(NO_RUN)
        return self._run_figures

    def _budget(self, key: str, measured: str) -> float:
        """The budget ``key``; with no budgets at all (a bring-your-own model without --config) the
        check is skipped, saying what was measured; a config that has budgets must have this one."""
        budgets = self.suite.budgets
        if not budgets:
            raise SkipExecution(f"no budgets given (pass --config with a [budgets] table): measured {measured}")
        if key not in budgets:
            raise AssertionError(f"no budget '{key}' in {self.suite.config} (measured {measured})")
        return float(budgets[key])

    @keyword
    def firmware_run_should_be_available(self) -> None:
        """The simulate stage's run of the ELF: its saved run while the boot's fingerprint (ELF, emulator
        and its version, platform files, bounds) is unchanged, else a boot to its DONE line; fails on a
        fault line, a CPU abort or a timeout. The console is read again here: every verdict is fresh."""
        emulator = self.emulator or default_emulator(self.suite.board)
        self._run = simulate(self.suite.boot(emulator))
        print(f"*INFO* {emulator} run of {self.suite.elf}: {self._run.console}")
        self._run_figures = run_figures(self._run, self.expected, self.labels)
        save_run(self._run, self.build_dir / "firmware_run.json", asdict(self.figures_of_run))

    @keyword
    def every_vector_should_be_reported(self) -> None:
        count = len(self.run.report.vectors)
        if count != len(self.expected) or self.run.report.summary_vectors != len(self.expected):
            raise AssertionError(f"expected {len(self.expected)} vectors, the firmware printed {count} "
                                 f"(summary line says {self.run.report.summary_vectors})")

    @keyword
    def outputs_should_equal_the_reference(self) -> None:
        """Every vector's int8 output equals TFLM's, exactly."""
        result = compare_outputs(self.run.outputs(), self.expected)
        if result.first_mismatch is not None:
            raise AssertionError(result.message())
        print(f"*INFO* {result.message()}")

    @keyword
    def predicted_classes_should_be_the_argmax(self) -> None:
        """The class the firmware prints is the first maximum of its own output (numpy.argmax)."""
        for v in self.run.report.vectors:
            if v.predicted_class != int(np.argmax(v.output)):
                raise AssertionError(f"vector {v.index}: printed class {v.predicted_class}, "
                                     f"argmax of {list(v.output)} is {int(np.argmax(v.output))}")

    @keyword
    def instruction_counter_should_be_calibrated(self, tolerance: int = 10) -> None:
        """Each calibration loop of known length is counted within ``tolerance`` instructions."""
        errors = self.run.calibration_errors
        calibrations = self.run.report.calibrations
        if len(calibrations) < 3:
            raise AssertionError(f"expected 3 calibration loops, the firmware printed {len(calibrations)}")
        worst = max(abs(e) for e in errors)
        detail = ", ".join(f"{c.instructions}: {e:+d}" for c, e in zip(calibrations, errors, strict=True))
        if worst > int(tolerance):
            raise AssertionError(f"instruction count off by up to {worst} (> {tolerance}): {detail}")
        print(f"*INFO* counter {self.run.counter_source}, calibration errors {detail}")

    def _cycles(self) -> InferenceCycles:
        """The cycles stage's figures (docs/cycle-model.md) of the inference function, in QEMU."""
        if self._cycle_figures is None:
            self._cycle_figures = inference_cycles(self.suite.elf, self.build_dir, self.suite.wall_timeout_s)
        return self._cycle_figures

    def _measured(self, figure: Figure) -> Any:
        """The figure's value, from what the stage that measures it left for this suite."""
        if figure.stage == "simulate":
            return getattr(self.figures_of_run, figure.name)
        if figure.stage == "cycles":  # None, not applicable (Figure.absent), without the cycle model
            return getattr(self._cycles(), figure.name) if load_board(self.suite.board).cycle_model else None
        if figure.stage in ("codegen", "build"):
            return self.suite.sizes.get(figure.name)
        raise AssertionError(f"figure {figure.name} is measured by the {figure.stage} stage, "
                             "which the firmware suite does not see")

    @keyword
    def figure_should_be_within_budget(self, name: str) -> None:
        """The figure ``name`` of pipeline/figures.py against its budget key, in its direction;
        skipped as not applicable when it was not measured (accuracy without labels: Figure.absent)."""
        figure = figures.figure(name)
        if figure is None or figure.budget is None:
            raise AssertionError(f"{name!r} is not a budgeted figure of pipeline/figures.py")
        measured = self._measured(figure)
        if measured is None:
            raise SkipExecution(f"not applicable: {figure.absent or f'no {name} was measured'}")
        budget = self._budget(figure.budget, f"{name} {figure.format(measured)}")
        direction = "at most" if figure.better == "lower" else "at least"
        message = f"{name} {figure.format(measured)}, budget {figure.format(budget)} ({direction}, {figure.unit})"
        if not figure.within(measured, budget):
            raise AssertionError(message)
        print(f"*INFO* {message}")

    @keyword
    def measured_stack_should_be_within_the_static_bound(self) -> None:
        """Stack painting never exceeds the call graph's bound, or the static analysis is wrong."""
        measured = self.run.report.stack_used
        static = self.suite.sizes.get("stack_bytes_static")
        if measured is None:
            raise AssertionError("the firmware printed no STACK line")
        if static is None:
            raise AssertionError(f"the suite file has no stack_bytes_static (measured {measured})")
        if measured > static:
            raise AssertionError(f"measured stack {measured} exceeds the static bound {static}: "
                                 "the static analysis is wrong")
        print(f"*INFO* stack measured {measured}, static {static}")
