"""MLPerf Tiny keyword spotting: DS-CNN, as mlcommons/tiny benchmark/training/keyword_spotting
(keras_model.py, model_architecture 'ds_cnn') defines it: 49x10x1 MFCCs, 12 classes, 64 filters.

The reference passes kernel_regularizer to DepthwiseConv2D; Keras 3 calls it depthwise_regularizer.
"""

from __future__ import annotations

import keras
from keras import layers
from keras.regularizers import l2


def build_model(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    filters = 64
    regularizer = l2(1e-4)
    final_pool_size = (int(input_shape[0] / 2), int(input_shape[1] / 2))

    inputs = keras.Input(shape=input_shape, batch_size=1)
    x = layers.Conv2D(filters, (10, 4), strides=(2, 2), padding="same", kernel_regularizer=regularizer)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(rate=0.2)(x)
    for _ in range(4):  # four depthwise-separable blocks
        x = layers.DepthwiseConv2D(depth_multiplier=1, kernel_size=(3, 3), padding="same",
                                   depthwise_regularizer=regularizer)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(filters, (1, 1), padding="same", kernel_regularizer=regularizer)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.Dropout(rate=0.4)(x)
    x = layers.AveragePooling2D(pool_size=final_pool_size)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="kws_dscnn")
