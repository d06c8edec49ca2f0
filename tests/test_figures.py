"""The figure registry (pipeline/figures.py) and everything that derives from it.

The last test is the recipe of docs/architecture.md, "Adding a figure": one entry in the
registry, and the figure is accepted as a budget, lands in metrics.json from the stage that
measures it, is judged in the budget table, the CI job summary and the Robot keyword, and is
passed to renode-test.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline import figures
from pipeline import pipeline as pl
from pipeline.ci_summary import load_metrics, summary_markdown
from pipeline.config import ROOT, load_config
from pipeline.emulators.renode_native import budget_variables
from pipeline.errors import ConfigError
from pipeline.figures import Figure
from pipeline.metrics import budget_verdicts, table, write_metrics
from pipeline.stagecache import Results
from pipeline.stages.firmware_run import SuiteFile

BUILT = pl.Built(flash_bytes=30_000, ram_bytes=12_000, stack_bytes=1024, model_flash_bytes=9_000, arena_bytes=2_048,
                 text_bytes=28_000, data_bytes=100, bss_bytes=11_000, stack_bytes_static=584, toolchain="gcc")
ROBOT_SUITE = ROOT / "robot_tests" / "firmware.robot"
DIGITS_CONFIG = ROOT / "models" / "digits" / "config.toml"


def checked_in_robot() -> set[str]:
    """The figures firmware.robot passes to 'Figure Should Be Within Budget' (inline or as template rows)."""
    text = ROBOT_SUITE.read_text()
    inline = re.findall(r"^\s+Figure Should Be Within Budget\s+(\w+)\s*$", text, re.MULTILINE)
    templated = []
    for block in re.split(r"\n(?=\S)", text):
        if re.search(r"\[Template\]\s+Figure Should Be Within Budget", block):
            templated += [ln.strip() for ln in block.splitlines()[1:]
                          if ln.strip() and not ln.strip().startswith(("[", "..."))]
    return set(inline) | set(templated)


def test_every_figure_is_measured_by_a_stage_and_budget_names_follow_the_direction() -> None:
    names = [f.name for f in figures.FIGURES]
    assert len(names) == len(set(names))
    assert {f.stage for f in figures.FIGURES} <= set(pl.GRAPH.names)
    for f in figures.budgeted():
        assert f.budget == f"{'max' if f.better == 'lower' else 'min'}_{f.budget.split('_', 1)[1]}"
    with pytest.raises(ValueError, match="must be named min_"):
        Figure("x_accuracy", "x", "ratio", "higher", "max_x_accuracy", "simulate", "wrong direction")


def test_the_robot_suite_checks_exactly_the_firmwares_budgeted_figures() -> None:
    assert checked_in_robot() == {f.name for f in figures.firmware_budgeted()}


def test_the_cycle_figures_are_registered() -> None:
    cycles = figures.figure("estimated_cycles_per_inference")
    assert cycles is not None and cycles.budget == "max_estimated_cycles_per_inference" and cycles.stage == "cycles"
    latency = figures.figure("latency_ms")
    assert latency is not None and latency.stage == "cycles" and latency.budget is None


def test_the_config_accepts_exactly_the_registrys_budget_keys(tmp_path: Path) -> None:
    assert set(load_config(DIGITS_CONFIG).budgets) <= set(figures.budget_keys())
    bad = tmp_path / "config.toml"
    bad.write_text(DIGITS_CONFIG.read_text().replace("[budgets]\n", "[budgets]\nmax_stack_byte = 1\n"))
    with pytest.raises(ConfigError, match=r"config.toml: unknown key 'max_stack_byte' in \[budgets\]"):
        load_config(bad)


def test_min_target_accuracy_is_checked_against_the_on_target_accuracy() -> None:
    metrics = {"target_accuracy": 0.95, "int8_accuracy": 0.99,
               "budgets": {"min_target_accuracy": 0.97, "min_int8_accuracy": 0.97}}
    rows = {r[0]: r for r in budget_verdicts(metrics)}
    assert rows["target_accuracy"][2:] == (">= 0.9700", "FAIL")
    assert rows["int8_accuracy"][3] == "pass"
    assert "min_target_accuracy" in load_config(DIGITS_CONFIG).budgets


def test_the_ci_summary_shows_both_stack_figures_against_the_stack_budget() -> None:
    metrics = {"model": "digits", "emulator": "qemu", "passed": True, "stack_bytes_static": 584,
               "stack_bytes_measured": 336, "budgets": {"max_stack_bytes": 1024}}
    text = summary_markdown(metrics, None)
    assert "| max_stack_bytes (stack_bytes_static) | ≤ 1,024 | 584 | pass |" in text
    assert "| max_stack_bytes (stack_bytes_measured) | ≤ 1,024 | 336 | pass |" in text
    assert "not measured" not in text
    assert "| stack bytes (static bound) | 584 |" in text


def _robot_library(tmp_path: Path, sizes: dict[str, int], budgets: dict[str, float]):  # type: ignore[no-untyped-def]
    """The Robot keyword library on a suite file that has only sizes (no boot needed for them)."""
    import sys

    sys.path.insert(0, str(ROOT / "robot_tests"))
    try:
        from FirmwareLibrary import FirmwareLibrary
    finally:
        sys.path.remove(str(ROOT / "robot_tests"))
    np.savez(tmp_path / "reference.npz", tflm=np.zeros((1, 2), dtype=np.int8))
    suite = tmp_path / "suite.json"
    SuiteFile("m", tmp_path, tmp_path / "fw.elf", tmp_path / "reference.npz", Path("test.toml"), budgets, sizes,
              60.0, 30.0).write(suite)
    return FirmwareLibrary(str(suite))


def test_adding_a_figure_is_one_registry_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """docs/architecture.md, "Adding a figure": the recipe, done here with a made-up figure."""
    vectors = Figure("vector_table_bytes", "vector table bytes", "bytes", "lower", "max_vector_table_bytes",
                     "build", "the interrupt vector table in flash")
    monkeypatch.setattr(figures, "FIGURES", (*figures.FIGURES, vectors))

    # 1. the config accepts its budget key
    config = tmp_path / "config.toml"
    config.write_text(DIGITS_CONFIG.read_text().replace("[budgets]\n", "[budgets]\nmax_vector_table_bytes = 400\n"))
    cfg = load_config(config)
    assert cfg.budgets["max_vector_table_bytes"] == 400

    # 2. the stage that measures it (build) returns it as a field of its result
    @dataclass(frozen=True)
    class BuiltWithVectorTable(pl.Built):
        vector_table_bytes: int

    built = BuiltWithVectorTable(**asdict(BUILT), vector_table_bytes=392)
    assert built.sizes()["vector_table_bytes"] == 392, "and so suite.json's sizes give it to the Robot suite"

    # 3. metrics.json takes it from there
    results = Results()
    results.set(pl.TRAIN, pl.Trained(0.99, 1000))
    results.set(pl.QUANTIZE, pl.Quantized(0.98, 0, 1))
    results.set(pl.BUILD, built)
    results.set(pl.TEST_FIRMWARE, pl.Verdict(0, None))
    run = pl.PipelineRun(pl.ModelBuild(cfg, out_dir=tmp_path), "qemu")
    write_metrics(tmp_path / "metrics.json", pl.collect_metrics(run, results))
    metrics = load_metrics(tmp_path / "metrics.json")
    assert metrics["vector_table_bytes"] == 392

    # 4. the docs' stage graph lists it under its stage (docs/architecture.md: paste `invoke graph`)
    assert re.search(r'^  build\[".*vector_table_bytes"\]$', pl.graph_mermaid(), re.MULTILINE)

    # 5. the budget table and the CI job summary judge it
    assert re.search(r"^vector_table_bytes\s+392\s+<= 400\s+pass$", table(metrics), re.MULTILINE)
    over = {**metrics, "vector_table_bytes": 401}
    assert re.search(r"^vector_table_bytes\s+401\s+<= 400\s+FAIL$", table(over), re.MULTILINE)
    summary = summary_markdown(over, None)
    assert "| vector table bytes | 401 |" in summary
    assert "| max_vector_table_bytes | ≤ 400 | 401 | **FAIL** |" in summary

    # 6. renode-test gets it as a variable
    assert budget_variables(cfg.budgets)["MAX_VECTOR_TABLE_BYTES"] == "400"

    # 7. the Robot keyword checks it from the suite file's sizes (a build figure), both ways
    library = _robot_library(tmp_path, {"vector_table_bytes": 392}, {"max_vector_table_bytes": 400})
    library.figure_should_be_within_budget("vector_table_bytes")
    assert "vector_table_bytes 392, budget 400 (at most, bytes)" in capsys.readouterr().out
    library = _robot_library(tmp_path, {"vector_table_bytes": 401}, {"max_vector_table_bytes": 400})
    with pytest.raises(AssertionError, match="vector_table_bytes 401, budget 400"):
        library.figure_should_be_within_budget("vector_table_bytes")

    # 8. and the Robot suite must get a line for it: the coverage check says which
    assert {f.name for f in figures.firmware_budgeted()} - checked_in_robot() == {"vector_table_bytes"}
