"""Reuse: a stage whose inputs have not changed is not redone.

A stage's fingerprint hashes its config sections, the code and templates that
produce its outputs, and the files the stages before it produced. The stamp
(``build/<model>/.stamps/<stage>.json``) is written only after the outputs are
in place, with their hashes, so an interrupted stage is never taken as done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pipeline.config import ROOT
from pipeline.fileutil import sha256_file, write_atomically

T = TypeVar("T")


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


@dataclass(frozen=True)
class Stage:
    name: str
    build_dir: Path
    code: tuple[Path, ...]  # source files and directories that produce the outputs
    inputs: tuple[Path, ...]  # files made by earlier stages (or given by the user)
    outputs: tuple[Path, ...]
    settings: Any = None  # JSON-able config parts

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

    def record(self, result: dict[str, Any]) -> None:
        write_atomically(self.stamp, json.dumps(
            {"fingerprint": self.fingerprint(), "outputs": self._output_hashes(), "result": result},
            indent=2, sort_keys=True, default=str) + "\n")

    def recorded_result(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stamp.read_text())["result"]
        return result

    def invalidate(self) -> None:
        self.stamp.unlink(missing_ok=True)


def run_stage(stage: Stage, work: Callable[[], dict[str, Any]], force: bool = False) -> tuple[dict[str, Any], bool]:
    """Run ``work`` unless the stage is fresh; return (its result, whether it was reused)."""
    if not force and stage.is_fresh():
        print(f"[{stage.name}] reused: inputs unchanged", flush=True)
        return stage.recorded_result(), True
    stage.invalidate()
    print(f"[{stage.name}] running", flush=True)
    result = work()
    stage.record(result)
    return result, False
