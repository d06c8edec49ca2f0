"""Model validation: refuse, before generating anything, what the generator cannot do exactly.

Every refusal names the model file, the op or tensor, its index in the graph,
and what is supported.
"""

from __future__ import annotations

from pipeline.codegen.lowering import LOWERINGS
from pipeline.errors import UnsupportedModelError
from pipeline.tflite.reader import Model, Tensor

# Constant operands that are not int8: biases (int32) and shape operands (int32).
_INT32_CONSTANT_OPERANDS = {
    ("CONV_2D", 2),
    ("DEPTHWISE_CONV_2D", 2),
    ("FULLY_CONNECTED", 2),
    ("RESHAPE", 1),
    ("MEAN", 1),
    ("PAD", 1),
    ("PADV2", 1),
}


# Ranks the lowerings rely on: (op, "in"/"out", position) -> rank.
_RANKS = {
    **{(op, "in", 0): 4 for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")},
    **{(op, "in", 1): 4 for op in ("CONV_2D", "DEPTHWISE_CONV_2D")},
    **{(op, "out", 0): 4 for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")},
    **{(op, "in", 2): 1 for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")},
    ("FULLY_CONNECTED", "in", 1): 2,
}


def _check_ranks(model: Model) -> None:
    for op in model.operators:
        for kind, indices in (("in", op.inputs), ("out", op.outputs)):
            for position, t in enumerate(indices):
                rank = _RANKS.get((op.opcode, kind, position))
                if rank is not None and t >= 0 and len(model.tensor(t).shape) != rank:
                    raise UnsupportedModelError(
                        f"{model.path}: op {op.index} ({op.opcode}): {kind}put {position} is "
                        f"{_describe(model.tensor(t))}; the op needs rank {rank}"
                    )


# Ops whose output shares its input's arena buffer: their input must be an activation.
_ALIASING_OPS = ("RESHAPE", "SQUEEZE")


def _check_graph(model: Model) -> None:
    """Dataflow: each activation is written once, before it is read; constants are never written."""
    where = f"{model.path}"
    written: set[int] = set(model.inputs)
    for t in (*model.inputs, *model.outputs):
        if model.tensor(t).is_constant:
            raise UnsupportedModelError(f"{where}: graph input/output {_describe(model.tensor(t))} is a constant")
    for op in model.operators:
        for position, t in enumerate(op.inputs):
            if t < 0:
                continue
            tensor = model.tensor(t)
            if tensor.is_constant:
                if position == 0 and op.opcode in _ALIASING_OPS:
                    raise UnsupportedModelError(
                        f"{where}: op {op.index} ({op.opcode}) reshapes the constant {_describe(tensor)}")
                continue
            if t not in written:
                raise UnsupportedModelError(
                    f"{where}: op {op.index} ({op.opcode}) reads {_describe(tensor)} before any op writes it")
        for t in op.outputs:
            if t < 0 or model.tensor(t).is_constant or t in written:
                raise UnsupportedModelError(
                    f"{where}: op {op.index} ({op.opcode}) writes tensor {t}, which is a constant, "
                    "a graph input or already written")
            written.add(t)
    for t in model.outputs:
        if t not in written:
            raise UnsupportedModelError(f"{where}: graph output {_describe(model.tensor(t))} is never written")


def supported_ops() -> list[str]:
    import pipeline.codegen.ops  # noqa: F401  (registers the lowerings)

    return sorted(LOWERINGS)


def _describe(tensor: Tensor) -> str:
    return f"tensor {tensor.index} ({tensor.name!r}, {tensor.dtype}, shape {list(tensor.shape)})"


def _float_edges(model: Model) -> set[int]:
    """Float32 tensors allowed: the input of a QUANTIZE that reads the graph input, the output of a
    DEQUANTIZE that writes the graph output."""
    edges: set[int] = set()
    for op in model.operators:
        if op.opcode == "QUANTIZE" and op.inputs and op.inputs[0] in model.inputs:
            edges.add(op.inputs[0])
        if op.opcode == "DEQUANTIZE" and op.outputs and op.outputs[0] in model.outputs:
            edges.add(op.outputs[0])
    return edges


def validate_model(model: Model) -> None:
    ops = supported_ops()
    where = f"{model.path}"
    if model.subgraph_count != 1:
        raise UnsupportedModelError(
            f"{where}: the model has {model.subgraph_count} subgraphs (control flow); "
            "only single-graph models are supported"
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedModelError(
            f"{where}: the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "only models with one input and one output are supported"
        )
    if not model.operators:
        raise UnsupportedModelError(f"{where}: the model has no operators (its output is its input)")
    for op in model.operators:
        if op.opcode not in ops:
            raise UnsupportedModelError(
                f"{where}: op {op.index} is {op.opcode}, which the code generator does not support. "
                f"Supported ops: {', '.join(ops)}"
            )
    edges = _float_edges(model)
    for op in model.operators:
        for position, t in enumerate(op.inputs):
            if t < 0:
                continue
            tensor = model.tensor(t)
            if tensor.is_constant and (op.opcode, position) in _INT32_CONSTANT_OPERANDS:
                continue
            if t in edges and tensor.dtype == "float32":
                continue
            _check_int8(where, op.index, op.opcode, tensor)
        for t in op.outputs:
            if t in edges and model.tensor(t).dtype == "float32":
                continue
            _check_int8(where, op.index, op.opcode, model.tensor(t))
    _check_ranks(model)
    _check_graph(model)
    for tensor in model.tensors:
        if tensor.is_constant:
            continue
        signature = tensor.shape_signature
        dynamic = [i for i, d in enumerate(signature) if d < 0 and not (i == 0 and tensor.shape[:1] == (1,))]
        if dynamic or any(d <= 0 for d in tensor.shape):
            raise UnsupportedModelError(
                f"{where}: {_describe(tensor)} has a dynamic shape (signature {list(signature)}); "
                "export the model with fixed input shapes"
            )


def _check_int8(where: str, op_index: int, opcode: str, tensor: Tensor) -> None:
    if tensor.dtype == "int8":
        if tensor.quantization is None:
            raise UnsupportedModelError(
                f"{where}: op {op_index} ({opcode}): {_describe(tensor)} has no quantization parameters"
            )
        return
    hint = ""
    if tensor.dtype == "float32":
        hint = (
            " (the model is not fully integer-quantized; float32 is allowed only as the input of a "
            "first QUANTIZE op or the output of a last DEQUANTIZE op: convert it with "
            "converter.optimizations = [tf.lite.Optimize.DEFAULT], a representative dataset, "
            "and inference_input_type/inference_output_type = tf.int8)"
        )
    elif tensor.dtype == "int16":
        hint = " (int16 activations, the 16x8 quantization mode, are not supported: use int8)"
    raise UnsupportedModelError(
        f"{where}: op {op_index} ({opcode}): {_describe(tensor)} is {tensor.dtype}, "
        f"only int8 tensors are supported{hint}"
    )
