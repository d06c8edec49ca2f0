"""Lowering: each TFLite operator becomes one kernel call with generation-time constants.

A lowering function takes the model and one operator and returns a :class:`Layer`:
the kernel to call, its parameter struct (field -> C initializer), the constant
arrays it needs and the call's arguments. Arguments that are activation tensors
are :class:`TensorRef` placeholders; the arena planner turns them into pointers.
Lowerings register themselves with :func:`lowering`; the set of registered ops
is the supported op list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pipeline.codegen.kernels import fallback_chain
from pipeline.errors import UnsupportedModelError
from pipeline.tflite.reader import Model, Operator, Tensor


@dataclass(frozen=True)
class TensorRef:
    """An activation tensor, to be placed in the arena."""

    index: int


@dataclass(frozen=True)
class ScratchRef:
    """The layer's scratch buffer in the arena (``Layer.scratch_bytes``), live during that layer only."""

    layer: int


@dataclass(frozen=True)
class TensorList:
    """An array of int8 pointers (activation tensors or constant arrays), passed as a C compound literal."""

    items: tuple[str | TensorRef, ...]


INTEGER_CTYPES: dict[str, type[np.signedinteger[Any]]] = {"int8_t": np.int8, "int16_t": np.int16, "int32_t": np.int32}
C_DTYPES: dict[str, type[np.generic]] = {**INTEGER_CTYPES, "float": np.float32}

LayerArg = str | TensorRef | TensorList | ScratchRef  # one kernel call argument after the params pointer


@dataclass(frozen=True)
class ConstArray:
    """A constant array in flash: weights, biases or quantization constants."""

    name: str
    ctype: str  # "int8_t", "int16_t", "int32_t", "float"
    values: np.ndarray  # flattened

    @property
    def nbytes(self) -> int:
        return int(self.values.size * {"int8_t": 1, "int16_t": 2, "int32_t": 4, "float": 4}[self.ctype])


@dataclass(frozen=True)
class Staging:
    """Scratch a kernel can use for speed, in blocks, after its required ``scratch_bytes``: the
    generator gives it what the arena has free during the layer (generator.stage_in_free_arena)."""

    param: str  # the params field that receives the number of staged items
    items_per_block: int  # e.g. 4 output channels
    block_bytes: int
    max_blocks: int


@dataclass
class Layer:
    index: int
    op: str
    kernel: str  # the C function, e.g. "tc_conv2d_s8"
    params_type: str  # the parameter struct type, "" if the kernel takes none
    params: dict[str, Any]  # struct field -> value (pipeline/codegen/params.py says which kinds)
    args: list[LayerArg]  # call arguments after the params pointer
    consts: list[ConstArray] = field(default_factory=list)
    macs: int = 0
    scratch_bytes: int = 0
    staging: Staging | None = None  # optional scratch beyond scratch_bytes (its param starts at 0)
    summary: str = ""  # one line for comments and reports, e.g. "1x8x8x1 -> 1x8x8x8"
    alias: tuple[int, int] | None = None  # (output, input) for ops that only reinterpret memory
    # Constants the kernel reads once per inference, front to back (each byte one flash access): the
    # generator may place them in RAM instead (generator.place_in_ram, [codegen] ram_constants_bytes).
    streamed: tuple[str, ...] = ()
    # Per kernel set other than portable (pipeline/codegen/kernels.py): that build's variant of this
    # layer (its own kernel, parameters and constants, e.g. weights reordered for SMLAD). A set with
    # no entry takes its fallback set's call.
    variants: dict[str, Layer] = field(default_factory=dict)

    def variant(self, **changes: Any) -> Layer:
        """A copy of this layer with ``changes``, as the call of another kernel set (no variants of its own)."""
        return replace(self, variants={}, **changes)

    def add_variant(self, kernel_set: str, variant: Layer | None) -> None:
        """Run ``variant`` in ``kernel_set``'s build; None: the lowering refused it, the fallback runs."""
        if variant is not None:
            self.variants[kernel_set] = variant

    def call_for(self, kernel_set: str) -> Layer:
        """The call ``kernel_set``'s build compiles: its own variant, else its fallback's."""
        for name in fallback_chain(kernel_set):
            if name in self.variants:
                return self.variants[name]
        return self

    @property
    def scratch_needed(self) -> int:
        """Scratch bytes the arena reserves: enough for whichever variant the build compiles."""
        return max([self.scratch_bytes, *(v.scratch_bytes for v in self.variants.values())])


class LoweringContext:
    """What a lowering needs: the model, the operator, and naming of its constants."""

    def __init__(self, model: Model, op: Operator) -> None:
        self.model = model
        self.op = op
        self.prefix = f"tc_l{op.index}"

    def input(self, i: int) -> Tensor:
        if not self.has_input(i):
            raise self.refuse(f"has {len(self.op.inputs)} inputs {list(self.op.inputs)}; input {i} is required")
        return self.model.tensor(self.op.inputs[i])

    def output(self, i: int = 0) -> Tensor:
        if not (i < len(self.op.outputs) and self.op.outputs[i] >= 0):
            raise self.refuse(f"has {len(self.op.outputs)} outputs {list(self.op.outputs)}; output {i} is required")
        return self.model.tensor(self.op.outputs[i])

    def has_input(self, i: int) -> bool:
        return len(self.op.inputs) > i and self.op.inputs[i] >= 0

    def const(self, suffix: str, values: np.ndarray | list[int], ctype: str) -> ConstArray:
        array = np.asarray(values)
        if ctype != "float" and array.size:
            limits = np.iinfo(INTEGER_CTYPES[ctype])
            if array.min() < limits.min or array.max() > limits.max:
                # Only absurd quantization parameters get here (e.g. a folded bias past int32).
                raise self.refuse(f"constant '{suffix}' spans [{array.min()}, {array.max()}], beyond {ctype}")
        return ConstArray(f"{self.prefix}_{suffix}", ctype, np.asarray(values, dtype=C_DTYPES[ctype]).reshape(-1))

    def bias(self, channels: int) -> ConstArray:
        """Input 2 as the int32 bias constant; one value per output channel, or refused."""
        if self.input(2).dtype != "int32":
            raise self.refuse(f"bias is {self.input(2).dtype}, int8 models need an int32 bias")
        values = self.input(2).array()
        if values.size != channels:
            raise self.refuse(f"bias has {values.size} values for {channels} output channels")
        return self.const("bias", values, "int32_t")

    def ref(self, tensor: Tensor) -> TensorRef:
        return TensorRef(tensor.index)

    def operand(self, i: int, consts: list[ConstArray]) -> str | TensorRef:
        """Input i as a call argument: an arena pointer, or a new int8 constant array appended to consts."""
        tensor = self.input(i)
        if not tensor.is_constant:
            return self.ref(tensor)
        consts.append(self.const(f"input{i}", tensor.array(), "int8_t"))
        return consts[-1].name

    def refuse(self, why: str) -> UnsupportedModelError:
        """The error for an op whose options or quantization the generator cannot reproduce exactly."""
        return UnsupportedModelError(f"{self.model.path}: op {self.op.index} ({self.op.opcode}): {why}")


LoweringFn = Callable[[LoweringContext], Layer]
LOWERINGS: dict[str, LoweringFn] = {}


def lowering(*opcodes: str) -> Callable[[LoweringFn], LoweringFn]:
    """Register a lowering for one or more TFLite builtin op names."""

    def register(fn: LoweringFn) -> LoweringFn:
        for opcode in opcodes:
            LOWERINGS[opcode] = fn
        return fn

    return register


def dims(shape: tuple[int, ...]) -> dict[str, int]:
    """A tc_dims_t (N, H, W, C) for a shape of rank <= 4, padded on the left with 1s."""
    padded = (1,) * (4 - len(shape)) + tuple(shape)
    return dict(zip("nhwc", (int(d) for d in padded), strict=True))


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)
