"""Re-record tests/fixtures/renode-1.15.1/ on the installed Renode (run from the repository root).

    .venv/bin/python scripts/record_renode_fixtures.py

Builds the fixture firmware (test-firmware.c: the plain loop, -DFAULT and -DUDF) with
arm-none-eabi-gcc, replays each recorded monitor session on the `renode` on PATH, and
writes its output with the machine's paths replaced by the placeholders the tests use
(<RENODE_ROOT>, <FW>, <OUT>, <TESTS>, <RESULTS>, <TMPDIR>). r3 (a CPU abort, after which
Renode never returns) is killed after 20 s, as the original recording's outer timeout did.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "renode-1.15.1"
CFLAGS = ["-mcpu=cortex-m4", "-mthumb", "-O2", "-nostdlib", f"-T{FIXTURES / 'test-firmware.ld'}"]

SESSIONS = {  # fixture name -> (monitor commands, ELF, UART capture name, platform)
    "r1-stock-board.txt": (["sysbus.cpu ExecutedInstructions", "sysbus.cpu PerformanceInMips",
                            "sysbus ReadDoubleWord 0xE0001004"], "fw_ok.elf", "r1-uart.log",
                           "@platforms/boards/stm32f4_discovery-kit.repl"),
    "r2-cpu-platform-dwt.txt": (["sysbus.cpu ExecutedInstructions"], "fw_ok.elf", "r2-uart.log", "r2"),
    "r3-fault.txt": (["sysbus.cpu PC", "sysbus.cpu ExecutedInstructions"], "fw_fault.elf", "r3-uart.log",
                     "@<FW>/offline.repl"),
    "r4-udf.txt": (["sysbus.cpu PC"], "fw_udf.elf", "r4-uart.log", "@<FW>/offline.repl"),
}
R2_DWT = ('machine LoadPlatformDescriptionFromString '
          '"dwt: Miscellaneous.DWT @ sysbus 0xE0001000 { frequency: 100000000 }"')


def run(argv: list[str], env: dict[str, str], timeout: float) -> tuple[str, int]:
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return out, proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return out, 124


def main() -> int:
    renode = shutil.which("renode")
    if renode is None:
        sys.exit("record_renode_fixtures: no renode on PATH")
    root = str(Path(renode).resolve().parent)
    with tempfile.TemporaryDirectory(prefix="renode-fixtures-") as tmp:
        fw, out, tmpdir = Path(tmp, "fw"), Path(tmp, "out"), Path(tmp, "tmp")
        for d in (fw, out, tmpdir):
            d.mkdir()
        source = FIXTURES / "test-firmware.c"
        for elf, defines in (("fw_ok.elf", []), ("fw_fault.elf", ["-DFAULT"]), ("fw_udf.elf", ["-DUDF"])):
            subprocess.run(["arm-none-eabi-gcc", *CFLAGS, *defines, str(source), "-o", str(fw / elf)], check=True)
        shutil.copy(FIXTURES / "offline-overlay.repl", fw / "offline.repl")
        env = {**os.environ, "TMPDIR": str(tmpdir), "RENODE_CI_MODE": "YES", "XDG_CONFIG_HOME": str(tmpdir)}

        def placeholders(text: str) -> str:
            names = {root: "<RENODE_ROOT>", str(fw): "<FW>", str(out / "results"): "<RESULTS>", str(out): "<OUT>",
                     str(tmpdir): "<TMPDIR>", tmp: "<TESTS>"}
            for real in sorted(names, key=len, reverse=True):  # a path before the folders holding it
                text = text.replace(real, names[real])
            return text

        version, rc = run([renode, "--version"], env, 60)
        (FIXTURES / "version.txt").write_text(placeholders(version) + f"rc={rc}\n")
        for name, (questions, elf, uart, platform) in SESSIONS.items():
            load = (["machine LoadPlatformDescription @platforms/cpus/stm32f4.repl", R2_DWT] if platform == "r2"
                    else [f"machine LoadPlatformDescription {platform.replace('<FW>', str(fw))}"])
            commands = ['mach create "stm32f4"', *load, f"sysbus.usart2 CreateFileBackend @{out / uart} true",
                        f"sysbus LoadELF @{fw / elf}", 'emulation RunFor "00:00:01"', *questions, "quit"]
            text, rc = run([renode, "--disable-xwt", "--console", "--plain", "-e", "; ".join(commands)], env, 20)
            (FIXTURES / name).write_text(placeholders(text) + f"rc={rc}\n")
            shutil.copy(out / uart, FIXTURES / uart)
        commands = ['mach create "x"', f"machine LoadPlatformDescription @{fw / 'offline.repl'}",
                    f"sysbus LoadELF @{fw / 'nonexistent.elf'}", "quit"]
        text, rc = run([renode, "--disable-xwt", "--console", "--plain", "-e", "; ".join(commands)], env, 60)
        (FIXTURES / "r5-missing-elf.txt").write_text(placeholders(text) + f"rc={rc}\n")
        demo = Path(tmp, "demo.robot")
        demo.write_text((FIXTURES / "demo.robot").read_text().replace("<FW>", str(fw)))
        shutil.copy(fw / "offline.repl", Path(tmp, "offline.repl"))
        sys.path.insert(0, str(FIXTURES.parents[2]))
        from pipeline.emulators.renode_native import renode_test_environment

        test_env = {**env, "PATH": renode_test_environment()["PATH"]}  # renode-test's own Python
        text, rc = run(["renode-test", "-r", str(out / "results"), str(demo)], test_env, 300)
        (FIXTURES / "r6-renode-test.txt").write_text(placeholders(text) + f"rc={rc}\n")
    print(f"record_renode_fixtures: re-recorded {FIXTURES} with {version.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
