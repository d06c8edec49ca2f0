"""Read a .tflite file into plain dataclasses: tensors, operators, options.

Only what the code generator needs is read. Every access is bounds-checked
(see :mod:`pipeline.tflite.flatbuf`), so any file either reads or raises
ModelFormatError naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelFormatError, UnsupportedModelError
from pipeline.tflite import schema as s
from pipeline.tflite.flatbuf import Buffer, Table

# TFLite's file identifier, at bytes 4..8 of every model.
FILE_IDENTIFIER = b"TFL3"

# Options that divide or step: 0 or a negative value is never valid.
_POSITIVE_OPTIONS = ("stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor", "filter_width",
                     "filter_height")

_NUMPY_TYPES = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32,
                "int64": np.int64, "uint8": np.uint8, "float16": np.float16, "bool": np.bool_}


@dataclass(frozen=True)
class Quantization:
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    data: bytes | None  # constant contents, None for activations
    quantization: Quantization | None
    shape_signature: tuple[int, ...] = ()
    model_path: Path | None = None  # the model file, for error messages

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first, for per-channel tensors)."""
        return self.quantization.scale[0] if self.quantization and self.quantization.scale else 0.0

    @property
    def zero_point(self) -> int:
        q = self.quantization
        return int(q.zero_point[0]) if q and q.zero_point else 0

    def array(self) -> np.ndarray:
        """The constant contents, shaped; raises ModelFormatError if they do not fit the shape."""
        where = f"{self.model_path}: " if self.model_path else ""
        if self.data is None:
            raise UnsupportedModelError(
                f"{where}tensor {self.index} ({self.name}) is used as a constant (weights, bias or shape) "
                "but has no data"
            )
        np_type = _NUMPY_TYPES.get(self.dtype)
        if np_type is None:
            raise ModelFormatError(f"{where}constant tensor {self.index} ({self.name}) has type {self.dtype}")
        expected = self.size * np.dtype(np_type).itemsize
        if len(self.data) != expected:
            raise ModelFormatError(
                f"{where}constant tensor {self.index} ({self.name}) holds {len(self.data)} bytes, "
                f"its shape {list(self.shape)} of {self.dtype} needs {expected}"
            )
        return np.frombuffer(self.data, dtype=np_type).reshape(self.shape)


@dataclass(frozen=True)
class Operator:
    index: int
    opcode: str  # BuiltinOperator name, e.g. "CONV_2D", or "CUSTOM:<name>"
    version: int
    inputs: tuple[int, ...]  # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    path: Path
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    subgraph_count: int = 1
    description: str = ""

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]


def read_model(path: Path) -> Model:
    """Read and structurally check ``path``; raise ModelFormatError on any problem."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFormatError(f"{path}: cannot read the model file: {err.strerror}") from err
    return parse_model(data, path)


def parse_model(data: bytes, path: Path, trace: list[tuple[int, int]] | None = None) -> Model:
    """Parse a model held in memory; ``trace``, when given, receives (offset, size) of every field read."""
    buf = Buffer(data, path, trace)
    if len(data) == 0:
        raise ModelFormatError(f"{path}: the file is empty, not a TFLite model")
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ModelFormatError(
            f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier at byte 4); "
            "export the model with tf.lite.TFLiteConverter"
        )
    root = buf.root()
    subgraphs = root.tables(s.MODEL_SUBGRAPHS)
    if not subgraphs:
        raise ModelFormatError(f"{path}: the model has no subgraph")
    buffers = root.tables(s.MODEL_BUFFERS)
    opcodes = [_opcode(t) for t in root.tables(s.MODEL_OPERATOR_CODES)]
    graph = subgraphs[0]
    tensors = tuple(_tensor(buf, i, t, buffers) for i, t in enumerate(graph.tables(s.SUBGRAPH_TENSORS)))
    operators = tuple(
        _operator(buf, i, t, opcodes, len(tensors))
        for i, t in enumerate(graph.tables(s.SUBGRAPH_OPERATORS))
    )
    inputs = graph.ints(s.SUBGRAPH_INPUTS)
    outputs = graph.ints(s.SUBGRAPH_OUTPUTS)
    for kind, indices in (("input", inputs), ("output", outputs)):
        for index in indices:
            if not 0 <= index < len(tensors):
                raise buf.fail(f"graph {kind} refers to tensor {index}, the graph has {len(tensors)}")
    return Model(path, tensors, operators, inputs, outputs, len(subgraphs), root.string(s.MODEL_DESCRIPTION))


def _opcode(table: Table) -> tuple[str, int]:
    code = max(int(table.scalar(s.OPCODE_BUILTIN, "i", 0)), int(table.scalar(s.OPCODE_DEPRECATED_BUILTIN, "b", 0)))
    name = s.BUILTIN_OPERATORS.get(code, f"UNKNOWN_OP_{code}")
    if name == "CUSTOM":
        name = f"CUSTOM:{table.string(s.OPCODE_CUSTOM)}"
    return name, int(table.scalar(s.OPCODE_VERSION, "i", 1))


def _tensor(buf: Buffer, index: int, table: Table, buffers: list[Table]) -> Tensor:
    type_code = int(table.scalar(s.TENSOR_TYPE, "b", 0))
    dtype = s.TENSOR_TYPES.get(type_code, f"type{type_code}")
    shape = table.ints(s.TENSOR_SHAPE)
    buffer_index = int(table.scalar(s.TENSOR_BUFFER, "I", 0))
    if buffer_index >= max(len(buffers), 1):
        raise buf.fail(f"tensor {index} refers to buffer {buffer_index}, the model has {len(buffers)}")
    data = _buffer_data(buf, buffers[buffer_index]) if buffers and buffer_index else None
    name = table.string(s.TENSOR_NAME)
    if any(d < 0 for d in shape):
        raise buf.fail(f"tensor {index} ({name}) has a negative dimension in its shape {list(shape)}")
    quant = _quantization(buf, index, name, table, len(shape))
    tensor = Tensor(index, name, shape, dtype, data or None, quant, table.ints(s.TENSOR_SHAPE_SIGNATURE), buf.path)
    np_type = _NUMPY_TYPES.get(dtype)
    if tensor.data is not None and np_type is not None and len(tensor.data) != tensor.size * np.dtype(np_type).itemsize:
        raise buf.fail(
            f"constant tensor {index} ({name}) holds {len(tensor.data)} bytes, "
            f"its shape {list(shape)} of {dtype} needs {tensor.size * np.dtype(np_type).itemsize}"
        )
    return tensor


def _quantization(buf: Buffer, index: int, name: str, table: Table, rank: int) -> Quantization | None:
    quant_table = table.table(s.TENSOR_QUANTIZATION)
    if quant_table is None:
        return None
    scale = quant_table.floats(s.QUANT_SCALE)
    zero_point = quant_table.ints(s.QUANT_ZERO_POINT, "q")
    if not (scale or zero_point):
        return None
    if not scale:
        raise buf.fail(f"tensor {index} ({name}) has {len(zero_point)} zero points but no quantization scale")
    dimension = int(quant_table.scalar(s.QUANT_DIMENSION, "i", 0))
    bad = [v for v in scale if not (math.isfinite(v) and v > 0.0)]
    if bad:
        raise buf.fail(f"tensor {index} ({name}) has quantization scale {bad[0]}; scales must be finite and > 0")
    if len(scale) > 1 and not (0 <= dimension < max(rank, 1)):
        raise buf.fail(f"tensor {index} ({name}) is quantized along dimension {dimension}, its rank is {rank}")
    if len(zero_point) not in (0, 1, len(scale)):
        raise buf.fail(f"tensor {index} ({name}) has {len(scale)} scales but {len(zero_point)} zero points")
    return Quantization(scale, zero_point, dimension)


def _buffer_data(buf: Buffer, table: Table) -> bytes:
    data = table.raw_bytes(s.BUFFER_DATA)
    if data:
        return data
    offset = int(table.scalar(s.BUFFER_OFFSET, "Q", 0))
    size = int(table.scalar(s.BUFFER_SIZE, "Q", 0))
    if offset > 1:  # 0 and 1 mean "no external data" in the schema
        if offset + size > len(buf.data):
            raise buf.fail(f"buffer data at offset {offset} of {size} bytes runs past the end of the file")
        return bytes(buf.data[offset : offset + size])
    return b""


def _operator(buf: Buffer, index: int, table: Table, opcodes: list[tuple[str, int]], n_tensors: int) -> Operator:
    opcode_index = int(table.scalar(s.OPERATOR_OPCODE_INDEX, "I", 0))
    if opcode_index >= len(opcodes):
        raise buf.fail(f"operator {index} uses opcode {opcode_index}, the model declares {len(opcodes)}")
    name, version = opcodes[opcode_index]
    inputs = table.ints(s.OPERATOR_INPUTS)
    outputs = table.ints(s.OPERATOR_OUTPUTS)
    for t in (*inputs, *outputs):
        if not -1 <= t < n_tensors:
            raise buf.fail(f"operator {index} ({name}) refers to tensor {t}, the graph has {n_tensors}")
    return Operator(index, name, version, inputs, outputs, _options(buf, index, name, table))


def _options(buf: Buffer, index: int, name: str, table: Table) -> dict[str, Any]:
    spec = s.OPTIONS.get(name)
    if spec is None:
        return {}
    union_type, fields = spec
    options: dict[str, Any] = {name_: default for name_, _, _, default in fields}
    type_code = int(table.scalar(s.OPERATOR_OPTIONS_TYPE, "B", 0))
    opts = table.table(s.OPERATOR_OPTIONS)
    if opts is not None and type_code not in (0, union_type):
        raise buf.fail(f"operator {index} ({name}) carries options of union type {type_code}, "
                       f"expected {union_type}")
    if opts is not None:
        for field_name, field_id, fmt, default in fields:
            options[field_name] = opts.scalar(field_id, fmt, default)
            if fmt in "fd" and not math.isfinite(options[field_name]):
                raise buf.fail(f"operator {index} ({name}) has {field_name} = {options[field_name]}")
    if "padding" in options:
        options["padding"] = s.PADDING.get(int(options["padding"]), f"PADDING_{options['padding']}")
    if "fused_activation_function" in options:
        code = int(options["fused_activation_function"])
        options["fused_activation_function"] = s.ACTIVATIONS.get(code, f"ACTIVATION_{code}")
    for key in _POSITIVE_OPTIONS:
        if key in options and int(options[key]) < 1:
            raise buf.fail(f"operator {index} ({name}) has {key} = {options[key]}; it must be >= 1")
    for key in ("keep_num_dims", "keep_dims"):
        if key in options:
            options[key] = bool(options[key])
    return options
