"""Zygote side of one job: fork sandboxes, watch them (timeouts, crashes), restart.

Process tree per sandbox (namespaces/userns): zygote Z -> C (enters the namespaces,
waits) -> G (PID 1 of the new pid namespace, runs the cells). Killing G kills the
namespace. rlimits mode: Z -> G directly, and leftovers are swept from /proc.
"""
from __future__ import annotations

import mmap
import os
import select
import signal
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from . import sandbox
from .protocol import EventReader, encode_event, write_all
from .types import IsolationReport, Job

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
                home, tmp = sandbox.SANDBOX_CWD, "/tmp"
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
