"""`invoke compress`: the distillation loss, a QAT candidate through the generator, and a small run
of two candidates on QEMU (the trained model and one pruned, distilled, fine-tuned candidate)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.compress.distill import distillation_loss, pack_targets
from pipeline.compress.finetune import CandidateFiles, CandidateSpec, export_weights, run_candidate
from pipeline.compress.search import compress, compress_settings
from pipeline.config import load_config
from pipeline.errors import ConfigError, PipelineError
from pipeline.pipeline import QUANTIZE, ModelBuild, run_until
from tests.conftest import require_tool

TINY = Path(__file__).parent / "fixtures" / "compress_tiny" / "config.toml"


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_distillation_loss_matches_a_hand_computation() -> None:
    student = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -0.3]], np.float32)
    teacher = np.array([[3.0, 0.0, -1.0], [-0.5, 1.5, 0.0]], np.float32)
    labels = np.array([0, 2])
    t, alpha = 2.0, 0.3
    p_teacher, p_student = _softmax(teacher / t), _softmax(student / t)
    kl = np.sum(p_teacher * np.log(p_teacher / p_student), axis=1)
    cross_entropy = -np.log(_softmax(student)[np.arange(2), labels])
    expected = np.mean(alpha * t * t * kl + (1 - alpha) * cross_entropy)
    got = float(distillation_loss(t, alpha)(pack_targets(labels, teacher), student))
    assert got == pytest.approx(expected, rel=1e-5)
    only_labels = float(distillation_loss(t, 0.0)(pack_targets(labels, teacher), student))
    assert only_labels == pytest.approx(np.mean(cross_entropy), rel=1e-5)


def _tiny(tmp_path: Path, **budgets: float) -> ModelBuild:
    cfg = load_config(TINY)
    if budgets:
        cfg = replace(cfg, budgets=budgets)
    return ModelBuild(cfg, out_dir=tmp_path / "compress_tiny")


def test_a_bad_compress_section_is_refused_naming_the_file(tmp_path: Path) -> None:
    b = _tiny(tmp_path)
    bad = replace(b.cfg, raw={**b.cfg.raw, "compress": {**b.cfg.raw["compress"], "ratios": [0.5, 1.0]}})
    with pytest.raises(ConfigError, match=r"config\.toml: \[compress\] ratios = \[0\.5, 1\.0\]: each must be in"):
        compress_settings(ModelBuild(bad, out_dir=b.out_dir))
    bad = replace(b.cfg, raw={**b.cfg.raw, "compress": {**b.cfg.raw["compress"], "methods": ["gamma"]}})
    with pytest.raises(ConfigError, match=r"\[compress\] methods: unknown \['gamma'\]"):
        compress_settings(ModelBuild(bad, out_dir=b.out_dir))


TF_KERAS_CANDIDATES = {
    "qat": CandidateSpec("qat", 0.5, "bn_gamma", True, False, 2, 0.005, 32, 4.0, 0.5, 7, 100),
    "magnitude": CandidateSpec("magnitude", 0.6, "magnitude", False, False, 2, 0.005, 32, 4.0, 0.5, 7, 100),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", TF_KERAS_CANDIDATES)
def test_a_tfmot_candidate_converts_to_int8_the_generator_runs_bit_exact(kind: str, tmp_path: Path) -> None:
    """QAT (fake-quantized fine-tuning) and magnitude pruning run on tf-keras in their own child."""
    from pipeline.codegen.generator import generate
    from pipeline.emulators.hostrun import compile_host, run_host
    from pipeline.tflite.reader import read_model

    require_tool("gcc", "sudo apt-get install gcc")
    b = _tiny(tmp_path)
    run_until(b, "train")
    export_weights(b.dir / "model.keras", b.dir / "weights.npz")
    out = tmp_path / kind
    assert b.cfg.architecture is not None
    files = CandidateFiles(b.cfg.architecture, b.dir / "model.keras", b.dir / "weights.npz", b.dir / "dataset.npz",
                           out / f"{kind}.tflite", out / "candidate.json", out / "reference.npz")
    summary = run_candidate(TF_KERAS_CANDIDATES[kind], files)
    assert summary["keras"] == "tf-keras"
    if kind == "qat":
        assert "QuantizeWrapperV2" in summary["layers"], summary["layers"]  # fine-tuned through tfmot's fake quant
    else:
        assert summary["sparsity"] >= 0.55 and not summary["filters"], summary  # zeros, no channel removed
    data = np.load(files.reference)
    inputs = data["inputs"].reshape(len(data["inputs"]), -1)
    generated = generate(read_model(files.tflite), out / "gen", kind, inputs[:2])
    ours = run_host(compile_host(out / "gen", out / "host"), inputs, generated.output_size, out)
    assert np.array_equal(ours, data["tflm"].reshape(len(inputs), -1)), "generated C differs from TFLM"
    assert summary["int8_accuracy"] > 0.5


@pytest.mark.qemu
@pytest.mark.toolchain
@pytest.mark.slow
def test_compress_measures_two_candidates_on_qemu_and_chooses_the_pruned_one(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    require_tool("qemu-system-arm", "sudo apt-get install qemu-system-arm")
    require_tool("arm-none-eabi-gcc", "sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
    b = _tiny(tmp_path)
    result = compress(b, "qemu")
    assert [r["name"] for r in result.candidates] == ["unpruned", "r0.50-bn_gamma-ptq-kd"]
    unpruned, pruned = result.candidates
    for row in result.candidates:
        assert row["bit_exact_matched"] == row["bit_exact_total"] == 180, row
    for figure in ("model_bytes", "flash_bytes", "arena_bytes", "macs", "instructions_per_inference",
                   "estimated_cycles_per_inference"):
        assert pruned[figure] < unpruned[figure], figure
    assert unpruned["model_bytes"] > 1400 >= pruned["model_bytes"]  # the budget separates them
    assert result.chosen == "r0.50-bn_gamma-ptq-kd" and result.chosen_tflite.is_file()
    written = json.loads(result.json_path.read_text())
    assert written["chosen"] == result.chosen and len(written["candidates"]) == 2
    assert result.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The quantize stage of the pipeline's graph takes the chosen candidate (the search reused).
    quantized = run_until(b, "quantize", "qemu").of(QUANTIZE)
    assert quantized.candidate == result.chosen and quantized.float_accuracy == pruned["float_accuracy"]
    assert b.tflite.read_bytes() == result.chosen_tflite.read_bytes()

    capfd.readouterr()
    impossible = _tiny(tmp_path, max_model_bytes=100, min_int8_accuracy=0.5)
    with pytest.raises(PipelineError, match="no candidate of compress_tiny meets every budget"):
        compress(impossible, "qemu")
    rerun = capfd.readouterr().out
    # Other budgets change the firmware's stack (a build, a boot); the trained candidates stay.
    assert rerun.count("[candidate] reused") == 2, f"an unchanged rerun must reuse every candidate:\n{rerun}"
    assert "[train] running" not in rerun and "[candidate] running" not in rerun, rerun
    assert "[compress-weights] reused" in rerun, rerun
    rows = json.loads(result.json_path.read_text())["candidates"]
    assert all(r["failed_budgets"][0].startswith("model_bytes") and "> max_model_bytes 100" in r["failed_budgets"][0]
               for r in rows)
