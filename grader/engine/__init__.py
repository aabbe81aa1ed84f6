"""Isolated execution of notebook cells, with locked tests run outside the sandbox.

Processes: the Engine (caller) -> the template (zygote.py: pre-warmed, never holds job
data) -> per job a supervisor (supervisor.py: deadlines, frame checks, the trusted
driver in driver/) and the sandboxes it asks the template to fork (child.py, then
kernel/ runs inside the student's process; its output is untrusted).

    with Engine(framework_path=build, preload=["numpy", "tinytorch.core.tensor"]) as engine:
        result = engine.run(Job(cells=[Cell("c1", "x = 1")], calls=[], workdir=None, limits=Limits()))
"""
from .engine import Engine
from .errors import EngineError, IsolationUnavailable, ZygoteError
from .types import (Call, CallResult, Cell, CellResult, ErrorInfo, IsolationReport, Job, Limits,
                    RunNotice,
                    RunResult)

__all__ = [
    "Engine", "Job", "Cell", "Call", "Limits", "RunResult", "CellResult", "CallResult",
    "ErrorInfo", "IsolationReport", "RunNotice", "EngineError", "ZygoteError", "IsolationUnavailable",
]
