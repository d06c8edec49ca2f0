"""Every fast requantization form (firmware/kernels/arm/tc_requant_dsp.h) equals the reference form
(tc_requant.h's tc_requantize, TFLM's MultiplyByQuantizedMultiplier), checked in C: the firmware of
firmware/tests/requant/ on the Cortex-M4 in QEMU (every form, the assembly ones included) and the
same file built with the host's gcc (the portable forms). The C prints one verdict per form; its
two deliberately wrong mutant forms must FAIL, or the edge cases no longer reach the ties. The one
form that is not C, the generator's numpy copy (pipeline/codegen/ops/elementwise.py), is checked
against the C reference built as a host library."""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.codegen.ops.elementwise import _requantize
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.qemu import QemuBackend
from tests.conftest import require_tool

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
TEST_DIR = FIRMWARE / "tests" / "requant"
VERDICT = re.compile(r"^requant (\w+): (PASS|FAIL) (.*)$", re.MULTILINE)
MUTANTS = {"mutant_x2_no_sign", "mutant_split_ge"}
PORTABLE_FORMS = {"reference", "split", "x2"}
M4_FORMS = PORTABLE_FORMS | {"ch", "x2_sat", "x2_mla"}
MIN_CASES = 50_000  # the edge grid alone gives each form more: fewer means cases were lost


def _verdicts(console: str) -> dict[str, tuple[str, str]]:
    assert console.rstrip().endswith("DONE"), f"the equivalence run did not finish:\n{console}"
    return {name: (verdict, detail) for name, verdict, detail in VERDICT.findall(console)}


def _check(console: str, forms: set[str]) -> None:
    verdicts = _verdicts(console)
    assert set(verdicts) == forms | MUTANTS, f"forms reported: {sorted(verdicts)}, want {sorted(forms | MUTANTS)}"
    failed = {f"{name}: {verdicts[name][1]}" for name in forms if verdicts[name][0] != "PASS"}
    assert not failed, "fast form differs from the reference:\n" + "\n".join(sorted(failed))
    for name in forms - {"reference"}:
        cases = int(verdicts[name][1].split()[0])
        assert cases >= MIN_CASES, f"{name}: only {cases} cases checked"
    caught = {name for name in MUTANTS if verdicts[name][0] == "FAIL"}
    assert caught == MUTANTS, f"mutants not caught by the edge cases: {sorted(MUTANTS - caught)}"


@pytest.mark.qemu
@pytest.mark.toolchain
def test_every_requant_form_equals_the_reference_on_the_cortex_m4(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("cmake", "sudo apt-get install cmake ninja-build")
    require_tool("ninja", "sudo apt-get install ninja-build")
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    build = tmp_path / "build"
    for step in (["-S", str(TEST_DIR), "-B", str(build), "-G", "Ninja"], ["--build", str(build)]):
        run = subprocess.run(["cmake", *step], capture_output=True, text=True, check=False)
        assert run.returncode == 0, f"cmake {' '.join(step)} failed:\n{run.stdout}{run.stderr}"
    result = QemuBackend().run(EmulatorRun(elf=build / "requant_test.elf", workdir=tmp_path / "qemu",
                                           wall_timeout_s=60.0))
    assert "on the Cortex-M4" in result.console
    _check(result.console, M4_FORMS)


def test_portable_requant_forms_equal_the_reference_on_the_host(tmp_path: Path) -> None:
    gcc = require_tool("gcc", "sudo apt-get install gcc")
    exe = tmp_path / "requant_host"
    subprocess.run([gcc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{FIRMWARE / 'kernels' / 'include'}",
                    f"-I{FIRMWARE / 'kernels' / 'arm'}", str(TEST_DIR / "requant_equivalence.c"), "-o", str(exe)],
                   check=True)
    console = subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=60).stdout
    assert "on the host" in console
    _check(console, PORTABLE_FORMS)


def test_the_generators_numpy_form_equals_the_c_reference(tmp_path: Path) -> None:
    """_requantize tabulates the DSP ADD's input rescaling: multipliers in [0, 2^31), any int32, every
    shift, on the int32 edges, the ties of both roundings (m = 2^30 with odd values, ties of the
    rounding division) and a seeded sweep."""
    gcc = require_tool("gcc", "sudo apt-get install gcc")
    lib_path = tmp_path / "librequant.so"
    subprocess.run([gcc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    f"-I{FIRMWARE / 'kernels' / 'include'}", str(TEST_DIR / "requant_reference_lib.c"),
                    "-o", str(lib_path)], check=True)
    reference = ctypes.CDLL(str(lib_path)).tc_test_requantize_n
    rng = np.random.default_rng(20261203)
    edges = np.array([-(1 << 31), -(1 << 31) + 1, -(1 << 30), -7, -6, -5, -3, -2, -1, 0, 1, 2, 3, 5, 6, 7,
                      (1 << 30) - 1, 1 << 30, (1 << 31) - 2, (1 << 31) - 1], dtype=np.int64)
    multipliers = [0, 1, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, 3 << 29, (1 << 31) - 1,
                   *rng.integers(0, 1 << 31, 6).tolist()]
    checked = 0
    for multiplier in multipliers:
        for shift in range(-31, 31):
            e = max(-shift, 0)
            ties = np.array([k * (1 << e) + (1 << max(e - 1, 0)) + d for k in range(-3, 3) for d in (-1, 0, 1)])
            near_ties = (ties * (1 << 31) - (1 << 30)) // max(multiplier, 1) + np.array([[0], [1]])
            acc = np.concatenate([edges, near_ties.ravel(), rng.integers(-(1 << 31), 1 << 31, 300)])
            acc = acc[(acc >= -(1 << 31)) & (acc < 1 << 31)].astype(np.int32)
            want = np.empty_like(acc)
            ptr = ctypes.POINTER(ctypes.c_int32)
            reference(acc.ctypes.data_as(ptr), np.full_like(acc, multiplier).ctypes.data_as(ptr),
                      np.full_like(acc, shift).ctypes.data_as(ptr), want.ctypes.data_as(ptr), ctypes.c_int32(len(acc)))
            got = _requantize(acc.astype(np.int64), multiplier, shift)
            bad = np.flatnonzero(got != want)
            assert bad.size == 0, (f"m={multiplier} shift={shift} acc={int(acc[bad[0]])}: "
                                   f"C {int(want[bad[0]])}, numpy {int(got[bad[0]])}")
            checked += len(acc)
    assert checked > 200_000
