"""Per-layer diff: the first layer whose output on the target differs from the host build of the same C.

When a firmware's outputs differ from the reference, the vector alone does not say where the
computation went wrong. This builds the model's firmware with ``TC_LAYER_DUMP=<vector>`` (the
generated ``tc_model_invoke`` calls ``tc_layer_dump`` after each layer, firmware/app/layer_dump.h),
boots it, and compares every layer's output tensor, element by element, with

* the host build of the same generated C with the same hook (firmware/host/host_main.c); its final
  output is checked against TFLM's recorded output for that vector, so it is the reference here;
* LiteRT's intermediate tensors (reference kernels, ``experimental_preserve_all_tensors``), found by
  the layer's output tensor index in the .tflite. LiteRT's reference kernels round a few values one
  step away from TFLM's (docs/numeric-contract.md), so its differences of one step are counted apart from
  larger ones, never hidden and never a failure: the verdict is target against host C.

Layers without a kernel call (a RESHAPE whose output aliases its input) print nothing: their
tensor is the previous layer's memory.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.config import ROOT
from pipeline.emulators import select_backend
from pipeline.emulators.hostrun import compile_host, run_host_raw
from pipeline.errors import PipelineError
from pipeline.fileutil import write_atomically
from pipeline.pipeline import ModelBuild, run_until, stack_bytes
from pipeline.stages.build import BuildRequest, build_firmware
from pipeline.stages.firmware_run import boot
from pipeline.tflite.reader import Model, read_model

APP = ROOT / "firmware" / "app"
DUMP_SOURCES = (APP / "layer_dump.c", ROOT / "firmware" / "host" / "uart_stdio.c")
DUMP_INCLUDES = (APP, ROOT / "firmware" / "boards" / "common")  # layer_dump.h, uart.h
_DUMP_LINE = re.compile(r"^LDUMP (\d+) bytes=(\d+) hex=([0-9a-f]*)$")
_WIDTH = {1: np.uint8, 2: np.uint16, 4: np.uint32}


@dataclass(frozen=True)
class LayerComparison:
    index: int
    op: str
    tensor: str  # the layer's output tensor in the .tflite
    tensor_index: int
    shape: tuple[int, ...]
    elements: int
    host_mismatches: int  # elements where the target differs from the host build
    first_mismatch: int | None  # element index of the first of them
    target_value: float | None  # at first_mismatch
    host_value: float | None
    litert_off_by_one: int  # int8 elements where the target is one step from LiteRT
    litert_mismatches: int  # elements further from LiteRT than that (any difference for float)


@dataclass(frozen=True)
class LayerDiff:
    model: str
    vector: int
    emulator: str
    elf: str
    host_matches_tflm: bool  # the host build's final output equals TFLM's for this vector
    layers: tuple[LayerComparison, ...]

    @property
    def first_difference(self) -> LayerComparison | None:
        return next((c for c in self.layers if c.host_mismatches), None)

    @property
    def equal(self) -> bool:
        return self.host_matches_tflm and self.first_difference is None


def parse_dumps(text: str, where: str) -> dict[int, bytes]:
    """Layer index -> its output bytes, from the LDUMP lines of a console or the host's stdout."""
    dumps: dict[int, bytes] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("LDUMP"):
            continue
        m = _DUMP_LINE.match(line)
        if not m or len(m[3]) != 2 * int(m[2]):
            raise PipelineError(f"{where}: malformed or truncated LDUMP line: {line[:80]!r}")
        layer = int(m[1])
        if layer in dumps:
            raise PipelineError(f"{where}: layer {layer} dumped twice (more than one vector selected?)")
        dumps[layer] = bytes.fromhex(m[3])
    return dumps


def build_dump_firmware(b: ModelBuild, vector: int) -> Path:
    """The model's firmware with TC_LAYER_DUMP=<vector>, in the board's diff/firmware/ (build/<model>/diff/
    on the default board); its ELF."""
    run_until(b, "codegen")
    count = len(np.load(b.reference)["inputs"])
    if not 0 <= vector < count:
        raise PipelineError(f"{b.name}: --vector {vector} is out of range: {b.reference} holds {count} vectors")
    fw = build_firmware(
        BuildRequest(b.generated, b.board_dir / "diff" / "firmware", stack_bytes=stack_bytes(b),
                     extra_defines={"TC_LAYER_DUMP": str(vector)}, board=b.board.name),
        on_line=lambda _line: None,
    )
    return fw.elf


def host_dumps(b: ModelBuild, vector: int, workdir: Path) -> tuple[dict[int, bytes], bool]:
    """The host build's dumps for the vector, and whether its final output equals TFLM's."""
    workdir.mkdir(parents=True, exist_ok=True)
    exe = compile_host(b.generated, workdir / "host_model",
                       extra_flags=("-DTC_LAYER_DUMP", *(f"-I{d}" for d in DUMP_INCLUDES)),
                       extra_sources=DUMP_SOURCES)
    ref = np.load(b.reference)
    out, stdout = run_host_raw(exe, ref["inputs"][vector:vector + 1], workdir)
    (workdir / "host_stdout.txt").write_text(stdout)
    expected = np.asarray(ref["tflm"][vector]).reshape(-1)
    output = np.frombuffer(out, dtype=expected.dtype)
    return parse_dumps(stdout, str(exe)), bool(np.array_equal(output, expected))


def litert_intermediates(tflite: Path, x: np.ndarray, tensors: list[int]) -> dict[int, np.ndarray]:
    """Tensor index -> LiteRT's value (reference kernels) after one invoke on ``x``."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=tflite.read_bytes(),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                              experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], x.reshape(inp["shape"]).astype(inp["dtype"]))
    interpreter.invoke()
    return {t: np.asarray(interpreter.get_tensor(t)).reshape(-1).copy() for t in tensors}


def _bits(data: np.ndarray) -> np.ndarray:
    """The elements as unsigned integers of their width: exact comparison, float NaNs included."""
    return data.view(_WIDTH[data.dtype.itemsize])


def compare_layer(model: Model, layer: dict[str, object], target: bytes, host: bytes,
                  litert: np.ndarray) -> LayerComparison:
    index = int(str(layer["index"]))
    tensor = model.tensor(model.operators[index].outputs[0])
    dtype = np.dtype(tensor.dtype)
    if len(target) != tensor.size * dtype.itemsize or len(host) != len(target):
        raise PipelineError(f"layer {index}: dumps of {len(target)} (target) and {len(host)} (host) bytes, "
                            f"want {tensor.size * dtype.itemsize} for {tensor.name}")
    t, h = np.frombuffer(target, dtype=dtype), np.frombuffer(host, dtype=dtype)
    differ = np.flatnonzero(_bits(t) != _bits(h))
    first = int(differ[0]) if differ.size else None
    if dtype.kind == "i":
        step = np.abs(t.astype(np.int64) - litert.astype(np.int64))
        off_by_one, beyond = int((step == 1).sum()), int((step > 1).sum())
    else:
        off_by_one, beyond = 0, int((_bits(t) != _bits(litert.astype(dtype))).sum())
    return LayerComparison(index, str(layer["op"]), tensor.name, tensor.index, tensor.shape, tensor.size,
                           int(differ.size), first,
                           None if first is None else t[first].item(), None if first is None else h[first].item(),
                           off_by_one, beyond)


def diff_layers(b: ModelBuild, vector: int, emulator: str | None, elf: Path | None = None) -> LayerDiff:
    """Compare every layer of the TC_LAYER_DUMP firmware (``elf``, default: built here) for one vector."""
    elf = elf or build_dump_firmware(b, vector)
    work = b.board_dir / "diff"
    emu = b.cfg.emulator
    run = boot(elf, work / "boot", emulator, emu.wall_timeout_s, emu.emulated_timeout_s, b.board.name)
    target = parse_dumps(run.console.read_text(), str(run.console))
    host, host_ok = host_dumps(b, vector, work / "host")
    model = read_model(b.tflite)
    called = [layer for layer in json.loads((b.generated / "codegen.json").read_text())["layers"] if layer["kernel"]]
    expected = [int(layer["index"]) for layer in called]
    for name, dumps, where in (("target", target, run.console), ("host", host, work / "host" / "host_stdout.txt")):
        if sorted(dumps) != expected:
            raise PipelineError(f"{where}: the {name} dumped layers {sorted(dumps)}, want {expected} "
                                f"(is it a TC_LAYER_DUMP={vector} build?)")
    tensors = [model.operators[i].outputs[0] for i in expected]
    litert = litert_intermediates(b.tflite, np.load(b.reference)["inputs"][vector], tensors)
    layers = tuple(compare_layer(model, layer, target[i], host[i], litert[t])
                   for layer, i, t in zip(called, expected, tensors, strict=True))
    return LayerDiff(b.name, vector, run.emulator, str(elf), host_ok, layers)


def _short(tensor: str) -> str:
    """A converter's fused name ("a/Relu;a/BiasAdd;...") by its first part, for the table (JSON: in full)."""
    return tensor.split(";", 1)[0][:48]


def _position(c: LayerComparison) -> str:
    """The first mismatch as a multi-index into the tensor (NHWC for activations)."""
    assert c.first_mismatch is not None
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(c.first_mismatch, c.shape)) + "]"


def format_diff(d: LayerDiff) -> str:
    head = ("layer", "op", "tensor", "elements", "target!=host", "first (target/host)", "LiteRT +-1", "LiteRT >1")
    rows = [head] + [
        (str(c.index), c.op, _short(c.tensor), str(c.elements), str(c.host_mismatches),
         "-" if c.first_mismatch is None else f"[{c.first_mismatch}] {c.target_value}/{c.host_value}",
         str(c.litert_off_by_one), str(c.litert_mismatches))
        for c in d.layers
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(col.ljust(w) for col, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(0, f"{d.model}, vector {d.vector}, {d.emulator}: every layer's output, the target against "
                    f"the host build of the same C and against LiteRT")
    first = d.first_difference
    lines.append(f"host C final output vs TFLM: {'equal' if d.host_matches_tflm else 'DIFFERENT'}")
    lines.append("first difference (target vs host C): " + (
        "none, every layer is equal" if first is None else
        f"layer {first.index} ({first.op}, tensor {first.tensor}), element {first.first_mismatch} "
        f"(at {_position(first)} of {'x'.join(map(str, first.shape))}): "
        f"target {first.target_value}, host {first.host_value}"))
    return "\n".join(lines)


def run_diff(b: ModelBuild, vector: int, emulator: str | None) -> LayerDiff:
    """`invoke diff`: compare, print the table, write <board dir>/diff/vector<N>-<emulator>.txt and .json.

    An earlier report of the same vector and emulator is removed first, so a run that fails leaves none.
    """
    stem = b.board_dir / "diff" / f"vector{vector}-{select_backend(emulator, b.board.name).name}"
    reports = (stem.with_suffix(".txt"), stem.with_suffix(".json"))
    for stale in reports:
        stale.unlink(missing_ok=True)
    d = diff_layers(b, vector, emulator)
    text = format_diff(d)
    print(text, flush=True)
    write_atomically(reports[0], text + "\n")
    write_atomically(reports[1], json.dumps({**asdict(d), "equal": d.equal}, indent=2) + "\n")
    print(f"diff: -> {reports[0]}, {reports[1]}", flush=True)
    return d
