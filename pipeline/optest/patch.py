"""Edit converted .tflite files for options the converter never emits (RELU_N1_TO_1 fused into an op,
softmax beta != 1, MEAN with equal input/output quantization, an int8 -> int8 QUANTIZE, a filter
channel whose multiplier underflows to 0).

Uses TFLite's generated object API (schema_py_generated ModelT): unpack, edit, re-pack.
"""

from __future__ import annotations

import random
from typing import Any

import flatbuffers
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as sch

ACTIVATION_CODES = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
ZERO_CHANNEL_SCALE = 1e-30


def load_model_t(data: bytes) -> Any:
    return sch.ModelT.InitFromPackedBuf(bytearray(data), 0)


def save_model_t(model: Any) -> bytes:
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _opcode(model: Any, op: Any) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(int(code.builtinCode), int(code.deprecatedBuiltinCode))


def _find(model: Any, name: str) -> Any:
    code = getattr(sch.BuiltinOperator, name)
    for op in model.subgraphs[0].operators:
        if _opcode(model, op) == code:
            return op
    raise ValueError(f"the converted model has no {name} op")


def patch(data: bytes, spec: dict[str, Any]) -> bytes:
    """Apply the edits the case's spec asks for; return the model unchanged when there are none."""
    op_name = spec["op"]
    edits = []
    if spec.get("act") == "RELU_N1_TO_1":
        edits.append("act")
    if op_name == "SOFTMAX" and spec.get("beta", 1.0) != 1.0:
        edits.append("beta")
    if op_name == "MEAN" and spec.get("quantization") in ("same_as_input", "rescaled"):
        edits.append("mean_quant")
    if op_name == "QUANTIZE" and spec.get("direction") == "int8_to_int8":
        edits.append("relu_to_quantize")
    if spec.get("weights") == "zero_channel" and spec.get("quant") == "per_channel":
        edits.append("zero_scale")
    if not edits:
        return data
    model = load_model_t(data)
    tensors = model.subgraphs[0].tensors
    rng = random.Random(spec["seed"])
    if "act" in edits:
        _find(model, op_name).builtinOptions.fusedActivationFunction = ACTIVATION_CODES["RELU_N1_TO_1"]
    if "beta" in edits:
        _find(model, "SOFTMAX").builtinOptions.beta = float(spec["beta"])
    if "mean_quant" in edits:
        op = _find(model, "MEAN")
        src, dst = tensors[op.inputs[0]].quantization, tensors[op.outputs[0]].quantization
        dst.scale, dst.zeroPoint = list(src.scale), list(src.zeroPoint)
        if spec["quantization"] == "rescaled":
            dst.scale = [float(src.scale[0]) * rng.choice([0.25, 0.6, 1.7, 3.3])]
            dst.zeroPoint = [rng.randrange(-128, 128)]
    if "relu_to_quantize" in edits:
        op = _find(model, "RELU")
        code = model.operatorCodes[op.opcodeIndex]
        code.builtinCode = code.deprecatedBuiltinCode = sch.BuiltinOperator.QUANTIZE
        out_q = tensors[op.outputs[0]].quantization
        out_q.scale = [float(out_q.scale[0]) * rng.choice([0.3, 0.77, 1.0, 1.9, 4.2])]
        out_q.zeroPoint = [rng.randrange(-128, 128)]
    if "zero_scale" in edits:
        # The all-zero channel's scale (the converter writes ~4e-9) made 1e-30: the real multiplier falls
        # below 2^-32, which QuantizeMultiplier flushes to 0 (a quantizer giving a channel with no range
        # a vanishing scale); the DSP build's wide kernels refuse a zero multiplier.
        filter_q = tensors[_find(model, op_name).inputs[1]].quantization
        filter_q.scale = [*filter_q.scale[:-1], ZERO_CHANNEL_SCALE]
    return save_model_t(model)
