"""Structured channel pruning: remove whole channels and rebuild a smaller Keras network.

Every channel of every layer output gets an id. A Conv2D creates new ids; BatchNormalization,
activations, pooling, dropout and a depthwise convolution pass theirs through; ADD (and the
other element-wise merges) ties the ids of its inputs together, channel by channel, so the
branches it joins lose the same channels; CONCATENATION lays its inputs' ids side by side;
Flatten repeats them once per spatial position, so the Dense after it loses the matching rows.
The ids of the model's input and output, and of Dense outputs, are never removed.

Channels tied together form a group; the groups produced by the same set of convolutions are
ranked together (by the summed |gamma| of the BatchNormalizations they pass, or by the L1 norm
of their filters) and the lowest ``ratio`` of them is removed. The smaller model is built from
the original's own config (so it is the same Keras flavour, Keras 3 or tf-keras) and given the
surviving slices of the original weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.errors import PipelineError

METHODS = ("bn_gamma", "l1")
_PASS_THROUGH = {"Activation", "ReLU", "Dropout", "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D",
                 "GlobalAveragePooling2D", "LeakyReLU", "Softmax"}
_MERGES = {"Add", "Subtract", "Multiply", "Maximum", "Minimum", "Average"}
_SUPPORTED = _PASS_THROUGH | _MERGES | {"InputLayer", "Conv2D", "DepthwiseConv2D", "BatchNormalization",
                                        "Dense", "Flatten", "Concatenate"}


@dataclass(frozen=True)
class PruneResult:
    model: Any  # the rebuilt Keras model (same flavour as the input)
    filters: dict[str, tuple[int, int]]  # Conv2D name -> (filters before, after)
    unscored: tuple[str, ...]  # convolutions left whole: bn_gamma found no BatchNormalization on them


def _history(node: Any) -> list[str]:
    """Names of the layers feeding one inbound node, in order (Keras 3 and tf-keras configs)."""
    if isinstance(node, dict):
        if "keras_history" in node:
            return [node["keras_history"][0]]
        return [n for v in node.values() for n in _history(v)]
    if isinstance(node, list | tuple):
        if len(node) == 4 and isinstance(node[0], str) and isinstance(node[3], dict):  # tf-keras
            return [node[0]]
        return [n for v in node for n in _history(v)]
    return []


def _names(refs: Any) -> list[str]:
    """``output_layers`` of a config: ``[name, 0, 0]`` or a list of those."""
    return [refs[0]] if refs and isinstance(refs[0], str) else [r[0] for r in refs]


def _graph(config: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, list[str]], list[str]]:
    """(layer configs in order, each layer's input layer names, output layer names)."""
    layers = config["layers"]
    if "output_layers" not in config:  # Sequential: a chain
        names = [layer["config"]["name"] for layer in layers]
        return layers, {n: names[i - 1:i] for i, n in enumerate(names)}, names[-1:]
    inputs = {layer["name"]: _history(layer.get("inbound_nodes", [])) for layer in layers}
    return layers, inputs, _names(config["output_layers"])


class _Channels:
    """Union-find over channel ids; ``fixed`` ids may not be removed."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.fixed: set[int] = set()
        self.origin: dict[int, str] = {}  # id -> the Conv2D that produces it

    def new(self, count: int, origin: str | None) -> list[int]:
        ids = list(range(len(self.parent), len(self.parent) + count))
        self.parent += ids
        if origin is None:
            self.fixed.update(ids)
        else:
            self.origin.update(dict.fromkeys(ids, origin))
        return ids

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _trace(model: Any) -> tuple[_Channels, dict[str, list[int]], list[dict[str, Any]], dict[str, list[str]]]:
    """Give every channel of every layer output its id."""
    layers, inputs, outputs = _graph(model.get_config())
    ch = _Channels()
    ids: dict[str, list[int]] = {}
    for spec in layers:
        cls, name = spec["class_name"], spec["config"]["name"]
        src = [ids[n] for n in inputs[name]]
        if cls not in _SUPPORTED:
            raise PipelineError(f"channel pruning: layer '{name}' ({cls}) is not supported; supported layers: "
                                f"{', '.join(sorted(_SUPPORTED))}")
        if cls == "InputLayer":
            shape = spec["config"].get("batch_shape") or spec["config"]["batch_input_shape"]
            ids[name] = ch.new(int(shape[-1]), None)
        elif cls == "Conv2D":
            if spec["config"].get("groups", 1) != 1:
                raise PipelineError(f"channel pruning: grouped convolution '{name}' is not supported")
            ids[name] = ch.new(int(spec["config"]["filters"]), name)
        elif cls == "Dense":
            ids[name] = ch.new(int(spec["config"]["units"]), None)
        elif cls == "DepthwiseConv2D":
            m = int(spec["config"]["depth_multiplier"])
            ids[name] = [c for c in src[0] for _ in range(m)]  # output channel c * m + j comes from input c
        elif cls == "Flatten":
            h, w = model.get_layer(name).input.shape[1:3]
            ids[name] = src[0] * (int(h) * int(w))  # NHWC: flat index (y * W + x) * C + c
        elif cls == "Concatenate":
            if spec["config"].get("axis", -1) not in (-1, 3):
                raise PipelineError(f"channel pruning: '{name}' concatenates along axis "
                                    f"{spec['config']['axis']}; only the channel axis is supported")
            ids[name] = [i for s in src for i in s]
        elif cls in _MERGES:
            for other in src[1:]:
                for a, b in zip(src[0], other, strict=True):
                    ch.union(a, b)
            ids[name] = src[0]
        else:  # BatchNormalization and the pass-through layers
            ids[name] = src[0]
    for name in outputs:
        ch.fixed.update(ids[name])
    return ch, ids, layers, inputs


def _scores(model: Any, ids: dict[str, list[int]], layers: list[dict[str, Any]], method: str) -> dict[int, float]:
    """Importance of each channel id: summed |gamma| of the BatchNormalizations on it, or filter L1."""
    score: dict[int, float] = {}
    for spec in layers:
        name = spec["config"]["name"]
        if method == "bn_gamma" and spec["class_name"] == "BatchNormalization":
            gamma = np.abs(model.get_layer(name).get_weights()[0])
            for i, g in zip(ids[name], gamma, strict=True):
                score[i] = score.get(i, 0.0) + float(g)
        elif method == "l1" and spec["class_name"] == "Conv2D":
            kernel = model.get_layer(name).get_weights()[0]
            for i, norm in zip(ids[name], np.abs(kernel).sum(axis=(0, 1, 2)), strict=True):
                score[i] = score.get(i, 0.0) + float(norm)
    return score


def _removed(ch: _Channels, score: dict[int, float], ratio: float) -> tuple[set[int], set[str]]:
    """The group roots to remove, and the convolutions whose groups had no score."""
    groups: dict[int, list[int]] = {}
    for i in range(len(ch.parent)):
        groups.setdefault(ch.find(i), []).append(i)
    families: dict[frozenset[str], list[int]] = {}  # groups produced by the same convolutions
    unscored: set[str] = set()
    for root, members in groups.items():
        if any(i in ch.fixed for i in members):
            continue
        producers = frozenset(ch.origin[i] for i in members)
        if not any(i in score for i in members):
            unscored |= producers
            continue
        families.setdefault(producers, []).append(root)
    removed: set[int] = set()
    for roots in families.values():
        ranked = sorted(roots, key=lambda r: (sum(score.get(i, 0.0) for i in groups[r]), r))
        drop = min(math.floor(ratio * len(ranked) + 1e-9), len(ranked) - 1)  # keep at least one
        removed.update(ranked[:drop])
    return removed, unscored


def _sliced(cls: str, weights: list[np.ndarray], keep_in: np.ndarray, keep_out: np.ndarray) -> list[np.ndarray]:
    if cls == "Conv2D":
        return [weights[0][:, :, keep_in][..., keep_out], *(w[keep_out] for w in weights[1:])]
    if cls == "DepthwiseConv2D":
        channels, m = weights[0].shape[2:]
        return [weights[0][:, :, keep_in], *(w.reshape(channels, m)[keep_in].ravel() for w in weights[1:])]
    if cls == "BatchNormalization":
        return [w[keep_out] for w in weights]
    if cls == "Dense":
        return [weights[0][keep_in], *weights[1:]]
    return weights


def prune_channels(model: Any, ratio: float, method: str) -> PruneResult:
    """Remove the lowest-ranked ``ratio`` of the channel groups of every convolution family."""
    if method not in METHODS:
        raise PipelineError(f"channel pruning: unknown method '{method}'; expected one of {', '.join(METHODS)}")
    if not 0.0 <= ratio < 1.0:
        raise PipelineError(f"channel pruning: ratio {ratio} must be in [0, 1)")
    ch, ids, layers, inputs = _trace(model)
    removed, unscored = _removed(ch, _scores(model, ids, layers, method), ratio)
    keep = {name: np.array([ch.find(i) not in removed for i in chans]) for name, chans in ids.items()}
    config = model.get_config()
    filters: dict[str, tuple[int, int]] = {}
    for spec in config["layers"]:
        spec.pop("build_config", None)  # Keras 3 records each layer's input shape: rebuilt from the graph instead
        if spec["class_name"] == "Conv2D":
            name = spec["config"]["name"]
            filters[name] = (int(spec["config"]["filters"]), int(keep[name].sum()))
            spec["config"]["filters"] = filters[name][1]
    smaller = type(model).from_config(config)
    for spec in layers:
        name = spec["config"]["name"]
        weights = model.get_layer(name).get_weights()
        if weights:
            keep_in = keep[inputs[name][0]] if inputs[name] else keep[name]
            smaller.get_layer(name).set_weights(_sliced(spec["class_name"], weights, keep_in, keep[name]))
    return PruneResult(smaller, filters, tuple(sorted(unscored)))
