"""Activation ops, int8: RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, SOFTMAX.

Each computes its constants as TFLM's Prepare does (activations_common.cc,
leaky_relu_common.cc, logistic_common.cc, tanh.cc, hard_swish_common.cc,
softmax_common.cc), in double or float32 exactly where TFLM does.
"""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext, lowering, shape_text
from pipeline.codegen.quant import (
    INT8_MAX,
    INT8_MIN,
    calculate_input_radius,
    downscale_int32_to_int16_multiplier,
    f32,
    float_to_quantized_int8,
    preprocess_softmax_scaling,
    quantize_multiplier,
    quantize_multiplier_frexp,
)


def _unary(ctx: LoweringContext, kernel: str, params_type: str, params: dict[str, object],
           detail: str = "") -> Layer:
    inp, out = ctx.input(0), ctx.output()
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel=kernel, params_type=params_type,
                 params={"size": out.size, **params}, args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}{detail}")


def _requant_params(inp_zp: int, out_zp: int, mult: int, shift: int, lo: int = INT8_MIN, hi: int = INT8_MAX,
                    alpha: tuple[int, int] = (0, 0)) -> dict[str, object]:
    return {"input_zero_point": inp_zp, "output_zero_point": out_zp, "multiplier": mult, "shift": shift,
            "alpha_multiplier": alpha[0], "alpha_shift": alpha[1], "act": {"min": lo, "max": hi}}


@lowering("RELU")
def relu(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    mult, shift = quantize_multiplier(float(inp.scale) / float(out.scale))
    lo = max(INT8_MIN, out.zero_point)  # zero_point + roundf(0 / scale)
    return _unary(ctx, "tc_relu_s8", "tc_unary_params_t",
                  _requant_params(inp.zero_point, out.zero_point, mult, shift, lo, INT8_MAX))


@lowering("RELU6")
def relu6(ctx: LoweringContext) -> Layer:
    inp = ctx.input(0)
    six = float_to_quantized_int8(6.0, inp.scale, inp.zero_point)
    return _unary(ctx, "tc_relu6_s8", "tc_unary_params_t",
                  _requant_params(inp.zero_point, inp.zero_point, 0, 0, inp.zero_point, six))


@lowering("LEAKY_RELU")
def leaky_relu(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    alpha = float(f32(float(ctx.op.options["alpha"])))
    # In double, as the TFLM build we match does (checked against it: float32 products differ).
    alpha_mult = quantize_multiplier(float(inp.scale) * alpha / float(out.scale))
    identity = quantize_multiplier(float(inp.scale) / float(out.scale))
    return _unary(ctx, "tc_leaky_relu_s8", "tc_unary_params_t",
                  _requant_params(inp.zero_point, out.zero_point, *identity, alpha=alpha_mult),
                  f", alpha {alpha:g}")


def _sigmoid_params(ctx: LoweringContext) -> dict[str, object]:
    inp = ctx.input(0)
    mult, shift = quantize_multiplier_frexp(float(inp.scale) * float(1 << (31 - 4)))
    return {"input_zero_point": inp.zero_point, "input_range_radius": calculate_input_radius(4, shift, 31),
            "input_multiplier": mult, "input_left_shift": shift}


@lowering("LOGISTIC")
def logistic(ctx: LoweringContext) -> Layer:
    out = ctx.output()
    if out.zero_point != INT8_MIN:
        raise ctx.refuse(f"the int8 output zero point is {out.zero_point}; TFLM requires -128")
    return _unary(ctx, "tc_logistic_s8", "tc_sigmoid_params_t", _sigmoid_params(ctx))


@lowering("TANH")
def tanh(ctx: LoweringContext) -> Layer:
    return _unary(ctx, "tc_tanh_s8", "tc_sigmoid_params_t", _sigmoid_params(ctx))


@lowering("HARD_SWISH")
def hard_swish(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    hires_input_scale = f32(1.0 / 128.0) * f32(inp.scale)
    reluish_scale = f32(3.0) / f32(32768.0)
    out_mult32, out_exp = quantize_multiplier(float(hires_input_scale / f32(out.scale)))
    if out_exp > 0:
        raise ctx.refuse(f"the output multiplier exponent is {out_exp}; TFLM requires <= 0 "
                         "(output scale much smaller than the input scale)")
    relu_mult32, relu_exp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    return _unary(ctx, "tc_hard_swish_s8", "tc_hard_swish_params_t", {
        "input_zero_point": inp.zero_point, "output_zero_point": out.zero_point,
        "output_multiplier": downscale_int32_to_int16_multiplier(out_mult32), "output_exponent": out_exp,
        "reluish_multiplier": downscale_int32_to_int16_multiplier(relu_mult32), "reluish_exponent": relu_exp,
    })


@lowering("SOFTMAX")
def softmax(ctx: LoweringContext) -> Layer:
    inp, out = ctx.input(0), ctx.output()
    if out.zero_point != INT8_MIN or np.float32(out.scale) != np.float32(1.0) / np.float32(256.0):
        raise ctx.refuse(f"the int8 output has scale {out.scale!r} and zero point {out.zero_point}; "
                         "TFLM requires 1/256 and -128")
    beta = float(np.float32(ctx.op.options["beta"]))
    mult, left_shift = preprocess_softmax_scaling(beta, inp.scale, 5)
    if left_shift < 0:
        raise ctx.refuse(f"beta * input scale is too small (left shift {left_shift})")
    depth = inp.shape[-1]
    diff_min = -calculate_input_radius(5, left_shift, 31)
    return Layer(index=ctx.op.index, op=ctx.op.opcode, kernel="tc_softmax_s8",
                 params_type="tc_softmax_params_t",
                 params={"outer_size": inp.size // depth, "depth": depth, "input_multiplier": mult,
                         "input_left_shift": left_shift, "diff_min": diff_min},
                 args=[ctx.ref(inp), ctx.ref(out)],
                 summary=f"{shape_text(inp.shape)} -> {shape_text(out.shape)}, beta {beta:g}")
