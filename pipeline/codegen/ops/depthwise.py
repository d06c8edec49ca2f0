"""DEPTHWISE_CONV_2D.

The portable call is the shared convolution layer (ops/conv.py). With a depth multiplier of 1
the Cortex-M4 DSP build gets its own variant, ``tc_depthwise_conv2d_s8_planes``
(firmware/kernels/arm/): the filter channel-major as int16 (for its 3x3 pass as the pass's pairs,
``pass_filter``; otherwise [c][ky][kx]), the input offset folded into the bias, filter and bias doubled (its requantization takes 2 * acc), and a scratch
buffer holding one int16 channel plane padded with the input zero point and the channel's
accumulators.
"""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext, ScratchRef, lowering
from pipeline.codegen.ops.conv import _conv_layer


def _even(n: int) -> int:
    return n + (n & 1)


def plane_bytes(out_hw: tuple[int, int], filter_hw: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int]) -> int:
    """Scratch of the DSP kernel (tc_depthwise_conv2d_s8_planes.c): the int16 plane of every input
    row and column a tap reaches, a row's length rounded up to even, in either orientation, one
    int16 pair of slack, then the channel's int32 accumulators plus one of slack (the dropped store
    of an odd last line)."""
    h = (out_hw[0] - 1) * stride[0] + (filter_hw[0] - 1) * dilation[0] + 1
    w = (out_hw[1] - 1) * stride[1] + (filter_hw[1] - 1) * dilation[1] + 1
    return (max(h * _even(w), w * _even(h)) + 2) * 2 + (out_hw[0] * out_hw[1] + 1) * 4


def pass_filter(weights: np.ndarray, transpose: bool) -> np.ndarray:
    """A 3x3 filter ([c][ky * 3 + kx]) as the kernel's 3x3 pass holds it: per channel the int16 pairs
    (w0, w1) of the pass's three filter rows, then their (w1, w2), a row running along the pass: along
    x, or along y when the pass runs on the transposed plane."""
    taps = weights.reshape(-1, 3, 3)
    rows = taps.transpose(0, 2, 1) if transpose else taps  # [c][row][along]
    return np.concatenate([rows[:, :, 0:2], rows[:, :, 1:3]], axis=1).reshape(len(weights), 12)


def _pass_orientation(out_hw: tuple[int, int], filter_hw: tuple[int, int], stride: tuple[int, int],
                      dilation: tuple[int, int]) -> bool | None:
    """None when the kernel takes its tap loop, else whether its 3x3 pass runs transposed (along the
    longer output dimension): the kernel's own test (tc_depthwise_conv2d_s8_planes)."""
    if filter_hw != (3, 3) or dilation != (1, 1) or stride[0] != stride[1] or stride[0] not in (1, 2):
        return None
    return out_hw[0] > out_hw[1]


def _dsp_variant(ctx: LoweringContext, layer: Layer) -> Layer | None:
    inp, flt, out = ctx.input(0), ctx.input(1), ctx.output()
    if inp.shape[3] != out.shape[3]:
        return None  # depth multiplier > 1: the portable kernel
    if len(flt.shape) != 4 or flt.shape[0] != 1 or flt.shape[3] != out.shape[3]:
        return None  # a filter the portable call takes as it is
    o = ctx.op.options
    channels = out.shape[3]
    taps = flt.shape[1] * flt.shape[2]
    weights = flt.array().reshape(taps, channels).T.astype(np.int64)  # [c][ky*kw + kx]
    bias = ctx.input(2).array().astype(np.int64) if ctx.has_input(2) else np.zeros(channels, dtype=np.int64)
    if bias.shape != (channels,):
        return None
    # The kernel sums w * x over the plane (raw input, padding = zero point) from the bias plus
    # input offset * sum(w), and accumulates 2 * acc (doubled filter and bias) for tc_requantize_x2:
    # every partial sum must stay below 2^30 in magnitude.
    if int(np.abs(bias).max(initial=0)) + taps * 256 * int(np.abs(weights).max(initial=0)) >= 1 << 30:
        return None
    folded = bias - inp.zero_point * weights.sum(axis=1)
    out_hw, filter_hw = (out.shape[1], out.shape[2]), (flt.shape[1], flt.shape[2])
    stride = (int(o["stride_h"]), int(o["stride_w"]))
    dilation = (int(o["dilation_h_factor"]), int(o["dilation_w_factor"]))
    transpose = _pass_orientation(out_hw, filter_hw, stride, dilation)
    laid_out = weights if transpose is None else pass_filter(weights, transpose)
    filter16 = ctx.const("filter_x2", 2 * laid_out, "int16_t")
    bias2 = ctx.const("bias_x2", 2 * folded, "int32_t")
    replaced = (f"{ctx.prefix}_filter", f"{ctx.prefix}_bias")
    consts = [filter16, bias2, *(c for c in layer.consts if c.name not in replaced)]
    scratch = plane_bytes(out_hw, filter_hw, stride, dilation)
    args = [layer.args[0], filter16.name, bias2.name, ScratchRef(layer.index), layer.args[3]]
    return layer.variant(kernel="tc_depthwise_conv2d_s8_planes", args=args, consts=consts,
                         scratch_bytes=scratch)


@lowering("DEPTHWISE_CONV_2D")
def depthwise_conv2d(ctx: LoweringContext) -> Layer:
    layer = _conv_layer(ctx, "tc_depthwise_conv2d_s8", out_channels_axis=3)
    layer.add_variant("dsp", _dsp_variant(ctx, layer))
    return layer
