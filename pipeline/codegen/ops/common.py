"""Helpers shared by the lowerings."""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext
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


def requant_per_channel(layer: Layer) -> tuple[list[int], list[int]]:
    """The layer's requantization multipliers and shifts, as the portable lowering computed them."""
    mult = [int(v) for v in next(c for c in layer.consts if c.name.endswith("_multiplier")).values]
    shift = [int(v) for v in next(c for c in layer.consts if c.name.endswith("_shift")).values]
    return mult, shift


def x2_constants(mult: list[int], shift: list[int], output_offset: int) -> np.ndarray:
    """Per channel the x2 epilogue's (multiplier, right shift, round_zp) (tc_requant_x2_t): round_zp
    is 2^(e-1) + zero point * 2^e for the right shift e = -shift (every shift in -22..-1)."""
    right = -np.array(shift, dtype=np.int64)
    round_zp = (1 << (right - 1)) + output_offset * (1 << right)
    return np.stack([np.array(mult, dtype=np.int64), right, round_zp], axis=1)
