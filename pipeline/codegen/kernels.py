"""The kernel manifest: every C kernel the generator may call, declared once.

Each :class:`Kernel` names its C function, the kernel set it belongs to, the files that
build it (relative to ``firmware/kernels/``), its parameter struct and the preconditions
under which a lowering (``pipeline/codegen/ops/``) may choose it. Read by

- the generator: every layer's call, per kernel set, must be a kernel of that set (or of a
  set it falls back to) taking the declared struct; ``model.c`` gets one ``#if`` chain per
  layer over the sets' defines, and ``kernels.cmake`` the sources each set's build compiles;
- CMake (``firmware/CMakeLists.txt``): the model directory's ``kernels.cmake``;
- ``invoke export``: the sources and headers of the kernels ``codegen.json`` lists.

A :class:`KernelSet` is a build flavour (``TC_KERNELS=<name>``): the DSP set falls back to the
portable one where a layer has no DSP kernel. A Helium (MVE) set would be one more entry,
falling back to ``dsp``, with its define and its kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import PipelineError


@dataclass(frozen=True)
class KernelSet:
    name: str  # TC_KERNELS=<name>
    define: str  # the C macro its build defines ("" for portable: the #else of every chain)
    fallback: str  # the set whose kernel a layer takes when it has none of this set ("" for portable)
    summary: str  # one line for the export's README: what the target must have


PORTABLE = KernelSet("portable", "", "", "plain C11: any target")
DSP = KernelSet("dsp", "TC_KERNELS_DSP", "portable",
                "the Armv7E-M DSP instructions (ACLE `__sxtab16`, `__smlad`): Cortex-M4, M7, M33/M55 with DSP, "
                "e.g. `-mcpu=cortex-m4`")
# Most specific first: the order of a layer's #if / #elif chain in model.c.
KERNEL_SETS: dict[str, KernelSet] = {s.name: s for s in (DSP, PORTABLE)}


@dataclass(frozen=True)
class Kernel:
    function: str  # the C function
    kernel_set: str  # a KERNEL_SETS name
    sources: tuple[str, ...]  # .c files under firmware/kernels/, the defining one first
    headers: tuple[str, ...]  # the quoted headers they include, under firmware/kernels/
    params: str  # the parameter struct type
    ops: tuple[str, ...]  # the TFLite ops it runs
    preconditions: str  # when the lowering may choose it (the lowering that checks it, in parentheses)


_DECLS = ("include/tc_kernels.h", "include/tc_params.h")  # prototypes, parameter structs
MODEL_C_HEADERS = _DECLS  # what the generated model.c includes from firmware/kernels/, kernels or not
_BASE = (*_DECLS, "include/tc_requant.h")
_DSP_H = ("arm/tc_dsp_common.h", "arm/tc_requant_dsp.h", *_BASE)
_GEMV_H = ("arm/tc_dsp.h", *_DSP_H)
_GEMV_FORM_H = ("arm/tc_gemv_form.h", *_GEMV_H)  # the kernels built with arm/tc_gemv_s16.c
_FIXED = ("include/tc_fixedpoint.h", *_BASE)


def _portable(function: str, params: str, ops: tuple[str, ...], headers: tuple[str, ...] = _BASE,
              source: str = "") -> Kernel:
    return Kernel(function, "portable", (source or f"{function}.c",), headers, params, ops, "any")


KERNELS: tuple[Kernel, ...] = (
    _portable("tc_conv2d_s8", "tc_conv_params_t", ("CONV_2D",)),
    _portable("tc_depthwise_conv2d_s8", "tc_conv_params_t", ("DEPTHWISE_CONV_2D",)),
    _portable("tc_fully_connected_s8", "tc_fc_params_t", ("FULLY_CONNECTED",)),
    _portable("tc_avg_pool_s8", "tc_pool_params_t", ("AVERAGE_POOL_2D",), source="tc_pool_s8.c"),
    _portable("tc_max_pool_s8", "tc_pool_params_t", ("MAX_POOL_2D",), source="tc_pool_s8.c"),
    _portable("tc_add_s8", "tc_add_params_t", ("ADD",), ("include/tc_broadcast.h", *_BASE)),
    _portable("tc_mul_s8", "tc_mul_params_t", ("MUL",), ("include/tc_broadcast.h", *_BASE)),
    _portable("tc_relu_s8", "tc_unary_params_t", ("RELU",)),
    _portable("tc_relu6_s8", "tc_unary_params_t", ("RELU6",)),
    _portable("tc_leaky_relu_s8", "tc_unary_params_t", ("LEAKY_RELU",)),
    _portable("tc_requantize_s8", "tc_unary_params_t", ("QUANTIZE",)),
    _portable("tc_quantize_f32_s8", "tc_affine_params_t", ("QUANTIZE",)),
    _portable("tc_dequantize_s8_f32", "tc_affine_params_t", ("DEQUANTIZE",), _DECLS),
    _portable("tc_logistic_s8", "tc_sigmoid_params_t", ("LOGISTIC",), ("include/tc_sigmoid.h", *_FIXED)),
    _portable("tc_tanh_s8", "tc_sigmoid_params_t", ("TANH",), ("include/tc_sigmoid.h", *_FIXED)),
    _portable("tc_hard_swish_s8", "tc_hard_swish_params_t", ("HARD_SWISH",), _FIXED),
    _portable("tc_softmax_s8", "tc_softmax_params_t", ("SOFTMAX",), _FIXED),
    _portable("tc_mean_s8", "tc_mean_params_t", ("MEAN",)),
    _portable("tc_pad_s8", "tc_pad_params_t", ("PAD", "PADV2"), _DECLS),
    _portable("tc_concatenation_s8", "tc_concat_params_t", ("CONCATENATION",), _DECLS),
    Kernel("tc_conv2d_s8_wide", "dsp", ("arm/tc_conv2d_s8_wide.c", "arm/tc_gemv_s16.c"), _GEMV_FORM_H,
           "tc_conv_wide_params_t", ("CONV_2D",),
           "one group; every multiplier in [2^30, 2^31) (ops/conv.py _conv_wide, wide_gemv)"),
    Kernel("tc_conv2d_s8_dsp", "dsp", ("arm/tc_conv2d_s8_dsp.c",), _GEMV_H, "tc_conv_params_t", ("CONV_2D",),
           "any: where tc_conv2d_s8_wide is refused (grouped, a zero multiplier)"),
    Kernel("tc_fully_connected_s8_wide", "dsp", ("arm/tc_fully_connected_s8_wide.c", "arm/tc_gemv_s16.c"),
           _GEMV_FORM_H, "tc_fc_wide_params_t", ("FULLY_CONNECTED",),
           "every multiplier in [2^30, 2^31) (ops/fully_connected.py _fc_wide, ops/conv.py wide_gemv)"),
    Kernel("tc_fully_connected_s8_packed", "dsp", ("arm/tc_fully_connected_s8_wide.c", "arm/tc_gemv_s16.c"),
           _GEMV_FORM_H, "tc_fc_wide_params_t", ("FULLY_CONNECTED",),
           "as tc_fully_connected_s8_wide, and the packed filter's bounds (ops/fully_connected.py _fc_wide, "
           "ops/conv.py packed_fits)"),
    Kernel("tc_fully_connected_s8_dsp", "dsp", ("arm/tc_fully_connected_s8_dsp.c",), _GEMV_H, "tc_fc_params_t",
           ("FULLY_CONNECTED",), "any: where tc_fully_connected_s8_wide is refused (a zero multiplier)"),
    Kernel("tc_depthwise_conv2d_s8_planes", "dsp", ("arm/tc_depthwise_conv2d_s8_planes.c",), _DSP_H,
           "tc_conv_params_t", ("DEPTHWISE_CONV_2D",),
           "depth multiplier 1, partial sums of the doubled accumulator below 2^30 (ops/depthwise.py _dsp_variant)"),
    Kernel("tc_depthwise_conv2d_s8_groups", "dsp", ("arm/tc_depthwise_conv2d_s8_groups.c",), _DSP_H,
           "tc_conv_params_t", ("DEPTHWISE_CONV_2D",),
           "depth multiplier 1, 3x3, no dilation, stride 1 or 2, depth a multiple of 4, a small output "
           "plane, x2's shifts (ops/depthwise.py _groups_variant)"),
    Kernel("tc_add_s8_tables", "dsp", ("arm/tc_add_s8_tables.c",), _DSP_H, "tc_add_tables_params_t", ("ADD",),
           "same-shape inputs, the doubled table sums within int32 (ops/elementwise.py _add_dsp)"),
    Kernel("tc_avg_pool_s8_simd", "dsp", ("arm/tc_avg_pool_s8_simd.c",), _DSP_H, "tc_pool_params_t",
           ("AVERAGE_POOL_2D",), "windows of at most 255 values (ops/pool.py SIMD_MAX_WINDOW)"),
)

BY_FUNCTION: dict[str, Kernel] = {k.function: k for k in KERNELS}


class KernelManifestError(PipelineError):
    """A lowering chose a kernel the manifest does not declare for the set, or with another struct."""


def fallback_chain(kernel_set: str) -> list[str]:
    """The set and the sets it falls back to, most specific first: ``dsp`` -> [dsp, portable]."""
    chain = []
    while kernel_set:
        chain.append(kernel_set)
        kernel_set = KERNEL_SETS[kernel_set].fallback
    return chain


def check_choice(function: str, kernel_set: str, op: str, params: str, where: str) -> Kernel:
    """The manifest's kernel ``function``, which an ``op`` layer calls in ``kernel_set``'s build with ``params``."""
    kernel = BY_FUNCTION.get(function)
    if kernel is None:
        raise KernelManifestError(f"{where}: kernel {function} is not in the manifest (pipeline/codegen/kernels.py)")
    if op not in kernel.ops:
        raise KernelManifestError(f"{where}: {function} runs {', '.join(kernel.ops)}, not {op}")
    if kernel.kernel_set not in fallback_chain(kernel_set):
        raise KernelManifestError(f"{where}: {function} is a {kernel.kernel_set} kernel, "
                                  f"not available to the {kernel_set} build")
    if kernel.params != params:
        raise KernelManifestError(f"{where}: {function} takes {kernel.params}, the lowering gave {params}")
    return kernel


def files_of(functions: set[str] | list[str]) -> tuple[list[str], list[str]]:
    """The sources and headers (relative to firmware/kernels/, sorted, each once) of ``functions``."""
    sources = sorted({s for f in functions for s in BY_FUNCTION[f].sources})
    headers = sorted({h for f in functions for h in BY_FUNCTION[f].headers})
    return sources, headers
