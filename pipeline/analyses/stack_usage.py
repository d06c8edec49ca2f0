"""Static worst-case stack depth of the firmware, from GCC's ``-fstack-usage`` and the call graph.

Inputs: the ``.su`` files GCC writes beside each object in the CMake build dir
(one line per function: ``file:line:col:name  bytes  static|dynamic[,bounded]``)
and the call graph read from ``arm-none-eabi-objdump -d`` of the ELF: every
``bl``/``blx <f>`` is a call; a branch (``b``, ``b.w``, ``bne.w`` ...) to the
*start* of another function is a tail call and counted as a call (an
overestimate: the caller's frame is in fact popped first). An indirect call or
jump (``blx rN``, ``bx rN`` other than ``bx lr``, ``mov pc``/``ldr pc``) in any
function reachable from an entry point cannot be bounded: it is an error, as is
recursion and a ``dynamic`` (unbounded) frame.

Frame of a function: the larger of its ``.su`` figure and what its disassembly
reserves (``push``/``stmdb sp!`` 4 bytes a register, ``vpush`` 4 bytes an
s-register / 8 a d-register, ``sub sp, #n``), summed over the whole body. The
second covers functions without a ``.su`` line (newlib's ``memcpy``, libgcc
helpers, hand-written assembly, naked handlers).

    depth(f)   = frame(f) + max(depth(g) for g called by f, default 0)
    frame_x    = 104 + 4 bytes per exception level: the extended frame with FPU
                 context (26 words; with lazy stacking the space is reserved even
                 when the handler uses no FPU), plus 4 bytes of alignment padding
                 (CCR.STKALIGN: the frame starts 8-byte aligned)
    thread     = depth(Reset_Handler)      (reset -> main -> tc_model_invoke -> kernels, and
                                            everything else main calls)
    static     = thread
               + frame_x + depth(SysTick_Handler)       (the only enabled interrupt; it can
                                                         preempt the thread at any point)
               + frame_x + max(depth(h) for h in the fault handlers and Default_Handler)
                                                        (a fault, possibly inside SysTick; the
                                                         handlers print and stop: once)

``thread`` starts at the reset handler, not at ``tc_model_invoke``: the firmware
measures its stack by painting (``stack_used``), which counts main's frame and
everything below it, so the static bound must include them to bound the
measured figure. ``invoke_bytes`` is the depth of ``tc_model_invoke`` alone.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import StageError
from pipeline.tools import ARM_BINUTILS, tool_path

EXCEPTION_FRAME_BYTES = 26 * 4 + 4  # extended (FPU) frame + alignment padding
THREAD_ENTRY = "Reset_Handler"
INVOKE = "tc_model_invoke"
SYSTICK = "SysTick_Handler"
FAULT_HANDLERS = ("HardFault_Handler", "MemManage_Handler", "BusFault_Handler", "UsageFault_Handler",
                  "Default_Handler")

_FUNCTION = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{4,8}\s)+\s*(\S+)\s*(.*)$")
_TARGET = re.compile(r"^[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>")
_BRANCH = re.compile(r"^b(eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?(\.w|\.n)?$")
_INDIRECT = re.compile(r"^(blx|bx)$")
_REGS = re.compile(r"\{([^}]*)\}")
_SUB_SP = re.compile(r"^(?:sp, )?sp, #(\d+)")


@dataclass(frozen=True)
class Disassembly:
    frames: dict[str, int]  # bytes reserved by the body, from push / vpush / sub sp
    calls: dict[str, set[str]]  # direct calls and tail calls
    indirect: dict[str, list[str]]  # function -> the indirect call/jump instructions in it


@dataclass(frozen=True)
class StackReport:
    thread_bytes: int
    invoke_bytes: int
    systick_bytes: int
    fault_bytes: int
    total_bytes: int
    deepest_path: tuple[str, ...]  # the thread path of thread_bytes


def read_su_files(build_dir: Path) -> dict[str, int]:
    """Function name -> frame bytes from every .su file under build_dir (the largest for a repeated name)."""
    frames: dict[str, int] = {}
    for su in sorted(build_dir.rglob("*.su")):
        for line in su.read_text(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            name = parts[0].rsplit(":", 1)[-1]
            qualifier = parts[2].strip()
            if qualifier.startswith("dynamic") and "bounded" not in qualifier:
                raise StageError(f"{su}: {name} has an unbounded dynamic stack frame ({qualifier}): "
                                 "no static stack bound (avoid alloca and variable-length arrays)")
            frames[name] = max(frames.get(name, 0), int(parts[1]))
    return frames


def _register_bytes(operands: str) -> int:
    match = _REGS.search(operands)
    if match is None:
        return 0
    total = 0
    for item in match.group(1).split(","):
        item = item.strip()
        first, _, last = item.partition("-")
        count = int(last[1:]) - int(first[1:]) + 1 if last else 1
        total += count * (8 if first.startswith("d") else 4)
    return total


def _body_frame(mnemonic: str, operands: str) -> int:
    if mnemonic in ("push", "push.w", "vpush", "vpush.w") or (
            mnemonic.startswith("stmdb") and operands.startswith("sp!")):
        return _register_bytes(operands)
    if mnemonic in ("sub", "sub.w", "subw", "sub.n") and operands.startswith("sp, "):
        match = _SUB_SP.match(operands)
        return int(match.group(1)) if match else 0
    return 0


def parse_disassembly(text: str) -> Disassembly:
    """Frames, calls and indirect calls per function from ``objdump -d`` output."""
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    indirect: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        header = _FUNCTION.match(line)
        if header:
            current = header.group(2)
            frames.setdefault(current, 0)
            calls.setdefault(current, set())
            continue
        insn = _INSN.match(line)
        if insn is None or not current:
            continue
        mnemonic, operands = insn.group(2), insn.group(3).split(";")[0].strip()
        frames[current] += _body_frame(mnemonic, operands)
        target = _TARGET.match(operands)
        if mnemonic in ("bl", "blx") and target:
            calls[current].add(target.group(1))
        elif _BRANCH.match(mnemonic) and target and not target.group(2) and target.group(1) != current:
            calls[current].add(target.group(1))  # tail call
        elif (_INDIRECT.match(mnemonic) and operands != "lr") or (
                operands.startswith("pc,") and mnemonic.startswith(("mov", "ldr"))):
            indirect.setdefault(current, []).append(f"{mnemonic} {operands}")
    return Disassembly(frames, calls, indirect)


def worst_case_depth(frames: dict[str, int], calls: dict[str, set[str]], entry: str,
                     indirect: dict[str, list[str]] | None = None) -> tuple[int, tuple[str, ...]]:
    """(deepest stack in bytes, the path) from ``entry``; StageError on recursion, indirect calls
    or a function without a known frame."""
    memo: dict[str, tuple[int, tuple[str, ...]]] = {}
    indirect = indirect or {}

    def depth(f: str, stack: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        if f in stack:
            raise StageError(f"stack analysis: recursion {' -> '.join((*stack[stack.index(f):], f))}: no static bound")
        if f in memo:
            return memo[f]
        if f not in frames:
            raise StageError(f"stack analysis: {' -> '.join((*stack, f))}: no frame size known for {f}")
        if f in indirect:
            raise StageError(f"stack analysis: {' -> '.join((*stack, f))}: indirect call or jump "
                             f"({', '.join(indirect[f][:3])}): no static bound")
        best: tuple[int, tuple[str, ...]] = (0, ())
        for g in sorted(calls.get(f, ())):
            best = max(best, depth(g, (*stack, f)), key=lambda r: r[0])
        memo[f] = (frames[f] + best[0], (f, *best[1]))
        return memo[f]

    return depth(entry, ())


def static_stack(elf: Path, build_dir: Path) -> StackReport:
    """The static stack bound of a firmware ELF built in ``build_dir`` (see the module docstring)."""
    proc = subprocess.run([tool_path(ARM_BINUTILS), "-d", str(elf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StageError(f"{ARM_BINUTILS.command} -d {elf} failed: {proc.stderr.strip()[:500]}")
    dis = parse_disassembly(proc.stdout)
    su = read_su_files(build_dir)
    if not su:
        raise StageError(f"no .su files under {build_dir}: was the firmware built with -fstack-usage?")
    frames = {f: max(n, su.get(f, 0)) for f, n in dis.frames.items()}
    thread, path = worst_case_depth(frames, dis.calls, THREAD_ENTRY, dis.indirect)
    invoke, _ = worst_case_depth(frames, dis.calls, INVOKE, dis.indirect)
    systick, _ = worst_case_depth(frames, dis.calls, SYSTICK, dis.indirect)
    fault = max(worst_case_depth(frames, dis.calls, h, dis.indirect)[0] for h in FAULT_HANDLERS if h in frames)
    total = thread + EXCEPTION_FRAME_BYTES + systick + EXCEPTION_FRAME_BYTES + fault
    return StackReport(thread, invoke, systick, fault, total, path)
