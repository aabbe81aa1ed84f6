"""The template's spare sandbox child: forked ahead of need, handed over on request.

Starting a sandbox used to wait ~12 ms on the kernel before any of the job ran: moving
the new process into its cgroup waits for an RCU grace period, and entering the
namespaces takes a little more. Neither needs the job, so the template forks the next
sandbox child as soon as it has handed one over, and that child joins a fresh cgroup
and enters its namespaces while the current sandbox runs. When the supervisor asks
for a sandbox, the spare receives the supervisor's three pipe ends and goes on as
any sandbox child does (grader.engine.child.run_child).

A spare holds no job data (the template has none), runs no student code, and its
cgroup has no limits until the supervisor that is handed it sets them, which it does
before it sends the child anything.
"""
from __future__ import annotations

import os
import signal
import socket
from typing import Any

from .cgroups import Cgroup, Layout


class Spares:
    """At most one spare child of the template, with its cgroup."""

    def __init__(self, template: Any, layout: Layout | None) -> None:
        self.template, self.layout = template, layout
        self.count = 0
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.cgroup: Cgroup | None = None
        self.handed: list[Cgroup] = []   # the cgroups of the current job's sandboxes

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
        pid = os.fork()
        if pid == 0:
            mine.close()
            run_spare(self.template, theirs.fileno(), cgroup.folders if cgroup else [])
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
            try:
                socket.send_fds(sock, [b"go"], fds)
            except OSError:          # it died: forget it, try a fresh one
                self._discard(pid, sock, cgroup)
                continue
            sock.close()
            if cgroup is not None:
                self.handed.append(cgroup)
            return pid, cgroup.name if cgroup else None
        raise OSError("the template could not hand over a sandbox child")

    def clean_up_job(self) -> None:
        """After a job's supervisor ended: remove the cgroups of the sandboxes it was
        handed if it did not (it died first), killing what is in them."""
        handed, self.handed = self.handed, []
        for cgroup in handed:
            if any(os.path.isdir(f) for f in cgroup.folders):
                cgroup.remove()

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
