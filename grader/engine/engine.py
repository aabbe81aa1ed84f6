"""Engine: the caller's handle on a zygote process (start, run jobs, close)."""
from __future__ import annotations

import dataclasses
import logging
import os
import signal
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from .errors import EngineError, IsolationUnavailable, ZygoteError
from .protocol import recv_pickle, send_pickle
from .types import IsolationReport, Job, RunResult

log = logging.getLogger(__name__)
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds grader/
WATCHDOG_SLACK_S = 120.0   # past the submission budget, the supervisor itself is stuck


class Engine:
    """Runs Jobs in isolated sandboxes forked from a pre-warmed zygote.

    One job at a time per Engine (calls to run() are serialised); use one Engine per
    worker for parallel grading.
    """

    def __init__(self, *, framework_path: Path | None = None, preload: Sequence[str] = ("numpy",),
                 isolation: str = "auto", python: str | None = None,
                 hide: Sequence[Path] = (), interrupt_grace_s: float = 2.0,
                 max_restarts: int = 8, fast_path: bool | None = None,
                 watchdog_slack_s: float = WATCHDOG_SLACK_S, direct_spares: bool = True) -> None:
        self.framework_path = Path(framework_path).resolve() if framework_path else None
        self.preload = list(preload)
        self.isolation_requested = isolation
        self.python = python or sys.executable
        self.hide = [str(Path(h).resolve()) for h in hide]
        self.interrupt_grace_s = interrupt_grace_s
        self.max_restarts = max_restarts
        # plain-Python cells skip IPython's token transforms; GRADER_FAST_PATH=0 turns that
        # off for a whole run (`make bench` measures both paths in one run)
        self.fast_path = fast_path if fast_path is not None else \
            os.environ.get("GRADER_FAST_PATH", "1") != "0"
        self.watchdog_slack_s = watchdog_slack_s
        # False: the kernel is forked by an intermediate child even as root, as in user
        # namespaces or without pidfds (engine/spares.py); tests run that path as root
        self.direct_spares = direct_spares
        self.isolation: IsolationReport | None = None
        self.preload_warnings: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False          # the zygote answered its init (warm, or failed)
        self._job_seq = 0            # replies carry their job's number
        # released cells and in-kernel test cells taught (learn)
        self._learned: tuple[list[tuple[str, str]], list[tuple[str, str]]] = ([], [])
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    def launch(self) -> "Engine":
        """Start the zygote without waiting for it to be warm (`start()` waits), so that
        its warm-up (half a second: IPython, numpy) overlaps the caller's own work."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._launch()
        return self

    def start(self) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._launch()
            if not self._ready:
                self._await_ready()

    def _launch(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        try:
            proc = subprocess.Popen([self.python, "-m", "grader.engine.zygote"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, env=env, bufsize=0, close_fds=True,
                                    start_new_session=True)  # Ctrl-C goes to the caller only
        except OSError as exc:
            raise EngineError(f"cannot start the engine's zygote with {self.python}: {exc}") from exc
        assert proc.stdin is not None and proc.stdout is not None
        self._proc = proc
        init = {"framework_path": str(self.framework_path) if self.framework_path else None,
                "preload": self.preload, "isolation": self.isolation_requested, "hide": self.hide,
                "grace_s": self.interrupt_grace_s, "max_restarts": self.max_restarts,
                "fast_path": self.fast_path, "direct_spares": self.direct_spares}
        self._ready = False
        self._exchange(init, receive=False)

    def _await_ready(self) -> None:
        reply = self._exchange()
        if reply[0] == "error":
            self._terminate()
            cls = IsolationUnavailable if "isolation" in reply[1] else EngineError
            raise cls(f"the engine's zygote failed to start: {reply[1]}")
        _, self.isolation, self.preload_warnings = reply
        self._ready = True
        for w in self.preload_warnings:
            log.warning("%s", w)
        if self._learned[0] or self._learned[1]:   # a restarted template learns them again
            self._exchange(("learn", *self._learned), receive=False)

    def learn(self, cells: Sequence[tuple[str, str]],
              setups: Sequence[tuple[str, str]] = ()) -> None:
        """Have the template compile these code cells (key, text) and in-kernel test
        cells (Call key, setup text) ahead, so that the kernels forked after this run
        them without compiling (see SandboxShell.learn). Only text every student was
        given (the release) may be taught: each sandbox can read all of it. A
        submission's own cells are compiled in its kernel, as always."""
        cells = [(str(key), str(text)) for key, text in cells]
        setups = [(str(key), str(text)) for key, text in setups]
        with self._lock:
            self._learned = (self._learned[0] + cells, self._learned[1] + setups)
            if self._ready and self._proc is not None and self._proc.poll() is None:
                self._exchange(("learn", cells, setups), receive=False)

    def _exchange(self, *msgs: Any, timeout_s: float | None = None, receive: bool = True) -> Any:
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        try:
            for msg in msgs:
                send_pickle(self._proc.stdin.fileno(), msg)
            if timeout_s is not None and not select.select([self._proc.stdout], [], [], timeout_s)[0]:
                # the supervisor itself is stuck (its own deadlines failed): end the
                # whole process group; the next job starts a fresh template
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._terminate()
                raise EngineError(f"the job did not finish within {timeout_s:g} s, although "
                                  "every deadline should have ended it; the engine was restarted")
            return recv_pickle(self._proc.stdout.fileno()) if receive else None
        except (EOFError, BrokenPipeError, OSError) as exc:
            self._terminate()
            raise ZygoteError(f"the engine's zygote died: {exc}") from exc

    def run(self, job: Job) -> RunResult:
        if job.workdir is not None:
            workdir = Path(job.workdir).resolve()
            if not workdir.is_dir():
                raise EngineError(f"job workdir {workdir} is not a folder")
            job = dataclasses.replace(job, workdir=workdir)
        setups = [(c.key, c.setup or "") for c in job.calls if c.mode == "driver"]
        if setups and not job.compiled:
            from grader.engine.driver.run import precompile
            job = dataclasses.replace(job, compiled=precompile(job.helpers, setups))
        keys = [c.key for c in job.cells]
        if len(set(keys)) != len(keys):
            raise EngineError("cell keys must be unique within a job")
        self.start()
        with self._lock:
            # the template forks the job's supervisor, which reads the job itself
            budget = job.limits.submission_timeout_s
            self._job_seq += 1
            reply = self._exchange(("job", self._job_seq), job,
                                   timeout_s=budget + self.watchdog_slack_s if budget else None)
            while reply[-1] != self._job_seq:   # a late error about an earlier job
                reply = self._exchange(timeout_s=budget + self.watchdog_slack_s if budget else None)
        if reply[0] == "error":
            raise EngineError(f"the engine failed while running a job: {reply[1]}\n{reply[2]}")
        result: RunResult = reply[1]
        return result

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and not self._ready:
                try:   # launched, still warming up: nothing of it to keep (no job, no
                    os.killpg(self._proc.pid, signal.SIGKILL)   # sandbox); its temp
                except ProcessLookupError:   # folder goes when the next template starts
                    pass
            elif self._proc is not None and self._proc.poll() is None:
                try:
                    assert self._proc.stdin is not None
                    send_pickle(self._proc.stdin.fileno(), ("close",))
                except OSError:
                    pass
            self._terminate()

    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
