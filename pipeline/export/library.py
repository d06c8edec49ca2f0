"""Export a generated model as a self-contained C library for the user's own firmware.

``export_library`` copies the generated ``model.c``/``model.h`` and only the kernels the
model calls into one directory::

    <out>/
      include/tinyml_<model>.h   the public header: the API, shapes, sizes, quantization, provenance
      include/model.h            the generated header it includes (TC_MODEL_* constants, tc_model_*())
      src/model.c                weights and one kernel call per layer
      src/tc_*.c, src/tc_*.h     the kernels model.c calls (and the headers they include)
      CMakeLists.txt             a static library target tinyml_<model>
      sources.txt                the .c files, one per line, relative to <out>
      include_dirs.txt           the include directories, one per line, relative to <out>
      defines.txt                the C defines model.c needs for the kernel set, one per line
      README.md                  what is inside, the API, CMake / Make use, provenance
      export.json                the manifest: kernels, files, model sha256, generator

The kernels are those ``codegen.json`` lists for the kernel set; their sources and headers
come from the kernel manifest (pipeline/codegen/kernels.py), as the firmware build's do. The
public header, CMake file and README are rendered from ``pipeline/export/templates/``. No
test vectors and no harness are exported.

The export is written to a temporary directory and renamed into place, so a failure leaves
nothing that looks like a valid export.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

import pipeline
from pipeline.codegen.kernels import KERNEL_SETS, MODEL_C_HEADERS, fallback_chain, files_of
from pipeline.config import ROOT
from pipeline.errors import PipelineError, StageError
from pipeline.fileutil import sha256_file
from pipeline.pipeline import ModelBuild

KERNELS_DIR = ROOT / "firmware" / "kernels"
NUMERIC_CONTRACT = ROOT / "docs" / "numeric-contract.md"
TEMPLATES = Path(__file__).with_name("templates")
MANIFEST = "export.json"


@dataclass(frozen=True)
class ExportResult:
    """What ``export_library`` wrote."""

    out_dir: Path
    header: Path  # include/tinyml_<model>.h
    target: str  # the CMake library target, tinyml_<model>
    kernel_set: str  # portable or dsp
    kernels: tuple[str, ...]  # tc_* kernel functions model.c calls in this kernel set, sorted
    sources: tuple[Path, ...]  # every .c file, relative to out_dir (as in sources.txt)
    headers: tuple[Path, ...]  # every .h file, relative to out_dir
    source_bytes: int  # bytes of all .c and .h files
    model_sha256: str
    generator: str
    files: dict[str, int] = field(default_factory=dict)  # every file written -> bytes


def c_identifier(name: str) -> str:
    """``name`` made a C and CMake identifier (letters, digits, '_'; no leading digit)."""
    ident = re.sub(r"\W", "_", name, flags=re.ASCII)
    return f"m_{ident}" if not ident or ident[0].isdigit() else ident


def _codegen(codegen_json: Path, build: ModelBuild, kernel_set: str) -> tuple[list[str], str]:
    """The kernels model.c calls in ``kernel_set``'s build, and the .tflite's sha256 (checked against
    the one codegen.json was generated from)."""
    codegen = json.loads(codegen_json.read_text())
    if "model_sha256" not in codegen or any("kernels" not in layer for layer in codegen["layers"]):
        raise StageError(f"{codegen_json} was written by an older generator (no kernels per kernel set): rerun codegen")
    if not build.tflite.is_file():
        raise StageError(f"{build.tflite} not found: run the quantize stage first")
    digest = sha256_file(build.tflite)
    if codegen["model_sha256"] != digest:
        raise StageError(f"{codegen_json} was generated from another model (sha256 {codegen['model_sha256'][:16]}): "
                         "rerun codegen")
    return sorted({layer["kernels"][kernel_set] for layer in codegen["layers"] if layer["kernel"]}), digest


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a directory that is not an earlier export (never delete the user's files)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise PipelineError(f"{out_dir} exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise PipelineError(f"{out_dir} is not empty and holds no {MANIFEST}: refusing to replace it")


def export_library(build: ModelBuild, out_dir: Path, kernels: str = "portable") -> ExportResult:
    """Write ``build``'s generated model and the kernels it uses to ``out_dir`` as a C library."""
    if kernels not in KERNEL_SETS:
        raise PipelineError(f"kernels={kernels!r}: want one of {', '.join(KERNEL_SETS)}")
    model_dir = build.generated
    model_c, model_h, codegen_json = (model_dir / n for n in ("model.c", "model.h", "codegen.json"))
    for path in (model_c, model_h, codegen_json):
        if not path.is_file():
            raise StageError(f"{path} not found: run the codegen stage first")
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)

    used, sha = _codegen(codegen_json, build, kernels)
    kernel_sources, kernel_headers = files_of(used)
    kernel_headers = sorted({*kernel_headers, *MODEL_C_HEADERS})
    defines = [KERNEL_SETS[s].define for s in fallback_chain(kernels) if KERNEL_SETS[s].define]
    generator = f"tinyml-ci {pipeline.__version__}"
    ident = c_identifier(build.name)
    target = f"tinyml_{ident}"

    files: dict[str, bytes] = {"include/model.h": model_h.read_bytes(), "src/model.c": model_c.read_bytes()}
    origin: dict[str, str] = {}
    for rel_kernel in kernel_sources + kernel_headers:
        rel = f"src/{Path(rel_kernel).name}"
        if rel in files:
            raise StageError(f"two files would be exported as {rel}: {origin.get(rel, model_c)} and {rel_kernel}")
        files[rel] = (KERNELS_DIR / rel_kernel).read_bytes()
        origin[rel] = (KERNELS_DIR / rel_kernel).relative_to(ROOT).as_posix()
    c_files = sorted(rel for rel in files if rel.endswith(".c"))
    source_bytes = sum(len(data) for rel, data in files.items() if rel.endswith((".c", ".h")))

    from pipeline.tflite.reader import read_model

    model = read_model(build.tflite)
    env = _environment()
    view = {
        "name": build.name, "ident": ident, "target": target, "generator": generator, "sha": sha,
        "tflite_name": build.tflite.name, "kernel_set": kernels, "kernel_set_summary": KERNEL_SETS[kernels].summary,
        "kernels": used, "defines": defines, "sources": c_files, "source_bytes": source_bytes,
        "out_name": out_dir.name, "contract": Path(os.path.relpath(NUMERIC_CONTRACT, out_dir)).as_posix(),
        "guard": f"TINYML_{ident.upper()}_H",
        "input_shape": model.tensor(model.inputs[0]).shape, "output_shape": model.tensor(model.outputs[0]).shape,
    }  # fmt: skip
    files[f"include/{target}.h"] = env.get_template("public_header.h.j2").render(**view).encode()
    files["CMakeLists.txt"] = env.get_template("CMakeLists.txt.j2").render(**view).encode()
    files["sources.txt"] = "".join(f"{s}\n" for s in c_files).encode()
    files["include_dirs.txt"] = b"include\nsrc\n"
    files["defines.txt"] = "".join(f"{d}\n" for d in defines).encode()
    files["README.md"] = env.get_template("README.md.j2").render(**view).encode()
    manifest = {
        "model": build.name,
        "target": target,
        "kernel_set": kernels,
        "kernels": used,
        "defines": defines,
        "kernel_sources": origin,
        "model_sha256": sha,
        "generator": generator,
        "source_bytes": source_bytes,
        "files": sorted([*files, MANIFEST]),
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    _write_tree(out_dir, files)
    return ExportResult(
        out_dir=out_dir,
        header=out_dir / "include" / f"{target}.h",
        target=target,
        kernel_set=kernels,
        kernels=tuple(used),
        sources=tuple(Path(s) for s in c_files),
        headers=tuple(sorted(Path(rel) for rel in files if rel.endswith(".h"))),
        source_bytes=source_bytes,
        model_sha256=sha,
        generator=generator,
        files={rel: len(data) for rel, data in files.items()},
    )


def _write_tree(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` to a temporary directory beside ``out_dir``, then swap it into place."""
    tmp = out_dir.with_name(f".{out_dir.name}.partial")
    old = out_dir.with_name(f".{out_dir.name}.old")
    for stale in (tmp, old):
        shutil.rmtree(stale, ignore_errors=True)
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
