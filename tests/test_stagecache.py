"""Reuse: a stage reruns exactly when its config, code or inputs change, and so do the stages after it."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline import pipeline as pl
from pipeline.stagecache import Stage, run_stage


def _chain(tmp_path: Path, templates: Path) -> tuple[Stage, Stage]:
    generated, elf = tmp_path / "build" / "model.c", tmp_path / "build" / "fw.elf"
    codegen = Stage("codegen", tmp_path / "build", (templates,), (), (generated,), {"name": "m"})
    build = Stage("build", tmp_path / "build", (), (generated,), (elf,), {"stack": 1024})
    return codegen, build


def _run(stage: Stage, out: Path, text: str) -> bool:
    """Run the stage (writing ``text`` to ``out``); return whether it was reused."""
    def work() -> dict[str, str]:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        return {"wrote": out.name}

    return run_stage(stage, work)[1]


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


def _covers(paths: tuple[Path, ...], target: Path) -> bool:
    return any(target == p or p in target.parents for p in paths)


def test_the_real_stages_fingerprint_templates_kernels_and_the_generated_code() -> None:
    b = pl.model_build("digits")
    codegen, build = pl.codegen_stage(b), pl.build_stage(b)
    assert _covers(codegen.code, pl.PIPELINE / "codegen" / "templates" / "model.c.j2")
    assert _covers(codegen.inputs, b.tflite)
    assert _covers(build.code, pl.ROOT / "firmware" / "kernels" / "tc_conv2d_s8.c")
    assert _covers(build.code, pl.ROOT / "firmware" / "kernels" / "arm" / "tc_conv2d_s8.c")
    assert _covers(build.inputs, b.generated / "model.c")
