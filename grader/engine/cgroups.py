"""A cgroup per sandbox: memory (tmpfs, memfd and shared memory included, no swap) and
a process limit that no other sandbox shares. cgroup v2 where it is mounted, v1
(memory + pids hierarchies) otherwise; `probe()` says which, or why neither works.

The template (root) creates a group for each sandbox child it forks ahead of need
(engine/spares.py), and the child joins it before any job exists: moving a process
into a group waits for an RCU grace period (~10 ms), which the previous sandbox's run
hides. The supervisor that is handed the child sets the group's limits before it
sends the child anything, and kills every process in it and removes it when the
sandbox ends.
"""
from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass, field

ROOT = "/sys/fs/cgroup"


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _own_path(controller: str | None) -> str:
    """This process's cgroup path in the v1 hierarchy `controller` (None: v2)."""
    for line in _read("/proc/self/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or \
                (controller is not None and controller in controllers.split(",")):
            return path
    return "/"


@dataclass
class Layout:
    """Where sandbox groups go: one parent folder per hierarchy."""

    version: int                     # 1 or 2
    parents: dict[str, str]          # controller (or "unified") -> parent folder
    notes: list[str] = field(default_factory=list)


def probe() -> tuple[Layout | None, str]:
    """The layout to use, or None and the reason."""
    if os.geteuid() != 0:
        return None, "not root: cgroups cannot be created"
    if os.path.exists(f"{ROOT}/cgroup.controllers"):
        return _probe_v2()
    parents = {}
    for controller in ("memory", "pids"):
        base = f"{ROOT}/{controller}"
        if not os.path.exists(f"{base}/cgroup.procs"):
            return None, f"cgroup v1 controller {controller!r} is not mounted"
        own = _own_path(controller)
        parent = os.path.normpath(f"{base}/{own}/grader")
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            return None, f"cannot create {parent}: {exc.strerror}"
        parents[controller] = parent
    memsw = os.path.exists(f"{parents['memory']}/memory.memsw.limit_in_bytes")
    notes = [] if memsw else ["swap is not accounted (no memory.memsw): swappiness set to 0"]
    return Layout(1, parents, notes), ""


def _probe_v2() -> tuple[Layout | None, str]:
    available = _read(f"{ROOT}/cgroup.controllers").split()
    if not {"memory", "pids"} <= set(available):
        return None, "cgroup v2 without the memory and pids controllers"
    parent = f"{ROOT}/grader"
    try:
        for folder in (ROOT, parent):
            if folder != ROOT:
                os.makedirs(folder, exist_ok=True)
            enabled = _read(f"{folder}/cgroup.subtree_control").split()
            if not {"memory", "pids"} <= set(enabled):
                _write(f"{folder}/cgroup.subtree_control", "+memory +pids")
    except OSError as exc:
        return None, f"cannot enable memory and pids for {parent}: {exc.strerror}"
    return Layout(2, {"unified": parent}), ""


class Cgroup:
    """One sandbox's group (a folder per v1 hierarchy, or one v2 folder)."""

    def __init__(self, layout: Layout, name: str) -> None:
        """The group `name` of `layout` (see `create`; adopting one makes it yours to
        limit, kill and remove)."""
        self.layout, self.name = layout, name
        self.folders = [os.path.join(parent, name) for parent in layout.parents.values()]
        self.memory_folder = next(f for f in self.folders if "memory" in f or layout.version == 2)

    @classmethod
    def create(cls, layout: Layout, name: str) -> Cgroup:
        """A new, empty group without limits (a stale one of that name is emptied first)."""
        group = cls(layout, name)
        for folder in group.folders:
            if os.path.isdir(folder):
                cls._empty(folder)
                os.rmdir(folder)
            os.mkdir(folder)
        return group

    def limit(self, *, memory_bytes: int, pids_max: int) -> None:
        """Set the memory (swap included, or swappiness 0) and process limits."""
        if self.layout.version == 2:
            folder = self.folders[0]
            _write(f"{folder}/memory.max", str(memory_bytes))
            if os.path.exists(f"{folder}/memory.swap.max"):
                _write(f"{folder}/memory.swap.max", "0")
            _write(f"{folder}/pids.max", str(pids_max))
        else:
            mem, pids = (os.path.join(self.layout.parents[c], self.name) for c in ("memory", "pids"))
            _write(f"{mem}/memory.limit_in_bytes", str(memory_bytes))
            if os.path.exists(f"{mem}/memory.memsw.limit_in_bytes"):
                _write(f"{mem}/memory.memsw.limit_in_bytes", str(memory_bytes))
            else:
                _write(f"{mem}/memory.swappiness", "0")
            _write(f"{pids}/pids.max", str(pids_max))

    def join(self, pid: int = 0) -> None:
        """Put `pid` (0: the caller) in every hierarchy of the group."""
        for folder in self.folders:
            _write(f"{folder}/cgroup.procs", str(pid or os.getpid()))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.folders:
            found.update(int(p) for p in _read(f"{folder}/cgroup.procs").split() if p.isdigit())
        return sorted(found)

    def oom_killed(self) -> bool:
        folder = self.memory_folder
        text = _read(f"{folder}/memory.events" if self.layout.version == 2
                     else f"{folder}/memory.oom_control")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return self.layout.version == 1 and _read(f"{folder}/memory.failcnt").strip() not in ("", "0")

    def kill(self, timeout_s: float = 10.0) -> bool:
        """SIGKILL every process in the group until it is empty; True when it is."""
        for folder in self.folders:
            if os.path.exists(f"{folder}/cgroup.kill"):
                try:
                    _write(f"{folder}/cgroup.kill", "1")
                except OSError:
                    pass
        end = time.monotonic() + timeout_s
        pause = 0.0002   # dying processes leave within a millisecond or two
        while True:
            left = self.pids()
            if not left:
                return True
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if time.monotonic() > end:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.005)

    @staticmethod
    def _empty(folder: str) -> None:
        for pid in _read(f"{folder}/cgroup.procs").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    def remove(self) -> None:
        self.kill()
        for folder in self.folders:
            end, pause = time.monotonic() + 5, 0.0002
            while os.path.isdir(folder):
                try:
                    os.rmdir(folder)
                except OSError:
                    if time.monotonic() > end:
                        break
                    time.sleep(pause)
                    pause = min(pause * 2, 0.005)


STALE = re.compile(r"^(?:sandbox|job)-(\d+)-\d+$")


def remove_stale(layout: Layout) -> None:
    """Remove the groups of templates that are gone (killed before their clean-up);
    a group is named after the template that created it (sandbox-PID-N)."""
    from .isolation import alive, owned_entries
    for parent in layout.parents.values():
        for name, pid in owned_entries(parent, STALE):
            if not alive(pid):
                try:
                    Cgroup(layout, name).remove()
                except OSError:
                    pass
