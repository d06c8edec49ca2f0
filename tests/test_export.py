"""invoke export: the digits model as a C library, built into a separate minimal firmware.

The firmware of ``tests/fixtures/export_app/`` is a user's own project in miniature: it
``add_subdirectory()``s the export, reuses the repository's board layer, linker script and
toolchain file, and prints ``VEC`` lines for a few embedded inputs. Booted in QEMU, its
outputs must equal TFLM's reference bit for bit. Missing tools fail the tests (never a skip).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ROOT
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.firmware_log import parse_console
from pipeline.emulators.qemu import QemuBackend
from pipeline.errors import PipelineError
from pipeline.export.library import ExportResult, _write_tree, export_library
from pipeline.pipeline import ModelBuild
from tests.conftest import require_tool

pytestmark = [pytest.mark.toolchain, pytest.mark.qemu, pytest.mark.slow]

APP_DIR = ROOT / "tests" / "fixtures" / "export_app"
VECTORS = 12  # embedded inputs: enough to exercise every class path, small enough to boot fast
DIGITS_KERNELS = ("tc_conv2d_s8", "tc_fully_connected_s8", "tc_max_pool_s8")


def _inputs_header(reference: Path, out_dir: Path, count: int) -> np.ndarray:
    """Write test_inputs.h with the first ``count`` reference inputs; return TFLM's outputs for them."""
    ref = np.load(reference)
    inputs = ref["inputs"][:count].reshape(count, -1)
    rows = ",\n".join("\t{" + ", ".join(str(int(v)) for v in row) + "}" for row in inputs)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "test_inputs.h").write_text(
        "/* Written by tests/test_export.py from reference.npz. */\n"
        "#ifndef EXPORT_APP_TEST_INPUTS_H\n#define EXPORT_APP_TEST_INPUTS_H\n\n#include <stdint.h>\n\n"
        f"#define EXPORT_APP_INPUT_COUNT {count}u\n#define EXPORT_APP_INPUT_SIZE {inputs.shape[1]}\n\n"
        f"static const int8_t export_app_inputs[{count}][{inputs.shape[1]}] = {{\n{rows}\n}};\n\n#endif\n"
    )
    return ref["tflm"][:count].reshape(count, -1)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")


def _build_app(export: ExportResult, inputs_dir: Path, build_dir: Path, lib_opt: str = "-O2") -> Path:
    generator = "Ninja" if shutil.which("ninja") else "Unix Makefiles"
    _run([
        "cmake", "-S", str(APP_DIR), "-B", str(build_dir), "-G", generator,
        f"-DTC_REPO_ROOT={ROOT}",
        f"-DTINYML_EXPORT_DIR={export.out_dir}",
        f"-DEXPORT_APP_INPUTS_DIR={inputs_dir}",
        f"-DTINYML_TARGET={export.target}",
        f"-DEXPORT_APP_LIB_OPT={lib_opt}",
    ])  # fmt: skip
    _run(["cmake", "--build", str(build_dir)])
    elf = build_dir / "export_app.elf"
    assert elf.is_file(), f"the build did not write {elf}"
    return elf


@pytest.fixture(scope="module")
def tools() -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("cmake", "sudo apt-get install cmake")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")


# -O0: a user's Debug build of the DSP kernels, whose assembly takes r7 (Thumb's frame pointer).
@pytest.mark.parametrize(("kernels", "lib_opt"), [("portable", "-O2"), ("dsp", "-O2"), ("dsp", "-O0")])
def test_exported_library_runs_bit_exact_in_own_firmware(
    digits: ModelBuild, tools: None, kernels: str, lib_opt: str, tmp_path: Path
) -> None:
    export = export_library(digits, tmp_path / "export", kernels)
    expected = _inputs_header(digits.reference, tmp_path / "inputs", VECTORS)
    elf = _build_app(export, tmp_path / "inputs", tmp_path / "build", lib_opt)

    result = QemuBackend().run(EmulatorRun(elf=elf, workdir=tmp_path / "qemu", wall_timeout_s=60.0))
    report = parse_console(result.console)

    assert report.done, f"no DONE line; last line: {report.last_line!r}"
    assert [v.index for v in report.vectors] == list(range(VECTORS))
    got = np.array([v.output for v in report.vectors], dtype=np.int64)
    mismatched = [i for i in range(VECTORS) if not np.array_equal(got[i], expected[i])]
    assert not mismatched, f"{kernels}: vectors {mismatched} differ from TFLM, e.g. {got[mismatched[0]]} vs " + (
        f"{expected[mismatched[0]]}"
    )
    assert [v.predicted_class for v in report.vectors] == [int(np.argmax(e)) for e in expected]


def test_export_holds_only_the_kernels_the_model_uses(digits: ModelBuild, tmp_path: Path) -> None:
    export = export_library(digits, tmp_path / "export")
    out = export.out_dir

    assert export.kernels == DIGITS_KERNELS
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.c"))
    listed = (out / "sources.txt").read_text().splitlines()
    assert sorted(listed) == present
    assert present == ["src/model.c", "src/tc_conv2d_s8.c", "src/tc_fully_connected_s8.c", "src/tc_pool_s8.c"]
    assert (out / "defines.txt").read_text() == ""  # portable: model.c takes its #else calls
    every_file = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert every_file == json.loads((out / "export.json").read_text())["files"]
    assert not any("softmax" in name or "test_vectors" in name for name in every_file), every_file
    assert "tc_dsp.h" not in {p.name for p in out.rglob("*.h")}  # portable: no DSP helpers
    for include_dir in (out / "include_dirs.txt").read_text().splitlines():
        assert (out / include_dir).is_dir(), include_dir
    assert f"add_library({export.target} STATIC" in (out / "CMakeLists.txt").read_text()

    header = export.header.read_text()
    assert "#define TC_MODEL_INPUT_DIMS {1, 8, 8, 1}" in header
    assert "#define TC_MODEL_OUTPUT_DIMS {1, 10}" in header
    assert export.model_sha256 in header and export.model_sha256 in (out / "README.md").read_text()


def test_dsp_export_takes_the_kernels_the_dsp_build_calls(digits: ModelBuild, tmp_path: Path) -> None:
    """The firmware's DSP build and the DSP export call the same kernels: codegen.json's, compiled with the
    set's define (without it model.c would take its portable calls)."""
    export = export_library(digits, tmp_path / "export", "dsp")
    out = export.out_dir
    codegen = json.loads((digits.generated / "codegen.json").read_text())
    assert export.kernels == tuple(sorted({layer["kernels"]["dsp"] for layer in codegen["layers"] if layer["kernel"]}))
    assert export.kernels == ("tc_conv2d_s8_wide", "tc_fully_connected_s8_packed", "tc_max_pool_s8")
    manifest = json.loads((out / "export.json").read_text())
    for name in ("tc_conv2d_s8_wide.c", "tc_gemv_s16.c", "tc_dsp.h"):
        assert manifest["kernel_sources"][f"src/{name}"] == f"firmware/kernels/arm/{name}"
        assert (out / "src" / name).read_bytes() == (ROOT / "firmware/kernels/arm" / name).read_bytes()
    assert not (out / "src" / "tc_conv2d_s8.c").exists()  # the portable call is compiled out
    assert (out / "defines.txt").read_text() == "TC_KERNELS_DSP\n"
    assert f"target_compile_definitions({export.target} PRIVATE TC_KERNELS_DSP)" in (out / "CMakeLists.txt").read_text()
    assert (out / "defines.txt").read_text() and "-DTC_KERNELS_DSP" in export.header.read_text()


def test_export_refuses_codegen_of_another_model(digits: ModelBuild, tmp_path: Path) -> None:
    other = dataclasses.replace(digits, out_dir=tmp_path / "digits")
    shutil.copytree(digits.generated, other.generated)
    shutil.copy(digits.tflite, other.tflite)
    codegen = json.loads((other.generated / "codegen.json").read_text())
    codegen["model_sha256"] = "0" * 64
    (other.generated / "codegen.json").write_text(json.dumps(codegen))
    with pytest.raises(PipelineError, match="generated from another model"):
        export_library(other, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_export_refuses_to_replace_a_directory_that_is_not_an_export(digits: ModelBuild, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(PipelineError, match="refusing to replace"):
        export_library(digits, out)
    assert (out / "notes.txt").read_text() == "keep me"
    with pytest.raises(PipelineError, match="kernels="):
        export_library(digits, tmp_path / "x", "cmsis")


def test_a_failed_write_leaves_the_previous_export_whole(digits: ModelBuild, tmp_path: Path) -> None:
    export = export_library(digits, tmp_path / "export")
    before = {p: p.read_bytes() for p in export.out_dir.rglob("*") if p.is_file()}
    with pytest.raises(TypeError):
        _write_tree(export.out_dir, {"sources.txt": b"src/model.c\n", "src/model.c": None})  # type: ignore[dict-item]
    assert {p: p.read_bytes() for p in export.out_dir.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no .partial / .old left behind
