"""Op lowerings. Importing this package registers every supported op."""

from pipeline.codegen.ops import conv, fully_connected, pool, reshape  # noqa: F401
