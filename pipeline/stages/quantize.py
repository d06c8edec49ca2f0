"""Stage 2, quantize: full-integer int8 .tflite, and reference outputs for every held-out sample.

TFLM's host interpreter (the tflite-micro package) gives the reference: the
arithmetic microcontrollers run. LiteRT's reference kernels are a second
opinion: vectors where they disagree with TFLM are counted and reported, never
used to pass or fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import ModelConfig
from pipeline.fileutil import atomic_path, write_atomically
from pipeline.stages.convert import convert_int8
from pipeline.stages.reference import litert_outputs, tflm_outputs
from pipeline.tflite.reader import read_model


@dataclass(frozen=True)
class QuantizeResult:
    tflite: Path
    reference: Path  # npz: inputs (int8), tflm (int8 outputs), litert, labels
    int8_accuracy: float | None  # TFLM outputs against the labels; None without labels
    litert_disagreements: int  # vectors where LiteRT's reference kernels differ from TFLM
    vectors: int


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float samples to the model's int8 input: round(x / scale) + zero_point, saturated."""
    q = np.floor(x / np.float32(scale) + np.float32(0.5)).astype(np.int64) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def record_reference(tflite: Path, inputs: np.ndarray, labels: np.ndarray | None, out: Path) -> QuantizeResult:
    """Run the inputs through TFLM and LiteRT and save them with the outputs."""
    print(f"quantize: reference outputs of {len(inputs)} vectors from TFLM (tflite-micro)", flush=True)
    tflm = tflm_outputs(tflite, inputs)
    litert = litert_outputs(tflite, inputs)
    disagreements = int(np.any(tflm != litert, axis=1).sum())
    accuracy = float(np.mean(np.argmax(tflm, axis=1) == labels)) if labels is not None else None
    with atomic_path(out) as tmp, tmp.open("wb") as f:
        arrays: dict[str, Any] = {"inputs": inputs, "tflm": tflm, "litert": litert}  # Any: numpy's savez stub
        if labels is not None:
            arrays["labels"] = labels
        np.savez(f, **arrays)
    if disagreements:
        print(f"quantize: LiteRT's reference kernels differ from TFLM on {disagreements} of {len(inputs)} "
              "vectors (reported, not a failure: TFLM is the contract)", flush=True)
    return QuantizeResult(tflite, out, accuracy, disagreements, len(inputs))


def quantize(cfg: ModelConfig, keras_model: Path, dataset: Path, out_dir: Path) -> QuantizeResult:
    assert cfg.training is not None
    tflite = out_dir / f"{cfg.name}.tflite"
    print(f"quantize: converting {cfg.name} to full-integer int8 "
          f"({cfg.representative_samples} representative samples)", flush=True)
    convert_int8(keras_model, dataset, cfg.representative_samples, cfg.training.seed, tflite, cfg.name)
    return held_out_reference(tflite, dataset, out_dir)


def held_out_reference(tflite: Path, dataset: Path, out_dir: Path) -> QuantizeResult:
    """Reference outputs of an int8 .tflite on the held-out split; writes reference.npz and quantize.json."""
    model = read_model(tflite)
    inp = model.tensor(model.inputs[0])
    data = np.load(dataset)
    inputs = quantize_input(data["x_test"], inp.scale, inp.zero_point).reshape(len(data["x_test"]), *inp.shape[1:])
    labels = data["y_test"] if "y_test" in data.files else None  # synthetic data: no labels
    result = record_reference(tflite, inputs, labels, out_dir / "reference.npz")
    if result.int8_accuracy is None:
        print(f"quantize: {result.vectors} held-out samples without labels: int8 accuracy not applicable",
              flush=True)
    else:
        print(f"quantize: int8 accuracy (TFLM) on {result.vectors} held-out samples: {result.int8_accuracy:.4f}",
              flush=True)
    write_atomically(out_dir / "quantize.json", json.dumps(
        {"int8_accuracy": result.int8_accuracy, "litert_disagreements": result.litert_disagreements,
         "vectors": result.vectors, "tflite_bytes": tflite.stat().st_size}, indent=2) + "\n")
    return result
