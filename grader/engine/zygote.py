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

from . import sandbox  # noqa: E402
from .protocol import recv_pickle, send_pickle  # noqa: E402
from .types import GUARANTEE_KEYS, IsolationReport  # noqa: E402

# modules the sandbox child needs: imported here so the child reads nothing from disk
_CHILD_MODULES = ("grader.engine.runner", "grader.engine.capture", "grader.engine.jsonvalue",
                  "json", "linecache", "subprocess", "ctypes", "mmap", "codecs", "fcntl",
                  "signal", "struct", "traceback", "tempfile", "resource", "select", "shutil",
                  "IPython.core.interactiveshell", "IPython.utils.process")
MODES = ("namespaces", "userns", "bubblewrap", "rlimits")


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
        why = sandbox.probe(mode)
        if why is None:
            return mode, notes
        if requested != "auto":
            raise RuntimeError(f"isolation {mode!r} is unavailable: {why.strip()}")
        notes.append(f"{mode} unavailable: {why.strip()}")
    raise AssertionError("unreachable")


def isolation_report(mode: str, notes: list[str]) -> IsolationReport:
    g = dict.fromkeys(GUARANTEE_KEYS, False)
    g["memory_limit"] = True  # RLIMIT_AS in every mode
    g["no_leftover_processes"] = True
    if mode == "namespaces":
        g.update(no_network=True, private_filesystem=True, unprivileged_uid=True)
        notes.append("pid, mount, network, ipc and uts namespaces; allow-listed read-only "
                     f"root; runs as uid {sandbox.SANDBOX_UID}")
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
    from .capture import OutputSink
    from .shell import make_shell

    warnings: list[str] = []
    fw = init.get("framework_path")
    if fw:
        sys.path.insert(0, fw)
    shell = make_shell(init["ipython_dir"])
    for name in init.get("preload", ()):
        try:
            importlib.import_module(name)
        except BaseException as exc:  # the student's notebook will report it
            warnings.append(f"preload {name!r} failed: {type(exc).__name__}: {exc}")
    for name in _CHILD_MODULES:
        importlib.import_module(name)
    # exercise the run_cell path once (lazy imports, caches), then start clean
    import io
    shell.sink = OutputSink(1 << 20)
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()
    for src in ("1 + 1", "x = [i for i in range(3)]\nx", "%time y = 1", "def f():\n    return 1\nf()"):
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
    from .supervisor import ZygoteState

    init = recv_pickle(proto_in)
    try:
        mode, notes = resolve_isolation(init.get("isolation", "auto"))
        ipython_dir = tempfile.mkdtemp(prefix="grader-ipython-")
        init["ipython_dir"] = ipython_dir
        shell, warnings = warm(init)
        report = isolation_report(mode, notes)
        spec = sandbox.build_root_spec(init.get("framework_path"),
                                       [os.getcwd(), *init.get("hide", ())])
        sandbox.set_subreaper()
        state = ZygoteState(shell=shell, mode=mode, spec=spec, report=report,
                            ipython_dir=ipython_dir, framework_path=init.get("framework_path"),
                            grace_s=float(init.get("grace_s", 2.0)),
                            max_restarts=int(init.get("max_restarts", 8)),
                            private_fds=(proto_in, proto_out))
    except BaseException as exc:
        send_pickle(proto_out, ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return
    send_pickle(proto_out, ("ready", report, warnings))
    try:
        serve(state, proto_in, proto_out)
    finally:
        import shutil
        shutil.rmtree(ipython_dir, ignore_errors=True)


def serve(state: Any, proto_in: int, proto_out: int) -> None:
    from .jobrun import JobRun

    while True:
        try:
            msg = recv_pickle(proto_in)
        except EOFError:
            return
        if msg[0] == "close":
            return
        if msg[0] == "run":
            try:
                result = JobRun(state, msg[1], proto_in).run()
            except BaseException as exc:
                send_pickle(proto_out, ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                continue
            send_pickle(proto_out, ("result", result))


if __name__ == "__main__":
    main()
