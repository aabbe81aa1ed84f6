"""One job across as many sandboxes as crashes need: results, blame, replay plan.

A crash or unrecoverable timeout in cell k marks k and skips it; a fresh sandbox
replays the earlier cells silently (their first outputs are kept) and goes on. A
crash in call j marks j; the fresh sandbox replays all cells, then calls j+1...
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from . import sandbox
from .supervisor import Outcome, Sandbox, ZygoteState
from .types import CallResult, CellResult, ErrorInfo, Job, RunResult


def _timeout_error(err: ErrorInfo | None, what: str, seconds: float) -> ErrorInfo:
    msg = f"the {what} did not finish within {seconds:g} s and was interrupted"
    lines = [ln for ln in (err.traceback if err else []) if not ln.startswith("KeyboardInterrupt")]
    return ErrorInfo("TimeoutError", msg, lines + [f"TimeoutError: {msg}"], err.frames if err else [])


def _error_from(ev: dict[str, Any]) -> ErrorInfo | None:
    e = ev.get("error")
    if not isinstance(e, dict):
        return None
    return ErrorInfo(str(e.get("ename", "")), str(e.get("evalue", "")),
                     [str(x) for x in e.get("traceback", [])],
                     [(str(f[0]), int(f[1]), str(f[2])) for f in e.get("frames", [])])


class JobRun:
    """All cells then all calls of one job, across as many sandboxes as crashes need."""

    def __init__(self, z: ZygoteState, job: Job, engine_fd: int) -> None:
        self.z, self.job, self.engine_fd = z, job, engine_fd
        self.cells: list[CellResult | None] = [None] * len(job.cells)
        self.calls: list[CallResult | None] = [None] * len(job.calls)
        self.skip: set[int] = set()
        self.first_call = 0
        self.restarts = 0

    def run(self) -> RunResult:
        t0 = time.monotonic()
        jobdir = tempfile.mkdtemp(prefix="grader-job-")
        try:
            while True:
                root, work = self._prepare(jobdir)
                plan = {"skip": sorted(self.skip), "first_call": self.first_call}
                outcome = Sandbox(self.z, self.job, plan, root, work).run(self._on_event, self.engine_fd)
                if outcome.kind == "done":
                    break
                if outcome.kind == "fatal":
                    self._give_up(f"the sandbox could not be set up: {outcome.message.strip()}")
                    break
                self._blame(outcome)
                if self._finished():
                    break
                if self.restarts >= self.z.max_restarts:
                    self._give_up(f"not run: the kernel crashed {self.restarts + 1} times; giving up")
                    break
                self.restarts += 1
            self._fill_unreported()
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
        return RunResult(cells=list(self.cells), calls=list(self.calls),  # type: ignore[arg-type]
                         isolation=self.z.report, restarts=self.restarts,
                         duration_s=time.monotonic() - t0)

    def _prepare(self, jobdir: str) -> tuple[str, str]:
        root, work, tmp = (os.path.join(jobdir, d) for d in ("root", "work", "tmp"))
        for d in (work, tmp):
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(root, exist_ok=True)
        if self.job.workdir is not None:
            shutil.copytree(self.job.workdir, work, symlinks=True)
        else:
            os.makedirs(work)
        os.makedirs(tmp, mode=0o700)
        if self.z.mode == "namespaces":
            for dirpath, dirnames, filenames in os.walk(work):
                for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                    os.lchown(name, sandbox.SANDBOX_UID, sandbox.SANDBOX_GID)
        return root, work

    def _on_event(self, ev: dict[str, Any], interrupted: bool) -> None:
        idx = int(ev["index"])
        lim = self.job.limits
        err = _error_from(ev)
        if ev["ev"] == "cell" and 0 <= idx < len(self.cells) and self.cells[idx] is None:
            status = str(ev.get("status"))
            outputs = [o for o in ev.get("outputs", []) if isinstance(o, dict)]
            if interrupted:
                status, err = "timeout", _timeout_error(err, "cell", lim.cell_timeout_s)
                outputs = [o for o in outputs if o.get("output_type") != "error"]
                outputs.append({"output_type": "error", "ename": err.ename, "evalue": err.evalue,
                                "traceback": list(err.traceback)})
                self.skip.add(idx)  # replays after a crash do not wait for it again
            self.cells[idx] = CellResult(self.job.cells[idx].key, status, outputs, err,  # type: ignore[arg-type]
                                         bool(ev.get("truncated")), float(ev.get("duration_s", 0.0)))
        elif ev["ev"] == "call" and 0 <= idx < len(self.calls) and self.calls[idx] is None:
            status = str(ev.get("status"))
            if interrupted:
                status, err = "timeout", _timeout_error(err, "call", lim.call_timeout_s)
            self.calls[idx] = CallResult(
                self.job.calls[idx].key, status, ev.get("function"),  # type: ignore[arg-type]
                value=ev.get("value"), value_error=ev.get("value_error"), error=err,
                output=str(ev.get("output", "")), duration_s=float(ev.get("duration_s", 0.0)))

    def _blame(self, out: Outcome) -> None:
        current = out.current or self._next_item()
        if current is None:
            return
        kind, idx = current
        status = "timeout" if out.timed_out else "crashed"
        lim = self.job.limits
        if out.timed_out:
            limit = lim.cell_timeout_s if kind == "cell" else lim.call_timeout_s
            err = ErrorInfo("TimeoutError", f"exceeded the {limit:g} s limit and {out.message}", [], [])
        else:
            err = ErrorInfo("KernelDied", out.message, [], [])
        err.traceback = [f"{err.ename}: {err.evalue}"]
        if kind == "cell":
            self.skip.add(idx)
            if self.cells[idx] is None:
                self.cells[idx] = CellResult(self.job.cells[idx].key, status, [  # type: ignore[arg-type]
                    {"output_type": "error", "ename": err.ename, "evalue": err.evalue,
                     "traceback": list(err.traceback)}], err, False, 0.0)
        else:
            self.first_call = max(self.first_call, idx + 1)
            if self.calls[idx] is None:
                self.calls[idx] = CallResult(self.job.calls[idx].key, status, out.function,  # type: ignore[arg-type]
                                             error=err)

    def _next_item(self) -> tuple[str, int] | None:
        for i, res in enumerate(self.cells):
            if res is None and i not in self.skip:
                return ("cell", i)
        for j in range(self.first_call, len(self.calls)):
            if self.calls[j] is None:
                return ("call", j)
        return None

    def _finished(self) -> bool:
        return self._next_item() is None

    def _give_up(self, message: str) -> None:
        err = ErrorInfo("KernelDied", message, [f"KernelDied: {message}"], [])
        for i, res in enumerate(self.cells):
            if res is None:
                self.cells[i] = CellResult(self.job.cells[i].key, "crashed", [], err, False, 0.0)
        for j, res in enumerate(self.calls):
            if res is None:
                self.calls[j] = CallResult(self.job.calls[j].key, "crashed", None, error=err)

    def _fill_unreported(self) -> None:
        """Cells never reported (e.g. skipped after a crash of the replay) are 'skipped'."""
        for i, res in enumerate(self.cells):
            if res is None:
                self.cells[i] = CellResult(self.job.cells[i].key, "skipped", [], None, False, 0.0)
        for j, res in enumerate(self.calls):
            if res is None:
                err = ErrorInfo("KernelDied", "not run", ["KernelDied: not run"], [])
                self.calls[j] = CallResult(self.job.calls[j].key, "crashed", None, error=err)
