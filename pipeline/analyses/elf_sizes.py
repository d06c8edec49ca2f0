"""Size figures of a firmware ELF, read with pyelftools.

Symbol convention (the codegen, the kernels and the harness keep to it):

* every symbol of the generated model and of the kernels starts with ``tc_``
  (functions, weights, biases, quantization tables, the arena), static ones
  included: a static helper that is not inlined and lacks the prefix is not
  counted;
* the test vectors start with ``tc_test_`` and are *not* model bytes;
* the harness and board layer (``main``, ``uart_*``, ``cc_*``, ``stack_*``,
  ``fault_*``, the vector table) and libc never use the ``tc_`` prefix.

``model_flash_bytes`` is the sum of the sizes of the ``tc_`` symbols (minus
``tc_test_``) that occupy flash: code, constants and the load image of
initialised data. GCC clones (``tc_foo.constprop.0``) keep the prefix and count.

Flash and RAM follow the ELF's sections and segments, so they agree with
``arm-none-eabi-size`` (Berkeley): ``flash = text + data`` and
``ram = data + bss``, where our linker script's ``.stack`` is a NOBITS section
and so part of ``bss``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section, SymbolTableSection

from pipeline.boards import MemoryRegion
from pipeline.errors import StageError

MODEL_PREFIX = "tc_"
TEST_VECTOR_PREFIX = "tc_test_"
ARENA_SYMBOL = "tc_arena"
STACK_SECTION = ".stack"


@dataclass(frozen=True)
class SizeFigures:
    """Bytes a firmware needs on the real part."""

    flash_bytes: int  # everything stored in flash: vectors, code, constants, .data image
    ram_bytes: int  # .data + .bss + the reserved stack
    stack_bytes: int  # the reserved stack alone (TC_STACK_BYTES)
    model_flash_bytes: int  # flash taken by tc_* symbols (model + kernels), not tc_test_*
    arena_bytes: int  # size of tc_arena, 0 if the firmware has none
    text_bytes: int  # arm-none-eabi-size "text"
    data_bytes: int  # arm-none-eabi-size "data"
    bss_bytes: int  # arm-none-eabi-size "bss" (includes the stack)


def _load_address(elf: ELFFile, section: Section) -> int:
    """The section's LMA: where its bytes are stored at power-on."""
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_LOAD" and segment.section_in_segment(section):
            return int(segment["p_paddr"] + section["sh_addr"] - segment["p_vaddr"])
    return int(section["sh_addr"])


def _symbols(elf: ELFFile) -> list[tuple[str, int, int, int]]:
    """(name, address, size, section index) of every sized function and object."""
    table = elf.get_section_by_name(".symtab")
    if not isinstance(table, SymbolTableSection):
        return []
    out = []
    for sym in table.iter_symbols():
        if sym["st_info"]["type"] not in ("STT_FUNC", "STT_OBJECT") or sym["st_size"] == 0:
            continue
        shndx = sym["st_shndx"]
        if not isinstance(shndx, int):  # SHN_ABS, SHN_UNDEF, ...
            continue
        out.append((sym.name, int(sym["st_value"]), int(sym["st_size"]), shndx))
    return out


def elf_sizes(elf_path: Path, flash: MemoryRegion) -> SizeFigures:
    """Read the size figures of ``elf_path``, built for a board whose flash is ``flash``
    (pipeline/boards.py); StageError if it is not a usable ELF."""
    try:
        with elf_path.open("rb") as stream:
            return _figures(ELFFile(stream), flash)
    except (OSError, ELFError) as exc:
        raise StageError(f"cannot read firmware ELF {elf_path}: {exc}") from exc


def _figures(elf: ELFFile, flash_region: MemoryRegion) -> SizeFigures:
    text = data = bss = stack = flash = 0
    flash_sections: set[int] = set()
    for index, section in enumerate(elf.iter_sections()):
        flags = section["sh_flags"]
        if not flags & SH_FLAGS.SHF_ALLOC or section["sh_size"] == 0:
            continue
        size = int(section["sh_size"])
        if section["sh_type"] == "SHT_NOBITS":
            bss += size
            if section.name == STACK_SECTION:
                stack = size
            continue
        if flags & SH_FLAGS.SHF_WRITE:
            data += size
        else:
            text += size
        if flash_region.contains(_load_address(elf, section)):
            flash_sections.add(index)
            flash += size

    symbols = _symbols(elf)
    # Aliases share an address: count each (address, size) once.
    model_spans = {
        (address, size)
        for name, address, size, shndx in symbols
        if name.startswith(MODEL_PREFIX)
        and not name.startswith(TEST_VECTOR_PREFIX)
        and shndx in flash_sections
    }
    arena = max(
        (size for name, _, size, _ in symbols if name == ARENA_SYMBOL),
        default=0,
    )
    return SizeFigures(
        flash_bytes=flash,
        ram_bytes=data + bss,
        stack_bytes=stack,
        model_flash_bytes=sum(size for _, size in model_spans),
        arena_bytes=arena,
        text_bytes=text,
        data_bytes=data,
        bss_bytes=bss,
    )
