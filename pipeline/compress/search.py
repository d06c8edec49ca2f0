"""`invoke compress`: build every candidate of the config's [compress] section, measure each one
through the real pipeline (int8 .tflite, codegen, firmware build, emulator, bit-exact check against
TFLM), and choose the smallest that meets every budget.

Each candidate lives in build/<model>/compress/<candidate>/ with its own stage stamps, so an
unchanged candidate is reused like any other stage. Figures come from the candidate's own
firmware run; nothing is estimated from the Keras model.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import figures
from pipeline.compress.finetune import MAGNITUDE, CandidateFiles, CandidateSpec, export_weights, run_candidate
from pipeline.compress.surgery import METHODS
from pipeline.errors import ConfigError, PipelineError
from pipeline.fileutil import sha256_file, write_atomically
from pipeline.metrics import budget_verdicts
from pipeline.stagecache import Stage, run_stage

if TYPE_CHECKING:
    from pipeline.pipeline import ModelBuild

UNPRUNED = "unpruned"
FIGURES = ("model_bytes", "flash_bytes", "ram_bytes", "arena_bytes", "macs", "instructions_per_inference",
           "estimated_cycles_per_inference")


@dataclass(frozen=True)
class CompressSettings:
    ratios: tuple[float, ...]
    methods: tuple[str, ...]
    qat: tuple[bool, ...]
    distill: tuple[bool, ...]
    epochs: int
    learning_rate: float
    temperature: float
    alpha: float
    workers: int


@dataclass(frozen=True)
class CompressResult:
    candidates: list[dict[str, Any]]  # one row per candidate: its settings and measured figures
    chosen: str | None
    json_path: Path
    plot_path: Path

    @property
    def chosen_tflite(self) -> Path:
        if self.chosen is None:
            raise PipelineError(f"compress: no candidate meets every budget (see {self.json_path})")
        return self.json_path.parent / "chosen.tflite"


def compress_settings(b: ModelBuild) -> CompressSettings:
    """The [compress] section, checked; a clear error naming the config file otherwise."""
    path, raw = b.cfg.path, b.cfg.raw.get("compress")
    if raw is None:
        raise ConfigError(f"{path}: no [compress] section: nothing to compress (see docs/compress.md)")
    from pipeline.compress.distill import ALPHA, TEMPERATURE

    def items(key: str, kinds: tuple[type, ...], default: list[Any]) -> tuple[Any, ...]:
        values = raw.get(key, default)
        if not values or not all(isinstance(v, kinds) and (bool in kinds or not isinstance(v, bool)) for v in values):
            raise ConfigError(f"{path}: [compress] {key} = {values!r} must be a non-empty list of "
                              f"{' or '.join(k.__name__ for k in kinds)} values")
        return tuple(values)

    ratios = tuple(float(r) for r in items("ratios", (float, int), []))
    if not all(0.0 < r < 1.0 for r in ratios):
        raise ConfigError(f"{path}: [compress] ratios = {list(ratios)}: each must be in (0, 1)")
    methods = items("methods", (str,), ["bn_gamma"])
    if unknown := [m for m in methods if m not in (*METHODS, MAGNITUDE)]:
        raise ConfigError(f"{path}: [compress] methods: unknown {unknown}; expected {', '.join((*METHODS, MAGNITUDE))}")
    s = CompressSettings(ratios, methods, items("qat", (bool,), [False]), items("distill", (bool,), [False]),
                         int(raw.get("epochs", 20)), float(raw.get("learning_rate", 0.001)),
                         float(raw.get("temperature", TEMPERATURE)), float(raw.get("alpha", ALPHA)),
                         int(raw.get("workers", 2)))
    if s.epochs < 0 or s.workers < 1 or s.temperature <= 0 or not 0.0 <= s.alpha <= 1.0:
        raise ConfigError(f"{path}: [compress] needs epochs >= 0, workers >= 1, temperature > 0, 0 <= alpha <= 1")
    if MAGNITUDE in methods and s.epochs == 0:
        raise ConfigError(f"{path}: [compress] method '{MAGNITUDE}' prunes while fine-tuning: needs epochs > 0")
    return s


def candidate_specs(b: ModelBuild, s: CompressSettings) -> list[CandidateSpec]:
    """The trained model as it is (the baseline), then every combination of the settings' lists."""
    assert b.cfg.training is not None
    common = {"batch_size": b.cfg.training.batch_size, "seed": b.cfg.training.seed, "temperature": s.temperature,
              "alpha": s.alpha, "representative_samples": b.cfg.representative_samples}
    specs = [CandidateSpec(UNPRUNED, 0.0, "none", False, False, 0, 0.0, **common)]  # type: ignore[arg-type]
    for ratio, method, qat, distill in itertools.product(s.ratios, s.methods, s.qat, s.distill):
        if method == MAGNITUDE and qat:
            continue  # QAT's wrappers would train the zeros back: magnitude candidates are PTQ only
        ratio_text = f"{ratio:.2f}" if round(ratio, 2) == ratio else f"{ratio:g}"  # r0.70, r0.125
        name = f"r{ratio_text}-{method}-{'qat' if qat else 'ptq'}{'-kd' if distill else ''}"
        specs.append(CandidateSpec(name, ratio, method, qat, distill, s.epochs, s.learning_rate,
                                   **common))  # type: ignore[arg-type]
    return specs


@dataclass(frozen=True)
class CandidateMade:
    """The candidate stage's result: pipeline/compress/finetune.py's summary of the candidate."""

    keras: str
    filters: dict[str, tuple[int, int]]  # layer: (channels before, after)
    sparsity: float | None
    float_accuracy: float | None
    int8_accuracy: float | None


@dataclass(frozen=True)
class WeightsExported:
    """The compress-weights stage's result: its output, weights.npz, is all it makes."""


def _measure(b: ModelBuild, spec: CandidateSpec, emulator: str | None) -> dict[str, Any]:
    """Build the candidate and measure it on the emulated MCU (every step reused when unchanged): the
    candidate's own stage makes its .tflite, then the pipeline's graph from codegen to the cycles."""
    from pipeline.pipeline import (
        BUILD,
        CODEGEN,
        CYCLES,
        GRAPH,
        PIPELINE,
        QUANTIZE,
        SIMULATE,
        ModelBuild,
        PipelineRun,
        boot_figures,
    )

    assert b.cfg.architecture is not None
    cb = ModelBuild(b.cfg, out_dir=b.dir / "compress" / spec.name)
    dataset = b.dir / "dataset.npz"
    files = CandidateFiles(b.cfg.architecture, b.dir / "model.keras", b.dir / "compress" / "weights.npz", dataset,
                           cb.tflite, cb.dir / "candidate.json", cb.reference)
    code = (*(PIPELINE / "compress" / f for f in ("finetune.py", "surgery.py", "distill.py")),
            *(PIPELINE / "stages" / f for f in ("convert.py", "train.py", "quantize.py", "reference.py")),
            b.cfg.architecture)
    made = run_stage(Stage("candidate", cb.dir, code, (files.keras_model, files.weights, dataset),
                           (files.tflite, files.summary, files.reference), asdict(spec)),
                     lambda: _made(run_candidate(spec, files)), CandidateMade)[0]
    r = PipelineRun(cb, emulator)
    results = GRAPH.run(r, SIMULATE.name, CYCLES.name, given=(QUANTIZE.name,))
    generated, built, cycles = results.of(CODEGEN), results.of(BUILD), results.of(CYCLES)
    run = boot_figures(r, results.of(SIMULATE))
    return {**asdict(spec), **asdict(made), **asdict(run), "macs": generated.macs,
            "estimated_cycles_per_inference": cycles.estimated_cycles_per_inference, "latency_ms": cycles.latency_ms,
            "model_bytes": generated.model_bytes, "arena_bytes": generated.arena_bytes, **built.sizes(),
            "tflite": str(cb.tflite)}


def _made(summary: dict[str, Any]) -> CandidateMade:
    return CandidateMade(summary["keras"], summary["filters"], summary["sparsity"], summary["float_accuracy"],
                         summary["int8_accuracy"])


def _shortfalls(row: dict[str, Any], budgets: dict[str, float]) -> list[tuple[float, str]]:
    """(how far off, as a fraction of the budget, description) for every budget the row fails."""
    out = []
    for figure in figures.budgeted():
        metric, key, lower = figure.name, figure.budget, figure.better == "lower"
        measured = row.get(metric)
        if key not in budgets or measured is None:
            continue
        budget = budgets[key]
        off = (measured - budget if lower else budget - measured) / max(abs(budget), 1e-12)
        if off > 0:
            sign = ">" if lower else "<"
            out.append((off, f"{metric} {_fmt(measured, budget < 1.5)} {sign} {key} {_fmt(budget, budget < 1.5)} "
                             f"({off:.1%} off)"))
    if row.get("bit_exact_matched") != row.get("bit_exact_total"):
        out.append((float("inf"), f"bit_exact {row.get('bit_exact_matched')}/{row.get('bit_exact_total')}"))
    return sorted(out)


def _judge(row: dict[str, Any], budgets: dict[str, float]) -> None:
    verdicts = budget_verdicts({**row, "budgets": budgets})
    row["meets_budgets"] = "error" not in row and all(v != "FAIL" for *_, v in verdicts)
    row["failed_budgets"] = [text for _, text in _shortfalls(row, budgets)] if "error" not in row else []


def _fmt(value: Any, accuracy: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if accuracy else f"{int(value):,}"


def table(rows: list[dict[str, Any]], chosen: str | None) -> str:
    head = ("candidate", "keras", "sparsity", "float acc", "int8 acc", "target acc", "bit-exact", *FIGURES, "budgets")
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append((r["name"], *("",) * (len(head) - 2), "ERROR"))
            continue
        verdict = "CHOSEN" if r["name"] == chosen else ("meets" if r["meets_budgets"] else "fails")
        sparsity = "-" if r["sparsity"] is None else f"{r['sparsity']:.1%} zeros"  # dense C: zeros take bytes too
        lines.append((r["name"], r["keras"], sparsity, _fmt(r["float_accuracy"], True), _fmt(r["int8_accuracy"], True),
                      _fmt(r["target_accuracy"], True), f"{r['bit_exact_matched']}/{r['bit_exact_total']}",
                      *(_fmt(r[f]) for f in FIGURES), verdict))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    text = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def _choose(rows: list[dict[str, Any]]) -> str | None:
    """The smallest candidate meeting every budget; ties: the more accurate, then the faster."""
    fit = [r for r in rows if r.get("meets_budgets")]
    if not fit:
        return None
    best = min(fit, key=lambda r: (r["model_bytes"], -(r["target_accuracy"] or 0.0),
                                   r["instructions_per_inference"], r["name"]))
    return str(best["name"])


def compress(b: ModelBuild, emulator: str | None = None) -> CompressResult:
    """Every candidate built and measured; compress.json, the Pareto plot and chosen.tflite written."""
    from pipeline.compress.plot import pareto_plot
    from pipeline.emulators import default_emulator
    from pipeline.pipeline import GRAPH, PIPELINE, TRAIN, PipelineRun

    settings = compress_settings(b)
    emulator = emulator or default_emulator(b.board.name)
    GRAPH.run(PipelineRun(b, emulator), TRAIN.name)
    out = b.dir / "compress"

    def weights() -> WeightsExported:
        export_weights(b.dir / "model.keras", out / "weights.npz")
        return WeightsExported()

    run_stage(Stage("compress-weights", out, (PIPELINE / "compress" / "finetune.py",), (b.dir / "model.keras",),
                    (out / "weights.npz",)), weights, WeightsExported)
    specs = candidate_specs(b, settings)
    for stale in (d for d in out.iterdir()
                  if d.is_dir() and not d.name.startswith(".") and d.name not in {s.name for s in specs}):
        shutil.rmtree(stale)  # a candidate no longer in [compress]: never reported as if current (.stamps stays)
    print(f"[compress] {b.name}: {len(specs)} candidates, {settings.workers} at a time, measured on {emulator}",
          flush=True)
    lock, done = threading.Lock(), [0]

    def one(spec: CandidateSpec) -> dict[str, Any]:
        try:
            row = _measure(b, spec, emulator)
        except PipelineError as err:
            row = {**asdict(spec), "error": str(err)}
        _judge(row, b.cfg.budgets)
        with lock:
            done[0] += 1
            figures = ("ERROR: " + row["error"].splitlines()[0]) if "error" in row else (
                f"model_bytes {row['model_bytes']:,}, target acc {_fmt(row['target_accuracy'], True)}, "
                f"{row['instructions_per_inference']:,} instructions, "
                f"{'meets every budget' if row['meets_budgets'] else 'fails ' + '; '.join(row['failed_budgets'])}")
            print(f"[compress] {done[0]}/{len(specs)} {spec.name}: {figures}", flush=True)
        return row

    with ThreadPoolExecutor(max_workers=settings.workers) as pool:
        rows = list(pool.map(one, specs))
    chosen = _choose(rows)
    result = CompressResult(rows, chosen, out / "compress.json", out / "pareto.png")
    _write(b, result, emulator)
    pareto_plot(result, b.cfg.budgets)
    print()
    print(table(rows, chosen))
    if chosen is None:
        print(f"\n{b.name}: no candidate meets every budget; closest, per candidate:")
        for r in rows:
            print(f"  {r['name']}: {r.get('error', '').splitlines()[0] if 'error' in r else r['failed_budgets'][0]}")
        raise PipelineError(f"compress: no candidate of {b.name} meets every budget ({result.json_path}, "
                            f"{result.plot_path})")
    shutil.copyfile(out / chosen / f"{b.name}.tflite", result.chosen_tflite)
    print(f"\n{b.name}: chose {chosen} -> {result.chosen_tflite}; {result.json_path}, {result.plot_path}")
    return result


def _write(b: ModelBuild, result: CompressResult, emulator: str) -> None:
    write_atomically(result.json_path, json.dumps({
        "model": b.name, "emulator": emulator, "budgets": b.cfg.budgets, "chosen": result.chosen,
        "model_keras_sha256": sha256_file(b.dir / "model.keras"), "candidates": result.candidates,
    }, indent=2, default=str) + "\n")
