"""The Renode platform overlay, the .resc script and the Renode-native Robot suite."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from robot.api import get_model
from robot.api.parsing import KeywordCall, ModelVisitor
from robot.libraries.BuiltIn import BuiltIn
from robot.libraries.OperatingSystem import OperatingSystem

from pipeline.config import ROOT
from pipeline.emulators.renode import DEFAULT_PLATFORM
from tests.renode_fake import FIXTURES

RESC = ROOT / "renode" / "tinyml.resc"
DWT = ROOT / "renode" / "instruction_counting_dwt.repl"
SUITE = ROOT / "robot_tests" / "renode" / "firmware_native.robot"
ROBOCOP = Path(sys.executable).with_name("robocop")

# Keywords Renode 1.15.1 provides to renode-test suites that this suite may use.
# ("Register Failing Uart String" is newer: recorded "No keyword with name ... found".)
RENODE_1_15_1_KEYWORDS = {
    "Execute Command",
    "Execute Script",
    "Create Terminal Tester",
    "Start Emulation",
    "Wait For Line On Uart",
}


def code_lines(text: str, comment: str) -> list[str]:
    return [
        line for line in text.splitlines() if line.strip() and not line.strip().startswith(comment)
    ]


# ------------------------------------------------------------ overlay


def test_overlay_builds_on_the_cpu_level_stm32f4_description() -> None:
    lines = code_lines(DEFAULT_PLATFORM.read_text(), "//")
    assert lines[0] == 'using "platforms/cpus/stm32f4.repl"'
    # the same base the offline overlay of the recorded runs used
    assert 'using "platforms/cpus/stm32f4.repl"' in (FIXTURES / "offline-overlay.repl").read_text()


def test_overlay_dwt_is_the_instruction_counting_python_peripheral() -> None:
    # What it counts is checked on a real Renode (tests/test_renode_real.py); this pins the shape.
    text = DWT.read_text()
    assert re.search(r"^dwt: Python\.PythonPeripheral @ sysbus 0xE0001000$", text, re.MULTILINE)
    assert not any("Miscellaneous.DWT" in line for line in code_lines(text, "//")), \
        "Renode's stock DWT counts virtual time"
    script = text[text.index("script: '''") : text.rindex("'''")]
    assert "cpu.ExecutedInstructions" in script
    assert "request.offset == 0x4" in script and "request.offset == 0x0" in script  # CYCCNT and CTRL


@pytest.mark.parametrize("overlay", sorted(ROOT.glob("renode/*_tinyml.repl")), ids=lambda p: p.stem)
def test_every_board_overlay_runs_one_instruction_per_translation_block(overlay: Path) -> None:
    # Without it a CYCCNT read is the count at the end of its block (tests/test_renode_real.py
    # shows both: tests/renode_count/tb_reads.S exact with it, wrong without).
    lines = code_lines(overlay.read_text(), "//")
    start = lines.index("cpu:")
    assert lines[start + 1].strip() == "MaximumBlockSize: 1"


@pytest.mark.parametrize("overlay", sorted(ROOT.glob("renode/*_tinyml.repl")), ids=lambda p: p.stem)
def test_every_board_overlay_adds_the_instruction_counting_dwt(overlay: Path) -> None:
    # "./": Renode resolves it next to the including file (a bare name is not found, recorded on 1.15.1).
    assert 'using "./instruction_counting_dwt.repl"' in code_lines(overlay.read_text(), "//")


def test_overlay_redefines_sysbus_init_without_the_svd_download() -> None:
    lines = code_lines(DEFAULT_PLATFORM.read_text(), "//")
    start = lines.index("sysbus:")
    assert lines[start + 1].strip() == "init:"
    init = [line.strip() for line in lines[start + 2 :] if line.startswith("        ")]
    assert init, "the init section must keep at least one command"
    assert not any("ApplySVD" in line or "http" in line for line in lines)


def test_overlay_adds_nothing_that_needs_the_board_file() -> None:
    # The firmware's console is USART2, declared by the CPU-level file; the overlay
    # must not redeclare it (that would be a second peripheral at 0x40004400).
    assert "usart2" not in DEFAULT_PLATFORM.read_text()


# ------------------------------------------------------------ .resc


def test_resc_takes_the_elf_from_a_variable_with_a_default() -> None:
    lines = code_lines(RESC.read_text(), "#")
    assert "$elf ?= @build/digits/firmware/tinyml_fw.elf" in lines
    assert "    sysbus LoadELF $elf" in RESC.read_text()
    assert "runMacro $reset" in lines


def test_resc_loads_the_overlay_next_to_it_and_shows_usart2() -> None:
    lines = code_lines(RESC.read_text(), "#")
    assert "path add $ORIGIN" in lines
    assert "$platform ?= @stm32f4_tinyml.repl" in lines
    assert "machine LoadPlatformDescription $platform" in lines
    assert (RESC.parent / "stm32f4_tinyml.repl").is_file()
    assert "showAnalyzer sysbus.usart2" in lines


def test_resc_has_no_hard_coded_absolute_path() -> None:
    assert not re.search(r"@/|[A-Za-z]:\\", RESC.read_text())
    assert "include @renode/tinyml.resc" in RESC.read_text()  # documented usage


# ------------------------------------------------------------ native suite


class _Calls(ModelVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_KeywordCall(self, node: KeywordCall) -> None:
        self.names.add(node.keyword)


def _library_keywords(library: object) -> set[str]:
    return {name.replace("_", " ").title() for name in dir(library) if not name.startswith("_")}


def test_native_suite_uses_only_renode_1_15_1_and_standard_keywords() -> None:
    model = get_model(str(SUITE))
    calls = _Calls()
    calls.visit(model)
    own = {kw.name for kw in get_model_keywords(SUITE)}
    standard = _library_keywords(BuiltIn()) | _library_keywords(OperatingSystem())
    unknown = {
        name
        for name in calls.names
        if name.title() not in standard and name not in own and name not in RENODE_1_15_1_KEYWORDS
    }
    assert not unknown, f"keywords neither Renode 1.15.1's nor standard: {sorted(unknown)}"
    assert RENODE_1_15_1_KEYWORDS - {"Execute Script"} <= calls.names
    assert "Register Failing Uart String" not in SUITE.read_text()


def get_model_keywords(path: Path) -> list:
    from robot.running.builder import TestSuiteBuilder

    return list(TestSuiteBuilder().build(str(path)).resource.keywords)


def test_native_suite_waits_for_boot_summary_done_with_emulated_timeouts() -> None:
    text = SUITE.read_text()
    assert "Create Terminal Tester    sysbus.usart2" in text
    assert "Wait For Line On Uart    BOOT    timeout=${BOOT_TIMEOUT}" in text
    assert "^(SUMMARY|FAULT) .*$    timeout=${RUN_TIMEOUT}" in text
    assert "^(DONE|FAULT .*)$    timeout=${RUN_TIMEOUT}" in text
    assert "Should Be Equal    ${end.line}    DONE" in text
    assert "${instructions} <= ${MAX_INSTRUCTIONS_PER_INFERENCE}" in text


def test_native_suite_loads_the_same_overlay_as_the_backend() -> None:
    text = SUITE.read_text()
    match = re.search(r"^\$\{PLATFORM\}\s+\$\{CURDIR\}/(\S+)$", text, re.MULTILINE)
    assert match is not None
    assert (SUITE.parent / match.group(1)).resolve() == DEFAULT_PLATFORM


def test_robocop_passes_on_the_renode_suites() -> None:
    if not ROBOCOP.exists():
        pytest.fail(f"robocop is missing ({ROBOCOP}): .venv/bin/pip install robotframework-robocop")
    done = subprocess.run(
        [str(ROBOCOP), "check", "robot_tests/renode/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_robocop_lints_the_renode_suites_for_robot_framework_6() -> None:
    # renode-test pins robotframework 6.1; the directory's config says so to robocop.
    config = (SUITE.parent / "robocop.toml").read_text()
    assert re.search(r"^target_version = 6$", config, re.MULTILINE)


def test_robocop_would_catch_a_bad_suite(tmp_path: Path) -> None:
    # guard against a robocop set-up that passes everything
    shutil.copy(SUITE.parent / "robocop.toml", tmp_path / "robocop.toml")
    (tmp_path / "bad.robot").write_text("*** Test Cases ***\nfoo\n    log  x\n")
    done = subprocess.run(
        [str(ROBOCOP), "check", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
