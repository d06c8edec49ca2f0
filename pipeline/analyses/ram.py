"""RAM for inference: ours (from the codegen stage) next to TFLM's measured arena, per MLPerf Tiny model.

Ours is the planned arena (activations + every layer's scratch, one static buffer) from
build/<model>/generated/codegen.json; the generated code keeps no other model state in RAM
(weights and quantization constants are const, in flash).

TFLM's figures: tflite-micro commit 90b983c built with CMSIS-NN, ``arena_used_bytes()`` after
``AllocateTensors()`` on the MLPerf Tiny reference int8 models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.pipeline import ModelBuild, model_build

TFLM_SOURCE = "TFLM commit 90b983c with CMSIS-NN, arena_used_bytes() after AllocateTensors()"
TFLM_ARENA_BYTES: dict[str, int] = {
    "kws_dscnn": 22_804,
    "ic_resnet8": 54_980,
    "vww_mobilenet": 100_628,
    "ad_autoencoder": 15_940,
}


@dataclass(frozen=True)
class RamRow:
    model: str
    ours_bytes: int | None  # None: the codegen stage has not run for this model
    tflm_bytes: int

    @property
    def ratio(self) -> float | None:
        return None if self.ours_bytes is None else self.ours_bytes / self.tflm_bytes


def ours_ram_bytes(b: ModelBuild) -> int | None:
    """Arena bytes (activations + scratch) of a generated model, or None when not generated yet."""
    path = b.generated / "codegen.json"
    if not path.is_file():
        return None
    return int(json.loads(path.read_text())["arena_bytes"])


def ram_comparison(generate: bool = False) -> list[RamRow]:
    """One row per MLPerf Tiny model; with ``generate``, run (or reuse) the stages up to codegen first."""
    rows = []
    for name, tflm in TFLM_ARENA_BYTES.items():
        b = model_build(name)
        if generate:
            from pipeline.entry import run_until

            run_until(b, "codegen")
        rows.append(RamRow(name, ours_ram_bytes(b), tflm))
    return rows


def ram_table(rows: list[RamRow]) -> str:
    lines = [f"{'model':<16}{'ours (B)':>10}{'TFLM (B)':>10}{'ours/TFLM':>11}", "-" * 47]
    for r in rows:
        ours = f"{r.ours_bytes:,}" if r.ours_bytes is not None else "n/a"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "n/a"
        lines.append(f"{r.model:<16}{ours:>10}{r.tflm_bytes:>10,}{ratio:>11}")
    lines.append(f"TFLM: {TFLM_SOURCE}")
    return "\n".join(lines)


def print_ram_comparison() -> None:
    print(ram_table(ram_comparison(generate=True)))
