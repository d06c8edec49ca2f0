"""Estimated Cortex-M4 cycles of every call of one function, from a documented timing model.

Neither emulator models time, so the estimate is computed beside the QEMU run: a TCG plugin
(firmware/qemu_plugin/, built here with the host's gcc) sees every executed instruction and
every data read, and applies the model of docs/cycle-model.md (core timings from the
Cortex-M4 TRM, flash wait states behind the STM32F4's ART accelerator) to each call of the
timed function, from its entry to the instruction after the call site. The instructions
are classified statically (pipeline/stages/thumb_timing.py) into a table the plugin loads.

The run is the ordinary QEMU run (same icount, same firmware), so a call's instruction count
equals what the firmware's own counter measures around it, less the counter's overhead.
"""

from __future__ import annotations

import hashlib
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pipeline.config import BUILD_DIR, ROOT
from pipeline.emulators.base import EmulatorRun
from pipeline.emulators.qemu import QemuBackend
from pipeline.errors import StageError
from pipeline.stagecache import Stage, run_stage
from pipeline.stages.thumb_timing import disassemble, write_table
from pipeline.tools import HOST_CC, tool_path

PLUGIN_DIR = ROOT / "firmware" / "qemu_plugin"
INFERENCE_FUNCTION = "tc_model_invoke"  # what the firmware's own counter times, one call per vector
PLUGIN_SOURCES = ("cycle_model.c", "tc_cycles_plugin.c")
PLUGIN_HEADERS = ("cycle_model.h", "qemu-plugin.h")
PLUGIN_CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-fvisibility=hidden")


@dataclass(frozen=True)
class CycleParams:
    """The model's parameters (docs/cycle-model.md, "Parameters"); defaults: the STM32F407 at 168 MHz."""

    clock_hz: int = 168_000_000
    flash_wait_states: int = 5  # RM0090 table 10: 5 WS at 168 MHz, 2.7-3.6 V
    art: bool = True  # ART instruction and data caches (FLASH_ACR ICEN, DCEN)
    prefetch: bool = True  # FLASH_ACR PRFTEN
    icache_lines: int = 64  # of 128 bits
    dcache_lines: int = 8  # of 128 bits
    branch_refill: int = 2  # P of the TRM, cycles
    divide_cycles: int = 12  # SDIV/UDIV: the TRM's worst case (operands are not visible)

    def plugin_args(self) -> list[str]:
        on = {True: "on", False: "off"}
        return [f"ws={self.flash_wait_states}", f"icache={on[self.art]}", f"dcache={on[self.art]}",
                f"prefetch={on[self.prefetch]}", f"icache_lines={self.icache_lines}",
                f"dcache_lines={self.dcache_lines}", f"refill={self.branch_refill}", f"div={self.divide_cycles}"]


@dataclass(frozen=True)
class CycleMark:
    """Totals of a call at one entry of the mark function (cumulative from the call's entry)."""

    instructions: int
    cycles: int
    flash_stall_cycles: int


@dataclass(frozen=True)
class CallCycles:
    instructions: int
    cycles: int
    flash_stall_cycles: int  # of ``cycles``, spent waiting on flash (instruction fetch and data)
    handler_instructions: int = 0  # exception handlers that interrupted the call: neither counted nor timed
    marks: tuple[CycleMark, ...] = ()


@dataclass(frozen=True)
class CycleEstimate:
    elf: Path
    function: str
    params: CycleParams
    calls: list[CallCycles] = field(default_factory=list)

    @property
    def cycles_per_call(self) -> int:
        """Median over the calls (the first is also the one with cold caches)."""
        return int(statistics.median_low(c.cycles for c in self.calls))

    @property
    def instructions_per_call(self) -> int:
        return int(statistics.median_low(c.instructions for c in self.calls))

    @property
    def latency_ms(self) -> float:
        return round(1e3 * self.cycles_per_call / self.params.clock_hz, 3)

    def median_call(self) -> CallCycles:
        return next(c for c in self.calls if c.cycles == self.cycles_per_call)


def build_plugin(out_dir: Path = BUILD_DIR / "qemu_plugin") -> Path:
    """Compile the plugin (reused while its sources and flags are unchanged); return the .so."""
    digest = hashlib.sha256(" ".join(PLUGIN_CFLAGS).encode())
    for name in (*PLUGIN_SOURCES, *PLUGIN_HEADERS):
        digest.update((PLUGIN_DIR / name).read_bytes())
    so = out_dir / f"libtc_cycles-{digest.hexdigest()[:12]}.so"
    if so.is_file():
        return so
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = so.with_suffix(".tmp")
    cmd = [tool_path(HOST_CC), *PLUGIN_CFLAGS, f"-I{PLUGIN_DIR}", *(str(PLUGIN_DIR / s) for s in PLUGIN_SOURCES),
           "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"building the QEMU cycle plugin failed:\n{proc.stderr.strip()}")
    tmp.replace(so)
    return so


def function_address(elf: Path, name: str) -> int:
    """The (even) address of function ``name`` in the ELF's symbol table."""
    try:
        with elf.open("rb") as f:
            symtab = ELFFile(f).get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                raise StageError(f"{elf}: no symbol table (stripped ELF?): cannot find {name}")
            for sym in symtab.iter_symbols():
                if sym.name == name and sym["st_info"]["type"] == "STT_FUNC":
                    return int(sym["st_value"]) & ~1
    except (OSError, ELFError) as err:
        raise StageError(f"{elf}: not a readable ELF: {err}") from None
    raise StageError(f"{elf}: no function named {name!r} in the symbol table")


def parse_records(text: str) -> list[CallCycles]:
    """The plugin's CALL and MARK lines (tc_cycles_plugin.c) into calls."""
    calls, marks = [], []
    for line in text.splitlines():
        what, _index, *fields = line.split()
        values = dict(f.split("=") for f in fields)
        if int(values["unknown"]):
            raise StageError(f"the cycle plugin executed {values['unknown']} instructions that objdump did not "
                             "disassemble (code outside the ELF's sections?): the estimate would be incomplete")
        totals = (int(values["instructions"]), int(values["cycles"]), int(values["flash_stall"]))
        if what == "MARK":
            marks.append(CycleMark(*totals))
        else:
            calls.append(CallCycles(*totals, int(values["handler"]), tuple(marks)))
            marks = []
    return calls


def estimate_cycles(elf: Path, function: str, params: CycleParams = CycleParams(), workdir: Path | None = None,
                    mark: str | None = None, wall_timeout_s: float = 900.0) -> CycleEstimate:
    """Boot ``elf`` in QEMU to its DONE line with the plugin; the cycles of each call of ``function``.

    ``mark``: a function whose entries inside a call are recorded (the per-layer marks of a
    TC_PROFILE build). Raises StageError when the function is never called.
    """
    if not elf.is_file():
        raise StageError(f"ELF not found: {elf}")
    workdir = workdir or BUILD_DIR / "cycles" / elf.stem
    workdir.mkdir(parents=True, exist_ok=True)
    entry = function_address(elf, function)
    table = write_table(disassemble(elf), workdir / "insns.txt")
    records = workdir / "cycles.txt"
    records.unlink(missing_ok=True)
    args = [str(build_plugin()), f"table={table}", f"out={records}", f"entry={entry:x}", *params.plugin_args()]
    if mark is not None:
        args.append(f"mark={function_address(elf, mark):x}")
    if any("," in a for a in args[:3]):
        raise StageError(f"QEMU's -plugin option cannot take a path with a comma: {workdir}")
    backend = QemuBackend(extra_args=("-plugin", ",".join(args)))
    backend.check_available()
    backend.run(EmulatorRun(elf, workdir, wall_timeout_s))
    calls = parse_records(records.read_text() if records.is_file() else "")
    if not calls:
        raise StageError(f"{elf.name}: {function} was never entered by a BL/BLX and returned before DONE")
    return CycleEstimate(elf, function, params, calls)


@dataclass(frozen=True)
class InferenceCycles:
    """The cycles stage's result: the figures of pipeline/figures.py it measures."""

    estimated_cycles_per_inference: int
    latency_ms: float
    clock_hz: int


def cycles_stage(elf: Path, build_dir: Path) -> Stage:
    """The cycle run's fingerprint: the ELF, the cycle model's code and plugin, QEMU's version."""
    backend = QemuBackend()
    backend.check_available()
    return Stage(
        "cycles",
        build_dir,
        (Path(__file__), Path(__file__).with_name("thumb_timing.py"), PLUGIN_DIR),
        (elf,),
        (build_dir / "cycles" / "cycles.txt",),
        {"qemu": backend.version()},
    )


def measure_inference_cycles(elf: Path, build_dir: Path, wall_timeout_s: float) -> InferenceCycles:
    """The cycles stage's work: the estimate of INFERENCE_FUNCTION in ``elf``, in build_dir/cycles/."""
    est = estimate_cycles(elf, INFERENCE_FUNCTION, workdir=build_dir / "cycles", wall_timeout_s=wall_timeout_s)
    call = est.median_call()
    print(f"cycles: {est.cycles_per_call:,} estimated cycles per inference ({est.latency_ms:g} ms at "
          f"{est.params.clock_hz / 1e6:g} MHz), {100 * call.flash_stall_cycles / call.cycles:.1f}% stalled "
          "on flash", flush=True)
    return InferenceCycles(est.cycles_per_call, est.latency_ms, est.params.clock_hz)


def inference_cycles(elf: Path, build_dir: Path, wall_timeout_s: float) -> InferenceCycles:
    """The cycles stage, reused while its fingerprint is unchanged (the Robot suite's way to the stage
    of the pipeline's graph: the same stamp)."""
    return run_stage(cycles_stage(elf, build_dir), lambda: measure_inference_cycles(elf, build_dir, wall_timeout_s),
                     InferenceCycles)[0]


def format_estimate(est: CycleEstimate) -> str:
    lines = [f"{est.elf.name}: {est.function} at {est.params.clock_hz / 1e6:g} MHz, "
             f"{est.params.flash_wait_states} WS, ART {'on' if est.params.art else 'off'}"]
    for i, c in enumerate(est.calls):
        lines.append(f"  call {i}: {c.instructions:,} instructions, {c.cycles:,} cycles "
                     f"({100 * c.flash_stall_cycles / max(c.cycles, 1):.1f}% stalled on flash)")
    lines.append(f"cycles per call: {est.cycles_per_call:,} ({est.latency_ms:g} ms); "
                 f"instructions per call: {est.instructions_per_call:,}")
    return "\n".join(lines)


def run_cycles(elf: Path, function: str, params: CycleParams = CycleParams()) -> CycleEstimate:
    """``invoke cycles``: estimate and print the cycles of each call of ``function`` in ``elf``."""
    est = estimate_cycles(elf, function, params)
    print(format_estimate(est), flush=True)
    return est
