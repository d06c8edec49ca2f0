"""Data sets that ship inside packages (no download), split the same way every time."""

from __future__ import annotations

from dataclasses import dataclass

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
    y_test: np.ndarray
    num_classes: int

    def to_npz(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")}


def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # Pixels are 0..16; scale to [0, 1] and add the channel axis (NHWC).
    x = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    return x, digits.target.astype(np.int64)


SOURCES = {"sklearn_digits": _sklearn_digits}


def load_splits(cfg: DatasetConfig) -> Splits:
    """Stratified train / validation / held-out split with a fixed seed."""
    from sklearn.model_selection import train_test_split

    if cfg.source not in SOURCES:
        raise ConfigError(f"unknown dataset source '{cfg.source}'; known: {', '.join(SOURCES)}")
    x, y = SOURCES[cfg.source]()
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=cfg.test_fraction, stratify=y, random_state=cfg.seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=cfg.validation_fraction, stratify=y_rest, random_state=cfg.seed + 1)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, int(y.max()) + 1)
