"""The four MLPerf Tiny int8 models generate, build on the host and match TFLM bit for bit.

The models come from ``tests/fixtures/mlperf-tiny/`` in tests/fixtures/mlperf-tiny/:
a missing file fails, it is never skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.codegen.generator import GENERATED_FILES, generate
from pipeline.emulators.hostrun import compile_host, run_host
from pipeline.errors import UnsupportedModelError
from pipeline.stages.reference import tflm_outputs
from pipeline.tflite.reader import read_model
from tests.conftest import MLPERF_DIR

MLPERF_MODELS = ("kws_ref_model", "pretrainedResnet_quant", "vww_96_int8", "ad01_int8")
VECTORS = 24  # 22 random + all -128 + all 127


def _model_path(name: str) -> Path:
    path = MLPERF_DIR / f"{name}.tflite"
    assert path.is_file(), f"{path} is missing: the MLPerf Tiny models are expected in {MLPERF_DIR}"
    return path


@pytest.mark.parametrize("name", MLPERF_MODELS)
def test_mlperf_model_is_bit_exact_with_tflm_on_the_host(name: str, tmp_path: Path) -> None:
    path = _model_path(name)
    model = read_model(path)
    inp = model.tensor(model.inputs[0])
    rng = np.random.default_rng(sum(map(ord, name)))
    x = rng.integers(-128, 128, size=(VECTORS, *inp.shape[1:]), dtype=np.int8)
    x[-2], x[-1] = -128, 127
    result = generate(model, tmp_path / "gen", name, x[:2])
    exe = compile_host(tmp_path / "gen", tmp_path / "host")
    ours = run_host(exe, x, result.output_size, tmp_path)
    ref = tflm_outputs(path, x)
    differ = np.flatnonzero(np.any(ours != ref, axis=1))
    assert differ.size == 0, (
        f"{name}: {differ.size} of {VECTORS} vectors differ from TFLM (input seed {sum(map(ord, name))}); "
        f"first vector {differ[0]}: generated C {ours[differ[0]].tolist()[:12]}, TFLM {ref[differ[0]].tolist()[:12]}")


def test_float32_kws_model_is_refused_with_the_float32_message(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    with pytest.raises(UnsupportedModelError) as err:
        generate(read_model(_model_path("kws_ref_model_float32")), out, "kws_float", np.zeros((1, 1), np.int8))
    message = str(err.value)
    assert "kws_ref_model_float32.tflite" in message
    assert "op 0 (CONV_2D)" in message
    assert "is float32, only int8 tensors are supported" in message
    assert "not fully integer-quantized" in message
    assert not any((out / f).exists() for f in GENERATED_FILES)
