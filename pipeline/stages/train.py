"""Stage 1, train: fit the model's Keras architecture on its data set, deterministically."""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import ModelConfig
from pipeline.errors import ConfigError, StageError
from pipeline.fileutil import atomic_path
from pipeline.stages.datasets import load_splits


@dataclass(frozen=True)
class TrainResult:
    keras_model: Path
    dataset: Path  # npz with the splits
    float_accuracy: float | None  # on the held-out split; None without labels
    parameters: int


def _load_builder(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"tinyml_models.{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot load the model architecture")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "build_model"):
        raise ConfigError(f"{path}: defines no build_model(input_shape, num_classes)")
    return module.build_model


# TensorFlow reads these when its runtime starts; the API calls below only work before that.
SINGLE_THREAD_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_DETERMINISTIC_OPS": "1"}


def seed_everything(seed: int) -> None:
    """A fresh Keras session, fixed seeds, one thread and deterministic ops: the same model on every run.

    Multi-threaded reductions change the weights, so training refuses to run when TensorFlow was
    started earlier in this process with other threads (a test process, say) instead of passing
    silently: such a process must set SINGLE_THREAD_ENV before TensorFlow is imported.
    """
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)
    import tensorflow as tf

    # Keras names layers from process-wide counters ("conv2d_3" after three earlier models), and
    # the names are written into the .tflite: start from a fresh session so the bytes do not depend
    # on what this process built before.
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as err:  # TensorFlow already started in this process
        if any(os.environ.get(name) != value for name, value in SINGLE_THREAD_ENV.items()):
            raise StageError(
                "train: TensorFlow was started in this process before training, without "
                f"{', '.join(f'{k}={v}' for k, v in SINGLE_THREAD_ENV.items())}: "
                "its weights would not be reproducible"
            ) from err


def train(cfg: ModelConfig, out_dir: Path) -> TrainResult:
    if cfg.architecture is None or cfg.dataset is None or cfg.training is None:
        raise StageError(f"{cfg.path}: model '{cfg.name}' has no [model] architecture to train")
    seed_everything(cfg.training.seed)
    import keras

    splits = load_splits(cfg.dataset)
    model = _load_builder(cfg.architecture)(splits.x_train.shape[1:], splits.num_classes)
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.training.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print(f"train: {cfg.name}: {model.count_params()} parameters, {len(splits.x_train)} training samples, "
          f"{cfg.training.epochs} epochs", flush=True)
    if cfg.training.epochs > 0:  # epochs = 0: initial weights, calibrated by the quantize stage only
        model.fit(splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
                  epochs=cfg.training.epochs, batch_size=cfg.training.batch_size, shuffle=True, verbose=0)
    accuracy: float | None = None
    if splits.y_test is not None:
        logits = model.predict(splits.x_test, batch_size=1, verbose=0)
        accuracy = float(np.mean(np.argmax(logits, axis=1) == splits.y_test))
        print(f"train: float accuracy on {len(splits.x_test)} held-out samples: {accuracy:.4f}", flush=True)
    else:
        print("train: the held-out split has no labels: float accuracy not applicable", flush=True)

    out_dir.mkdir(parents=True, exist_ok=True)
    keras_path, dataset_path = out_dir / "model.keras", out_dir / "dataset.npz"
    with atomic_path(keras_path) as tmp:
        model.save(tmp.with_suffix(".keras"))
        tmp.with_suffix(".keras").rename(tmp)
    with atomic_path(dataset_path) as tmp, tmp.open("wb") as f:
        np.savez(f, **splits.to_npz())
    result = TrainResult(keras_path, dataset_path, accuracy, int(model.count_params()))
    (out_dir / "train.json").write_text(json.dumps(
        {"float_accuracy": accuracy, "parameters": result.parameters}, indent=2) + "\n")
    return result
