"""The project's own errors: every failure a user can cause or meet ends in one of these.

Each carries a message meant to be printed as is: it names the file or tool, the
problem and, where it helps, the fix.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class of every error the pipeline reports to the user."""


class ConfigError(PipelineError):
    """A model config (TOML) is missing, malformed or inconsistent."""


class ModelFormatError(PipelineError):
    """A .tflite file is not a readable TFLite flatbuffer."""


class UnsupportedModelError(PipelineError):
    """A readable model uses an op, type or shape the code generator does not support."""


class StageError(PipelineError):
    """A stage (train, quantize, codegen, build, ...) failed."""


class ToolMissingError(PipelineError):
    """A required external tool is not installed or too old."""


class EmulatorError(PipelineError):
    """The emulator could not run the firmware to completion."""


class EmulatorMissingError(EmulatorError, ToolMissingError):
    """The chosen emulator is not installed."""


class EmulatorTimeoutError(EmulatorError):
    """The run hit its wall-clock or emulated-time bound before the firmware finished."""


class EmulatorCommandError(EmulatorError):
    """The emulator refused a command (for Renode: a monitor command error)."""


class CpuAbortError(EmulatorError):
    """The emulated CPU stopped (Renode: 'CPU abort', e.g. execution outside memory)."""


class FirmwareFaultError(EmulatorError):
    """The firmware reported a fault (HardFault, UsageFault, ...) on its console."""


class BudgetError(PipelineError):
    """A measured figure exceeds its budget."""
