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
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


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


def to_int32(value: int) -> int:
    """static_cast<int32_t> of an integer that may not fit: two's complement wrap, as the hardware does."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def quantize_multiplier_frexp(real: float) -> tuple[int, int]:
    """The multiplier LOGISTIC and TANH compute inline: frexp and round, without QuantizeMultiplier's fix-up."""
    q, shift = math.frexp(real)
    return to_int32(tflite_round(q * (1 << 31))), shift


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius: the largest |input| whose rescaled value cannot overflow."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
                          / float(1 << input_left_shift))
    return math.floor(max_input_rescaled)


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """PreprocessSoftmaxScaling (double rounding build): beta * scale as a Q(bits).(31-bits) multiplier."""
    real = min(float(beta) * float(input_scale) * float(1 << (31 - input_integer_bits)), float((1 << 31) - 1))
    return quantize_multiplier(real)


def downscale_int32_to_int16_multiplier(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    rounding_offset = 1 << 15
    if multiplier >= (1 << 31) - 1 - rounding_offset:
        return (1 << 15) - 1
    return (multiplier + rounding_offset) >> 16


def float_to_quantized_int8(value: float, scale: float, zero_point: int) -> int:
    """micro_utils FloatToQuantizedType<int8_t>: round(value / scale) in float32, plus zero point, clamped."""
    q = tflite_round(float(np.float32(value) / np.float32(scale))) + zero_point
    return max(INT8_MIN, min(INT8_MAX, q))


def f32(x: float) -> np.float32:
    """A float32 value, for the constants TFLM computes in single precision."""
    return np.float32(x)
