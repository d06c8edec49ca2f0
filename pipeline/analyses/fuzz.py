"""Fuzz the model reader, validator and lowering with mutated .tflite files.

Every mutated input goes through ``read_model`` (in memory: ``parse_model``),
then, when it is accepted, ``validate_model``, ``lower_model`` and
``plan_model_arena``. The only allowed exceptions are the project's own
(:class:`pipeline.errors.PipelineError` subclasses); any other exception, or an
input that runs past the per-input time limit, is a *finding*, printed with the
seed and the input's index so that it can be replayed::

    from pipeline.analyses.fuzz import replay
    replay([Path("build/digits/digits.tflite"), ...], seed=1, index=1234)

Mutations: bit flips, byte overwrites, truncation, splices of two files, and
random or boundary 32-bit / 16-bit values written at the offsets the reader
actually reads in the valid seed (root offset, vtable offsets and entries,
vector lengths, tensor / buffer / opcode indices, shapes, option values).
"""

from __future__ import annotations

import random
import signal
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pipeline.errors import ModelFormatError, PipelineError
from pipeline.tflite.reader import parse_model

TIME_LIMIT_S = 2.0
_BOUNDARY_32 = (0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE)
_BOUNDARY_16 = (0, 1, 2, 3, 4, 5, 0x7FFF, 0x8000, 0xFFFF)


@dataclass(frozen=True)
class Seed:
    """A valid model and the (offset, size) of every field the reader reads in it."""

    path: Path
    data: bytes
    fields: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Finding:
    index: int
    mutation: str
    error: str  # "ExceptionType: message" or "hang"
    where: str  # the innermost frame of the traceback


@dataclass
class FuzzReport:
    seed: int
    inputs: int = 0
    accepted: int = 0  # read, validated, lowered and planned without error
    refused: Counter[str] = field(default_factory=Counter)  # PipelineError subclass name -> count
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"fuzz: {self.inputs} inputs (seed {self.seed}) in {self.seconds:.1f} s: "
            f"{self.accepted} accepted, {sum(self.refused.values())} refused, {len(self.findings)} findings",
        ]
        lines += [f"  refused {name}: {n}" for name, n in sorted(self.refused.items())]
        lines += [
            f"  FINDING input {f.index} ({f.mutation}): {f.error} at {f.where}; "
            f"replay: pipeline.analyses.fuzz.replay(seeds, seed={self.seed}, index={f.index})"
            for f in self.findings
        ]
        return "\n".join(lines)


class _Hang(BaseException):  # not an Exception: nothing under test can catch it
    """Raised by the alarm when one input passes the time limit."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def alarm(_signum: int, _frame: FrameType | None) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_seed(path: Path) -> Seed:
    """Read a valid seed model, recording the fields the reader touches."""
    data = path.read_bytes()
    trace: list[tuple[int, int]] = []
    parse_model(data, path, trace)
    return Seed(path, data, tuple(sorted(set(trace))))


def _random_u32(rng: random.Random, size: int) -> int:
    return rng.choice((rng.choice(_BOUNDARY_32), rng.getrandbits(32), size + rng.randint(-8, 8)))


def mutate(rng: random.Random, seeds: list[Seed]) -> tuple[bytes, str]:
    """One mutated input and a description of the mutation."""
    seed = rng.choice(seeds)
    data = bytearray(seed.data)
    n = len(data)
    kind = rng.choice(("bitflip", "overwrite", "truncate", "splice", "offset32", "offset32", "field16", "field"))
    name = seed.path.name
    if kind == "bitflip":
        positions = [rng.randrange(n) for _ in range(rng.randint(1, 8))]
        for pos in positions:
            data[pos] ^= 1 << rng.randrange(8)
        return bytes(data), f"{name}: bit flips at {positions}"
    if kind == "overwrite":
        pos, length = rng.randrange(n), rng.randint(1, 16)
        data[pos : pos + length] = bytes(rng.getrandbits(8) for _ in range(length))
        return bytes(data[:n]), f"{name}: {length} random bytes at {pos}"
    if kind == "truncate":
        cut = rng.choice((rng.randrange(n), rng.randrange(min(n, 64)), n - rng.randint(1, min(n, 16))))
        return bytes(data[:cut]), f"{name}: truncated to {cut} bytes"
    if kind == "splice":
        other = rng.choice(seeds)
        a, b = rng.randrange(n), rng.randrange(len(other.data))
        return bytes(data[:a]) + other.data[b:], f"{name}[:{a}] + {other.path.name}[{b}:]"
    fields = [f for f in seed.fields if f[1] == (2 if kind == "field16" else 4)] or [(0, 4)]
    if kind == "field":  # an int32 field or vector element: small or boundary signed values
        pos, _ = rng.choice(fields)
        value = rng.choice((-1, 0, 1, 2, -2**31, 2**31 - 1, rng.randint(-1000, 1000), 1 << rng.randrange(31)))
        data[pos : pos + 4] = value.to_bytes(4, "little", signed=True)
        return bytes(data), f"{name}: int32 {value} at {pos}"
    if kind == "field16":
        pos, _ = rng.choice(fields)
        value = rng.choice((rng.choice(_BOUNDARY_16), rng.getrandbits(16)))
        data[pos : pos + 2] = value.to_bytes(2, "little")
        return bytes(data), f"{name}: u16 {value:#x} at {pos}"
    pos, _ = rng.choice(fields)
    value = _random_u32(rng, n) & 0xFFFFFFFF
    data[pos : pos + 4] = value.to_bytes(4, "little")
    return bytes(data), f"{name}: u32 {value:#x} at {pos}"


def check_input(data: bytes, path: Path) -> str:
    """Read, validate, lower and plan one input; return 'accepted' or the refusing error's class name.

    Any other exception propagates: that is a finding.
    """
    from pipeline.codegen.generator import lower_model, plan_model_arena

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numeric warning (overflow, NaN cast) means garbage constants
            model = parse_model(data, path)
            layers = lower_model(model)  # validates first
            plan_model_arena(model, layers)
    except PipelineError as err:
        if str(path) not in str(err):
            raise AssertionError(f"{type(err).__name__} does not name the file: {err}") from err
        return type(err).__name__
    return "accepted"


def _input_rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + index)


def _run_one(report: FuzzReport, seeds: list[Seed], index: int, time_limit_s: float) -> None:
    data, mutation = mutate(_input_rng(report.seed, index), seeds)
    path = Path(f"fuzz-{report.seed}-{index}.tflite")
    report.inputs += 1
    try:
        with _time_limit(time_limit_s):
            outcome = check_input(data, path)
    except _Hang:
        report.findings.append(Finding(index, mutation, f"hang (> {time_limit_s:g} s)", ""))
        return
    except Exception as err:  # noqa: BLE001  (the fuzzer's purpose: any other exception is a finding)
        frame = traceback.extract_tb(err.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno} ({frame.name})"
        report.findings.append(Finding(index, mutation, f"{type(err).__name__}: {err}", where))
        return
    if outcome == "accepted":
        report.accepted += 1
    else:
        report.refused[outcome] += 1


def fuzz_tflite(seeds: list[Path], count: int, seed: int, time_limit_s: float = TIME_LIMIT_S) -> FuzzReport:
    """Run ``count`` mutated inputs derived from ``seeds`` (valid models)."""
    loaded = [load_seed(p) for p in seeds]
    if not loaded:
        raise ModelFormatError("fuzz: no seed models given")
    report = FuzzReport(seed)
    started = time.monotonic()
    for index in range(count):
        _run_one(report, loaded, index, time_limit_s)
    report.seconds = time.monotonic() - started
    return report


def replay(seeds: list[Path], seed: int, index: int) -> str:
    """Re-run one input of a fuzz run; raises what it raised then."""
    loaded = [load_seed(p) for p in seeds]
    data, mutation = mutate(_input_rng(seed, index), loaded)
    print(f"replay input {index} (seed {seed}): {mutation}")
    return check_input(data, Path(f"fuzz-{seed}-{index}.tflite"))


def default_seeds() -> list[Path]:
    """The digits model (when built) and the small fixtures in tests/fixtures/fuzz/."""
    from pipeline.config import BUILD_DIR, ROOT

    found = sorted((ROOT / "tests" / "fixtures" / "fuzz").glob("*.tflite"))
    digits = BUILD_DIR / "digits" / "digits.tflite"
    return ([digits] if digits.is_file() else []) + found


def run_fuzz(count: int, seed: int) -> FuzzReport:
    """What `invoke fuzz` calls: fuzz the default seeds, print the counts."""
    report = fuzz_tflite(default_seeds(), count, seed)
    print(report.summary(), flush=True)
    return report
