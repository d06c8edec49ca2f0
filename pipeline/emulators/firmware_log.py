"""Parse the firmware's console output (the same on every emulator).

The console protocol (one line each, ASCII, ``\\n``-terminated):

    BOOT model=<name> vectors=<n> counter=<systick|dwt> clock_hz=<hz>
    CALIB instructions=<n> ticks=<t> wraps=<w>        (three known-length loops)
    VEC <i> class=<c> ticks=<t> wraps=<w> out=<v0>,<v1>,...
    LAYER <i> ticks=<t> wraps=<w>                     (TC_PROFILE builds, first vector:
                                                       cumulative span after layer i)
    STACK reserved=<bytes> used=<bytes>
    SUMMARY vectors=<n>
    DONE

or, from a fault handler, ``FAULT <type> pc=0x.. lr=0x.. cfsr=0x..``.

``ticks`` are raw counter ticks around the inference call: DWT CYCCNT cycles (on
Renode the DWT runs at PerformanceInMips x 10^6 Hz, so a cycle is an executed
instruction), or SysTick ticks plus ``wraps`` x 2^24 (on QEMU with icount, a tick
is 1/clock_hz s of virtual time and an instruction 2^shift ns). The host turns
ticks into instructions with :class:`CountModel`, calibrated on the CALIB loops.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from pipeline.errors import FirmwareFaultError

SYSTICK_MODULUS = 1 << 24

_KV = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True)
class Calibration:
    instructions: int
    ticks: int
    wraps: int


@dataclass(frozen=True)
class VectorOutput:
    index: int
    predicted_class: int
    ticks: int
    wraps: int
    output: tuple[int, ...]


@dataclass(frozen=True)
class LayerMark:
    layer: int
    ticks: int  # cumulative since the inference's start
    wraps: int


@dataclass
class FirmwareReport:
    """Everything a run printed, parsed."""

    model: str = ""
    vectors_announced: int = 0
    counter_source: str = ""
    clock_hz: int = 0
    calibrations: list[Calibration] = field(default_factory=list)
    vectors: list[VectorOutput] = field(default_factory=list)
    layer_marks: list[LayerMark] = field(default_factory=list)
    stack_reserved: int | None = None
    stack_used: int | None = None
    summary_vectors: int | None = None
    done: bool = False
    last_line: str = ""


def _fields(line: str, required: tuple[str, ...]) -> dict[str, str]:
    kv = dict(_KV.findall(line))
    missing = [k for k in required if k not in kv]
    if missing:
        raise ValueError(f"console line {line!r} lacks {', '.join(missing)}")
    return kv


def parse_console(text: str) -> FirmwareReport:
    """Parse a console capture; raise FirmwareFaultError on a FAULT line.

    Lines the protocol does not know (emulator noise) are ignored; a known line
    that is malformed raises ValueError naming it.
    """
    report = FirmwareReport()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        report.last_line = line
        tag = line.split(" ", 1)[0]
        if tag == "FAULT":
            raise FirmwareFaultError(f"firmware fault: {line}")
        if tag == "BOOT":
            kv = _fields(line, ("model", "vectors", "counter", "clock_hz"))
            report.model = kv["model"]
            report.vectors_announced = int(kv["vectors"])
            report.counter_source = kv["counter"]
            report.clock_hz = int(kv["clock_hz"])
        elif tag == "CALIB":
            kv = _fields(line, ("instructions", "ticks", "wraps"))
            report.calibrations.append(
                Calibration(int(kv["instructions"]), int(kv["ticks"]), int(kv["wraps"]))
            )
        elif tag == "VEC":
            kv = _fields(line, ("class", "ticks", "wraps", "out"))
            report.vectors.append(
                VectorOutput(
                    index=int(line.split()[1]),
                    predicted_class=int(kv["class"]),
                    ticks=int(kv["ticks"]),
                    wraps=int(kv["wraps"]),
                    output=tuple(int(v) for v in kv["out"].split(",")),
                )
            )
        elif tag == "LAYER":
            kv = _fields(line, ("ticks", "wraps"))
            report.layer_marks.append(LayerMark(int(line.split()[1]), int(kv["ticks"]), int(kv["wraps"])))
        elif tag == "STACK":
            kv = _fields(line, ("reserved", "used"))
            report.stack_reserved = int(kv["reserved"])
            report.stack_used = int(kv["used"])
        elif tag == "SUMMARY":
            report.summary_vectors = int(_fields(line, ("vectors",))["vectors"])
        elif tag == "DONE":
            report.done = True
    return report


@dataclass(frozen=True)
class CountModel:
    """Turns raw ticks into executed instructions.

    ``ticks_per_instruction`` is known from the emulator set-up (QEMU icount:
    2^shift ns per instruction at clock_hz; Renode DWT at MIPS x 10^6 Hz: 1).
    ``overhead`` (the counter reads around the measured region) and ``wrap_cost``
    (instructions of one SysTick wrap interrupt) are solved from two calibration
    loops; a third loop checks the result.
    """

    ticks_per_instruction: float
    overhead: float
    wrap_cost: float

    def instructions(self, ticks: int, wraps: int) -> int:
        total = ticks + wraps * SYSTICK_MODULUS
        return round(total / self.ticks_per_instruction - self.overhead - wraps * self.wrap_cost)

    @classmethod
    def calibrate(cls, ticks_per_instruction: float, calibrations: list[Calibration]) -> CountModel:
        no_wrap = [c for c in calibrations if c.wraps == 0]
        wrapped = [c for c in calibrations if c.wraps > 0]
        if not no_wrap:
            raise ValueError("no calibration loop without counter wraps: cannot solve the overhead")
        base = min(no_wrap, key=lambda c: c.instructions)
        overhead = base.ticks / ticks_per_instruction - base.instructions
        wrap_cost = 0.0
        if wrapped:
            big = max(wrapped, key=lambda c: c.instructions)
            total = big.ticks + big.wraps * SYSTICK_MODULUS
            wrap_cost = (total / ticks_per_instruction - overhead - big.instructions) / big.wraps
        return cls(ticks_per_instruction, overhead, wrap_cost)

    def calibration_errors(self, calibrations: list[Calibration]) -> list[int]:
        """Instructions counted minus instructions executed, per calibration loop."""
        return [self.instructions(c.ticks, c.wraps) - c.instructions for c in calibrations]


def median_instructions(model: CountModel, vectors: list[VectorOutput]) -> int:
    return round(statistics.median(model.instructions(v.ticks, v.wraps) for v in vectors))
