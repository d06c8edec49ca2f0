"""Fuzzing the .tflite reader, validator and lowering: only the project's own errors may come out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import pipeline.analyses.fuzz as fuzz
from pipeline.config import ROOT
from pipeline.errors import ModelFormatError, UnsupportedModelError
from pipeline.pipeline import ModelBuild
from pipeline.tflite import schema as s
from pipeline.tflite.flatbuf import Buffer, Table
from pipeline.tflite.reader import parse_model

KWS = ROOT / "tests" / "fixtures" / "fuzz" / "kws_ref_model.tflite"


def test_fifteen_hundred_mutated_models_give_only_pipeline_errors(digits_model: ModelBuild) -> None:
    report = fuzz.fuzz_tflite([digits_model.tflite, KWS], count=1500, seed=20261128)
    assert report.inputs == 1500
    assert report.findings == [], report.summary()
    assert report.accepted > 0 and report.refused["ModelFormatError"] > 0, report.summary()
    assert report.accepted + sum(report.refused.values()) == 1500


def test_a_crash_is_reported_as_a_finding_with_its_replay(digits_model: ModelBuild,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(data: bytes, path: Path) -> str:
        raise IndexError("boom")

    monkeypatch.setattr(fuzz, "check_input", crash)
    report = fuzz.fuzz_tflite([digits_model.tflite], count=3, seed=5)
    assert [f.index for f in report.findings] == [0, 1, 2]
    assert report.findings[0].error == "IndexError: boom"
    assert "replay: pipeline.analyses.fuzz.replay(seeds, seed=5, index=0)" in report.summary()
    assert "digits.tflite" in report.findings[0].mutation


def test_a_hang_is_a_finding(digits_model: ModelBuild, monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[int] = []

    def hang(data: bytes, path: Path) -> str:
        time.sleep(120)  # interrupted by the time limit, or the test fails below
        finished.append(1)
        return "accepted"

    monkeypatch.setattr(fuzz, "check_input", hang)
    report = fuzz.fuzz_tflite([digits_model.tflite], count=2, seed=5, time_limit_s=0.2)
    assert not finished, "the fuzzer waited for a hung check instead of stopping it at its time limit"
    assert [f.error for f in report.findings] == ["hang (> 0.2 s)"] * 2


def test_replay_gives_the_same_mutation(digits_model: ModelBuild, capsys: pytest.CaptureFixture[str]) -> None:
    fuzz.replay([digits_model.tflite], seed=3, index=17)
    first = capsys.readouterr().out
    fuzz.replay([digits_model.tflite], seed=3, index=17)
    assert capsys.readouterr().out == first


# --- regressions: findings of the fuzzer, fixed in the reader / validator --------------------------------


def _first_op(data: bytes, opcode: str) -> tuple[Table, Table]:
    """(graph, operator table) of the first operator with this opcode."""
    buf = Buffer(data, Path("x"))
    root = buf.root()
    model = parse_model(data, Path("x"))
    graph = root.tables(s.MODEL_SUBGRAPHS)[0]
    index = next(op.index for op in model.operators if op.opcode == opcode)
    return graph, graph.tables(s.SUBGRAPH_OPERATORS)[index]


def _field_pos(table: Table, field_id: int) -> int:
    off = table._offset(field_id)
    assert off, f"field {field_id} absent"
    return table.pos + off


def _patched(data: bytes, pos: int, value: int, size: int = 4) -> bytes:
    return data[:pos] + value.to_bytes(size, "little", signed=value < 0) + data[pos + size:]


def _vector_start(table: Table, field_id: int) -> int:
    at = _field_pos(table, field_id)
    return at + int.from_bytes(table.buf.data[at:at + 4], "little") + 4


def test_stride_zero_is_a_model_format_error(digits_model: ModelBuild) -> None:
    data = digits_model.tflite.read_bytes()
    _, conv = _first_op(data, "CONV_2D")
    options = conv.table(s.OPERATOR_OPTIONS)
    assert options is not None
    bad = _patched(data, _field_pos(options, 1), 0)  # stride_w
    with pytest.raises(ModelFormatError, match=r"x: corrupt .* operator \d+ \(CONV_2D\) has stride_w = 0"):
        parse_model(bad, Path("x"))


def test_negative_dimension_is_a_model_format_error(digits_model: ModelBuild) -> None:
    data = digits_model.tflite.read_bytes()
    graph, _ = _first_op(data, "CONV_2D")
    tensor = graph.tables(s.SUBGRAPH_TENSORS)[0]
    bad = _patched(data, _vector_start(tensor, s.TENSOR_SHAPE), -3)
    with pytest.raises(ModelFormatError, match=r"tensor 0 .* has a negative dimension in its shape \[-3,"):
        parse_model(bad, Path("x"))


def test_constant_shape_larger_than_its_buffer_is_a_model_format_error(digits_model: ModelBuild) -> None:
    data = digits_model.tflite.read_bytes()
    model = parse_model(data, Path("x"))
    graph, _ = _first_op(data, "CONV_2D")
    const = next(t for t in model.tensors if t.is_constant and len(t.shape) == 4)
    bad = _patched(data, _vector_start(graph.tables(s.SUBGRAPH_TENSORS)[const.index], s.TENSOR_SHAPE), 1000)
    with pytest.raises(ModelFormatError, match=rf"constant tensor {const.index} .* holds \d+ bytes, its shape \[1000,"):
        parse_model(bad, Path("x"))


def test_operator_missing_an_input_is_an_unsupported_model_error(digits_model: ModelBuild) -> None:
    from pipeline.codegen.generator import lower_model

    data = digits_model.tflite.read_bytes()
    _, fc = _first_op(data, "FULLY_CONNECTED")
    inputs_len = _vector_start(fc, s.OPERATOR_INPUTS) - 4
    bad = _patched(data, inputs_len, 1)  # FULLY_CONNECTED with only its data input
    message = r"x: op \d+ \(FULLY_CONNECTED\): has 1 inputs .* input 1 is required"
    with pytest.raises(UnsupportedModelError, match=message):
        lower_model(parse_model(bad, Path("x")))
