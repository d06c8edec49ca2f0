"""Reuse and the stage graph: a stage reruns exactly when its config, code or inputs change, and so do
the stages after it; the graph, its results and its diagram all come from one declaration.

The last test is the recipe of docs/architecture.md, "Adding a stage": one StageSpec added to the
pipeline's GRAPH, and the stage runs, is reused, and reruns when what it depends on changes.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import pipeline as pl
from pipeline.config import ROOT
from pipeline.stagecache import Results, Stage, StageGraph, StageSpec, decode, encode, run_stage

ARCHITECTURE = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Wrote:
    name: str
    size: int


def _chain(tmp_path: Path, templates: Path) -> tuple[Stage, Stage]:
    generated, elf = tmp_path / "build" / "model.c", tmp_path / "build" / "fw.elf"
    codegen = Stage("codegen", tmp_path / "build", (templates,), (), (generated,), {"name": "m"})
    build = Stage("build", tmp_path / "build", (), (generated,), (elf,), {"stack": 1024})
    return codegen, build


def _run(stage: Stage, out: Path, text: str) -> bool:
    """Run the stage (writing ``text`` to ``out``); return whether it was reused."""
    def work() -> Wrote:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        return Wrote(out.name, len(text))

    result, reused = run_stage(stage, work, Wrote)
    assert result == Wrote(out.name, len(text) if not reused else result.size)
    return reused


def test_touching_a_template_reruns_codegen_and_everything_after_it(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(Path(pl.PIPELINE / "codegen" / "templates"), templates)
    codegen, build = _chain(tmp_path, templates)
    assert not _run(codegen, codegen.outputs[0], "v1") and not _run(build, build.outputs[0], "elf1")
    assert _run(codegen, codegen.outputs[0], "v1") and _run(build, build.outputs[0], "elf1"), "nothing changed"

    with (templates / "model.c.j2").open("a") as f:
        f.write("/* edited */\n")
    assert not _run(codegen, codegen.outputs[0], "v2"), "an edited template must rerun codegen"
    assert not _run(build, build.outputs[0], "elf2"), "new generated code must rerun the build"


def test_an_edited_or_missing_output_is_never_taken_as_done(tmp_path: Path) -> None:
    codegen, _ = _chain(tmp_path, tmp_path)
    assert not _run(codegen, codegen.outputs[0], "v1")
    codegen.outputs[0].write_text("tampered")
    assert not codegen.is_fresh()
    codegen.outputs[0].unlink()
    assert not codegen.is_fresh()


def test_a_config_change_reruns_the_stage(tmp_path: Path) -> None:
    codegen, build = _chain(tmp_path, tmp_path)
    _run(codegen, codegen.outputs[0], "v1")
    _run(build, build.outputs[0], "elf")
    bigger_stack = Stage("build", build.build_dir, build.code, build.inputs, build.outputs, {"stack": 2048})
    assert not bigger_stack.is_fresh()


def test_a_stamp_whose_result_is_not_the_stages_result_type_is_not_reused(tmp_path: Path) -> None:
    """A stamp written by an older version (another result layout) reruns the stage instead of crashing."""
    (tmp_path / "code").mkdir()
    codegen, _ = _chain(tmp_path, tmp_path / "code")
    assert not _run(codegen, codegen.outputs[0], "v1")
    codegen.stamp.write_text(codegen.stamp.read_text().replace('"size"', '"bytes"'))
    assert codegen.is_fresh() and codegen.recorded_result(Wrote) is None
    assert not _run(codegen, codegen.outputs[0], "v1")


def test_every_stage_result_survives_the_stamp_unchanged() -> None:
    """What the stage cache writes and reads back is the same typed result, for each stage of GRAPH
    that has a fingerprint (nested dataclasses, None, tuples and Paths included)."""
    from pipeline.stages.cycles import InferenceCycles
    from pipeline.stages.firmware_run import RunFacts

    examples: list[object] = [
        pl.Trained(0.9833, 1234), pl.Trained(None, 1),
        pl.Quantized(None, 0, 20), pl.Quantized(0.97, 1, 360, "r0.50-bn_gamma-ptq", 0.96),
        pl.Generated(4096, 2048, 100_000),
        pl.Built(flash_bytes=1, ram_bytes=2, stack_bytes=3, model_flash_bytes=4, arena_bytes=5, text_bytes=6,
                 data_bytes=7, bss_bytes=8, stack_bytes_static=9, toolchain="arm-none-eabi-gcc 12.2.1"),
        RunFacts("qemu", "7.2.0", 5.376, 1.5),
        InferenceCycles(1_000_000, 5.952, 168_000_000),
    ]
    cached = {s.result for s in pl.GRAPH.stages if s.fingerprint is not None}
    assert cached == {type(e) for e in examples}, "an example result per cached stage"
    for example in examples:
        assert decode(type(example), encode(example)) == example
    assert decode(tuple[Path, ...], encode((Path("a"), Path("b")))) == (Path("a"), Path("b"))


def _covers(paths: tuple[Path, ...], target: Path) -> bool:
    return any(target == p or p in target.parents for p in paths)


def test_the_real_stages_fingerprint_templates_kernels_and_the_generated_code() -> None:
    r = pl.PipelineRun(pl.model_build("digits"))
    codegen, build = pl.codegen_stage(r, Results()), pl.build_stage(r, Results())
    b = r.build
    assert _covers(codegen.code, pl.PIPELINE / "codegen" / "templates" / "model.c.j2")
    assert _covers(codegen.inputs, b.tflite)
    assert _covers(build.code, pl.ROOT / "firmware" / "kernels" / "tc_conv2d_s8.c")
    assert _covers(build.code, pl.ROOT / "firmware" / "kernels" / "arm" / "tc_conv2d_s8.c")
    assert _covers(build.inputs, b.generated / "model.c")


def test_the_graph_runs_each_stage_after_what_it_depends_on_and_the_verdict_last() -> None:
    names = pl.GRAPH.names
    for before, after in pl.GRAPH.edges():
        assert names.index(before) < names.index(after)
    assert [s.name for s in pl.GRAPH.upstream("codegen")] == ["train", "compress", "quantize", "codegen"]
    assert pl.GRAPH.upstream("test-firmware") == pl.GRAPH.stages
    assert [s.name for s in pl.GRAPH.upstream("simulate", "cycles", given=("quantize",))] == \
        ["quantize", "codegen", "build", "simulate", "cycles"], "a given stage's own dependencies are not run"
    assert [s.name for s in pl.GRAPH.stages if s.fingerprint is None] == ["compress", "test-firmware"]


def test_a_graph_refuses_a_stage_declared_before_what_it_depends_on() -> None:
    first = StageSpec("first", ("second",), Wrote, None, lambda _ctx, _r: Wrote("", 0), "")
    second = StageSpec("second", (), Wrote, None, lambda _ctx, _r: Wrote("", 0), "")
    with pytest.raises(ValueError, match="stage first depends on second, not declared before it"):
        StageGraph((first, second))
    with pytest.raises(ValueError, match="declared twice"):
        StageGraph((second, second))


def test_the_architecture_diagram_is_the_declared_graph() -> None:
    """docs/architecture.md's stage graph is `invoke graph`'s output: the declaration, not a drawing of it."""
    blocks = re.findall(r"```mermaid\n(.*?)\n```", ARCHITECTURE.read_text(), re.DOTALL)
    generated = pl.graph_mermaid()
    assert generated in blocks, f"paste `invoke graph`'s output into docs/architecture.md:\n{generated}"
    edges = set(re.findall(r"^  (\w+) --> (\w+)$", generated, re.MULTILINE))
    assert edges == {(a.replace("-", "_"), b.replace("-", "_")) for a, b in pl.GRAPH.edges()}


# --- docs/architecture.md, "Adding a stage" -------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """The toy stage's typed result."""

    c_lines: int


def test_adding_a_stage_is_one_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The recipe, with a toy stage after codegen that counts the generated C's lines."""
    code = tmp_path / "count_lines.py"  # the toy stage's own code: part of its fingerprint
    code.write_text("# counts lines\n")
    b = pl.ModelBuild(pl.model_config("digits"), out_dir=tmp_path / "digits")

    # 1. its fingerprint: code, inputs (the previous stage's outputs), outputs, settings
    def fingerprint(r: pl.PipelineRun, _results: Results) -> Stage:
        return Stage("count", r.build.dir, (code,), (r.build.generated,), (r.build.dir / "count.txt",),
                     {"suffix": ".c"})

    # 2. its work: read the results it needs, write its outputs, return its typed result
    def count(r: pl.PipelineRun, results: Results) -> Counted:
        assert results.of(pl.CODEGEN).model_bytes == 3, "the result of the stage it depends on"
        lines = sum(len(f.read_text().splitlines()) for f in sorted(r.build.generated.glob("*.c")))
        (r.build.dir / "count.txt").write_text(f"{lines}\n")
        return Counted(lines)

    # 3. one declaration, added to the graph after the stage it depends on
    toy = StageSpec("count", ("codegen",), Counted, fingerprint, count, "count.txt")
    graph = StageGraph((*pl.GRAPH.stages, toy))
    assert ("codegen", "count") in graph.edges() and "count" in graph.mermaid(pl.stage_label)

    # The codegen stage's outputs as a codegen run leaves them (so no model is trained here).
    b.generated.mkdir(parents=True)
    (b.generated / "model.c").write_text("int a;\nint b;\n")
    codegen = pl.codegen_stage(pl.PipelineRun(b), Results())
    codegen.record(pl.Generated(model_bytes=3, arena_bytes=0, macs=0))

    def run() -> tuple[Counted, str]:
        results = graph.run(pl.PipelineRun(b), "count", given=("quantize",))
        return results.of(toy), capsys.readouterr().out

    # it runs, then is reused with its typed result read back from the stamp
    counted, out = run()
    assert counted == Counted(2) and "[count] running" in out and "[codegen] reused" in out
    counted, out = run()
    assert counted == Counted(2) and "[count] reused" in out and "[count] running" not in out

    # a change of what it depends on reruns it: the previous stage's output, then its own code
    (b.generated / "model.c").write_text("int a;\nint b;\nint c;\n")
    codegen.record(pl.Generated(model_bytes=3, arena_bytes=0, macs=0))
    counted, out = run()
    assert counted == Counted(3) and "[count] running" in out
    code.write_text("# counts lines, edited\n")
    assert "[count] running" in run()[1]
    assert "[count] reused" in run()[1]
