"""Run the Renode-native suite (robot_tests/renode/) with Renode's own ``renode-test``.

``renode-test`` starts Renode as a Robot Framework remote library and runs the
suite with the robotframework version Renode pins (6.1 for Renode 1.15.1), so it
needs its own Python environment (see docs/renode.md). The suite gets the ELF and
the model's budgets as ``--variable``s; the budgets are the model config's, passed
through unchanged in name (upper-cased), so there is no second copy of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.emulators.renode import REPO_ROOT
from pipeline.errors import ConfigError

NATIVE_SUITE = REPO_ROOT / "robot_tests" / "renode" / "firmware_native.robot"
REQUIRED_BUDGET = "max_instructions_per_inference"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FINISHED = re.compile(
    r"^\+\+\+\+\+ Finished test '(?P<name>.+)' in (?P<seconds>[0-9.]+) seconds "
    r"with status (?P<status>\S+)",
    re.MULTILINE,
)
_NO_KEYWORD = re.compile(r"No keyword with name '(?P<name>[^']+)' found")
_RESULT_FILE = re.compile(r"^(?P<kind>Output|Log|Report):\s+(?P<path>\S.*)$", re.MULTILINE)


def _format_number(value: float) -> str:
    # 1500000.0 -> "1500000": Robot evaluates the value in an expression either way,
    # but an integral budget reads better in logs as an integer.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def budget_variables(budgets: dict[str, float]) -> dict[str, str]:
    """Robot variable names and values for a model's budgets (``max_x`` -> ``MAX_X``)."""
    if REQUIRED_BUDGET not in budgets:
        raise ConfigError(
            f"the Renode-native suite checks '{REQUIRED_BUDGET}', which the model's budgets "
            f"lack (it has: {', '.join(sorted(budgets)) or 'none'})"
        )
    variables = {}
    for name, value in sorted(budgets.items()):
        if not re.fullmatch(r"(max|min)_[a-z0-9_]+", name):
            raise ConfigError(f"budget name {name!r} is not max_*/min_*")
        variables[name.upper()] = _format_number(value)
    return variables


def renode_test_command(elf: Path, budgets: dict[str, float], results_dir: Path) -> list[str]:
    """The ``renode-test`` argv that runs the native suite on ``elf`` against ``budgets``."""
    argv = ["renode-test", "-r", str(results_dir.resolve())]
    argv += ["--variable", f"ELF:{elf.resolve()}"]
    for name, value in budget_variables(budgets).items():
        argv += ["--variable", f"{name}:{value}"]
    argv.append(str(NATIVE_SUITE))
    return argv


@dataclass
class RenodeTestReport:
    """What a ``renode-test`` run printed (parsed from its console output)."""

    returncode: int
    statuses: dict[str, str] = field(default_factory=dict)  # test name -> "OK" / "failed" / ...
    missing_keywords: list[str] = field(default_factory=list)
    result_files: dict[str, str] = field(default_factory=dict)  # Output/Log/Report -> path

    @property
    def failed(self) -> list[str]:
        return [name for name, status in self.statuses.items() if status.lower() != "ok"]

    @property
    def passed(self) -> bool:
        # renode-test exits 1 when any test fails; a run that printed no test at all
        # (e.g. Renode did not start) is not a pass either.
        return self.returncode == 0 and bool(self.statuses) and not self.failed


def parse_renode_test_output(text: str, returncode: int) -> RenodeTestReport:
    clean = _ANSI.sub("", text)
    report = RenodeTestReport(returncode)
    for match in _FINISHED.finditer(clean):
        report.statuses[match.group("name")] = match.group("status")
    report.missing_keywords = [m.group("name") for m in _NO_KEYWORD.finditer(clean)]
    report.result_files = {m.group("kind"): m.group("path") for m in _RESULT_FILE.finditer(clean)}
    return report
