"""What the code generator refuses, and how: every message names the model, the op or tensor and
its index; a refusal or a failed write leaves no generated code behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as sch

from pipeline.codegen import params
from pipeline.codegen.generator import GENERATED_FILES, generate
from pipeline.codegen.kernels import KERNEL_SETS, KernelManifestError, files_of
from pipeline.codegen.lowering import LOWERINGS, Layer, LoweringContext
from pipeline.codegen.validate import supported_ops
from pipeline.errors import UnsupportedModelError
from pipeline.optest.patch import load_model_t, save_model_t
from pipeline.tflite.reader import read_model
from tests.conftest import MLPERF_DIR

KWS = MLPERF_DIR / "kws_ref_model.tflite"  # CONV_2D ... FULLY_CONNECTED, SOFTMAX


def _patched(tmp_path: Path, edit: Callable[[Any], None]) -> Path:
    assert KWS.is_file(), f"{KWS} is missing"
    model = load_model_t(KWS.read_bytes())
    edit(model)
    path = tmp_path / "patched.tflite"
    path.write_bytes(save_model_t(model))
    return path


def _refusal(path: Path, out: Path) -> str:
    with pytest.raises(UnsupportedModelError) as err:
        generate(read_model(path), out, "m", np.zeros((1, 1), np.int8))
    assert not any((out / f).exists() for f in GENERATED_FILES), "a refusal left generated files"
    return str(err.value)


def _set_opcode(op_index: int, code: int) -> Callable[[Any], None]:
    def edit(model: Any) -> None:
        op = model.subgraphs[0].operators[op_index]
        model.operatorCodes.append(sch.OperatorCodeT())
        model.operatorCodes[-1].builtinCode = model.operatorCodes[-1].deprecatedBuiltinCode = code
        model.operatorCodes[-1].version = 1
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.builtinOptionsType, op.builtinOptions = 0, None
    return edit


@pytest.mark.parametrize(("op_index", "name"), [(0, "TRANSPOSE_CONV"), (11, "UNIDIRECTIONAL_SEQUENCE_LSTM")])
def test_an_unsupported_op_is_named_with_its_index_and_the_supported_list(
        tmp_path: Path, op_index: int, name: str) -> None:
    code = getattr(sch.BuiltinOperator, name)
    message = _refusal(_patched(tmp_path, _set_opcode(op_index, code)), tmp_path / "out")
    assert f"op {op_index} is {name}, which the code generator does not support" in message
    assert "patched.tflite" in message
    assert "Supported ops: " + ", ".join(supported_ops()) in message


def test_int16_activations_are_refused_as_the_16x8_mode(tmp_path: Path) -> None:
    def edit(model: Any) -> None:
        t = model.subgraphs[0].operators[1].outputs[0]
        model.subgraphs[0].tensors[t].type = sch.TensorType.INT16
    message = _refusal(_patched(tmp_path, edit), tmp_path / "out")
    assert "op 1 (DEPTHWISE_CONV_2D)" in message and "is int16" in message and "16x8" in message


def test_a_float32_activation_inside_the_graph_is_refused(tmp_path: Path) -> None:
    def edit(model: Any) -> None:
        t = model.subgraphs[0].operators[4].outputs[0]
        model.subgraphs[0].tensors[t].type = sch.TensorType.FLOAT32
    message = _refusal(_patched(tmp_path, edit), tmp_path / "out")
    assert "op 4 (CONV_2D)" in message and "is float32" in message
    assert "first QUANTIZE op or the output of a last DEQUANTIZE op" in message


def test_a_dynamic_shape_is_refused(tmp_path: Path) -> None:
    def edit(model: Any) -> None:
        graph = model.subgraphs[0]
        tensor = graph.tensors[graph.inputs[0]]
        tensor.shapeSignature = [1, -1, *list(tensor.shape)[2:]]
    message = _refusal(_patched(tmp_path, edit), tmp_path / "out")
    assert "has a dynamic shape" in message and "-1" in message


def test_a_refusal_removes_earlier_generated_code_but_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate(read_model(KWS), out, "kws", np.zeros((1, 490), np.int8))
    assert all((out / f).exists() for f in GENERATED_FILES)
    (out / "notes.txt").write_text("mine")
    _refusal(_patched(tmp_path, _set_opcode(0, sch.BuiltinOperator.TRANSPOSE_CONV)), out)
    assert (out / "notes.txt").read_text() == "mine"
    assert not out.with_name("out.tmp").exists()


def test_a_failed_write_leaves_no_partial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = Path.write_text

    def failing_write(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        if self.name == "model.c":
            raise OSError(28, "No space left on device")
        return real_write(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left"):
        generate(read_model(KWS), out, "kws", np.zeros((1, 490), np.int8))
    assert not out.exists()
    assert not out.with_name("out.tmp").exists()


def test_the_int8_api_is_unchanged_and_names_its_types(tmp_path: Path) -> None:
    generate(read_model(KWS), tmp_path / "out", "kws", np.zeros((1, 490), np.int8))
    header = (tmp_path / "out" / "model.h").read_text()
    assert "#define TC_MODEL_INPUT_TYPE int8_t" in header
    assert "#define TC_MODEL_OUTPUT_TYPE int8_t" in header
    assert "int8_t *tc_model_input(void);" in header
    assert "const int8_t *tc_model_output(void);" in header


def test_concatenation_of_differently_quantized_inputs_is_refused(tmp_path: Path) -> None:
    from pipeline.optest.cases import make_case
    from pipeline.optest.runner import CACHE, _convert_missing

    case = next(c for c in (make_case("CONCATENATION", i, 1) for i in range(40)) if c.options["other"] == "const")
    _convert_missing([case], jobs=1)
    model = load_model_t((CACHE / f"{case.key}.tflite").read_bytes())
    graph = model.subgraphs[0]
    concat = next(op for op in graph.operators if len(op.inputs) >= 2)
    quant = graph.tensors[concat.inputs[1]].quantization
    quant.scale = [float(quant.scale[0]) * 2.0]
    path = tmp_path / "concat.tflite"
    path.write_bytes(save_model_t(model))
    message = _refusal(path, tmp_path / "out")
    assert "(CONCATENATION): input 1" in message
    assert "copies bytes without requantizing" in message


def test_the_parameter_struct_header_is_rendered_from_the_description() -> None:
    """tc_params.h is generated (python -m pipeline.codegen.params): a hand edit, or a description edit
    without regenerating, would let the C structs and the initializers disagree."""
    assert params.HEADER.read_text() == params.render_header(), (
        f"{params.HEADER} is not the rendering of pipeline/codegen/params.py: run python -m pipeline.codegen.params")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda p: p.pop("pad_w"), "tc_conv_params_t initializer lacks pad_w"),
    (lambda p: p.update(pad_ww=p.pop("pad_w")), "lacks pad_w and has no field pad_ww"),
    (lambda p: p["act"].pop("max"), r"\.act: tc_range_t initializer lacks max"),
    (lambda p: p.update(stride_h="1"), "integer field stride_h wants an int"),
    (lambda p: p.update(multiplier=7), "pointer field multiplier wants a constant's name"),
], ids=["missing", "misspelt", "nested missing", "string for an int", "int for a pointer"])
def test_a_wrong_parameter_field_fails_at_generation_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    """In C a designated initializer missing a field is a silent zero: the generator refuses it first."""
    conv = LOWERINGS["CONV_2D"]

    def broken(ctx: LoweringContext) -> Layer:
        layer = conv(ctx)
        edit(layer.params)
        return layer

    monkeypatch.setitem(LOWERINGS, "CONV_2D", broken)
    with pytest.raises(params.ParamsError, match=message) as err:
        generate(read_model(KWS), tmp_path / "gen", "m", np.zeros((1, 1), np.int8))
    assert "op 0 (CONV_2D), tc_conv2d_s8" in str(err.value)
    assert not (tmp_path / "gen" / "model.c").exists()


@pytest.mark.parametrize(("kernel_set", "kernel", "params_type", "message"), [
    ("portable", "tc_conv2d_s8_fast", "tc_conv_params_t", "not in the manifest"),
    ("portable", "tc_fully_connected_s8", "tc_fc_params_t", "runs FULLY_CONNECTED, not CONV_2D"),
    ("portable", "tc_conv2d_s8_wide", "tc_conv_wide_params_t", "a dsp kernel, not available to the portable build"),
    ("dsp", "tc_conv2d_s8_dsp", "tc_fc_params_t", "takes tc_conv_params_t, the lowering gave tc_fc_params_t"),
])
def test_a_kernel_the_manifest_does_not_offer_fails_at_generation_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_set: str, kernel: str, params_type: str, message: str
) -> None:
    conv = LOWERINGS["CONV_2D"]

    def chooses(ctx: LoweringContext) -> Layer:
        layer = conv(ctx)
        if kernel_set == "portable":
            layer.kernel, layer.params_type = kernel, params_type
        else:
            layer.variants["dsp"] = layer.variant(kernel=kernel, params_type=params_type)
        return layer

    monkeypatch.setitem(LOWERINGS, "CONV_2D", chooses)
    with pytest.raises(KernelManifestError, match=message):
        generate(read_model(KWS), tmp_path / "gen", "m", np.zeros((1, 1), np.int8))


def test_each_layer_calls_a_kernel_of_each_set_and_kernels_cmake_lists_their_sources(tmp_path: Path) -> None:
    result = generate(read_model(KWS), tmp_path / "gen", "m", np.zeros((1, 490), np.int8))
    by_set = {name: {info.kernels[name] for info in result.layers if info.kernel} for name in KERNEL_SETS}
    assert by_set["portable"] == {"tc_conv2d_s8", "tc_depthwise_conv2d_s8", "tc_avg_pool_s8",
                                  "tc_fully_connected_s8", "tc_softmax_s8"}
    assert by_set["dsp"] == {"tc_conv2d_s8_wide", "tc_depthwise_conv2d_s8_planes", "tc_avg_pool_s8_simd",
                             "tc_fully_connected_s8_packed", "tc_softmax_s8"}
    cmake = (tmp_path / "gen" / "kernels.cmake").read_text()
    for name, functions in by_set.items():
        listed = cmake.split(f"set(TC_KERNEL_SOURCES_{name}\n", 1)[1].split(")", 1)[0].split()
        assert listed == files_of(functions)[0]
    assert "set(TC_KERNEL_DEFINES_dsp TC_KERNELS_DSP)" in cmake
