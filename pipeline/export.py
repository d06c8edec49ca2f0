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
      README.md                  what is inside, the API, CMake / Make use, provenance
      export.json                the manifest: kernels, files, model sha256, generator

Kernels are found from the calls in ``model.c`` (cross-checked with ``codegen.json``) and
followed through the kernel sources' own calls and ``#include "..."`` lines; with
``kernels="dsp"`` a kernel of ``firmware/kernels/arm/`` replaces the portable file of the
same name, as in the firmware build. No test vectors and no harness are exported.

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

import pipeline
from pipeline.config import ROOT
from pipeline.errors import PipelineError, StageError
from pipeline.fileutil import sha256_file
from pipeline.pipeline import ModelBuild

KERNELS_DIR = ROOT / "firmware" / "kernels"
KERNEL_INCLUDE_DIR = KERNELS_DIR / "include"
ARM_KERNELS_DIR = KERNELS_DIR / "arm"
NUMERIC_CONTRACT = ROOT / "docs" / "numeric-contract.md"
KERNEL_SETS = ("portable", "dsp")
MANIFEST = "export.json"

# model.h must define these for the public header (a model.h from an older generator may not).
_MODEL_H_NAMES = (
    "TC_MODEL_NAME", "TC_MODEL_INPUT_SIZE", "TC_MODEL_OUTPUT_SIZE", "TC_MODEL_ARENA_BYTES",
    "TC_MODEL_INPUT_TYPE", "TC_MODEL_OUTPUT_TYPE", "TC_MODEL_INPUT_SCALE", "TC_MODEL_INPUT_ZERO_POINT",
    "TC_MODEL_OUTPUT_SCALE", "TC_MODEL_OUTPUT_ZERO_POINT", "tc_model_input", "tc_model_output",
    "tc_model_invoke",
)  # fmt: skip
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_CALL = re.compile(r"\b(tc_\w+)\s*\(")
_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
# A function definition's head at the start of a line: return type, then the name and '('.
_DEF_HEAD = re.compile(r"^(?!static\b|extern\b|typedef\b|#)[A-Za-z_][\w \t*]*?\b(tc_\w+)\s*\(", re.M)
_BANNER_SHA = re.compile(r"sha256 ([0-9a-f]{8,64})")


@dataclass(frozen=True)
class ExportResult:
    """What ``export_library`` wrote."""

    out_dir: Path
    header: Path  # include/tinyml_<model>.h
    target: str  # the CMake library target, tinyml_<model>
    kernel_set: str  # portable or dsp
    kernels: tuple[str, ...]  # tc_* kernel functions model.c calls, sorted
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


def _code(path: Path) -> str:
    return _COMMENT.sub(" ", path.read_text())


def _defined_functions(path: Path) -> set[str]:
    """Names of the non-static tc_* functions ``path`` defines (a head followed by '{' before ';')."""
    text = _code(path)
    names = set()
    for m in _DEF_HEAD.finditer(text):
        close = text.find(")", m.end())
        brace, semi = text.find("{", close), text.find(";", close)
        if close != -1 and brace != -1 and (semi == -1 or brace < semi):
            names.add(m.group(1))
    return names


def _kernel_files(kernel_set: str) -> dict[str, Path]:
    """Kernel function -> the .c file defining it in this kernel set (arm/ replaces same-named files)."""
    files = {p.name: p for p in sorted(KERNELS_DIR.glob("*.c"))}
    if kernel_set == "dsp":
        files.update({p.name: p for p in sorted(ARM_KERNELS_DIR.glob("*.c"))})
    index: dict[str, Path] = {}
    for path in files.values():
        for fn in _defined_functions(path):
            if fn in index:
                raise StageError(f"{fn} is defined in both {index[fn]} and {path}")
            index[fn] = path
    return index


def _resolve_include(name: str, including: Path, model_dir: Path) -> Path | None:
    """A quoted include as the firmware build resolves it: beside the file, then the include dirs."""
    for directory in (including.parent, KERNEL_INCLUDE_DIR, model_dir):
        if (directory / name).is_file():
            return directory / name
    return None


def _used_kernels(model_c: Path, codegen_json: Path, index: dict[str, Path]) -> set[str]:
    calls = {fn for fn in _CALL.findall(_code(model_c)) if fn in index}
    listed = {layer["kernel"] for layer in json.loads(codegen_json.read_text())["layers"] if layer["kernel"]}
    unknown = sorted(listed - set(index))
    if unknown:
        raise StageError(f"{codegen_json} names kernels no kernel source defines: {', '.join(unknown)}")
    missing = sorted(listed - calls)
    if missing:
        raise StageError(f"{codegen_json} lists {', '.join(missing)} but {model_c} does not call them: rerun codegen")
    return calls


def _closure(model_c: Path, model_dir: Path, index: dict[str, Path]) -> tuple[list[Path], list[Path]]:
    """The .c files and quoted headers needed by model.c: kernels it calls, what they call and include."""
    sources: list[Path] = [model_c]
    headers: list[Path] = []
    todo = [model_c]
    while todo:
        path = todo.pop()
        text = path.read_text()
        # Calls are followed in .c files only: tc_kernels.h declares every kernel, which is no call.
        calls = _CALL.findall(_COMMENT.sub(" ", text)) if path.suffix == ".c" else []
        deps: list[Path] = [index[fn] for fn in calls if fn in index]
        for name in _INCLUDE.findall(text):
            found = _resolve_include(name, path, model_dir)
            if found is None:
                raise StageError(f'{path}: #include "{name}" not found beside it nor in {KERNEL_INCLUDE_DIR}')
            deps.append(found)
        for dep in deps:
            bucket = headers if dep.suffix == ".h" else sources
            if dep not in bucket:
                bucket.append(dep)
                todo.append(dep)
    return sources, headers


def _model_sha256(build: ModelBuild, model_c: Path) -> str:
    """The .tflite's sha256, checked against the short hash in model.c's banner."""
    if not build.tflite.is_file():
        raise StageError(f"{build.tflite} not found: run the quantize stage first")
    digest = sha256_file(build.tflite)
    banner = _BANNER_SHA.search(model_c.read_text().split("\n", 1)[0])
    if banner and not digest.startswith(banner.group(1)):
        raise StageError(f"{model_c} was generated from another model (sha256 {banner.group(1)}): rerun codegen")
    return digest


def _c_dims(shape: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(d) for d in shape) + "}"


def _public_header(ident: str, build: ModelBuild, sha: str, generator: str, kernel_set: str) -> str:
    from pipeline.tflite.reader import read_model

    model = read_model(build.tflite)
    inp, out = model.tensor(model.inputs[0]), model.tensor(model.outputs[0])
    guard = f"TINYML_{ident.upper()}_H"
    return f"""\
/*
 * tinyml_{ident}.h: the {build.name} model as a C library.
 * Exported by {generator} from {build.tflite.name} (sha256 {sha}),
 * kernels: {kernel_set}. Do not edit: export again instead.
 *
 * API (declared in model.h, included below):
 *
 *   TC_MODEL_INPUT_TYPE *tc_model_input(void);         the input buffer, TC_MODEL_INPUT_SIZE values
 *   const TC_MODEL_OUTPUT_TYPE *tc_model_output(void);  the output buffer, TC_MODEL_OUTPUT_SIZE values
 *   void tc_model_invoke(void);                         run one inference
 *
 *     memcpy(tc_model_input(), my_input, TC_MODEL_INPUT_BYTES);
 *     tc_model_invoke();
 *     const TC_MODEL_OUTPUT_TYPE *scores = tc_model_output();
 *
 * No initialization is needed (today): all memory is one static arena of
 * TC_MODEL_ARENA_BYTES in .bss, weights are const (flash). No heap, no globals
 * to set up, no OS. The input and output buffers live in that arena: write the
 * input right before tc_model_invoke(), read the output before the next one
 * (the next inference overwrites both). Not reentrant: one inference at a time.
 *
 * Quantization: real = scale * (q - zero_point), with TC_MODEL_INPUT_SCALE /
 * TC_MODEL_INPUT_ZERO_POINT for the input and TC_MODEL_OUTPUT_SCALE /
 * TC_MODEL_OUTPUT_ZERO_POINT for the output. The outputs equal TFLM's int8
 * reference bit for bit (tinyml-ci docs/numeric-contract.md).
 *
 * Symbols: every symbol is prefixed tc_, so one exported model per image.
 * Do not define TC_PROFILE (a tinyml-ci profiling hook) when compiling model.c.
 */
#ifndef {guard}
#define {guard}

#include <stddef.h>

#ifdef __cplusplus
extern "C" {{
#endif

#include "model.h" /* TC_MODEL_* sizes and quantization; tc_model_input/output/invoke */

#ifdef __cplusplus
}}
#endif

/* Provenance. */
#define TC_MODEL_SHA256 "{sha}"
#define TC_MODEL_GENERATOR "{generator}"
#define TC_MODEL_KERNELS "{kernel_set}"

/* Shapes (batch first, NHWC): e.g. static const int32_t dims[] = TC_MODEL_INPUT_DIMS; */
#define TC_MODEL_INPUT_RANK {len(inp.shape)}
#define TC_MODEL_INPUT_DIMS {_c_dims(inp.shape)}
#define TC_MODEL_OUTPUT_RANK {len(out.shape)}
#define TC_MODEL_OUTPUT_DIMS {_c_dims(out.shape)}

/* Sizes in bytes of the input and output buffers. */
#define TC_MODEL_INPUT_BYTES (TC_MODEL_INPUT_SIZE * sizeof(TC_MODEL_INPUT_TYPE))
#define TC_MODEL_OUTPUT_BYTES (TC_MODEL_OUTPUT_SIZE * sizeof(TC_MODEL_OUTPUT_TYPE))

#endif /* {guard} */
"""


def _cmakelists(target: str, generator: str, sources: list[str]) -> str:
    listed = "\n".join(f"  {s}" for s in sources)
    return f"""\
# {target}: the exported model as a static library. Generated by {generator}; do not edit.
#
#   add_subdirectory(path/to/this/dir {target})
#   target_link_libraries(my_firmware PRIVATE {target})
#
# Compile flags (CPU, optimization) come from your project or toolchain file.
cmake_minimum_required(VERSION 3.13)
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR)
  project({target} LANGUAGES C)
endif()

add_library({target} STATIC
{listed}
)
target_include_directories({target}
  PUBLIC ${{CMAKE_CURRENT_SOURCE_DIR}}/include
  PRIVATE ${{CMAKE_CURRENT_SOURCE_DIR}}/src
)
target_compile_features({target} PRIVATE c_std_11)
"""


def _readme(
    ident: str, build: ModelBuild, out_dir: Path, sha: str, generator: str, kernel_set: str,
    kernels: list[str], sources: list[str], source_bytes: int,
) -> str:  # fmt: skip
    target = f"tinyml_{ident}"
    contract = Path(os.path.relpath(NUMERIC_CONTRACT, out_dir))
    dsp_note = (
        "The `dsp` kernels use the Armv7E-M DSP instructions (ACLE `__sxtab16`, `__smlad`): compile them for a "
        "core that has them (Cortex-M4, M7, M33/M55 with DSP), e.g. `-mcpu=cortex-m4`.\n"
        if kernel_set == "dsp"
        else "The `portable` kernels are plain C11 and build for any target.\n"
    )
    files = "\n".join(f"- `{s}`" for s in sources)
    return f"""\
# {target}

The `{build.name}` model as a self-contained C library: the generated model (weights as `const` arrays, one
kernel call per layer, one static arena) and only the kernels it calls ({", ".join(f"`{k}`" for k in kernels)}),
`{kernel_set}` kernel set. No test vectors, no harness, no heap, no initialization.

| what | where |
|---|---|
| public header | `include/tinyml_{ident}.h` (includes the generated `include/model.h`) |
| sources | `src/` ({len(sources)} `.c` files, {source_bytes:,} bytes of C with the headers) |
| CMake | `CMakeLists.txt`: static library target `{target}` |
| other build systems | `sources.txt` (`.c` files), `include_dirs.txt` (include directories), relative to here |
| manifest | `export.json` |

## API

```c
#include "tinyml_{ident}.h"

memcpy(tc_model_input(), my_input, TC_MODEL_INPUT_BYTES);   /* TC_MODEL_INPUT_SIZE values */
tc_model_invoke();                                            /* one inference */
const TC_MODEL_OUTPUT_TYPE *out = tc_model_output();          /* TC_MODEL_OUTPUT_SIZE values */
```

- Shapes: `TC_MODEL_INPUT_DIMS` / `TC_MODEL_OUTPUT_DIMS` (initializers), `TC_MODEL_INPUT_RANK` / `..._OUTPUT_RANK`.
- Sizes: `TC_MODEL_INPUT_SIZE` / `TC_MODEL_OUTPUT_SIZE` (elements), `TC_MODEL_INPUT_BYTES` / `..._OUTPUT_BYTES`,
  `TC_MODEL_ARENA_BYTES` (static activation memory, in `.bss`).
- Quantization: `real = scale * (q - zero_point)` with `TC_MODEL_INPUT_SCALE`, `TC_MODEL_INPUT_ZERO_POINT`,
  `TC_MODEL_OUTPUT_SCALE`, `TC_MODEL_OUTPUT_ZERO_POINT`.
- No init function is needed today. The input and output buffers are inside the arena: write the input right
  before `tc_model_invoke()`, read the output before the next call. One inference at a time (not reentrant).
- Every symbol is prefixed `tc_`: one exported model per firmware image.

## Adding it to your build

CMake:

```cmake
add_subdirectory(path/to/{out_dir.name} {target})
target_link_libraries(my_firmware PRIVATE {target})
```

Make (paths in the lists are relative to this directory):

```make
TINYML := path/to/{out_dir.name}
SRCS   += $(addprefix $(TINYML)/,$(shell cat $(TINYML)/sources.txt))
CFLAGS += $(addprefix -I$(TINYML)/,$(shell cat $(TINYML)/include_dirs.txt)) -std=c11
```

{dsp_note}
## Numeric contract

The outputs equal those of TFLM's int8 reference interpreter bit for bit (tinyml-ci checks this on the
emulated Cortex-M4): see `docs/numeric-contract.md` in tinyml-ci ([here]({contract.as_posix()}) when this
export sits in its build directory).

## Provenance

- model: `{build.tflite.name}`, sha256 `{sha}`
- generator: {generator}
- kernels: `{kernel_set}`

Files:

{files}
"""


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
    model_h_text = _code(model_h)
    absent = [n for n in _MODEL_H_NAMES if not re.search(rf"\b{n}\b", model_h_text)]
    if absent:
        raise StageError(f"{model_h} does not define {', '.join(absent)}: rerun codegen")
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)

    index = _kernel_files(kernels)
    used = sorted(_used_kernels(model_c, codegen_json, index))
    sources, headers = _closure(model_c, model_dir, index)
    headers = [h for h in headers if h != model_h]
    sha = _model_sha256(build, model_c)
    generator = f"tinyml-ci {pipeline.__version__}"
    ident = c_identifier(build.name)
    target = f"tinyml_{ident}"

    files: dict[str, bytes] = {"include/model.h": model_h.read_bytes()}
    for path in sources + headers:
        rel = f"src/{path.name}"
        if rel in files:
            raise StageError(f"two files would be exported as {rel}: {path} and another")
        files[rel] = path.read_bytes()
    files[f"include/{target}.h"] = _public_header(ident, build, sha, generator, kernels).encode()
    c_files = sorted(rel for rel in files if rel.endswith(".c"))
    source_bytes = sum(len(data) for rel, data in files.items() if rel.endswith((".c", ".h")))
    files["CMakeLists.txt"] = _cmakelists(target, generator, c_files).encode()
    files["sources.txt"] = "".join(f"{s}\n" for s in c_files).encode()
    files["include_dirs.txt"] = b"include\nsrc\n"
    files["README.md"] = _readme(ident, build, out_dir, sha, generator, kernels, used, c_files, source_bytes).encode()
    manifest = {
        "model": build.name,
        "target": target,
        "kernel_set": kernels,
        "kernels": used,
        "kernel_sources": {f"src/{p.name}": str(p.relative_to(ROOT)) for p in sources[1:] + headers},
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
