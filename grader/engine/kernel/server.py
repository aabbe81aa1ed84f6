"""Child side: runs a Job's cells and calls inside the sandbox, reporting over the
private event pipe (JSON frames). Never returns: the process ends with os._exit.
"""
from __future__ import annotations

import json
import linecache
import mmap
import os
import re
import signal
import struct
import sys
import time
import traceback
from dataclasses import asdict
from typing import Any

import IPython

from .capture import CappedStream, FdCapture, OutputSink
from .jsonvalue import to_json
from .protocol import encode_event, write_all
from .shell import SandboxShell
from .types import Call, Cell, ErrorInfo, Job

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_INTERNAL_DIRS = (os.path.dirname(IPython.__file__), os.path.dirname(__file__))
MAX_VALUE_BYTES = 16 << 20


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def _is_internal(filename: str) -> bool:
    return filename.startswith(_INTERNAL_DIRS) or filename.startswith("<frozen")


def error_info(exc: BaseException) -> ErrorInfo:
    """Plain-text traceback and frames of exc, without the engine's/IPython's own frames."""
    summary = traceback.extract_tb(exc.__traceback__)
    start = 0
    while start < len(summary) and _is_internal(summary[start].filename):
        start += 1
    if start == len(summary):
        start = 0
    frames = list(summary)[start:]
    lines: list[str] = []
    if frames:
        lines.append("Traceback (most recent call last):")
        lines += "".join(traceback.format_list(frames)).splitlines()
    try:
        lines += "".join(traceback.format_exception_only(type(exc), exc)).splitlines()
    except Exception:  # a student exception whose __str__ fails
        lines.append(type(exc).__name__)
    try:
        evalue = str(exc)
    except Exception:
        evalue = f"<unprintable {type(exc).__name__}>"
    return ErrorInfo(
        ename=type(exc).__name__,
        evalue=strip_ansi(evalue),
        traceback=[strip_ansi(line) for line in lines],
        frames=[(f.filename, f.lineno or 0, f.name) for f in frames],
    )


def error_output(err: ErrorInfo) -> dict[str, Any]:
    return {"output_type": "error", "ename": err.ename, "evalue": err.evalue,
            "traceback": list(err.traceback)}


class Runner:
    def __init__(self, shell: SandboxShell, job: Job, plan: dict[str, Any],
                 event_fd: int, ctl: mmap.mmap) -> None:
        self.shell = shell
        self.job = job
        self.skip = set(plan["skip"])
        self.first_call = plan["first_call"]
        self.event_fd = event_fd
        self.ctl = ctl
        self.seq = 0
        self.sink: OutputSink | None = None

    # -- plumbing -------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        write_all(self.event_fd, encode_event(event))

    def _on_sigint(self, signum: int, frame: Any) -> None:
        current, target = struct.unpack_from("QQ", self.ctl, 0)
        if current and current == target:  # only the item the watchdog meant
            raise KeyboardInterrupt

    def _window(self, seq: int) -> None:
        struct.pack_into("Q", self.ctl, 0, seq)

    def _begin_item(self, kind: str, index: int) -> OutputSink:
        self.seq += 1
        self.send({"ev": "start", "kind": kind, "index": index, "seq": self.seq})
        sink = OutputSink(self.job.limits.output_cap_bytes, self.fds)
        self.sink = sink
        self.shell.sink = sink
        self.out.sink = self.err.sink = sink
        sys.stdout, sys.stderr = self.out, self.err
        signal.signal(signal.SIGINT, self._on_sigint)
        return sink

    def _flush_std(self) -> None:
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass

    # -- main -------------------------------------------------------------------------
    def run(self) -> None:
        self.fds = FdCapture()
        self.out = CappedStream("stdout", 1)
        self.err = CappedStream("stderr", 2)
        signal.signal(signal.SIGINT, self._on_sigint)
        self.send({"ev": "ready", "pid": os.getpid()})
        for i, cell in enumerate(self.job.cells):
            if i not in self.skip:
                self.run_cell(i, cell)
        for j in range(self.first_call, len(self.job.calls)):
            self.run_call(j, self.job.calls[j])
        self.send({"ev": "done"})

    def run_cell(self, index: int, cell: Cell) -> None:
        sink = self._begin_item("cell", index)
        self.shell.compile.code_name = f"<cell:{cell.key}>"
        err: ErrorInfo | None = None
        t0 = time.perf_counter()
        try:
            self._window(self.seq)
            try:
                result = self.shell.run_cell(cell.source, store_history=True)
            finally:
                self._window(0)
            exc = result.error_before_exec or result.error_in_exec
            if exc is not None:
                err = error_info(exc)
        except BaseException as exc:  # interrupted outside IPython's own handler
            self._window(0)
            err = error_info(exc)
        duration = time.perf_counter() - t0
        self._flush_std()
        self.fds.drain(sink)
        if err is not None:
            sink.outputs.append(error_output(err))
        outputs, truncated = sink.finish()
        self.sink = self.shell.sink = self.out.sink = self.err.sink = None
        self.send({"ev": "cell", "index": index, "seq": self.seq,
                   "status": "ok" if err is None else "error",
                   "outputs": outputs, "error": asdict(err) if err else None,
                   "truncated": truncated, "duration_s": duration})

    def _run_setup(self, call: Call) -> None:
        assert call.setup is not None
        name = f"<setup:{call.key}>"
        code = self.shell.transform_cell(call.setup)
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        compiled = compile(code, name, "exec", flags=self.shell.compile.flags, dont_inherit=True)
        exec(compiled, self.shell.user_global_ns, self.shell.user_ns)

    def run_call(self, index: int, call: Call) -> None:
        sink = self._begin_item("call", index)
        status, function, err = "passed", None, None
        value: Any = None
        value_error: str | None = None
        t0 = time.perf_counter()
        try:
            self._window(self.seq)
            try:
                if call.setup:
                    self._run_setup(call)
                ret = None
                for name in call.functions:
                    function = name
                    self.send({"ev": "fn", "seq": self.seq, "name": name})
                    fn = self.shell.user_ns.get(name)
                    if fn is None:
                        raise NameError(f"name {name!r} is not defined")
                    ret = fn()
                if call.want_value:
                    try:
                        value = to_json(ret)
                        if len(json.dumps(value, allow_nan=True)) > MAX_VALUE_BYTES:
                            value, value_error = None, "the value is too large to report"
                    except Exception as exc:
                        value, value_error = None, str(exc) or type(exc).__name__
                function = None
            finally:
                self._window(0)
        except AssertionError as exc:
            status, err = "failed", error_info(exc)
        except BaseException as exc:  # SystemExit/KeyboardInterrupt from student code too
            status, err = "error", error_info(exc)
        duration = time.perf_counter() - t0
        self._flush_std()
        outputs, truncated = sink.finish()
        self.sink = self.shell.sink = self.out.sink = self.err.sink = None
        self.send({"ev": "call", "index": index, "seq": self.seq, "status": status,
                   "function": function, "value": value, "value_error": value_error,
                   "error": asdict(err) if err else None,
                   "output": "".join(o.get("text", "") for o in outputs), "duration_s": duration})
