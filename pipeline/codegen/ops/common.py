"""Helpers shared by the lowerings."""

from __future__ import annotations

from pipeline.codegen.lowering import LoweringContext
from pipeline.codegen.quant import activation_range
from pipeline.tflite.reader import Tensor


def act_range(ctx: LoweringContext, output: Tensor) -> dict[str, int]:
    """The tc_range_t of the op's fused activation."""
    activation = str(ctx.op.options.get("fused_activation_function", "NONE"))
    try:
        lo, hi = activation_range(activation, output.scale, output.zero_point)
    except ValueError as err:
        raise ctx.refuse(f"fused activation {activation} is not supported for int8 "
                         "(supported: NONE, RELU, RELU6, RELU_N1_TO_1)") from err
    return {"min": lo, "max": hi}


def c_array(values: list[int] | tuple[int, ...]) -> list[int]:
    """An int array field's values."""
    return [int(v) for v in values]


def pad_left(shape: tuple[int, ...], rank: int) -> tuple[int, ...]:
    return (1,) * (rank - len(shape)) + tuple(shape)


def same_padding(in_size: int, filter_size: int, stride: int, dilation: int, out_size: int) -> int:
    """ComputePadding: the padding before the first element (SAME); 0 for VALID."""
    effective = (filter_size - 1) * dilation + 1
    return max(((out_size - 1) * stride + effective - in_size) // 2, 0)


def padding(ctx: LoweringContext, in_shape: tuple[int, ...], filter_hw: tuple[int, int],
            out_shape: tuple[int, ...], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    if ctx.op.options.get("padding") != "SAME":
        return 0, 0
    o = ctx.op.options
    return (same_padding(in_shape[1], filter_hw[0], int(o["stride_h"]), dilation[0], out_shape[1]),
            same_padding(in_shape[2], filter_hw[1], int(o["stride_w"]), dilation[1], out_shape[2]))
