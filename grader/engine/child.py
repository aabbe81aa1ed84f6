"""The child side of a sandbox fork, from the template's copy to the kernel server.

The template (zygote) forks the sandbox child ahead of need (engine/spares.py); it
joins its cgroup and enters its namespaces, then waits for the pipe ends the
supervisor hands over: the command pipe (read), the event pipe (write) and, where it
forks the kernel itself, the pid pipe (write). It reads its setup from the command
pipe (pickled by the supervisor, which is trusted), then becomes the kernel G: it
builds the allow-listed root with a tmpfs working folder holding a copy of the
submission, drops to the sandbox uid, and serves the supervisor's commands
(grader.engine.kernel.server).

As root (and in rlimits mode) the child is G itself: the template forked it as PID 1
of a new PID namespace, and reports its pid and exit status to the supervisor. In a
user namespace the PID namespace can only be made by the child, so there it is an
intermediate C that forks G (PID 1 there) and reports G's pid and exit status.
No job data exists in the template, so nothing of another submission is in G's
memory; the job's cells reach G only as commands, after the fork.
"""
from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from . import isolation
from .protocol import encode_event, recv_pickle, write_all

CMD_FD, EVENT_FD = 1000, 1001   # where G keeps its ends of the private channel


@dataclass
class SandboxSetup:
    """What one sandbox needs beyond the template's state (sent by the supervisor)."""

    root_dir: str                  # host folder to mount the new root on (namespaces)
    workdir: str | None            # submission folder to copy in; None: empty
    overlay: bool                  # see workdir read-only with a private upper layer
    work_dir_host: str             # rlimits mode: the host working folder
    tmp_dir_host: str              # rlimits mode: the host temp folder
    disk_mb: int
    memory_mb: int
    output_cap: int
    pids_cgroup: bool              # its cgroup limits processes (else RLIMIT_NPROC)
    seed: int | None = None        # re-seed the random generators before every cell


@dataclass
class Template:
    """The template's warm state every child inherits."""

    shell: Any
    mode: str
    spec: isolation.RootSpec
    ipython_dir: str
    framework_path: str | None
    private_fds: tuple[int, ...]   # the template's own channels: closed in every child


def run_spare(t: Template, sock: int, cgroup_folders: list[str], direct: bool) -> None:
    """In the sandbox child, forked ahead of need (engine/spares.py): join the cgroup,
    enter the namespaces, then wait for the supervisor's pipe ends. `direct`: this
    process becomes the kernel (already PID 1 of its PID namespace, as root); else it is
    the intermediate C that forks it. Never returns."""
    failed = None
    try:
        os.closerange(3, sock)   # the template's channels and whatever job it serves
        os.closerange(sock + 1, max(65536, os.sysconf("SC_OPEN_MAX")))
        isolation.set_parent_death_signal()
        isolation.set_process_name("grader-spare")
        for folder in cgroup_folders:
            with open(os.path.join(folder, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        if t.mode in ("namespaces", "userns"):
            isolation.enter_namespaces(userns=(t.mode == "userns"), pid=not direct)
    except BaseException:
        failed = traceback.format_exc()[-4000:]
    try:
        import socket
        channel = socket.socket(fileno=sock)
        _, fds, _, _ = socket.recv_fds(channel, 16, 3)
        channel.close()
    except BaseException:
        os._exit(0)
    if len(fds) != (2 if direct else 3):
        os._exit(0)              # the template closed it: not needed
    if failed is not None:       # reported on the event pipe, like any set-up failure
        try:
            write_all(fds[1], encode_event({"ev": "fatal", "message": failed}))
        finally:
            os._exit(70)
    if direct:
        run_kernel(t, *fds)
    run_child(t, *fds)


def run_child(t: Template, cmd_r: int, ev_w: int, pid_w: int) -> None:
    """In C, in its cgroup and namespaces (run_spare), with the supervisor's pipe ends:
    fork G, report G's pid and exit. Never returns."""
    try:
        g = os.fork()
        if g:
            os.close(ev_w)
            os.close(cmd_r)
            write_all(pid_w, f"pid {g}\n".encode())
            info = os.waitid(os.P_PID, g, os.WEXITED | os.WNOWAIT)  # G stays a zombie
            write_all(pid_w, f"exit {info.si_code} {info.si_status}\n".encode())
            os._exit(0)
        isolation.set_parent_death_signal()
        os.close(pid_w)
    except BaseException:
        try:
            write_all(ev_w, encode_event({"ev": "fatal", "message": traceback.format_exc()[-4000:]}))
        finally:
            os._exit(70)
    run_kernel(t, cmd_r, ev_w)


def run_kernel(t: Template, cmd_r: int, ev_w: int) -> None:
    """In G, in its cgroup and namespaces: read the setup, build the sandbox, serve the
    supervisor's commands. Never returns."""
    try:
        isolation.set_process_name("grader-kernel")
        setup: SandboxSetup = recv_pickle(cmd_r)
        if t.mode in ("namespaces", "userns"):
            owner = (isolation.SANDBOX_UID, isolation.SANDBOX_GID) if t.mode == "namespaces" else None
            isolation.setup_root(t.spec, setup.root_dir, setup.workdir, disk_mb=setup.disk_mb,
                                 owner=owner, overlay=setup.overlay)
            isolation.sethostname("sandbox")
            home, tmp = isolation.SANDBOX_CWD, "/tmp"
        else:
            os.setpgid(0, 0)
            os.chdir(setup.work_dir_host)
            home, tmp = setup.work_dir_host, setup.tmp_dir_host
        _kernel(t, setup, cmd_r, ev_w, home, tmp)
    except BaseException:
        try:
            write_all(ev_w, encode_event({"ev": "fatal", "message": traceback.format_exc()[-4000:]}))
        finally:
            os._exit(70)
    os._exit(0)


def _kernel(t: Template, setup: SandboxSetup, cmd_r: int, ev_w: int, home: str, tmp: str) -> None:
    os.dup2(cmd_r, CMD_FD, inheritable=False)
    os.dup2(ev_w, EVENT_FD, inheritable=False)
    os.closerange(3, CMD_FD)
    os.closerange(EVENT_FD + 1, max(65536, os.sysconf("SC_OPEN_MAX")))
    isolation.drop_privileges(t.mode)
    isolation.apply_rlimits(setup.memory_mb, t.mode, pids_cgroup=setup.pids_cgroup)
    os.environ.clear()
    os.environ.update(isolation.sandbox_environ(home, tmp, t.ipython_dir))
    import tempfile
    tempfile.tempdir = None
    cwd_entry = sys.path[0] if sys.path else None
    sys.path[:] = [p for p in sys.path if p not in ("", cwd_entry, t.framework_path)]
    sys.path[:0] = ([t.framework_path] if t.framework_path else []) + [""]
    sys.dont_write_bytecode = True
    from .kernel.server import serve
    serve(t.shell, CMD_FD, EVENT_FD, setup.output_cap, seed=setup.seed)
