"""What the Invoke tasks call: one function per task, the project's errors re-exported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from pipeline.config import BUILD_DIR, BUILD_DIR_ENV, MODELS_DIR, ROOT
from pipeline.errors import PipelineError
from pipeline.pipeline import (
    TEST_FIRMWARE,
    ModelBuild,
    graph_mermaid,
    model_build,
    require_emulator,
    run_all,
    run_until,
)

__all__ = [
    "ModelBuild",
    "PipelineError",
    "clean",
    "export_model",
    "graph_mermaid",
    "model_build",
    "run_all",
    "run_firmware_suite",
    "run_renode_native",
    "run_test_suite",
    "run_until",
]

# The fast tier (pytest markers, pyproject.toml): unit tests and generated C on the host, no firmware.
FAST_TESTS = "not emulator and not toolchain and not slow"


def run_firmware_suite(b: ModelBuild, emulator: str | None = None) -> bool:
    """`invoke test-firmware`: the stages up to the Robot suite (reused when unchanged), then the suite;
    True if it passed."""
    return run_until(b, TEST_FIRMWARE.name, emulator).of(TEST_FIRMWARE).robot_exit_code == 0


def compress_model(b: ModelBuild, emulator: str | None = None) -> str:
    """Build and measure every [compress] candidate; return the name of the one chosen."""
    from pipeline.compress.search import compress

    require_emulator(emulator, b.board.name)
    result = compress(b, emulator)
    assert result.chosen is not None  # compress() fails when no candidate meets the budgets
    return result.chosen


def export_model(b: ModelBuild, out: Path | None = None, kernels: str = "portable") -> Path:
    """Generate the model (reused when fresh) and export it as a C library; default out: build/<model>/export/."""
    from pipeline.export.library import export_library

    run_until(b, "codegen")
    r = export_library(b, out if out is not None else b.dir / "export", kernels)
    print(f"export: {r.target} ({r.kernel_set} kernels: {', '.join(r.kernels)}), {len(r.sources)} .c files, "
          f"{r.source_bytes:,} bytes of C -> {r.out_dir}", flush=True)
    return r.out_dir


def _junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a JUnit/xunit XML file; all failed if it is missing."""
    if not path.exists():
        return 0, 1, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))[:1]
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


# The reason the ``renode`` fixture (tests/conftest.py) gives when it skips: the test command counts and
# names these skips in its summary.
RENODE_NOT_INSTALLED = "renode: not installed"


def renode_tests_not_run(junit: Path) -> int:
    """Tests skipped because Renode is not installed (tests/conftest.py, the ``renode`` fixture)."""
    if not junit.exists():
        return 0
    return sum(1 for skipped in ET.parse(junit).getroot().iter("skipped")
               if RENODE_NOT_INSTALLED in (skipped.get("message") or ""))


TEST_SESSION_DIR = BUILD_DIR / "test-session"


def run_test_suite(fast: bool = False) -> bool:
    """pytest, then the full pipeline with its Robot suite on the default model in QEMU; with ``fast``,
    only the fast tier of pytest (FAST_TESTS: no firmware build, no emulator, nothing slow).

    Both build into one fresh directory, TEST_SESSION_DIR (emptied first, kept to be read), never into
    the developer's models' build dirs: digits is trained once per test command."""
    shutil.rmtree(TEST_SESSION_DIR, ignore_errors=True)
    TEST_SESSION_DIR.mkdir(parents=True)
    junit = BUILD_DIR / "pytest.xml"
    junit.unlink(missing_ok=True)
    select = ["-m", FAST_TESTS] if fast else []
    print(f"== pytest {' '.join(select)} (build dir {TEST_SESSION_DIR})", flush=True)
    env = {**os.environ, BUILD_DIR_ENV: str(TEST_SESSION_DIR)}
    pytest_rc = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *select], cwd=ROOT,
                               env=env, check=False).returncode
    counts = [_junit_counts(junit)]
    passed = True
    if not fast:
        print("== Robot suite: invoke all --model digits --emulator qemu", flush=True)
        digits = replace(model_build("digits"), out_dir=TEST_SESSION_DIR / "digits")
        passed = run_all(digits, "qemu")["passed"]
        counts.append(_junit_counts(digits.dir / "robot" / "xunit.xml"))
    ok, failed, skipped = (sum(c[i] for c in counts) for i in range(3))
    if pytest_rc != 0 and failed == 0:
        failed = 1  # pytest failed without a test failure (collection error, crash): never report green
    print(f"pytest exit {pytest_rc}" + ("; fast tier: no Robot suite" if fast else
                                        f"; Robot suite on digits {'passed' if passed else 'FAILED'}"))
    not_run = renode_tests_not_run(junit)
    if not_run:
        print(f"{RENODE_NOT_INSTALLED}, {not_run} tests not run (counted as skipped, not passed)")
    print(f"test: {ok} passed, {failed} failed, {skipped} skipped (outputs in {TEST_SESSION_DIR})")
    return pytest_rc == 0 and bool(passed) and failed == 0


def clean() -> None:
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    print(f"removed {BUILD_DIR}")


def run_renode_native(b: ModelBuild) -> bool:
    """Build ``b``'s firmware, run the Renode-native suite on it under renode-test; True if it passed."""
    import shlex

    from pipeline.emulators.renode_native import renode_test_command, run_native_suite

    b.board.check_emulator("renode")
    platform = b.board.renode_platform  # the suite's default is the STM32F4 overlay
    run_until(b, "build")
    results = b.board_dir / "renode-test"
    print(f"renode-native: {shlex.join(renode_test_command(b.elf, b.cfg.budgets, results, platform))}", flush=True)
    report = run_native_suite(b.elf, b.cfg.budgets, results, platform)
    for name, status in report.statuses.items():
        message = report.messages.get(name.split(".", 1)[-1], "")
        print(f"  {status:6} {name}" + (f": {message}" if message else ""))
    if report.missing_keywords:
        print(f"  keywords this Renode lacks: {', '.join(report.missing_keywords)}")
    verdict = "passed" if report.passed else "FAILED"
    report_html = report.result_files.get("Report", results)
    print(f"renode-native: {verdict} -> {report_html} (log {results / 'renode-test.log'})")
    return report.passed


def run_op_tests(full: bool, seed: int) -> int:
    """The op-by-op suite (10 cases per op, or 200 with ``full``); returns 1 when any case differs."""
    from pipeline.optest.__main__ import main

    return main((["--full"] if full else []) + ["--seed", str(seed)])


def model_names() -> list[str]:
    """Every model in models/ (a folder with a config.toml)."""
    return sorted(p.parent.name for p in MODELS_DIR.glob("*/config.toml"))
