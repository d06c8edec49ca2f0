"""Robot Framework keywords: boot the firmware in an emulator and check it against the reference.

Everything the suite needs comes from one JSON file the pipeline writes
(``build/<model>/suite.json``): the ELF, the reference outputs, the labels,
the measured sizes and the budgets from the model's config. The library holds
no module globals; each suite gets its own instance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from robot.api import SkipExecution
from robot.api.deco import keyword, library

from pipeline.cycles import INFERENCE_FUNCTION, estimate_cycles
from pipeline.firmware_run import FirmwareRun, boot, compare_outputs, save_run


@library(scope="SUITE", auto_keywords=False)
class FirmwareLibrary:
    def __init__(self, suite_json: str, emulator: str = "") -> None:
        self.suite = json.loads(Path(suite_json).read_text())
        self.emulator = emulator or None
        self.build_dir = Path(self.suite["build_dir"])
        reference = np.load(self.suite["reference"])
        self.expected = reference["tflm"].reshape(len(reference["tflm"]), -1).astype(np.int64)
        self.labels = reference["labels"] if "labels" in reference.files else None
        self._run: FirmwareRun | None = None

    @property
    def run(self) -> FirmwareRun:
        if self._run is None:
            raise AssertionError("the firmware has not been booted: 'Boot Firmware' failed or did not run")
        return self._run

    def _budget(self, key: str, measured: str) -> float:
        """The budget ``key``; with no budgets at all (a bring-your-own model without --config) the
        check is skipped, saying what was measured; a config that has budgets must have this one."""
        budgets = self.suite["budgets"]
        if not budgets:
            raise SkipExecution(f"no budgets given (pass --config with a [budgets] table): measured {measured}")
        if key not in budgets:
            raise AssertionError(f"no budget '{key}' in {self.suite['config']} (measured {measured})")
        return float(budgets[key])

    def _check_at_most(self, what: str, measured: int, key: str) -> None:
        budget = self._budget(key, f"{what} {measured:,}")
        message = f"{what} {measured:,}, budget {budget:,.0f}"
        if measured > budget:
            raise AssertionError(message)
        print(f"*INFO* {message}")

    @keyword
    def boot_firmware(self) -> None:
        """Boot the ELF until its DONE line; fails on a fault line, a CPU abort or a timeout."""
        workdir = self.build_dir / "robot" / "run"
        self._run = boot(Path(self.suite["elf"]), workdir, self.emulator,
                         float(self.suite["wall_timeout_s"]), float(self.suite["emulated_timeout_s"]))
        bit_exact = compare_outputs(self._run.outputs(), self.expected)
        save_run(self._run, self.build_dir / "firmware_run.json", {
            "bit_exact_matched": bit_exact.matched,
            "bit_exact_total": bit_exact.total,
            "target_accuracy": self._target_accuracy(),
        })

    def _target_accuracy(self) -> float | None:
        if self.labels is None or self._run is None or len(self._run.report.vectors) != len(self.labels):
            return None
        return float(np.mean(self._run.predicted() == self.labels))

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
    def target_accuracy_should_meet_the_budget(self) -> None:
        accuracy = self._target_accuracy()
        if accuracy is None:
            raise SkipExecution("not applicable: this model's inputs have no labels")
        budget = self._budget("min_int8_accuracy", f"on-target accuracy {accuracy:.4f}")
        message = f"on-target accuracy {accuracy:.4f}, budget at least {budget:.4f}"
        if accuracy < budget:
            raise AssertionError(message)
        print(f"*INFO* {message}")

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

    @keyword
    def instructions_per_inference_should_be_within_budget(self) -> None:
        self._check_at_most("instructions per inference (median)", self.run.instructions_per_inference,
                            "max_instructions_per_inference")

    @keyword
    def estimated_cycles_per_inference_should_be_within_budget(self) -> None:
        """The cycle model's estimate (docs/cycle-model.md) of the inference function, in QEMU."""
        elf = Path(self.suite["elf"])
        est = estimate_cycles(elf, INFERENCE_FUNCTION, workdir=Path(self.suite["build_dir"]) / "robot_cycles",
                              wall_timeout_s=float(self.suite["wall_timeout_s"]))
        self._check_at_most(f"estimated cycles per inference (median, {est.latency_ms:g} ms)", est.cycles_per_call,
                            "max_estimated_cycles_per_inference")

    @keyword
    def size_should_be_within_budget(self, figure: str) -> None:
        """``figure`` is one of model_bytes, model_flash_bytes, flash_bytes, ram_bytes, arena_bytes."""
        self._check_at_most(figure, int(self.suite["sizes"][figure]), f"max_{figure}")

    @keyword
    def stack_use_should_be_within_budget(self) -> None:
        """measured (stack painting) <= static (call graph) <= max_stack_bytes."""
        measured = self.run.report.stack_used
        static = self.suite["sizes"].get("stack_bytes_static")
        if measured is None:
            raise AssertionError("the firmware printed no STACK line")
        if static is not None and measured > static:
            raise AssertionError(f"measured stack {measured} exceeds the static bound {static}: "
                                 "the static analysis is wrong")
        print(f"*INFO* stack measured {measured}, static {static}")
        self._check_at_most("stack bytes (static bound)" if static is not None else "stack bytes (measured)",
                            static if static is not None else measured, "max_stack_bytes")
