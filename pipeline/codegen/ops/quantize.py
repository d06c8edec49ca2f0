"""QUANTIZE (int8 -> int8, or float32 -> int8 as the first op) and DEQUANTIZE (int8 -> float32 as the last op)."""

from __future__ import annotations

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.quant import INT8_MAX, INT8_MIN, quantize_multiplier


def _affine(ctx: LoweringContext, kernel: str, zero_point: int, scale: float) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel=kernel, params_type="tc_affine_params_t",
                 params={"size": out.size, "zero_point": zero_point, "scale": scale},
                 args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} {inp.dtype} -> {shape_text(out.shape)} {out.dtype}")


@lowering("QUANTIZE")
def quantize(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    if out.quantization is None or out.quantization.per_channel:
        raise ctx.refuse("the output must be quantized per tensor (TFLM supports nothing else)")
    if inp.dtype == "float32":
        return _affine(ctx, "tc_quantize_f32_s8", out.zero_point, float(out.scale))
    mult, shift = quantize_multiplier(float(inp.scale) / float(out.scale))
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_requantize_s8",
                 params_type="tc_unary_params_t",
                 params={"size": out.size, "input_zero_point": inp.zero_point,
                         "output_zero_point": out.zero_point, "multiplier": mult, "shift": shift,
                         "alpha_multiplier": 0, "alpha_shift": 0, "act": {"min": INT8_MIN, "max": INT8_MAX}},
                 args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, requantize")


@lowering("DEQUANTIZE")
def dequantize(ctx: LoweringContext) -> Layer:
    inp = ctx.input(0)
    if inp.quantization is None or inp.quantization.per_channel:
        raise ctx.refuse("the input must be quantized per tensor")
    return _affine(ctx, "tc_dequantize_s8_f32", inp.zero_point, float(inp.scale))
