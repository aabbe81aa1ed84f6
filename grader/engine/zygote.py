"""The zygote: a pre-warmed template process that forks one sandbox per job.

Run as `python -m grader.engine.zygote` by Engine.start(). It talks to the engine
over its original stdin/stdout (length-prefixed pickle); fd 1 is then pointed at
stderr so nothing printed by imported modules can corrupt the protocol. It stays
single-threaded so that fork() is safe.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported anywhere

import gc  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

from . import cgroups, isolation  # noqa: E402
from .protocol import recv_pickle, send_pickle  # noqa: E402
from .types import GUARANTEE_KEYS, IsolationReport  # noqa: E402

# modules the sandbox child needs: imported here so the child reads nothing from disk
_CHILD_MODULES = ("grader.engine.kernel.server", "grader.engine.kernel.capture",
                  "grader.engine.kernel.jsonvalue", "grader.engine.child", "grader.engine.wire",
                  "grader.engine.supervisor", "grader.engine.driver.run",
                  "IPython.core.inputtransformer2",
                  "json", "linecache", "subprocess", "ctypes", "mmap", "codecs", "fcntl",
                  "signal", "struct", "traceback", "tempfile", "resource", "select", "shutil",
                  "IPython.core.interactiveshell", "IPython.utils.process")
MODES = ("namespaces", "userns", "bubblewrap", "rlimits")
_NUMPY_LAZY = ("numpy.random", "numpy.linalg")
# Run once in the template so that every child inherits what they load and cache: the
# last two raise, which imports IPython's traceback formatter (stack_data, pygments) and
# fills inspect's module-by-file map; a child's first traceback then costs ~2 ms, not ~15.
_WARM_CELLS = ("1 + 1", "x = [i for i in range(3)]\nx", "%time y = 1",
               "def f():\n    return 1\nf()",
               "def g():\n    raise ValueError('warm')\ng()",
               "import json\njson.loads('{')")


def resolve_isolation(requested: str) -> tuple[str, list[str]]:
    """The mode to use, plus notes on why weaker modes were chosen."""
    notes: list[str] = []
    if requested not in ("auto", *MODES):
        raise ValueError(f"unknown isolation mode {requested!r}")
    if requested == "bubblewrap":
        raise RuntimeError("isolation 'bubblewrap' is not implemented by this engine")
    candidates = ["namespaces", "userns", "rlimits"] if requested == "auto" else [requested]
    if requested == "auto" and os.geteuid() != 0:
        candidates.remove("namespaces")
        notes.append("not running as root: no separate unprivileged uid for the sandbox")
    for mode in candidates:
        if mode == "rlimits":
            return mode, notes
        why = isolation.probe(mode)
        if why is None:
            return mode, notes
        if requested != "auto":
            raise RuntimeError(f"isolation {mode!r} is unavailable: {why.strip()}")
        notes.append(f"{mode} unavailable: {why.strip()}")
    raise AssertionError("unreachable")


def isolation_report(mode: str, notes: list[str], cgroups: Any) -> IsolationReport:
    g = dict.fromkeys(GUARANTEE_KEYS, False)
    g["no_leftover_processes"] = True
    g["trusted_tests"] = True
    if cgroups is not None:
        g.update(memory_limit=True, process_limit=True)
        notes.append(f"cgroup v{cgroups.version} per sandbox: memory (tmpfs, memfd and shared "
                     "memory included, no swap) and processes limited")
        notes.extend(cgroups.notes)
    else:
        notes.append("no cgroup: memory limited by RLIMIT_AS only (tmpfs and memfd pages are "
                     "not counted); the process limit is per uid")
    g["disk_limit"] = mode in ("namespaces", "userns")
    if mode == "namespaces":
        g.update(no_network=True, private_filesystem=True, unprivileged_uid=True)
        notes.append("pid, mount, network, ipc and uts namespaces; allow-listed read-only "
                     f"root; runs as uid {isolation.SANDBOX_UID}")
    elif mode == "userns":
        g.update(no_network=True, private_filesystem=True, unprivileged_uid=os.getuid() != 0)
        notes.append("user namespace: pid, mount and network namespaces without root; the code "
                     "runs with your own uid (capabilities dropped)")
    else:
        g["unprivileged_uid"] = os.geteuid() != 0
        notes.append("rlimits only: the code can read every file your user can read "
                     "(including other students' work) and can use the network")
        notes.append("leftover processes are found through /proc and killed (best effort)")
    return IsolationReport(mode=mode, guarantees=g, notes=notes)


def warm(init: dict[str, Any]) -> tuple[Any, list[str]]:
    from .kernel.capture import OutputSink
    from .kernel.shell import make_shell

    warnings: list[str] = []
    fw = init.get("framework_path")
    if fw:
        sys.path.insert(0, fw)
    shell = make_shell(init["ipython_dir"])
    shell.fast_path = bool(init.get("fast_path", True))
    for name in init.get("preload", ()):
        try:
            importlib.import_module(name)
        except BaseException as exc:  # the student's notebook will report it
            warnings.append(f"preload {name!r} failed: {type(exc).__name__}: {exc}")
    for name in _CHILD_MODULES:
        importlib.import_module(name)
    if "numpy" in sys.modules:   # numpy 2 imports these on first use: once here, not per child
        for name in _NUMPY_LAZY:
            importlib.import_module(name)
        # but each child draws its own numbers, as Python's `random` does after a fork:
        # else every sandbox and test driver would share the template's "random" state
        numpy = sys.modules["numpy"]
        os.register_at_fork(after_in_child=lambda: numpy.random.seed())
    # exercise the run_cell path once (lazy imports, caches), then start clean
    import io
    shell.sink = OutputSink(1 << 20)
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()
    for src in _WARM_CELLS:
        shell.run_cell(src, store_history=True)
    sys.stdout, sys.stderr = real_out, real_err
    shell.sink = None
    shell.reset(new_session=False)
    shell.execution_count = 1
    if threading.active_count() != 1:
        warnings.append(f"zygote has {threading.active_count()} threads; fork may be unsafe")
    gc.collect()
    gc.freeze()  # keep the template's objects out of the children's collections (fewer COW copies)
    return shell, warnings


def main() -> None:
    proto_in, proto_out = os.dup(0), os.dup(1)  # non-inheritable copies
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    sys.stdout = sys.stderr
    from .child import Template

    isolation.set_process_name("grader-zygote")
    init = recv_pickle(proto_in)
    try:
        mode, notes = resolve_isolation(init.get("isolation", "auto"))
        layout = None
        if mode in ("namespaces", "rlimits") and os.geteuid() == 0:
            layout, why = cgroups.probe()
            if layout is None:
                notes.append(f"cgroups unavailable: {why}")
            else:
                cgroups.remove_stale(layout)
        remove_stale_folders()
        ipython_dir = tempfile.mkdtemp(prefix=f"grader-ipython-{os.getpid()}-")
        init["ipython_dir"] = ipython_dir
        shell, warnings = warm(init)
        report = isolation_report(mode, notes, layout)
        spec = isolation.build_root_spec(init.get("framework_path"),
                                         [os.getcwd(), *init.get("hide", ())])
        isolation.set_subreaper()
        template = Template(shell=shell, mode=mode, spec=spec, ipython_dir=ipython_dir,
                            framework_path=init.get("framework_path"),
                            private_fds=(proto_in, proto_out))
    except BaseException as exc:
        send_pickle(proto_out, ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return
    from .spares import Spares
    spares = Spares(template, layout, direct=bool(init.get("direct_spares", True)))
    try:
        spares.refill()   # before "ready": a warm engine always has its next sandbox child
        send_pickle(proto_out, ("ready", report, warnings))
        serve(template, report, spares, init, proto_in, proto_out)
    finally:
        spares.close()
        import shutil
        shutil.rmtree(ipython_dir, ignore_errors=True)


def serve(template: Any, report: IsolationReport, spares: Any, init: dict[str, Any],
          proto_in: int, proto_out: int) -> None:
    """One job at a time: fork its supervisor, which reads the job itself, then hand it
    the sandbox children it asks for. The template never reads a byte of job data."""
    import socket

    layout = spares.layout
    while True:
        try:
            msg = recv_pickle(proto_in)
        except EOFError:
            return
        if msg[0] == "close":
            return
        if msg[0] == "learn":   # released cells, never job data (Engine.learn)
            _learn(template.shell, msg[1], msg[2] if len(msg) > 2 else ())
            spares.close()       # forked before: the next job's kernel has them too
            spares.refill()
            continue
        if msg[0] != "job":
            continue
        seq = msg[1] if len(msg) > 1 else None
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spid = os.fork()
        if spid == 0:
            mine.close()
            _supervise(theirs, template, report, layout, init, proto_in, proto_out, seq)
        theirs.close()
        status, replied = _fork_sandboxes(mine, spid, spares)
        mine.close()
        spares.clean_up_job()
        _sweep(keep=spares.pid)
        if status != 0:   # it died before its own clean-up (its temp folder)
            remove_stale_folders(spid)
        if status != 0 and not replied:
            send_pickle(proto_out, ("error", f"the job's supervisor died (status {status})",
                                    "", seq))


def _learn(shell: Any, cells: Any, setups: Any) -> None:
    """Compile released cells ahead for the kernels forked from now on; a failure
    costs only that speed-up."""
    try:
        shell.learn(cells, setups)
    except Exception:
        traceback.print_exc()
    gc.collect()
    gc.freeze()


def _supervise(sock: Any, template: Any, report: IsolationReport, layout: Any,
               init: dict[str, Any], proto_in: int, proto_out: int, seq: Any) -> None:
    """In the supervisor: read the job, run it, reply, tear down. Never returns.

    Replies carry the job's number, so an error the template sends for a supervisor
    that died after its reply can never be taken for the next job's."""
    code = 0
    replied = False

    def reply(result: Any) -> None:
        nonlocal replied
        send_pickle(proto_out, ("result", result, seq))
        replied = True
        sock.send(b"replied")   # the template sends no error for us from now on

    try:
        from .supervisor import SupervisorContext, serve_job
        isolation.set_process_name("grader-super")
        isolation.set_parent_death_signal()
        job = recv_pickle(proto_in)
        ctx = SupervisorContext(sock=sock, template_pid=os.getppid(), mode=template.mode,
                                report=report, cgroups=layout,
                                grace_s=float(init.get("grace_s", 2.0)),
                                max_restarts=int(init.get("max_restarts", 8)))
        try:
            serve_job(ctx, job, reply)
        except BaseException as exc:
            if not replied:
                send_pickle(proto_out, ("error", f"{type(exc).__name__}: {exc}",
                                        traceback.format_exc(), seq))
                replied = True
                sock.send(b"replied")
    except BaseException:
        code = 70
    os._exit(code)


def _fork_sandboxes(sock: Any, spid: int, spares: Any) -> tuple[int, bool]:
    """Hand the supervisor a sandbox child per request (the spare, engine/spares.py),
    and report the end of those the template is the parent of, until the supervisor
    ends: (its exit status, whether it replied to the caller)."""
    import select
    import socket

    status: int | None = None
    replied = False
    while True:
        ready = select.select([sock, *spares.watched], [], [], 0.5)[0]
        for pidfd in ready:
            if pidfd in spares.watched:
                spares.report_exit(pidfd)
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, 16, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                for fd in fds:
                    os.close(fd)
                break
            if data == b"replied" and not fds:
                replied = True
                continue
            if data != b"fork" or len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                sock.send(b"error bad request")
                continue
            try:
                pid, cgroup = spares.hand_over(fds)
            except OSError as exc:
                sock.send(f"error {exc}".encode()[:200])
                continue
            finally:
                for fd in fds:
                    os.close(fd)
            sock.send(f"pid {pid} {cgroup or '-'}".encode())
            spares.refill()   # the next one gets ready while this one runs
        status = _reap(spid, status)
    while status is None:
        status = _reap(spid, status, block=True)
    return status, replied


def _reap(spid: int, status: int | None, block: bool = False) -> int | None:
    """The supervisor's exit status once it ended. Only the supervisor is reaped here:
    the kernels stay zombies until the job's clean-up (_sweep) reaps everything."""
    if status is not None:
        return status
    try:
        pid, raw = os.waitpid(spid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return 0
    return os.waitstatus_to_exitcode(raw) if pid else None


def remove_stale_folders(owner: int | None = None) -> None:
    """Remove the temp folders (`grader-job-PID-*`, `grader-ipython-PID-*`) of processes
    that are gone, e.g. killed before their own cleanup ran; or those of `owner`."""
    import re
    import shutil
    pattern = re.compile(r"^grader-(?:job|ipython)-(\d+)-")
    root = tempfile.gettempdir()
    for name, pid in isolation.owned_entries(root, pattern):
        if (pid == owner) if owner is not None else not isolation.alive(pid):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _sweep(keep: int | None = None) -> None:
    """Nothing outlives a job: kill and reap every process left below the template
    (but the spare sandbox child `keep`, which has not been handed to any job)."""
    import signal
    import time
    end = time.monotonic() + 10
    while True:
        left = [pid for pid in isolation.descendants(os.getpid()) if pid != keep]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if not pid:
                break
        if not left or time.monotonic() > end:
            return
        time.sleep(0.005)


if __name__ == "__main__":
    main()
