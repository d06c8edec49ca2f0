"""Emulator backends: each boots a firmware ELF and returns its console output."""

from __future__ import annotations

import shutil

from pipeline.boards import DEFAULT_BOARD, load_board
from pipeline.emulators.base import EmulatorBackend

EMULATORS = ("renode", "qemu")


def default_emulator(board: str = DEFAULT_BOARD) -> str:
    """Renode where it is installed and models the board (what GitHub Actions users run), else the
    first emulator the board lists (QEMU for every board that has both)."""
    modelled = load_board(board).emulators
    if "renode" in modelled and shutil.which("renode"):
        return "renode"
    return "qemu" if "qemu" in modelled else modelled[0]


def select_backend(name: str | None = None, board: str = DEFAULT_BOARD) -> EmulatorBackend:
    """The backend called ``name`` (or the default) set up for ``board`` (ConfigError when it does not
    model that board); its availability is checked by the caller."""
    chosen = name or default_emulator(board)
    if chosen not in EMULATORS:
        raise ValueError(f"unknown emulator '{chosen}': choose one of {', '.join(EMULATORS)}")
    target = load_board(board)
    target.check_emulator(chosen)
    if chosen == "qemu":
        from pipeline.emulators.qemu import QemuBackend

        return QemuBackend(board=target)
    from pipeline.emulators.renode import RenodeBackend

    assert target.renode_platform is not None  # check_emulator
    return RenodeBackend(platform=target.renode_platform)
