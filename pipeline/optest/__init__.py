"""Op-by-op verification of the code generator against TFLM (see runner.run_op_tests)."""

from pipeline.optest.runner import CaseResult, OpTestReport, run_op_tests

__all__ = ["CaseResult", "OpTestReport", "run_op_tests"]
