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
from pipeline.codegen.arena import ArenaPlan, free_span, plan_arena, with_scratch
from pipeline.codegen.kernels import KERNEL_SETS, KernelManifestError, check_choice, fallback_chain, files_of
from pipeline.codegen.lowering import LOWERINGS, ConstArray, Layer, LoweringContext, ScratchRef, TensorList, TensorRef
from pipeline.codegen.params import fields
from pipeline.codegen.validate import validate_model
from pipeline.errors import UnsupportedModelError
from pipeline.tflite.reader import Model, Tensor

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
    kernels: dict[str, str]  # kernel set -> the kernel its build calls ("" for no call)


@dataclass(frozen=True)
class CodegenResult:
    out_dir: Path
    files: tuple[str, ...]
    model_sha256: str  # of the .tflite it was generated from
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


# C types of the tensors the generated API exposes; the arena is int8_t storage.
C_TYPES = {"int8": "int8_t", "float32": "float"}
ITEM_BYTES = {"int8": 1, "float32": 4, "int32": 4, "int16": 2}


def _tensor_pointer(model: Model, index: int, plan: ArenaPlan) -> str:
    pointer = f"&tc_arena[{plan.offsets[index]}]"
    ctype = C_TYPES.get(model.tensor(index).dtype, "int8_t")
    return pointer if ctype == "int8_t" else f"({ctype} *)(void *){pointer}"


def _c_arg(arg: str | TensorRef | TensorList | ScratchRef, plan: ArenaPlan, model: Model) -> str:
    if isinstance(arg, TensorRef):
        return _tensor_pointer(model, arg.index, plan)
    if isinstance(arg, ScratchRef):
        return f"&tc_arena[{plan.scratch_offsets[arg.layer]}]"
    if isinstance(arg, TensorList):
        items = ", ".join(_c_arg(item, plan, model) for item in arg.items)
        return f"(const int8_t *const[]){{{items}}}"
    return arg


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


@dataclass(frozen=True)
class CallView:
    """One way of running a layer, as the template places it: constants, parameter struct, call."""

    kernel: str
    params_name: str
    params_type: str
    params: list[tuple[str, str]]  # (field, C initializer) in declaration order
    args: list[str]
    consts: list[tuple[ConstArray, list[str], str]]  # (constant, initializer lines, qualifier)


def _call_view(layer: Layer, params_name: str, plan: ArenaPlan, model: Model, in_ram: set[str]) -> CallView:
    where = f"{model.path}: op {layer.index} ({layer.op}), {layer.kernel}"
    return CallView(layer.kernel, params_name, layer.params_type, fields(layer.params_type, layer.params, where),
                    [_c_arg(a, plan, model) for a in layer.args],
                    [(c, _format_values(c.values), "TC_RAM_CONST" if c.name in in_ram else "const")
                     for c in layer.consts])


def _layer_view(layer: Layer, plan: ArenaPlan, model: Model, in_ram: set[str]) -> dict[str, object]:
    """The layer's calls as model.c's #if chain: (define, call) per kernel set with a variant of its
    own, most specific first, then ("", the portable call) for the #else."""
    calls = [(s.define, _call_view(layer.variants[s.name], f"tc_l{layer.index}_{s.name}_params", plan, model,
                                   in_ram))
             for s in KERNEL_SETS.values() if s.name in layer.variants]
    calls.append(("", _call_view(layer, f"tc_l{layer.index}_params", plan, model, in_ram)))
    output = model.tensor(model.operators[layer.index].outputs[0])
    return {"index": layer.index, "op": layer.op, "summary": layer.summary, "calls": calls,
            "output_offset": plan.offsets[output.index], "output_bytes": _nbytes(output)}


def _check_kernels(model: Model, layer: Layer) -> dict[str, str]:
    """Kernel set -> the kernel the layer calls in that build, each checked against the manifest."""
    where = f"{model.path}: op {layer.index} ({layer.op})"
    unknown = sorted(set(layer.variants) - set(KERNEL_SETS))
    if unknown:
        raise KernelManifestError(f"{where}: variants for unknown kernel sets {unknown}")
    chosen = {}
    for name in KERNEL_SETS:
        call = layer.call_for(name)
        chosen[name] = check_choice(call.kernel, name, layer.op, call.params_type, where).function
    return chosen


def _kernels_cmake_view(layers: list[LayerInfo]) -> list[dict[str, object]]:
    """Per kernel set: its name, the defines of its build (its own and its fallbacks'), the sources."""
    return [{"name": name,
             "defines": [KERNEL_SETS[s].define for s in fallback_chain(name) if KERNEL_SETS[s].define],
             "sources": files_of({info.kernels[name] for info in layers if info.kernel})[0]}
            for name in KERNEL_SETS]


def lower_model(model: Model) -> list[Layer]:
    validate_model(model)
    return [LOWERINGS[op.opcode](LoweringContext(model, op)) for op in model.operators]


def _nbytes(tensor: Tensor) -> int:
    return tensor.size * ITEM_BYTES.get(tensor.dtype, 1)


def plan_model_arena(model: Model, layers: list[Layer]) -> ArenaPlan:
    producers: dict[int, int] = {}
    consumers: dict[int, list[int]] = {}
    sizes: dict[int, int] = {}
    for op in model.operators:
        for t in op.inputs:
            if t >= 0 and not model.tensor(t).is_constant:
                consumers.setdefault(t, []).append(op.index)
                sizes[t] = _nbytes(model.tensor(t))
        for t in op.outputs:
            producers[t] = op.index
            sizes[t] = _nbytes(model.tensor(t))
    return plan_arena(sizes, producers, consumers, model.inputs, model.outputs, len(model.operators),
                      [layer.alias for layer in layers if layer.alias],
                      {layer.index: layer.scratch_needed for layer in layers})


def stage_in_free_arena(plan: ArenaPlan, layers: list[Layer], arena_limit: int | None) -> ArenaPlan:
    """Give each layer's Staging (lowering.py) the arena bytes free while it runs, in whole blocks:
    the arena does not grow beyond ``plan.size``, or beyond ``arena_limit`` when that is larger (a
    model's ``[codegen] arena_limit_bytes``: RAM the user trades for speed). Sets the staging
    parameter of each variant that has one; returns the plan with those layers' scratch moved."""
    limit = max(plan.size, arena_limit or 0)
    for layer in layers:
        for call in (layer, *layer.variants.values()):
            st = call.staging
            if st is None:
                continue
            offset, free = free_span(plan, layer.index, limit)
            blocks = max(0, min(st.max_blocks, (free - call.scratch_bytes) // st.block_bytes))
            call.params[st.param] = blocks * st.items_per_block
            call.scratch_bytes += blocks * st.block_bytes
            if blocks:
                plan = with_scratch(plan, layer.index, offset, layer.scratch_needed)
    return plan


def place_in_ram(layers: list[Layer], limit: int) -> set[str]:
    """The streamed constants (lowering.py) of the layers' variants to run from RAM, at most ``limit``
    bytes in all (a model's ``[codegen] ram_constants_bytes``: RAM the user trades for speed): the set
    that fills the most of it (an exact subset sum over their sizes). Every byte of them is one flash
    read per inference (a 16-byte line missing the ART's data cache costs 5 wait states,
    docs/cycle-model.md), so any byte saves the same."""
    streamed = sorted((c for layer in layers for call in layer.variants.values() for c in call.consts
                       if c.name in call.streamed), key=lambda c: c.name)
    mask = (1 << (limit + 1)) - 1
    reachable = [1]  # reachable[i]: bit t set when some subset of the first i constants has t bytes
    for c in streamed:
        reachable.append((reachable[-1] | (reachable[-1] << c.nbytes)) & mask)
    total = reachable[-1].bit_length() - 1
    chosen: set[str] = set()
    for i in range(len(streamed), 0, -1):
        if not (reachable[i - 1] >> total) & 1:  # the i-th constant is needed to reach total
            chosen.add(streamed[i - 1].name)
            total -= streamed[i - 1].nbytes
    return chosen


def generate(model: Model, out_dir: Path, name: str, test_inputs: np.ndarray,
             arena_limit: int | None = None, ram_constants: int = 0) -> CodegenResult:
    """Write model.h, model.c, test_vectors.h and test_vectors.c into ``out_dir``.

    The files are written to a temporary sibling directory first and moved into
    place only when all of them are complete, so a failure never leaves a
    partial set that looks valid. A model the generator refuses removes any
    earlier generated files from ``out_dir``, so none can pass for its code.
    """
    try:
        layers = lower_model(model)
    except UnsupportedModelError:
        _remove_generated(out_dir)
        raise
    plan = stage_in_free_arena(plan_model_arena(model, layers), layers, arena_limit)
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
        "input_ctype": C_TYPES[inp.dtype],
        "output_ctype": C_TYPES[out.dtype],
    }
    env = _environment()
    infos = tuple(LayerInfo(layer.index, layer.op, layer.kernel, layer.summary, layer.macs, layer.scratch_needed,
                            _check_kernels(model, layer) if layer.kernel else dict.fromkeys(KERNEL_SETS, ""))
                  for layer in layers)
    in_ram = place_in_ram(layers, ram_constants)
    kernels = [_layer_view(layer, plan, model, in_ram) for layer in layers if layer.kernel]
    rendered = {
        "model.h": env.get_template("model.h.j2").render(
            **common, arena_bytes=plan.size,
            input_note="" if inp.dtype == "int8" else " (with memcpy: the arena is int8_t storage)",
            output_note="" if out.dtype == "int8" else " (read with memcpy)"),
        "model.c": env.get_template("model.c.j2").render(
            **common,
            layers=kernels,
            all_layers=layers,
            arena_bytes=plan.size,
            ram_constants_bytes=sum(c.nbytes for layer in layers for call in layer.variants.values()
                                    for c in call.consts if c.name in in_ram),
            input_pointer=_tensor_pointer(model, inp.index, plan),
            output_pointer=_tensor_pointer(model, out.index, plan),
        ),
        "kernels.cmake": env.get_template("kernels.cmake.j2").render(
            **common, kernel_sets=_kernels_cmake_view(list(infos))),
        "test_vectors.h": env.get_template("test_vectors.h.j2").render(**common, count=len(test_inputs)),
        "test_vectors.c": env.get_template("test_vectors.c.j2").render(
            **common, vectors=[_format_values(v.reshape(-1)) for v in test_inputs]),
    }
    result = CodegenResult(
        out_dir=out_dir,
        files=tuple(sorted(rendered)),
        model_sha256=digest,
        model_bytes=sum(c.nbytes for c in consts),
        arena_bytes=plan.size,
        macs=sum(layer.macs for layer in layers),
        layers=infos,
        tensor_offsets=dict(plan.offsets),
        input_size=inp.size,
        output_size=out.size,
    )
    rendered["codegen.json"] = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    _write_atomically(out_dir, rendered)
    return result


GENERATED_FILES = ("model.h", "model.c", "kernels.cmake", "test_vectors.h", "test_vectors.c", "codegen.json")


def _remove_generated(out_dir: Path) -> None:
    """Delete the files a previous generation wrote (only those: out_dir may hold other things)."""
    for filename in GENERATED_FILES:
        (out_dir / filename).unlink(missing_ok=True)


def _write_atomically(out_dir: Path, files: dict[str, str]) -> None:
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for filename, text in files.items():
            (tmp / filename).write_text(text)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
