"""Isolated execution of notebook cells: a pre-warmed zygote forks one sandbox per job.

    with Engine(framework_path=build, preload=["numpy", "tinytorch.core.tensor"]) as engine:
        result = engine.run(Job(cells=[Cell("c1", "x = 1")], calls=[], workdir=None, limits=Limits()))
"""
from .engine import Engine
from .errors import EngineError, IsolationUnavailable, ZygoteError
from .types import (Call, CallResult, Cell, CellResult, ErrorInfo, IsolationReport, Job, Limits,
                    RunResult)

__all__ = [
    "Engine", "Job", "Cell", "Call", "Limits", "RunResult", "CellResult", "CallResult",
    "ErrorInfo", "IsolationReport", "EngineError", "ZygoteError", "IsolationUnavailable",
]
