"""TFLM's quantization arithmetic, computed at generation time.

These reproduce tensorflow/lite/kernels/internal/quantization_util.cc and
kernel_util.cc as TFLM builds them (double precision, ``TfLiteRound`` = round
half away from zero), so the constants we emit equal the ones TFLM computes in
its Prepare step. See docs/numeric-contract.md.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def tflite_round(x: float) -> int:
    """std::round: half away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def conv_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: one (multiplier, shift) per output channel.

    The scales are float32 in the flatbuffer and are widened to double before
    multiplying, as TFLM does.
    """
    scales = filter_scales if len(filter_scales) > 1 else filter_scales * channels
    pairs = [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def quantize_float32(value: float, scale: float, zero_point: int) -> int:
    """The activation-range quantize lambda: zero_point + round(f / scale), in float32."""
    return zero_point + tflite_round(float(np.float32(value) / np.float32(scale)))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if activation == "RELU":
        lo = max(lo, quantize_float32(0.0, scale, zero_point))
    elif activation == "RELU6":
        lo = max(lo, quantize_float32(0.0, scale, zero_point))
        hi = min(hi, quantize_float32(6.0, scale, zero_point))
    elif activation == "RELU_N1_TO_1":
        lo = max(lo, quantize_float32(-1.0, scale, zero_point))
        hi = min(hi, quantize_float32(1.0, scale, zero_point))
    elif activation != "NONE":
        raise ValueError(f"fused activation {activation} is not supported for int8")
    return lo, hi
