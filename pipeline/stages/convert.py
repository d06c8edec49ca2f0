"""Full-integer int8 conversion, run in a child process.

TensorFlow's converter can kill the process that runs it (TF 2.21's calibrator
segfaults on some models), so :func:`convert_int8` starts this module as a
child and turns a crash into a StageError naming the stage and the model.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import StageError


def convert_int8(keras_model: Path, dataset: Path, samples: int, seed: int, out: Path, model_name: str) -> None:
    """Convert ``keras_model`` to an int8 .tflite at ``out`` (written only on success)."""
    cmd = [sys.executable, "-m", "pipeline.stages.convert", str(keras_model), str(dataset), str(samples), str(seed),
           str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise StageError(f"quantize: the TFLite converter crashed on model '{model_name}' ({how}):\n{tail}")


def int8_tflite(model: Any, x_train: np.ndarray, samples: int, seed: int) -> bytes:
    """Full-integer int8 conversion of an in-memory Keras model (Keras 3 or tf-keras), calibrated on
    ``samples`` training samples drawn with ``seed``."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    chosen = x_train[np.sort(rng.choice(len(x_train), size=min(samples, len(x_train)), replace=False))]

    def representative():  # type: ignore[no-untyped-def]
        for sample in chosen:
            yield [sample[np.newaxis].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    data: bytes = converter.convert()
    return data


def _main(keras_model: str, dataset: str, samples: str, seed: str, out: str) -> None:
    from pipeline.fileutil import write_atomically
    from pipeline.stages.train import seed_everything

    seed_everything(int(seed))
    import keras

    model = keras.models.load_model(keras_model)
    write_atomically(Path(out), int8_tflite(model, np.load(dataset)["x_train"], int(samples), int(seed)))


if __name__ == "__main__":
    _main(*sys.argv[1:6])
