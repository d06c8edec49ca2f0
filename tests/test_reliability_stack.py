"""Static stack analysis: the call-graph maximum, the disassembly parser and the digits bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.analyses.stack_usage import (
    EXCEPTION_FRAME_BYTES,
    parse_disassembly,
    read_su_files,
    static_stack,
    worst_case_depth,
)
from pipeline.errors import StageError
from pipeline.pipeline import ModelBuild

FRAMES = {"main": 8, "small": 16, "big": 100, "leaf": 4, "isr": 12}
CALLS = {"main": {"small", "big"}, "small": {"leaf"}, "big": {"leaf"}, "leaf": set(), "isr": set()}


def test_worst_case_depth_takes_the_deepest_path() -> None:
    assert worst_case_depth(FRAMES, CALLS, "main") == (8 + 100 + 4, ("main", "big", "leaf"))
    assert worst_case_depth(FRAMES, CALLS, "small") == (20, ("small", "leaf"))
    assert worst_case_depth(FRAMES, CALLS, "isr") == (12, ("isr",))


def test_recursion_has_no_static_bound() -> None:
    calls = {**CALLS, "leaf": {"main"}}
    with pytest.raises(StageError, match="recursion main -> big -> leaf -> main"):
        worst_case_depth(FRAMES, calls, "main")


def test_indirect_call_on_the_path_has_no_static_bound() -> None:
    with pytest.raises(StageError, match=r"main -> big: indirect call or jump \(blx r3\)"):
        worst_case_depth(FRAMES, CALLS, "main", {"big": ["blx r3"]})
    assert worst_case_depth(FRAMES, CALLS, "small", {"big": ["blx r3"]})[0] == 20  # not reachable: fine


def test_unknown_function_is_an_error() -> None:
    with pytest.raises(StageError, match="no frame size known for ghost"):
        worst_case_depth(FRAMES, {**CALLS, "leaf": {"ghost"}}, "main")


DISASSEMBLY = """
08000100 <outer>:
 8000100:\tb530      \tpush\t{r4, r5, lr}
 8000102:\tb084      \tsub\tsp, #16
 8000104:\ted2d 8b04 \tvpush\t{d8-d9}
 8000108:\tf000 f810 \tbl\t800012c <inner>
 800010c:\tf000 b812 \tb.w\t8000134 <tail>
 8000110:\td1f6      \tbne.n\t8000100 <outer>
08000120 <inner>:
 8000120:\te92d 41f0 \tstmdb\tsp!, {r4, r5, r6, r7, r8, lr}
 8000124:\td1f6      \tbne.n\t8000122 <inner+0x2>
 8000128:\t4798      \tblx\tr3
08000134 <tail>:
 8000134:\t4770      \tbx\tlr
"""


def test_parse_disassembly_frames_calls_and_indirect_calls() -> None:
    dis = parse_disassembly(DISASSEMBLY)
    assert dis.frames == {"outer": 12 + 16 + 16, "inner": 24, "tail": 0}
    assert dis.calls == {"outer": {"inner", "tail"}, "inner": set(), "tail": set()}
    assert dis.indirect == {"inner": ["blx r3"]}


def test_parse_disassembly_reads_eight_digit_addresses() -> None:
    """objdump indents addresses shorter than 8 digits only: an ITCM at 0x10000000 (mps3-an547) has none."""
    dis = parse_disassembly("10000100 <f>:\n10000100:\tb500      \tpush\t{lr}\n"
                            "10000102:\tf000 f810 \tbl\t10000126 <g>\n10000126 <g>:\n10000126:\t4770 \tbx\tlr\n")
    assert dis.frames == {"f": 4, "g": 0}
    assert dis.calls == {"f": {"g"}, "g": set()}


def test_unbounded_dynamic_frame_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.c.su").write_text("a.c:1:6:fine\t16\tstatic\na.c:9:6:vla\t32\tdynamic\n")
    with pytest.raises(StageError, match="vla has an unbounded dynamic stack frame"):
        read_su_files(tmp_path)
    (tmp_path / "a.c.su").write_text("a.c:1:6:fine\t16\tstatic\na.c:9:6:vla\t32\tdynamic,bounded\n")
    assert read_su_files(tmp_path) == {"fine": 16, "vla": 32}


def test_digits_static_bound_is_in_the_build_result_and_consistent(digits: ModelBuild) -> None:
    report = static_stack(digits.elf, digits.firmware_dir)
    assert report.deepest_path[:3] == ("Reset_Handler", "main", "tc_model_invoke")
    assert report.invoke_bytes < report.thread_bytes
    assert report.total_bytes == (report.thread_bytes + 2 * EXCEPTION_FRAME_BYTES + report.systick_bytes
                                  + report.fault_bytes)
    sizes = json.loads((digits.dir / ".stamps" / "build.json").read_text())["result"]
    assert sizes["stack_bytes_static"] == report.total_bytes
    assert report.total_bytes <= digits.cfg.budgets["max_stack_bytes"]
