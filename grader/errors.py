"""The exception hierarchy. Every error a user can cause derives from GraderError.

The CLI turns a GraderError into a one-line message and exit status 2 (usage or
configuration); anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

from pathlib import Path


class GraderError(Exception):
    """Base of every error grader reports to a user."""


class ConfigError(GraderError):
    """course.toml, roster.csv or a command-line value is wrong."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None):
        self.path, self.line = path, line
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


class SourceError(GraderError):
    """A module source cannot be read (not parsable as a notebook)."""

    def __init__(self, message: str, *, path: Path, line: int | None = None):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line or 1}: {message}")


class SubmissionError(GraderError):
    """A submitted notebook cannot be read."""


class EngineError(GraderError):
    """The execution engine could not start or talk to its sandbox."""


class SourceProblems(GraderError):
    """Problems in the sources that stop a command before it writes anything (lint
    errors, a release that would show solutions); each is one `FILE:LINE: message`."""

    def __init__(self, summary: str, problems: list[str]):
        self.summary, self.problems = summary, list(problems)
        super().__init__("\n".join([*self.problems, summary]))
