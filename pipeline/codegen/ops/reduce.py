"""MEAN, int8 (TFLM reduce_common.cc, QuantizedMeanOrSum: the TFLM build we match uses it even for
equal input and output quantization, checked by the op tests)."""

from __future__ import annotations

import math

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.ops.common import c_array, pad_left
from pipeline.codegen.params import CONSTANTS
from pipeline.codegen.quant import quantize_multiplier

MEAN_DIMS = CONSTANTS["TC_MEAN_DIMS"].value
MAX_REDUCED_AXES = 2  # TFLM's kMaxNumberOfReducedAxis


@lowering("MEAN")
def mean(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    if not ctx.input(1).is_constant:
        raise ctx.refuse("the axis operand is not a constant")
    rank = len(inp.shape)
    if rank > MEAN_DIMS:
        raise ctx.refuse(f"the input has {rank} dimensions; TFLM's MEAN supports up to {MEAN_DIMS}")
    axes: list[int] = []
    for a in ctx.input(1).array().reshape(-1).tolist():
        axis = int(a) + rank if int(a) < 0 else int(a)
        if not 0 <= axis < rank:
            raise ctx.refuse(f"axis {a} is out of range for a rank-{rank} input")
        if axis not in axes:
            axes.append(axis)
    if len(axes) > MAX_REDUCED_AXES:
        raise ctx.refuse(f"it reduces {len(axes)} axes {axes}; TFLM's MEAN reduces at most "
                         f"{MAX_REDUCED_AXES}")
    count = math.prod(inp.shape[a] for a in axes)
    mult, shift = quantize_multiplier(float(inp.scale) / float(out.scale))
    # QuantizedMeanOrSum folds 1/count into the multiplier.
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    mult, shift = int((mult << extra) // count), shift - extra
    offset = MEAN_DIMS - rank
    params = {
        "dims": c_array(pad_left(inp.shape, MEAN_DIMS)),
        "reduce": c_array([int(d - offset in axes) if d >= offset else 0 for d in range(MEAN_DIMS)]),
        "count": count,
        "input_zero_point": inp.zero_point, "output_zero_point": out.zero_point,
        "multiplier": mult, "shift": shift,
    }
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_mean_s8", params_type="tc_mean_params_t",
                 params=params, args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, axes {axes}, "
                         f"keep_dims {ctx.op.options['keep_dims']}")
