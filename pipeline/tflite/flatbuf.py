"""A bounds-checked reader for FlatBuffers tables.

TFLite models are FlatBuffers. The generated Python bindings trust every offset
in the file, so a corrupt model ends in IndexError, struct.error or a huge
allocation. This reader checks each access against the buffer and raises
ModelFormatError naming the file and the offset instead.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pipeline.errors import ModelFormatError

_FMT_SIZE = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8, "?": 1}


class Buffer:
    """The whole file, with checked little-endian reads."""

    def __init__(self, data: bytes, path: Path, trace: list[tuple[int, int]] | None = None) -> None:
        self.data = data
        self.path = path
        self.trace = trace  # when a list: (offset, size) of every field read, for the fuzzer

    def fail(self, what: str) -> ModelFormatError:
        return ModelFormatError(f"{self.path}: corrupt TFLite flatbuffer: {what}")

    def read(self, fmt: str, pos: int) -> int | float:
        size = _FMT_SIZE[fmt]
        if pos < 0 or pos + size > len(self.data):
            raise self.fail(f"read of {size} bytes at offset {pos} is outside the {len(self.data)}-byte file")
        if self.trace is not None:
            self.trace.append((pos, size))
        value: int | float = struct.unpack_from("<" + fmt, self.data, pos)[0]
        return value

    def u32(self, pos: int) -> int:
        return int(self.read("I", pos))

    def root(self) -> Table:
        if len(self.data) < 8:
            raise self.fail(f"only {len(self.data)} bytes, too short for a flatbuffer")
        return Table(self, self.u32(0))


class Table:
    """One table: fields are looked up by their id in the schema."""

    def __init__(self, buf: Buffer, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vtable = pos - int(buf.read("i", pos))
        self._vtable = vtable
        self._vt_len = int(buf.read("H", vtable))
        if self._vt_len < 4 or self._vt_len % 2:
            raise buf.fail(f"table at offset {pos} has a malformed vtable (length {self._vt_len})")

    def _offset(self, field_id: int) -> int:
        entry = 4 + 2 * field_id
        if entry >= self._vt_len:
            return 0
        return int(self.buf.read("H", self._vtable + entry))

    def has(self, field_id: int) -> bool:
        return self._offset(field_id) != 0

    def scalar(self, field_id: int, fmt: str, default: int | float = 0) -> int | float:
        off = self._offset(field_id)
        return self.buf.read(fmt, self.pos + off) if off else default

    def _indirect(self, field_id: int) -> int | None:
        off = self._offset(field_id)
        if not off:
            return None
        at = self.pos + off
        return at + self.buf.u32(at)

    def table(self, field_id: int) -> Table | None:
        target = self._indirect(field_id)
        return None if target is None else Table(self.buf, target)

    def _vector(self, field_id: int, elem_size: int) -> tuple[int, int]:
        """(start, length) of a vector field, (0, 0) when absent."""
        vec = self._indirect(field_id)
        if vec is None:
            return 0, 0
        length = self.buf.u32(vec)
        start = vec + 4
        if start + length * elem_size > len(self.buf.data):
            raise self.buf.fail(
                f"vector of {length} x {elem_size} bytes at offset {vec} runs past the end of the file"
            )
        return start, length

    def scalars(self, field_id: int, fmt: str) -> tuple[int | float, ...]:
        size = _FMT_SIZE[fmt]
        start, length = self._vector(field_id, size)
        if self.buf.trace is not None and size >= 2:
            self.buf.trace.extend((start + size * i, size) for i in range(min(length, 64)))
        return struct.unpack_from(f"<{length}{fmt}", self.buf.data, start) if length else ()

    def ints(self, field_id: int, fmt: str = "i") -> tuple[int, ...]:
        return tuple(int(v) for v in self.scalars(field_id, fmt))

    def floats(self, field_id: int) -> tuple[float, ...]:
        return tuple(float(v) for v in self.scalars(field_id, "f"))

    def raw_bytes(self, field_id: int) -> bytes:
        start, length = self._vector(field_id, 1)
        return bytes(self.buf.data[start : start + length])

    def string(self, field_id: int) -> str:
        return self.raw_bytes(field_id).decode("utf-8", errors="replace")

    def tables(self, field_id: int) -> list[Table]:
        start, length = self._vector(field_id, 4)
        return [Table(self.buf, start + 4 * i + self.buf.u32(start + 4 * i)) for i in range(length)]
