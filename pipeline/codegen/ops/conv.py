"""CONV_2D and DEPTHWISE_CONV_2D."""

from __future__ import annotations

import math

from pipeline.codegen.lowering import Layer, LoweringContext, dims, lowering, shape_text
from pipeline.codegen.ops.common import act_range, padding
from pipeline.codegen.quant import conv_multipliers


def _conv_layer(ctx: LoweringContext, kernel: str, out_channels_axis: int) -> Layer:
    inp, flt, out = ctx.input(0), ctx.input(1), ctx.output()
    o = ctx.op.options
    dilation = (int(o["dilation_h_factor"]), int(o["dilation_w_factor"]))
    pad_h, pad_w = padding(ctx, inp.shape, (flt.shape[1], flt.shape[2]), out.shape, dilation)
    channels = out.shape[3]
    assert flt.quantization is not None
    mult, shift = conv_multipliers(inp.scale, flt.quantization.scale, out.scale, channels)
    consts = [ctx.const("filter", flt.array(), "int8_t"),
              ctx.const("multiplier", mult, "int32_t"), ctx.const("shift", shift, "int32_t")]
    bias = "NULL"
    if ctx.has_input(2):
        consts.append(ctx.const("bias", ctx.input(2).array(), "int32_t"))
        bias = consts[-1].name
    depth_multiplier = int(o.get("depth_multiplier", 1)) or 1
    if kernel == "tc_depthwise_conv2d_s8":
        depth_multiplier = channels // inp.shape[3]
    params = {
        "input": dims(inp.shape), "filter": dims(flt.shape), "output": dims(out.shape),
        "stride_h": o["stride_h"], "stride_w": o["stride_w"],
        "dilation_h": dilation[0], "dilation_w": dilation[1],
        "pad_h": pad_h, "pad_w": pad_w, "depth_multiplier": depth_multiplier,
        "input_offset": -inp.zero_point, "output_offset": out.zero_point,
        "act": act_range(ctx, out), "multiplier": consts[1].name, "shift": consts[2].name,
    }
    kernel_elems = flt.shape[1] * flt.shape[2] * (flt.shape[3] if out_channels_axis == 0 else 1)
    return Layer(
        index=ctx.op.index, op=ctx.op.opcode, kernel=kernel, params_type="tc_conv_params_t",
        params=params, args=[ctx.ref(inp), consts[0].name, bias, ctx.ref(out)], consts=consts,
        macs=math.prod(out.shape) * kernel_elems,
        summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, "
                f"kernel {flt.shape[1]}x{flt.shape[2]}, stride {o['stride_h']}x{o['stride_w']}, "
                f"{o['padding']}, {o['fused_activation_function']}",
    )


@lowering("CONV_2D")
def conv2d(ctx: LoweringContext) -> Layer:
    return _conv_layer(ctx, "tc_conv2d_s8", out_channels_axis=0)


@lowering("DEPTHWISE_CONV_2D")
def depthwise_conv2d(ctx: LoweringContext) -> Layer:
    return _conv_layer(ctx, "tc_depthwise_conv2d_s8", out_channels_axis=3)
