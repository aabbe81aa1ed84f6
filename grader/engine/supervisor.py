"""The supervisor: one process per job, forked from the template before the job exists.

It reads the job from the engine, asks the template to fork sandboxes (passing only
pipe ends, never job data), drives each sandbox one command at a time under its own
deadlines, runs locked tests in the trusted driver, and replaces a sandbox that
crashed, hung or broke the protocol: the earlier cells are replayed silently in a
fresh one and grading goes on with the items still to do.

The supervisor is trusted: it runs as the engine's user (root on grading servers),
outside the sandboxes' PID namespaces, and is not dumpable, so a sandbox cannot
read, write, signal or trace it.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import socket
import tempfile
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from . import isolation
from .cgroups import Layout
from .child import SandboxSetup
from .driver.proxy import Connection
from .driver.run import CappedText, Driver, ItemTimeout
from .sandbox import Sandbox, SandboxEnded
from .types import (Call, CallResult, CellResult, ErrorInfo, IsolationReport, Job, RunNotice,
                    RunResult)

START_TIMEOUT_S = 60.0
CELL_STATUSES = ("ok", "error")
CALL_STATUSES = ("passed", "failed", "error")


@dataclass
class SupervisorContext:
    """What the supervisor inherits from the template (no job data)."""

    sock: socket.socket
    template_pid: int
    mode: str
    report: IsolationReport
    cgroups: Layout | None
    grace_s: float
    max_restarts: int


def _str(value: Any, limit: int = 100_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _error(value: Any) -> ErrorInfo | None:
    """An ErrorInfo from an untrusted frame field (every part type-checked)."""
    if not isinstance(value, dict):
        return None
    frames = []
    for f in value.get("frames", []) if isinstance(value.get("frames"), list) else []:
        if isinstance(f, list) and len(f) == 3 and type(f[1]) is int:
            frames.append((_str(f[0], 300), f[1], _str(f[2], 300)))
    tb = value.get("traceback")
    lines = [_str(x, 2000) for x in tb[:200]] if isinstance(tb, list) else []
    return ErrorInfo(_str(value.get("ename"), 200), _str(value.get("evalue"), 4000), lines,
                     frames[-50:])


def _outputs(value: Any, cap: int) -> tuple[list[dict[str, Any]], bool]:
    """The outputs of a cell reply as valid nbformat outputs within the byte cap (the
    kernel is asked to cap them; a lying kernel is capped here)."""
    kept: list[dict[str, Any]] = []
    used, truncated = 0, False
    for out in value if isinstance(value, list) else []:
        clean = _output(out)
        if clean is None:
            continue
        size = len(json.dumps(clean, ensure_ascii=False))
        if used + size > cap + 65536:
            truncated = True
            break
        used += size
        kept.append(clean)
    return kept, truncated


def _output(out: Any) -> dict[str, Any] | None:
    if not isinstance(out, dict):
        return None
    kind = out.get("output_type")
    if kind == "stream" and out.get("name") in ("stdout", "stderr") and isinstance(out.get("text"), str):
        return {"output_type": "stream", "name": out["name"], "text": out["text"]}
    if kind in ("display_data", "execute_result") and isinstance(out.get("data"), dict):
        data = {k: v for k, v in out["data"].items() if isinstance(k, str) and isinstance(v, str)}
        clean: dict[str, Any] = {"output_type": kind, "data": data, "metadata": {}}
        if kind == "execute_result":
            count = out.get("execution_count")
            clean["execution_count"] = count if type(count) is int else None
        return clean
    if kind == "error":
        tb = out.get("traceback")
        return {"output_type": "error", "ename": _str(out.get("ename"), 200),
                "evalue": _str(out.get("evalue"), 4000),
                "traceback": [_str(x, 2000) for x in tb[:200]] if isinstance(tb, list) else []}
    return None


def _depth(value: Any, limit: int = 64) -> int:
    """How deeply a JSON value nests (stops counting past `limit`)."""
    if limit <= 0:
        return 1
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v, limit - 1) for v in value.values()), default=0)
    return 0


def _timeout_error(err: ErrorInfo | None, what: str, seconds: float) -> ErrorInfo:
    msg = f"the {what} did not finish within {seconds:g} s and was interrupted"
    lines = [ln for ln in (err.traceback if err else []) if not ln.startswith("KeyboardInterrupt")]
    return ErrorInfo("TimeoutError", msg, lines + [f"TimeoutError: {msg}"], err.frames if err else [])


def _died(ended: SandboxEnded) -> ErrorInfo:
    ename = "TimeoutError" if ended.kind == "timeout" else "KernelDied"
    return ErrorInfo(ename, ended.message, [f"{ename}: {ended.message}"], [])


class JobSupervisor:
    def __init__(self, ctx: SupervisorContext, job: Job) -> None:
        self.ctx, self.job = ctx, job
        self.limits = job.limits
        self.cells: list[CellResult | None] = [None] * len(job.cells)
        self.calls: list[CallResult | None] = [None] * len(job.calls)
        self.skip: set[int] = set()        # cells never replayed (timed out, crashed)
        self.notices: list[RunNotice] = []
        self.restarts = 0
        self.kernel: Sandbox | None = None
        self.jobdir = ""
        self.started = time.monotonic()
        budget = self.limits.submission_timeout_s
        self.budget_end = self.started + budget if budget else float("inf")
        self.driver: Driver | None = None
        self.gave_up: str | None = None
        self.timings = {"sandbox": 0.0, "cells": 0.0, "calls": 0.0, "teardown": 0.0}

    # -- the job ---------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Run the job's cells and calls (`close()` tears the sandbox down after)."""
        self.jobdir = tempfile.mkdtemp(prefix=f"grader-job-{os.getpid()}-")
        os.chdir(self.jobdir)   # a test's own files land here, not in the course
        mark = time.monotonic()
        for i in range(len(self.job.cells)):
            self.run_cell(i)
        self.timings["cells"] = time.monotonic() - mark
        mark = time.monotonic()
        for j in range(len(self.job.calls)):
            self.run_call(j)
        self.timings["calls"] = time.monotonic() - mark
        self.timings["cells"] -= self.timings["sandbox"]   # sandbox starts count apart
        return RunResult(cells=[c for c in self.cells if c is not None],
                         calls=[c for c in self.calls if c is not None],
                         isolation=self.ctx.report, restarts=self.restarts,
                         duration_s=time.monotonic() - self.started, notices=self.notices,
                         timings={k: round(max(v, 0.0), 6) for k, v in self.timings.items()})

    def close(self) -> None:
        """Kill the sandbox, remove its cgroup and the job's folder."""
        if self.kernel is not None:
            self.kernel.close()
        if self.jobdir:
            shutil.rmtree(self.jobdir, ignore_errors=True)

    def _deadline(self, seconds: float) -> float:
        return min(time.monotonic() + seconds, self.budget_end)

    def _over_budget(self) -> bool:
        return time.monotonic() >= self.budget_end

    # -- sandboxes -------------------------------------------------------------------------
    def _new_sandbox(self) -> Sandbox:
        n = self.restarts
        root, work, tmp = (os.path.join(self.jobdir, f"{d}{n}") for d in ("root", "work", "tmp"))
        os.makedirs(root)
        namespaced = self.ctx.mode in ("namespaces", "userns")
        overlay = self.job.workdir_mode == "overlay" and self.job.workdir is not None
        if not namespaced:   # no private tmpfs: a copy on the host, removed with the job
            if overlay:      # (no overlay without a mount namespace: the folder itself)
                work = str(self.job.workdir)
            elif self.job.workdir is not None:
                shutil.copytree(self.job.workdir, work, symlinks=True)
            else:
                os.makedirs(work)
            os.makedirs(tmp, mode=0o700)
        setup = SandboxSetup(root_dir=root, workdir=str(self.job.workdir) if self.job.workdir else None,
                             overlay=overlay,
                             work_dir_host=work, tmp_dir_host=tmp, disk_mb=self.limits.disk_mb,
                             memory_mb=self.limits.memory_mb,
                             output_cap=self.limits.output_cap_bytes,
                             pids_cgroup=False, seed=self.limits.seed)
        return Sandbox(template_sock=self.ctx.sock, template_pid=self.ctx.template_pid,
                       mode=self.ctx.mode, setup=setup, cgroup_layout=self.ctx.cgroups,
                       memory_bytes=self.limits.memory_mb << 20, pids_max=self.limits.pids_max,
                       grace_s=self.ctx.grace_s)

    def _lost(self, ended: SandboxEnded, key: str | None) -> None:
        """Forget a sandbox that ended; a fresh one replaces it for what remains."""
        if ended.kind == "tampered":
            self.notices.append(RunNotice("tampered", key, ended.message))
        if self.kernel is not None:
            self.kernel.close()
        self.kernel = None
        self.restarts += 1

    def kernel_for_next_item(self) -> Sandbox | None:
        """The live sandbox, or a fresh one with the earlier cells replayed silently."""
        while self.kernel is None:
            if self.gave_up or self._over_budget():
                return None
            if self.restarts > self.ctx.max_restarts:
                self.gave_up = f"not run: the kernel crashed {self.restarts} times; giving up"
                return None
            mark = time.monotonic()
            kernel = self._new_sandbox()
            try:
                kernel.start(time.monotonic() + START_TIMEOUT_S)
                self.timings["sandbox"] += time.monotonic() - mark
            except SandboxEnded as ended:
                kernel.close()
                if ended.kind == "fatal":
                    self.gave_up = f"the sandbox could not be set up: {ended.message.strip()}"
                    return None
                self.restarts += 1
                continue
            self.kernel = kernel
            for i, done in enumerate(self.cells):
                if done is None or i in self.skip:
                    continue
                try:
                    self._command(kernel, self._cell_command(i), self.limits.cell_timeout_s, "cell")
                except SandboxEnded as ended:
                    self.skip.add(i)   # it crashed on replay: never again
                    self._lost(ended, self.job.cells[i].key)
                    break
        return self.kernel

    def _command(self, kernel: Sandbox, cmd: dict[str, Any], seconds: float, expect: str):
        return kernel.command(cmd, self._deadline(seconds), expect=expect)

    def _unavailable(self) -> ErrorInfo:
        """Why an item was not run: the kernel kept crashing, or the time budget is spent."""
        message = self.gave_up or "not run: the submission used its whole time budget"
        ename = "KernelDied" if self.gave_up else "TimeoutError"
        if not self.gave_up and not any(n.message == message for n in self.notices):
            self.notices.append(RunNotice("timeout", None, message))
        return ErrorInfo(ename, message, [f"{ename}: {message}"], [])

    # -- cells -------------------------------------------------------------------------------
    def _cell_command(self, i: int) -> dict[str, Any]:
        cell = self.job.cells[i]
        return {"op": "cell", "index": i, "key": cell.key, "source": cell.source}

    def run_cell(self, i: int) -> None:
        key = self.job.cells[i].key
        kernel = self.kernel_for_next_item()
        if kernel is None:
            err = self._unavailable()
            status = "crashed" if self.gave_up else "timeout"
            self.cells[i] = CellResult(key, status, [], err, False, 0.0)  # type: ignore[arg-type]
            return
        try:
            reply = self._command(kernel, self._cell_command(i), self.limits.cell_timeout_s, "cell")
        except SandboxEnded as ended:
            self.skip.add(i)
            err = _died(ended)
            status = "timeout" if ended.kind == "timeout" else "crashed"
            self.cells[i] = CellResult(key, status, [  # type: ignore[arg-type]
                {"output_type": "error", "ename": err.ename, "evalue": err.evalue,
                 "traceback": list(err.traceback)}], err, False, 0.0)
            self._lost(ended, key)
            return
        frame = reply.frame
        status = frame.get("status")
        if frame.get("index") != i or status not in CELL_STATUSES:
            self._lost(self._tamper(kernel, "a cell reply with a wrong index or status"), key)
            self.skip.add(i)
            self.cells[i] = CellResult(key, "crashed", [], _died(SandboxEnded(
                "tampered", "the kernel broke the grading protocol")), False, 0.0)
            return
        outputs, cut = _outputs(frame.get("outputs"), self.limits.output_cap_bytes)
        err = _error(frame.get("error"))
        if reply.interrupted:
            status, err = "timeout", _timeout_error(err, "cell", self.limits.cell_timeout_s)
            outputs = [o for o in outputs if o.get("output_type") != "error"]
            outputs.append({"output_type": "error", "ename": err.ename, "evalue": err.evalue,
                            "traceback": list(err.traceback)})
            self.skip.add(i)
        duration = frame.get("duration_s")
        self.cells[i] = CellResult(key, status, outputs, err,  # type: ignore[arg-type]
                                   frame.get("truncated") is True or cut,
                                   float(duration) if type(duration) in (int, float) else 0.0)

    @staticmethod
    def _tamper(kernel: Sandbox, why: str) -> SandboxEnded:
        kernel.kill()
        ended = SandboxEnded("tampered", f"the kernel broke the grading protocol: {why}")
        kernel.ended = ended
        return ended

    # -- graded calls ----------------------------------------------------------------------
    def run_call(self, j: int) -> None:
        call = self.job.calls[j]
        kernel = self.kernel_for_next_item()
        if kernel is None:
            err = self._unavailable()
            self.calls[j] = CallResult(call.key, "crashed" if self.gave_up else "timeout",  # type: ignore[arg-type]
                                       None, error=err)
            return
        if call.notice:
            self.notices.append(RunNotice("isolation", call.key, call.notice))
        if call.mode == "driver":
            self.calls[j] = self._driver_call(kernel, call)
        else:
            self.calls[j] = self._kernel_call(kernel, j, call)

    def _kernel_call(self, kernel: Sandbox, j: int, call: Call) -> CallResult:
        cmd = {"op": "call", "index": j, "key": call.key, "setup": call.setup,
               "functions": call.functions, "want_value": call.want_value}
        try:
            reply = self._command(kernel, cmd, self.limits.call_timeout_s, "call")
        except SandboxEnded as ended:
            self._lost(ended, call.key)
            only = call.functions[0] if len(call.functions) == 1 else None
            return CallResult(call.key, "timeout" if ended.kind == "timeout" else "crashed",  # type: ignore[arg-type]
                              only, error=_died(ended))
        frame = reply.frame
        status = frame.get("status")
        if frame.get("index") != j or status not in CALL_STATUSES:
            self._lost(self._tamper(kernel, "a call reply with a wrong index or status"), call.key)
            return CallResult(call.key, "crashed", None, error=_died(SandboxEnded(  # type: ignore[arg-type]
                "tampered", "the kernel broke the grading protocol")))
        err = _error(frame.get("error"))
        function = frame.get("function") if isinstance(frame.get("function"), str) else None
        if reply.interrupted:
            status, err = "timeout", _timeout_error(err, "call", self.limits.call_timeout_s)
        value, value_error = frame.get("value"), frame.get("value_error")
        value_error = value_error[:2000] if isinstance(value_error, str) else None
        if _depth(value) >= 64:
            value, value_error = None, "the value is nested too deeply"
        duration = frame.get("duration_s")
        return CallResult(call.key, status, function, value=value,  # type: ignore[arg-type]
                          value_error=value_error,
                          error=err, output=_str(frame.get("output"), self.limits.output_cap_bytes),
                          duration_s=float(duration) if type(duration) in (int, float) else 0.0)

    def _driver_call(self, kernel: Sandbox, call: Call) -> CallResult:
        if self.driver is None:
            self.driver = Driver(self.job.helpers, self.job.framework, self.job.compiled)
        if self.limits.seed is not None:   # the test's own randomness, as in the kernel
            import random
            random.seed(self.limits.seed)
            numpy = sys.modules.get("numpy")
            if numpy is not None:
                numpy.random.seed(self.limits.seed)
        t0 = time.monotonic()
        deadline = self._deadline(self.limits.call_timeout_s)
        out = CappedText(self.limits.output_cap_bytes)
        state: dict[str, Any] = {"ended": None}

        def request(cmd: dict[str, Any]) -> dict[str, Any]:
            if state["ended"] is not None:
                raise state["ended"]
            conn.in_request = True   # type: ignore[attr-defined]
            try:
                reply = kernel.command(cmd, deadline, expect="px")
            except SandboxEnded as ended:
                state["ended"] = ended
                raise
            finally:
                conn.in_request = False   # type: ignore[attr-defined]
            if reply.interrupted:
                state["ended"] = SandboxEnded("timeout", "the test did not finish within "
                                              f"{self.limits.call_timeout_s:g} s")
                raise ItemTimeout()
            frame = reply.frame
            if not (("v" in frame) ^ ("err" in frame)):
                state["ended"] = self._tamper(kernel, "a proxy reply without a value or an error")
                raise state["ended"]
            return frame

        conn = Connection(request, out.write)
        conn.in_request = False   # type: ignore[attr-defined]
        outcome = self.driver.run(key=call.key, source=call.setup or "", functions=call.functions,
                                  conn=conn, out=out, deadline=deadline,
                                  failure=lambda: state["ended"])
        ended: SandboxEnded | None = state["ended"]
        if kernel.ended is not None:
            # the kernel died, was killed at the deadline or broke the protocol: the items
            # still to do run in a fresh process. A kernel that answered the interrupt
            # goes on, as the notebook does after a cell's timeout.
            self._lost(kernel.ended, call.key)
        if self.kernel is kernel:
            try:
                self._command(kernel, {"op": "release"}, self.limits.call_timeout_s, "px")
            except SandboxEnded as lost:
                self._lost(lost, call.key)
        return CallResult(call.key, outcome.status, outcome.function, error=outcome.error,  # type: ignore[arg-type]
                          output=outcome.output, duration_s=time.monotonic() - t0)


def _cap_own_memory(extra_bytes: int) -> None:
    """What a student's values can make trusted code allocate is bounded: the supervisor
    may grow by `extra_bytes` past its size at the start (a MemoryError fails the item)."""
    import resource
    try:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + extra_bytes, size + extra_bytes))
    except (OSError, ValueError):
        pass


def serve_job(ctx: SupervisorContext, job: Job, reply: Callable[[RunResult], None]) -> None:
    """Run the job and hand its result to `reply`, then tear the sandbox down: killing
    it and removing its cgroup take a few milliseconds, which the caller spends on its
    next submission instead of waiting."""
    isolation.set_not_dumpable()
    _cap_own_memory(max(2 << 30, 2 * (job.limits.memory_mb << 20)))
    supervisor = JobSupervisor(ctx, job)
    try:
        reply(supervisor.run())
    finally:
        supervisor.close()
