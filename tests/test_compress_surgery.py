"""Channel surgery is exact: channels whose BatchNorm gamma and beta are zero carry nothing, so
removing them leaves the float outputs unchanged; removing live channels does change them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest

from pipeline.compress.surgery import prune_channels
from pipeline.errors import PipelineError

layers = keras.layers
RNG = np.random.default_rng(20261203)


def _conv_bn(x: Any, filters: int) -> Any:
    x = layers.Conv2D(filters, 3, padding="same")(x)
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _conv(inp: Any) -> Any:
    x = _conv_bn(_conv_bn(inp, 8), 8)
    return layers.Dense(5)(layers.Flatten()(layers.MaxPooling2D(2)(x)))


def _depthwise(inp: Any) -> Any:
    x = _conv_bn(inp, 8)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = _conv_bn(x, 8)
    return layers.Dense(5)(layers.GlobalAveragePooling2D()(x))


def _residual(inp: Any) -> Any:
    x = _conv_bn(inp, 8)
    y = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(_conv_bn(x, 8)))
    x = layers.Activation("relu")(layers.Add()([x, y]))
    return layers.Dense(5)(layers.Flatten()(x))


def _concat(inp: Any) -> Any:
    x = layers.Concatenate()([_conv_bn(inp, 8), _conv_bn(inp, 6)])
    x = _conv_bn(x, 8)
    return layers.Dense(5)(layers.Flatten()(layers.AveragePooling2D(2)(x)))


SHAPES: dict[str, Callable[[Any], Any]] = {"conv": _conv, "depthwise": _depthwise, "residual_add": _residual,
                                           "concatenation": _concat}


def _model(shape: str) -> keras.Model:
    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 2), batch_size=1)
    model = keras.Model(inp, SHAPES[shape](inp))
    for layer in model.layers:  # non-trivial statistics, so a slicing mistake shows in the outputs
        if isinstance(layer, layers.BatchNormalization):
            n = layer.get_weights()[0].shape[0]
            layer.set_weights([RNG.uniform(0.5, 1.5, n), RNG.normal(0, 0.3, n), RNG.normal(0, 0.3, n),
                               RNG.uniform(0.5, 2.0, n)])
    return model


def _silence_half(model: keras.Model) -> None:
    """Zero gamma and beta of half the channels of every BatchNormalization (the same half on tied ones)."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            dead = np.arange(len(gamma)) % 2 == 1
            gamma[dead], beta[dead] = 0.0, 0.0
            layer.set_weights([gamma, beta, mean, var])


@pytest.mark.parametrize("shape", SHAPES)
def test_removing_silent_channels_keeps_the_outputs(shape: str) -> None:
    model = _model(shape)
    _silence_half(model)
    x = RNG.normal(size=(4, 6, 6, 2)).astype(np.float32)
    result = prune_channels(model, 0.5, "bn_gamma")
    assert all(after == before // 2 for before, after in result.filters.values()), result.filters
    assert result.model.count_params() < model.count_params()
    np.testing.assert_allclose(result.model.predict(x, batch_size=1, verbose=0),
                               model.predict(x, batch_size=1, verbose=0), atol=1e-6, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
def test_removing_live_channels_changes_the_outputs(shape: str) -> None:
    model = _model(shape)  # no silent channel: what is removed carried signal
    x = RNG.normal(size=(4, 6, 6, 2)).astype(np.float32)
    pruned = prune_channels(model, 0.5, "l1").model
    assert np.max(np.abs(pruned.predict(x, batch_size=1, verbose=0) - model.predict(x, batch_size=1, verbose=0))) > 1e-3


def test_an_unsupported_layer_is_named() -> None:
    inp = keras.Input((4, 4, 1), batch_size=1)
    model = keras.Model(inp, layers.Dense(2)(layers.Reshape((64,))(layers.Conv2D(4, 1)(inp))))
    with pytest.raises(PipelineError, match=r"layer 'reshape' \(Reshape\) is not supported"):
        prune_channels(model, 0.5, "l1")
