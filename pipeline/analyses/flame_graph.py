"""A flame graph of one inference, from Renode's profiler (``invoke profile --emulator renode``).

Renode 1.15.1's ``cpu EnableProfilerCollapsedStack FILE true`` writes one line per change of
the call stack, ``frame;frame;... <instructions>``. Two CPU hooks bound it to exactly one
inference: the first entry to ``tc_model_invoke`` enables it and installs the second, on
``cc_stop`` (the counter read right after the call returns), which disables it. Measured on
1.15.1, the profiler's first line carries every instruction executed before it was enabled
(the calibration loops); it is dropped here. The file is then folded (equal stacks summed),
which is the collapsed-stack format speedscope, inferno and flamegraph.pl open.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.renode import RenodeBackend
from pipeline.errors import EmulatorError
from pipeline.stages.cycles import function_address

START_SYMBOL = "tc_model_invoke"
STOP_SYMBOL = "cc_stop"


@dataclass(frozen=True)
class FlameGraph:
    path: Path  # folded stacks: "frame;frame count" per line, heaviest first
    png: Path  # the same as an icicle chart (callers on top, width = instructions)
    instructions: int  # the sum of the counts: one inference, as the profiler saw it
    by_function: dict[str, int]  # self instructions per innermost function


def profiler_hooks(raw: Path, start: int, stop: int) -> tuple[str, ...]:
    """Monitor commands: enable the profiler at ``start`` (once), disable it at the next ``stop``."""
    disable = f"self.AddHook({stop:#x}, lambda cpu, pc: (cpu.DisableProfiler(), cpu.RemoveHooksAt(pc)))"
    enable = f"self.EnableProfilerCollapsedStack('{raw}', True); self.RemoveHooksAt({start:#x}); {disable}"
    return (f'sysbus.cpu AddHook {start:#x} "{enable}"',)


def fold(raw_lines: list[str]) -> Counter[str]:
    """Sum the counts of equal stacks, dropping the profiler's first line (the time before it)."""
    folded: Counter[str] = Counter()
    for line in raw_lines[1:]:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack.strip() and count.isdigit():
            folded[stack.replace(" (entry)", "")] += int(count)
    return folded


def renode_flame_graph(elf: Path, workdir: Path, wall_timeout_s: float, emulated_timeout_s: float,
                       label: str) -> FlameGraph:
    """Boot ``elf`` on Renode with the profiler around its first inference; write ``inference.folded``."""
    workdir.mkdir(parents=True, exist_ok=True)
    raw = (workdir / "profiler-raw.txt").resolve()
    raw.unlink(missing_ok=True)
    start, stop = function_address(elf, START_SYMBOL), function_address(elf, STOP_SYMBOL)
    backend = RenodeBackend(before_run=profiler_hooks(raw, start, stop))
    backend.check_available()
    backend.run(EmulatorRun(elf, workdir, wall_timeout_s, emulated_timeout_s))
    if not raw.is_file():
        raise EmulatorError(f"Renode's profiler wrote nothing to {raw} (see {workdir / 'renode.log'})")
    folded = fold(raw.read_text().splitlines())
    if not folded:
        raise EmulatorError(f"Renode's profiler output {raw} holds no stack of {START_SYMBOL}")
    out = workdir / "inference.folded"
    out.write_text("".join(f"{stack} {count}\n" for stack, count in folded.most_common()))
    by_function: Counter[str] = Counter()
    for stack, count in folded.items():
        by_function[stack.rsplit(";", 1)[-1]] += count
    png = plot_icicle(folded, workdir / "inference.png", f"{label}: one inference on Renode")
    return FlameGraph(out, png, sum(folded.values()), dict(by_function.most_common()))


def frames_by_depth(folded: Counter[str]) -> list[list[tuple[str, int, int]]]:
    """Per depth, (function, first instruction, instructions) spans: callers over their callees."""
    spans: list[dict[tuple[str, ...], list[int]]] = []
    offset = 0
    for stack, count in sorted(folded.items()):  # sorted: a caller's callees are adjacent
        frames = tuple(stack.split(";"))
        for depth in range(len(frames)):
            if depth == len(spans):
                spans.append({})
            span = spans[depth].setdefault(frames[: depth + 1], [offset, 0])
            span[1] += count
        offset += count
    return [[(key[-1], start, width) for key, (start, width) in level.items()] for level in spans]


def plot_icicle(folded: Counter[str], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = frames_by_depth(folded)
    total = sum(folded.values())
    fig, ax = plt.subplots(figsize=(10.0, 0.6 * len(levels) + 1.2))
    colours = plt.get_cmap("tab20")
    for depth, level in enumerate(levels):
        for i, (name, start, width) in enumerate(level):
            ax.barh(-depth, width, left=start, height=0.9, color=colours((depth * 7 + i) % 20), edgecolor="white")
            if width > total / 25:
                ax.text(start + width / 2, -depth, f"{name} ({100 * width / total:.0f}%)", ha="center",
                        va="center", fontsize=7)
    ax.set_yticks([])
    ax.set_xlim(0, total)
    ax.set_xlabel("instructions")
    ax.set_title(f"{title}: {total:,} instructions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
