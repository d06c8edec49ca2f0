"""The DSP epilogue's split requantization (tc_requant_ch in firmware/kernels/arm/tc_dsp.h) equals
tc_requant.h's tc_requantize for every int32 accumulator: checked here in exact integer arithmetic
on the int32 edges and random values, for multipliers in [2^30, 2^31) and shifts -31..8."""

from __future__ import annotations

import random

INT32 = 1 << 32


def _wrap(v: int) -> int:
    return (v + (1 << 31)) % INT32 - (1 << 31)


def _reference(x: int, m: int, shift: int) -> int:
    """tc_requantize: gemmlowp's SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT."""
    left, right = max(shift, 0), max(-shift, 0)
    a = _wrap(x << left)
    if a == m == -(1 << 31):
        d = (1 << 31) - 1
    else:
        ab = a * m
        v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
        d = _wrap(abs(v) // (1 << 31) * (1 if v >= 0 else -1))
    mask = (1 << right) - 1
    return (d >> right) + ((d & mask) > (mask >> 1) + (d < 0))


def _split(x: int, m: int, shift: int) -> int:
    """tc_requant_ch with the generator's constants (pipeline/codegen/ops/conv.py wide_gemv)."""
    left, right = max(shift, 0), max(-shift, 0)
    multiplier2 = _wrap(2 * m - INT32)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + 1
    a = _wrap(x << left)
    d = _wrap(((a * multiplier2 + (1 << 31)) >> 32) + a)  # SMMULR, then ADD
    return (d >> right) + ((d & mask) >= threshold + (d < 0))  # CMP sets the carry, ADC


def test_split_requantization_equals_tflm_for_every_edge_and_random_value() -> None:
    rng = random.Random(20261128)
    edges = [-(1 << 31), -(1 << 31) + 1, -(1 << 30), -2, -1, 0, 1, 2, 1 << 30, (1 << 31) - 2, (1 << 31) - 1]
    multipliers = [1 << 30, (1 << 30) + 1, (1 << 31) - 1]
    for _ in range(60000):
        x = rng.choice(edges) if rng.random() < 0.25 else rng.randint(-(1 << 31), (1 << 31) - 1)
        m = rng.choice(multipliers) if rng.random() < 0.25 else rng.randint(1 << 30, (1 << 31) - 1)
        shift = rng.randint(-31, 8)
        assert _split(x, m, shift) == _reference(x, m, shift), (x, m, shift)
