"""The Pareto plot of `invoke compress`: accuracy against model bytes, instructions by colour."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.compress.search import CompressResult


def pareto_plot(result: CompressResult, budgets: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    rows = [r for r in result.candidates if "error" not in r]
    accuracy_known = any(r["target_accuracy"] is not None for r in rows)
    y_key = "target_accuracy" if accuracy_known else "instructions_per_inference"
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for qat, marker in ((False, "o"), (True, "^")):
        group = [r for r in rows if r["qat"] == qat]
        if group:
            points = ax.scatter([r["model_bytes"] for r in group], [r[y_key] for r in group], marker=marker,
                                c=[r["instructions_per_inference"] for r in group], cmap="viridis",
                                norm=LogNorm(min(r["instructions_per_inference"] for r in rows),
                                             max(r["instructions_per_inference"] for r in rows)), s=60,
                                edgecolors="black", linewidths=0.5, label="QAT" if qat else "PTQ")
            if not qat:
                fig.colorbar(points, ax=ax, label="instructions per inference (log)")
    for r in rows:
        ax.annotate(r["name"], (r["model_bytes"], r[y_key]), fontsize=6, xytext=(4, 3), textcoords="offset points")
        if r["name"] == result.chosen:
            ax.scatter([r["model_bytes"]], [r[y_key]], s=260, facecolors="none", edgecolors="red", linewidths=2,
                       label=f"chosen: {r['name']}")
    if "max_model_bytes" in budgets:
        ax.axvline(budgets["max_model_bytes"], color="red", linestyle="--", linewidth=1, label="max_model_bytes")
    if accuracy_known and "min_int8_accuracy" in budgets:
        ax.axhline(budgets["min_int8_accuracy"], color="orange", linestyle="--", linewidth=1,
                   label="min_int8_accuracy")
    ax.set_xscale("log")
    ax.set_xlabel("model bytes (int8 weights, biases, quantization parameters)")
    ax.set_ylabel("on-target int8 accuracy" if accuracy_known else "instructions per inference")
    ax.set_title(f"invoke compress: {len(rows)} candidates, each measured on the emulated MCU")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    result.plot_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(result.plot_path)
    plt.close(fig)
