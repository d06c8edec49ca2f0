"""metrics.json and the table `invoke all` ends with: each figure, its budget, pass or fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# (metric, budget key, direction): a "max" budget passes when measured <= budget.
CHECKS = (
    ("int8_accuracy", "min_int8_accuracy", "min"),
    ("target_accuracy", "min_int8_accuracy", "min"),
    ("instructions_per_inference", "max_instructions_per_inference", "max"),
    ("estimated_cycles_per_inference", "max_estimated_cycles_per_inference", "max"),
    ("model_bytes", "max_model_bytes", "max"),
    ("model_flash_bytes", "max_model_flash_bytes", "max"),
    ("flash_bytes", "max_flash_bytes", "max"),
    ("ram_bytes", "max_ram_bytes", "max"),
    ("arena_bytes", "max_arena_bytes", "max"),
    ("stack_bytes_static", "max_stack_bytes", "max"),
    ("stack_bytes_measured", "max_stack_bytes", "max"),
)


def budget_verdicts(metrics: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """Rows of (metric, measured, budget text, verdict): pass, FAIL, or n/a when not applicable."""
    rows = []
    budgets = metrics.get("budgets", {})
    for name, key, direction in CHECKS:
        measured = metrics.get(name)
        if key not in budgets:
            if measured is not None:  # reported, never judged: no budget was set
                rows.append((name, measured, "no budget", "-"))
            continue
        budget = budgets[key]
        if measured is None:
            verdict = "n/a"
        elif direction == "max":
            verdict = "pass" if measured <= budget else "FAIL"
        else:
            verdict = "pass" if measured >= budget else "FAIL"
        rows.append((name, measured, f"{'<=' if direction == 'max' else '>='} {_fmt(budget)}", verdict))
    matched, total = metrics.get("bit_exact_matched"), metrics.get("bit_exact_total")
    if total is not None:
        rows.insert(
            0, ("bit_exact", f"{matched}/{total}", f"== {total}", "pass" if matched == total and total else "FAIL")
        )
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value < 1.5:
        return f"{value:.4f}"
    if isinstance(value, float | int):
        return f"{int(value):,}"
    return str(value)


def table(metrics: dict[str, Any]) -> str:
    rows = [("metric", "measured", "budget", "verdict")]
    rows += [(n, _fmt(m), b, v) for n, m, b, v in budget_verdicts(metrics)]
    rows += [
        (k, f"{metrics[k]:g}" if k == "latency_ms" and metrics[k] is not None else _fmt(metrics[k]), "", "")
        for k in ("latency_ms", "float_accuracy", "litert_disagreements", "counter_source", "emulator")
        if k in metrics
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_metrics(path: Path, metrics: dict[str, Any]) -> None:
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
