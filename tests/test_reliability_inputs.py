"""Broken inputs: .tflite files and configs are refused with a message naming the file (and the key)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import pipeline as pl
from pipeline.config import BUILD_DIR, ROOT, load_config
from pipeline.entry import run_until
from pipeline.errors import ConfigError, ModelFormatError
from pipeline.pipeline import ModelBuild
from pipeline.tflite.reader import read_model


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _corrupted(data: bytes) -> bytes:
    return (0xFFFFFF00).to_bytes(4, "little") + data[4:]  # the root table offset points past the end


def _not_flatbuffer(_data: bytes) -> bytes:
    return b"this is a text file, not a TFLite model\n" * 4


def _empty(_data: bytes) -> bytes:
    return b""


BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (_truncated, "corrupt TFLite flatbuffer: .* outside the .*-byte file"),
    "corrupted": (_corrupted, "corrupt TFLite flatbuffer: read of 4 bytes at offset 4294967040"),
    "not_flatbuffer": (_not_flatbuffer, "not a TFLite flatbuffer"),
    "empty": (_empty, "the file is empty"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_tflite_is_refused_naming_the_file_and_nothing_is_generated(
        digits_model: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    mutate, message = BROKEN[kind]
    bad = tmp_path / "in" / f"{kind}.tflite"
    bad.parent.mkdir()
    bad.write_bytes(mutate(digits_model.tflite.read_bytes()))
    monkeypatch.setattr(pl, "BUILD_DIR", tmp_path / "build")
    build = pl.model_build(tflite=bad)
    with pytest.raises(ModelFormatError, match=message) as info:
        run_until(build, "codegen")
    assert str(bad) in str(info.value)
    assert not build.generated.exists(), f"{build.generated} was written for a broken model"
    with pytest.raises(ModelFormatError, match=message):
        read_model(bad)


def test_invoke_all_with_an_empty_tflite_stops_with_the_file_named(tmp_path: Path) -> None:
    stem = "reliability_empty_model"
    bad = tmp_path / f"{stem}.tflite"
    bad.write_bytes(b"")
    try:
        proc = subprocess.run([sys.executable, "-m", "invoke", "all", "--tflite", str(bad), "--emulator", "qemu"],
                              cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert f"error: {bad}: the file is empty, not a TFLite model" in proc.stderr, proc.stderr
        assert not (BUILD_DIR / stem / "generated").exists()
        assert "[codegen]" not in proc.stdout
    finally:
        shutil.rmtree(BUILD_DIR / stem, ignore_errors=True)


VALID_CONFIG = """
[model]
name = "byo"

[budgets]
max_flash_bytes = 65536
"""

BAD_CONFIGS = {
    "missing_key": ('[model]\ndescription = "no name"\n', r"missing key 'name' in \[model\]"),
    "mistyped_key": (VALID_CONFIG + "max_flash_byte = 100\n",
                     r"unknown key 'max_flash_byte' in \[budgets\] \(mistyped\?\)"),
    "budget_not_a_number": (VALID_CONFIG + 'max_ram_bytes = "lots"\n',
                            r"\[budgets\] max_ram_bytes = 'lots' must be a number"),
    "input_shape_not_ints": ('[model]\nname = "byo"\ninput_shape = [1, -8, 8]\n',
                             r"\[model\] input_shape = \[1, -8, 8\] must be a list of positive integers"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CONFIGS))
def test_bad_config_is_a_config_error_naming_file_and_key(digits_model: ModelBuild, tmp_path: Path, kind: str) -> None:
    text, message = BAD_CONFIGS[kind]
    config = tmp_path / f"{kind}.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        pl.model_build(tflite=digits_model.tflite, config=config)
    assert str(info.value).startswith(f"{config}: ")
    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_config_input_shape_that_disagrees_with_the_model_is_refused_before_anything_is_written(
        digits_model: ModelBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "shape.toml"
    config.write_text('[model]\nname = "byo"\ninput_shape = [1, 28, 28, 1]\n')
    tflite = digits_model.tflite
    monkeypatch.setattr(pl, "BUILD_DIR", tmp_path / "build")
    build = pl.model_build(tflite=tflite, config=config)
    with pytest.raises(ConfigError) as info:
        run_until(build, "codegen")
    assert str(info.value) == (f"{config}: [model] input_shape = [1, 28, 28, 1], but {tflite} "
                               "takes input shape [1, 8, 8, 1]")
    assert not build.tflite.exists() and not build.generated.exists()


def test_config_input_shape_that_agrees_passes(digits_model: ModelBuild, tmp_path: Path) -> None:
    config = tmp_path / "shape.toml"
    config.write_text('[model]\nname = "byo"\ninput_shape = [1, 8, 8, 1]\n')
    build = pl.model_build(tflite=digits_model.tflite, config=config)
    pl.check_input_shape(build, read_model(digits_model.tflite))  # no error
