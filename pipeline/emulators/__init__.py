"""Emulator backends: each boots a firmware ELF and returns its console output."""
