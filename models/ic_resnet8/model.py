"""MLPerf Tiny image classification: ResNet-8, as mlcommons/tiny benchmark/training/image_classification
(keras_model.py, resnet_v1_eembc) defines it, with 16 filters in the first stack: 32x32x3, 10 classes."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers
from keras.regularizers import l2

CONV_FILTERS = 16


def _conv(filters: int, kernel_size: int, strides: int) -> layers.Conv2D:
    return layers.Conv2D(filters, kernel_size=kernel_size, strides=strides, padding="same",
                         kernel_initializer="he_normal", kernel_regularizer=l2(1e-4))


def build_model(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    inputs = keras.Input(shape=input_shape, batch_size=1)
    x = _conv(CONV_FILTERS, 3, 1)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    # First stack: identity shortcut.
    y = _conv(CONV_FILTERS, 3, 1)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = _conv(CONV_FILTERS, 3, 1)(y)
    y = layers.BatchNormalization()(y)
    x = layers.add([x, y])
    x = layers.Activation("relu")(x)

    # Second and third stacks: stride 2, doubled filters, 1x1 stride-2 convolution on the shortcut.
    for filters in (CONV_FILTERS * 2, CONV_FILTERS * 4):
        y = _conv(filters, 3, 2)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = _conv(filters, 3, 1)(y)
        y = layers.BatchNormalization()(y)
        x = _conv(filters, 1, 2)(x)
        x = layers.add([x, y])
        x = layers.Activation("relu")(x)

    pool_size = int(np.amin(x.shape[1:3]))
    x = layers.AveragePooling2D(pool_size=pool_size)(x)
    y = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer="he_normal")(y)
    return keras.Model(inputs=inputs, outputs=outputs, name="ic_resnet8")
