"""Zygote side of one job: fork sandboxes, watch them (timeouts, crashes), restart.

Process tree per sandbox (namespaces/userns): zygote Z -> C (enters the namespaces,
waits) -> G (PID 1 of the new pid namespace, runs the cells). Killing G kills the
namespace. rlimits mode: Z -> G directly, and leftovers are swept from /proc.
"""
from __future__ import annotations

import errno
import mmap
import os
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from . import sandbox
from .protocol import EventReader, encode_event, write_all
from .types import (CallResult, CellResult, ErrorInfo, IsolationReport, Job, RunResult)

EVENT_FD = 1001  # where the child keeps its end of the private channel


@dataclass
class ZygoteState:
    shell: Any
    mode: str
    spec: sandbox.RootSpec
    report: IsolationReport
    ipython_dir: str
    framework_path: str | None
    grace_s: float
    max_restarts: int
    private_fds: tuple[int, ...]  # the zygote's protocol pipes: closed in every child


@dataclass
class Outcome:
    kind: str  # "done" | "died" | "fatal"
    current: tuple[str, int] | None = None  # item running when it died
    function: str | None = None
    timed_out: bool = False  # killed after an interrupt that did not work
    message: str = ""


def _describe_exit(code: int, status: int) -> str:
    if code == os.CLD_EXITED:
        return f"the kernel process exited with status {status} (os._exit or a fatal error)"
    try:
        name = signal.Signals(status).name
    except ValueError:
        name = f"signal {status}"
    extra = " (segmentation fault)" if status == signal.SIGSEGV else ""
    extra = " (out of memory?)" if status == signal.SIGKILL else extra
    return f"the kernel process was killed by {name}{extra}"


class Sandbox:
    """One forked child tree running a plan; the zygote is its watchdog."""

    def __init__(self, z: ZygoteState, job: Job, plan: dict[str, Any], root_dir: str, work_dir: str):
        self.z, self.job, self.plan = z, job, plan
        self.root_dir, self.work_dir = root_dir, work_dir
        self.namespaced = z.mode in ("namespaces", "userns")
        self.gpid: int | None = None
        self.exit: tuple[int, int] | None = None

    # -- child side ---------------------------------------------------------------------
    def _child(self, ev_w: int, pid_w: int, ctl: mmap.mmap, zpid: int) -> None:
        try:
            for fd in self.z.private_fds:
                os.close(fd)
            sandbox.set_parent_death_signal()
            if os.getppid() != zpid:
                os._exit(1)
            if self.namespaced:
                sandbox.enter_namespaces(userns=(self.z.mode == "userns"))
                g = os.fork()
                if g:
                    os.close(ev_w)
                    write_all(pid_w, f"pid {g}\n".encode())
                    info = os.waitid(os.P_PID, g, os.WEXITED | os.WNOWAIT)  # G stays a zombie
                    write_all(pid_w, f"exit {info.si_code} {info.si_status}\n".encode())
                    os._exit(0)
                sandbox.set_parent_death_signal()
                os.close(pid_w)
                sandbox.setup_root(self.z.spec, self.root_dir, self.work_dir)
                sandbox.sethostname("sandbox")
                home = tmp = sandbox.SANDBOX_CWD
                tmp = "/tmp"
            else:
                os.close(pid_w)
                os.setpgid(0, 0)
                os.chdir(self.work_dir)
                home = self.work_dir
                tmp = os.path.join(os.path.dirname(self.work_dir), "tmp")
            self._grandchild(ev_w, ctl, home, tmp)
        except BaseException:
            try:
                write_all(ev_w, encode_event({"ev": "fatal", "message": traceback.format_exc()}))
            finally:
                os._exit(70)
        os._exit(0)

    def _grandchild(self, ev_w: int, ctl: mmap.mmap, home: str, tmp: str) -> None:
        os.dup2(ev_w, EVENT_FD, inheritable=False)
        os.close(ev_w)
        os.closerange(3, EVENT_FD)
        os.closerange(EVENT_FD + 1, 65536)
        sandbox.drop_privileges(self.z.mode)
        sandbox.apply_rlimits(self.job.limits.memory_mb, self.z.mode)
        os.environ.clear()
        os.environ.update(sandbox.sandbox_environ(home, tmp, self.z.ipython_dir))
        import tempfile as _tf
        _tf.tempdir = None
        cwd_entry = sys.path[0] if sys.path else None
        sys.path[:] = [p for p in sys.path if p not in ("", cwd_entry, self.z.framework_path)]
        sys.path[:0] = ([self.z.framework_path] if self.z.framework_path else []) + [""]
        sys.dont_write_bytecode = True
        from .runner import Runner
        Runner(self.z.shell, self.job, self.plan, EVENT_FD, ctl).run()

    # -- zygote side ----------------------------------------------------------------------
    def run(self, on_event: Callable[[dict[str, Any], bool], None], engine_fd: int) -> Outcome:
        ev_r, ev_w = os.pipe2(os.O_CLOEXEC)
        pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
        ctl = mmap.mmap(-1, 16)
        zpid = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(ev_r)
            os.close(pid_r)
            self._child(ev_w, pid_w, ctl, zpid)
        os.close(ev_w)
        os.close(pid_w)
        self.cpid = pid
        if not self.namespaced:
            self.gpid = pid
        self._pid_r, self._pid_r_open = pid_r, True
        try:
            return self._watch(ev_r, pid_r, ctl, on_event, engine_fd)
        finally:
            self._cleanup(pid_r)
            os.close(ev_r)
            os.close(pid_r)
            ctl.close()

    def _watch(self, ev_r: int, pid_r: int, ctl: mmap.mmap,
               on_event: Callable[[dict[str, Any], bool], None], engine_fd: int) -> Outcome:
        limits = self.job.limits
        reader = EventReader()
        current: tuple[str, int] | None = None
        seq = 0
        function: str | None = None
        deadline: float | None = None
        kill_at: float | None = None
        interrupted = killed = False
        watch = [ev_r, pid_r, engine_fd]
        while True:
            now = time.monotonic()
            waits = [t - now for t in (deadline, kill_at) if t is not None]
            timeout = max(0.0, min(waits + [0.25]))
            ready, _, _ = select.select(watch, [], [], timeout)
            if engine_fd in ready:  # the engine went away: stop everything
                self._kill()
                os._exit(0)
            if pid_r in ready:
                self._poll_pid_pipe(0)
                if not self._pid_r_open:
                    watch.remove(pid_r)
            if ev_r in ready:
                data = os.read(ev_r, 1 << 20)
                if not data:
                    return self._death(current, function, killed)
                try:
                    events = reader.feed(data)
                except ValueError as exc:
                    self._kill()
                    return Outcome("died", current, function, False, f"protocol violation: {exc}")
                for ev in events:
                    kind = ev.get("ev")
                    if kind == "start":
                        current, seq, function = (ev["kind"], int(ev["index"])), int(ev["seq"]), None
                        budget = limits.cell_timeout_s if ev["kind"] == "cell" else limits.call_timeout_s
                        deadline, kill_at, interrupted = time.monotonic() + budget, None, False
                    elif kind == "fn":
                        function = ev.get("name")
                    elif kind in ("cell", "call"):
                        if int(ev.get("seq", -1)) == seq:
                            on_event(ev, interrupted)
                            current, deadline, kill_at, interrupted = None, None, None, False
                    elif kind == "done":
                        return Outcome("done")
                    elif kind == "fatal":
                        self._kill()
                        return Outcome("fatal", message=str(ev.get("message", "")))
            now = time.monotonic()
            if deadline is not None and now >= deadline and not interrupted:
                struct.pack_into("Q", ctl, 8, seq)
                self._signal(signal.SIGINT)
                interrupted, deadline, kill_at = True, None, now + self.z.grace_s
            elif kill_at is not None and now >= kill_at:
                self._kill()
                killed, kill_at = True, None
            if not self.namespaced and self.exit is None:
                self._poll_exit()
                if self.exit is not None:  # a forked grandchild may hold the pipe: drain, stop
                    self._drain(ev_r, reader, seq, on_event, interrupted)
                    return self._death(current, function, killed)

    def _drain(self, ev_r: int, reader: EventReader, seq: int,
               on_event: Callable[[dict[str, Any], bool], None], interrupted: bool) -> None:
        while select.select([ev_r], [], [], 0)[0]:
            data = os.read(ev_r, 1 << 20)
            if not data:
                return
            for ev in reader.feed(data):
                if ev.get("ev") in ("cell", "call") and int(ev.get("seq", -1)) == seq:
                    on_event(ev, interrupted)

    def _death(self, current: tuple[str, int] | None, function: str | None, killed: bool) -> Outcome:
        if self.namespaced:
            end = time.monotonic() + 5
            while self.exit is None and time.monotonic() < end:
                self._poll_pid_pipe(0.1)
        else:
            self._poll_exit(block=True)
        if killed:
            msg = "it did not stop after the interrupt; the kernel was killed and restarted"
        elif self.exit is not None:
            msg = _describe_exit(*self.exit)
        else:
            msg = "the kernel process died"
        return Outcome("died", current, function, killed, msg)

    # -- process handling -----------------------------------------------------------------
    def _parse_pid_lines(self, buf: bytes) -> bytes:
        *lines, rest = buf.split(b"\n")
        for line in lines:
            parts = line.decode(errors="replace").split()
            if parts[:1] == ["pid"]:
                self.gpid = int(parts[1])
            elif parts[:1] == ["exit"]:
                self.exit = (int(parts[1]), int(parts[2]))
        return rest

    _pid_rest = b""

    def _poll_pid_pipe(self, timeout: float) -> None:
        if self._pid_r_open and select.select([self._pid_r], [], [], timeout)[0]:
            data = os.read(self._pid_r, 4096)
            if not data:
                self._pid_r_open = False
            self._pid_rest = self._parse_pid_lines(self._pid_rest + data)
        elif not self._pid_r_open and timeout:
            time.sleep(timeout)

    def _poll_exit(self, block: bool = False) -> None:
        if self.exit is not None:
            return
        try:
            pid, status = os.waitpid(self.cpid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            if os.WIFSIGNALED(status):
                self.exit = (os.CLD_KILLED, os.WTERMSIG(status))
            else:
                self.exit = (os.CLD_EXITED, os.WEXITSTATUS(status))
            self.reaped = True

    def _signal(self, sig: int) -> None:
        if self.gpid is not None:
            try:
                os.kill(self.gpid, sig)
            except ProcessLookupError:
                pass

    def _kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _cleanup(self, pid_r: int) -> None:
        """Kill the whole tree and reap everything; nothing survives the sandbox."""
        self._kill()
        end = time.monotonic() + 10
        while True:
            left = sandbox.descendants(os.getpid())
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            while True:  # reap whatever died (orphans are ours: we are the subreaper)
                try:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    pid = 0
                if not pid:
                    break
            if not left or time.monotonic() > end:
                break
            time.sleep(0.005)


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
