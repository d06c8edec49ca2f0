"""FULLY_CONNECTED."""

from __future__ import annotations

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.ops.common import act_range
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
        consts.append(ctx.const("bias", ctx.input(2).array(), "int32_t"))
        bias = consts[-1].name
    batches = inp.size // input_depth
    params = {
        "batches": batches, "input_depth": input_depth, "output_depth": output_depth,
        "input_offset": -inp.zero_point, "filter_offset": -flt.zero_point,
        "output_offset": out.zero_point, "act": act_range(ctx, out),
        "multiplier": consts[1].name, "shift": consts[2].name, "per_channel": int(per_channel),
    }
    return Layer(
        index=ctx.op.index, op=ctx.op.opcode, kernel="tc_fully_connected_s8",
        params_type="tc_fc_params_t", params=params,
        args=[ctx.ref(inp), consts[0].name, bias, ctx.ref(out)], consts=consts,
        macs=batches * input_depth * output_depth,
        summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, "
                f"{ctx.op.options['fused_activation_function']}",
    )
