"""Op-by-op verification: every supported op, generated C against TFLM, bit for bit.

Runs QUICK_CASES cases per op from the explicit option matrix in
pipeline/optest/cases.py (converted .tflite files are cached under
build/optest-cache/ by case hash). The nightly full run is
``invoke op-tests --full`` (FULL_CASES per op). A failure names the case,
its seed and the call that replays it; TC_OPTEST_SEED picks another seed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.optest import OpTestReport, run_op_tests
from pipeline.optest.cases import MATRIX, OPS
from pipeline.optest.runner import DEFAULT_SEED, QUICK_CASES

SEED = int(os.environ.get("TC_OPTEST_SEED", DEFAULT_SEED))


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("op-coverage")


@pytest.fixture(scope="module")
def report(report_dir: Path) -> OpTestReport:
    return run_op_tests(QUICK_CASES, SEED, report_dir)


@pytest.mark.parametrize("op", OPS)
def test_op_is_bit_exact_with_tflm(report: OpTestReport, op: str) -> None:
    results = [r for r in report.results if r.op == op]
    assert len(results) == QUICK_CASES, f"{op}: {len(results)} cases ran, expected {QUICK_CASES}"
    failures = [r.message for r in results if not r.passed]
    assert not failures, f"{op}: {len(failures)} of {len(results)} cases differ from TFLM (seed {SEED}):\n" + \
        "\n".join(failures)
    assert all(r.vectors >= 16 for r in results), f"{op}: a case ran fewer than 16 input vectors"


def test_coverage_report_lists_every_op_its_options_and_litert_disagreements(
        report: OpTestReport, report_dir: Path) -> None:
    data = json.loads((report_dir / "op-coverage.json").read_text())
    assert set(data["per_op"]) == set(OPS)
    for op, summary in data["per_op"].items():
        assert summary["cases"] == QUICK_CASES, op
        assert set(summary["options"]) == set(MATRIX[op]), f"{op}: options missing from the report"
        assert "litert_disagreeing_cases" in summary
    markdown = (report_dir / "op-coverage.md").read_text()
    assert all(f"| {op} |" in markdown for op in OPS)
