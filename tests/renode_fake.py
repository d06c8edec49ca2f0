"""A fake ``renode`` executable for the backend's end-to-end tests.

It replays the recorded Renode 1.15.1 runs (tests/fixtures/renode-1.15.1/):
writes the UART capture to the file named in ``CreateFileBackend``, prints the
recorded console text, and then exits or hangs as the real Renode did. Like the
real launcher script (which starts mono), it starts a child process, so the
tests can check that the whole process group is gone afterwards.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "renode-1.15.1"

# Console of a successful run in the firmware's own protocol (pipeline/emulators/firmware_log.py).
FIRMWARE_OK = (
    "BOOT model=digits vectors=2 counter=dwt clock_hz=100000000\n"
    "CALIB instructions=1000 ticks=1004 wraps=0\n"
    "VEC 0 class=3 ticks=123456 wraps=0 out=-128,127\n"
    "VEC 1 class=7 ticks=123460 wraps=0 out=-120,100\n"
    "STACK reserved=4096 used=1200\n"
    "SUMMARY vectors=2\n"
    "DONE\n"
)
FIRMWARE_PARTIAL = "BOOT model=digits vectors=2 counter=dwt clock_hz=100000000\nVEC 0 class=3"

SCRIPT = r"""#!{python}
import json, os, re, subprocess, sys, time
from pathlib import Path

fixtures = Path({fixtures!r})
scenario = os.environ["FAKE_RENODE_SCENARIO"]
state = Path(os.environ["FAKE_RENODE_STATE"])
args = sys.argv[1:]
if args == ["--version"]:
    print(fixtures.joinpath("version.txt").read_text().replace("rc=0\n", ""), end="")
    sys.exit(0)

commands = [args[i + 1] for i, a in enumerate(args) if a == "-e"]
seen = {{"argv": sys.argv, "tmpdir": os.environ.get("TMPDIR"),
        "renode_ci_mode": os.environ.get("RENODE_CI_MODE"), "xdg_config_home": os.environ.get("XDG_CONFIG_HOME")}}
state.joinpath("argv.json").write_text(json.dumps(seen))
# The real `renode` is a launcher script that starts mono: one child in the group.
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
state.joinpath("pids").write_text(f"{{os.getpid()}} {{child.pid}}")

def arg(pattern):
    for c in commands:
        m = re.search(pattern, c)
        if m:
            return m.group(1)
    return ""

uart = arg(r"CreateFileBackend @(\S+) true")
elf = arg(r"sysbus LoadELF @(\S+)")

def replay(name, out_file=None):
    text = fixtures.joinpath(name).read_text()
    text = text.replace("<RENODE_ROOT>", "/opt/renode").replace("<FW>", str(Path(elf).parent))
    if out_file:
        text = text.replace("<OUT>/" + out_file, uart)
    text = re.sub(r"\n(real|user|sys)\t.*", "", text)
    text = re.sub(r"rc=\d+\n?$", "", text)
    print(text, end="", flush=True)

def uart_write(text):
    with open(uart, "w") as f:
        f.write(text)

def finish(code=0):
    child.kill()
    child.wait()
    sys.exit(code)

def answer_clock():
    # The answers of a real Renode 1.15.1 to 'sysbus.cpu PerformanceInMips' and
    # 'sysbus.nvic Frequency' on the overlay (100 MIPS, SysTick at 72 MHz), asked before RunFor.
    print("0x00000064\n0x00000000044AA200", flush=True)

def hang():
    while True:
        time.sleep(3600)

if scenario == "done":
    answer_clock()
    uart_write({firmware_ok!r})
    print("00:38:43.4502 [INFO] tinyml: Machine paused.")
    print("0x00000000001E868A\n0x8000144\nRenode is quitting", flush=True)
    finish()
elif scenario == "done-then-hang":
    answer_clock()
    uart_write({firmware_ok!r})
    hang()
elif scenario == "recorded-r2":
    answer_clock()
    uart_write(fixtures.joinpath("r2-uart.log").read_text())
    replay("r2-cpu-platform-dwt.txt", "r2-uart.log")
    finish()
elif scenario == "recorded-r4-fault":
    answer_clock()
    uart_write(fixtures.joinpath("r4-uart.log").read_text())
    replay("r4-udf.txt", "r4-uart.log")
    finish()
elif scenario == "command-error":
    print("00:41:05.7498 [INFO] Loaded monitor commands from: /opt/renode/scripts/monitor.py")
    print("Renode, version 1.15.1.32676 (bef0c7b3-202612021809)\n")
    print("00:41:05.8785 [INFO] System bus created.")
    bad = next(c for c in commands if c.startswith("sysbus LoadELF"))
    print(f"There was an error executing command '{{bad}}'")
    print(f"File does not exist: {{elf}}")
    print("(tinyml) ", end="", flush=True)
    finish()  # stdin is closed: Renode exits 0 without running the rest
elif scenario == "cpu-abort":
    answer_clock()
    uart_write(fixtures.joinpath("r3-uart.log").read_text())
    replay("r3-fault.txt", "r3-uart.log")
    hang()  # RunFor never returns after a CPU abort
elif scenario == "wall-timeout":
    answer_clock()
    uart_write({firmware_partial!r})
    hang()
elif scenario == "runfor-bound":
    answer_clock()
    uart_write({firmware_partial!r})
    print("[INFO] tinyml: Machine paused.")
    print("0x0000000000000100\n0x8000100\nRenode is quitting", flush=True)
    finish()
elif scenario == "crash":
    print("Unhandled Exception: System.NullReferenceException", flush=True)
    finish(3)
else:
    raise SystemExit(f"unknown scenario {{scenario}}")
"""


def write_fake_renode(directory: Path) -> Path:
    path = directory / "renode"
    path.write_text(
        SCRIPT.format(
            python=sys.executable,
            fixtures=str(FIXTURES),
            firmware_ok=FIRMWARE_OK,
            firmware_partial=FIRMWARE_PARTIAL,
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
