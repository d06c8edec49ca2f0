"""`invoke bench`'s reports (pipeline/analyses/bench.py) and the performance targets in the model configs.

The benchmark itself runs the emulator (`invoke bench`); here its reports are built from given
figures, and every model config with a [reference] is checked to gate below its target.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.analyses.bench import (
    BenchResult,
    LayerBench,
    format_markdown,
    format_table,
    target_summary,
    write_reports,
)
from pipeline.config import MODELS_DIR, load_config

BENCH_JSON_KEYS = {"model", "macs", "instructions_per_inference", "mac_per_instruction", "model_bytes",
                   "model_flash_bytes", "arena_bytes", "ram_bytes", "layers"}


def _result(model: str, instructions: int, target: int | None) -> BenchResult:
    return BenchResult(
        model=model, macs=1000, instructions_per_inference=instructions,
        mac_per_instruction=round(1000 / instructions, 4), model_bytes=1024, model_flash_bytes=2048, arena_bytes=512,
        ram_bytes=1600, layers=[LayerBench("CONV_2D", 1000, instructions - 10), LayerBench("RESHAPE", 0, 0)],
        tflm_cmsis_nn_instructions=None if target is None else 2 * target, target_instructions=target,
    )


def test_the_table_judges_each_target_and_the_summary_names_the_misses() -> None:
    results = [_result("fast", 900, 1000), _result("slow", 1100, 1000), _result("free", 5000, None)]
    table = format_table(results)
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert rows["fast"].endswith("<= 1,000 met")
    assert rows["slow"].endswith("<= 1,000 MISSED")
    assert "0.450" in rows["fast"]  # 900 / 2,000: the ratio to TFLM + CMSIS-NN
    assert rows["free"].split()[-3:] == ["-", "-", "-"]
    assert target_summary(results) == "bench: 1 of 2 instruction targets met; missed: slow"
    assert target_summary(results[:1]) == "bench: 1 of 1 instruction targets met"
    assert "| slow |" in format_markdown(results)


def test_bench_json_holds_the_documented_fields(tmp_path: Path) -> None:
    json_path, md_path = write_reports([_result("fast", 900, 1000), _result("free", 5000, None)], tmp_path)
    rows = json.loads(json_path.read_text())
    assert [r["model"] for r in rows] == ["fast", "free"]
    for row in rows:
        assert row.keys() >= BENCH_JSON_KEYS
        conv = {"op": "CONV_2D", "macs": 1000, "instructions": row["instructions_per_inference"] - 10}
        assert row["layers"][0] == conv
    assert [r["target_met"] for r in rows] == [True, None]
    assert md_path.read_text().startswith("| model |")


REFERENCED = sorted(p.parent.name for p in MODELS_DIR.glob("*/config.toml") if "[reference]" in p.read_text())


def test_the_mlperf_models_have_a_reference() -> None:
    assert {"kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"} <= set(REFERENCED)


@pytest.mark.parametrize("model", REFERENCED)
def test_the_instruction_budget_enforces_the_target(model: str) -> None:
    """A budget above the target would let a regression past the target through the Robot suite."""
    cfg = load_config(MODELS_DIR / model / "config.toml")
    target = cfg.reference["target_instructions"]
    budget = cfg.budgets["max_instructions_per_inference"]
    assert target < cfg.reference["tflm_cmsis_nn_instructions"], f"{model}: the target is not below TFLM + CMSIS-NN"
    assert budget <= target, f"{model}: max_instructions_per_inference {budget:,.0f} exceeds the target {target:,}"


@pytest.mark.parametrize("model", [m for m in REFERENCED if "target_cycle_ratio" in
                                   load_config(MODELS_DIR / m / "config.toml").reference])
def test_the_cycle_budget_enforces_the_cycle_target(model: str) -> None:
    """The same for cycles: a budget above target_cycle_ratio x TFLM + CMSIS-NN's estimate would pass a regression."""
    cfg = load_config(MODELS_DIR / model / "config.toml")
    limit = cfg.reference["target_cycle_ratio"] * cfg.reference["tflm_cmsis_nn_cycles"]
    budget = cfg.budgets["max_estimated_cycles_per_inference"]
    assert budget <= limit, f"{model}: max_estimated_cycles_per_inference {budget:,.0f} exceeds the target {limit:,.0f}"


def test_the_cycle_ratio_is_judged_against_half_the_peer() -> None:
    base = _result("x", 900, 1000)
    half = replace(base, model="m", estimated_cycles_per_inference=500, latency_ms=0.003, tflm_cmsis_nn_cycles=1000,
                   target_cycle_ratio=0.5)
    over = replace(half, model="n", estimated_cycles_per_inference=501)
    assert (half.cycle_ratio, half.cycle_target_met, over.cycle_target_met) == (0.5, True, False)
    assert base.cycle_target_met is None
    rows = {line.split()[0]: line for line in format_table([half, over, base]).splitlines()[2:]}
    assert rows["m"].split()[8:12] == ["500", "0.003", "1,000", "0.500"] and "<= 0.5x met" in rows["m"]
    assert rows["n"].split()[11] == "0.501" and "<= 0.5x MISSED" in rows["n"]
    assert target_summary([half, over]).endswith("bench: 1 of 2 cycle targets (<= 0.5x TFLM + CMSIS-NN) met; missed: n")


def test_a_peer_without_a_cycle_target_gets_the_ratio_and_no_verdict() -> None:
    """digits has a peer firmware but no [reference]: its ratio is printed, never counted as met or missed."""
    unjudged = replace(_result("d", 900, 1000), estimated_cycles_per_inference=800, latency_ms=0.005,
                       tflm_cmsis_nn_cycles=1000)
    judged = replace(unjudged, model="k", target_cycle_ratio=0.5)
    assert (unjudged.cycle_ratio, unjudged.cycle_target_met, judged.cycle_target_met) == (0.8, None, False)
    row = format_table([unjudged]).splitlines()[2].split()
    assert row[11:13] == ["0.800", "-"]
    summary = target_summary([unjudged, judged])
    assert summary.endswith("bench: 0 of 1 cycle targets (<= 0.5x TFLM + CMSIS-NN) met; missed: k")


@pytest.mark.parametrize("model", ["kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"])
def test_the_mlperf_models_are_judged_at_half_the_peer_cycles(model: str) -> None:
    """Issue 12's gate: at most 0.5x TFLM + CMSIS-NN in estimated cycles on the four MLPerf Tiny models."""
    assert load_config(MODELS_DIR / model / "config.toml").reference["target_cycle_ratio"] == 0.5


@pytest.mark.parametrize("model", sorted(p.parent.name for p in MODELS_DIR.glob("*/config.toml")))
def test_every_model_has_a_cycle_budget(model: str) -> None:
    assert "max_estimated_cycles_per_inference" in load_config(MODELS_DIR / model / "config.toml").budgets
