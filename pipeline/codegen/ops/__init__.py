"""Op lowerings. Importing this package registers every supported op."""

from pipeline.codegen.ops import (  # noqa: F401
    activations,
    concatenation,
    conv,
    depthwise,
    elementwise,
    fully_connected,
    pad,
    pool,
    quantize,
    reduce,
    reshape,
)
