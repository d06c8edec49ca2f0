"""The whole pipeline for one model: train, quantize, codegen, build, simulate, test-firmware.

Each stage is a function of a :class:`ModelBuild` (where the model's config and
outputs are); stages that have not changed are reused (see stagecache). The
Robot suite is never reused: its verdict is always fresh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import BUILD_DIR, ROOT, ModelConfig, load_config, model_config
from pipeline.errors import ConfigError, PipelineError
from pipeline.figures import from_stages
from pipeline.fileutil import write_atomically
from pipeline.metrics import budget_verdicts, table, write_metrics
from pipeline.stagecache import Stage, run_stage

PIPELINE = ROOT / "pipeline"
BYO_VECTORS = 20  # random int8 inputs for a bring-your-own model without --inputs
BYO_SEED = 20261128


@dataclass(frozen=True)
class ModelBuild:
    """One model's config and the paths of everything built for it."""

    cfg: ModelConfig
    tflite_source: Path | None = None  # bring-your-own model
    inputs_source: Path | None = None  # bring-your-own int8 inputs (.npy)
    out_dir: Path | None = None  # default build/<name>; a compression candidate's own folder

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def dir(self) -> Path:
        return self.out_dir if self.out_dir is not None else BUILD_DIR / self.name

    @property
    def tflite(self) -> Path:
        return self.dir / f"{self.name}.tflite"

    @property
    def reference(self) -> Path:
        return self.dir / "reference.npz"

    @property
    def generated(self) -> Path:
        return self.dir / "generated"

    @property
    def firmware_dir(self) -> Path:
        return self.dir / "firmware"

    @property
    def elf(self) -> Path:
        return self.firmware_dir / "tinyml_fw.elf"


def model_build(
    model: str = "digits", tflite: Path | None = None, inputs: Path | None = None, config: Path | None = None
) -> ModelBuild:
    """The ModelBuild of a model in models/, or of a bring-your-own .tflite."""
    if tflite is None:
        return ModelBuild(model_config(model))
    if not tflite.is_file():
        raise PipelineError(f"{tflite}: no such .tflite file")
    if config is not None:
        cfg = load_config(config)
        cfg = ModelConfig(
            **{**cfg.__dict__, "name": tflite.stem, "architecture": None, "dataset": None, "training": None}
        )
    else:
        cfg = ModelConfig(
            name=tflite.stem,
            path=tflite,
            architecture=None,
            dataset=None,
            training=None,
            representative_samples=0,
            emulator=model_config("digits").emulator,
            budgets={},
        )
    return ModelBuild(cfg, tflite_source=tflite.resolve(), inputs_source=inputs.resolve() if inputs else None)


def _config_section(b: ModelBuild, *sections: str) -> dict[str, Any]:
    return {s: b.cfg.raw.get(s) for s in sections}


def check_input_shape(b: ModelBuild, model: Any) -> None:
    """The config's optional ``[model] input_shape`` must be the model's input shape."""
    wanted = b.cfg.raw.get("model", {}).get("input_shape")
    actual = list(model.tensor(model.inputs[0]).shape)
    if wanted is not None and list(wanted) != actual:
        raise ConfigError(f"{b.cfg.path}: [model] input_shape = {wanted}, but {model.path} takes input shape {actual}")


# --- stages -----------------------------------------------------------------------------------------


def stage_train(b: ModelBuild) -> dict[str, Any]:
    if b.tflite_source is not None:
        print(f"[train] skipped: {b.name} is a bring-your-own .tflite (nothing to train)", flush=True)
        return {}
    assert b.cfg.architecture is not None
    stage = Stage(
        "train",
        b.dir,
        (PIPELINE / "train.py", PIPELINE / "datasets.py", b.cfg.architecture),
        (),
        (b.dir / "model.keras", b.dir / "dataset.npz"),
        _config_section(b, "model", "dataset", "training"),
    )

    def work() -> dict[str, Any]:
        from pipeline.train import train

        r = train(b.cfg, b.dir)
        return {"float_accuracy": r.float_accuracy, "parameters": r.parameters}

    return run_stage(stage, work)[0]


def stage_quantize(b: ModelBuild, emulator: str | None = None) -> dict[str, Any]:
    """The int8 .tflite and its reference outputs: converted from model.keras, or, for a model with a
    [compress] section (unless ``apply = false``), the candidate `invoke compress` chose (measured on
    ``emulator``)."""
    code = (PIPELINE / "quantize.py", PIPELINE / "convert.py", PIPELINE / "reference.py")
    if b.tflite_source is not None:
        inputs = (b.tflite_source,) + ((b.inputs_source,) if b.inputs_source else ())
        stage = Stage("quantize", b.dir, code, inputs, (b.tflite, b.reference), {"vectors": BYO_VECTORS})
        return run_stage(stage, lambda: _byo_reference(b))[0]
    compress = b.cfg.raw.get("compress")
    if compress is not None and compress.get("apply", True):
        return _compressed_reference(b, emulator)
    stage = Stage(
        "quantize",
        b.dir,
        code,
        (b.dir / "model.keras", b.dir / "dataset.npz"),
        (b.tflite, b.reference),
        _config_section(b, "quantization", "training"),
    )

    def work() -> dict[str, Any]:
        from pipeline.quantize import quantize

        r = quantize(b.cfg, b.dir / "model.keras", b.dir / "dataset.npz", b.dir)
        return {"int8_accuracy": r.int8_accuracy, "litert_disagreements": r.litert_disagreements, "vectors": r.vectors}

    return run_stage(stage, work)[0]


def _compressed_reference(b: ModelBuild, emulator: str | None) -> dict[str, Any]:
    from pipeline.compress.search import compress
    from pipeline.quantize import held_out_reference

    result = compress(b, emulator)
    chosen, row = result.chosen_tflite, next(r for r in result.candidates if r["name"] == result.chosen)
    stage = Stage("quantize", b.dir, (PIPELINE / "quantize.py", PIPELINE / "reference.py"),
                  (chosen, b.dir / "dataset.npz"), (b.tflite, b.reference), {"candidate": result.chosen})

    def work() -> dict[str, Any]:
        print(f"quantize: {b.name} is the candidate invoke compress chose, {result.chosen} ({chosen})", flush=True)
        write_atomically(b.tflite, chosen.read_bytes())
        r = held_out_reference(b.tflite, b.dir / "dataset.npz", b.dir)
        return {"int8_accuracy": r.int8_accuracy, "litert_disagreements": r.litert_disagreements, "vectors": r.vectors,
                "candidate": result.chosen, "float_accuracy": row["float_accuracy"]}

    return run_stage(stage, work)[0]


def _byo_reference(b: ModelBuild) -> dict[str, Any]:
    from pipeline.codegen.validate import validate_model
    from pipeline.quantize import record_reference
    from pipeline.tflite.reader import read_model

    assert b.tflite_source is not None
    model = read_model(b.tflite_source)
    validate_model(model)  # refuse before anything is written
    check_input_shape(b, model)
    inp = model.tensor(model.inputs[0])
    if b.inputs_source is not None:
        inputs = np.load(b.inputs_source)
        if inputs.dtype != np.int8 or inputs.reshape(len(inputs), -1).shape[1] != inp.size:
            raise PipelineError(
                f"{b.inputs_source}: expected int8 inputs of {inp.size} values each "
                f"(shape [n, {', '.join(map(str, inp.shape[1:]))}]), got {inputs.dtype} {list(inputs.shape)}"
            )
    else:
        rng = np.random.default_rng(BYO_SEED)
        inputs = rng.integers(-128, 128, size=(BYO_VECTORS, *inp.shape[1:]), dtype=np.int8)
        print(f"quantize: no --inputs given: {BYO_VECTORS} random int8 inputs (seed {BYO_SEED})", flush=True)
    b.dir.mkdir(parents=True, exist_ok=True)
    write_atomically(b.tflite, b.tflite_source.read_bytes())
    r = record_reference(b.tflite, inputs.reshape(len(inputs), *inp.shape[1:]), None, b.reference)
    return {"int8_accuracy": None, "litert_disagreements": r.litert_disagreements, "vectors": r.vectors}


def codegen_stage(b: ModelBuild) -> Stage:
    """Codegen depends on the generator's code and templates, the .tflite and the reference inputs."""
    return Stage(
        "codegen",
        b.dir,
        (PIPELINE / "codegen", PIPELINE / "tflite"),
        (b.tflite, b.reference),
        (b.generated,),
        {"name": b.name, "input_shape": b.cfg.raw.get("model", {}).get("input_shape")},
    )


def stage_codegen(b: ModelBuild) -> dict[str, Any]:
    stage = codegen_stage(b)

    def work() -> dict[str, Any]:
        from pipeline.codegen.generator import generate
        from pipeline.tflite.reader import read_model

        model = read_model(b.tflite)
        check_input_shape(b, model)
        inputs = np.load(b.reference)["inputs"]
        r = generate(model, b.generated, b.name, inputs.reshape(len(inputs), -1))
        print(
            f"codegen: {len(r.layers)} layers, {r.macs:,} MACs, model_bytes {r.model_bytes:,}, "
            f"arena_bytes {r.arena_bytes:,} -> {b.generated}",
            flush=True,
        )
        return {"model_bytes": r.model_bytes, "arena_bytes": r.arena_bytes, "macs": r.macs}

    return run_stage(stage, work)[0]


def _stack_bytes(b: ModelBuild) -> int:
    return int(b.cfg.budgets.get("max_stack_bytes", 8192))


def build_stage(b: ModelBuild) -> Stage:
    """The build depends on the firmware sources, the build modules and the generated C."""
    return Stage(
        "build",
        b.dir,
        (
            ROOT / "firmware" / "app",
            ROOT / "firmware" / "board",
            ROOT / "firmware" / "kernels",
            ROOT / "firmware" / "cmake",
            ROOT / "firmware" / "CMakeLists.txt",
            PIPELINE / "build.py",
            PIPELINE / "elf_sizes.py",
            PIPELINE / "stack_usage.py",
        ),
        (b.generated,),
        (b.elf,),
        {"stack_bytes": _stack_bytes(b)},
    )


def stage_build(b: ModelBuild) -> dict[str, Any]:
    stage, stack = build_stage(b), _stack_bytes(b)

    def work() -> dict[str, Any]:
        from pipeline.build import BuildRequest, build_firmware
        from pipeline.stack_usage import static_stack

        r = build_firmware(BuildRequest(b.generated, b.firmware_dir, stack_bytes=stack))
        st = static_stack(r.elf, b.firmware_dir)
        print(
            f"build: {r.elf} flash {r.sizes.flash_bytes:,} B, RAM {r.sizes.ram_bytes:,} B, "
            f"static stack {st.total_bytes:,} B ({r.seconds:.1f} s)",
            flush=True,
        )
        return {"sizes": {**r.sizes.__dict__, "stack_bytes_static": st.total_bytes}, "toolchain": r.toolchain_version}

    return run_stage(stage, work)[0]


def stage_simulate(b: ModelBuild, emulator: str | None) -> dict[str, Any]:
    """Boot the firmware (or take its saved run: pipeline/firmware_run.simulate) and print what it measured."""
    from pipeline.emulators import default_emulator
    from pipeline.firmware_run import BootRequest, compare_outputs, run_figures, simulate

    run = simulate(BootRequest(b.elf, b.dir, emulator or default_emulator(), b.cfg.emulator.wall_timeout_s,
                               b.cfg.emulator.emulated_timeout_s))
    reference = np.load(b.reference)
    expected = reference["tflm"].reshape(len(reference["tflm"]), -1)
    labels = reference["labels"] if "labels" in reference.files else None
    exact = compare_outputs(run.outputs(), expected)
    print(
        f"simulate: {len(run.report.vectors)} vectors, {exact.message()}, "
        f"{run.instructions_per_inference:,} instructions per inference ({run.counter_source})",
        flush=True,
    )
    return {"bit_exact": exact.message(), **run_figures(run, expected, labels)}


def stage_cycles(b: ModelBuild) -> dict[str, Any]:
    """Estimated cycles per inference (docs/cycle-model.md): the firmware in QEMU with the cycle plugin."""
    from pipeline.cycles import inference_cycles

    return inference_cycles(b.elf, b.dir, b.cfg.emulator.wall_timeout_s)


def write_suite_json(b: ModelBuild, sizes: dict[str, Any]) -> Path:
    path = b.dir / "suite.json"
    write_atomically(
        path,
        json.dumps(
            {
                "model": b.name,
                "build_dir": str(b.dir),
                "elf": str(b.elf),
                "reference": str(b.reference),
                "config": str(b.cfg.path),
                "budgets": b.cfg.budgets,
                "sizes": sizes,
                "wall_timeout_s": b.cfg.emulator.wall_timeout_s,
                "emulated_timeout_s": b.cfg.emulator.emulated_timeout_s,
            },
            indent=2,
        )
        + "\n",
    )
    return path


def run_robot_suite(b: ModelBuild, emulator: str | None, sizes: dict[str, Any]) -> int:
    """Run the Robot suite (always: verdicts are never cached); return Robot's exit code."""
    suite = write_suite_json(b, sizes)
    out = b.dir / "robot"
    (b.dir / "firmware_run.json").unlink(missing_ok=True)  # never report a previous run's figures
    cmd = [
        sys.executable,
        "-m",
        "robot",
        "--outputdir",
        str(out),
        "--xunit",
        "xunit.xml",
        "--name",
        f"{b.name} firmware",
        "--pythonpath",
        str(ROOT / "robot_tests"),
        "--variable",
        f"SUITE_JSON:{suite}",
        "--variable",
        f"EMULATOR:{emulator or ''}",
        "--consolecolors",
        "off",
        str(ROOT / "robot_tests" / "firmware.robot"),
    ]
    print(f"[test-firmware] Robot suite on {emulator or 'the default emulator'} -> {out}/report.html", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(cmd, env=env, check=False).returncode


def collect_metrics(
    b: ModelBuild, emulator: str | None, results: dict[str, dict[str, Any]], robot_rc: int
) -> dict[str, Any]:
    from pipeline.emulators import default_emulator

    run_path = b.dir / "firmware_run.json"
    run: dict[str, Any] = json.loads(run_path.read_text()) if run_path.exists() else {}
    measured = {
        **results,
        # a compressed model's float accuracy is its chosen candidate's, after pruning and fine-tuning
        "train": {"float_accuracy": results["quantize"].get("float_accuracy", results["train"].get("float_accuracy"))},
        "build": results["build"].get("sizes", {}),
        # The boot's figures as the Robot suite evaluated them; none matched when it could not.
        "simulate": {"bit_exact_matched": 0, "bit_exact_total": results["quantize"].get("vectors"), **run},
    }
    metrics: dict[str, Any] = {
        "model": b.name,
        "emulator": run.get("emulator", emulator or default_emulator()),
        "toolchain": {"gcc": results["build"].get("toolchain"), "emulator": run.get("emulator_version")},
        **from_stages(measured),
        "budgets": b.cfg.budgets,
        "robot_exit_code": robot_rc,
    }
    verdicts = budget_verdicts(metrics)
    metrics["passed"] = robot_rc == 0 and all(v != "FAIL" for *_, v in verdicts)
    return metrics


def require_emulator(emulator: str | None) -> None:
    """Fail at once, with an install hint, when the chosen emulator is not installed."""
    from pipeline.emulators import select_backend

    select_backend(emulator).check_available()


def run_all(b: ModelBuild, emulator: str | None) -> dict[str, Any]:
    """Every stage, then the Robot suite; writes metrics.json and prints the budget table."""
    from pipeline.tools import QEMU, TOOLCHAIN, check_tools

    if emulator == "renode":
        require_emulator(emulator)
    check_tools((*TOOLCHAIN, QEMU))  # QEMU: the cycle estimate runs there whatever the emulator
    results = {
        "train": stage_train(b),
        "quantize": stage_quantize(b, emulator),
        "codegen": stage_codegen(b),
        "build": stage_build(b),
    }
    results["simulate"] = stage_simulate(b, emulator)
    results["cycles"] = stage_cycles(b)
    rc = run_robot_suite(
        b,
        emulator,
        {
            **results["build"]["sizes"],
            "model_bytes": results["codegen"]["model_bytes"],
            "arena_bytes": results["codegen"]["arena_bytes"],
        },
    )
    metrics = collect_metrics(b, emulator, results, rc)
    write_metrics(b.dir / "metrics.json", metrics)
    print()
    print(table(metrics))
    print(
        f"\n{b.name}: {'PASSED' if metrics['passed'] else 'FAILED'} -> {b.dir / 'metrics.json'}, "
        f"Robot report {b.dir / 'robot' / 'report.html'}"
    )
    return metrics
