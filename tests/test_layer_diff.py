"""The per-layer diff (pipeline/analyses/layer_diff.py, `invoke diff`): a fault planted in one layer's
weights in the firmware only is named at that layer, on QEMU and on Renode; without it every layer
is equal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from invoke import Context, Exit

import tasks
from pipeline.analyses import layer_diff
from pipeline.analyses.layer_diff import LayerComparison, LayerDiff, build_dump_firmware, diff_layers, parse_dumps
from pipeline.errors import PipelineError
from pipeline.pipeline import ModelBuild

VECTOR = 3
FAULT_LAYER = 2  # digits: the second CONV_2D, after a CONV_2D and a MAX_POOL_2D that stay equal


def flip_weight_byte(elf: Path, layer: int, out: Path) -> str:
    """Copy ``elf`` to ``out`` with the first byte of layer ``layer``'s filter constant changed;
    return the symbol. Only the filter array the build compiled is in the ELF (model.c's #if chain)."""
    shutil.copyfile(elf, out)
    with out.open("r+b") as f:
        image = ELFFile(f)
        symtab = image.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection), f"{elf} has no symbol table"
        filters = [s for s in symtab.iter_symbols() if s.name.startswith(f"tc_l{layer}_filter")]
        assert len(filters) == 1, f"{elf}: want one filter constant of layer {layer}, got {[s.name for s in filters]}"
        address = filters[0]["st_value"]
        section = next(s for s in image.iter_sections()
                       if s["sh_type"] == "SHT_PROGBITS" and s["sh_addr"] <= address < s["sh_addr"] + s["sh_size"])
        offset = section["sh_offset"] + address - section["sh_addr"]
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x40]))
    return str(filters[0].name)


@pytest.fixture(params=[pytest.param("qemu", marks=pytest.mark.qemu),
                        pytest.param("renode", marks=pytest.mark.renode)])
def emulator(request: pytest.FixtureRequest) -> str:
    """Each emulator test runs on QEMU and on a real Renode (not run, and said so, without one)."""
    if request.param == "renode":
        request.getfixturevalue("renode")
    return str(request.param)


@pytest.fixture(scope="module")
def dump_elf(digits: ModelBuild) -> Path:
    return build_dump_firmware(digits, VECTOR)


# ------------------------------------------------------------ the console format, the task's exit


def test_parse_dumps_reads_each_layer_and_rejects_truncated_or_repeated_lines() -> None:
    text = "BOOT model=m\nLDUMP 0 bytes=2 hex=ff01\nnoise\nLDUMP 3 bytes=1 hex=80\n"
    assert parse_dumps(text, "console") == {0: b"\xff\x01", 3: b"\x80"}
    with pytest.raises(PipelineError, match="truncated"):
        parse_dumps("LDUMP 0 bytes=3 hex=ff01\n", "console")
    with pytest.raises(PipelineError, match="layer 0 dumped twice"):
        parse_dumps("LDUMP 0 bytes=1 hex=ff\nLDUMP 0 bytes=1 hex=ff\n", "console")


def _diff(host_mismatches: int) -> LayerDiff:
    layer = LayerComparison(0, "CONV_2D", "t", 1, (1, 2, 2, 1), 4, host_mismatches, 0 if host_mismatches else None,
                            None, None, 0, 0)
    return LayerDiff("digits", 0, "qemu", "fw.elf", True, (layer,))


@pytest.mark.parametrize("host_mismatches", [0, 1])
def test_invoke_diff_exits_non_zero_only_when_a_layer_differs(
        monkeypatch: pytest.MonkeyPatch, host_mismatches: int) -> None:
    monkeypatch.setattr(layer_diff, "run_diff", lambda *_args: _diff(host_mismatches))
    monkeypatch.setattr(tasks, "_build", lambda *_args: None)
    if host_mismatches:
        with pytest.raises(Exit) as err:
            tasks.diff(Context(), vector=0)
        assert err.value.code == 1
    else:
        tasks.diff(Context(), vector=0)


# ------------------------------------------------------------ the host side


def test_host_dump_of_the_last_layer_is_the_models_output(digits_model: ModelBuild, tmp_path: Path) -> None:
    dumps, matches_tflm = layer_diff.host_dumps(digits_model, VECTOR, tmp_path)
    assert matches_tflm
    expected = np.load(digits_model.reference)["tflm"][VECTOR].reshape(-1)
    last = max(dumps)
    assert np.array_equal(np.frombuffer(dumps[last], dtype=expected.dtype), expected)


# ------------------------------------------------------------ on the emulators


def test_without_a_fault_every_layer_is_equal(digits: ModelBuild, dump_elf: Path, emulator: str) -> None:
    d = diff_layers(digits, VECTOR, emulator, elf=dump_elf)
    assert d.emulator == emulator
    assert [c.index for c in d.layers] == [0, 1, 2, 3, 5]  # layer 4, a RESHAPE, aliases its input
    assert d.host_matches_tflm
    assert d.first_difference is None and d.equal, layer_diff.format_diff(d)


def test_a_byte_changed_in_one_layers_weights_is_named_at_that_layer(
        digits: ModelBuild, dump_elf: Path, tmp_path: Path, emulator: str) -> None:
    symbol = flip_weight_byte(dump_elf, FAULT_LAYER, tmp_path / "faulty.elf")
    d = diff_layers(digits, VECTOR, emulator, elf=tmp_path / "faulty.elf")
    first = d.first_difference
    assert first is not None and not d.equal, f"{symbol} changed, yet:\n{layer_diff.format_diff(d)}"
    assert first.index == FAULT_LAYER, layer_diff.format_diff(d)
    assert all(c.host_mismatches == 0 for c in d.layers if c.index < FAULT_LAYER)
    assert first.first_mismatch is not None and first.target_value != first.host_value
    assert d.host_matches_tflm  # the fault is in the firmware only


@pytest.mark.qemu
def test_a_firmware_without_the_dump_hook_is_refused_naming_its_console(digits: ModelBuild) -> None:
    with pytest.raises(PipelineError, match=r"console.log: the target dumped layers \[\], want \[0, 1, 2, 3, 5\] "
                                            rf"\(is it a TC_LAYER_DUMP={VECTOR} build\?\)"):
        diff_layers(digits, VECTOR, "qemu", elf=digits.elf)
