"""Build each op case's TF graph (tf.function with constant weights) and convert it to int8 .tflite.

Run as a child process (``python -m pipeline.optest.convert jobs.json``) so
that TensorFlow stays out of the test process and a converter crash costs one
batch, not the run. jobs.json is a list of {"spec": ..., "out": path}; each
converted model is written atomically; failures are written to
``<out>.error`` with the traceback's last line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.fileutil import write_atomically


def _weights(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)


def _zero_channel(spec: dict[str, Any], w: np.ndarray) -> np.ndarray:
    """The weights with the last output channel all zero when the case asks: the converter gives it a
    scale of ~4e-9, whose multiplier TFLM's QuantizeMultiplier flushes to 0 (per channel)."""
    if spec.get("weights") == "zero_channel":
        w[..., -1] = 0.0
    return w


def _graph(spec: dict[str, Any], rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """The function x -> y of the case (TensorFlow ops on constants)."""
    import tensorflow as tf

    op = spec["op"]
    shape = tuple(spec["input_shape"])

    def act(y, name: str):  # type: ignore[no-untyped-def]
        if name == "RELU":
            return tf.nn.relu(y)
        if name == "RELU6":
            return tf.nn.relu6(y)
        return y  # NONE; RELU_N1_TO_1 is patched into the flatbuffer afterwards

    if op == "CONV_2D":
        kh, kw = spec["kernel_hw"]
        cin, cout = shape[3] // spec["groups"], spec["filters"]  # tf.nn.conv2d groups by the filter's depth
        w = _zero_channel(spec, _weights(rng, (kh, kw, cin, cout), kh * kw * cin))
        b = rng.uniform(-1, 1, cout).astype(np.float32)
        s, d = spec["stride"], spec["dilation"]

        def f(x):  # type: ignore[no-untyped-def]
            y = tf.nn.conv2d(x, w, strides=[1, s, s, 1], padding=spec["padding"], dilations=[1, d, d, 1])
            return act(y + b if spec["bias"] else y, spec["act"])
    elif op == "DEPTHWISE_CONV_2D":
        kh, kw = spec["kernel_hw"]
        m = spec["depth_multiplier"]
        w = _weights(rng, (kh, kw, shape[3], m), kh * kw)
        b = rng.uniform(-1, 1, shape[3] * m).astype(np.float32)
        s, d = spec["stride"], spec["dilation"]

        def f(x):  # type: ignore[no-untyped-def]
            y = tf.nn.depthwise_conv2d(x, w, strides=[1, s, s, 1], padding=spec["padding"], dilations=[d, d])
            return act(y + b, spec["act"])
    elif op == "FULLY_CONNECTED":
        depth, units = shape[-1], spec["units"]
        w = _zero_channel(spec, _weights(rng, (depth, units), depth))
        b = rng.uniform(-1, 1, units).astype(np.float32)

        def f(x):  # type: ignore[no-untyped-def]
            y = tf.tensordot(x, w, axes=1) if len(shape) == 3 else tf.matmul(x, w)
            return act(y + b if spec["bias"] else y, spec["act"])
    elif op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        pool = tf.nn.avg_pool2d if op == "AVERAGE_POOL_2D" else tf.nn.max_pool2d

        def f(x):  # type: ignore[no-untyped-def]
            return act(pool(x, ksize=spec["pool"], strides=spec["stride"], padding=spec["padding"]), spec["act"])
    elif op in ("ADD", "MUL"):
        combine = tf.add if op == "ADD" else tf.multiply
        other = spec["other"]
        const_shape = {"broadcast_const": (shape[-1],), "const_same_shape": shape}.get(other, (1,))
        c = rng.uniform(-2, 2, const_shape).astype(np.float32)
        axes = [1, 2] if len(shape) == 4 else [1]

        def f(x):  # type: ignore[no-untyped-def]
            if other == "activation":
                y = combine(x, tf.nn.relu(x))
            elif other == "broadcast_mean":
                y = combine(x, tf.reduce_mean(x, axis=axes, keepdims=True))
            else:
                y = combine(x, c)
            return act(y, spec["act"])
    elif op == "MEAN":
        def f(x):  # type: ignore[no-untyped-def]
            return tf.reduce_mean(x, axis=spec["axes"], keepdims=spec["keep_dims"])
    elif op == "PAD":
        def f(x):  # type: ignore[no-untyped-def]
            if spec["mode"] == "PADV2":
                return tf.pad(x, spec["paddings"], constant_values=spec["constant"])
            return tf.pad(x, spec["paddings"])
    elif op == "CONCATENATION":
        c = rng.uniform(spec["in_lo"], spec["in_hi"], shape).astype(np.float32)

        def f(x):  # type: ignore[no-untyped-def]
            parts = [x, tf.nn.relu(x) if spec["other"] == "activation" else c, x][: spec["inputs"]]
            return tf.concat(parts, axis=spec["axis"])
    elif op == "SOFTMAX":
        def f(x):  # type: ignore[no-untyped-def]
            return tf.nn.softmax(x)
    elif op == "LOGISTIC":
        f = tf.sigmoid
    elif op == "TANH":
        f = tf.tanh
    elif op == "HARD_SWISH":
        def f(x):  # type: ignore[no-untyped-def]
            return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)
    elif op in ("RELU", "QUANTIZE"):
        f = tf.nn.relu
    elif op == "RELU6":
        f = tf.nn.relu6
    elif op == "LEAKY_RELU":
        def f(x):  # type: ignore[no-untyped-def]
            return tf.nn.leaky_relu(x, alpha=spec["alpha"])
    elif op == "DEQUANTIZE":
        conv_w = _weights(rng, (3, 3, shape[-1], 4), 9 * shape[-1]) if len(shape) == 4 else None

        def f(x):  # type: ignore[no-untyped-def]
            if spec["source"] == "conv" and conv_w is not None:
                return tf.nn.conv2d(x, conv_w, strides=1, padding="SAME")
            if spec["source"] == "softmax":
                return tf.nn.softmax(x)
            return tf.nn.relu(x)
    else:
        raise ValueError(f"no graph builder for {op}")
    return f


def convert(spec: dict[str, Any]) -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(spec["seed"])
    shape = tuple(spec["input_shape"])
    fn = tf.function(_graph(spec, rng), input_signature=[tf.TensorSpec(shape, tf.float32)])
    samples = [rng.uniform(spec["in_lo"], spec["in_hi"], shape).astype(np.float32) for _ in range(24)]
    samples[0] = np.full(shape, spec["in_lo"], np.float32)
    samples[1] = np.full(shape, spec["in_hi"], np.float32)

    def representative():  # type: ignore[no-untyped-def]
        for s in samples:
            yield [s]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    float_in = spec["op"] == "QUANTIZE" and spec.get("direction") == "float32_to_int8"
    float_out = spec["op"] == "DEQUANTIZE"
    converter.inference_input_type = tf.float32 if float_in else tf.int8
    converter.inference_output_type = tf.float32 if float_out else tf.int8
    if spec.get("quant") == "per_tensor":
        converter._experimental_disable_per_channel = True
    return bytes(converter.convert())


def _main(jobs_path: str) -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    jobs = json.loads(Path(jobs_path).read_text())
    for job in jobs:
        out = Path(job["out"])
        try:
            write_atomically(out, convert(job["spec"]))
        except (ValueError, TypeError, RuntimeError, OSError) as err:  # the converter's own failures
            write_atomically(out.with_suffix(".error"), f"{type(err).__name__}: {str(err)[-2000:]}")


if __name__ == "__main__":
    _main(sys.argv[1])
