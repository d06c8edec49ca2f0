"""Run the Renode-native suite (robot_tests/renode/) with Renode's own ``renode-test``.

``renode-test`` starts Renode as a Robot Framework remote library and runs the
suite with the robotframework version Renode pins (6.1 for Renode 1.15.1), so it
needs its own Python environment (see docs/renode.md). The suite gets the ELF and
the model's budgets as ``--variable``s; the budgets are the model config's, passed
through unchanged in name (upper-cased), so there is no second copy of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from pipeline.config import ROOT
from pipeline.emulators.renode import kill_group, private_environment
from pipeline.errors import ConfigError, EmulatorError, EmulatorMissingError

NATIVE_SUITE = ROOT / "robot_tests" / "renode" / "firmware_native.robot"
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
    """Robot variable names and values for a model's budgets (``max_x`` -> ``MAX_X``), in the
    order of the figure registry (pipeline/figures.py), whose budget keys are the only ones accepted."""
    from pipeline.figures import budget_keys

    known = budget_keys()
    if REQUIRED_BUDGET not in budgets:
        raise ConfigError(
            f"the Renode-native suite checks '{REQUIRED_BUDGET}', which the model's budgets "
            f"lack (it has: {', '.join(sorted(budgets)) or 'none'})"
        )
    unknown = sorted(set(budgets) - set(known))
    if unknown:
        raise ConfigError(f"budget name {unknown[0]!r} is not max_*/min_* of a figure in pipeline/figures.py "
                          f"(known: {', '.join(known)})")
    return {key.upper(): _format_number(budgets[key]) for key in known if key in budgets}


def renode_test_command(elf: Path, budgets: dict[str, float], results_dir: Path,
                        platform: Path | None = None, include_tag: str | None = None) -> list[str]:
    """The ``renode-test`` argv that runs the native suite on ``elf`` against ``budgets``.

    ``platform`` replaces the overlay; ``include_tag`` runs only the tests with that tag.
    """
    argv = ["renode-test", "-r", str(results_dir.resolve())]
    if include_tag is not None:
        argv += ["--include", include_tag]
    argv += ["--variable", f"ELF:{elf.resolve()}"]
    if platform is not None:
        argv += ["--variable", f"PLATFORM:{platform.resolve()}"]
    for name, value in budget_variables(budgets).items():
        argv += ["--variable", f"{name}:{value}"]
    argv.append(str(NATIVE_SUITE))
    return argv


def renode_test_environment() -> dict[str, str]:
    """The environment renode-test runs in: its own Python first on PATH.

    ``renode-test`` runs ``python3`` from PATH and needs the robotframework version Renode
    pins, so the virtual environment made next to Renode (``install.sh --with-tests``:
    ``<renode>/venv``) goes first; the project's own .venv (robotframework 7) must not.
    """
    launcher = shutil.which("renode-test")
    if launcher is None:
        raise EmulatorMissingError(
            "renode-test is not on PATH: it comes with Renode (see docs/renode.md, 'Installing Renode')"
        )
    venv_bin = Path(launcher).resolve().parent / "venv" / "bin"
    if not (venv_bin / "python3").is_file():
        raise EmulatorMissingError(
            f"renode-test's Python requirements are not installed: no {venv_bin / 'python3'}. "
            "Install them with Renode's tests/requirements.txt into that virtual environment "
            "(install.sh --with-tests does; see docs/renode.md)"
        )
    return {**os.environ, "PATH": os.pathsep.join([str(venv_bin), os.environ.get("PATH", "")])}


def run_native_suite(elf: Path, budgets: dict[str, float], results_dir: Path, platform: Path | None = None,
                     include_tag: str | None = None, timeout_s: float = 600.0) -> RenodeTestReport:
    """Run the native suite under renode-test; its console goes to ``results_dir/renode-test.log``."""
    argv = renode_test_command(elf, budgets, results_dir, platform, include_tag)
    path = renode_test_environment()["PATH"]
    results_dir.mkdir(parents=True, exist_ok=True)
    log_path = results_dir / "renode-test.log"
    with tempfile.TemporaryDirectory(prefix="renode-test-") as tmp:
        env = {**private_environment(Path(tmp)), "PATH": path}
        with log_path.open("w") as log:
            # Its own process group: renode-test starts Renode (mono), and nothing may outlive the run.
            proc = subprocess.Popen(argv, env=env, cwd=results_dir, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                returncode = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired as exc:
                raise EmulatorError(f"renode-test did not finish within {timeout_s:g} s ({log_path})") from exc
            finally:
                kill_group(proc)
    report = parse_renode_test_output(log_path.read_text(errors="replace"), returncode)
    output_xml = results_dir / "robot_output.xml"
    if output_xml.is_file():
        report.messages = failure_messages(output_xml)
    return report


def failure_messages(output_xml: Path) -> dict[str, str]:
    """Each failed test's message from a Robot output file (test name -> message)."""
    messages = {}
    for test in ElementTree.parse(output_xml).iter("test"):
        status = test.find("status")
        if status is not None and status.get("status") == "FAIL":
            messages[str(test.get("name"))] = (status.text or "").strip()
    return messages


@dataclass
class RenodeTestReport:
    """What a ``renode-test`` run printed (parsed from its console output)."""

    returncode: int
    statuses: dict[str, str] = field(default_factory=dict)  # test name -> "OK" / "failed" / ...
    missing_keywords: list[str] = field(default_factory=list)
    result_files: dict[str, str] = field(default_factory=dict)  # Output/Log/Report -> path
    messages: dict[str, str] = field(default_factory=dict)  # failed test's name -> its message (robot_output.xml)

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
