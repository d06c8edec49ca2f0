"""tinyml-ci: from a Keras model to a verified STM32F4 firmware, without a board."""

__version__ = "0.1.0"
