"""CONCATENATION, int8 (TFLM concatenation.cc copies int8 bytes without requantizing)."""

from __future__ import annotations

import math

import numpy as np

from pipeline.codegen.lowering import ConstArray, Layer, LoweringContext, TensorList, lowering, shape_text
from pipeline.codegen.ops.common import c_array
from pipeline.codegen.params import CONSTANTS

MAX_INPUTS = CONSTANTS["TC_CONCAT_MAX_INPUTS"].value
MAX_RANK = 4  # TFLM refuses more


@lowering("CONCATENATION")
def concatenation(ctx: LoweringContext) -> Layer:
    out = ctx.output()
    n = len(ctx.op.inputs)
    if n > MAX_INPUTS:
        raise ctx.refuse(f"{n} inputs; TFLM supports up to {MAX_INPUTS}")
    if ctx.op.options["fused_activation_function"] != "NONE":
        raise ctx.refuse(f"fused activation {ctx.op.options['fused_activation_function']}; TFLM requires NONE")
    rank = len(out.shape)
    if rank > MAX_RANK:
        raise ctx.refuse(f"{rank}-dimensional tensors; TFLM supports up to {MAX_RANK}")
    axis = int(ctx.op.options["axis"])
    axis = axis + rank if axis < 0 else axis
    for i in range(n):
        t = ctx.input(i)
        if t.zero_point != out.zero_point or np.float32(t.scale) != np.float32(out.scale):
            raise ctx.refuse(
                f"input {i} (tensor {t.index}) has scale {t.scale!r} and zero point {t.zero_point}, the output "
                f"{out.scale!r} and {out.zero_point}. TFLM's int8 CONCATENATION copies bytes without "
                "requantizing, so matching it would give numerically wrong results: re-quantize the model "
                "so that all inputs share the output's quantization")
    consts: list[ConstArray] = []
    items = tuple(ctx.operand(i, consts) for i in range(n))
    copy = [math.prod(ctx.input(i).shape[axis:]) for i in range(n)]
    params = {"inputs_count": n, "outer_size": math.prod(out.shape[:axis]),
              "copy_size": c_array(copy + [0] * (MAX_INPUTS - n))}
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_concatenation_s8",
                 params_type="tc_concat_params_t", params=params, args=[TensorList(items), ctx.ref(out)],
                 consts=consts,
                 summary=" + ".join(shape_text(ctx.input(i).shape) for i in range(n))
                 + f" -> {shape_text(out.shape)}, axis {axis}")
