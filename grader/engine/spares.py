"""The template's spare sandbox child: forked ahead of need, handed over on request.

Starting a sandbox used to wait ~12 ms on the kernel before any of the job ran: moving
the new process into its cgroup waits for an RCU grace period, and entering the
namespaces takes a little more. Neither needs the job, so the template forks the next
sandbox child as soon as it has handed one over, and that child joins a fresh cgroup
and enters its namespaces while the current sandbox runs. When the supervisor asks
for a sandbox, the spare receives the supervisor's pipe ends and goes on as a sandbox
child (grader.engine.child.run_spare).

A spare holds no job data (the template has none), runs no student code, and its
cgroup has no limits until the supervisor that is handed it sets them, which it does
before it sends the child anything.

As root and in rlimits mode the spare is the kernel itself ("direct"): the template
forks it as PID 1 of a new PID namespace, keeps the supervisor's pid pipe and writes
on it the kernel's pid and, when a pidfd says it ended, its exit status (the kernel
stays a zombie until the job is over, so its pid is never reused while the
supervisor may signal it). In a user namespace only the child can make the PID
namespace, so there the spare is an intermediate C that forks the kernel and reports
on the pid pipe itself: one more fork per sandbox, and one more process's memory.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
from typing import Any

from . import isolation
from .cgroups import Cgroup, Layout


class Spares:
    """At most one spare child of the template, with its cgroup."""

    def __init__(self, template: Any, layout: Layout | None, direct: bool = True) -> None:
        self.template, self.layout = template, layout
        self.count = 0
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.cgroup: Cgroup | None = None
        self.handed: list[Cgroup] = []   # the cgroups of the current job's sandboxes
        self.direct = direct and template.mode in ("namespaces", "rlimits") and _pidfds_work()
        self.watched: dict[int, tuple[int, int]] = {}   # direct: pidfd -> (pid, pid pipe)

    def refill(self) -> None:
        """Fork a spare if there is none."""
        if self.pid is not None:
            return
        from .child import run_spare
        self.count += 1
        cgroup = None
        if self.layout is not None:
            cgroup = Cgroup.create(self.layout, f"sandbox-{os.getpid()}-{self.count}")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with (isolation.NewPidNamespace() if self.direct and self.template.mode == "namespaces"
              else contextlib.nullcontext()):
            pid = os.fork()
            if pid == 0:
                mine.close()
                run_spare(self.template, theirs.fileno(), cgroup.folders if cgroup else [],
                          self.direct)
        theirs.close()
        self.pid, self.sock, self.cgroup = pid, mine, cgroup

    def hand_over(self, fds: list[int]) -> tuple[int, str | None]:
        """Give the spare (a fresh one if there is none, or it is gone) the supervisor's
        pipe ends: (its pid, its cgroup's name or None). The caller refills."""
        for _ in range(2):
            self.refill()
            assert self.sock is not None and self.pid is not None
            pid, sock, cgroup = self.pid, self.sock, self.cgroup
            self.pid = self.sock = self.cgroup = None
            pidfd = -1
            try:
                if self.direct:
                    pidfd = os.pidfd_open(pid)
                socket.send_fds(sock, [b"go"], fds[:2] if self.direct else fds)
            except OSError:          # it died: forget it, try a fresh one
                if pidfd >= 0:
                    os.close(pidfd)
                self._discard(pid, sock, cgroup)
                continue
            sock.close()
            if cgroup is not None:
                self.handed.append(cgroup)
            if self.direct:          # the kernel's pid now; its exit status in report_exit
                pid_w = os.dup(fds[2])
                self.watched[pidfd] = (pid, pid_w)
                self._tell(pid_w, f"pid {pid}\n")
            return pid, cgroup.name if cgroup else None
        raise OSError("the template could not hand over a sandbox child")

    def report_exit(self, pidfd: int) -> None:
        """A handed kernel's pidfd is readable (it ended): write its exit status on the
        supervisor's pid pipe. It stays a zombie until the job's clean-up reaps it."""
        pid, pid_w = self.watched.pop(pidfd)
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:
            info = None
        if info is not None:
            self._tell(pid_w, f"exit {info.si_code} {info.si_status}\n")
        os.close(pid_w)
        os.close(pidfd)

    @staticmethod
    def _tell(pid_w: int, line: str) -> None:
        try:
            os.write(pid_w, line.encode())
        except OSError:   # the supervisor is gone
            pass

    def clean_up_job(self) -> None:
        """After a job's supervisor ended: remove the cgroups of the sandboxes it was
        handed if it did not (it died first), killing what is in them."""
        handed, self.handed = self.handed, []
        for cgroup in handed:
            if any(os.path.isdir(f) for f in cgroup.folders):
                cgroup.remove()
        for pidfd, (_, pid_w) in self.watched.items():
            os.close(pid_w)
            os.close(pidfd)
        self.watched.clear()

    def _discard(self, pid: int, sock: socket.socket, cgroup: Cgroup | None) -> None:
        sock.close()
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        if cgroup is not None:
            cgroup.remove()

    def close(self) -> None:
        if self.pid is not None and self.sock is not None:
            self._discard(self.pid, self.sock, self.cgroup)
        self.pid = self.sock = self.cgroup = None


def _pidfds_work() -> bool:
    """Whether this kernel has pidfds (Linux 5.3+), which a direct spare needs."""
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True
