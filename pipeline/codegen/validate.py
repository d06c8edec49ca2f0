"""Model validation: refuse, before generating anything, what the generator cannot do exactly.

Every refusal names the model file, the op or tensor, its index in the graph,
and what is supported.
"""

from __future__ import annotations

from pipeline.codegen.lowering import LOWERINGS
from pipeline.errors import UnsupportedModelError
from pipeline.tflite.reader import Model, Tensor

# Constant operands that are not int8: biases (int32) and shape operands (int32).
_INT32_CONSTANT_OPERANDS = {("CONV_2D", 2), ("DEPTHWISE_CONV_2D", 2), ("FULLY_CONNECTED", 2),
                            ("RESHAPE", 1), ("MEAN", 1), ("PAD", 1)}


def supported_ops() -> list[str]:
    import pipeline.codegen.ops  # noqa: F401  (registers the lowerings)

    return sorted(LOWERINGS)


def _describe(tensor: Tensor) -> str:
    return f"tensor {tensor.index} ({tensor.name!r}, {tensor.dtype}, shape {list(tensor.shape)})"


def validate_model(model: Model) -> None:
    ops = supported_ops()
    where = f"{model.path}"
    if model.subgraph_count != 1:
        raise UnsupportedModelError(
            f"{where}: the model has {model.subgraph_count} subgraphs (control flow); only single-graph models are supported"
        )
    for op in model.operators:
        if op.opcode not in ops:
            raise UnsupportedModelError(
                f"{where}: op {op.index} is {op.opcode}, which the code generator does not support. "
                f"Supported ops: {', '.join(ops)}"
            )
    for op in model.operators:
        for position, t in enumerate(op.inputs):
            if t < 0:
                continue
            tensor = model.tensor(t)
            if tensor.is_constant and (op.opcode, position) in _INT32_CONSTANT_OPERANDS:
                continue
            _check_int8(where, op.index, op.opcode, tensor)
        for t in op.outputs:
            _check_int8(where, op.index, op.opcode, model.tensor(t))
    for t in (*model.inputs, *model.outputs):
        tensor = model.tensor(t)
        dynamic = [i for i, d in enumerate(tensor.shape_signature) if d < 0 and not (i == 0 and tensor.shape[0] == 1)]
        if dynamic or any(d <= 0 for d in tensor.shape):
            raise UnsupportedModelError(
                f"{where}: {_describe(tensor)} has a dynamic shape (signature {list(tensor.shape_signature)}); "
                "export the model with fixed input shapes"
            )


def _check_int8(where: str, op_index: int, opcode: str, tensor: Tensor) -> None:
    if tensor.dtype == "int8":
        if tensor.quantization is None:
            raise UnsupportedModelError(f"{where}: op {op_index} ({opcode}): {_describe(tensor)} has no quantization parameters")
        return
    hint = ""
    if tensor.dtype == "float32":
        hint = (" (the model is not fully integer-quantized: convert it with "
                "converter.optimizations = [tf.lite.Optimize.DEFAULT], a representative dataset, "
                "and inference_input_type/inference_output_type = tf.int8)")
    elif tensor.dtype == "int16":
        hint = " (int16 activations, the 16x8 quantization mode, are not supported: use int8)"
    raise UnsupportedModelError(
        f"{where}: op {op_index} ({opcode}): {_describe(tensor)} is {tensor.dtype}, "
        f"only int8 tensors are supported{hint}"
    )
