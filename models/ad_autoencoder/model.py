"""MLPerf Tiny anomaly detection: the dense autoencoder of mlcommons/tiny
benchmark/training/anomaly_detection (keras_model.py, get_model): 640 inputs,
128x4 -> 8 -> 128x4 -> 640, batch normalization and ReLU after every hidden layer."""

from __future__ import annotations

import keras
from keras import layers


def build_model(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    del num_classes  # an autoencoder: the output has the input's size
    input_dim = int(input_shape[-1])
    inputs = keras.Input(shape=(input_dim,), batch_size=1)
    h = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        h = layers.Dense(units)(h)
        h = layers.BatchNormalization()(h)
        h = layers.Activation("relu")(h)
    outputs = layers.Dense(input_dim)(h)
    return keras.Model(inputs=inputs, outputs=outputs, name="ad_autoencoder")
