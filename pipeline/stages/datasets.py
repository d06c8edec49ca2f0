"""Data sets that ship inside packages (no download), split the same way every time.

``synthetic`` is for benchmark models whose figures (instructions, sizes, RAM) do
not depend on the values: fixed-seed random inputs of the configured shape, and
random labels for the training split only. The held-out split has no labels,
so accuracy is reported as not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.config import DatasetConfig
from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray  # the held-out split: reference outputs and firmware vectors
    y_test: np.ndarray | None  # None: no meaningful labels (synthetic data), accuracy not applicable
    num_classes: int

    def to_npz(self) -> dict[str, Any]:  # Any: numpy's savez stub takes **kwds as its bool options
        keys = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # Pixels are 0..16; scale to [0, 1] and add the channel axis (NHWC).
    x = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    return x, digits.target.astype(np.int64)


SOURCES = {"sklearn_digits": _sklearn_digits}
SYNTHETIC = "synthetic"


def _synthetic(cfg: DatasetConfig) -> Splits:
    """Fixed-seed inputs uniform in [-1, 1) of cfg.input_shape; random labels; no held-out labels."""
    from sklearn.model_selection import train_test_split

    if cfg.samples < 3 or not cfg.input_shape or cfg.classes < 1:
        raise ConfigError(f"dataset source '{SYNTHETIC}' needs samples (>= 3), input_shape and classes "
                          f"in [dataset]; got samples={cfg.samples}, input_shape={list(cfg.input_shape)}, "
                          f"classes={cfg.classes}")
    rng = np.random.default_rng(cfg.seed)
    x = rng.uniform(-1.0, 1.0, size=(cfg.samples, *cfg.input_shape)).astype(np.float32)
    y = rng.integers(0, cfg.classes, size=cfg.samples).astype(np.int64)
    x_rest, x_test, y_rest, _ = train_test_split(x, y, test_size=cfg.test_fraction, random_state=cfg.seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=cfg.validation_fraction, random_state=cfg.seed + 1)
    return Splits(x_train, y_train, x_val, y_val, x_test, None, cfg.classes)


def load_splits(cfg: DatasetConfig) -> Splits:
    """Stratified train / validation / held-out split with a fixed seed."""
    from sklearn.model_selection import train_test_split

    if cfg.source == SYNTHETIC:
        return _synthetic(cfg)
    if cfg.source not in SOURCES:
        raise ConfigError(f"unknown dataset source '{cfg.source}'; known: {', '.join([*SOURCES, SYNTHETIC])}")
    x, y = SOURCES[cfg.source]()
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=cfg.test_fraction, stratify=y, random_state=cfg.seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=cfg.validation_fraction, stratify=y_rest, random_state=cfg.seed + 1)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, int(y.max()) + 1)
