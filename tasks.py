"""Invoke tasks: thin wiring; each task calls one function of the pipeline package.

    invoke all                 # train -> quantize -> codegen -> build -> simulate -> test-firmware
    invoke test                # the whole test suite (pytest, then the Robot suite in QEMU)
    invoke --list              # everything else
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from invoke import Exit, task

from pipeline import entry

MODEL_HELP = {
    "model": "model name in models/ (default: digits)",
    "emulator": "qemu or renode (default: renode if installed, else qemu)",
    "tflite": "bring your own int8 .tflite instead of a model in models/",
    "inputs": "with --tflite: .npy of int8 inputs (default: 20 random vectors)",
    "config": "with --tflite: TOML config with [budgets]",
    "board": "board in firmware/boards/ (default: the model's [model] board, else stm32f407)",
}


def _help(*keys: str) -> dict[str, str]:
    return {k: MODEL_HELP[k] for k in keys}


BYO = ("model", "tflite", "inputs", "config", "board")


def _reported(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's own errors into a clean message and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except entry.PipelineError as err:
            raise Exit(f"error: {err}", code=1) from None

    return wrapper


def _build(model: str, tflite: str | None, inputs: str | None, config: str | None,
           board: str | None) -> entry.ModelBuild:
    return entry.model_build(model, Path(tflite) if tflite else None, Path(inputs) if inputs else None,
                             Path(config) if config else None, board)


@task(help=_help(*BYO, "emulator"))
@_reported
def all(c, model="digits", emulator=None, tflite=None, inputs=None, config=None, board=None):
    """Run every stage for a model and the Robot suite; print the budget table."""
    if not entry.run_all(_build(model, tflite, inputs, config, board), emulator)["passed"]:
        raise Exit("one or more checks failed (see the table above)", code=1)


@task(help=_help("model"))
@_reported
def train(c, model="digits"):
    """Train the model's Keras architecture (reused when unchanged; the same for every board)."""
    entry.run_until(_build(model, None, None, None, None), "train")


@task(help=_help(*BYO))
@_reported
def quantize(c, model="digits", tflite=None, inputs=None, config=None, board=None):
    """Convert to int8 .tflite and record TFLM reference outputs."""
    entry.run_until(_build(model, tflite, inputs, config, board), "quantize")


@task(help=_help(*BYO))
@_reported
def codegen(c, model="digits", tflite=None, inputs=None, config=None, board=None):
    """Generate the model's C sources into build/<model>/generated/."""
    entry.run_until(_build(model, tflite, inputs, config, board), "codegen")


@task(help=_help(*BYO))
@_reported
def build(c, model="digits", tflite=None, inputs=None, config=None, board=None):
    """Build the STM32F4 firmware ELF with arm-none-eabi-gcc."""
    entry.run_until(_build(model, tflite, inputs, config, board), "build")


@task(help=_help(*BYO, "emulator"))
@_reported
def simulate(c, model="digits", emulator=None, tflite=None, inputs=None, config=None, board=None):
    """Boot the firmware in an emulator and print what it measured."""
    entry.run_until(_build(model, tflite, inputs, config, board), "simulate", emulator)


@task(name="test-firmware", help=_help(*BYO, "emulator"))
@_reported
def test_firmware(c, model="digits", emulator=None, tflite=None, inputs=None, config=None, board=None):
    """Run the Robot suite against the firmware (never cached)."""
    if not entry.run_firmware_suite(_build(model, tflite, inputs, config, board), emulator):
        raise Exit("the Robot suite failed", code=1)


@task
def graph(c):
    """Print the stage graph as Mermaid, from its declaration (docs/architecture.md shows it)."""
    print(entry.graph_mermaid())


@task(help={"fast": "only the fast tier: unit tests and generated C on the host, no firmware (< 3 min)"})
@_reported
def test(c, fast=False):
    """The whole test suite: pytest (incl. host bit-exactness, Renode parsing, linters), then Robot in QEMU."""
    if not entry.run_test_suite(fast=bool(fast)):
        raise Exit("tests failed", code=1)


@task(help={"models": "comma-separated model names in models/ (default: every model)"})
@_reported
def bench(c, models=""):
    """Instructions per inference, MACs/instruction and sizes per model -> build/bench.json, bench.md."""
    from pipeline.analyses.bench import run_bench

    run_bench([m.strip() for m in models.split(",") if m.strip()] or entry.model_names())


@task(help={"model": "model name in models/ with a [compress] section (default: digits_wide)",
            "emulator": MODEL_HELP["emulator"], "board": MODEL_HELP["board"]})
@_reported
def compress(c, model="digits_wide", emulator=None, board=None):
    """Prune, fine-tune, QAT and distil the [compress] candidates; measure each on the MCU; choose one."""
    entry.compress_model(_build(model, None, None, None, board), emulator)


@task(help={"elf": "a Cortex-M4 ELF that runs on QEMU netduinoplus2 to a DONE line",
            "function": "symbol of the timed function (mangled for C++)",
            "art": "ART caches on (default) or --no-art", "wait_states": "flash wait states (default 5)"})
@_reported
def cycles(c, elf, function, art=True, wait_states=5):
    """Estimated Cortex-M4 cycles of each call of a function (docs/cycle-model.md), at 168 MHz."""
    from pipeline.stages.cycles import CycleParams, run_cycles

    run_cycles(Path(elf), function, CycleParams(flash_wait_states=int(wait_states), art=bool(art)))


@task(help={**_help(*BYO), "emulator": "qemu (default) or renode (also writes a flame graph of one inference)"})
@_reported
def profile(c, model="digits", tflite=None, inputs=None, config=None, emulator="qemu", board=None):
    """Instructions, MACs/instruction and share per layer (TC_PROFILE build) + a bar chart."""
    from pipeline.analyses.profile import run_profile

    run_profile(_build(model, tflite, inputs, config, board), emulator)


@task(help={**_help(*BYO, "emulator"), "vector": "index of the test vector whose layers are compared (default 0)"})
@_reported
def diff(c, model="digits", vector=0, emulator=None, tflite=None, inputs=None, config=None, board=None):
    """The first layer whose output on the firmware differs from the host build of the same C (and LiteRT's)."""
    from pipeline.analyses.layer_diff import run_diff

    if not run_diff(_build(model, tflite, inputs, config, board), int(vector), emulator).equal:
        raise Exit("diff: the firmware's layers differ from the host build (see the table above)", code=1)


@task(help={"model": MODEL_HELP["model"], "out": "output directory (default: build/<model>/export/)",
            "kernels": "portable (plain C11, default) or dsp (Cortex-M4 DSP kernels where they exist)"})
@_reported
def export(c, model="digits", out=None, kernels="portable"):
    """Export the generated model and only the kernels it uses as a C library for your own firmware."""
    entry.export_model(_build(model, None, None, None, None), Path(out) if out else None, kernels)


@task
def clean(c):
    """Remove build/."""
    entry.clean()


@task(name="renode-native", help=_help("model", "board"))
@_reported
def renode_native(c, model="digits", board=None):
    """Run the Renode-native suite under renode-test with this model's ELF and budgets."""
    if not entry.run_renode_native(_build(model, None, None, None, board)):
        raise Exit("the Renode-native suite failed", code=1)


@task(help={"count": "number of mutated inputs (default 10000)", "seed": "random seed (default 1)"})
@_reported
def fuzz(c, count=10000, seed=1):
    """Fuzz the .tflite reader, validator and lowering with mutated models; fail on any finding."""
    from pipeline.analyses.fuzz import run_fuzz

    if run_fuzz(int(count), int(seed)).findings:
        raise Exit("fuzz: findings (see above)", code=1)


@task
@_reported
def ram(c):
    """Our RAM for inference (arena + scratch) next to TFLM's measured arena, for the MLPerf Tiny models."""
    from pipeline.analyses.ram import print_ram_comparison

    print_ram_comparison()


@task(name="op-tests", help={"full": "200 cases per op; also writes docs/op-coverage.md", "seed": "case seed"})
@_reported
def op_tests(c, full=False, seed=1):
    """Op-by-op bit-exactness of the generated C against TFLM, with a coverage report in build/op-tests/."""
    if entry.run_op_tests(full=bool(full), seed=int(seed)):
        raise Exit("op tests: cases differ from TFLM (see build/op-tests/op-coverage.md)", code=1)
