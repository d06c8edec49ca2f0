"""The wide digits CNN: the digits task with far more channels than it needs, BatchNorm after
every convolution, so channel pruning (ranked by BatchNorm gamma) has something to remove.

One definition for both Keras flavours: ``keras`` is the module to build with (Keras 3 for
training, tf-keras for quantization-aware training, see docs/compress.md).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def build_model(input_shape: tuple[int, ...], num_classes: int, keras: ModuleType | None = None) -> Any:
    if keras is None:
        import keras
    layers = keras.layers

    def conv_bn_relu(x: Any, filters: int) -> Any:
        x = layers.Conv2D(filters, 3, padding="same")(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    inputs = keras.Input(shape=input_shape, batch_size=1)
    x = conv_bn_relu(inputs, 32)
    x = conv_bn_relu(x, 64)
    x = layers.MaxPooling2D(2)(x)
    x = conv_bn_relu(x, 64)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes)(x)  # logits: the firmware takes the argmax
    return keras.Model(inputs, outputs, name="digits_wide")
