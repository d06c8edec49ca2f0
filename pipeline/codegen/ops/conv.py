"""CONV_2D (and the layer helper DEPTHWISE_CONV_2D shares: ops/depthwise.py)."""

from __future__ import annotations

import math

import numpy as np

from pipeline.codegen.lowering import (
    ConstArray,
    Layer,
    LoweringContext,
    ScratchRef,
    Staging,
    dims,
    lowering,
    shape_text,
)
from pipeline.codegen.ops.common import act_range, padding, requant_per_channel, x2_constants
from pipeline.codegen.params import STRUCTS
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
        consts.append(ctx.bias(channels))
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


# The DSP build's int16 matrix-vector product (firmware/kernels/arm/tc_gemv_s16.c):
# rows padded to a multiple of WIDE_BLOCK values, output channels to a multiple of WIDE_CHANNELS.
WIDE_BLOCK = 8
WIDE_CHANNELS = 4


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def sxtb16_order(row_length: int) -> np.ndarray:
    """Index permutation putting each group of four values in SXTB16 order (0, 2, 1, 3)."""
    k = np.arange(row_length)
    return (k & ~3) | ((k & 1) << 1) | ((k >> 1) & 1)


# tc_requantize_x2 (firmware/kernels/arm/tc_requant_dsp.h) takes right shifts of 1 to 22 and a
# doubled accumulator 2 * acc with |acc| < 2^30.
X2_RIGHT_SHIFTS = range(1, 23)
X2_ACC_BOUND = 1 << 30
INT8_SPAN = 255  # the largest |int8 value + input offset|


def x2_epilogue_fits(weights: np.ndarray, bias: np.ndarray | None, shift: list[int]) -> bool:
    """Whether a product's layer takes the doubled-accumulator epilogue: every right shift in range,
    every accumulator (bias plus the row times the filter) below 2^30 in magnitude, and the doubled
    filter within int16."""
    if any(-s not in X2_RIGHT_SHIFTS for s in shift):
        return False
    bound = INT8_SPAN * np.abs(weights).sum(axis=1).max(initial=0)
    if bias is not None:
        bound += np.abs(bias.astype(np.int64)).max(initial=0)
    return int(bound) < X2_ACC_BOUND and 2 * int(np.abs(weights).max(initial=0)) <= 32767


# tc_gemv_s8p recovers each pair's even-channel sum from 256 times it in int32 (tc_gemv_s16.c); its
# loop takes 32 row values a step.
PACKED_EVEN_BOUND = 1 << 23
PACKED_BLOCK = 4 * WIDE_BLOCK


def packed_fits(weights: np.ndarray, bias: np.ndarray | None, input_offset: int) -> bool:
    """Whether tc_gemv_s8p takes a product: its row padded to PACKED_BLOCK at most a quarter longer
    than to WIDE_BLOCK (a row of 8: tc_gemv_s16's 8 values beat 32 with 24 zeros), each odd
    channel's weights int8 and 256 * even + odd within int16 (the packed filter), and each even
    channel's bias plus row times filter below 2^23 in magnitude for every int8 row (values in
    [-128, 127] + input_offset)."""
    if 4 * _round_up(weights.shape[1], PACKED_BLOCK) > 5 * _round_up(weights.shape[1], WIDE_BLOCK):
        return False
    w = np.zeros((_round_up(weights.shape[0], 2), weights.shape[1]), dtype=np.int64)
    w[:weights.shape[0]] = weights
    even, odd = w[0::2], w[1::2]
    packed = 256 * even + odd
    if odd.min(initial=0) < -128 or odd.max(initial=0) > 127 or packed.min(initial=0) < -32768 \
            or packed.max(initial=0) > 32767:
        return False
    lo, hi = -128 + input_offset, 127 + input_offset
    b = np.zeros(w.shape[0], dtype=np.int64)
    if bias is not None:
        b[:weights.shape[0]] = bias
    top = np.maximum(even * lo, even * hi).sum(axis=1) + b[0::2]
    bottom = np.minimum(even * lo, even * hi).sum(axis=1) + b[0::2]
    return int(max(top.max(initial=0), -bottom.min(initial=0))) < PACKED_EVEN_BOUND


def _to_int32(values: np.ndarray) -> np.ndarray:
    """Wrapped to int32, as the M4's accumulators wrap."""
    return (values + (1 << 31)) % (1 << 32) - (1 << 31)


def wide_gemv(ctx: LoweringContext, weights: np.ndarray, bias: np.ndarray | None, mult: list[int],
              shift: list[int], output_offset: int, act: dict[str, int], packed: bool = False
              ) -> tuple[dict[str, object], list[ConstArray], int] | None:
    """The tc_gemv_params_t, its constants and the row length of an int16 product.

    None when a multiplier is outside [2^30, 2^31) (a zero scale): both epilogues need it there.

    weights: (channels, row) values as they multiply the row (filter + filter offset). The
    filter becomes int16, each group of four in SXTB16 order, laid out per block of four
    channels, per 8 row values, per word (pair of values), per channel (the order tc_gemv_s16 and
    tc_gemv2_s16 read it in: one word of the row against the four channels); bias and the
    requantization constants are padded to the channel blocks. Where x2_epilogue_fits, filter and
    bias are doubled and the epilogue is tc_requantize_x2's (x2: tc_gemv_x2_block_t per block of
    four channels); otherwise tc_requant_ch's split form (bias, quant).

    packed (where packed_fits): tc_gemv_s8p's filter instead, 256 * even + odd channel per int16,
    per block of four channels, per 8 row values, per pair; the row padded to PACKED_BLOCK values
    (its loop's step); the accumulators start at (256 * even bias + odd bias, odd bias) per pair, not
    doubled (tc_gemv_s8p's decode doubles the sums for x2). With x2, each block's starting
    accumulators, filter and tc_requant_x2_t follow each other in one stream (x2 points at it too),
    so that the block loop walks one pointer.
    """
    if any(not (1 << 30) <= m < (1 << 31) for m in mult) or np.abs(weights).max(initial=0) > 32767:
        return None
    x2 = x2_epilogue_fits(weights, bias, shift)
    scale = 2 if x2 and not packed else 1
    channels, row = weights.shape
    padded_row = _round_up(row, PACKED_BLOCK if packed else WIDE_BLOCK)
    padded_channels = _round_up(channels, WIDE_CHANNELS)
    w = np.zeros((padded_channels, padded_row), dtype=np.int64)
    w[:channels, :row] = scale * weights
    slots = sxtb16_order(padded_row)
    permuted = np.empty_like(w)
    permuted[:, slots] = w  # value k goes to slot(k)
    b = np.zeros(padded_channels, dtype=np.int64)
    if bias is not None:
        b[:channels] = scale * bias.astype(np.int64)
    channel_blocks = padded_channels // WIDE_CHANNELS
    if packed:
        pairs = 256 * permuted[0::2] + permuted[1::2]
        layout = pairs.reshape(channel_blocks, 2, padded_row // WIDE_BLOCK, WIDE_BLOCK).transpose(0, 2, 1, 3)
        b = _to_int32(np.stack([256 * b[0::2] + b[1::2], b[1::2]], axis=1).reshape(-1))
    else:
        layout = permuted.reshape(channel_blocks, WIDE_CHANNELS, padded_row // WIDE_BLOCK,
                                  WIDE_BLOCK // 2, 2).transpose(0, 2, 3, 1, 4)
    if x2:
        # tc_gemv_x2_block_t: per block of four channels, their four biases, then per channel
        # tc_requant_x2_t (multiplier, right shift, rounding constant with the zero point).
        quant = np.zeros((padded_channels, len(STRUCTS["tc_requant_x2_t"].fields)), dtype=np.int64)
        quant[:len(mult)] = x2_constants(mult, shift, output_offset)
        bias_words, quant_words = b.reshape(-1, WIDE_CHANNELS), quant.reshape(-1, 3 * WIDE_CHANNELS)
        if packed:
            # One stream, read front to back: per block its four starting accumulators, its filter,
            # its four tc_requant_x2_t (the int32 words as int16 halves, little-endian).
            def halves(words: np.ndarray) -> np.ndarray:
                return words.astype(np.int32).view(np.int16).astype(np.int64)
            stream = np.concatenate([halves(bias_words), layout.reshape(channel_blocks, -1), halves(quant_words)],
                                    axis=1)
            consts = [ctx.const("filter_s8p", stream, "int16_t")]
            x2_blocks = f"(const tc_gemv_x2_block_t *)(const void *){consts[0].name}"
        else:
            epilogue = ctx.const("epilogue_x2", np.concatenate([bias_words, quant_words], axis=1), "int32_t")
            consts = [ctx.const("filter_s16", layout, "int16_t"), epilogue]
            x2_blocks = f"(const tc_gemv_x2_block_t *)(const void *){epilogue.name}"
        pointers = {"bias": "NULL", "quant": "NULL", "x2": x2_blocks}
    else:
        filter16 = ctx.const("filter_s8p" if packed else "filter_s16", layout, "int16_t")
        split = np.zeros((padded_channels, len(STRUCTS["tc_requant_ch_t"].fields)), dtype=np.int64)
        for c, (m, s) in enumerate(zip(mult, shift, strict=True)):
            right = max(-s, 0)
            mask = (1 << right) - 1
            split[c] = (2 * m - (1 << 32), max(s, 0), right, mask, (mask >> 1) + 1)
        consts = [filter16, ctx.const("bias_wide", b, "int32_t"), ctx.const("quant_wide", split, "int32_t")]
        pointers = {"bias": consts[1].name, "quant": f"(const tc_requant_ch_t *)(const void *){consts[2].name}",
                    "x2": "NULL"}
    gemv = {"blocks": padded_row // WIDE_BLOCK, "channels": channels, "output_offset": output_offset, "act": act,
            **pointers}
    return gemv, consts, padded_row


def _conv_wide(ctx: LoweringContext, layer: Layer) -> Layer | None:
    """The DSP build's CONV_2D: tc_conv2d_s8_wide, one group only (grouped: the portable call).

    Scratch: two int16 rows (output positions go in pairs: tc_gemv2_s16), after them the int8 patch
    when the input depth is not a multiple of 4, and
    after those as many blocks of four filters (and their x2 epilogue) as the arena has free during
    the layer (its Staging; generator.stage_in_free_arena), copied to SRAM: every output position
    rereads the whole filter, and from flash each 16-byte line misses the ART's 8-line data cache (5
    wait states, docs/cycle-model.md), so one copy per layer pays for itself from two positions on.
    """
    inp, flt = ctx.input(0), ctx.input(1)
    if flt.shape[3] != inp.shape[3]:
        return None
    p = layer.params
    weights = flt.array().astype(np.int64).reshape(flt.shape[0], -1)
    bias = ctx.input(2).array() if ctx.has_input(2) else None
    mult, shift = requant_per_channel(layer)
    wide = wide_gemv(ctx, weights, bias, mult, shift, p["output_offset"], p["act"])
    if wide is None:
        return None
    gemv, consts, row = wide
    patch_bytes = 2 * row * 2 + (row if inp.shape[3] % 4 else 0)  # two int16 rows (tc_gemv2_s16), the int8 patch
    out = ctx.output()
    positions = out.size // out.shape[3]
    block_bytes = WIDE_CHANNELS * row * 2  # one block of four int16 filters
    # The x2 epilogue's constants (a 64-byte block per four channels) are reread per position too;
    # the split form's stay in flash.
    x2_block_bytes = 4 * WIDE_CHANNELS * (1 + len(STRUCTS["tc_requant_x2_t"].fields)) if gemv["x2"] != "NULL" else 0
    staging = Staging("staged_channels", WIDE_CHANNELS, block_bytes + x2_block_bytes,
                      -(-out.shape[3] // WIDE_CHANNELS)) if positions >= 2 else None
    params = {
        "input": p["input"], "output": p["output"], "filter_h": flt.shape[1], "filter_w": flt.shape[2],
        "stride_h": p["stride_h"], "stride_w": p["stride_w"],
        "dilation_h": p["dilation_h"], "dilation_w": p["dilation_w"],
        "pad_h": p["pad_h"], "pad_w": p["pad_w"], "input_offset": p["input_offset"],
        "staged_channels": 0, "gemv": gemv,
    }
    return layer.variant(kernel="tc_conv2d_s8_wide", params_type="tc_conv_wide_params_t", params=params,
                         args=[layer.args[0], consts[0].name, ScratchRef(layer.index), layer.args[3]],
                         consts=consts, scratch_bytes=patch_bytes, staging=staging)


@lowering("CONV_2D")
def conv2d(ctx: LoweringContext) -> Layer:
    layer = _conv_layer(ctx, "tc_conv2d_s8", out_channels_axis=0)
    # Grouped or with a zero multiplier: the DSP build's general kernel.
    layer.add_variant("dsp", _conv_wide(ctx, layer) or layer.variant(kernel="tc_conv2d_s8_dsp"))
    return layer
