"""A model's metrics.json as Markdown for the GitHub job summary.

    python -m pipeline.ci_summary build/<model>/metrics.json [--previous old/metrics.json]

prints a table of the figures, their budgets and the change against
``--previous`` (the same model and emulator from the last successful run on the
default branch, when CI could fetch it). The pass/fail verdict shown is the one
the pipeline wrote (``passed``); the per-budget marks only explain it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Figures shown, in order: key, label, kind ("count" | "ratio" | "bytes" | "text").
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("instructions_per_inference", "instructions / inference", "count"),
    ("estimated_cycles_per_inference", "estimated cycles / inference", "count"),
    ("latency_ms", "estimated latency (ms, 168 MHz)", "text"),
    ("counter_source", "counter", "text"),
    ("float_accuracy", "float accuracy", "ratio"),
    ("int8_accuracy", "int8 accuracy", "ratio"),
    ("target_accuracy", "on-target accuracy", "ratio"),
    ("bit_exact_matched", "bit-exact vectors", "count"),
    ("bit_exact_total", "vectors compared", "count"),
    ("litert_disagreements", "LiteRT disagreements", "count"),
    ("model_bytes", "model (.tflite) bytes", "bytes"),
    ("model_flash_bytes", "model flash bytes", "bytes"),
    ("flash_bytes", "flash bytes", "bytes"),
    ("ram_bytes", "RAM bytes", "bytes"),
    ("arena_bytes", "arena bytes", "bytes"),
)


@dataclass(frozen=True)
class BudgetCheck:
    name: str  # e.g. "max_flash_bytes"
    figure: str  # e.g. "flash_bytes"
    limit: float
    measured: float | None

    @property
    def ok(self) -> bool | None:
        if self.measured is None:
            return None
        if self.name.startswith("max_"):
            return self.measured <= self.limit
        return self.measured >= self.limit


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def format_value(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"
    number = _number(value)
    if kind == "ratio" and number is not None:
        return f"{number * 100:.2f} %"
    if kind in ("count", "bytes") and number is not None:
        return f"{number:,.0f}"
    return str(value)


def format_change(current: Any, previous: Any, kind: str) -> str:
    now, before = _number(current), _number(previous)
    if now is None or before is None:
        if previous is None or current == previous:
            return ""
        return f"was {format_value(previous, kind)}"
    delta = now - before
    if delta == 0:
        return "="
    if kind == "ratio":
        return f"{delta * 100:+.2f} pp"
    text = f"{delta:+,.0f}"
    if before != 0:
        text += f" ({delta / before * 100:+.1f} %)"
    return text


def budget_checks(metrics: dict[str, Any]) -> list[BudgetCheck]:
    """``max_x``/``min_x`` budgets paired with the figure ``x`` they bound."""
    checks = []
    for name, limit in sorted((metrics.get("budgets") or {}).items()):
        figure = name.split("_", 1)[1]
        checks.append(BudgetCheck(name, figure, float(limit), _number(metrics.get(figure))))
    return checks


def _toolchain(metrics: dict[str, Any]) -> str:
    tools = metrics.get("toolchain") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(tools.items())) or "unknown"


def _figure_rows(metrics: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    rows = []
    for key, label, kind in FIGURES:
        if key not in metrics:
            continue
        value = format_value(metrics[key], kind)
        if previous is None:
            rows.append(f"| {label} | {value} |")
            continue
        before = format_value(previous.get(key), kind)
        change = format_change(metrics[key], previous.get(key), kind)
        rows.append(f"| {label} | {value} | {before} | {change} |")
    return rows


def _budget_rows(metrics: dict[str, Any]) -> list[str]:
    marks = {True: "pass", False: "**FAIL**", None: "not measured"}
    rows = []
    for check in budget_checks(metrics):
        kind = "ratio" if check.figure.endswith("accuracy") else "count"
        bound = "≤" if check.name.startswith("max_") else "≥"
        rows.append(
            f"| {check.name} | {bound} {format_value(check.limit, kind)} | "
            f"{format_value(check.measured, kind)} | {marks[check.ok]} |"
        )
    return rows


def summary_markdown(metrics: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """Markdown for one model on one emulator; ``previous`` adds a change column."""
    model = metrics.get("model", "?")
    emulator = metrics.get("emulator", "?")
    verdict = "passed" if metrics.get("passed") else "**FAILED**"
    lines = [
        f"### {model} on {emulator}: {verdict}",
        "",
        f"Toolchain: {_toolchain(metrics)}",
        "",
    ]
    if previous is None:
        lines += ["| figure | value |", "|---|---:|"]
    else:
        lines += [
            "| figure | value | last good run | change |",
            "|---|---:|---:|---:|",
        ]
    lines += _figure_rows(metrics, previous)
    budgets = _budget_rows(metrics)
    if budgets:
        lines += ["", "| budget | limit | measured | |", "|---|---:|---:|---|", *budgets]
    lines.append("")
    if previous is None:
        lines.append("_No metrics from a successful run on the default branch to compare with._")
    elif _toolchain(previous) != _toolchain(metrics):
        lines.append(f"_The last good run used a different toolchain: {_toolchain(previous)}._")
    lines.append("")
    return "\n".join(lines)


def load_metrics(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: metrics must be a JSON object")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.ci_summary", description=__doc__)
    parser.add_argument("metrics", type=Path, help="build/<model>/metrics.json")
    parser.add_argument("--previous", type=Path, help="metrics.json of the last good run")
    args = parser.parse_args(argv)
    try:
        metrics = load_metrics(args.metrics)
    except (OSError, ValueError) as exc:
        print(f"ci_summary: cannot read {args.metrics}: {exc}", file=sys.stderr)
        return 2
    previous = None
    if args.previous is not None:
        try:
            previous = load_metrics(args.previous)
        except (OSError, ValueError) as exc:
            # A missing or broken old artifact must not hide this run's figures.
            print(f"ci_summary: ignoring --previous {args.previous}: {exc}", file=sys.stderr)
    sys.stdout.write(summary_markdown(metrics, previous))
    return 0


if __name__ == "__main__":
    sys.exit(main())
