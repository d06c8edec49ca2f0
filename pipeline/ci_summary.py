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

from pipeline import figures
from pipeline.figures import Figure


@dataclass(frozen=True)
class BudgetCheck:
    name: str  # e.g. "max_flash_bytes"
    figure: Figure  # the figure it bounds (pipeline/figures.py)
    limit: float
    measured: float | None

    @property
    def ok(self) -> bool | None:
        if self.measured is None:
            return None
        return self.figure.within(self.measured, self.limit)

    @property
    def label(self) -> str:
        """The budget's name, with the figure's where the budget bounds more than one (the stack)."""
        return self.name if len(figures.bounded_by(self.name)) == 1 else f"{self.name} ({self.figure.name})"


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
    """Each budget paired with every figure it bounds, in budget-name order (pipeline/figures.py)."""
    checks = []
    for name, limit in sorted((metrics.get("budgets") or {}).items()):
        bounded = figures.bounded_by(name)
        if not bounded:
            raise ValueError(f"budget {name!r} bounds no figure of pipeline/figures.py")
        checks += [BudgetCheck(name, f, float(limit), _number(metrics.get(f.name))) for f in bounded]
    return checks


def _toolchain(metrics: dict[str, Any]) -> str:
    tools = metrics.get("toolchain") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(tools.items())) or "unknown"


def _figure_rows(metrics: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    rows = []
    for figure in figures.FIGURES:
        key, label, kind = figure.name, figure.label, figure.kind
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
        kind = check.figure.kind
        bound = {"<=": "≤", ">=": "≥"}[check.figure.bound]
        rows.append(
            f"| {check.label} | {bound} {format_value(check.limit, kind)} | "
            f"{format_value(check.measured, kind)} | {marks[check.ok]} |"
        )
    return rows


def summary_markdown(metrics: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """Markdown for one model on one emulator; ``previous`` adds a change column."""
    model = metrics.get("model", "?")
    emulator = metrics.get("emulator", "?")
    board = metrics.get("board")  # absent in the metrics of runs from before boards
    verdict = "passed" if metrics.get("passed") else "**FAILED**"
    lines = [
        f"### {model} on {board} ({emulator}): {verdict}" if board else f"### {model} on {emulator}: {verdict}",
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
    parser.add_argument("metrics", type=Path, help="build/<model>/[boards/<board>/]metrics.json")
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
