"""Reference int8 outputs: TFLM's host interpreter (the contract) and LiteRT (a second opinion)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import StageError


def _tflm():  # type: ignore[no-untyped-def]
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as err:
        raise StageError(
            "the tflite-micro package (TFLM's host interpreter, the reference for int8 outputs) "
            f"cannot be imported: {err}. Install it with: .venv/bin/pip install tflite-micro"
        ) from err
    return runtime


def tflm_outputs(model: Path, inputs: np.ndarray) -> np.ndarray:
    """Run every input (shape [n, *input_shape]) through TFLM; return [n, *output_shape]."""
    runtime = _tflm()
    interpreter = runtime.Interpreter.from_bytes(
        model.read_bytes(), arena_size=max(len(model.read_bytes()) * 10, 1 << 20)
    )
    outputs = []
    for x in inputs:
        interpreter.set_input(x[np.newaxis] if x.ndim < len(interpreter.get_input_details(0)["shape"]) else x, 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0).copy())
        interpreter.reset()
    return np.stack(outputs).reshape(len(inputs), -1)


def litert_outputs(model: Path, inputs: np.ndarray) -> np.ndarray:
    """Run every input through LiteRT with its reference kernels (not the optimized default)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=model.read_bytes(), experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    outputs = []
    for x in inputs:
        interpreter.set_tensor(inp["index"], x.reshape(inp["shape"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out["index"]).copy())
    return np.stack(outputs).reshape(len(inputs), -1)
