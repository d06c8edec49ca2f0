"""Analyses of built firmwares and of many models: sizes, stack, RAM, per-layer profile, benchmark, fuzzing."""
