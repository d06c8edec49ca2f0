"""FULLY_CONNECTED."""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext, ScratchRef, lowering, shape_text
from pipeline.codegen.ops.common import act_range
from pipeline.codegen.ops.conv import packed_fits, wide_gemv
from pipeline.codegen.quant import conv_multipliers


@lowering("FULLY_CONNECTED")
def fully_connected(ctx: LoweringContext) -> Layer:
    inp, flt, out = ctx.input(0), ctx.input(1), ctx.output()
    assert flt.quantization is not None
    output_depth, input_depth = flt.shape
    per_channel = flt.quantization.per_channel
    mult, shift = conv_multipliers(inp.scale, flt.quantization.scale, out.scale,
                                   output_depth if per_channel else 1)
    consts = [ctx.const("filter", flt.array(), "int8_t"),
              ctx.const("multiplier", mult, "int32_t"), ctx.const("shift", shift, "int32_t")]
    bias = "NULL"
    if ctx.has_input(2):
        consts.append(ctx.bias(output_depth))
        bias = consts[-1].name
    batches = inp.size // input_depth
    params = {
        "batches": batches, "input_depth": input_depth, "output_depth": output_depth,
        "input_offset": -inp.zero_point, "filter_offset": -flt.zero_point,
        "output_offset": out.zero_point, "act": act_range(ctx, out),
        "multiplier": consts[1].name, "shift": consts[2].name, "per_channel": int(per_channel),
    }
    layer = Layer(
        index=ctx.op.index, op=ctx.op.opcode, kernel="tc_fully_connected_s8",
        params_type="tc_fc_params_t", params=params,
        args=[ctx.ref(inp), consts[0].name, bias, ctx.ref(out)], consts=consts,
        macs=batches * input_depth * output_depth,
        summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, "
                f"{ctx.op.options['fused_activation_function']}",
    )
    wide = _fc_wide(ctx, layer, mult if per_channel else mult * output_depth,
                    shift if per_channel else shift * output_depth)
    layer.add_variant("dsp", wide or layer.variant(kernel="tc_fully_connected_s8_dsp"))
    return layer


def _fc_wide(ctx: LoweringContext, layer: Layer, mult: list[int], shift: list[int]) -> Layer | None:
    """The DSP build's FULLY_CONNECTED: tc_fully_connected_s8_packed where packed_fits (two channels'
    int8 weights per int16: every weight is read once per row, from flash, so half the bytes of the
    int16 form), else tc_fully_connected_s8_wide, filter + filter offset as int16 (|filter + offset|
    <= 255); None (the portable call) when a multiplier is zero."""
    flt = ctx.input(1)
    p = layer.params
    weights = flt.array().astype(np.int64).reshape(flt.shape[0], -1) + p["filter_offset"]
    bias = ctx.input(2).array() if ctx.has_input(2) else None
    packed = packed_fits(weights, bias, p["input_offset"])
    wide = wide_gemv(ctx, weights, bias, mult, shift, p["output_offset"], p["act"], packed)
    if wide is None:
        return None
    gemv, consts, row = wide
    params = {"batches": p["batches"], "input_depth": p["input_depth"], "input_offset": p["input_offset"],
              "gemv": gemv}
    return layer.variant(kernel="tc_fully_connected_s8_packed" if packed else "tc_fully_connected_s8_wide",
                         params_type="tc_fc_wide_params_t", params=params,
                         args=[layer.args[0], consts[0].name, ScratchRef(layer.index), layer.args[3]],
                         consts=consts, scratch_bytes=row * 2,
                         streamed=tuple(c.name for c in consts) if p["batches"] == 1 else ())
