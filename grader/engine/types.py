"""The engine's data model: what a caller sends (Job) and gets back (RunResult).

Plain dataclasses; they cross the pipe to the zygote pickled, so they hold only
builtins.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CellStatus = Literal["ok", "error", "timeout", "crashed", "skipped"]
CallStatus = Literal["passed", "failed", "error", "timeout", "crashed"]
IsolationMode = Literal["namespaces", "userns", "bubblewrap", "rlimits"]

GUARANTEE_KEYS = (
    "memory_limit",          # a cgroup's memory.max: tmpfs, memfd and shared memory count too
    "process_limit",         # a pids cgroup of the sandbox's own (not shared with others)
    "disk_limit",            # the working folder is a size-capped tmpfs
    "no_leftover_processes",
    "no_network",
    "private_filesystem",
    "unprivileged_uid",
    "trusted_tests",         # locked tests run in the trusted driver, outside the sandbox
)


@dataclass
class Limits:
    cell_timeout_s: float = 30.0
    call_timeout_s: float = 60.0
    memory_mb: int = 2048
    output_cap_bytes: int = 1_000_000  # per cell / per call
    submission_timeout_s: float | None = None  # wall clock for the whole job
    disk_mb: int = 256                 # the working folder (tmpfs)
    pids_max: int = 256                # processes and threads in the sandbox
    seed: int | None = None            # re-seed random and numpy.random before every cell
    # (as Otter's intercell seeding): the same notebook then prints and answers the same


@dataclass
class Cell:
    """A code cell to run, in notebook order."""

    key: str  # stable id (grade_id or "cell-7"); code is compiled as "<cell:KEY>"
    source: str  # IPython source: magics and !shell lines work


CallMode = Literal["driver", "kernel"]


@dataclass
class Call:
    """Made after all cells ran, against the same kernel.

    mode "driver": `setup` is executed and `functions` called in the trusted driver,
    which holds handles on the kernel's objects (locked tests). mode "kernel": both
    run inside the student's process (unit tests, assessment functions whose plain
    value is compared on the host, items a course runs in-kernel)."""

    key: str
    setup: str | None  # compiled as "<setup:KEY>"
    functions: list[str]  # called in order with no arguments
    want_value: bool = False  # return the JSON-converted value of the last function
    mode: CallMode = "kernel"
    notice: str | None = None  # an `isolation` notice the result carries when it runs


@dataclass
class Job:
    cells: list[Cell]
    calls: list[Call] = field(default_factory=list)
    workdir: Path | None = None  # files copied into the sandbox cwd; None = empty dir
    limits: Limits = field(default_factory=Limits)
    # "copy": the sandbox works on a copy of workdir (autograde: small, untrusted folders);
    # "overlay": it sees workdir read-only with its own writes on top, nothing copied
    # (grader check, beside a virtualenv or a data set)
    workdir_mode: Literal["copy", "overlay"] = "copy"
    # (key, source, functions too) of the source's cells whose library imports (and,
    # for instructor cells, function definitions) the driver runs trusted
    helpers: list[tuple[str, str, bool]] = field(default_factory=list)
    framework: str | None = None  # package whose imports in tests stay in the kernel
    # the driver's helpers and test cells compiled (driver/run.py, precompile); the
    # Engine fills it, once per module, so a supervisor does not parse them per job
    compiled: dict[str, bytes] = field(default_factory=dict)


@dataclass
class ErrorInfo:
    ename: str
    evalue: str
    traceback: list[str]  # plain text lines, no ANSI colour codes
    frames: list[tuple[str, int, str]]  # (filename, lineno, function), innermost last


@dataclass
class CellResult:
    key: str
    status: CellStatus
    outputs: list[dict[str, Any]]  # nbformat v4 output dicts
    error: ErrorInfo | None
    truncated: bool
    duration_s: float


@dataclass
class CallResult:
    key: str
    status: CallStatus
    function: str | None  # which function failed / was running
    value: Any = None
    value_error: str | None = None
    error: ErrorInfo | None = None
    output: str = ""
    duration_s: float = 0.0


@dataclass
class IsolationReport:
    mode: str
    guarantees: dict[str, bool]
    notes: list[str]


@dataclass
class RunNotice:
    kind: str          # "tampered" | "timeout"
    key: str | None    # the cell or call it concerns
    message: str


@dataclass
class RunResult:
    cells: list[CellResult]
    calls: list[CallResult]
    isolation: IsolationReport
    restarts: int
    duration_s: float
    notices: list[RunNotice] = field(default_factory=list)
    # where the supervisor's time went: "sandbox" (fork, namespaces, root, copy, until
    # the kernel is ready), "cells", "calls", "teardown" (seconds; `make bench` reports it)
    timings: dict[str, float] = field(default_factory=dict)
