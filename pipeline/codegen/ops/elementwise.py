"""ADD and MUL, int8, with broadcasting (TFLM add_common.cc, mul_common.cc)."""

from __future__ import annotations

import math

import numpy as np

from pipeline.codegen.lowering import ConstArray, Layer, LayerArg, LoweringContext, lowering, shape_text
from pipeline.codegen.ops.common import act_range, c_array, pad_left
from pipeline.codegen.params import CONSTANTS
from pipeline.codegen.quant import quantize_multiplier

MAX_DIMS = CONSTANTS["TC_MAX_DIMS"].value


def _broadcast(ctx: LoweringContext, max_rank: int) -> dict[str, list[int]]:
    """The tc_broadcast_t: output dims and each input's strides, 0 where it is broadcast."""
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

    return {"dims": c_array(out6), "in1_strides": strides(a6), "in2_strides": strides(b6)}


def _summary(ctx: LoweringContext) -> str:
    return (f"{shape_text(ctx.input(0).shape)} {'+' if ctx.op.opcode == 'ADD' else '*'} "
            f"{shape_text(ctx.input(1).shape)} -> {shape_text(ctx.output().shape)}, "
            f"{ctx.op.options['fused_activation_function']}")


def _requantize(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """tc_requantize (firmware/kernels/include/tc_requant.h) on int64 arrays, exactly.

    The multiplier is below 2^31, so the saturating INT32_MIN * INT32_MIN case cannot occur.
    """
    left, right = max(shift, 0), max(-shift, 0)
    x = ((x.astype(np.int64) << left) + (1 << 31)) % (1 << 32) - (1 << 31)  # wraps like the int32 shift
    n = x * multiplier + np.where(x * multiplier >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(n >= 0, n >> 31, -((-n) >> 31))  # division truncating toward zero
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (high < 0)
    return (high >> right) + ((high & mask) > threshold)


def _add_dsp(ctx: LoweringContext, layer: Layer, m1: int, s1: int, m2: int, s2: int) -> Layer | None:
    """The DSP build's ADD of two same-shape inputs: each input's rescaling, which depends on one
    int8 only, as a 256-entry table (indexed by the unsigned byte) computed here, exactly, and
    doubled for tc_requantize_x2 (firmware/kernels/arm/tc_requant_dsp.h): None unless the doubled
    sum fits an int32."""
    in1, in2, out = ctx.input(0), ctx.input(1), ctx.output()
    if not (in1.shape == in2.shape == out.shape):
        return None
    u = np.arange(256, dtype=np.int64)
    values = np.where(u < 128, u, u - 256)  # the int8 whose byte is u
    scaled = [_requantize((values - zp) << 20, m, s) for zp, m, s in ((in1.zero_point, m1, s1),
                                                                       (in2.zero_point, m2, s2))]
    if int(np.abs(scaled[0]).max() + np.abs(scaled[1]).max()) >= 1 << 30:
        return None
    tables = [ctx.const(f"table{i}", 2 * t, "int32_t") for i, t in enumerate(scaled, start=1)]
    p = layer.params
    params = {"size": out.size, "table1": tables[0].name, "table2": tables[1].name,
              "output_multiplier": p["output_multiplier"], "output_shift": p["output_shift"],
              "output_offset": p["output_offset"], "act": p["act"]}
    return Layer(index=layer.index, op=layer.op, kernel="tc_add_s8_tables", params_type="tc_add_tables_params_t",
                 params=params, args=list(layer.args), consts=[*layer.consts, *tables], summary=layer.summary)


@lowering("ADD")
def add(ctx: LoweringContext) -> Layer:
    in1, in2, out = ctx.input(0), ctx.input(1), ctx.output()
    left_shift = 20
    twice_max_input_scale = 2 * float(max(np.float32(in1.scale), np.float32(in2.scale)))
    m1, s1 = quantize_multiplier(float(in1.scale) / twice_max_input_scale)
    m2, s2 = quantize_multiplier(float(in2.scale) / twice_max_input_scale)
    mo, so = quantize_multiplier(twice_max_input_scale / ((1 << left_shift) * float(out.scale)))
    consts: list[ConstArray] = []
    args: list[LayerArg] = [ctx.operand(0, consts), ctx.operand(1, consts), ctx.ref(out)]
    params = {
        "shape": _broadcast(ctx, MAX_DIMS),
        "input1_offset": -in1.zero_point, "input2_offset": -in2.zero_point,
        "output_offset": out.zero_point, "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": s1, "input2_multiplier": m2, "input2_shift": s2,
        "output_multiplier": mo, "output_shift": so, "act": act_range(ctx, out),
    }
    layer = Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_add_s8", params_type="tc_add_params_t",
                  params=params, args=args, consts=consts, summary=_summary(ctx))
    layer.add_variant("dsp", _add_dsp(ctx, layer, m1, s1, m2, s2))
    return layer


@lowering("MUL")
def mul(ctx: LoweringContext) -> Layer:
    in1, in2, out = ctx.input(0), ctx.input(1), ctx.output()
    mo, so = quantize_multiplier(float(in1.scale) * float(in2.scale) / float(out.scale))
    consts: list[ConstArray] = []
    args: list[LayerArg] = [ctx.operand(0, consts), ctx.operand(1, consts), ctx.ref(out)]
    params = {
        "shape": _broadcast(ctx, 4),
        "input1_offset": -in1.zero_point, "input2_offset": -in2.zero_point,
        "output_offset": out.zero_point, "output_multiplier": mo, "output_shift": so,
        "act": act_range(ctx, out),
    }
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_mul_s8", params_type="tc_mul_params_t",
                 params=params, args=args, consts=consts, macs=out.size, summary=_summary(ctx))
