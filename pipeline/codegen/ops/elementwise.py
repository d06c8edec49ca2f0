"""ADD and MUL, int8, with broadcasting (TFLM add_common.cc, mul_common.cc)."""

from __future__ import annotations

import math

import numpy as np

from pipeline.codegen.lowering import ConstArray, Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.ops.common import act_range, c_array, pad_left
from pipeline.codegen.quant import quantize_multiplier

MAX_DIMS = 6  # TC_MAX_DIMS


def _broadcast(ctx: LoweringContext, max_rank: int) -> str:
    """The tc_broadcast_t initializer: output dims and each input's strides, 0 where it is broadcast."""
    a, b, out = ctx.input(0).shape, ctx.input(1).shape, ctx.output().shape
    if a != b and max(len(a), len(b), len(out)) > max_rank:
        raise ctx.refuse(f"broadcasting {list(a)} with {list(b)} has more than {max_rank} dimensions, "
                         f"which TFLM's {ctx.op.opcode} does not support")
    if max(len(a), len(b), len(out)) > MAX_DIMS:
        raise ctx.refuse(f"shapes of more than {MAX_DIMS} dimensions are not supported")
    out6, a6, b6 = pad_left(out, MAX_DIMS), pad_left(a, MAX_DIMS), pad_left(b, MAX_DIMS)

    def strides(shape: tuple[int, ...]) -> list[int]:
        result = []
        for d in range(MAX_DIMS):
            if shape[d] not in (1, out6[d]):
                raise ctx.refuse(f"input shape {list(shape)} does not broadcast to the output {list(out)}")
            result.append(math.prod(shape[d + 1 :]) if shape[d] == out6[d] else 0)
        return result

    return (f"{{{c_array(out6)}, {c_array(strides(a6))}, {c_array(strides(b6))}}}")


def _summary(ctx: LoweringContext) -> str:
    return (f"{shape_text(ctx.input(0).shape)} {'+' if ctx.op.opcode == 'ADD' else '*'} "
            f"{shape_text(ctx.input(1).shape)} -> {shape_text(ctx.output().shape)}, "
            f"{ctx.op.options['fused_activation_function']}")


@lowering("ADD")
def add(ctx: LoweringContext) -> Layer:
    in1, in2, out = ctx.input(0), ctx.input(1), ctx.output()
    left_shift = 20
    twice_max_input_scale = 2 * float(max(np.float32(in1.scale), np.float32(in2.scale)))
    m1, s1 = quantize_multiplier(float(in1.scale) / twice_max_input_scale)
    m2, s2 = quantize_multiplier(float(in2.scale) / twice_max_input_scale)
    mo, so = quantize_multiplier(twice_max_input_scale / ((1 << left_shift) * float(out.scale)))
    consts: list[ConstArray] = []
    args = [ctx.operand(0, consts), ctx.operand(1, consts), ctx.ref(out)]
    params = {
        "shape": _broadcast(ctx, MAX_DIMS),
        "input1_offset": -in1.zero_point, "input2_offset": -in2.zero_point,
        "output_offset": out.zero_point, "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": s1, "input2_multiplier": m2, "input2_shift": s2,
        "output_multiplier": mo, "output_shift": so, "act": act_range(ctx, out),
    }
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_add_s8", params_type="tc_add_params_t",
                 params=params, args=args, consts=consts, summary=_summary(ctx))


@lowering("MUL")
def mul(ctx: LoweringContext) -> Layer:
    in1, in2, out = ctx.input(0), ctx.input(1), ctx.output()
    mo, so = quantize_multiplier(float(in1.scale) * float(in2.scale) / float(out.scale))
    consts: list[ConstArray] = []
    args = [ctx.operand(0, consts), ctx.operand(1, consts), ctx.ref(out)]
    params = {
        "shape": _broadcast(ctx, 4),
        "input1_offset": -in1.zero_point, "input2_offset": -in2.zero_point,
        "output_offset": out.zero_point, "output_multiplier": mo, "output_shift": so,
        "act": act_range(ctx, out),
    }
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_mul_s8", params_type="tc_mul_params_t",
                 params=params, args=args, consts=consts, macs=out.size, summary=_summary(ctx))
