"""metrics.json and the table `invoke all` ends with: each figure, its budget, pass or fail.

The figures, their budget keys and directions come from pipeline/figures.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import figures

# Shown after the figures, never judged.
CONTEXT_KEYS = ("emulator", "board")


def budget_verdicts(metrics: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """Rows of (figure, measured, budget text, verdict) for every figure a budget can bound:
    pass, FAIL, n/a when not applicable, or "-" when no budget was set (shown, never judged)."""
    rows = []
    budgets = metrics.get("budgets", {})
    for figure in figures.budgeted():
        assert figure.budget is not None
        measured = metrics.get(figure.name)
        if figure.budget not in budgets:
            if measured is not None:
                rows.append((figure.name, measured, "no budget", "-"))
            continue
        budget = budgets[figure.budget]
        verdict = "n/a" if measured is None else "pass" if figure.within(measured, budget) else "FAIL"
        rows.append((figure.name, measured, f"{figure.bound} {figure.format(budget)}", verdict))
    matched, total = metrics.get("bit_exact_matched"), metrics.get("bit_exact_total")
    if total is not None:
        rows.insert(
            0, ("bit_exact", f"{matched}/{total}", f"== {total}", "pass" if matched == total and total else "FAIL")
        )
    return rows


def _shown(figure: figures.Figure, value: Any) -> str:
    """The figure's value; not applicable with the reason, e.g. "n/a (cycle model is Cortex-M4 only)"."""
    return f"n/a ({figure.absent})" if value is None and figure.absent else figure.format(value)


def table(metrics: dict[str, Any]) -> str:
    rows = [("metric", "measured", "budget", "verdict")]
    for name, measured, budget, verdict in budget_verdicts(metrics):
        known = figures.figure(name)
        rows.append((name, _shown(known, measured) if known else str(measured), budget, verdict))
    unbudgeted = [f for f in figures.FIGURES if f.budget is None and not f.name.startswith("bit_exact_")]
    rows += [(f.name, _shown(f, metrics[f.name]), "", "") for f in unbudgeted if f.name in metrics]
    rows += [(k, str(metrics[k]), "", "") for k in CONTEXT_KEYS if k in metrics]
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_metrics(path: Path, metrics: dict[str, Any]) -> None:
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
