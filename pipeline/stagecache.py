"""Reuse, and the stage graph: each stage declared once, run or reused from that declaration.

A stage's fingerprint hashes its config sections, the code and templates that
produce its outputs, the tool versions and platform files it depends on, and the
files the stages before it produced. The stamp (``build/<model>/.stamps/<stage>.json``)
is written only after the outputs are in place, with their hashes and the stage's
typed result (a frozen dataclass), so an interrupted stage is never taken as done.

A :class:`StageGraph` is a tuple of :class:`StageSpec` in an order where every
stage comes after the stages it depends on. ``run`` brings a stage and everything
it depends on up to date and prints one line per stage: ``[name] running`` or
``[name] reused``; a stage without a fingerprint (a verdict) always runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pipeline.config import ROOT
from pipeline.fileutil import sha256_file, write_atomically
from pipeline.tools import Tool, check_tools

R = TypeVar("R")
Ctx = TypeVar("Ctx")


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
        elif p.exists():
            out.append(p)
    return out


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- typed results: a frozen dataclass to JSON and back ------------------------------------------------


def encode(result: object) -> Any:
    """A stage result (a dataclass of JSON values, Paths, tuples and nested dataclasses) as JSON."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: encode(getattr(result, f.name)) for f in dataclasses.fields(result)}
    if isinstance(result, Path):
        return str(result)
    if isinstance(result, tuple | list):
        return [encode(v) for v in result]
    if isinstance(result, dict):
        return {str(k): encode(v) for k, v in result.items()}
    return result


def decode(kind: Any, data: Any) -> Any:
    """``data`` (from :func:`encode`) as a value of the type ``kind``; a dataclass is rebuilt field by field."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if data is None:
        return None
    if origin in (typing.Union, types.UnionType):
        return decode(next(a for a in args if a is not type(None)), data) if len(args) == 2 else data
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints, fields = typing.get_type_hints(kind), dataclasses.fields(kind)
        required = {f.name for f in fields if f.default is dataclasses.MISSING}
        if not isinstance(data, dict) or not required <= set(data) <= {f.name for f in fields}:
            raise ValueError(f"not a {kind.__name__}: {sorted(data) if isinstance(data, dict) else data!r}")
        return kind(**{name: decode(hints[name], value) for name, value in data.items()})
    if kind is Path:
        return Path(data)
    if origin is tuple:
        item = args[0] if args else Any
        return tuple(decode(item, v) for v in data)
    if origin is list:
        return [decode(args[0] if args else Any, v) for v in data]
    if origin is dict:
        return {k: decode(args[1] if args else Any, v) for k, v in data.items()}
    if kind is float and isinstance(data, int):
        return float(data)
    return data


@dataclass(frozen=True)
class Stage:
    """One run of a stage: what its fingerprint covers and what it writes."""

    name: str  # also the stamp's name: build_dir/.stamps/<name>.json
    build_dir: Path
    code: tuple[Path, ...]  # source files, templates and directories that produce the outputs
    inputs: tuple[Path, ...]  # files made by earlier stages (or given by the user), platform files
    outputs: tuple[Path, ...]
    settings: Any = None  # JSON-able config parts, tool and emulator versions

    @property
    def stamp(self) -> Path:
        return self.build_dir / ".stamps" / f"{self.name}.json"

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.settings, sort_keys=True, default=str).encode())
        for f in _files(self.code) + _files(self.inputs):
            h.update(_label(f).encode())
            h.update(sha256_file(f).encode())
        return h.hexdigest()

    def _output_hashes(self) -> dict[str, str]:
        return {_label(f): sha256_file(f) for f in _files(self.outputs)}

    def is_fresh(self) -> bool:
        if not self.stamp.exists() or not all(o.exists() for o in self.outputs):
            return False
        try:
            recorded = json.loads(self.stamp.read_text())
        except json.JSONDecodeError:
            return False
        return recorded.get("fingerprint") == self.fingerprint() and recorded.get("outputs") == self._output_hashes()

    def record(self, result: object) -> None:
        write_atomically(self.stamp, json.dumps(
            {"fingerprint": self.fingerprint(), "outputs": self._output_hashes(), "result": encode(result)},
            indent=2, sort_keys=True) + "\n")

    def recorded_result(self, kind: type[R]) -> R | None:
        """The result the stamp records, or None when it is not a ``kind`` (a stamp of an older version)."""
        try:
            result: R = decode(kind, json.loads(self.stamp.read_text())["result"])
        except (ValueError, KeyError, TypeError):
            return None
        return result

    def invalidate(self) -> None:
        self.stamp.unlink(missing_ok=True)


def run_stage(stage: Stage, work: Callable[[], R], kind: type[R]) -> tuple[R, bool]:
    """Run ``work`` unless the stage is fresh; return (its result, of type ``kind``; whether it was reused)."""
    if stage.is_fresh() and (recorded := stage.recorded_result(kind)) is not None:
        print(f"[{stage.name}] reused: inputs unchanged", flush=True)
        return recorded, True
    stage.invalidate()
    print(f"[{stage.name}] running", flush=True)
    result = work()
    stage.record(result)
    return result, False


# --- the graph ------------------------------------------------------------------------------------------


class Results:
    """The typed results of the stages run so far, by stage."""

    def __init__(self) -> None:
        self._results: dict[str, object] = {}
        self._skipped: dict[str, str] = {}

    def set(self, spec: StageSpec[Any, R], result: R) -> None:
        self._results[spec.name] = result

    def skip(self, spec: StageSpec[Any, Any], reason: str) -> None:
        self._skipped[spec.name] = reason

    def get(self, spec: StageSpec[Any, R]) -> R | None:
        """The stage's result; None when it did not apply (it was skipped)."""
        if spec.name in self._skipped:
            return None
        return self.of(spec)

    def of(self, spec: StageSpec[Any, R]) -> R:
        """The stage's result; a stage that was skipped or has not run is an error of the graph."""
        if spec.name in self._skipped:
            raise LookupError(f"stage {spec.name} did not run: {self._skipped[spec.name]}")
        if spec.name not in self._results:
            raise LookupError(f"stage {spec.name} has not run: declare it in the reader's 'after'")
        result = self._results[spec.name]
        assert isinstance(result, spec.result)
        return result

    def by_name(self) -> dict[str, object]:
        """Every result by stage name (skipped stages absent)."""
        return dict(self._results)


def _never_skipped(_ctx: Any) -> str | None:
    return None


def _no_tools(_ctx: Any) -> tuple[Tool, ...]:
    return ()


@dataclass(frozen=True)
class StageSpec(Generic[Ctx, R]):
    """One stage, declared once: what it depends on, what fingerprints it, what it does and returns.

    ``fingerprint(ctx, results)`` gives the :class:`Stage` (code, templates, config, tool versions, platform files,
    inputs, outputs) its reuse is decided on; None for a stage that is never reused (a verdict).
    ``run(ctx, results)`` does the work, reading the results of the stages of ``after``, and returns a
    ``result`` (a frozen dataclass: it is what the stamp records). ``skip(ctx)`` gives the reason the stage
    does not apply to ``ctx`` (a bring-your-own model has nothing to train), or None. ``tools(ctx)`` are
    the external tools it runs: before any stage runs, every missing one of every stage is reported at
    once; ``check(ctx)`` fails, also before any stage runs, for a need that is not such a tool (Renode).
    ``report`` prints what a run or a reused result measured, evaluated again each time.
    """

    name: str
    after: tuple[str, ...]
    result: type[R]
    fingerprint: Callable[[Ctx, Results], Stage] | None
    run: Callable[[Ctx, Results], R]
    doc: str  # one line: what it makes (docs/architecture.md's diagram shows it)
    skip: Callable[[Ctx], str | None] = _never_skipped
    tools: Callable[[Ctx], tuple[Tool, ...]] = _no_tools
    check: Callable[[Ctx], None] | None = None
    report: Callable[[Ctx, R], None] | None = None


@dataclass(frozen=True)
class StageGraph(Generic[Ctx]):
    stages: tuple[StageSpec[Ctx, Any], ...]
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        seen: list[str] = []
        for spec in self.stages:
            if spec.name in seen:
                raise ValueError(f"stage {spec.name} is declared twice")
            if unknown := [a for a in spec.after if a not in seen]:
                raise ValueError(f"stage {spec.name} depends on {', '.join(unknown)}, not declared before it")
            seen.append(spec.name)
        object.__setattr__(self, "names", tuple(seen))

    def spec(self, name: str) -> StageSpec[Ctx, Any]:
        for spec in self.stages:
            if spec.name == name:
                return spec
        raise KeyError(f"no stage {name!r}; the stages are {', '.join(self.names)}")

    def edges(self) -> list[tuple[str, str]]:
        """(dependency, stage) for every declared dependency."""
        return [(a, spec.name) for spec in self.stages for a in spec.after]

    def mermaid(self, label: Callable[[StageSpec[Ctx, Any]], str]) -> str:
        """The graph as a Mermaid flowchart: one node per stage (``label`` its text), one arrow per
        declared dependency; a stage without a fingerprint is drawn with a double border (never reused)."""
        lines = ["flowchart LR"]
        for spec in self.stages:
            text = label(spec).replace('"', "'")
            lines.append(f'  {_node(spec.name)}{"[[" if spec.fingerprint is None else "["}"{text}"'
                         f'{"]]" if spec.fingerprint is None else "]"}')
        lines += [f"  {_node(a)} --> {_node(b)}" for a, b in self.edges()]
        return "\n".join(lines)

    def upstream(self, *targets: str, given: tuple[str, ...] = ()) -> tuple[StageSpec[Ctx, Any], ...]:
        """The ``targets`` and every stage they depend on, directly or not, in the declared order; the
        dependencies of a ``given`` stage are not followed."""
        for name in (*targets, *given):
            self.spec(name)
        needed = set(targets)
        for spec in reversed(self.stages):
            if spec.name in needed and spec.name not in given:
                needed.update(spec.after)
        return tuple(s for s in self.stages if s.name in needed)

    def run(self, ctx: Ctx, *targets: str, given: tuple[str, ...] = ()) -> Results:
        """Run or reuse the ``targets`` and every stage they depend on. ``given``: stages whose outputs the
        caller made itself (a compression candidate's .tflite): neither they nor what only they need run."""
        stages = self.upstream(*targets, given=given)
        running = [spec for spec in stages if spec.name not in given]
        for spec in running:
            if spec.check is not None:
                spec.check(ctx)
        check_tools(tuple(dict.fromkeys(tool for spec in running for tool in spec.tools(ctx))))
        results = Results()
        for spec in stages:
            reason = "made by the caller" if spec.name in given else spec.skip(ctx)
            if reason is not None:
                if spec.name not in given:
                    print(f"[{spec.name}] skipped: {reason}", flush=True)
                results.skip(spec, reason)
                continue
            results.set(spec, run_spec(spec, ctx, results))
        return results


def _node(name: str) -> str:
    """A Mermaid node id for a stage name ("test-firmware" -> test_firmware: a hyphen would read as an edge)."""
    return name.replace("-", "_")


def run_spec(spec: StageSpec[Ctx, R], ctx: Ctx, results: Results) -> R:
    """One stage, run or reused by its fingerprint (always run when it has none), then its report."""
    if spec.fingerprint is None:
        print(f"[{spec.name}] running (no fingerprint: never reused)", flush=True)
        result = spec.run(ctx, results)
    else:
        result = run_stage(spec.fingerprint(ctx, results), lambda: spec.run(ctx, results), spec.result)[0]
    if spec.report is not None:
        spec.report(ctx, result)
    return result
