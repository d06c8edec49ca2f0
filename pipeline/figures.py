"""Every figure the pipeline measures, declared once.

A figure is a key of metrics.json. Its entry says what it is measured in, which
direction is better, which ``[budgets]`` key bounds it (if any), which stage
measures it and what it means. The config reader's budget keys, the budget table
of ``invoke all``, the Robot suite's budget checks, the CI job summary, the
``renode-test`` variables and ``invoke bench`` all read this table, so adding a
figure is one entry here plus the code that measures it (docs/architecture.md,
"Adding a figure").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# How a unit is shown: a fraction as a ratio, a count with thousands separators, text as it is.
RATIO_UNITS = ("ratio",)
COUNT_UNITS = ("instructions", "cycles", "bytes", "MACs", "vectors", "outputs")


@dataclass(frozen=True)
class Figure:
    name: str  # the key in metrics.json
    label: str  # how the CI job summary names it
    unit: str  # "ratio" (0..1), a count unit of COUNT_UNITS, "ms", or "" for text
    better: str  # "lower", "higher" or "" (neither: a description, not a performance)
    budget: str | None  # the [budgets] key that bounds it: max_* when lower is better, min_* when higher
    stage: str  # the stage that measures it (docs/architecture.md, "Stages")
    meaning: str
    absent: str = ""  # why it can be not applicable (None in metrics.json), if it can

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher", ""):
            raise ValueError(f"figure {self.name}: better must be 'lower', 'higher' or '', not {self.better!r}")
        if self.budget is not None:
            prefix = {"lower": "max_", "higher": "min_"}.get(self.better)
            if prefix is None or not self.budget.startswith(prefix):
                raise ValueError(f"figure {self.name}: a budget on a figure where {self.better or 'nothing'} "
                                 f"is better must be named {prefix or 'max_/min_'}*, not {self.budget!r}")

    @property
    def bound(self) -> str:
        """The comparison its budget makes: "<=" (at most) or ">=" (at least)."""
        return "<=" if self.better == "lower" else ">="

    def within(self, measured: float, budget: float) -> bool:
        return measured <= budget if self.better == "lower" else measured >= budget

    @property
    def kind(self) -> str:
        """"ratio", "count" or "text": how the CI job summary formats and compares it."""
        if self.unit in RATIO_UNITS:
            return "ratio"
        return "count" if self.unit in COUNT_UNITS else "text"

    def format(self, value: Any) -> str:
        """The value as the tables show it: n/a for None, ratios to 4 places, counts with separators."""
        if value is None:
            return "n/a"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        if self.unit in RATIO_UNITS:
            return f"{value:.4f}"
        if self.unit in COUNT_UNITS:
            return f"{value:,.0f}"
        return f"{value:g}"


NO_LABELS = "this model's inputs have no labels"
# The cycle model (docs/cycle-model.md) times a Cortex-M4 with the STM32F4's flash: a board whose
# board.toml says cycle_model = false gets no estimate (the cycles stage is skipped).
NO_CYCLE_MODEL = "cycle model is Cortex-M4 only"

FIGURES: tuple[Figure, ...] = (
    Figure("float_accuracy", "float accuracy", "ratio", "higher", None, "train",
           "Keras model's accuracy on the held-out split"),
    Figure("int8_accuracy", "int8 accuracy", "ratio", "higher", "min_int8_accuracy", "quantize",
           "TFLM host interpreter's accuracy of the int8 model on the held-out split", NO_LABELS),
    Figure("target_accuracy", "on-target accuracy", "ratio", "higher", "min_target_accuracy", "simulate",
           "accuracy of the classes the firmware printed, on the held-out labels", NO_LABELS),
    Figure("bit_exact_matched", "bit-exact vectors", "vectors", "higher", None, "simulate",
           "vectors whose firmware output equals TFLM's exactly (must be bit_exact_total)"),
    Figure("bit_exact_total", "vectors compared", "vectors", "", None, "simulate",
           "reference vectors embedded in the firmware"),
    Figure("litert_disagreements", "LiteRT disagreements", "outputs", "lower", None, "quantize",
           "outputs where LiteRT (the second opinion) differs from TFLM"),
    Figure("instructions_per_inference", "instructions / inference", "instructions", "lower",
           "max_instructions_per_inference", "simulate",
           "median instructions executed by tc_model_invoke() over the vectors"),
    Figure("estimated_cycles_per_inference", "estimated cycles / inference", "cycles", "lower",
           "max_estimated_cycles_per_inference", "cycles",
           "the cycle model's Cortex-M4 cycles of tc_model_invoke() (docs/cycle-model.md)", NO_CYCLE_MODEL),
    Figure("latency_ms", "estimated latency (ms, 168 MHz)", "ms", "lower", None, "cycles",
           "estimated_cycles_per_inference at the STM32F407's 168 MHz", NO_CYCLE_MODEL),
    Figure("counter_source", "counter", "", "", None, "simulate",
           "the counter the firmware timed with: dwt (Renode) or systick (QEMU icount)"),
    Figure("macs", "MACs / inference", "MACs", "", None, "codegen",
           "multiply-accumulates of one inference"),
    Figure("model_bytes", "model (.tflite) bytes", "bytes", "lower", "max_model_bytes", "codegen",
           "the int8 weights, biases and quantization constants"),
    Figure("model_flash_bytes", "model flash bytes", "bytes", "lower", "max_model_flash_bytes", "build",
           "the model and its kernels in the firmware's flash (DSP-widened weights included)"),
    Figure("flash_bytes", "flash bytes", "bytes", "lower", "max_flash_bytes", "build",
           "the firmware's flash (text + rodata + data)"),
    Figure("ram_bytes", "RAM bytes", "bytes", "lower", "max_ram_bytes", "build",
           "the firmware's static RAM (data + bss, the stack reservation included)"),
    Figure("arena_bytes", "arena bytes", "bytes", "lower", "max_arena_bytes", "codegen",
           "the activation arena the generated code plans"),
    Figure("stack_bytes_static", "stack bytes (static bound)", "bytes", "lower", "max_stack_bytes", "build",
           "the call graph's worst-case stack (-fstack-usage, pipeline/analyses/stack_usage.py)"),
    Figure("stack_bytes_measured", "stack bytes (measured)", "bytes", "lower", "max_stack_bytes", "simulate",
           "the stack the firmware used, by stack painting"),
)

# Stages measured on the host from the model alone; the firmware's suite checks the others.
HOST_STAGES = ("train", "quantize")

# The functions below read FIGURES when called, so every consumer sees one and the same table.


def figure(name: str) -> Figure | None:
    """The figure called ``name``, or None."""
    return next((f for f in FIGURES if f.name == name), None)


def budget_keys() -> tuple[str, ...]:
    """Every key [budgets] accepts, in the registry's order, each once."""
    return tuple(dict.fromkeys(f.budget for f in FIGURES if f.budget is not None))


def budgeted() -> tuple[Figure, ...]:
    """The figures a budget can bound."""
    return tuple(f for f in FIGURES if f.budget is not None)


def firmware_budgeted() -> tuple[Figure, ...]:
    """The budgeted figures of the firmware (what the Robot suite checks): not measured on the host."""
    return tuple(f for f in budgeted() if f.stage not in HOST_STAGES)


def bounded_by(key: str) -> tuple[Figure, ...]:
    """The figures the budget ``key`` bounds (max_stack_bytes bounds two: static and measured)."""
    return tuple(f for f in FIGURES if f.budget == key)


def measured_by(stage: str) -> tuple[Figure, ...]:
    """The figures the stage ``stage`` measures."""
    return tuple(f for f in FIGURES if f.stage == stage)


def from_stages(results: Mapping[str, object]) -> dict[str, Any]:
    """Each figure's value from the result of the stage that measures it, the result's field of the
    figure's name (pipeline/pipeline.py, GRAPH); None where the stage did not run or measure it."""
    return {f.name: getattr(results.get(f.stage), f.name, None) for f in FIGURES}
