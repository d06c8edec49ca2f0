"""Emulator backends: each boots a firmware ELF and returns its console output."""

from __future__ import annotations

import shutil

from pipeline.boards import DEFAULT_BOARD, load_board
from pipeline.emulators.base import EmulatorBackend

EMULATORS = ("renode", "qemu")


def default_emulator() -> str:
    """Renode where it is installed (what GitHub Actions users run), QEMU otherwise."""
    return "renode" if shutil.which("renode") else "qemu"


def select_backend(name: str | None = None, board: str = DEFAULT_BOARD) -> EmulatorBackend:
    """The backend called ``name`` (or the default) set up for ``board`` (ConfigError when it does not
    model that board); its availability is checked by the caller."""
    chosen = name or default_emulator()
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
