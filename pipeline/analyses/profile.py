"""Per-layer profile: instructions of every layer of one model, counted in QEMU.

Builds the model's firmware with ``TC_PROFILE`` (the generated ``tc_model_invoke`` marks
the counter after each layer, see firmware/boards/common/profile.h) into ``build/<model>/profile/``,
boots it, and turns the first vector's cumulative ``LAYER`` spans into per-layer
instructions with the run's CountModel. Each layer also carries one mark (a call and a
counter read, a few tens of instructions), so the per-layer sum exceeds the plain build's
figure by about that much per layer.

Estimated cycles per layer come from the cycle model (docs/cycle-model.md) on the same profile
firmware: the plugin records the call's running totals at each entry of ``tc_profile_mark``; the
median call's differences are the layers' cycles and flash stalls.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.emulators.firmware_log import CountModel, LayerMark
from pipeline.entry import ModelBuild, run_until
from pipeline.errors import PipelineError
from pipeline.figures import NO_CYCLE_MODEL
from pipeline.pipeline import stack_bytes
from pipeline.stages.build import BuildRequest, build_firmware
from pipeline.stages.cycles import INFERENCE_FUNCTION, CycleMark, estimate_cycles
from pipeline.stages.firmware_run import boot, count_model

PROFILE_EMULATOR = "qemu"
MARK_FUNCTION = "tc_profile_mark"  # firmware/boards/common/profile.h


@dataclass(frozen=True)
class LayerProfile:
    index: int
    op: str
    shape: str  # the generator's summary: shapes, kernel, stride, padding
    macs: int
    instructions: int
    mac_per_instruction: float
    share: float  # of the inference's instructions
    estimated_cycles: int
    cycles_per_mac: float
    flash_stall_share: float  # of the layer's estimated cycles, spent waiting on flash


def layer_instructions(model: CountModel, marks: list[LayerMark]) -> list[int]:
    """Per-layer instructions from cumulative marks: differences of the counted prefixes."""
    prefixes = [model.instructions(m.ticks, m.wraps) for m in marks]
    return [b - a for a, b in zip([0, *prefixes[:-1]], prefixes, strict=True)]


def layer_cycles(marks: tuple[CycleMark, ...]) -> list[tuple[int, int]]:
    """Per-layer (cycles, flash stall cycles) from the plugin's cumulative marks."""
    prev = CycleMark(0, 0, 0)
    out = []
    for m in marks:
        out.append((m.cycles - prev.cycles, m.flash_stall_cycles - prev.flash_stall_cycles))
        prev = m
    return out


def profile_model(b: ModelBuild, kernels: str | None = None, emulator: str = PROFILE_EMULATOR) -> list[LayerProfile]:
    """Build the TC_PROFILE firmware of ``b`` (``kernels``: default the board's), boot it, return one
    LayerProfile per layer."""
    if not b.board.cycle_model:
        raise PipelineError(f"profile: the per-layer cycles come from the cycle model, and the {NO_CYCLE_MODEL}: "
                            f"board {b.board.name} is a {b.board.cpu}")
    run_until(b, "codegen")
    out = b.board_dir / "profile"
    fw = build_firmware(
        BuildRequest(b.generated, out / "firmware", stack_bytes=stack_bytes(b),
                     extra_defines={"TC_PROFILE": "1"}, kernels=kernels, board=b.board.name),
        on_line=lambda _line: None,
    )
    run = boot(fw.elf, out / emulator, emulator,
               b.cfg.emulator.wall_timeout_s, b.cfg.emulator.emulated_timeout_s, b.board.name)
    marks = run.report.layer_marks
    if not marks:
        raise PipelineError(f"{b.name}: the profile firmware printed no LAYER lines")
    counts = layer_instructions(count_model(run), marks)
    est = estimate_cycles(fw.elf, INFERENCE_FUNCTION, workdir=out / "cycles", mark=MARK_FUNCTION,
                          wall_timeout_s=b.cfg.emulator.wall_timeout_s)
    cycles = layer_cycles(est.median_call().marks)
    if len(cycles) != len(marks):
        raise PipelineError(f"{b.name}: the cycle plugin saw {len(cycles)} layer marks, the console {len(marks)}")
    codegen = {layer["index"]: layer for layer in json.loads((b.generated / "codegen.json").read_text())["layers"]}
    total = sum(counts) or 1
    result = []
    for mark, n, (c, stall) in zip(marks, counts, cycles, strict=True):
        layer = codegen[mark.layer]
        macs = int(layer["macs"])
        result.append(LayerProfile(mark.layer, str(layer["op"]), str(layer["summary"]), macs, n,
                                   round(macs / n, 4) if n > 0 else 0.0, round(n / total, 4), c,
                                   round(c / macs, 3) if macs else 0.0, round(stall / c, 4) if c else 0.0))
    return result


def format_profile(layers: list[LayerProfile]) -> str:
    head = ("layer", "op", "shape", "MACs", "instructions", "MACs/instr", "share", "est_cycles", "cycles/MAC",
            "flash_stall")
    rows = [head] + [
        (str(p.index), p.op, p.shape, f"{p.macs:,}", f"{p.instructions:,}", f"{p.mac_per_instruction:.3f}",
         f"{100 * p.share:.1f}%", f"{p.estimated_cycles:,}", f"{p.cycles_per_mac:.3f}" if p.macs else "-",
         f"{100 * p.flash_stall_share:.1f}%")
        for p in layers
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot_profile(name: str, layers: list[LayerProfile], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(layers)), 4.0))
    ax.bar([f"{p.index}\n{p.op}" for p in layers], [p.estimated_cycles for p in layers])
    ax.set_ylabel("estimated cycles")
    ax.set_title(f"{name}: estimated Cortex-M4 cycles per layer (cycle model, one inference)")
    ax.tick_params(axis="x", labelsize=6, rotation=90)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run_profile(b: ModelBuild, emulator: str = PROFILE_EMULATOR) -> list[LayerProfile]:
    """Profile ``b``, print the table, save profile.json and profile.png under build/<model>/.

    On Renode also a flame graph of one inference of the plain firmware (Renode's profiler,
    pipeline/analyses/flame_graph.py): build/<model>/profile/renode-flame/inference.folded.
    """
    layers = profile_model(b, emulator=emulator)
    print(format_profile(layers), flush=True)
    (b.board_dir / "profile.json").write_text(json.dumps([asdict(p) for p in layers], indent=2) + "\n")
    png = plot_profile(b.name, layers, b.board_dir / "profile.png")
    print(f"profile: -> {b.board_dir / 'profile.json'}, {png}", flush=True)
    if emulator == "renode":
        from pipeline.analyses.flame_graph import renode_flame_graph

        emu = b.cfg.emulator
        flame = renode_flame_graph(b.elf, b.board_dir / "profile" / "renode-flame", emu.wall_timeout_s,
                                   emu.emulated_timeout_s, b.name)
        top = ", ".join(f"{name} {count:,}" for name, count in list(flame.by_function.items())[:5])
        print(f"profile: flame graph of one inference ({flame.instructions:,} instructions; {top}) "
              f"-> {flame.path} (open it in https://www.speedscope.app or with flamegraph.pl), {flame.png}", flush=True)
    return layers
