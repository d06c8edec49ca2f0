"""Static half of the cycle model: every Thumb instruction of an ELF, classified for the plugin.

``arm-none-eabi-objdump -d`` disassembles the ELF; each instruction becomes one
:class:`TimedInsn` (the plugin's ``cm_insn_t``, firmware/qemu_plugin/cycle_model.h): its
timing kind, its base cycles from the Cortex-M4 TRM (Arm 100166, table 3-1; the rule numbers
C1.. are those of docs/cycle-model.md), the core registers it writes and those its data
address is formed from. What depends on the run (taken branches, pipelining with the
previous instruction, flash wait states) is the plugin's.
"""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pipeline.errors import StageError
from pipeline.tools import ARM_BINUTILS, tool_path

# cycle_model.h: enum cm_kind and the CM_F_* flags.
PLAIN, LOAD, STORE, MEM, DIV, OTHER = range(6)
WRITES_PC, WRITEBACK, DATA_PROC, CALL, HANDLER = 0x01, 0x02, 0x04, 0x08, 0x10

CONDITIONS = frozenset(["eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt",
                        "le", "al"])
NAMES = [*(f"r{i}" for i in range(13)), "sp", "lr", "pc"]
REGISTERS = {**{name: i for i, name in enumerate(NAMES)}, "sb": 9, "sl": 10, "fp": 11, "ip": 12}
PC = 15
VECTOR_TABLE = 0x0800_0000  # the start of flash, where the STM32F4 boots from
VECTOR_COUNT = 16 + 82  # Cortex-M4 system exceptions + STM32F407 interrupts

BRANCHES = frozenset({"b", "bl", "blx", "bx", "cbz", "cbnz"})
TABLE_BRANCHES = frozenset({"tbb", "tbh"})
SINGLE_LOADS = frozenset({"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt", "ldrbt",
                          "ldrht", "ldrsbt", "ldrsht"})
SINGLE_STORES = frozenset({"str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht"})
PAIRS = frozenset({"ldrd", "strd"})
LOAD_MULTIPLE = frozenset({"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"})
STORE_MULTIPLE = frozenset({"stm", "stmia", "stmea", "stmdb", "stmfd", "push"})
FP_MEMORY = frozenset({"vldr", "vstr", "vldmia", "vldmdb", "vldm", "vstmia", "vstmdb", "vstm", "vpush", "vpop"})
DIVIDES = frozenset({"sdiv", "udiv"})
FP_MAC = frozenset({"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"})
FP_LONG = frozenset({"vdiv", "vsqrt"})
NO_CORE_RESULT = frozenset({"cmp", "cmn", "tst", "teq", "nop", "dmb", "dsb", "isb", "msr", "cpsid", "cpsie", "bkpt",
                            "svc", "udf", "wfi", "wfe", "sev", "yield", "pld", "pli", "vmsr"})
TWO_RESULTS = frozenset({"smull", "umull", "smlal", "umlal", "umaal", "smlalbb", "smlalbt", "smlaltb", "smlaltt",
                         "smlald", "smlaldx", "smlsld", "smlsldx"})
# Mnemonics timed or decoded specially: only these lose a condition suffix ("mls" is not "m" + "ls").
SPECIAL = (BRANCHES | TABLE_BRANCHES | SINGLE_LOADS | SINGLE_STORES | PAIRS | LOAD_MULTIPLE | STORE_MULTIPLE
           | FP_MEMORY | DIVIDES | FP_MAC | FP_LONG | NO_CORE_RESULT | TWO_RESULTS | {"vmov"})
FP_MAC_CYCLES = 3  # TRM FPU table: VMLA/VFMA family
FP_LONG_CYCLES = 14  # VDIV.F32, VSQRT.F32

_LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f]{4}(?: [0-9a-f]{4})?)\s*\t(\S+)(?:\t([^@;]*))?")
_REG = re.compile(r"\b(r1[0-2]|r[0-9]|sb|sl|fp|ip|sp|lr|pc)\b")
_FP_REG = re.compile(r"\b([sd])([0-9]+)\b")
_RANGE = re.compile(r"\b([sd])([0-9]+)-[sd]([0-9]+)\b")


@dataclass(frozen=True)
class TimedInsn:
    """One instruction as the plugin's table holds it (cycle_model.h, cm_insn_t)."""

    pc: int
    size: int
    kind: int
    base: int
    flags: int
    writes: int  # bit n: Rn written
    addr_regs: int  # bit n: Rn forms the data address
    text: str  # the disassembly, for reports and errors

    def table_line(self) -> str:
        return f"{self.pc:x} {self.size} {self.kind} {self.base} {self.flags} {self.writes} {self.addr_regs}"


def base_mnemonic(mnemonic: str) -> str:
    """``ldrhne.w`` -> ``ldrh``; ``bls`` -> ``b``; ``adds`` stays (flag setting is timed as without)."""
    m = mnemonic.split(".")[0]
    if m not in SPECIAL and m[-2:] in CONDITIONS and m[:-2] in SPECIAL:
        return m[:-2]
    return m


def _mask(regs: list[str]) -> int:
    out = 0
    for r in regs:
        out |= 1 << REGISTERS[r]
    return out


def _core_regs(text: str) -> list[str]:
    return _REG.findall(text)


def _register_list(operands: str) -> list[str]:
    inside = operands[operands.index("{") + 1:operands.index("}")]
    regs: list[str] = []
    for part in (p.strip() for p in inside.split(",")):
        lo, _, hi = part.partition("-")
        regs += NAMES[REGISTERS[lo]:REGISTERS[hi or lo] + 1]
    return regs


def _fp_words(operands: str) -> int:
    """32-bit words moved by a VFP load/store: an S register one, a D register two."""
    words = 0
    for kind, lo, hi in _RANGE.findall(operands):
        words += (int(hi) - int(lo) + 1) * (2 if kind == "d" else 1)
    rest = _RANGE.sub("", operands.split("[")[0] if "[" in operands else operands)
    words += sum(2 if kind == "d" else 1 for kind, _ in _FP_REG.findall(rest))
    return max(words, 1)


def _address(operands: str) -> tuple[list[str], bool]:
    """Registers inside [...] and whether the base is updated (``!`` or a post-index)."""
    start, end = operands.index("["), operands.index("]")
    regs = _core_regs(operands[start:end])
    writeback = operands[end + 1:].strip().startswith(("!", ","))
    return regs, writeback


def classify(pc: int, size: int, mnemonic: str, operands: str) -> TimedInsn:
    """Kind, base cycles, flags and registers of one instruction (rules of docs/cycle-model.md)."""
    m = base_mnemonic(mnemonic)
    ops = operands.strip()
    regs = _core_regs(ops)
    text = f"{mnemonic} {ops}".strip()

    def insn(kind: int, base: int, flags: int = 0, writes: list[str] | None = None,
             addr: list[str] | None = None) -> TimedInsn:
        written = _mask(writes or [])
        if written & (1 << PC):
            flags |= WRITES_PC
        return TimedInsn(pc, size, kind, base, flags, written & 0xFFFF, _mask(addr or []), text)

    if m in BRANCHES:  # C2: 1, +P when taken
        return insn(OTHER, 1, WRITES_PC | (CALL if m in ("bl", "blx") else 0),
                    ["lr"] if m in ("bl", "blx") else [])
    if m in TABLE_BRANCHES:  # TRM: TBB/TBH 2+P
        return insn(OTHER, 2, WRITES_PC, [], _address(ops)[0])
    if m in SINGLE_LOADS or m in SINGLE_STORES:  # C4: 2, or 1 pipelined
        addr, writeback = _address(ops)
        load = m in SINGLE_LOADS
        written = ([regs[0]] if load or m.startswith("strex") else []) + (addr[:1] if writeback else [])
        return insn(LOAD if load else STORE, 2, WRITEBACK if writeback else 0, written, addr)
    if m in PAIRS:  # C4: 1+N, N = 2, never pipelined
        addr, writeback = _address(ops)
        written = (regs[:2] if m == "ldrd" else []) + (addr[:1] if writeback else [])
        return insn(MEM, 3, WRITEBACK if writeback else 0, written, addr)
    if m in LOAD_MULTIPLE or m in STORE_MULTIPLE:  # C4: 1+N
        listed = _register_list(ops)
        base_reg = "sp" if m in ("pop", "push") else regs[0]
        writeback = m in ("pop", "push") or ops.split(",")[0].strip().endswith("!")
        written = (listed if m in LOAD_MULTIPLE else []) + ([base_reg] if writeback else [])
        return insn(MEM, 1 + len(listed), WRITEBACK if writeback else 0, written, [base_reg])
    if m in FP_MEMORY:  # C6: VLDR/VSTR 1+N words, VLDM/VSTM/VPUSH/VPOP 1+N words
        if m in ("vpush", "vpop"):
            addr, writeback = ["sp"], True
        elif "[" in ops:
            addr, writeback = _address(ops)
        else:
            addr, writeback = regs[:1], ops.split(",")[0].strip().endswith("!")
        return insn(MEM, 1 + _fp_words(ops), WRITEBACK if writeback else 0, addr if writeback else [], addr)
    if m in DIVIDES:  # C3: the run's fixed value
        return insn(DIV, 1, DATA_PROC, regs[:1])
    if m in FP_MAC:
        return insn(PLAIN, FP_MAC_CYCLES)
    if m in FP_LONG:
        return insn(PLAIN, FP_LONG_CYCLES)
    if m == "vmov" and len(regs) == 2 and len(_FP_REG.findall(ops)) >= 1:  # two core registers <-> D or 2 S
        return insn(PLAIN, 2, DATA_PROC, regs[:2] if ops.startswith(regs[0]) else [])
    if m.startswith("it") or m in NO_CORE_RESULT or not regs or not ops.startswith(regs[0]):
        return insn(PLAIN, 1)  # C1: no core register result (compare, IT, VFP, barrier...)
    # C1: data processing, multiply, multiply-accumulate, DSP, saturation, bit field: 1.
    return insn(PLAIN, 1, DATA_PROC, regs[:2] if m in TWO_RESULTS else regs[:1])


def disassemble(elf: Path) -> list[TimedInsn]:
    """Every instruction objdump finds in the ELF's executable sections, classified;
    those of the exception handlers (vector_handlers) flagged HANDLER."""
    proc = subprocess.run([tool_path(ARM_BINUTILS), "-d", str(elf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"{ARM_BINUTILS.command} -d {elf} failed: {proc.stderr.strip()}")
    out = []
    for line in proc.stdout.splitlines():
        match = _LINE.match(line)
        if match is None or match.group(3).startswith("."):
            continue  # labels, headers, literal pool words
        address, raw, mnemonic, operands = match.groups()
        out.append(classify(int(address, 16), 2 * len(raw.split()), mnemonic, operands or ""))
    if not out:
        raise StageError(f"{elf}: no instructions found (not an ARM ELF with code?)")
    handlers = vector_handlers(elf)
    return [replace(i, flags=i.flags | HANDLER) if any(lo <= i.pc < hi for lo, hi in handlers) else i
            for i in out]


def vector_handlers(elf: Path) -> list[tuple[int, int]]:
    """[start, end) of every exception handler in the vector table at the start of flash, reset excepted.

    Words past a short table are code: only Thumb addresses of function symbols count. A handler's
    extent is its symbol's size (at least its first instruction).
    """
    try:
        with elf.open("rb") as f:
            image = ELFFile(f)
            table = b""
            for seg in image.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] == VECTOR_TABLE and seg["p_filesz"]:
                    table = seg.data()[:4 * VECTOR_COUNT]
            symtab = image.get_section_by_name(".symtab")
            sizes = {int(s["st_value"]) & ~1: int(s["st_size"]) for s in symtab.iter_symbols()
                     if s["st_info"]["type"] == "STT_FUNC"} if isinstance(symtab, SymbolTableSection) else {}
    except (OSError, ELFError) as err:
        raise StageError(f"{elf}: not a readable ELF: {err}") from None
    words = struct.unpack(f"<{len(table) // 4}I", table[:len(table) // 4 * 4])
    starts = {w & ~1 for w in words[2:] if w & 1 and w & ~1 in sizes}  # [0] SP, [1] reset
    return sorted((a, a + max(sizes.get(a, 0), 2)) for a in starts)


def write_table(insns: list[TimedInsn], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(i.table_line() + "\n" for i in insns))
    return path
