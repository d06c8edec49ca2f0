"""RESHAPE and SQUEEZE: the output is the input's memory, reinterpreted; no code runs."""

from __future__ import annotations

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text


@lowering("RESHAPE", "SQUEEZE")
def reshape(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    return Layer(
        index=ctx.op.index, op=ctx.op.opcode, kernel="", params_type="", params={}, args=[],
        summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)} (in place)",
        alias=(out.index, inp.index),
    )
