"""The pipeline's stages: each a module with a small typed API (dataclasses in, files and a result out)."""
