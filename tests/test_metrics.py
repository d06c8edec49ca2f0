"""The budget table: every figure with its budget and verdict; figures without a budget shown, not judged."""

from __future__ import annotations

from pipeline.metrics import budget_verdicts, table

BASE = {"bit_exact_matched": 20, "bit_exact_total": 20, "instructions_per_inference": 1000,
        "model_bytes": 500, "int8_accuracy": None, "target_accuracy": None}


def test_a_figure_over_its_budget_fails_and_names_both_numbers() -> None:
    rows = {r[0]: r for r in budget_verdicts({**BASE, "budgets": {"max_instructions_per_inference": 999}})}
    assert rows["instructions_per_inference"][3] == "FAIL"
    assert "999" in table({**BASE, "budgets": {"max_instructions_per_inference": 999}})


def test_accuracy_without_labels_is_not_applicable_never_passed() -> None:
    rows = {r[0]: r for r in budget_verdicts({**BASE, "budgets": {"min_target_accuracy": 0.9}})}
    assert rows["target_accuracy"][3] == "n/a"


def test_figures_without_a_budget_are_shown_unjudged() -> None:
    rows = {r[0]: r for r in budget_verdicts({**BASE, "budgets": {}})}
    assert rows["model_bytes"][2:] == ("no budget", "-")
    assert rows["bit_exact"][3] == "pass"


def test_a_bit_exact_mismatch_fails() -> None:
    rows = {r[0]: r for r in budget_verdicts({**BASE, "bit_exact_matched": 19, "budgets": {}})}
    assert rows["bit_exact"][3] == "FAIL"
