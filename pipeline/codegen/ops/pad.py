"""PAD and PADV2, int8 (TFLM pad.cc: a copy with a constant border)."""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.ops.common import c_array, pad_left
from pipeline.codegen.params import CONSTANTS

PAD_DIMS = CONSTANTS["TC_PAD_DIMS"].value


@lowering("PAD", "PADV2")
def pad(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    if not ctx.input(1).is_constant:
        raise ctx.refuse("the paddings operand is not a constant")
    rank = len(inp.shape)
    if rank > PAD_DIMS:
        raise ctx.refuse(f"the input has {rank} dimensions; TFLM's PAD supports up to {PAD_DIMS}")
    paddings = ctx.input(1).array().reshape(rank, 2).astype(np.int64)
    if (paddings < 0).any():
        raise ctx.refuse(f"negative paddings {paddings.tolist()} are not supported")
    pad_value = out.zero_point
    if ctx.op.opcode == "PADV2" and ctx.has_input(2):
        value = ctx.input(2)
        if not value.is_constant or value.size != 1:
            raise ctx.refuse("constant_values is not a constant scalar")
        if value.zero_point != out.zero_point or np.float32(value.scale) != np.float32(out.scale):
            raise ctx.refuse("constant_values is not quantized like the output, which TFLM requires")
        pad_value = int(value.array().reshape(-1)[0])
    before = [0] * (PAD_DIMS - rank) + [int(p) for p in paddings[:, 0]]
    params = {"input": c_array(pad_left(inp.shape, PAD_DIMS)), "output": c_array(pad_left(out.shape, PAD_DIMS)),
              "before": c_array(before), "pad_value": pad_value}
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_pad_s8", params_type="tc_pad_params_t",
                 params=params, args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, paddings {paddings.tolist()}")
