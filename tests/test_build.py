"""The build stage: the stub model builds, its sizes add up, bad builds fail clearly.

Needs arm-none-eabi-gcc and cmake: when they are missing the tests fail with
the install command (ToolMissingError), they are never skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pipeline.errors import StageError, ToolMissingError
from pipeline.stages.build import FIRMWARE_DIR, BuildRequest, BuildResult, build_firmware
from pipeline.tools import TOOLCHAIN, check_tools

pytestmark = pytest.mark.toolchain

STUB_MODEL = FIRMWARE_DIR / "tests" / "stub_model"
STUB_ARENA_BYTES = 16 + 10  # tc_arena in the stub: input + output


def _model_copy(dest: Path) -> Path:
    shutil.copytree(STUB_MODEL, dest)
    return dest


def _with_in_invoke(model_dir: Path, declaration: str, statement: str) -> None:
    """Make the copied stub's invoke use something, so --gc-sections keeps it."""
    model_c = model_dir / "model.c"
    text = model_c.read_text()
    anchor = "void tc_model_invoke(void)\n{\n"
    assert anchor in text
    model_c.write_text(
        text.replace('#include "model.h"\n', f'#include "model.h"\n{declaration}\n', 1).replace(
            anchor, anchor + f"\t{statement}\n", 1
        )
    )


@pytest.fixture(scope="module")
def stub_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    check_tools(TOOLCHAIN)
    build_dir = tmp_path_factory.mktemp("stub") / "build"
    return build_firmware(BuildRequest(model_dir=STUB_MODEL, build_dir=build_dir))


def _symbol_sizes(elf: Path) -> dict[str, int]:
    with elf.open("rb") as stream:
        table = ELFFile(stream).get_section_by_name(".symtab")
        assert isinstance(table, SymbolTableSection)
        return {s.name: int(s["st_size"]) for s in table.iter_symbols()}


def test_stub_model_builds_elf_bin_and_map(stub_build: BuildResult) -> None:
    assert stub_build.elf.is_file()
    assert stub_build.map_file.is_file()
    assert stub_build.bin_file.stat().st_size > 0
    assert "arm-none-eabi-gcc" in stub_build.toolchain_version
    with stub_build.elf.open("rb") as stream:
        elf = ELFFile(stream)
        assert elf["e_machine"] == "EM_ARM"
        assert elf["e_entry"] & 1 == 1  # Thumb entry point
        vectors = elf.get_section_by_name(".isr_vector")
        assert vectors is not None and vectors["sh_addr"] == 0x0800_0000


def test_size_figures_are_plausible(stub_build: BuildResult) -> None:
    sizes = stub_build.sizes
    assert 1024 < sizes.flash_bytes < 32 * 1024, sizes
    assert sizes.stack_bytes == 8192
    assert sizes.ram_bytes == sizes.data_bytes + sizes.bss_bytes
    assert sizes.stack_bytes < sizes.ram_bytes < 128 * 1024
    assert sizes.arena_bytes == STUB_ARENA_BYTES
    # The stub's three tc_model_* functions, and not its tc_test_inputs.
    symbols = _symbol_sizes(stub_build.elf)
    expected = sum(symbols[f"tc_model_{n}"] for n in ("input", "output", "invoke"))
    assert sizes.model_flash_bytes == expected
    assert 0 < sizes.model_flash_bytes < sizes.flash_bytes


def test_size_figures_agree_with_arm_none_eabi_size(stub_build: BuildResult) -> None:
    out = subprocess.run(
        ["arm-none-eabi-size", "-B", str(stub_build.elf)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    text, data, bss = (int(v) for v in out[1].split()[:3])
    sizes = stub_build.sizes
    assert (sizes.text_bytes, sizes.data_bytes, sizes.bss_bytes) == (text, data, bss)
    assert sizes.flash_bytes == text + data
    assert sizes.ram_bytes == data + bss


def test_elf_has_no_build_paths_and_is_reproducible(
    stub_build: BuildResult, tmp_path: Path
) -> None:
    other = build_firmware(
        BuildRequest(model_dir=STUB_MODEL, build_dir=tmp_path / "elsewhere" / "b")
    )
    assert other.elf.read_bytes() == stub_build.elf.read_bytes()
    blob = stub_build.elf.read_bytes()
    for path in (stub_build.elf.parent, FIRMWARE_DIR):
        assert str(path).encode() not in blob


def test_stack_size_reaches_the_linker(tmp_path: Path) -> None:
    result = build_firmware(
        BuildRequest(model_dir=STUB_MODEL, build_dir=tmp_path / "b", stack_bytes=4096)
    )
    assert result.sizes.stack_bytes == 4096


def test_array_too_big_for_the_real_ram_fails_to_link(tmp_path: Path) -> None:
    build_dir = tmp_path / "b"
    first = build_firmware(BuildRequest(model_dir=STUB_MODEL, build_dir=build_dir))
    assert first.elf.is_file()

    model = _model_copy(tmp_path / "big_model")
    # 200 KB: fits the RAM QEMU and Renode map, not the STM32F407's 128 KB.
    (model / "big.c").write_text("#include <stdint.h>\nint8_t tc_big_buffer[200 * 1024];\n")
    _with_in_invoke(model, "extern int8_t tc_big_buffer[];", "tc_big_buffer[0] = tc_arena[0];")
    with pytest.raises(StageError, match="RAM overflow") as info:
        build_firmware(BuildRequest(model_dir=model, build_dir=build_dir))
    assert "128 KB" in str(info.value)
    # The failed build must not leave the previous, now stale, ELF around.
    assert not first.elf.exists()


def test_stack_too_big_for_the_real_ram_fails_to_link(tmp_path: Path) -> None:
    with pytest.raises(StageError, match="RAM overflow"):
        build_firmware(
            BuildRequest(model_dir=STUB_MODEL, build_dir=tmp_path / "b", stack_bytes=130 * 1024)
        )


def test_heap_use_fails_to_link(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "malloc_model")
    _with_in_invoke(model, "#include <stdlib.h>", "tc_arena[0] = (int8_t)(malloc(4) != NULL);")
    with pytest.raises(StageError, match="sbrk"):
        build_firmware(BuildRequest(model_dir=model, build_dir=tmp_path / "b"))


def test_compiler_error_is_reported_with_its_line(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "broken")
    (model / "broken.c").write_text("int tc_broken(void) { return missing_name; }\n")
    with pytest.raises(StageError) as info:
        build_firmware(BuildRequest(model_dir=model, build_dir=tmp_path / "b"))
    message = str(info.value)
    assert "broken.c" in message and "missing_name" in message and "error:" in message
    assert not (tmp_path / "b" / "tinyml_fw.elf").exists()


def test_warnings_are_errors(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "warn")
    (model / "warn.c").write_text("int tc_warn(int x) { int unused; return x; }\n")
    with pytest.raises(StageError, match="unused"):
        build_firmware(BuildRequest(model_dir=model, build_dir=tmp_path / "b"))


def test_missing_model_file_is_a_stage_error(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "incomplete")
    (model / "test_vectors.c").unlink()
    with pytest.raises(StageError, match=r"test_vectors\.c"):
        build_firmware(BuildRequest(model_dir=model, build_dir=tmp_path / "b"))


def test_missing_toolchain_names_tools_and_apt_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError) as info:
        check_tools(TOOLCHAIN)
    message = str(info.value)
    assert "arm-none-eabi-gcc" in message and "cmake" in message
    assert "apt-get install" in message
