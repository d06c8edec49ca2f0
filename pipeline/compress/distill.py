"""Knowledge distillation from the unpruned float model (Hinton et al., 2015).

The student's loss mixes the teacher's soft targets at temperature T with the labels:

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
         + (1 - alpha) * cross_entropy(label, softmax(student))

T^2 keeps the soft term's gradients on the scale of the hard term's. Defaults (docs/compress.md):
T = 4, alpha = 0.5. The teacher's logits are computed once, before pruning, and travel with the
labels: ``y_true`` is ``[label, teacher logit 0, ..., teacher logit K-1]`` per sample, so the loss
is a plain Keras loss function that works in Keras 3 and tf-keras alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

TEMPERATURE = 4.0
ALPHA = 0.5


def pack_targets(labels: np.ndarray, teacher_logits: np.ndarray) -> np.ndarray:
    """``y_true`` for :func:`distillation_loss`: the label, then the teacher's logits."""
    return np.concatenate([labels.reshape(-1, 1).astype(np.float32), teacher_logits.astype(np.float32)], axis=1)


def distillation_loss(temperature: float = TEMPERATURE, alpha: float = ALPHA) -> Callable[[Any, Any], Any]:
    import tensorflow as tf

    t = float(temperature)

    def loss(y_true: Any, student_logits: Any) -> Any:
        labels = tf.cast(y_true[:, 0], tf.int32)
        teacher = y_true[:, 1:] / t
        hard = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=student_logits)
        soft_teacher = tf.nn.softmax(teacher)
        kl = tf.reduce_sum(soft_teacher * (tf.nn.log_softmax(teacher) - tf.nn.log_softmax(student_logits / t)),
                           axis=-1)
        return tf.reduce_mean(alpha * t * t * kl + (1.0 - alpha) * hard)

    return loss
