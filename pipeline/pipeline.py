"""The whole pipeline for one model, declared once as a stage graph (:data:`GRAPH`).

train -> quantize -> codegen -> build -> simulate, cycles -> test-firmware. Each stage is a
:class:`~pipeline.stagecache.StageSpec`: the stages it depends on, its fingerprint (code,
templates, config, tool and emulator versions, platform files, inputs, outputs), its work and
its typed result. ``invoke all`` (:func:`run_all`), each stage's task (pipeline.entry.run_until),
reuse and the "[stage] running / reused" lines all come from it. The Robot suite has no
fingerprint: its verdict is always fresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analyses.elf_sizes import SizeFigures
from pipeline.boards import DEFAULT_BOARD, Board, load_board
from pipeline.compress.search import CompressResult
from pipeline.config import BUILD_DIR, ROOT, ModelConfig, load_config, model_config
from pipeline.errors import ConfigError, PipelineError
from pipeline.figures import NO_CYCLE_MODEL, from_stages, measured_by
from pipeline.fileutil import write_atomically
from pipeline.metrics import budget_verdicts, table, write_metrics
from pipeline.stagecache import Results, Stage, StageGraph, StageSpec
from pipeline.stages.cycles import InferenceCycles, cycles_stage, measure_inference_cycles
from pipeline.stages.firmware_run import (
    BootRequest,
    RunFacts,
    RunFigures,
    SuiteFile,
    SuiteRun,
    boot_once,
    boot_stage,
    compare_outputs,
    run_figures,
    saved_run,
)
from pipeline.tools import HOST_CC, QEMU, TOOLCHAIN, Tool

PIPELINE = ROOT / "pipeline"
STAGES = PIPELINE / "stages"
BYO_VECTORS = 20  # random int8 inputs for a bring-your-own model without --inputs
BYO_SEED = 20261128


@dataclass(frozen=True)
class ModelBuild:
    """One model's config and the paths of everything built for it."""

    cfg: ModelConfig
    tflite_source: Path | None = None  # bring-your-own model
    inputs_source: Path | None = None  # bring-your-own int8 inputs (.npy)
    out_dir: Path | None = None  # default build/<name>; a compression candidate's own folder

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def board(self) -> Board:
        """The board it is built for (its config's: [model] board or --board)."""
        return load_board(self.cfg.board or DEFAULT_BOARD)

    @property
    def dir(self) -> Path:
        """What does not depend on the board: the trained and quantized model, the generated C."""
        return self.out_dir if self.out_dir is not None else BUILD_DIR / self.name

    @property
    def board_dir(self) -> Path:
        """What depends on the board: the firmware, its runs, the Robot suite's reports, metrics.json. The default
        board's is ``dir`` itself, another board's ``dir/boards/<board>/``."""
        board = self.cfg.board or DEFAULT_BOARD
        return self.dir if board == DEFAULT_BOARD else self.dir / "boards" / board

    @property
    def tflite(self) -> Path:
        return self.dir / f"{self.name}.tflite"

    @property
    def reference(self) -> Path:
        return self.dir / "reference.npz"

    @property
    def generated(self) -> Path:
        return self.dir / "generated"

    @property
    def firmware_dir(self) -> Path:
        return self.board_dir / "firmware"

    @property
    def elf(self) -> Path:
        return self.firmware_dir / "tinyml_fw.elf"


def model_build(
    model: str = "digits", tflite: Path | None = None, inputs: Path | None = None, config: Path | None = None,
    board: str | None = None,
) -> ModelBuild:
    """The ModelBuild of a model in models/, or of a bring-your-own .tflite, for ``board`` (default: the
    config's [model] board, else the default board)."""
    if board is not None:
        load_board(board)  # an unknown board is refused before anything runs
    if tflite is None:
        cfg = model_config(model)
        return ModelBuild(cfg.for_board(board or cfg.board or DEFAULT_BOARD))
    byo = _byo_config(tflite, config)
    return ModelBuild(byo.for_board(board or byo.board or DEFAULT_BOARD), tflite_source=tflite.resolve(),
                      inputs_source=inputs.resolve() if inputs else None)


def _byo_config(tflite: Path, config: Path | None) -> ModelConfig:
    """A bring-your-own model's config: its --config with the .tflite's name, or no budgets."""
    if not tflite.is_file():
        raise PipelineError(f"{tflite}: no such .tflite file")
    if config is not None:
        cfg = load_config(config)
        cfg = ModelConfig(
            **{**cfg.__dict__, "name": tflite.stem, "architecture": None, "dataset": None, "training": None}
        )
    else:
        cfg = ModelConfig(
            name=tflite.stem,
            path=tflite,
            architecture=None,
            dataset=None,
            training=None,
            representative_samples=0,
            emulator=model_config("digits").emulator,
            budgets={},
        )
    return cfg


# --- the stages' typed results ----------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRun:
    """What every stage of the graph is run for: one model's build, on one emulator (None: the default)."""

    build: ModelBuild
    emulator: str | None = None

    @property
    def boot(self) -> BootRequest:
        """The simulate stage's boot of this build's ELF."""
        from pipeline.emulators import default_emulator

        b = self.build
        return BootRequest(b.elf, b.board_dir, self.emulator or default_emulator(b.board.name),
                           b.cfg.emulator.wall_timeout_s, b.cfg.emulator.emulated_timeout_s, b.board.name)


@dataclass(frozen=True)
class Trained:
    float_accuracy: float | None  # None: the held-out split has no labels
    parameters: int


@dataclass(frozen=True)
class Quantized:
    int8_accuracy: float | None  # None: no labels (a bring-your-own model's inputs)
    litert_disagreements: int
    vectors: int
    candidate: str | None = None  # the [compress] candidate this model is
    float_accuracy: float | None = None  # that candidate's, after pruning and fine-tuning


@dataclass(frozen=True)
class Generated:
    model_bytes: int
    arena_bytes: int
    macs: int


@dataclass(frozen=True)
class Built(SizeFigures):
    stack_bytes_static: int  # the call graph's worst case (pipeline/analyses/stack_usage.py)
    toolchain: str  # first line of `arm-none-eabi-gcc --version`

    def sizes(self) -> dict[str, int]:
        """The size figures by name (the toolchain's version is not one)."""
        return {k: v for k, v in asdict(self).items() if k != "toolchain"}


@dataclass(frozen=True)
class Verdict:
    """The Robot suite's: its exit code and the boot's figures as it evaluated them (never cached)."""

    robot_exit_code: int
    run: SuiteRun | None  # None: the suite could not evaluate a run (its setup failed)


# --- the stages --------------------------------------------------------------------------------------


def _config_section(b: ModelBuild, *sections: str) -> dict[str, Any]:
    return {s: b.cfg.raw.get(s) for s in sections}


def check_input_shape(b: ModelBuild, model: Any) -> None:
    """The config's optional ``[model] input_shape`` must be the model's input shape."""
    wanted = b.cfg.raw.get("model", {}).get("input_shape")
    actual = list(model.tensor(model.inputs[0]).shape)
    if wanted is not None and list(wanted) != actual:
        raise ConfigError(f"{b.cfg.path}: [model] input_shape = {wanted}, but {model.path} takes input shape {actual}")


def _byo(r: PipelineRun) -> str | None:
    b = r.build
    return f"{b.name} is a bring-your-own .tflite (nothing to train)" if b.tflite_source is not None else None


def train_stage(r: PipelineRun, _results: Results) -> Stage:
    b = r.build
    assert b.cfg.architecture is not None
    return Stage("train", b.dir, (STAGES / "train.py", STAGES / "datasets.py", b.cfg.architecture), (),
                 (b.dir / "model.keras", b.dir / "dataset.npz"), _config_section(b, "model", "dataset", "training"))


def train(r: PipelineRun, _results: Results) -> Trained:
    from pipeline.stages.train import train as fit

    t = fit(r.build.cfg, r.build.dir)
    return Trained(t.float_accuracy, t.parameters)


def _not_compressed(r: PipelineRun) -> str | None:
    b = r.build
    if b.tflite_source is not None:
        return f"{b.name} is a bring-your-own .tflite"
    compress = b.cfg.raw.get("compress")
    if compress is None:
        return f"{b.name} has no [compress] section"
    return None if compress.get("apply", True) else f"{b.cfg.path}: [compress] apply = false"


def compress(r: PipelineRun, _results: Results) -> CompressResult:
    """`invoke compress`'s search (pipeline/compress/search.py): each candidate reused when unchanged."""
    from pipeline.compress.search import compress as search

    return search(r.build, r.emulator)


QUANTIZE_CODE = (STAGES / "quantize.py", STAGES / "convert.py", STAGES / "reference.py")


def quantize_stage(r: PipelineRun, results: Results) -> Stage:
    """Three ways to the int8 .tflite and its reference: a bring-your-own .tflite, the candidate
    `invoke compress` chose, or model.keras converted."""
    b, chosen = r.build, results.get(COMPRESS)
    if b.tflite_source is not None:
        inputs = (b.tflite_source,) + ((b.inputs_source,) if b.inputs_source else ())
        return Stage("quantize", b.dir, QUANTIZE_CODE, inputs, (b.tflite, b.reference), {"vectors": BYO_VECTORS})
    if chosen is not None:
        return Stage("quantize", b.dir, (STAGES / "quantize.py", STAGES / "reference.py"),
                     (chosen.chosen_tflite, b.dir / "dataset.npz"), (b.tflite, b.reference),
                     {"candidate": chosen.chosen})
    return Stage("quantize", b.dir, QUANTIZE_CODE, (b.dir / "model.keras", b.dir / "dataset.npz"),
                 (b.tflite, b.reference), _config_section(b, "quantization", "training"))


def quantize(r: PipelineRun, results: Results) -> Quantized:
    b, chosen = r.build, results.get(COMPRESS)
    if b.tflite_source is not None:
        return _byo_reference(b)
    if chosen is not None:
        return _compressed_reference(b, chosen)
    from pipeline.stages.quantize import quantize as convert

    q = convert(b.cfg, b.dir / "model.keras", b.dir / "dataset.npz", b.dir)
    return Quantized(q.int8_accuracy, q.litert_disagreements, q.vectors)


def _compressed_reference(b: ModelBuild, chosen: CompressResult) -> Quantized:
    from pipeline.stages.quantize import held_out_reference

    row = next(c for c in chosen.candidates if c["name"] == chosen.chosen)
    print(f"quantize: {b.name} is the candidate invoke compress chose, {chosen.chosen} ({chosen.chosen_tflite})",
          flush=True)
    write_atomically(b.tflite, chosen.chosen_tflite.read_bytes())
    q = held_out_reference(b.tflite, b.dir / "dataset.npz", b.dir)
    return Quantized(q.int8_accuracy, q.litert_disagreements, q.vectors, chosen.chosen, row["float_accuracy"])


def _byo_reference(b: ModelBuild) -> Quantized:
    from pipeline.codegen.validate import validate_model
    from pipeline.stages.quantize import record_reference
    from pipeline.tflite.reader import read_model

    assert b.tflite_source is not None
    model = read_model(b.tflite_source)
    validate_model(model)  # refuse before anything is written
    check_input_shape(b, model)
    inp = model.tensor(model.inputs[0])
    if b.inputs_source is not None:
        inputs = np.load(b.inputs_source)
        if inputs.dtype != np.int8 or inputs.reshape(len(inputs), -1).shape[1] != inp.size:
            raise PipelineError(
                f"{b.inputs_source}: expected int8 inputs of {inp.size} values each "
                f"(shape [n, {', '.join(map(str, inp.shape[1:]))}]), got {inputs.dtype} {list(inputs.shape)}"
            )
    else:
        rng = np.random.default_rng(BYO_SEED)
        inputs = rng.integers(-128, 128, size=(BYO_VECTORS, *inp.shape[1:]), dtype=np.int8)
        print(f"quantize: no --inputs given: {BYO_VECTORS} random int8 inputs (seed {BYO_SEED})", flush=True)
    b.dir.mkdir(parents=True, exist_ok=True)
    write_atomically(b.tflite, b.tflite_source.read_bytes())
    q = record_reference(b.tflite, inputs.reshape(len(inputs), *inp.shape[1:]), None, b.reference)
    return Quantized(None, q.litert_disagreements, q.vectors)


def codegen_stage(r: PipelineRun, _results: Results) -> Stage:
    """Codegen depends on the generator's code and templates, the .tflite and the reference inputs."""
    b = r.build
    return Stage("codegen", b.dir, (PIPELINE / "codegen", PIPELINE / "tflite"), (b.tflite, b.reference),
                 (b.generated,), {"name": b.name, "input_shape": b.cfg.raw.get("model", {}).get("input_shape"),
                                  "codegen": b.cfg.raw.get("codegen")})


def codegen(r: PipelineRun, _results: Results) -> Generated:
    from pipeline.codegen.generator import generate
    from pipeline.tflite.reader import read_model

    b = r.build
    model = read_model(b.tflite)
    check_input_shape(b, model)
    inputs = np.load(b.reference)["inputs"]
    options = b.cfg.raw.get("codegen", {})
    g = generate(model, b.generated, b.name, inputs.reshape(len(inputs), -1),
                 options.get("arena_limit_bytes"), options.get("ram_constants_bytes", 0))
    print(f"codegen: {len(g.layers)} layers, {g.macs:,} MACs, model_bytes {g.model_bytes:,}, "
          f"arena_bytes {g.arena_bytes:,} -> {b.generated}", flush=True)
    return Generated(g.model_bytes, g.arena_bytes, g.macs)


def stack_bytes(b: ModelBuild) -> int:
    return int(b.cfg.budgets.get("max_stack_bytes", 8192))


def build_stage(r: PipelineRun, _results: Results) -> Stage:
    """The build depends on the firmware sources, the build modules and the generated C."""
    b = r.build
    firmware = ROOT / "firmware"
    return Stage(
        "build",
        b.board_dir,
        (*(firmware / d for d in ("app", "kernels", "cmake", "CMakeLists.txt")),
         *(b.board.folder.parent / d for d in ("common", b.board.name)),
         STAGES / "build.py", PIPELINE / "boards.py",
         *(PIPELINE / "analyses" / f for f in ("elf_sizes.py", "stack_usage.py"))),
        (b.generated,),
        (b.elf,),
        {"stack_bytes": stack_bytes(b), "board": b.board.name},
    )


def build(r: PipelineRun, _results: Results) -> Built:
    from pipeline.analyses.stack_usage import static_stack
    from pipeline.stages.build import BuildRequest, build_firmware

    b = r.build
    fw = build_firmware(BuildRequest(b.generated, b.firmware_dir, stack_bytes=stack_bytes(b), board=b.board.name))
    st = static_stack(fw.elf, b.firmware_dir)
    print(f"build: {fw.elf} flash {fw.sizes.flash_bytes:,} B, RAM {fw.sizes.ram_bytes:,} B, "
          f"static stack {st.total_bytes:,} B ({fw.seconds:.1f} s)", flush=True)
    return Built(**asdict(fw.sizes), stack_bytes_static=st.total_bytes, toolchain=fw.toolchain_version)


def _toolchain(_r: PipelineRun) -> tuple[Tool, ...]:
    return TOOLCHAIN


def _emulator_tools(r: PipelineRun) -> tuple[Tool, ...]:
    return (QEMU,) if r.boot.emulator == "qemu" else ()


def _emulator_installed(r: PipelineRun) -> None:
    """The emulator must model the board, and one other than QEMU (a Tool, checked with the others)
    must be installed."""
    r.build.board.check_emulator(r.boot.emulator)
    if r.boot.emulator != "qemu":
        require_emulator(r.boot.emulator, r.build.board.name)


def require_emulator(emulator: str | None, board: str = DEFAULT_BOARD) -> None:
    """Fail at once, with an install hint, when the chosen emulator is not installed (or, with a
    clear error, when it does not model the board)."""
    from pipeline.emulators import select_backend

    select_backend(emulator, board).check_available()


def boot_figures(r: PipelineRun, facts: RunFacts) -> RunFigures:
    """The figures of the simulate stage's boot, evaluated now against the reference outputs."""
    reference = np.load(r.build.reference)
    labels = reference["labels"] if "labels" in reference.files else None
    return run_figures(saved_run(r.boot, facts), _expected_outputs(r.build), labels)


def _expected_outputs(b: ModelBuild) -> np.ndarray:
    """TFLM's outputs, one row per vector."""
    tflm = np.load(b.reference)["tflm"]
    return tflm.reshape(len(tflm), -1)


def _report_boot(r: PipelineRun, facts: RunFacts) -> None:
    run, expected = saved_run(r.boot, facts), _expected_outputs(r.build)
    print(f"simulate: {len(run.report.vectors)} vectors, {compare_outputs(run.outputs(), expected).message()}, "
          f"{run.instructions_per_inference:,} instructions per inference ({run.counter_source})", flush=True)


def _qemu(_r: PipelineRun) -> tuple[Tool, ...]:
    return (QEMU, HOST_CC)  # the cycle estimate runs in QEMU whatever the emulator, with a plugin built by gcc


def _no_cycle_model(r: PipelineRun) -> str | None:
    board = r.build.board
    return None if board.cycle_model else f"{NO_CYCLE_MODEL} ({board.name} is a {board.cpu})"


def suite_sizes(results: Results) -> dict[str, int]:
    """What suite.json's ``sizes`` gives the Robot suite: the build's sizes and the generator's figures."""
    return {**results.of(BUILD).sizes(), **asdict(results.of(CODEGEN))}


def robot_suite(r: PipelineRun, results: Results) -> Verdict:
    rc = run_robot_suite(r.build, r.emulator, suite_sizes(results))
    return Verdict(rc, SuiteRun.load(r.build.board_dir / "firmware_run.json"))


TRAIN = StageSpec("train", (), Trained, train_stage, train, "model.keras, dataset.npz", skip=_byo)
COMPRESS = StageSpec("compress", ("train",), CompressResult, None, compress, "compress/chosen.tflite, compress.json",
                     skip=_not_compressed)
QUANTIZE = StageSpec("quantize", ("train", "compress"), Quantized, quantize_stage, quantize,
                     "NAME.tflite, reference.npz")
CODEGEN = StageSpec("codegen", ("quantize",), Generated, codegen_stage, codegen, "generated/")
BUILD = StageSpec("build", ("codegen",), Built, build_stage, build, "firmware/tinyml_fw.elf", tools=_toolchain)
# The boot's fingerprint is pipeline/stages/firmware_run.py's simulate_stage, which the Robot suite's setup shares.
SIMULATE = StageSpec("simulate", ("build",), RunFacts, lambda r, _: boot_stage(r.boot),
                     lambda r, _: boot_once(r.boot), "simulate/EMULATOR/console.log, run.json",
                     tools=_emulator_tools, check=_emulator_installed, report=_report_boot)
CYCLES = StageSpec("cycles", ("build",), InferenceCycles, lambda r, _: cycles_stage(r.build.elf, r.build.board_dir),
                   lambda r, _: measure_inference_cycles(r.build.elf, r.build.board_dir,
                                                         r.build.cfg.emulator.wall_timeout_s),
                   "cycles/cycles.txt", tools=_qemu, skip=_no_cycle_model)
TEST_FIRMWARE = StageSpec("test-firmware", ("codegen", "build", "simulate", "cycles"), Verdict, None, robot_suite,
                          "robot/, firmware_run.json")

GRAPH: StageGraph[PipelineRun] = StageGraph(
    (TRAIN, COMPRESS, QUANTIZE, CODEGEN, BUILD, SIMULATE, CYCLES, TEST_FIRMWARE))


def stage_label(spec: StageSpec[PipelineRun, Any]) -> str:
    """A stage's node in docs/architecture.md's diagram: its name, what it writes, the figures it measures."""
    measured = [f.name for f in measured_by(spec.name)]
    return "<br/>".join([f"<b>{spec.name}</b>", spec.doc, *([", ".join(measured)] if measured else [])])


def graph_mermaid() -> str:
    """docs/architecture.md's stage graph, generated from GRAPH and the figure registry (`invoke graph`)."""
    return GRAPH.mermaid(stage_label)


def run_until(b: ModelBuild, last: str, emulator: str | None = None) -> Results:
    """Run (or reuse) ``last`` and every stage it depends on (GRAPH); return their results."""
    return GRAPH.run(PipelineRun(b, emulator), last)


def write_suite_json(b: ModelBuild, sizes: dict[str, int]) -> Path:
    path = b.board_dir / "suite.json"
    SuiteFile(b.name, b.board_dir, b.elf, b.reference, b.cfg.path, b.cfg.budgets, sizes, b.cfg.emulator.wall_timeout_s,
              b.cfg.emulator.emulated_timeout_s, b.board.name).write(path)
    return path


def run_robot_suite(b: ModelBuild, emulator: str | None, sizes: dict[str, int]) -> int:
    """Run the Robot suite (always: verdicts are never cached); return Robot's exit code."""
    suite = write_suite_json(b, sizes)
    out = b.board_dir / "robot"
    (b.board_dir / "firmware_run.json").unlink(missing_ok=True)  # never report a previous run's figures
    cmd = [
        sys.executable,
        "-m",
        "robot",
        "--outputdir",
        str(out),
        "--xunit",
        "xunit.xml",
        "--name",
        f"{b.name} firmware on {b.board.name}",
        "--pythonpath",
        str(ROOT / "robot_tests"),
        "--variable",
        f"SUITE_JSON:{suite}",
        "--variable",
        f"EMULATOR:{emulator or ''}",
        "--consolecolors",
        "off",
        str(ROOT / "robot_tests" / "firmware.robot"),
    ]
    print(f"[test-firmware] Robot suite on {emulator or 'the default emulator'} -> {out}/report.html", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(cmd, env=env, check=False).returncode


def collect_metrics(r: PipelineRun, results: Results) -> dict[str, Any]:
    """metrics.json: each figure of pipeline/figures.py from the result of the stage that measures it;
    the simulate stage's as the Robot suite evaluated the boot (none matched when it could not)."""
    quantized, trained, verdict = results.of(QUANTIZE), results.get(TRAIN), results.of(TEST_FIRMWARE)
    measured = {**results.by_name(), "simulate": verdict.run.figures if verdict.run else None}
    if quantized.candidate is not None and trained is not None:
        # a compressed model's float accuracy is its chosen candidate's, after pruning and fine-tuning
        measured["train"] = replace(trained, float_accuracy=quantized.float_accuracy)
    figures = from_stages(measured)
    if verdict.run is None:
        figures.update(bit_exact_matched=0, bit_exact_total=quantized.vectors)
    metrics: dict[str, Any] = {
        "model": r.build.name,
        "board": r.build.board.name,
        "emulator": verdict.run.emulator if verdict.run else r.boot.emulator,
        "toolchain": {"gcc": results.of(BUILD).toolchain,
                      "emulator": verdict.run.emulator_version if verdict.run else None},
        **figures,
        "budgets": r.build.cfg.budgets,
        "robot_exit_code": verdict.robot_exit_code,
    }
    verdicts = budget_verdicts(metrics)
    metrics["passed"] = verdict.robot_exit_code == 0 and all(v != "FAIL" for *_, v in verdicts)
    return metrics


def run_all(b: ModelBuild, emulator: str | None) -> dict[str, Any]:
    """Every stage of GRAPH, the Robot suite last; writes metrics.json and prints the budget table."""
    r = PipelineRun(b, emulator)
    metrics = collect_metrics(r, GRAPH.run(r, *GRAPH.names))
    write_metrics(b.board_dir / "metrics.json", metrics)
    print()
    print(table(metrics))
    print(
        f"\n{b.name} on {b.board.name}: {'PASSED' if metrics['passed'] else 'FAILED'} -> "
        f"{b.board_dir / 'metrics.json'}, Robot report {b.board_dir / 'robot' / 'report.html'}"
    )
    return metrics
