"""The sandbox's side of the job: runs cells and serves the trusted driver's requests.

Runs inside the student's process, so nothing here decides anything: every frame it
writes is checked by the supervisor, and a lying kernel can at worst make its own
objects behave differently, as the student could by writing them so.

The supervisor sends one command at a time on the command pipe and waits for exactly
one reply on the event pipe (same `seq`):
  {"op": "cell", "index", "key", "source"}                -> {"ev": "cell", ...}
  {"op": "call", "index", "key", "setup", "functions", "want_value"}  (in-kernel calls:
      unit tests, assessments, items a course runs in-kernel) -> {"ev": "call", ...}
  {"op": "px", "do": OP, "args": [...]}                   -> {"ev": "px", "v"|"err", "out"}
  {"op": "release"}                                        -> {"ev": "px", "v": null}
  {"op": "bye"}                                            -> (exit)
Values in "px" frames use grader.engine.wire: plain data by value, objects as handles.
"""
from __future__ import annotations

import _signal
import builtins
import copy
import json
import linecache
import math
import operator
import os
import re
import signal
import sys
import time
import traceback
from dataclasses import asdict
from typing import Any

import IPython

from grader.engine import wire
from grader.engine.kernel.capture import CappedStream, FdCapture, OutputSink
from grader.engine.kernel.jsonvalue import to_json
from grader.engine.protocol import HEADER, encode_event, read_exact, write_all
from grader.engine.types import ErrorInfo

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_INTERNAL_DIRS = (os.path.dirname(IPython.__file__), os.path.dirname(os.path.dirname(__file__)))
MAX_VALUE_BYTES = 16 << 20
MAX_COMMAND_BYTES = 256 << 20


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def _is_internal(filename: str) -> bool:
    return filename.startswith(_INTERNAL_DIRS) or filename.startswith("<frozen")


def error_info(exc: BaseException) -> ErrorInfo:
    """Plain-text traceback and frames of exc, without the engine's/IPython's own frames."""
    summary = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in summary if not _is_internal(f.filename)] or list(summary)
    lines: list[str] = []
    if frames:
        lines.append("Traceback (most recent call last):")
        lines += "".join(traceback.format_list(frames)).splitlines()
    try:
        lines += "".join(traceback.format_exception_only(type(exc), exc)).splitlines()
    except BaseException:  # a student exception whose __str__ fails (or raises SystemExit)
        lines.append(type(exc).__name__)
    try:
        evalue = str(exc)
    except BaseException:
        evalue = f"<unprintable {type(exc).__name__}>"
    return ErrorInfo(ename=type(exc).__name__, evalue=strip_ansi(evalue),
                     traceback=[strip_ansi(line) for line in lines],
                     frames=[(f.filename, f.lineno or 0, f.name) for f in frames])


def error_output(err: ErrorInfo) -> dict[str, Any]:
    return {"output_type": "error", "ename": err.ename, "evalue": err.evalue,
            "traceback": list(err.traceback)}


def builtin_base(exc: BaseException) -> str:
    """The name of the first built-in class in the exception's MRO."""
    for cls in type(exc).__mro__:
        if getattr(builtins, cls.__name__, None) is cls:
            return cls.__name__
    return "Exception"


def _enter(obj: Any) -> Any:
    return type(obj).__enter__(obj)


def _exit(obj: Any, exc_name: Any, message: Any) -> Any:
    if exc_name is None:
        return type(obj).__exit__(obj, None, None, None)
    cls = getattr(builtins, str(exc_name), None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        cls = Exception
    try:
        exc = cls(str(message))
    except Exception:
        exc = Exception(str(message))
    return type(obj).__exit__(obj, type(exc), exc, None)


def _array(obj: Any) -> Any:
    import numpy
    return numpy.asarray(obj)


OPS: dict[str, Any] = {
    "getattr": getattr, "setattr": setattr, "delattr": delattr,
    "call": lambda f, args, kwargs: f(*args, **kwargs),
    "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
    "contains": operator.contains, "len": len, "bool": bool, "hash": hash, "str": str,
    "repr": repr, "format": format, "iter": iter, "next": next, "reversed": reversed,
    "neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert,
    "int": int, "float": float, "complex": complex, "index": operator.index, "round": round,
    "trunc": math.trunc, "floor": math.floor, "ceil": math.ceil, "dir": dir,
    "isinstance": isinstance, "issubclass": issubclass, "enter": _enter, "exit": _exit,
    "array": _array, "copy": copy.copy, "deepcopy": copy.deepcopy, "divmod": divmod,
}
for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift",
              "rshift", "and_", "or_", "xor", "lt", "le", "eq", "ne", "gt", "ge", "iadd", "isub",
              "imul", "imatmul", "itruediv", "ifloordiv", "imod", "ipow", "ilshift", "irshift",
              "iand", "ior", "ixor"):
    OPS[_name.rstrip("_")] = getattr(operator, _name)


class Handles:
    """The objects the driver holds handles to (strong references: ids stay unique)."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}
        self.next = 1

    def handle(self, obj: Any) -> dict[str, Any]:
        ident = self.ids.get(id(obj))
        if ident is None:
            ident = self.next
            self.next += 1
            self.ids[id(obj)] = ident
            self.objects[ident] = obj
        return {"$": "h", "id": ident}

    def resolve(self, ident: int) -> Any:
        try:
            return self.objects[ident]
        except KeyError:
            raise wire.WireError(f"unknown handle {ident}") from None

    def clear(self) -> None:
        self.objects.clear()
        self.ids.clear()


class KernelServer:
    def __init__(self, shell: Any, cmd_fd: int, event_fd: int, output_cap: int, *,
                 seed: int | None = None) -> None:
        self.shell = shell
        self.seed = seed
        self.cmd_fd, self.event_fd = cmd_fd, event_fd
        self.cap = output_cap
        self.busy = False
        self.handles = Handles()
        self.encoder = wire.Encoder(self.handles.handle)
        self.fds = FdCapture()
        self.out = CappedStream("stdout", 1)
        self.err = CappedStream("stderr", 2)

    # -- plumbing ---------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        write_all(self.event_fd, encode_event(event))

    def receive(self) -> dict[str, Any] | None:
        head = read_exact(self.cmd_fd, HEADER.size)
        if head is None:
            return None
        (n,) = HEADER.unpack(head)
        if n > MAX_COMMAND_BYTES:
            raise ValueError("command too large")
        return json.loads((read_exact(self.cmd_fd, n) or b"").decode("utf-8", "surrogatepass"))

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.busy:  # only the command the supervisor timed; idle interrupts are stale
            raise KeyboardInterrupt

    def _sink(self) -> OutputSink:
        sink = OutputSink(self.cap, self.fds)
        self.shell.sink = sink
        self.out.sink = self.err.sink = sink
        sys.stdout, sys.stderr = self.out, self.err
        return sink

    def _unsink(self) -> None:
        self.shell.sink = self.out.sink = self.err.sink = None

    def _flush_std(self) -> None:
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass

    # -- main loop --------------------------------------------------------------------
    def serve(self) -> None:
        handler = self._on_sigint
        signal.signal(signal.SIGINT, handler)
        self.send({"ev": "ready", "pid": os.getpid()})
        while True:
            cmd = self.receive()
            if cmd is None or cmd.get("op") == "bye":
                return
            seq = cmd.get("seq")
            op = cmd.get("op")
            if _signal.getsignal(signal.SIGINT) is not handler:
                signal.signal(signal.SIGINT, handler)   # student code changed it
            if op == "cell":
                self.send({"seq": seq, **self.run_cell(cmd)})
            elif op == "call":
                self.send({"seq": seq, **self.run_call(cmd)})
            elif op == "px":
                self.send({"seq": seq, **self.proxy(cmd)})
            elif op == "release":
                self.handles.clear()
                self.send({"seq": seq, "ev": "px", "v": None, "out": ""})

    def _timed(self, fn: Any, *args: Any) -> Any:
        self.busy = True
        try:
            return fn(*args)
        finally:
            self.busy = False

    # -- cells --------------------------------------------------------------------------
    def _reseed(self) -> None:
        """Every cell starts from the same random state, so a replay after a crash, a
        regrade and the reference all draw the same numbers (policy.seed)."""
        import random
        random.seed(self.seed)
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(self.seed)

    def run_cell(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None:
            self._reseed()
        sink = self._sink()
        self.shell.compile.code_name = f"<cell:{cmd['key']}>"
        err: ErrorInfo | None = None
        t0 = time.perf_counter()
        try:
            result = self._timed(self.shell.run_cell, cmd["source"], True)
            exc = result.error_before_exec or result.error_in_exec
            if exc is not None:
                err = error_info(exc)
        except BaseException as exc:  # interrupted outside IPython's own handler
            self.busy = False
            err = error_info(exc)
        duration = time.perf_counter() - t0
        self._flush_std()
        self.fds.drain(sink)
        if err is not None:
            sink.outputs.append(error_output(err))
        outputs, truncated = sink.finish()
        self._unsink()
        return {"ev": "cell", "index": cmd["index"], "status": "ok" if err is None else "error",
                "outputs": outputs, "error": asdict(err) if err else None,
                "truncated": truncated, "duration_s": duration}

    # -- in-kernel calls (no verdict is decided here: values are compared on the host) --
    def _run_setup(self, key: str, setup: str) -> None:
        """Run a test cell's code (in-kernel calls) as IPython would transform it. Plain
        Python is compiled once: its cleaned lines are what IPython's token transforms
        would give (see SandboxShell's fast path); other cells go through IPython."""
        name, (code, compiled) = f"<setup:{key}>", self.shell.compiled_setup(key, setup)
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        exec(compiled, self.shell.user_global_ns, self.shell.user_ns)

    def _call(self, cmd: dict[str, Any], state: dict[str, Any]) -> Any:
        if cmd.get("setup"):
            self._run_setup(cmd["key"], cmd["setup"])
        ret = None
        for name in cmd["functions"]:
            state["function"] = name
            fn = self.shell.user_ns.get(name)
            if fn is None:
                raise NameError(f"name {name!r} is not defined")
            ret = fn()
        state["function"] = None
        return ret

    def run_call(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if self.seed is not None:
            self._reseed()
        sink = self._sink()
        status, err = "passed", None
        state: dict[str, Any] = {"function": None}
        value: Any = None
        value_error: str | None = None
        t0 = time.perf_counter()
        try:
            ret = self._timed(self._call, cmd, state)
            if cmd.get("want_value"):
                try:
                    value = to_json(ret)
                    if len(json.dumps(value, allow_nan=True)) > MAX_VALUE_BYTES:
                        value, value_error = None, "the value is too large to report"
                except Exception as exc:
                    value, value_error = None, str(exc) or type(exc).__name__
        except AssertionError as exc:
            self.busy = False
            status, err = "failed", error_info(exc)
        except BaseException as exc:  # SystemExit/KeyboardInterrupt from student code too
            self.busy = False
            status, err = "error", error_info(exc)
        duration = time.perf_counter() - t0
        self._flush_std()
        outputs, truncated = sink.finish()
        self._unsink()
        return {"ev": "call", "index": cmd["index"], "status": status,
                "function": state["function"], "value": value, "value_error": value_error,
                "error": asdict(err) if err else None,
                "output": "".join(o.get("text", "") for o in outputs), "duration_s": duration}

    # -- the proxy: operations on the objects the driver holds handles to ---------------
    def _lookup(self, what: str, args: list[Any]) -> Any:
        if what == "global":
            name = args[0]
            ns = self.shell.user_ns
            if name in ns:
                return ns[name]
            raise NameError(f"name {name!r} is not defined")
        if what == "hasglobal":
            return args[0] in self.shell.user_ns
        if what == "setglobal":
            self.shell.user_ns[args[0]] = args[1]
            return None
        if what == "delglobal":
            del self.shell.user_ns[args[0]]
            return None
        if what == "import":
            name, fromlist = args
            return __import__(name, self.shell.user_ns, None, tuple(fromlist or ()), 0)
        fn = OPS.get(what)
        if fn is None:
            raise wire.WireError(f"unknown operation {what!r}")
        return fn(*args)

    def proxy(self, cmd: dict[str, Any]) -> dict[str, Any]:
        sink = self._sink()
        reply: dict[str, Any] = {"ev": "px"}
        try:
            args = wire.decode(cmd.get("args", []), self.handles.resolve)
            value = self._timed(self._lookup, str(cmd.get("do")), args)
            reply["v"] = self.encoder.encode(value)
        except BaseException as exc:
            self.busy = False
            info = error_info(exc)
            reply["err"] = {"type": type(exc).__name__, "base": builtin_base(exc),
                            "msg": info.evalue[:2000], "frames": info.frames[-20:],
                            "tb": info.traceback[-30:]}
        self._flush_std()
        outputs, _ = sink.finish()
        self._unsink()
        reply["out"] = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        return reply


def serve(shell: Any, cmd_fd: int, event_fd: int, output_cap: int, *,
          seed: int | None = None) -> None:
    KernelServer(shell, cmd_fd, event_fd, output_cap, seed=seed).serve()
