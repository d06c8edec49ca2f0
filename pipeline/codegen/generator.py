"""Generate the C sources of a model: constants, parameter structs and one kernel call per layer."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2
import numpy as np

import pipeline
from pipeline.codegen.arena import ArenaPlan, plan_arena
from pipeline.codegen.lowering import LOWERINGS, ConstArray, Layer, LoweringContext, TensorRef
from pipeline.codegen.validate import validate_model
from pipeline.tflite.reader import Model

TEMPLATES = Path(__file__).with_name("templates")
VALUES_PER_LINE = 16


@dataclass(frozen=True)
class LayerInfo:
    index: int
    op: str
    kernel: str
    summary: str
    macs: int
    scratch_bytes: int


@dataclass(frozen=True)
class CodegenResult:
    out_dir: Path
    files: tuple[str, ...]
    model_bytes: int  # weights, biases and quantization constants
    arena_bytes: int
    macs: int
    layers: tuple[LayerInfo, ...]
    tensor_offsets: dict[int, int]
    input_size: int
    output_size: int

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


def _format_values(values: np.ndarray) -> list[str]:
    """Lines of comma-separated numbers for an array initializer."""
    flat = [str(int(v)) if values.dtype.kind in "iu" else repr(float(v)) + "f" for v in values]
    return [", ".join(flat[i : i + VALUES_PER_LINE]) + "," for i in range(0, len(flat), VALUES_PER_LINE)]


def _c_arg(arg: str | TensorRef, plan: ArenaPlan) -> str:
    if isinstance(arg, TensorRef):
        return f"&tc_arena[{plan.offsets[arg.index]}]"
    return arg


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 (C sources, not HTML)
    )


def lower_model(model: Model) -> list[Layer]:
    validate_model(model)
    return [LOWERINGS[op.opcode](LoweringContext(model, op)) for op in model.operators]


def plan_model_arena(model: Model, layers: list[Layer]) -> ArenaPlan:
    producers: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    sizes: dict[int, int] = {}
    for op in model.operators:
        for t in op.inputs:
            if t >= 0 and not model.tensor(t).is_constant:
                consumers.setdefault(t, []).append(op.index)
                sizes[t] = model.tensor(t).size
        for t in op.outputs:
            producers[t] = op.index
            sizes[t] = model.tensor(t).size
    return plan_arena(sizes, producers, consumers, model.inputs, model.outputs, len(model.operators),
                      [layer.alias for layer in layers if layer.alias],
                      {layer.index: layer.scratch_bytes for layer in layers})


def generate(model: Model, out_dir: Path, name: str, test_inputs: np.ndarray) -> CodegenResult:
    """Write model.h, model.c, test_vectors.h and test_vectors.c into ``out_dir``.

    The files are written to a temporary sibling directory first and moved into
    place only when all of them are complete, so a failure never leaves a
    partial set that looks valid.
    """
    layers = lower_model(model)
    plan = plan_model_arena(model, layers)
    inp, out = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    consts: list[ConstArray] = [c for layer in layers for c in layer.consts]
    digest = hashlib.sha256(model.path.read_bytes()).hexdigest()
    common = {
        "name": name,
        "model_file": model.path.name,
        "model_sha256": digest,
        "generator": f"tinyml-ci {pipeline.__version__}",
        "input_size": inp.size,
        "output_size": out.size,
        "input": inp,
        "output": out,
    }
    env = _environment()
    kernels = [layer for layer in layers if layer.kernel]
    rendered = {
        "model.h": env.get_template("model.h.j2").render(**common, arena_bytes=plan.size),
        "model.c": env.get_template("model.c.j2").render(
            **common,
            consts=[(c, _format_values(c.values)) for c in consts],
            layers=[(layer, [_c_arg(a, plan) for a in layer.args]) for layer in kernels],
            all_layers=layers,
            arena_bytes=plan.size,
            input_offset=plan.offsets[inp.index],
            output_offset=plan.offsets[out.index],
        ),
        "test_vectors.h": env.get_template("test_vectors.h.j2").render(**common, count=len(test_inputs)),
        "test_vectors.c": env.get_template("test_vectors.c.j2").render(
            **common, vectors=[_format_values(v.reshape(-1)) for v in test_inputs]),
    }
    result = CodegenResult(
        out_dir=out_dir,
        files=tuple(sorted(rendered)),
        model_bytes=sum(c.nbytes for c in consts),
        arena_bytes=plan.size,
        macs=sum(layer.macs for layer in layers),
        layers=tuple(LayerInfo(layer.index, layer.op, layer.kernel, layer.summary, layer.macs,
                               layer.scratch_bytes) for layer in layers),
        tensor_offsets=dict(plan.offsets),
        input_size=inp.size,
        output_size=out.size,
    )
    rendered["codegen.json"] = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    _write_atomically(out_dir, rendered)
    return result


def _write_atomically(out_dir: Path, files: dict[str, str]) -> None:
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for filename, text in files.items():
        (tmp / filename).write_text(text)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
