"""Typed errors of the execution engine (all derive from grader.errors.GraderError)."""
from __future__ import annotations

try:  # the package-wide hierarchy; fall back so the engine stays usable on its own
    from grader.errors import EngineError
except ImportError:  # pragma: no cover
    class EngineError(Exception):  # type: ignore[no-redef]
        """The execution engine could not start or talk to its sandbox."""


class ZygoteError(EngineError):
    """The zygote (pre-warmed template process) died or broke the protocol."""


class IsolationUnavailable(EngineError):
    """The requested isolation mode cannot be used on this machine."""


__all__ = ["EngineError", "ZygoteError", "IsolationUnavailable"]
