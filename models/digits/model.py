"""The digits CNN: 8x8 grey images of handwritten digits, 10 classes, under 8 KB of int8 weights."""

from __future__ import annotations

import keras


def build_model(input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    return keras.Sequential(
        [
            keras.layers.Input(shape=input_shape, batch_size=1),
            keras.layers.Conv2D(12, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(24, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes),  # logits: the firmware takes the argmax
        ],
        name="digits",
    )
