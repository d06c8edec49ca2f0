"""Command line: ``python -m pipeline.optest [--full] [--cases N] [--seed S] [--report-dir DIR]``.

The quick run is what ``tests/ops`` runs (10 cases per op); ``--full`` runs
FULL_CASES per op and also writes the summary to docs/op-coverage.md. The exit
status is 1 when any case differs from TFLM.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from pipeline.config import ROOT
from pipeline.optest.runner import DEFAULT_SEED, FULL_CASES, QUICK_CASES, run_op_tests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.optest", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help=f"{FULL_CASES} cases per op, summary to docs/")
    parser.add_argument("--cases", type=int, default=None, help="cases per op")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--report-dir", type=Path, default=ROOT / "build" / "op-tests")
    args = parser.parse_args(argv)
    cases = args.cases or (FULL_CASES if args.full else QUICK_CASES)
    report = run_op_tests(cases, args.seed, args.report_dir)
    if args.full:
        shutil.copyfile(args.report_dir / "op-coverage.md", ROOT / "docs" / "op-coverage.md")
    for failure in report.failures:
        print(f"FAIL {failure.message}")
    print(f"op tests: {len(report.results)} cases, {len(report.failures)} failed, "
          f"{report.wall_seconds:.0f} s; report in {args.report_dir}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
