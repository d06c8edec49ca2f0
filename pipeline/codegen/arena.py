"""The arena planner: every activation tensor gets an offset in one static buffer.

Tensors whose lifetimes (first op that writes them to last op that reads them)
do not overlap may share memory. Ops that only reinterpret memory (RESHAPE,
SQUEEZE) make their output an alias of their input: one buffer, one lifetime.
Placement is greedy by size, largest first, at the lowest offset that does not
collide with a placed buffer alive at the same time (TFLM's GreedyMemoryPlanner
does the same).
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGNMENT = 8


@dataclass
class Buffer:
    """One region of the arena: one or more tensors sharing memory, or a layer's scratch."""

    key: str  # "t<index>" of its first tensor, or "scratch<layer>"
    size: int
    first: int  # first op index at which it must hold data (-1: before the first op)
    last: int  # last op index that reads it (len(ops): after the last op)
    offset: int = -1


@dataclass(frozen=True)
class ArenaPlan:
    size: int
    offsets: dict[int, int]  # tensor index -> byte offset
    scratch_offsets: dict[int, int]  # layer index -> byte offset of its scratch buffer
    buffers: tuple[Buffer, ...]


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def plan_arena(
    tensor_sizes: dict[int, int],
    producers: dict[int, int],
    consumers: dict[int, list[int]],
    graph_inputs: tuple[int, ...],
    graph_outputs: tuple[int, ...],
    op_count: int,
    aliases: list[tuple[int, int]],
    scratch: dict[int, int],
) -> ArenaPlan:
    """Place tensors (index -> bytes) and per-layer scratch (layer -> bytes) in one arena."""
    root: dict[int, int] = {t: t for t in tensor_sizes}

    def find(t: int) -> int:
        while root[t] != t:
            t = root[t]
        return t

    for out, inp in aliases:
        root[find(out)] = find(inp)

    groups: dict[int, Buffer] = {}
    for t, size in sorted(tensor_sizes.items()):
        r = find(t)
        first = -1 if t in graph_inputs else producers.get(t, -1)
        last = op_count if t in graph_outputs else max(consumers.get(t, [first]), default=first)
        buf = groups.get(r)
        if buf is None:
            groups[r] = Buffer(f"t{r}", size, first, last)
        else:
            buf.size = max(buf.size, size)
            buf.first, buf.last = min(buf.first, first), max(buf.last, last)
    buffers = list(groups.values())
    buffers += [Buffer(f"scratch{layer}", size, layer, layer) for layer, size in sorted(scratch.items()) if size]

    placed: list[Buffer] = []
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.key)):
        offset = 0
        for other in sorted(placed, key=lambda b: b.offset):
            overlaps_in_time = not (buf.last < other.first or other.last < buf.first)
            if overlaps_in_time and offset + buf.size > other.offset and other.offset + _align(other.size) > offset:
                offset = other.offset + _align(other.size)
        buf.offset = offset
        placed.append(buf)
    size = _align(max((b.offset + b.size for b in placed), default=0))
    offsets = {t: groups[find(t)].offset for t in tensor_sizes}
    scratch_offsets = {int(b.key[7:]): b.offset for b in placed if b.key.startswith("scratch")}
    return ArenaPlan(size, offsets, scratch_offsets, tuple(sorted(placed, key=lambda b: b.offset)))


def free_span(plan: ArenaPlan, layer: int, limit: int) -> tuple[int, int]:
    """(offset, bytes) of the largest free region of ``[0, limit)`` while ``layer`` runs, ignoring that
    layer's own scratch: where its scratch may grow (the arena grows only up to ``limit``)."""
    busy = sorted((b.offset, b.offset + _align(b.size)) for b in plan.buffers
                  if b.first <= layer <= b.last and b.key != f"scratch{layer}")
    best, cursor = (0, 0), 0
    for start, end in [*busy, (limit, limit)]:
        if start - cursor > best[1]:
            best = (cursor, start - cursor)
        cursor = max(cursor, end)
    return best


def with_scratch(plan: ArenaPlan, layer: int, offset: int, size: int) -> ArenaPlan:
    """``plan`` with ``layer``'s scratch moved to ``offset`` and grown to ``size`` bytes."""
    key = f"scratch{layer}"
    buffers = [b for b in plan.buffers if b.key != key] + [Buffer(key, size, layer, layer, offset)]
    return ArenaPlan(max(plan.size, _align(offset + size)), plan.offsets, {**plan.scratch_offsets, layer: offset},
                     tuple(sorted(buffers, key=lambda b: b.offset)))
