"""One compression candidate, in a child process: prune, fine-tune, convert to int8, and record the
TFLM (and LiteRT) reference outputs on the held-out split, so a converter or interpreter crash is
this candidate's error, not the end of `invoke compress`.

The child is where the Keras flavour is chosen: quantization-aware training needs tf-keras
(``TF_USE_LEGACY_KERAS=1``, read when TensorFlow is first imported), everything else runs on the
project's Keras 3. The parent sets the variable in the child's environment only, so no other stage
sees it, and two children use the two cores.

    python -m pipeline.compress.finetune spec.json
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import StageError


@dataclass(frozen=True)
class CandidateSpec:
    name: str
    ratio: float  # fraction of each convolution family's channels removed (0: the trained model as is)
    method: str  # channel ranking: bn_gamma or l1; or magnitude (unstructured, tfmot: zeros, no smaller network)
    qat: bool  # fine-tune with quantization-aware training (tfmot, tf-keras)
    distill: bool  # fine-tune against the unpruned float model's soft targets too
    epochs: int  # fine-tuning epochs (0: no fine-tuning)
    learning_rate: float  # peak of the cosine-annealed schedule
    batch_size: int
    temperature: float
    alpha: float
    seed: int
    representative_samples: int


@dataclass(frozen=True)
class CandidateFiles:
    architecture: Path  # models/<name>/model.py
    keras_model: Path  # the trained Keras 3 model
    weights: Path  # its weights as arrays, layer by layer (to rebuild it in tf-keras)
    dataset: Path
    tflite: Path  # output
    summary: Path  # output: candidate.json
    reference: Path  # output: <folder>/reference.npz (and quantize.json beside it)


MAGNITUDE = "magnitude"


def needs_tf_keras(spec: CandidateSpec) -> bool:
    """tfmot (QAT, magnitude pruning) works on tf-keras models only."""
    return spec.qat or spec.method == MAGNITUDE


def export_weights(keras_model: Path, out: Path) -> None:
    """The trained model's weights, layer by layer, in a file either Keras flavour can read."""
    import keras

    from pipeline.fileutil import atomic_path

    model = keras.models.load_model(keras_model)
    arrays = {f"{i:03d}_{j}": w for i, layer in enumerate(x for x in model.layers if x.weights)
              for j, w in enumerate(layer.get_weights())}
    with atomic_path(out) as tmp, tmp.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


def run_candidate(spec: CandidateSpec, files: CandidateFiles) -> dict[str, Any]:
    """Run the candidate's child process; a crash becomes a StageError naming the candidate."""
    files.summary.parent.mkdir(parents=True, exist_ok=True)
    job = files.summary.with_name("job.json")
    job.write_text(json.dumps({"spec": asdict(spec), "files": {k: str(v) for k, v in asdict(files).items()}},
                              indent=2) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    if needs_tf_keras(spec):
        env["TF_USE_LEGACY_KERAS"] = "1"  # tfmot needs tf-keras; set before TensorFlow is imported
    proc = subprocess.run([sys.executable, "-m", "pipeline.compress.finetune", str(job)], env=env,
                          capture_output=True, text=True, check=False)
    (files.summary.parent / "finetune.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise StageError(f"compress: candidate '{spec.name}' failed ({how}):\n{tail}")
    result: dict[str, Any] = json.loads(files.summary.read_text())
    return result


def _load_builder(path: Path) -> Any:
    module_spec = importlib.util.spec_from_file_location(f"tinyml_models.{path.parent.name}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.build_model


def _trained_model(legacy: bool, files: CandidateFiles, data: Any) -> Any:
    """The trained model in this process's Keras flavour."""
    if not legacy:
        import keras

        return keras.models.load_model(files.keras_model)
    import tensorflow as tf

    build = _load_builder(files.architecture)
    try:
        model = build(data["x_train"].shape[1:], int(data["y_train"].max()) + 1, keras=tf.keras)
    except TypeError as err:
        raise StageError(f"{files.architecture}: build_model must take keras=<module> so tfmot (QAT, magnitude "
                         f"pruning) can build it with tf-keras ({err})") from None
    weights = np.load(files.weights)
    layers = [layer for layer in model.layers if layer.weights]
    for i, layer in enumerate(layers):
        layer.set_weights([weights[f"{i:03d}_{j}"] for j in range(len(layer.weights))])
    return model


def _fine_tune(model: Any, spec: CandidateSpec, x: np.ndarray, y: np.ndarray, teacher: np.ndarray | None) -> Any:
    import tensorflow as tf

    from pipeline.compress.distill import distillation_loss, pack_targets

    keras, callbacks = tf.keras, []
    if spec.qat or spec.method == MAGNITUDE:
        import tensorflow_model_optimization as tfmot
    if spec.method == MAGNITUDE:  # the smallest |weights| of every conv and dense kernel held at zero
        schedule = tfmot.sparsity.keras.ConstantSparsity(spec.ratio, begin_step=0, frequency=1)
        model = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
    if spec.qat:
        model = tfmot.quantization.keras.quantize_model(model)
    steps = spec.epochs * math.ceil(len(x) / spec.batch_size)
    learning_rate = keras.optimizers.schedules.CosineDecay(spec.learning_rate, decay_steps=steps)
    if teacher is not None:
        loss, targets = distillation_loss(spec.temperature, spec.alpha), pack_targets(y, teacher)
    else:
        loss, targets = keras.losses.SparseCategoricalCrossentropy(from_logits=True), y
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    model.fit(x, targets, epochs=spec.epochs, batch_size=spec.batch_size, shuffle=True, verbose=0,
              callbacks=callbacks)
    return tfmot.sparsity.keras.strip_pruning(model) if spec.method == MAGNITUDE else model


def _sparsity(model: Any) -> float:
    """Fraction of zero weights over the conv and dense kernels."""
    kernels = [layer.get_weights()[0] for layer in model.layers
               if type(layer).__name__ in ("Conv2D", "DepthwiseConv2D", "Dense")]
    return float(sum(int(np.sum(k == 0)) for k in kernels) / sum(k.size for k in kernels))


def _main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    spec = CandidateSpec(**job["spec"])
    files = CandidateFiles(**{k: Path(v) for k, v in job["files"].items()})
    from pipeline.stages.train import seed_everything

    seed_everything(spec.seed)
    from pipeline.compress.surgery import prune_channels
    from pipeline.fileutil import write_atomically
    from pipeline.stages.convert import int8_tflite
    from pipeline.stages.quantize import held_out_reference

    data = np.load(files.dataset)
    model = _trained_model(needs_tf_keras(spec), files, data)
    teacher = model.predict(data["x_train"], batch_size=64, verbose=0) if spec.distill else None
    filters: dict[str, tuple[int, int]] = {}
    if spec.ratio > 0 and spec.method != MAGNITUDE:
        pruned = prune_channels(model, spec.ratio, spec.method)
        model, filters = pruned.model, pruned.filters
        if pruned.unscored:
            print(f"compress: {spec.name}: no BatchNormalization on {', '.join(pruned.unscored)}: left whole")
    if spec.epochs > 0:
        model = _fine_tune(model, spec, data["x_train"], data["y_train"], teacher)
    float_accuracy = None
    if "y_test" in data.files:
        logits = model.predict(data["x_test"], batch_size=64, verbose=0)
        float_accuracy = float(np.mean(np.argmax(logits, axis=1) == data["y_test"]))
    write_atomically(files.tflite, int8_tflite(model, data["x_train"], spec.representative_samples, spec.seed))
    reference = held_out_reference(files.tflite, files.dataset, files.reference.parent)  # a crash: this child's
    write_atomically(files.summary, json.dumps({
        "keras": "tf-keras" if needs_tf_keras(spec) else "keras 3", "filters": filters,
        "sparsity": _sparsity(model) if spec.method == MAGNITUDE else None, "parameters": int(model.count_params()),
        "layers": [type(layer).__name__ for layer in model.layers], "float_accuracy": float_accuracy,
        "int8_accuracy": reference.int8_accuracy}, indent=2) + "\n")


if __name__ == "__main__":
    _main(sys.argv[1])
