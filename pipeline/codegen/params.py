"""The kernels' parameter structs, described once: the C header and every initializer come from here.

``firmware/kernels/include/tc_params.h`` is rendered from :data:`STRUCTS` and :data:`CONSTANTS`
(``python -m pipeline.codegen.params`` rewrites it; tests/test_codegen_validation.py checks it is
current), and the generator renders each layer's parameter struct with :func:`initializer`, which
refuses a missing, unknown or mistyped field: a designated initializer missing a field would be a
silent zero in C.

A field's value, as a lowering gives it: an ``int`` for an integer, a ``float`` for a float, a
list of ints for an array, a dict for a nested struct, and for a pointer the name of a constant
array (or ``"NULL"``), possibly with a cast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from pipeline.config import ROOT
from pipeline.errors import PipelineError

HEADER = ROOT / "firmware" / "kernels" / "include" / "tc_params.h"
TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Constant:
    name: str
    value: int
    doc: str


# Array bounds, shared by the C structs and the lowerings.
CONSTANTS: dict[str, Constant] = {c.name: c for c in (
    Constant("TC_MAX_DIMS", 6, "shapes of up to TC_MAX_DIMS dimensions, padded on the left with 1s"),
    Constant("TC_MEAN_DIMS", 5, "MEAN's input rank bound (TFLM's kMaxNumberOfAxis)"),
    Constant("TC_PAD_DIMS", 5, "PAD's rank bound (TFLM's PadKernelMaxDimensionCount)"),
    Constant("TC_CONCAT_MAX_INPUTS", 10, "CONCATENATION's input count bound (TFLM's kMaxInputNum)"),
)}


@dataclass(frozen=True)
class Field:
    name: str
    ctype: str  # int32_t, float, a pointer type ("const int32_t *") or a struct of STRUCTS
    doc: str = ""
    count: str | int = 0  # array length (a CONSTANTS name or a number); 0: not an array

    @property
    def length(self) -> int:
        return CONSTANTS[self.count].value if isinstance(self.count, str) else self.count

    @property
    def is_pointer(self) -> bool:
        return self.ctype.endswith("*")


@dataclass(frozen=True)
class Struct:
    name: str
    doc: str
    fields: tuple[Field, ...]


def _i32(*names: str, doc: str = "") -> tuple[Field, ...]:
    return tuple(Field(n, "int32_t", doc) for n in names)


def _dims(*names: str, count: str, doc: str = "") -> tuple[Field, ...]:
    return tuple(Field(n, "int32_t", doc, count) for n in names)


_S = Struct
STRUCTS: dict[str, Struct] = {s.name: s for s in (
    _S("tc_dims_t", "A 4-D shape, NHWC.", _i32("n", "h", "w", "c")),
    _S("tc_range_t", "Clamp range of the fused activation, in output quantized units.", _i32("min", "max")),
    _S("tc_conv_params_t", "CONV_2D and DEPTHWISE_CONV_2D.", (
        Field("input", "tc_dims_t"),
        Field("filter", "tc_dims_t", "conv: [out_ch, kh, kw, in_ch/groups]; depthwise: [1, kh, kw, out_ch]"),
        Field("output", "tc_dims_t"),
        *_i32("stride_h", "stride_w", "dilation_h", "dilation_w"),
        *_i32("pad_h", "pad_w", doc="padding before the first row / column"),
        Field("depth_multiplier", "int32_t", "depthwise only"),
        Field("input_offset", "int32_t", "-input zero point"),
        Field("output_offset", "int32_t", "output zero point"),
        Field("act", "tc_range_t"),
        Field("multiplier", "const int32_t *", "per output channel"),
        Field("shift", "const int32_t *", "per output channel, left shift if > 0"),
    )),
    _S("tc_fc_params_t",
       "FULLY_CONNECTED: output[b][o] = sum_d (filter[o][d] + filter_offset) * (input[b][d] + input_offset).", (
           *_i32("batches", "input_depth", "output_depth", "input_offset", "filter_offset", "output_offset"),
           Field("act", "tc_range_t"),
           Field("multiplier", "const int32_t *", "output_depth entries if per_channel, else one"),
           Field("shift", "const int32_t *"),
           Field("per_channel", "int32_t"),
       )),
    _S("tc_pool_params_t", "AVERAGE_POOL_2D and MAX_POOL_2D.", (
        Field("input", "tc_dims_t"), Field("output", "tc_dims_t"),
        *_i32("filter_h", "filter_w", "stride_h", "stride_w", "pad_h", "pad_w"),
        Field("act", "tc_range_t"),
    )),
    _S("tc_broadcast_t", "Broadcasting of two inputs to the output shape: element strides, 0 along broadcast "
       "dimensions.", (
           *_dims("dims", count="TC_MAX_DIMS", doc="output shape"),
           *_dims("in1_strides", count="TC_MAX_DIMS", doc="input 1 element stride per output dimension"),
           *_dims("in2_strides", count="TC_MAX_DIMS", doc="input 2 element stride per output dimension"),
       )),
    _S("tc_add_params_t", "ADD: both inputs rescaled to a common scale (times 2^left_shift), summed, rescaled "
       "to the output.", (
           Field("shape", "tc_broadcast_t"),
           *_i32("input1_offset", "input2_offset", doc="-zero points"),
           Field("output_offset", "int32_t", "output zero point"),
           Field("left_shift", "int32_t", "20 for int8"),
           *_i32("input1_multiplier", "input1_shift", "input2_multiplier", "input2_shift",
                 "output_multiplier", "output_shift"),
           Field("act", "tc_range_t"),
       )),
    _S("tc_mul_params_t", "MUL: (in1 + offset1) * (in2 + offset2) rescaled by scale1 * scale2 / output scale.", (
        Field("shape", "tc_broadcast_t"),
        *_i32("input1_offset", "input2_offset", doc="-zero points"),
        Field("output_offset", "int32_t", "output zero point"),
        *_i32("output_multiplier", "output_shift"),
        Field("act", "tc_range_t"),
    )),
    _S("tc_unary_params_t", "Element-wise requantizing ops: RELU, RELU6, LEAKY_RELU, QUANTIZE (int8 -> int8).", (
        Field("size", "int32_t", "elements"),
        *_i32("input_zero_point", "output_zero_point"),
        *_i32("multiplier", "shift", doc="input scale / output scale (LEAKY_RELU: for x >= 0)"),
        *_i32("alpha_multiplier", "alpha_shift", doc="LEAKY_RELU: alpha * input scale / output scale, x < 0"),
        Field("act", "tc_range_t", "RELU: clamp range; RELU6: [q(0), q(6)] in input units"),
    )),
    _S("tc_affine_params_t", "QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 at the graph's edges.", (
        Field("size", "int32_t"),
        Field("zero_point", "int32_t", "of the int8 side"),
        Field("scale", "float", "of the int8 side"),
    )),
    _S("tc_sigmoid_params_t", "LOGISTIC and TANH, int8: input rescaled to Q4.27, gemmlowp fixed-point function.", (
        *_i32("size", "input_zero_point"),
        Field("input_range_radius", "int32_t", "|input - zero point| at or beyond which the output saturates"),
        *_i32("input_multiplier", "input_left_shift"),
    )),
    _S("tc_hard_swish_params_t", "HARD_SWISH, int8 (TFLM's 16-bit fixed-point reference).", (
        *_i32("size", "input_zero_point", "output_zero_point"),
        Field("output_multiplier", "int32_t", "int16 fixed-point: (input scale / 128) / output scale"),
        Field("output_exponent", "int32_t", "<= 0"),
        Field("reluish_multiplier", "int32_t", "int16 fixed-point: (input scale / 128) / (3 / 32768)"),
        Field("reluish_exponent", "int32_t"),
    )),
    _S("tc_softmax_params_t", "SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128), over the last "
       "dimension.", (
           *_i32("outer_size", "depth"),
           *_i32("input_multiplier", "input_left_shift", doc="beta * input scale in Q5.26"),
           Field("diff_min", "int32_t", "differences below this contribute exp() = 0"),
       )),
    _S("tc_mean_params_t", "MEAN, int8, over up to TC_MEAN_DIMS dimensions (TFLM's QuantizedMeanOrSum, also for "
       "equal quantization).", (
           Field("dims", "int32_t", "input shape", "TC_MEAN_DIMS"),
           Field("reduce", "int32_t", "1 for a reduced dimension", "TC_MEAN_DIMS"),
           Field("count", "int32_t", "elements summed into each output"),
           *_i32("input_zero_point", "output_zero_point"),
           *_i32("multiplier", "shift", doc="input scale / output scale / count, as TFLM folds it"),
       )),
    _S("tc_pad_params_t", "PAD and PADV2, int8, up to TC_PAD_DIMS dimensions.", (
        Field("input", "int32_t", "input shape", "TC_PAD_DIMS"),
        Field("output", "int32_t", "output shape", "TC_PAD_DIMS"),
        Field("before", "int32_t", "padding before the first element of each dimension", "TC_PAD_DIMS"),
        Field("pad_value", "int32_t"),
    )),
    _S("tc_concat_params_t", "CONCATENATION, int8, inputs and output with the same quantization.", (
        Field("inputs_count", "int32_t"),
        Field("outer_size", "int32_t", "product of the dimensions before the axis"),
        Field("copy_size", "int32_t", "per input: product of its dimensions from the axis on",
              "TC_CONCAT_MAX_INPUTS"),
    )),
    _S("tc_requant_ch_t", "DSP build: the split requantization's constants of one output channel.", (
        Field("multiplier", "int32_t", "tc_requantize's multiplier"),
        Field("left_shift", "int32_t", "max(shift, 0)"),
        Field("right_shift", "int32_t", "max(-shift, 0)"),
        Field("mask", "int32_t", "(1 << right_shift) - 1"),
        Field("threshold", "int32_t", "(mask >> 1) + 1: round up from here, one more below zero"),
    )),
    _S("tc_requant_x2_t", "DSP build: the shorter epilogue, on a doubled accumulator (filter and bias doubled by "
       "the generator), for a right shift e of 1 to 22: tc_requantize_x2 in kernels/arm/tc_requant_dsp.h.", (
           Field("multiplier", "int32_t"),
           Field("right", "int32_t", "e"),
           Field("round_zp", "int32_t", "2^(e-1) + zp * 2^e"),
       )),
    _S("tc_gemv_x2_block_t", "The x2 epilogue's constants of one block of 4 output channels, read in this "
       "order.", (
           Field("bias", "int32_t", "doubled; zeros where the model has none or past the channels (the packed "
                 "form: the starting accumulators, in its filter stream)", 4),
           Field("quant", "tc_requant_x2_t", "", 4),
       )),
    _S("tc_gemv_params_t", "The product of one int16 row with `channels` filters: shapes, epilogue constants. "
       "Either the split epilogue's constants, rounded up to 4 channels (x2 NULL), or, filter and bias doubled, "
       "the x2 epilogue's, per block of 4 channels (bias, quant NULL).", (
           Field("blocks", "int32_t", "row length / 8: the row and every filter zero-padded to it"),
           Field("channels", "int32_t", "output channels; filters come in blocks of 4 (zero-padded)"),
           Field("output_offset", "int32_t"),
           Field("act", "tc_range_t"),
           Field("bias", "const int32_t *"),
           Field("quant", "const tc_requant_ch_t *"),
           Field("x2", "const tc_gemv_x2_block_t *", "the packed form (tc_gemv_s8p): its filter stream, which "
                 "holds each block's constants around its filter"),
       )),
    _S("tc_conv_wide_params_t", "CONV_2D, one group: each output position's patch gathered into int16 scratch "
       "(value + input offset, 0 at padding, pairs in SXTB16 order), then one tc_gemv_params_t product.", (
           Field("input", "tc_dims_t"), Field("output", "tc_dims_t"),
           *_i32("filter_h", "filter_w", "stride_h", "stride_w", "dilation_h", "dilation_w", "pad_h", "pad_w",
                 "input_offset"),
           Field("staged_channels", "int32_t", "a multiple of 4: the filters (and x2 epilogue blocks) of the "
                 "first staged_channels channels are copied once per layer into the scratch after the row, so "
                 "that every output position reads them from SRAM, not flash; the rest stay in flash"),
           Field("gemv", "tc_gemv_params_t"),
       )),
    _S("tc_fc_wide_params_t", "FULLY_CONNECTED: each batch row widened into int16 scratch (value + input "
       "offset).", (
           *_i32("batches", "input_depth", "input_offset"),
           Field("gemv", "tc_gemv_params_t"),
       )),
    _S("tc_add_tables_params_t", "DSP build: ADD of two same-shape inputs; each input's rescaling (which depends "
       "on its int8 only) is a generated table, indexed by the unsigned byte: table[(uint8_t)x] = "
       "requant((x - zp) << 20, m, s).", (
           Field("size", "int32_t", "elements"),
           Field("table1", "const int32_t *", "256 entries"),
           Field("table2", "const int32_t *", "256 entries"),
           *_i32("output_multiplier", "output_shift"),
           Field("output_offset", "int32_t", "output zero point"),
           Field("act", "tc_range_t"),
       )),
)}


class ParamsError(PipelineError):
    """A lowering's parameter values do not match the struct's description (a generator bug)."""


def _scalar(value: Any, field: Field, where: str) -> str:
    if field.is_pointer:
        if not isinstance(value, str) or not value:
            raise ParamsError(f"{where}: pointer field {field.name} wants a constant's name or NULL, got {value!r}")
        return value
    if field.ctype == "float":
        if not isinstance(value, float | np.floating):
            raise ParamsError(f"{where}: float field {field.name} wants a float, got {value!r}")
        return f"{float(value)!r}f"
    if field.ctype in STRUCTS:
        if not isinstance(value, dict):
            raise ParamsError(f"{where}: field {field.name} ({field.ctype}) wants a dict of its fields, got {value!r}")
        return initializer(field.ctype, value, f"{where}.{field.name}")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParamsError(f"{where}: integer field {field.name} wants an int, got {value!r}")
    return str(int(value))


def _value(value: Any, field: Field, where: str) -> str:
    if not field.count:
        return _scalar(value, field, where)
    if not isinstance(value, list | tuple) or len(value) != field.length:
        raise ParamsError(f"{where}: field {field.name} wants {field.length} values, got {value!r}")
    return "{" + ", ".join(_scalar(v, field, f"{where}.{field.name}[{i}]") for i, v in enumerate(value)) + "}"


def fields(struct: str, values: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """(field, C initializer) of every field of ``struct``, in declaration order, from ``values``;
    ParamsError for a missing, unknown or mistyped field."""
    if struct not in STRUCTS:
        raise ParamsError(f"{where}: {struct} is not a parameter struct of pipeline/codegen/params.py")
    declared = STRUCTS[struct].fields
    names = [f.name for f in declared]
    missing = [n for n in names if n not in values]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
        raise ParamsError(f"{where}: {struct} initializer" + (f" lacks {', '.join(missing)}" if missing else "")
                          + (" and" if missing and unknown else "")
                          + (f" has no field {', '.join(unknown)}" if unknown else ""))
    return [(f.name, _value(values[f.name], f, where)) for f in declared]


def initializer(struct: str, values: dict[str, Any], where: str) -> str:
    """A nested struct's C designated initializer, every field checked as :func:`fields` does."""
    return "{" + ", ".join(f".{name} = {value}" for name, value in fields(struct, values, where)) + "}"


def render_header() -> str:
    """tc_params.h, from CONSTANTS and STRUCTS."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template("tc_params.h.j2").render(constants=list(CONSTANTS.values()),
                                                     structs=list(STRUCTS.values()))


def main() -> int:
    """Rewrite firmware/kernels/include/tc_params.h from the description."""
    HEADER.write_text(render_header())
    print(f"wrote {HEADER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
