"""Boards (firmware/boards/, pipeline/boards.py): the loader's errors, what the pipeline takes from a
board, and digits booted bit-exact on each QEMU board other than the default one."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.boards import BOARDS_DIR, DEFAULT_BOARD, board_names, load_board, read_board
from pipeline.config import load_config, model_config
from pipeline.emulators import default_emulator, select_backend
from pipeline.emulators.qemu import QemuBackend, icount_shift
from pipeline.errors import ConfigError, StageError
from pipeline.pipeline import ModelBuild, model_build
from pipeline.stages.build import BuildRequest, _does_not_fit, build_firmware
from pipeline.stages.firmware_run import boot, compare_outputs
from tests.conftest import require_tool

QEMU_BOARDS = ("mps2-an500", "mps3-an547")  # besides the default board, which every other test uses
STUB_MODEL = BOARDS_DIR.parent / "tests" / "stub_model"


def _board_copy(tmp_path: Path, name: str = DEFAULT_BOARD) -> Path:
    """A copy of a board folder to break; its linker script is copied along."""
    folder = tmp_path / name
    shutil.copytree(BOARDS_DIR / name, folder)
    return folder / "board.toml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} has no {old!r}"
    path.write_text(text.replace(old, new))


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no board 'stm32f999': .*boards: mps2-an500, mps3-an547, .*stm32f407"):
        load_board("stm32f999")
    assert {DEFAULT_BOARD, *QEMU_BOARDS} <= set(board_names())


@pytest.mark.parametrize(("old", "new", "error"), [
    ('cpu = "cortex-m4"\n', "", r"board.toml: missing key 'cpu'"),
    ("clock_hz = 168000000", 'clock_hz = "fast"', r"clock_hz = 'fast' must be a int"),
    ('kernel_sets = ["dsp", "portable"]', 'kernel_sets = ["helium"]', r"kernel_sets = \['helium'\]: want distinct"),
    ('flash = "FLASH"', 'flash = "ROM"', r"\[memory\] names region 'ROM', which .*stm32f407.ld does not declare"),
    ('machine = "netduinoplus2"', 'machin = "netduinoplus2"', r"unknown key 'machin' in \[emulators.qemu\]"),
    ('platform = "renode/stm32f4_tinyml.repl"', 'platform = "renode/none.repl"', r"none.repl does not exist"),
    ('name = "stm32f407"', 'name = "stm32f4"', r"name = 'stm32f4' must be the folder's name"),
])
def test_a_broken_board_file_is_refused_naming_file_and_key(tmp_path: Path, old: str, new: str, error: str) -> None:
    toml = _board_copy(tmp_path)
    _edit(toml, old, new)
    with pytest.raises(ConfigError, match=error) as info:
        read_board(toml)
    assert str(toml) in str(info.value)


def test_a_linker_script_without_a_memory_block_is_refused(tmp_path: Path) -> None:
    toml = _board_copy(tmp_path)
    (toml.parent / "stm32f407.ld").write_text("INCLUDE sections.ld\n")
    with pytest.raises(ConfigError, match=r"stm32f407.ld: no MEMORY block"):
        read_board(toml)


def test_memory_regions_come_from_the_linker_script() -> None:
    f407, an547 = load_board("stm32f407"), load_board("mps3-an547")
    assert (f407.flash.origin, f407.flash.length, f407.ram.length) == (0x0800_0000, 1024 * 1024, 128 * 1024)
    assert (an547.flash.name, an547.flash.origin, an547.ram.name, an547.ram.length) == \
        ("ITCM", 0x1000_0000, "DTCM", 512 * 1024)


def test_an_emulator_that_does_not_model_the_board_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"board mps2-an500: renode does not model it .* lists qemu"):
        select_backend("renode", "mps2-an500")
    assert default_emulator("mps2-an500") == "qemu"  # whether or not Renode is installed


def test_qemu_takes_machine_console_and_clock_from_the_board() -> None:
    assert (icount_shift(168_000_000), icount_shift(25_000_000), icount_shift(32_000_000)) == (5, 8, 8)
    an500 = QemuBackend(board=load_board("mps2-an500"))
    command = an500.command(Path("fw.elf"), Path("uart.log"))
    assert command[command.index("-M") + 1] == "mps2-an500"
    assert [a for a in command if a.startswith(("null", "file:"))] == ["file:uart.log"]  # UART0: first -serial
    assert an500.ticks_per_instruction == pytest.approx(256 * 0.025)
    f407 = QemuBackend().command(Path("fw.elf"), Path("uart.log"))
    assert [a for a in f407 if a.startswith(("null", "file:"))] == ["null", "file:uart.log"]  # USART2: second


def test_board_budgets_override_the_models_and_unknown_boards_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(model_config("digits").path.read_text()
                      + "\n[budgets.mps2-an500]\nmax_flash_bytes = 50000\n")
    on_an500 = load_config(config).for_board("mps2-an500")
    assert on_an500.budgets["max_flash_bytes"] == 50000
    assert on_an500.budgets["max_ram_bytes"] == load_config(config).budgets["max_ram_bytes"]
    assert load_config(config).budgets["max_flash_bytes"] != 50000  # the default board keeps [budgets]
    config.write_text(config.read_text().replace("[budgets.mps2-an500]", "[budgets.mps2-an999]"))
    with pytest.raises(ConfigError, match=r"\[budgets.mps2-an999\]: no board 'mps2-an999'; boards: "):
        load_config(config)


def test_a_board_builds_into_its_own_directory() -> None:
    default, an500 = model_build("digits"), model_build("digits", board="mps2-an500")
    assert default.board_dir == default.dir and an500.board_dir == an500.dir / "boards" / "mps2-an500"
    assert an500.elf.is_relative_to(an500.board_dir) and an500.generated == default.generated


def test_a_link_overflow_says_what_the_image_needs_and_what_the_part_has() -> None:
    ld = ["ld: address 0x3008082c of tinyml_fw.elf section `.stack' is not within region `DTCM'",
          "ld: region `ITCM' overflowed by 61240 bytes"]
    message = _does_not_fit(load_board("mps3-an547"), ld)
    assert "mps3-an547: DTCM overflow: the image needs 526,380 B of DTCM, the MPS3 AN547 has 524,288 B (512 KB)" \
        in message
    assert "ITCM overflow: the image needs 585,528 B of ITCM, the MPS3 AN547 has 524,288 B" in message


def test_a_build_for_an_unknown_board_is_refused_before_cmake(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no board 'nope'"):
        build_firmware(BuildRequest(STUB_MODEL, tmp_path / "b", board="nope"))


@pytest.mark.qemu
@pytest.mark.toolchain
@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_digits_boots_bit_exact_on_the_board(digits: ModelBuild, board: str, tmp_path: Path) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    stack = int(digits.cfg.budgets["max_stack_bytes"])
    fw = build_firmware(BuildRequest(digits.generated, tmp_path / "fw", stack_bytes=stack, board=board),
                        on_line=lambda _line: None)
    run = boot(fw.elf, tmp_path / "qemu", "qemu", digits.cfg.emulator.wall_timeout_s,
               digits.cfg.emulator.emulated_timeout_s, board)
    expected = np.load(digits.reference)["tflm"]
    exact = compare_outputs(run.outputs(), expected.reshape(len(expected), -1))
    assert exact.first_mismatch is None and exact.total == len(expected), f"{board}: {exact.message()}"
    assert run.report.clock_hz == load_board(board).clock_hz
    assert max(abs(e) for e in run.calibration_errors) <= 10, run.calibration_errors
    assert fw.sizes.flash_bytes < load_board(board).flash.length


@pytest.mark.toolchain
def test_an_image_too_big_for_the_board_fails_to_link_with_both_numbers(tmp_path: Path) -> None:
    # 600 KB of stack: more than the AN547's 512 KB DTCM.
    with pytest.raises(StageError, match=r"mps3-an547: DTCM overflow: the image needs 6\d\d,\d{3} B of DTCM, "
                                         r"the MPS3 AN547 has 524,288 B \(512 KB\)"):
        build_firmware(BuildRequest(STUB_MODEL, tmp_path / "b",
                                    stack_bytes=600 * 1024, board="mps3-an547"), on_line=lambda _line: None)
