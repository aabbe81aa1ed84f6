"""The supervisor's handle on one sandbox: fork it through the template, send it one
command at a time, and hold it to the deadline and the plan.

Every frame from the sandbox is untrusted. A command gets exactly one reply with the
same `seq` and the expected kind; anything else (an extra frame, a wrong seq, a frame
while no command is pending, an unreadable payload) ends the sandbox with
`Tampered`. Deadlines are the supervisor's own clock: nothing the sandbox sends can
extend them. At the deadline the kernel gets SIGINT (the student's code sees a
KeyboardInterrupt and the notebook goes on); if it has not answered within the grace
period, the sandbox is killed.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from . import isolation, wire
from .cgroups import Cgroup, Layout
from .child import SandboxSetup
from .protocol import HEADER, MAX_EVENT_BYTES, EventReader, write_all


class SandboxEnded(BaseException):
    """The sandbox is gone: it died, was killed at a deadline, or broke the protocol.

    A BaseException so that a test's `except Exception` cannot swallow it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind          # "timeout" | "crashed" | "tampered" | "fatal"
        self.message = message


@dataclass
class Reply:
    frame: dict[str, Any]
    interrupted: bool             # the deadline passed and the kernel was interrupted


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
    """One forked kernel. Create, `start()`, `command()` ..., `close()`."""

    def __init__(self, *, template_sock: socket.socket, template_pid: int, mode: str,
                 setup: SandboxSetup, cgroup_layout: Layout | None,
                 memory_bytes: int, pids_max: int, grace_s: float) -> None:
        self.sock, self.template_pid = template_sock, template_pid
        self.mode, self.setup, self.grace_s = mode, setup, grace_s
        self.cgroup_layout, self.memory_bytes, self.pids_max = cgroup_layout, memory_bytes, pids_max
        self.cgroup: Cgroup | None = None
        self.seq = 0
        self.cpid: int | None = None
        self.gpid: int | None = None
        self.exit: tuple[int, int] | None = None
        self.ended: SandboxEnded | None = None
        self.reader = EventReader()
        self.pending: list[dict[str, Any]] = []
        self._pid_buf = b""
        self.cmd_w = self.ev_r = self.pid_r = -1

    # -- start ---------------------------------------------------------------------------
    def start(self, deadline: float) -> None:
        cmd_r, self.cmd_w = os.pipe2(os.O_CLOEXEC)
        self.ev_r, ev_w = os.pipe2(os.O_CLOEXEC)
        self.pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
        try:
            socket.send_fds(self.sock, [b"fork"], [cmd_r, ev_w, pid_w])
            answer = self.sock.recv(64)
        finally:
            for fd in (cmd_r, ev_w, pid_w):
                os.close(fd)
        if not answer.startswith(b"pid "):
            raise SandboxEnded("fatal", f"the template could not fork a sandbox: {answer!r}")
        _, pid, cgroup = answer.decode().split()
        self.cpid = int(pid)
        if self.cgroup_layout is not None:
            if cgroup == "-":
                self.kill()
                raise SandboxEnded("fatal", "the template forked a sandbox without a cgroup")
            # its limits, before the child gets anything to run (engine/spares.py)
            self.cgroup = Cgroup(self.cgroup_layout, cgroup)
            try:
                self.cgroup.limit(memory_bytes=self.memory_bytes, pids_max=self.pids_max)
            except OSError as exc:
                self.kill()
                raise SandboxEnded("fatal", f"cannot limit the sandbox's cgroup: {exc}") from None
            self.setup.pids_cgroup = True
        payload = pickle.dumps(self.setup, protocol=pickle.HIGHEST_PROTOCOL)
        self._write(HEADER.pack(len(payload)) + payload, deadline)
        os.set_blocking(self.ev_r, False)
        ready = self._next_frame(deadline, allow_interrupt=False)
        if ready.get("ev") == "fatal":
            self.kill()
            raise SandboxEnded("fatal", str(ready.get("message", ""))[-2000:])
        if ready.get("ev") != "ready":
            self._tampered("the sandbox did not start with a ready frame")

    # -- one command, one reply ------------------------------------------------------------
    def command(self, cmd: dict[str, Any], deadline: float, *, expect: str) -> Reply:
        """Send `cmd`, wait for its reply until `deadline` (then interrupt, then kill)."""
        if self.ended is not None:
            raise self.ended
        if self.pending or self._readable(self.ev_r, 0):
            self._drain_pending()
            if self.pending:
                self._tampered("the sandbox sent a frame nobody asked for")
        self.seq += 1
        cmd["seq"] = self.seq
        self._write(wire.dumps_frame(cmd), deadline)
        interrupted = False
        try:
            frame = self._next_frame(deadline, allow_interrupt=True)
        except _Interrupted:
            interrupted = True
            frame = self._next_frame(time.monotonic() + self.grace_s, allow_interrupt=False,
                                     timed_out=True)
        if frame.get("seq") != self.seq or frame.get("ev") != expect:
            self._tampered(f"a frame out of place (expected the {expect} reply {self.seq})")
        if self.pending:
            self._tampered("the sandbox sent more than one reply")
        return Reply(frame, interrupted)

    def _next_frame(self, deadline: float, *, allow_interrupt: bool, timed_out: bool = False
                    ) -> dict[str, Any]:
        while True:
            if self.pending:
                frame = self.pending.pop(0)
                if not isinstance(frame, dict):
                    self._tampered("a frame that is not an object")
                return frame
            now = time.monotonic()
            if now >= deadline:
                if allow_interrupt:
                    self.interrupt()
                    raise _Interrupted()
                self.kill()
                self._end("timeout" if timed_out else "crashed",
                          "it did not stop after the interrupt; the kernel was killed and restarted"
                          if timed_out else "the kernel did not answer in time and was killed")
            ready = self._readable_any([self.ev_r, self.pid_r], min(deadline - now, 0.5))
            if self.pid_r in ready:
                self._read_pids()
                if self.exit is not None and self.ev_r not in ready:
                    self._drain_pending()   # the kernel is gone; a forked child may hold the pipe
                    if not self.pending:
                        self._died()
            if self.ev_r in ready:
                self._read_events()

    def _drain_pending(self) -> None:
        while self._readable(self.ev_r, 0) and self._read_events():
            pass

    def _read_events(self) -> bool:
        """Read what the event pipe holds into `pending`; False if nothing was there.
        End of file means the kernel died; an unreadable frame, that it broke the protocol."""
        try:
            data = os.read(self.ev_r, 1 << 20)
        except BlockingIOError:
            return False
        if not data:
            self._died()
        try:
            self.pending.extend(self.reader.feed(data))
        except (ValueError, RecursionError) as exc:
            self._tampered(f"an unreadable frame ({type(exc).__name__})")
        return True

    def _write(self, data: bytes, deadline: float) -> None:
        os.set_blocking(self.cmd_w, False)
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self.cmd_w], [], remaining)[1]:
                self.kill()
                self._end("timeout", "the kernel stopped reading its commands")
            try:
                n = os.write(self.cmd_w, view)
            except BlockingIOError:
                continue
            except BrokenPipeError:
                self._died()
            view = view[n:]

    # -- process handling -----------------------------------------------------------------
    @staticmethod
    def _readable(fd: int, timeout: float) -> bool:
        return bool(select.select([fd], [], [], timeout)[0])

    @staticmethod
    def _readable_any(fds: list[int], timeout: float) -> list[int]:
        fds = [fd for fd in fds if fd >= 0]
        return select.select(fds, [], [], max(0.0, timeout))[0]

    def _read_pids(self) -> None:
        try:
            data = os.read(self.pid_r, 4096)
        except OSError:
            data = b""
        if not data:
            os.close(self.pid_r)
            self.pid_r = -1
            return
        *lines, self._pid_buf = (self._pid_buf + data).split(b"\n")
        for line in lines:
            parts = line.decode(errors="replace").split()
            if parts[:1] == ["pid"] and len(parts) == 2 and parts[1].isdigit():
                self.gpid = int(parts[1])
            elif parts[:1] == ["exit"] and len(parts) == 3:
                self.exit = (int(parts[1]), int(parts[2]))

    def _died(self) -> None:
        end = time.monotonic() + 2
        while self.exit is None and self.pid_r >= 0 and time.monotonic() < end:
            if self._readable(self.pid_r, 0.05):
                self._read_pids()
        oom = self.cgroup is not None and self.cgroup.oom_killed()
        message = _describe_exit(*self.exit) if self.exit else "the kernel process died"
        if oom:
            message = "the kernel process was killed: it used more memory than the limit"
        self.kill()
        self._end("crashed", message)

    def _tampered(self, why: str) -> None:
        self.kill()
        self._end("tampered", f"the kernel broke the grading protocol: {why}")

    def _end(self, kind: str, message: str) -> None:
        self.ended = SandboxEnded(kind, message)
        raise self.ended

    def interrupt(self) -> None:
        self._signal(signal.SIGINT)

    def _signal(self, sig: int) -> None:
        if self.gpid is None and self.pid_r >= 0 and self._readable(self.pid_r, 0.5):
            self._read_pids()
        if self.gpid is not None:
            try:
                os.kill(self.gpid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """Kill every process of the sandbox (cgroup, namespace init, tree)."""
        emptied = self.cgroup is not None and self.cgroup.kill()
        self._signal(signal.SIGKILL)
        if self.cpid is not None and not emptied:   # no cgroup: look for them in /proc
            for pid in isolation.descendants(self.cpid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def close(self) -> None:
        if self.ended is None:
            try:
                self._write(wire.dumps_frame({"op": "bye"}), time.monotonic() + 0.5)
            except BaseException:
                pass
        self.kill()
        if self.cgroup is not None:
            self.cgroup.remove()
        for fd in (self.cmd_w, self.ev_r, self.pid_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.cmd_w = self.ev_r = self.pid_r = -1


class _Interrupted(Exception):
    pass


__all__ = ["Sandbox", "SandboxEnded", "Reply", "MAX_EVENT_BYTES"]
