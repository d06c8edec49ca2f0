"""Run op cases end to end: convert (cached), generate C, build on the host, compare with TFLM bit for bit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.codegen.generator import generate
from pipeline.config import BUILD_DIR, ROOT
from pipeline.emulators.hostrun import compile_host, compile_kernel_objects, run_host
from pipeline.errors import PipelineError
from pipeline.fileutil import write_atomically
from pipeline.optest.cases import OPS, OpCase, make_cases
from pipeline.optest.patch import patch
from pipeline.stages.reference import litert_outputs, tflm_outputs
from pipeline.tflite.reader import Model, read_model

CACHE = ROOT / "build" / "optest-cache"
WORK = BUILD_DIR / "optest"  # per session under tests (tests/conftest.py); the cache above is shared by content hash
QUICK_CASES = 10  # per op, what tests/ops runs
FULL_CASES = 200  # per op, the nightly run (invoke op-tests --full)
DEFAULT_SEED = 1


@dataclass
class CaseResult:
    case_id: str
    op: str
    index: int
    seed: int
    options: dict[str, Any]
    passed: bool
    message: str = ""
    vectors: int = 0
    litert_disagreements: int = 0  # vectors where LiteRT's reference kernels differ from TFLM
    model_ops: list[str] = field(default_factory=list)
    model_options: dict[str, str] = field(default_factory=dict)  # the tested op's options, as converted


@dataclass
class OpTestReport:
    cases_per_op: int
    seed: int
    wall_seconds: float
    results: list[CaseResult]

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def per_op(self) -> dict[str, dict[str, Any]]:
        summary: dict[str, dict[str, Any]] = {}
        for r in self.results:
            s = summary.setdefault(r.op, {"cases": 0, "passed": 0, "failed": 0, "vectors": 0,
                                          "litert_disagreeing_cases": 0, "litert_disagreeing_vectors": 0,
                                          "options": {}, "model_options": {}})
            s["cases"] += 1
            s["passed" if r.passed else "failed"] += 1
            s["vectors"] += r.vectors
            s["litert_disagreeing_cases"] += int(r.litert_disagreements > 0)
            s["litert_disagreeing_vectors"] += r.litert_disagreements
            for key, value in r.options.items():
                s["options"].setdefault(key, set()).add(json.dumps(value))
            for key, value in r.model_options.items():
                s["model_options"].setdefault(key, set()).add(value)
        for s in summary.values():
            s["options"] = {k: sorted(v) for k, v in s["options"].items()}
            s["model_options"] = {k: sorted(v) for k, v in s["model_options"].items()}
        return summary

    def to_json(self) -> dict[str, Any]:
        return {"cases_per_op": self.cases_per_op, "seed": self.seed, "wall_seconds": round(self.wall_seconds, 1),
                "total_cases": len(self.results), "failed": len(self.failures), "per_op": self.per_op(),
                "failures": [asdict(r) for r in self.failures]}

    def to_markdown(self) -> str:
        lines = [
            "# Op coverage: generated C against TFLM, bit for bit",
            "",
            f"{len(self.results)} cases ({self.cases_per_op} per op, seed {self.seed}), "
            f"{len(self.failures)} failed, wall time {self.wall_seconds:.0f} s. Every case converts a TF graph "
            "to int8 .tflite (options the converter never emits are patched into the flatbuffer), generates C, "
            "builds it with the host gcc and compares every output vector with TFLM's. LiteRT's reference "
            "kernels are a second opinion: their disagreements with TFLM are counted, never used to pass or fail.",
            "",
            "| op | cases | passed | failed | vectors | LiteRT disagreeing cases (vectors) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        per_op = self.per_op()
        for op, s in per_op.items():
            lines.append(f"| {op} | {s['cases']} | {s['passed']} | {s['failed']} | {s['vectors']} | "
                         f"{s['litert_disagreeing_cases']} ({s['litert_disagreeing_vectors']}) |")
        lines += ["", "## Options exercised", ""]
        for op, s in per_op.items():
            asked = "; ".join(f"{k}: {', '.join(v)}" for k, v in s["options"].items())
            seen = "; ".join(f"{k}: {', '.join(v)}" for k, v in s["model_options"].items())
            lines.append(f"- **{op}**: matrix {asked or '-'}. In the converted models: {seen or '-'}")
        if self.failures:
            lines += ["", "## Failures", ""]
            lines += [f"- {r.message}" for r in self.failures]
        return "\n".join(lines) + "\n"


def _convert_missing(cases: list[OpCase], jobs: int) -> dict[str, str]:
    """Convert every case not in the cache (nor known to fail), in `jobs` child processes.

    Work files carry this process's id, so concurrent runs share the cache safely. Returns
    key -> why for cases whose converter process crashed (not cached: the next run retries them).
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cases if not (CACHE / f"{c.key}.tflite").exists() and not (CACHE / f"{c.key}.error").exists()]
    if not todo:
        return {}
    pid = os.getpid()

    def raw(c: OpCase) -> Path:
        return CACHE / f"{c.key}.{pid}.raw.tflite"

    procs = []
    for j in range(jobs):
        chunk = todo[j::jobs]
        if not chunk:
            continue
        job_file = CACHE / f"jobs-{pid}-{j}.json"
        job_file.write_text(json.dumps([{"spec": c.spec, "out": str(raw(c))} for c in chunk]))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
        procs.append((job_file, subprocess.Popen([sys.executable, "-m", "pipeline.optest.convert", str(job_file)],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)))
    crashes: list[str] = []
    lost: dict[str, str] = {}
    for job_file, proc in procs:
        _, err = proc.communicate()
        job_file.unlink(missing_ok=True)
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            crashes.append(f"converter process exit {proc.returncode}: {' | '.join(tail)}")
    for c in todo:
        converted, error = raw(c), raw(c).with_suffix(".error")
        if converted.exists():
            try:
                write_atomically(CACHE / f"{c.key}.tflite", patch(converted.read_bytes(), c.spec))
            except ValueError as err:  # the converted graph lacks what the case patches
                write_atomically(CACHE / f"{c.key}.error", f"patching the converted model failed: {err}")
            converted.unlink()
        elif error.exists():
            error.replace(CACHE / f"{c.key}.error")
        else:  # its batch crashed before reaching it
            lost[c.key] = "; ".join(crashes) or "no model was written"
    return lost


def _inputs(model: Model, case: OpCase, vectors: int) -> np.ndarray:
    inp = model.tensor(model.inputs[0])
    rng = np.random.default_rng(case.spec["seed"])
    shape = (vectors, *inp.shape)
    if inp.dtype == "float32":
        lo, hi = case.spec["in_lo"] * 1.2, case.spec["in_hi"] * 1.2
        return rng.uniform(lo, hi, shape).astype(np.float32)
    x = rng.integers(-128, 128, shape, dtype=np.int8)
    x[0], x[-1] = -128, 127
    return x


def _model_options(model: Model, op_name: str) -> tuple[list[str], dict[str, str]]:
    ops = [o.opcode for o in model.operators]
    main = next((o for o in model.operators if o.opcode == op_name), None)
    if main is None and op_name == "PAD":
        main = next((o for o in model.operators if o.opcode == "PADV2"), None)
    options = {k: str(v) for k, v in main.options.items()} if main else {}
    options["graph"] = "+".join(ops)
    if main is not None and op_name in ("QUANTIZE", "DEQUANTIZE"):
        options["types"] = f"{model.tensor(main.inputs[0]).dtype}->{model.tensor(main.outputs[0]).dtype}"
    if main is not None and op_name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        flt = model.tensor(main.inputs[1])
        options["quantization"] = "per_channel" if flt.quantization and flt.quantization.per_channel \
            else "per_tensor"
    return ops, options


def _equal(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-vector bit-exact equality (floats compared by their bits)."""
    if ref.dtype == np.float32:
        return np.all(ours.view(np.uint32) == ref.astype(np.float32).view(np.uint32), axis=1)
    return np.all(ours == ref, axis=1)


def _describe(case: OpCase) -> str:
    return (f"{case.case_id} (seed {case.seed}, replay: pipeline.optest.cases.make_case({case.op!r}, "
            f"{case.index}, {case.seed}), options {json.dumps(case.options)})")


def _build_and_run(case: OpCase, model: Model, x: np.ndarray, kernels: list[Path], run_dir: Path) -> np.ndarray:
    work = run_dir / case.op / str(case.index)
    result = generate(model, work / "gen", f"{case.op}_{case.index}", x[:1])
    exe = compile_host(work / "gen", work / "host", kernel_objects=kernels)
    out = model.tensor(model.outputs[0])
    dtype = np.float32 if out.dtype == "float32" else np.int8
    return run_host(exe, x, result.output_size, work, dtype)


def run_cases(cases: list[OpCase], vectors: int = 16, jobs: int | None = None) -> list[CaseResult]:
    jobs = jobs or max(1, os.cpu_count() or 1)
    lost = _convert_missing(cases, jobs)
    WORK.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
    kernels = compile_kernel_objects(run_dir / "kernels")
    results: list[CaseResult] = []
    pending: list[tuple[OpCase, CaseResult, Model, np.ndarray, Future[np.ndarray]]] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for case in cases:
            res = CaseResult(case.case_id, case.op, case.index, case.seed, case.options, passed=False)
            results.append(res)
            path = CACHE / f"{case.key}.tflite"
            if not path.exists():
                error = CACHE / f"{case.key}.error"
                why = error.read_text() if error.exists() else lost.get(case.key, "no model was written")
                res.message = f"{_describe(case)}: the TFLite converter failed: {why}"
                continue
            model = read_model(path)
            res.model_ops, res.model_options = _model_options(model, case.op)
            if not {case.op, "PADV2" if case.op == "PAD" else case.op} & set(res.model_ops):
                res.message = (f"{_describe(case)}: the converted graph {res.model_ops} has no {case.op} op, "
                               "so the case tests nothing (fix its builder in pipeline/optest/)")
                continue
            x = _inputs(model, case, vectors)
            pending.append((case, res, model, x, pool.submit(_build_and_run, case, model, x, kernels, run_dir)))
        for case, res, model, x, future in pending:
            path = model.path
            ref = tflm_outputs(path, x)
            litert = litert_outputs(path, x)
            res.vectors = len(x)
            res.litert_disagreements = int((~_equal(litert, ref)).sum())
            try:
                ours = future.result()
            except PipelineError as err:
                res.message = f"{_describe(case)}: code generation or host build failed: {err}"
                continue
            same = _equal(ours, ref)
            if same.all():
                res.passed = True
                continue
            v = int(np.argmin(same))
            e = int(np.argmax(ours[v] != ref[v]) if ref.dtype != np.float32
                    else np.argmax(ours[v].view(np.uint32) != ref[v].astype(np.float32).view(np.uint32)))
            res.message = (f"{_describe(case)}: {int((~same).sum())} of {len(x)} vectors differ from TFLM; "
                           f"first at vector {v}, element {e}: generated C {ours[v][e]!r}, TFLM {ref[v][e]!r} "
                           f"(model {path}, ops {res.model_ops}, generated C in {run_dir / case.op / str(case.index)})")
    if all(r.passed for r in results):
        shutil.rmtree(run_dir, ignore_errors=True)
    return results


def run_op_tests(cases_per_op: int, seed: int, report_dir: Path, ops: tuple[str, ...] = OPS,
                 vectors: int = 16, jobs: int | None = None) -> OpTestReport:
    """Run `cases_per_op` cases of every op; write op-coverage.json and op-coverage.md into report_dir."""
    start = time.monotonic()
    cases = [c for op in ops for c in make_cases(op, cases_per_op, seed)]
    results = run_cases(cases, vectors=vectors, jobs=jobs)
    report = OpTestReport(cases_per_op, seed, time.monotonic() - start, results)
    report_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(report_dir / "op-coverage.json", json.dumps(report.to_json(), indent=2) + "\n")
    write_atomically(report_dir / "op-coverage.md", report.to_markdown())
    return report
