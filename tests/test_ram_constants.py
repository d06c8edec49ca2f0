"""Constants in RAM (pipeline/codegen/generator.place_in_ram): a model's [codegen] ram_constants_bytes
runs streamed constants (read once per inference, FULLY_CONNECTED's) from RAM on boards that allow it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.boards import board_names, load_board
from pipeline.codegen.generator import generate, place_in_ram
from pipeline.codegen.lowering import ConstArray, Layer
from pipeline.tflite.reader import read_model
from tests.conftest import MLPERF_DIR

KWS = MLPERF_DIR / "kws_ref_model.tflite"


def _layer(index: int, sizes: list[int], streamed: bool = True) -> Layer:
    consts = [ConstArray(f"c{index}_{i}", "int8_t", np.zeros(n, np.int8)) for i, n in enumerate(sizes)]
    variant = Layer(index, "FULLY_CONNECTED", "k", "", {}, [], consts,
                    streamed=tuple(c.name for c in consts) if streamed else ())
    return Layer(index, "FULLY_CONNECTED", "k", "", {}, [], [], variants={"dsp": variant})


def test_place_in_ram_fills_the_most_of_the_limit_with_streamed_constants_only() -> None:
    layers = [_layer(0, [900]), _layer(1, [500, 400]), _layer(2, [300]), _layer(3, [2000], streamed=False)]
    # Largest first would stop at 1,400 (900 + 500); the exact subset sum fills it: 900 + 400 + 300.
    chosen = place_in_ram(layers, 1600)
    assert chosen == {"c0_0", "c1_1", "c2_0"}
    assert place_in_ram(layers, 0) == set()
    assert place_in_ram(layers, 10_000) == {"c0_0", "c1_0", "c1_1", "c2_0"}  # never the unstreamed one


def _ram_arrays(generated: Path) -> list[str]:
    return [line for line in (generated / "model.c").read_text().splitlines()
            if line.startswith("static TC_RAM_CONST ")]


def test_the_generated_c_marks_only_the_chosen_constants_and_keeps_them_const_elsewhere(tmp_path: Path) -> None:
    model = read_model(KWS)
    generate(model, tmp_path / "none", "kws", np.zeros((1, 490), np.int8))
    assert _ram_arrays(tmp_path / "none") == []
    generate(model, tmp_path / "ram", "kws", np.zeros((1, 490), np.int8), ram_constants=1 << 20)
    arrays = _ram_arrays(tmp_path / "ram")
    assert len(arrays) == 1 and "_filter_s8p[" in arrays[0]  # kws's FULLY_CONNECTED stream, in its DSP call
    text = (tmp_path / "ram" / "model.c").read_text()
    assert "#if defined(TC_BOARD_RAM_CONSTANTS)\n#define TC_RAM_CONST\n#else\n#define TC_RAM_CONST const\n" in text


def test_only_the_stm32f407_runs_constants_from_ram() -> None:
    assert {name for name in board_names() if load_board(name).ram_constants} == {"stm32f407"}
