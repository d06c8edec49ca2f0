"""DEPTHWISE_CONV_2D.

The portable call is the shared convolution layer (ops/conv.py). With a depth multiplier of 1
the Cortex-M4 DSP build gets its own variant (firmware/kernels/arm/):

- for a 3x3 filter on a small output plane (GROUPS_MAX_POSITIONS) whose depth is a multiple of 4,
  ``tc_depthwise_conv2d_s8_groups``: four channels at a time, its constants in ``group_blocks``;
- otherwise ``tc_depthwise_conv2d_s8_planes``: the filter channel-major as int16 (for its 3x3 pass
  as the pass's pairs, ``pass_filter``; otherwise [c][ky][kx]), the input offset folded into the
  bias, and a scratch buffer holding one int16 channel plane padded with the input zero point and
  the channel's accumulators.

Both take filter and bias doubled (their requantization takes 2 * acc).
"""

from __future__ import annotations

import numpy as np

from pipeline.codegen.lowering import Layer, LoweringContext, ScratchRef, lowering
from pipeline.codegen.ops.common import requant_per_channel, x2_constants
from pipeline.codegen.ops.conv import _conv_layer


def _even(n: int) -> int:
    return n + (n & 1)


PAIRS_ROW = 64  # tc_depthwise_conv2d_s8_planes.c TC_DW_ROW


def plane_bytes(out_hw: tuple[int, int], filter_hw: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int]) -> int:
    """Scratch of the DSP kernel (tc_depthwise_conv2d_s8_planes.c). Its stride-1 3x3 pass of two
    lines (plane rows up to PAIRS_ROW int16): the plane's rows, PAIRS_ROW int16 each, then PAIRS_ROW
    int32 accumulators per output line. Otherwise: the int16
    plane of every input row and column a tap reaches, a row's length rounded up to even, in either
    orientation, one int16 pair of slack, then the channel's int32 accumulators plus one of slack (the
    dropped store of an odd last line)."""
    h = (out_hw[0] - 1) * stride[0] + (filter_hw[0] - 1) * dilation[0] + 1
    w = (out_hw[1] - 1) * stride[1] + (filter_hw[1] - 1) * dilation[1] + 1
    transpose = _pass_orientation(out_hw, filter_hw, stride, dilation)
    if transpose is not None and stride == (1, 1):
        along, across, lines = (h, w, out_hw[1]) if transpose else (w, h, out_hw[0])
        if _even(along) <= PAIRS_ROW:
            return across * PAIRS_ROW * 2 + lines * PAIRS_ROW * 4
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


# Output planes of at most this many positions, by stride, take the four-channel kernel when they
# can: the plane kernel's costs per channel and per plane line outweigh its cheaper pass there, and
# at stride 2 its pass costs more and its planes copy four inputs per output (vww_mobilenet, estimated
# cycles: stride 1 6x6x128 229k -> 202k, but 12x12x64 342k -> 358k; stride 2 24x24x16 437k -> 422k).
# The bound also keeps the group's grid in scratch small (49 x 49 pixels of 8 bytes at most).
GROUPS_MAX_POSITIONS = {1: 64, 2: 576}
GROUP_WORDS = 34  # tc_depthwise_conv2d_s8_groups.c TC_DWG_WORDS


def _pack16(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """int16 pairs as int32 words, lo in the bottom halfword."""
    return ((lo & 0xFFFF) | (hi << 16)).astype(np.uint32).view(np.int32).astype(np.int64)


def group_blocks(weights: np.ndarray, bias: np.ndarray, multiplier: list[int], shift: list[int],
                 output_offset: int) -> np.ndarray:
    """tc_depthwise_conv2d_s8_groups's constants, a block of GROUP_WORDS int32 per four channels: per
    tap (ky * 3 + kx) the doubled filter of channels (0, 2) and (1, 3) as int16 pairs, the doubled
    bias, then the x2 requantization's multiplier, round_zp and right shift per channel
    (tc_requant_x2; every shift in its range)."""
    groups = len(weights) // 4
    w = 2 * weights.reshape(groups, 4, 9)
    taps = np.stack([_pack16(w[:, 0], w[:, 2]), _pack16(w[:, 1], w[:, 3])], axis=2).reshape(groups, 18)
    x2 = x2_constants(multiplier, shift, output_offset)
    quant = [x2[:, 0], x2[:, 2], x2[:, 1]]  # the block's order: multiplier, round_zp, right
    return np.concatenate([taps, (2 * bias).reshape(groups, 4), *(q.reshape(groups, 4) for q in quant)], axis=1)


def _groups_variant(ctx: LoweringContext, layer: Layer, weights: np.ndarray, bias: np.ndarray,
                    out_hw: tuple[int, int], stride: int) -> Layer | None:
    """The four-channel kernel for a small output plane, or None where it does not apply."""
    channels = len(weights)
    mult, shift = requant_per_channel(layer)
    if channels % 4 or out_hw[0] * out_hw[1] > GROUPS_MAX_POSITIONS[stride] or len(mult) != channels:
        return None
    if any(s > -1 or s < -22 for s in shift):
        return None  # outside x2's shifts (tc_requant_x2_ok)
    blocks = ctx.const("dw_groups", group_blocks(weights, bias, mult, shift, layer.params["output_offset"]),
                       "int32_t")
    replaced = (f"{ctx.prefix}_filter", f"{ctx.prefix}_bias")
    grid = ((out_hw[0] - 1) * stride + 3) * ((out_hw[1] - 1) * stride + 3)
    return layer.variant(kernel="tc_depthwise_conv2d_s8_groups",
                         args=[layer.args[0], blocks.name, ScratchRef(layer.index), layer.args[3]],
                         consts=[blocks, *(c for c in layer.consts if c.name not in replaced)],
                         scratch_bytes=8 * grid + 4 * GROUP_WORDS)


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
    if transpose is not None:
        groups = _groups_variant(ctx, layer, weights, bias, out_hw, stride[0])
        if groups is not None:
            return groups
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
