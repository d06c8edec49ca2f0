"""AVERAGE_POOL_2D and MAX_POOL_2D."""

from __future__ import annotations

from pipeline.codegen.lowering import Layer, LoweringContext, dims, lowering, shape_text
from pipeline.codegen.ops.common import act_range, padding


def _pool(ctx: LoweringContext, kernel: str) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    o = ctx.op.options
    fh, fw = int(o["filter_height"]), int(o["filter_width"])
    pad_h, pad_w = padding(ctx, inp.shape, (fh, fw), out.shape)
    params = {
        "input": dims(inp.shape), "output": dims(out.shape), "filter_h": fh, "filter_w": fw,
        "stride_h": o["stride_h"], "stride_w": o["stride_w"], "pad_h": pad_h, "pad_w": pad_w,
        "act": act_range(ctx, out),
    }
    return Layer(
        index=ctx.op.index, op=ctx.op.opcode, kernel=kernel, params_type="tc_pool_params_t",
        params=params, args=[ctx.ref(inp), ctx.ref(out)],
        summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, {fh}x{fw}, {o['padding']}",
    )


# tc_avg_pool_s8_simd sums four channels at once in int16 lanes: exact for windows of up to
# 32767 // 128 = 255 values.
SIMD_MAX_WINDOW = 255


@lowering("AVERAGE_POOL_2D")
def average_pool(ctx: LoweringContext) -> Layer:
    layer = _pool(ctx, "tc_avg_pool_s8")
    o = ctx.op.options
    if int(o["filter_height"]) * int(o["filter_width"]) <= SIMD_MAX_WINDOW:
        layer.add_variant("dsp", layer.variant(kernel="tc_avg_pool_s8_simd"))
    return layer


@lowering("MAX_POOL_2D")
def max_pool(ctx: LoweringContext) -> Layer:
    return _pool(ctx, "tc_max_pool_s8")
