"""Benchmark: MACs, instructions per inference and sizes of models in models/, as a table.

Every model goes through the ordinary stages (reused when unchanged) up to the QEMU
simulation, which counts instructions exactly (SysTick + icount). The results land in
``build/bench.json`` and ``build/bench.md``.

Cycles: the cycle model (docs/cycle-model.md) estimates ours (``tc_model_invoke``) and, where
``../shared/peer-tflm/`` holds the model, the TFLM + CMSIS-NN firmware (the function named in its
``.symbol``) in the same run, with the same model: the gate is ours <= ``target_cycle_ratio`` x
theirs in cycles, for a model whose ``[reference]`` sets it (issue 12: 0.5 on the MLPerf Tiny
models); any other model with a peer gets the ratio without a verdict. Their instructions are
those the same run counted.

Per-layer instructions come from a second, profile build (TC_PROFILE, see pipeline/analyses/profile.py);
a layer without a kernel call (an in-place RESHAPE) counts 0. The per-layer figures include
the profile marks, so they sum to slightly more than ``instructions_per_inference``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline import figures
from pipeline.analyses.profile import profile_model
from pipeline.config import BUILD_DIR, ROOT
from pipeline.entry import model_build, run_until
from pipeline.fileutil import write_atomically
from pipeline.pipeline import BUILD, CYCLES, SIMULATE, PipelineRun, boot_figures
from pipeline.stages.cycles import estimate_cycles

BENCH_EMULATOR = "qemu"  # the exact instruction counter
PEER_DIR = Path(os.environ.get("TINYML_CI_PEER_DIR", ROOT.parent / "shared" / "peer-tflm"))


@dataclass(frozen=True)
class LayerBench:
    op: str
    macs: int
    instructions: int  # from the profile build; 0 for a layer without a kernel call


@dataclass(frozen=True)
class BenchResult:
    model: str
    macs: int
    instructions_per_inference: int
    mac_per_instruction: float
    model_bytes: int  # the int8 weights, biases and quantization constants (the portable build's)
    model_flash_bytes: int  # the DSP build's model and kernels in flash (widened int16 weights included)
    arena_bytes: int
    ram_bytes: int
    layers: list[LayerBench]
    tflm_cmsis_nn_instructions: int | None = None  # the peer firmware's, this run; else the config's [reference]
    target_instructions: int | None = None
    estimated_cycles_per_inference: int | None = None
    latency_ms: float | None = None
    tflm_cmsis_nn_cycles: int | None = None  # the peer firmware's estimate, same run and model
    target_cycle_ratio: float | None = None  # the config's [reference]: the most ours / theirs in cycles may be

    @property
    def cycle_ratio(self) -> float | None:
        if self.estimated_cycles_per_inference is None or not self.tflm_cmsis_nn_cycles:
            return None
        return self.estimated_cycles_per_inference / self.tflm_cmsis_nn_cycles

    @property
    def cycle_target_met(self) -> bool | None:
        """Whether ours is at most target_cycle_ratio of the peer's estimated cycles; None without both."""
        ratio = self.cycle_ratio
        if ratio is None or self.target_cycle_ratio is None:
            return None
        return ratio <= self.target_cycle_ratio

    @property
    def target_met(self) -> bool | None:
        """Whether the instruction count is within the target; None without one."""
        if self.target_instructions is None:
            return None
        return self.instructions_per_inference <= self.target_instructions


# Columns named after a figure of pipeline/figures.py are that figure, formatted by the registry.
COLUMNS = ("model", "macs", "instructions_per_inference", "MACs/instr", "model_bytes", "model_flash_bytes",
           "arena_bytes", "ram_bytes", "estimated_cycles_per_inference", "latency_ms", "TFLM_cycles", "cycle_ratio",
           "cycle_target", "TFLM+CMSIS-NN", "ratio", "target")
FIGURE_COLUMNS = tuple(c for c in COLUMNS if figures.figure(c) is not None)


def bench_model(name: str) -> BenchResult:
    """Build (or reuse) one model up to the QEMU run and collect its figures."""
    b = model_build(name)
    reference = b.cfg.reference
    booted = run_until(b, SIMULATE.name, BENCH_EMULATOR)
    sizes = booted.of(BUILD)
    instructions = boot_figures(PipelineRun(b, BENCH_EMULATOR), booted.of(SIMULATE)).instructions_per_inference
    codegen = json.loads((b.generated / "codegen.json").read_text())
    macs = int(codegen["macs"])
    profiled = {p.index: p.instructions for p in profile_model(b)}
    cycles = run_until(b, CYCLES.name).of(CYCLES)
    peer_instructions, peer_cycles = _peer(b.name)
    return BenchResult(
        model=b.name,
        macs=macs,
        instructions_per_inference=instructions,
        mac_per_instruction=round(macs / instructions, 4) if instructions else 0.0,
        model_bytes=int(codegen["model_bytes"]),
        model_flash_bytes=sizes.model_flash_bytes,
        arena_bytes=sizes.arena_bytes,
        ram_bytes=sizes.ram_bytes,
        layers=[
            LayerBench(str(layer["op"]), int(layer["macs"]), profiled.get(int(layer["index"]), 0))
            for layer in codegen["layers"]
        ],
        tflm_cmsis_nn_instructions=peer_instructions or _int_or_none(reference.get("tflm_cmsis_nn_instructions")),
        target_instructions=_int_or_none(reference.get("target_instructions")),
        estimated_cycles_per_inference=cycles.estimated_cycles_per_inference,
        latency_ms=cycles.latency_ms,
        tflm_cmsis_nn_cycles=peer_cycles,
        target_cycle_ratio=reference.get("target_cycle_ratio"),
    )


def _int_or_none(value: int | float | None) -> int | None:
    return None if value is None else int(value)


def _peer(name: str) -> tuple[int | None, int | None]:
    """Instructions and estimated cycles per inference of the TFLM + CMSIS-NN firmware of ``name``, if any."""
    elf, symbol = PEER_DIR / f"{name}.elf", PEER_DIR / f"{name}.symbol"
    if not elf.is_file() or not symbol.is_file():
        return None, None
    est = estimate_cycles(elf, symbol.read_text().strip(), workdir=BUILD_DIR / "bench" / "peer-tflm" / name)
    print(f"bench: TFLM + CMSIS-NN {name}: {est.instructions_per_call:,} instructions, "
          f"{est.cycles_per_call:,} estimated cycles", flush=True)
    return est.instructions_per_call, est.cycles_per_call


def _figure_cell(r: BenchResult, name: str) -> str:
    value = getattr(r, name)
    figure = figures.figure(name)
    assert figure is not None
    return "-" if value is None else figure.format(value)


def _cycle_cells(r: BenchResult) -> tuple[str, str, str]:
    """The peer's estimate, ours / theirs and the verdict against the target."""
    theirs = "-" if r.tflm_cmsis_nn_cycles is None else f"{r.tflm_cmsis_nn_cycles:,}"
    ratio = r.cycle_ratio
    if ratio is None:
        return theirs, "-", "-"
    if r.target_cycle_ratio is None:
        return theirs, f"{ratio:.3f}", "-"
    verdict = f"<= {r.target_cycle_ratio:g}x {'met' if r.cycle_target_met else 'MISSED'}"
    return theirs, f"{ratio:.3f}", verdict


def _reference_cells(r: BenchResult) -> tuple[str, str, str]:
    """TFLM + CMSIS-NN's count, ours as a fraction of it, and the target with its verdict."""
    tflm = r.tflm_cmsis_nn_instructions
    ratio = f"{r.instructions_per_inference / tflm:.3f}" if tflm else "-"
    if r.target_instructions is None:
        target = "-"
    else:
        target = f"<= {r.target_instructions:,} {'met' if r.target_met else 'MISSED'}"
    return (f"{tflm:,}" if tflm else "-", ratio, target)


def _rows(results: list[BenchResult]) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        cells = {name: _figure_cell(r, name) for name in FIGURE_COLUMNS}
        cells.update(zip(("TFLM_cycles", "cycle_ratio", "cycle_target"), _cycle_cells(r), strict=True))
        cells.update(zip(("TFLM+CMSIS-NN", "ratio", "target"), _reference_cells(r), strict=True))
        cells.update({"model": r.model, "MACs/instr": f"{r.mac_per_instruction:.3f}"})
        rows.append(tuple(cells[c] for c in COLUMNS))
    return rows


def format_table(results: list[BenchResult]) -> str:
    rows = [COLUMNS, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(results: list[BenchResult]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(results)]
    meanings = " ".join(f"{name}: {figure.meaning}." for name in FIGURE_COLUMNS
                        if (figure := figures.figure(name)) is not None)
    note = ("\nInstructions per inference counted exactly in QEMU (SysTick + icount), DSP kernels. "
            f"{meanings} TFLM_cycles: "
            "the same estimate of the TFLM + CMSIS-NN firmware (../shared/peer-tflm/), same run; cycle_ratio: "
            "ours / theirs, judged against the config's [reference] target_cycle_ratio where it has one. "
            "TFLM+CMSIS-NN: the same count for TFLM with CMSIS-NN on the same architecture (models/<name>/"
            "config.toml [reference]); ratio: ours / theirs.\n")
    return "\n".join(lines) + "\n" + note


def write_reports(results: list[BenchResult], out_dir: Path = BUILD_DIR) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    rows = [{**asdict(r), "target_met": r.target_met, "cycle_ratio": r.cycle_ratio,
             "cycle_target_met": r.cycle_target_met} for r in results]
    write_atomically(json_path, json.dumps(rows, indent=2) + "\n")
    write_atomically(md_path, format_markdown(results))
    return json_path, md_path


def run_bench(models: list[str]) -> list[BenchResult]:
    """Benchmark ``models`` (names in models/), print the table, write build/bench.json and .md."""
    results = [bench_model(m) for m in models]
    print(format_table(results), flush=True)
    json_path, md_path = write_reports(results)
    print(f"bench: -> {json_path}, {md_path}", flush=True)
    print(target_summary(results), flush=True)
    return results


def target_summary(results: list[BenchResult]) -> str:
    """One line: how many models with a target meet it, naming those that miss."""
    judged = [r for r in results if r.target_met is not None]
    missed = [r.model for r in judged if not r.target_met]
    line = f"bench: {len(judged) - len(missed)} of {len(judged)} instruction targets met"
    line += f"; missed: {', '.join(missed)}" if missed else ""
    cycled = [r for r in results if r.cycle_target_met is not None]
    cycle_missed = [r.model for r in cycled if not r.cycle_target_met]
    if cycled:
        ratios = "/".join(sorted({f"{r.target_cycle_ratio:g}x" for r in cycled}))
        line += (f"\nbench: {len(cycled) - len(cycle_missed)} of {len(cycled)} cycle targets "
                 f"(<= {ratios} TFLM + CMSIS-NN) met")
        line += f"; missed: {', '.join(cycle_missed)}" if cycle_missed else ""
    return line
