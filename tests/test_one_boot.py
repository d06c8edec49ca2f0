"""One firmware boot per `invoke all`: the Robot suite evaluates the simulate stage's run.

The cycle stage's QEMU run with the cycle plugin (pipeline/stages/cycles.py) is a separate analysis
run, counted apart: what must happen once is the boot whose console gives the verdicts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import ROOT
from pipeline.stages.firmware_run import BootRequest, SuiteFile, platform_files, simulate_stage
from tests.conftest import require_tool


def _request(tmp_path: Path, **changes: object) -> BootRequest:
    fields: dict[str, object] = {"elf": tmp_path / "fw.elf", "build_dir": tmp_path, "emulator": "qemu",
                                 "wall_timeout_s": 120.0, "emulated_timeout_s": 30.0}
    fields.update(changes)
    return BootRequest(**fields)  # type: ignore[arg-type]


def test_the_boot_fingerprint_covers_the_elf_the_emulator_its_version_and_the_bounds(tmp_path: Path) -> None:
    (tmp_path / "fw.elf").write_bytes(b"elf one")
    base = simulate_stage(_request(tmp_path), "7.2.0").fingerprint()
    assert simulate_stage(_request(tmp_path), "7.2.0").fingerprint() == base
    assert simulate_stage(_request(tmp_path), "8.0.0").fingerprint() != base
    assert simulate_stage(_request(tmp_path, wall_timeout_s=60.0), "7.2.0").fingerprint() != base
    assert simulate_stage(_request(tmp_path, emulated_timeout_s=10.0), "7.2.0").fingerprint() != base
    assert simulate_stage(_request(tmp_path, emulator="renode"), "7.2.0").fingerprint() != base
    (tmp_path / "fw.elf").write_bytes(b"elf two")
    assert simulate_stage(_request(tmp_path), "7.2.0").fingerprint() != base


def test_renodes_platform_files_are_part_of_its_boot_and_not_of_qemus(tmp_path: Path) -> None:
    files = platform_files("renode")
    on_disk = {*ROOT.glob("renode/*.repl"), *ROOT.glob("renode/*.resc")}
    assert on_disk and set(files) == on_disk
    assert set(files) <= set(simulate_stage(_request(tmp_path, emulator="renode"), "1.15.1").inputs)
    assert platform_files("qemu") == ()


def test_a_suite_file_of_another_layout_is_refused_naming_the_file(tmp_path: Path) -> None:
    suite = tmp_path / "suite.json"
    SuiteFile("m", tmp_path, tmp_path / "fw.elf", tmp_path / "ref.npz", tmp_path / "config.toml", {}, {}, 60.0,
              30.0).write(suite)
    assert SuiteFile.load(suite).boot("qemu") == _request(tmp_path, wall_timeout_s=60.0)
    suite.write_text(suite.read_text().replace('"elf"', '"firmware"'))
    with pytest.raises(ValueError, match=r"suite.json: not a suite file of this pipeline"):
        SuiteFile.load(suite)


def _counting_qemu(bin_dir: Path, log: Path) -> None:
    """qemu-system-arm on PATH that logs each command line, then runs the real one."""
    real = require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    bin_dir.mkdir()
    wrapper = bin_dir / "qemu-system-arm"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)


def _emulator_runs(log: Path) -> tuple[int, int]:
    """(firmware boots, cycle-plugin analysis runs) in the log; version probes are not runs."""
    runs = [line for line in log.read_text().splitlines() if "-kernel" in line] if log.exists() else []
    plugin = sum("-plugin" in line for line in runs)
    return len(runs) - plugin, plugin


@pytest.mark.slow
@pytest.mark.toolchain
@pytest.mark.qemu
def test_invoke_all_boots_the_firmware_once_and_the_suite_reuses_that_boot(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    log = tmp_path / "qemu-runs.log"
    _counting_qemu(tmp_path / "bin", log)
    build_dir = tmp_path / "build"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "TINYML_CI_BUILD_DIR": str(build_dir)}

    def invoke(*args: str) -> str:
        log.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, "-m", "invoke", *args, "--model", "digits", "--emulator", "qemu"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout

    out = invoke("all")
    assert _emulator_runs(log) == (1, 1), log.read_text()
    assert "[simulate-qemu] reused" in (build_dir / "digits" / "robot" / "output.xml").read_text()
    assert "9 tests, 9 passed, 0 failed" in out

    out = invoke("all")  # nothing changed: no emulator run at all, the verdicts evaluated again
    assert _emulator_runs(log) == (0, 0), log.read_text()
    assert "9 tests, 9 passed, 0 failed" in out

    # No saved run for this ELF (the stamp is gone): the suite, run on its own, boots it.
    (build_dir / "digits" / ".stamps" / "simulate-qemu.json").unlink()
    out = invoke("test-firmware")
    assert _emulator_runs(log) == (1, 0), log.read_text()
    assert "9 tests, 9 passed, 0 failed" in out
