"""The MLPerf Tiny reference models: generated C bit-exact with TFLM on the host; RAM vs TFLM; one in QEMU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.analyses.ram import TFLM_ARENA_BYTES, ours_ram_bytes
from pipeline.emulators.hostrun import compile_host, run_host
from pipeline.entry import model_build, run_until

# Each model's first run converts and quantizes its Keras model (20-40 s each on 2 cores).
pytestmark = pytest.mark.slow

MODELS = tuple(TFLM_ARENA_BYTES)


@pytest.mark.parametrize("name", MODELS)
def test_generated_c_on_the_host_equals_tflm(name: str, tmp_path: Path) -> None:
    b = model_build(name)
    run_until(b, "codegen")
    ref = np.load(b.reference)
    inputs, expected = ref["inputs"], ref["tflm"]
    assert len(inputs) >= 18  # 20 held-out vectors; vww_mobilenet's 18 (27,648 B each in flash)
    assert "labels" not in ref.files, "synthetic data: no labels, accuracy not applicable"
    exe = compile_host(b.generated, tmp_path / f"{name}_host")
    got = run_host(exe, inputs.reshape(len(inputs), -1), expected.shape[1], tmp_path)
    mismatched = np.flatnonzero(np.any(got != expected, axis=1))
    assert mismatched.size == 0, f"{name}: {mismatched.size} of {len(inputs)} vectors differ from TFLM"


@pytest.mark.parametrize("name", MODELS)
def test_our_inference_ram_is_at_most_tflms_arena(name: str) -> None:
    b = model_build(name)
    run_until(b, "codegen")
    ours = ours_ram_bytes(b)
    assert ours is not None and ours <= TFLM_ARENA_BYTES[name], (name, ours, TFLM_ARENA_BYTES[name])


@pytest.mark.qemu
@pytest.mark.toolchain
def test_anomaly_detection_model_passes_the_whole_pipeline_in_qemu() -> None:
    from pipeline.pipeline import run_all

    metrics = run_all(model_build("ad_autoencoder"), "qemu")
    assert metrics["passed"]
    assert metrics["bit_exact_matched"] == metrics["bit_exact_total"] >= 20
    assert metrics["int8_accuracy"] is None and metrics["target_accuracy"] is None  # n/a, never passed
