"""The op-test matrix: for each op, the options to exercise and how to draw one case.

A case is a JSON-able spec: the op, the builder that makes its TF graph, the
chosen options, shapes and a seed for weights and data. Case i of an op takes
combination i of the op's shuffled option matrix (so enough cases cover every
combination) and draws shapes from its own seed, so ``(op, index, seed)``
replays a case exactly.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any

SPATIAL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16]
CHANNELS = [1, 2, 3, 4, 5, 7, 8, 12, 16, 17]
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]  # RELU_N1_TO_1 is patched in: the converter never fuses it

# Per op: option name -> values. Every value of every option appears in the report when exercised.
MATRIX: dict[str, dict[str, list[Any]]] = {
    "CONV_2D": {"padding": ["SAME", "VALID"], "stride": [1, 2, 3], "dilation": [1, 2],
                "kernel": [1, 3, 5], "act": ACTS, "quant": ["per_channel", "per_tensor"],
                "size": ["small", "small", "large"], "bias": [True, False],
                # groups 2 and an all-zero output channel (its multiplier underflows to 0) are the layers
                # the DSP build's wide kernel refuses: they run its general tc_conv2d_s8_dsp.
                "groups": [1, 1, 2], "weights": ["random", "random", "random", "zero_channel"]},
    "DEPTHWISE_CONV_2D": {"padding": ["SAME", "VALID"], "stride": [1, 2], "dilation": [1, 2],
                          "kernel": [3, 5], "depth_multiplier": [1, 2, 3], "act": ACTS,
                          "quant": ["per_channel", "per_tensor"], "size": ["small", "small", "large"]},
    "FULLY_CONNECTED": {"batches": [1, 3], "keep_num_dims": [False, True], "act": ACTS,
                        "quant": ["per_channel", "per_tensor"], "bias": [True, False],
                        # zero_channel: per channel, a multiplier of 0, refused by tc_fully_connected_s8_wide
                        "weights": ["random", "random", "random", "zero_channel"]},
    "AVERAGE_POOL_2D": {"padding": ["SAME", "VALID"], "stride": [1, 2, 3], "pool": [2, 3],
                        "act": ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]},
    "MAX_POOL_2D": {"padding": ["SAME", "VALID"], "stride": [1, 2, 3], "pool": [2, 3],
                    "act": ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]},
    "ADD": {"other": ["activation", "broadcast_const", "broadcast_mean", "const_same_shape"],
            "act": ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"], "rank": [2, 4]},
    "MUL": {"other": ["activation", "broadcast_const", "broadcast_mean", "const_same_shape"],
            "act": ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"], "rank": [2, 4]},
    "MEAN": {"axes": [[1, 2], [1], [2], [3], [-1], [2, 1], [0, 3]], "keep_dims": [True, False],
             "quantization": ["converter", "same_as_input", "rescaled"]},
    "PAD": {"rank": [2, 3, 4], "mode": ["PAD", "PADV2"]},
    "CONCATENATION": {"axis": [0, 1, 2, 3, -1], "inputs": [2, 3], "other": ["activation", "const"]},
    "SOFTMAX": {"rank": [2, 4], "beta": [1.0, 0.5, 2.0, 0.1]},
    "LOGISTIC": {"rank": [2, 4]},
    "TANH": {"rank": [2, 4]},
    "HARD_SWISH": {"rank": [2, 4]},
    "RELU": {"rank": [2, 4]},
    "RELU6": {"rank": [2, 4]},
    "LEAKY_RELU": {"rank": [2, 4], "alpha": [0.01, 0.2, 0.5, 1.5, -0.3]},
    "QUANTIZE": {"direction": ["float32_to_int8", "int8_to_int8"], "rank": [2, 4]},
    "DEQUANTIZE": {"source": ["relu", "conv", "softmax"], "rank": [2, 4]},
}

OPS = tuple(MATRIX)


@dataclass(frozen=True)
class OpCase:
    op: str
    index: int
    seed: int
    options: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        return f"{self.op}#{self.index}"

    @property
    def key(self) -> str:
        """Content hash of the spec: the cache key of the converted model."""
        text = json.dumps({"op": self.op, "spec": self.spec, "v": 6}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@functools.cache
def _combos(op: str, seed: int) -> tuple[tuple[tuple[str, Any], ...], ...]:
    """The op's option combinations in the seed's shuffled order (cached: tens of thousands for CONV_2D)."""
    names = list(MATRIX[op])
    combos = [tuple(zip(names, values, strict=True)) for values in itertools.product(*MATRIX[op].values())]
    random.Random(f"{op}:{seed}").shuffle(combos)
    return tuple(combos)


def _spatial(rng: random.Random, large: bool) -> tuple[int, int]:
    if large:
        return rng.choice([(48, 48), (32, 40), (49, 33), (24, 24)])
    return rng.choice(SPATIAL), rng.choice(SPATIAL)


def _shape(rng: random.Random, rank: int) -> list[int]:
    if rank == 2:
        return [rng.choice([1, 2]), rng.choice([1, 3, 8, 10, 17, 32, 64])]
    if rank == 3:
        return [1, rng.choice(SPATIAL), rng.choice(CHANNELS)]
    return [1, rng.choice(SPATIAL), rng.choice(SPATIAL), rng.choice(CHANNELS)]


def make_case(op: str, index: int, seed: int) -> OpCase:
    combos = _combos(op, seed)
    options = dict(combos[index % len(combos)])
    rng = random.Random(f"{op}:{index}:{seed}")
    spec: dict[str, Any] = {"op": op, **options, "seed": rng.randrange(1 << 30),
                            "in_lo": -rng.choice([0.5, 1.0, 3.0, 8.0]), "in_hi": rng.choice([0.5, 1.0, 4.0, 10.0])}
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        large = options["size"] == "large"
        h, w = _spatial(rng, large)
        k, d = options["kernel"], options["dilation"]
        if options["dilation"] > 1:
            spec["stride"] = 1  # TF refuses dilation with stride > 1
        effective = (k - 1) * d + 1
        if options["padding"] == "VALID":
            h, w = max(h, effective), max(w, effective)
        c = rng.choice([16, 8, 3] if large else CHANNELS)
        spec["input_shape"] = [1, h, w, c]
        spec["kernel_hw"] = [k, rng.choice([k, 1]) if k > 1 else k]
        if op == "CONV_2D":
            spec["filters"] = rng.choice([16, 8] if large else CHANNELS)
            groups = options["groups"]
            # Both depths a multiple of the groups: rounded up, so the other draws stay as they were.
            spec["input_shape"][3] = -(-c // groups) * groups
            spec["filters"] = -(-spec["filters"] // groups) * groups
    elif op == "FULLY_CONNECTED":
        depth = rng.choice([2, 3, 8, 10, 17, 32, 64, 100])  # over depth 1 the converter emits a MUL
        spec["input_shape"] = ([1, options["batches"], depth] if options["keep_num_dims"]
                               else [options["batches"], depth])
        spec["units"] = rng.choice([1, 2, 5, 8, 10, 16, 33])
    elif op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        h, w = rng.choice([*SPATIAL, 20, 24]), rng.choice([*SPATIAL, 20, 24])
        if options["padding"] == "VALID":
            h, w = max(h, options["pool"]), max(w, options["pool"])
        spec["input_shape"] = [1, h, w, rng.choice(CHANNELS)]
    elif op in ("MEAN", "CONCATENATION"):
        shape = _shape(rng, 4)
        if op == "MEAN":  # a reduction over size-1 dimensions only is converted to a RESHAPE
            for axis in options["axes"]:
                if axis % 4 != 0:
                    shape[axis] = max(shape[axis], 2)
        spec["input_shape"] = shape
    elif op == "PAD":
        spec["input_shape"] = _shape(rng, options["rank"])
        paddings = [[rng.choice([0, 1, 2, 3]), rng.choice([0, 1, 2])] for _ in range(options["rank"] - 1)]
        paddings[rng.randrange(len(paddings))][rng.randrange(2)] += 1  # never all zero: that is no op at all
        spec["paddings"] = [[0, 0], *paddings]
        spec["constant"] = rng.uniform(spec["in_lo"], spec["in_hi"])
    else:
        spec["input_shape"] = _shape(rng, int(options.get("rank", 4)))
    return OpCase(op, index, seed, options, spec)


def make_cases(op: str, count: int, seed: int) -> list[OpCase]:
    return [make_case(op, i, seed) for i in range(count)]
