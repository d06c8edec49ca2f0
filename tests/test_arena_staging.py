"""Filter staging into the arena (pipeline/codegen/generator.stage_in_free_arena): a CONV_2D's filter
is copied to SRAM only into arena bytes free during its layer, or up to a model's arena_limit_bytes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.codegen.arena import ArenaPlan, Buffer, free_span
from pipeline.codegen.generator import generate, lower_model, plan_model_arena
from pipeline.tflite.reader import read_model
from tests.conftest import MLPERF_DIR

KWS = MLPERF_DIR / "kws_ref_model.tflite"


def _plan(*buffers: Buffer) -> ArenaPlan:
    return ArenaPlan(max(b.offset + b.size for b in buffers), {}, {}, buffers)


def test_free_span_is_the_largest_gap_among_the_buffers_live_during_the_layer() -> None:
    plan = _plan(Buffer("t0", 100, 0, 1, 0), Buffer("t1", 40, 1, 2, 200), Buffer("t2", 500, 3, 4, 0),
                 Buffer("scratch1", 16, 1, 1, 104))
    assert free_span(plan, 1, 240) == (104, 96)  # between t0 and t1; its own scratch does not count
    assert free_span(plan, 1, 400) == (240, 160)  # the limit opens room past the last buffer
    assert free_span(plan, 3, 500) == (0, 0)  # t2 fills it


def _staged_channels(generated: Path) -> list[int]:
    return [int(m) for m in re.findall(r"\.staged_channels = (\d+),", (generated / "model.c").read_text())]


@pytest.mark.parametrize("limit", [None, 22528])
def test_staging_never_grows_the_arena_past_its_plan_or_the_limit(tmp_path: Path, limit: int | None) -> None:
    model = read_model(KWS)
    unstaged = plan_model_arena(model, lower_model(model)).size
    result = generate(model, tmp_path / "gen", "kws", np.zeros((1, 490), np.int8), limit)
    staged = _staged_channels(tmp_path / "gen")
    assert len(staged) == 5  # kws's CONV_2D layers (the first, four 1x1), in their DSP calls
    if limit is None:
        assert result.arena_bytes == unstaged
    else:
        assert unstaged < result.arena_bytes <= limit and sum(staged) > 0, (unstaged, result.arena_bytes, staged)
