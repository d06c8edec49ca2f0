"""The cycle model against micro-benchmarks whose counts are derived by hand (docs/cycle-model.md).

tests/cycle_bench/bench.S is built with arm-none-eabi-gcc and run in QEMU with the plugin once
per benchmark. Every expected figure below is worked out from the rules (C1.., M1..) in a
comment; none is read from the code under test. A region is the BL at the call site (1 + P)
through the function's return (BX LR or POP {.., PC}: + P), so each count includes 1 + P for
the call. P = 2 and SDIV = 12 (the model's defaults) unless a test says otherwise.

The core benchmarks run with 0 wait states (no flash stall at all, M0); the flash ones with 5.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import StageError
from pipeline.stages.cycles import CallCycles, CycleMark, CycleParams, estimate_cycles, parse_records
from pipeline.stages.thumb_timing import LOAD, MEM, PLAIN, STORE, base_mnemonic, classify

BENCH = Path(__file__).parent / "cycle_bench"
CORE = CycleParams(flash_wait_states=0)
CALL = 1 + 2  # the BL into the benchmark: 1 + P
RETURN = 1 + 2  # BX LR: 1 + P


@pytest.fixture(scope="module")
def bench_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None or shutil.which("qemu-system-arm") is None:
        pytest.fail("the cycle micro-benchmarks need arm-none-eabi-gcc and qemu-system-arm (./scripts/setup.sh)")
    elf = tmp_path_factory.mktemp("cycle_bench") / "bench.elf"
    subprocess.run([gcc, "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-T", str(BENCH / "bench.ld"),
                    str(BENCH / "bench.S"), "-o", str(elf)], check=True)
    return elf


def run(elf: Path, function: str, params: CycleParams = CORE) -> CallCycles:
    est = estimate_cycles(elf, function, params, elf.parent / f"{function}-{abs(hash(params))}")
    assert len(est.calls) == 1
    return est.calls[0]


def test_alu_loop_with_taken_and_untaken_branches(bench_elf: Path) -> None:
    # movs, movs: 2 (C1). 10 iterations of adds, eors, subs (3, C1) and bne: taken 9 times
    # (1 + P = 3, C2), not taken once (1).
    body = 2 + 9 * (3 + 3) + (3 + 1)
    assert run(bench_elf, "bench_alu") == CallCycles(1 + 2 + 40 + 1, CALL + body + RETURN, 0)


def test_load_chain_is_not_pipelined(bench_elf: Path) -> None:
    # ldr r0, =chain: 2 (C4, after a branch). Four ldr r0, [r0]: each address is the previous
    # load's result, so none pipelines (C4): 2 each. A load result is no ALU result: no C5 stall.
    body = 2 + 4 * 2
    assert run(bench_elf, "bench_load_chain") == CallCycles(1 + 5 + 1, CALL + body + RETURN, 0)


def test_load_store_pairing(bench_elf: Path) -> None:
    # ldr r3, =lit 2 | movs r0 1 | str r0, [r3] 2 (after an ALU op; r0 is data, not address)
    # | ldr r1, [r3] 2 (nothing pipelines after a store, C4) | str r1, [r3, #4] 1 (after a load
    # whose result is not the address, C4) | adds r3, #8 1 | ldr r2, [r3] 2 + 1 (address from the
    # ALU op just before, C5) | ldr r0, [r3], #4 1 (pipelined) | ldr r1, [r3] 2 (the load before
    # updated its base: reading "a base-update load is not pipelined with the next", C4).
    # Reading chosen for STR: table 3-1's 2 cycles, 1 only when pipelined after a load (not
    # "STR Rx,[Ry,#imm] is always one cycle").
    body = 2 + 1 + 2 + 2 + 1 + 1 + 3 + 1 + 2
    assert run(bench_elf, "bench_load_store") == CallCycles(1 + 9 + 1, CALL + body + RETURN, 0)


def test_ldm_of_one_to_eight_registers(bench_elf: Path) -> None:
    # ldr r0, =lit 2, then LDM of N = 1..8 registers: 1 + N each (C4; the assembler writes the
    # one-register LDM as ldr r1, [r0], which costs 2 = 1 + 1 as well: not pipelined, its
    # address being the previous load's result).
    body = 2 + sum(1 + n for n in range(1, 9))
    assert run(bench_elf, "bench_ldm") == CallCycles(1 + 9 + 1, CALL + body + RETURN, 0)


def test_push_and_a_pop_that_returns(bench_elf: Path) -> None:
    # push {r4-r7, lr}: 1 + 5; pop {r4-r7, pc}: 1 + 5 + P (C2, C4); the POP ends the region.
    assert run(bench_elf, "bench_push_pop") == CallCycles(3, CALL + 6 + 8, 0)


def test_smlad_with_post_indexed_loads(bench_elf: Path) -> None:
    # ldr r0, =lit 2, movs, movs 2; 4 iterations of ldr r2, [r0], #4 (2), ldr r3, [r0], #4
    # (2: the previous load updated its base, C4), smlad 1 (C1), subs 1, bne 3 taken / 1.
    body = 2 + 2 + 3 * (6 + 3) + (6 + 1)
    assert run(bench_elf, "bench_smlad") == CallCycles(1 + 3 + 20 + 1, CALL + body + RETURN, 0)


@pytest.mark.parametrize("divide", [12, 2])
def test_divide_takes_the_chosen_fixed_value(bench_elf: Path, divide: int) -> None:
    # movs, movs 2; sdiv and udiv: the run's fixed divide cycles each (C3).
    got = run(bench_elf, "bench_divide", CycleParams(flash_wait_states=0, divide_cycles=divide))
    assert got == CallCycles(1 + 4 + 1, CALL + 2 + 2 * divide + RETURN, 0)


# Flash at 5 wait states. The BL's line and the benchmark's first line are cold and not
# sequential (M5: 5 each); the benchmark's code lies in one line for bench_flash_data.
@pytest.mark.parametrize(("art", "data_misses"), [(True, 4), (False, 16)])
def test_flash_data_stream(bench_elf: Path, art: bool, data_misses: int) -> None:
    # ldr r0, =table: 2 + its literal, a flash read missing the D-cache (M6): 5. movs, movs 2.
    # 16 x (ldmia r0!, {r3} 2, adds 1, subs 1, bne 3 / 1), and each 16-byte line of the table
    # misses once with the ART's D-cache (4 lines), every word without it (16): 5 each (M6).
    core = CALL + 2 + 2 + 15 * 7 + 5 + RETURN
    stall = 5 + 5 + 5 + 5 * data_misses
    got = run(bench_elf, "bench_flash_data", CycleParams(art=art))
    assert got == CallCycles(1 + 3 + 64 + 1, core + stall, stall)


@pytest.mark.parametrize(("art", "prefetch", "line_misses"), [(True, True, 2), (False, True, 5), (False, False, 14)])
def test_flash_code_loop(bench_elf: Path, art: bool, prefetch: bool, line_misses: int) -> None:
    # movs + 7 nops (line 0), then 4 iterations over lines 1-3: 8 adds | 7 adds, subs | bne, then
    # bx lr. Core: 8 + 4 x (16 + bne) with bne 3 taken, 1 not (C1, C2).
    # Line fetches, 5 cycles each when missed: each line takes 8 cycles to run, more than the
    # 5 its prefetch needs, so a sequential line with prefetch is free (M4). ART on: the BL's
    # line and line 0 miss, lines 1-3 come from prefetch, then the I-cache (M3): 2 misses.
    # ART off, prefetch on: the branch back to line 1 misses in iterations 2-4 as well: 5.
    # Neither: every line change misses: the BL's, line 0, and 3 per iteration: 14.
    core = CALL + 8 + 3 * (16 + 3) + (16 + 1) + RETURN
    stall = 5 * line_misses
    got = run(bench_elf, "bench_flash_code", CycleParams(art=art, prefetch=prefetch))
    assert got == CallCycles(1 + 8 + 4 * 17 + 1, core + stall, stall)


@pytest.mark.parametrize(("mnemonic", "base"), [("bls", "b"), ("blt", "b"), ("bleq", "bl"), ("bics", "bics"),
                                                ("mls", "mls"), ("ldrhi", "ldr"), ("ldrhne.w", "ldrh"),
                                                ("teq", "teq"), ("teqne", "teq"), ("popgt", "pop")])
def test_condition_suffixes_are_split_only_where_the_stem_is_special(mnemonic: str, base: str) -> None:
    assert base_mnemonic(mnemonic) == base


def test_classification_of_memory_forms() -> None:
    post = classify(0x100, 4, "ldr.w", "r4, [sp], #4")
    assert (post.kind, post.base, post.writes, post.addr_regs) == (LOAD, 2, 1 << 4 | 1 << 13, 1 << 13)
    strd = classify(0x100, 4, "strd", "r2, r3, [r0, #8]")
    assert (strd.kind, strd.base, strd.writes) == (MEM, 3, 0)
    vpush = classify(0x100, 4, "vpush", "{d8-d9}")
    assert (vpush.kind, vpush.base) == (MEM, 1 + 4)
    store = classify(0x100, 2, "str", "r1, [r0, r2]")
    assert (store.kind, store.addr_regs) == (STORE, 1 << 0 | 1 << 2)
    assert classify(0x100, 4, "vfma.f32", "s0, s1, s2").base == 3
    assert classify(0x100, 4, "smlal", "r0, r1, r2, r3").writes == 0b11
    assert classify(0x100, 2, "cmp", "r3, #0").kind == PLAIN and classify(0x100, 2, "cmp", "r3, #0").writes == 0


def test_records_group_marks_into_their_call_and_refuse_unknown_code() -> None:
    text = ("MARK 0 instructions=5 cycles=9 flash_stall=1 handler=0 unknown=0\n"
            "CALL 0 instructions=8 cycles=15 flash_stall=2 handler=5 unknown=0\n"
            "CALL 1 instructions=7 cycles=12 flash_stall=0 handler=0 unknown=0\n")
    first, second = parse_records(text)
    assert first == CallCycles(8, 15, 2, 5, (CycleMark(5, 9, 1),))
    assert second == CallCycles(7, 12, 0, 0, ())
    with pytest.raises(StageError, match="did not disassemble"):
        parse_records("CALL 0 instructions=8 cycles=15 flash_stall=2 handler=0 unknown=3\n")


def test_a_function_missing_from_the_elf_is_named(bench_elf: Path) -> None:
    with pytest.raises(StageError, match="no function named 'bench_nothing'"):
        estimate_cycles(bench_elf, "bench_nothing", CORE, bench_elf.parent / "missing")


PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-tflm"


@pytest.mark.qemu
def test_the_call_region_matches_the_peer_firmwares_own_counter() -> None:
    """../shared/peer-tflm/README: digits, 196,344 instructions per Invoke by its SysTick counter (no wrap
    in 196 k instructions). Its cc_start/cc_stop region also holds the two caller instructions around the
    BL (``add r0, sp, #104`` before, ``mov r5, r0`` after, objdump of digits.elf): ours is 2 fewer."""
    if not (PEER / "digits.elf").is_file():
        pytest.skip(f"no peer firmwares in {PEER}")
    est = estimate_cycles(PEER / "digits.elf", (PEER / "digits.symbol").read_text().strip())
    assert est.instructions_per_call == 196_344 - 2
