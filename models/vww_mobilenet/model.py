"""MLPerf Tiny visual wake words: MobileNetV1 alpha 0.25, as mlcommons/tiny
benchmark/training/visual_wake_words (vww_model.py, mobilenet_v1) defines it: 96x96x3, 2 classes.

The reference passes kernel_initializer / kernel_regularizer to DepthwiseConv2D; Keras 3 names them
depthwise_initializer / depthwise_regularizer (the architecture is the same). The reference trains
the model; we only calibrate it, and Keras' fan-in of a depthwise kernel counts every channel
(9 * C instead of 9), so with he_normal the untrained activations shrink by sqrt(C) per block and
vanish (1e-13 after 14 blocks), which TFLM's softmax cannot quantize. The depthwise initial
weights therefore use the true fan-in, 9: only initial values differ, not the architecture.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers
from keras.regularizers import l2

# (stride of the depthwise convolution, filters of the pointwise convolution) for layers 2..14.
BLOCKS = ((1, 16), (2, 32), (1, 32), (2, 64), (1, 64), (2, 128),
          (1, 128), (1, 128), (1, 128), (1, 128), (1, 128), (2, 256), (1, 256))


DEPTHWISE_INIT = keras.initializers.RandomNormal(stddev=float(np.sqrt(2.0 / 9.0)), seed=7)


def _bn_relu(x: keras.KerasTensor) -> keras.KerasTensor:
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def build_model(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    num_filters = 8  # 32 * alpha 0.25
    inputs = keras.Input(shape=input_shape, batch_size=1)
    x = layers.Conv2D(num_filters, kernel_size=3, strides=2, padding="same", kernel_initializer="he_normal",
                      kernel_regularizer=l2(1e-4))(inputs)
    x = _bn_relu(x)
    for stride, filters in BLOCKS:  # depthwise separable convolutions
        x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, padding="same", depthwise_initializer=DEPTHWISE_INIT,
                                   depthwise_regularizer=l2(1e-4))(x)
        x = _bn_relu(x)
        x = layers.Conv2D(filters, kernel_size=1, strides=1, padding="same", kernel_initializer="he_normal",
                          kernel_regularizer=l2(1e-4))(x)
        x = _bn_relu(x)
    pool_size = int(np.amin(x.shape[1:3]))
    x = layers.AveragePooling2D(pool_size=pool_size)(x)
    y = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(y)
    return keras.Model(inputs=inputs, outputs=outputs, name="vww_mobilenet")
