"""renode-test command line for the native suite, and parsing of renode-test's output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.emulators.renode_native import (
    NATIVE_SUITE,
    budget_variables,
    parse_renode_test_output,
    renode_test_command,
)
from pipeline.errors import ConfigError
from tests.renode_fake import FIXTURES

BUDGETS = {
    "max_instructions_per_inference": 1_500_000.0,
    "max_flash_bytes": 262144,
    "min_int8_accuracy": 0.9,
}


def variables(argv: list[str]) -> dict[str, str]:
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "--variable"]
    return dict(pair.split(":", 1) for pair in pairs)


def test_command_runs_the_native_suite_with_elf_and_budgets(tmp_path: Path) -> None:
    elf = tmp_path / "fw.elf"
    argv = renode_test_command(elf, BUDGETS, tmp_path / "results")
    assert argv[0] == "renode-test"
    assert argv[argv.index("-r") + 1] == str((tmp_path / "results").resolve())
    assert argv[-1] == str(NATIVE_SUITE) and NATIVE_SUITE.is_file()
    assert variables(argv) == {
        "ELF": str(elf.resolve()),
        "MAX_INSTRUCTIONS_PER_INFERENCE": "1500000",
        "MAX_FLASH_BYTES": "262144",
        "MIN_INT8_ACCURACY": "0.9",
    }


def test_every_variable_the_suite_needs_is_passed(tmp_path: Path) -> None:
    suite = NATIVE_SUITE.read_text()
    # variables declared empty in the suite must come from the command line
    required = set(re.findall(r"^\$\{(\w+)\}\s+\$\{EMPTY\}$", suite, re.MULTILINE))
    assert required == {"ELF", "MAX_INSTRUCTIONS_PER_INFERENCE"}
    assert required <= set(variables(renode_test_command(tmp_path / "f.elf", BUDGETS, tmp_path)))


def test_missing_instruction_budget_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_instructions_per_inference"):
        renode_test_command(tmp_path / "fw.elf", {"max_flash_bytes": 1}, tmp_path)


def test_budget_names_must_be_max_or_min() -> None:
    with pytest.raises(ConfigError, match="not max_\\*/min_\\*"):
        budget_variables({"max_instructions_per_inference": 1, "flash": 2})


def test_recorded_renode_test_run_is_parsed() -> None:
    text = (FIXTURES / "r6-renode-test.txt").read_text()
    report = parse_renode_test_output(text, returncode=1)
    assert report.statuses == {
        "demo.Should Print Done": "OK",
        "demo.Should Time Out Waiting For A Line That Never Comes": "failed",
        "demo.Should Fail At Once On A Registered Failing String": "failed",
    }
    assert report.failed == [
        "demo.Should Time Out Waiting For A Line That Never Comes",
        "demo.Should Fail At Once On A Registered Failing String",
    ]
    assert report.missing_keywords == ["Register Failing Uart String"]
    assert report.result_files == {
        "Output": "<RESULTS>/robot_output.xml",
        "Log": "<RESULTS>/log.html",
        "Report": "<RESULTS>/report.html",
    }
    assert not report.passed


def test_passing_run_needs_exit_code_zero_and_a_test() -> None:
    lines = (FIXTURES / "r6-renode-test.txt").read_text().splitlines()
    one_pass = "\n".join(line for line in lines if "Should Print Done" in line)
    assert parse_renode_test_output(one_pass, returncode=0).passed
    # renode-test exits 1 on failures; trust the exit code over the parsed lines
    assert not parse_renode_test_output(one_pass, returncode=1).passed
    # Renode never started: no test ran, which is not a pass
    assert not parse_renode_test_output("Preparing suites\n", returncode=0).passed


def test_profiler_output_is_folded_without_its_first_line() -> None:
    from pipeline.analyses.flame_graph import fold, frames_by_depth

    raw = ["tc_model_invoke (entry) 81005370", "tc_model_invoke (entry);conv (entry) 300",
           "tc_model_invoke (entry) 20", "tc_model_invoke (entry);conv (entry) 100",
           "tc_model_invoke (entry);pool (entry) 50", " 2"]
    folded = fold(raw)
    assert folded == {"tc_model_invoke;conv": 400, "tc_model_invoke": 20, "tc_model_invoke;pool": 50}
    levels = frames_by_depth(folded)
    assert levels[0] == [("tc_model_invoke", 0, 470)]
    assert sorted(width for _, _, width in levels[1]) == [50, 400]
