"""Emulator backends: each boots a firmware ELF and returns its console output."""

from __future__ import annotations

import shutil

from pipeline.emulators.base import EmulatorBackend

EMULATORS = ("renode", "qemu")


def default_emulator() -> str:
    """Renode where it is installed (what GitHub Actions users run), QEMU otherwise."""
    return "renode" if shutil.which("renode") else "qemu"


def select_backend(name: str | None = None) -> EmulatorBackend:
    """The backend called ``name`` (or the default); its availability is checked by the caller."""
    chosen = name or default_emulator()
    if chosen == "qemu":
        from pipeline.emulators.qemu import QemuBackend

        return QemuBackend()
    if chosen == "renode":
        from pipeline.emulators.renode import RenodeBackend

        return RenodeBackend()
    raise ValueError(f"unknown emulator '{chosen}': choose one of {', '.join(EMULATORS)}")
