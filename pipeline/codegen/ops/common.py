"""Helpers shared by the lowerings."""

from __future__ import annotations

from pipeline.codegen.lowering import LoweringContext
from pipeline.codegen.quant import activation_range
from pipeline.tflite.reader import Tensor


def act_range(ctx: LoweringContext, output: Tensor) -> str:
    """The tc_range_t initializer of the op's fused activation."""
    lo, hi = activation_range(str(ctx.op.options.get("fused_activation_function", "NONE")),
                              output.scale, output.zero_point)
    return f"{{{lo}, {hi}}}"


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
