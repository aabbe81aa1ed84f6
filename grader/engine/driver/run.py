"""Run a locked test cell in the trusted driver (the supervisor's process).

The cell's source (from the instructor's source, hidden tests included) is compiled
and executed here, and its `test*` functions are called here: every statement,
comparison, assertion and branch that decides the verdict runs in this process.

Names resolve like this (DESIGN.md, "Trust model"):
1. the cell's own definitions, then the helper functions and library imports of the
   source's non-solution instructor cells (the source's text, run here), then
   Python's built-ins: all trusted;
2. anything else is looked up in the student's namespace and comes back as a proxy
   (classes, instances, the framework's functions) or as plain data.
`import` of the course's framework package yields a proxy of the student's module;
other imports (numpy, math ...) are this process's own modules.
"""
from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import linecache
import marshal
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.engine.driver.proxy import Connection, Proxy, RemoteInfo
from grader.engine.types import ErrorInfo


class ItemTimeout(BaseException):
    """The item's deadline passed while trusted code was running."""


def _transform(source: str) -> str:
    """IPython syntax (magics, `!`) as Python; plain Python as it is (tokenizing a big
    cell for IPython's transforms costs milliseconds, and most cells are plain)."""
    try:
        ast.parse(source)
        return source
    except (SyntaxError, ValueError):
        pass
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


class CappedText:
    """sys.stdout for trusted code: keeps the first `cap` characters."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.size, self.truncated = cap, [], 0, False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.cap - self.size
        if room <= 0:
            self.truncated = self.truncated or bool(text)
            return len(text)
        piece = text[:room]
        self.parts.append(piece)
        self.size += len(piece)
        self.truncated = self.truncated or len(piece) < len(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        text = "".join(self.parts)
        return text + ("\n[output truncated]\n" if self.truncated else "")


class TrustedNamespace(dict):
    """Globals of trusted code: names it does not define come from the student's process.

    In a kernel a test cell's top level shares the student's namespace, and tests use
    that (nbgrader's `orig = squares; del squares; ... finally: squares = orig` checks
    that one function uses another). So once `mirror` is on, a top-level `del` of a
    name the student's namespace has is done there too, and so is an assignment of one
    of the student's own objects (a proxy) to such a name. Values the test computed are
    never written there (a hidden test's expected value must not reach the student's
    code), and the test keeps reading its own copy: what the student's process does
    with the name never changes what the test sees.
    """

    def __init__(self, conn: Connection, trusted_builtins: dict[str, Any]) -> None:
        super().__init__()
        self._conn = conn
        self._builtins = trusted_builtins
        self._student_owned: set[str] = set()
        self.mirror = False

    def __missing__(self, name: str) -> Any:
        if name in self._builtins or (name.startswith("__") and name.endswith("__")):
            raise KeyError(name)   # CPython then looks in the (trusted) built-ins
        try:
            value = self._conn.op("global", name)
        except NameError:
            raise KeyError(name) from None
        self._student_owned.add(name)
        return value

    def _owned(self, name: str) -> bool:
        if name not in self._student_owned and not dict.__contains__(self, name):
            if self._conn.op("hasglobal", name) is True:
                self._student_owned.add(name)
        return name in self._student_owned

    def __setitem__(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, value)
        if self.mirror and type(value) is Proxy and self._owned(name):
            self._conn.op("setglobal", name, value)

    def __delitem__(self, name: str) -> None:
        owned = self.mirror and self._owned(name)
        if dict.__contains__(self, name):
            dict.__delitem__(self, name)
        elif not owned:
            raise KeyError(name)
        if owned:
            self._conn.op("delglobal", name)


# -- compiling: once per module, in the caller's process --------------------------------
# Parsing the helpers and test cells of a big module costs ~10 ms; every job of a module
# has the same ones, so the Engine compiles them once in the (trusted) grading process
# and sends the code objects, marshalled, with the job (Job.compiled). A job without
# them (tests, `grader check`) is compiled here, the same way.
# A helper statement is (modules, code): modules None for a function definition,
# else the top-level packages it imports ("" for a relative import: never trusted).
HelperStatements = list[tuple[tuple[str, ...] | None, Any]]


def compile_helper(key: str, source: str, functions: bool) -> tuple[str, HelperStatements]:
    """Library imports of a source cell, and its function definitions if `functions`
    (an instructor cell); nothing else of it. (text for linecache, statements)"""
    name = f"<helper:{key}>"
    text = _transform(source)
    statements: HelperStatements = []
    try:
        tree = ast.parse(text, name)
    except SyntaxError:
        return text, statements
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules: tuple[str, ...] | None = tuple(a.name.partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules = ((node.module or "").partition(".")[0],) if node.level == 0 else ("",)
        elif functions and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            modules = None
        else:
            continue
        statements.append((modules, compile(ast.Module(body=[node], type_ignores=[]), name,
                                            "exec", dont_inherit=True)))
    return text, statements


def compile_setup(key: str, source: str) -> tuple[str, Any]:
    """(text, code) of a test cell; code None if it does not compile (run() then raises
    the SyntaxError as the item's error)."""
    text = _transform(source)
    try:
        return text, compile(text, f"<setup:{key}>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return text, None


@functools.lru_cache(maxsize=4096)
def _marshalled(kind: str, key: str, source: str, functions: bool = False) -> bytes:
    made = compile_helper(key, source, functions) if kind == "helper" else compile_setup(key, source)
    return marshal.dumps(made)


def precompile(helpers: list[tuple[str, str, bool]], setups: list[tuple[str, str]]
               ) -> dict[str, bytes]:
    """What Job.compiled carries: "helper:KEY" and "setup:KEY" -> marshalled code."""
    compiled = {f"helper:{key}": _marshalled("helper", key, source, functions)
                for key, source, functions in helpers}
    compiled.update({f"setup:{key}": _marshalled("setup", key, source) for key, source in setups})
    return compiled


@dataclass
class HelperCode:
    key: str
    text: str
    statements: HelperStatements = field(default_factory=list)   # those this process runs


@dataclass
class DriverOutcome:
    status: str                  # passed | failed | error | timeout | crashed
    function: str | None
    error: ErrorInfo | None
    output: str
    kernel_failure: Any = None   # the SandboxEnded that ended the kernel, if any


class Driver:
    """Per job: the helpers compiled once; `run()` per test item."""

    def __init__(self, helpers: list[tuple[str, str, bool]], framework: str | None,
                 compiled: dict[str, bytes] | None = None) -> None:
        self.framework = framework
        self.compiled = compiled or {}
        self.helpers = []
        for key, source, functions in helpers:
            made = self.compiled.get(f"helper:{key}")
            text, statements = (marshal.loads(made) if made is not None
                                else compile_helper(key, source, functions))
            linecache.cache[f"<helper:{key}>"] = (len(text), None, text.splitlines(True),
                                                  f"<helper:{key}>")
            self.helpers.append(HelperCode(key, text, [
                (modules, code) for modules, code in statements
                if modules is None or all(self._trusted_module(m) for m in modules)]))

    def _trusted_module(self, top: str) -> bool:
        if not top or top == self.framework:
            return False
        try:
            return top in sys.modules or importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            return False

    def _builtins(self, conn: Connection) -> dict[str, Any]:
        real_import = builtins.__import__

        def guarded_import(name: str, globals: Any = None, locals: Any = None,
                           fromlist: Any = (), level: int = 0) -> Any:
            if level == 0 and self._trusted_module(name.partition(".")[0]):
                return real_import(name, globals, locals, fromlist, level)
            if level != 0:
                raise ImportError("relative imports are not supported in graded tests")
            return conn.op("import", name, [str(n) for n in fromlist or ()])

        trusted = dict(builtins.__dict__)
        trusted["__import__"] = guarded_import
        return trusted

    def run(self, *, key: str, source: str, functions: list[str], conn: Connection,
            out: CappedText, deadline: float, failure: Callable[[], Any]) -> DriverOutcome:
        """Execute the test cell and call its test functions; `failure()` is the kernel's
        end (timeout, crash, tampering) if one happened during the item."""
        name = f"<setup:{key}>"
        made = self.compiled.get(f"setup:{key}")
        text, code = marshal.loads(made) if made is not None else compile_setup(key, source)
        linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        trusted_builtins = self._builtins(conn)
        ns = TrustedNamespace(conn, trusted_builtins)
        dict.update(ns, {"__name__": "__main__", "__builtins__": trusted_builtins})
        function: str | None = None
        status, error = "passed", None
        saved = sys.stdout, sys.stderr
        previous_alarm = signal.signal(signal.SIGALRM, self._on_alarm(deadline, conn))
        signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()), 0.1)
        try:
            sys.stdout = sys.stderr = out  # type: ignore[assignment]
            for helper in self.helpers:
                for _, helper_code in helper.statements:
                    try:
                        exec(helper_code, ns)
                    except Exception:
                        pass   # e.g. a library the driver does not have: the name stays remote
            if code is None:   # raises the SyntaxError: the item's error
                code = compile(text, name, "exec", dont_inherit=True)
            ns.mirror = True
            exec(code, ns)
            for fn_name in functions:
                function = fn_name
                fn = dict.get(ns, fn_name)
                if fn is None:
                    raise NameError(f"name {fn_name!r} is not defined")
                fn()
            function = None
        except ItemTimeout:
            status = "timeout"
            error = ErrorInfo("TimeoutError", "the test did not finish within the time limit",
                              ["TimeoutError: the test did not finish within the time limit"], [])
        except AssertionError as exc:
            status, error = "failed", driver_error(exc)
        except BaseException as exc:
            status, error = "error", driver_error(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, previous_alarm)
            sys.stdout, sys.stderr = saved
        ended = failure()
        if ended is not None:   # whatever the test caught, the kernel's end decides
            status = {"timeout": "timeout"}.get(ended.kind, "crashed")
            if error is None or error.ename not in ("TimeoutError", "KernelDied"):
                ename = "TimeoutError" if status == "timeout" else "KernelDied"
                error = ErrorInfo(ename, ended.message, [f"{ename}: {ended.message}"],
                                  error.frames if error else [])
        return DriverOutcome(status, function, error, out.getvalue(), ended)

    @staticmethod
    def _on_alarm(deadline: float, conn: Connection) -> Callable[..., None]:
        def handler(signum: int, frame: Any) -> None:
            if getattr(conn, "in_request", False):
                return   # the request itself holds the kernel to the deadline
            if time.monotonic() >= deadline:
                raise ItemTimeout()
        return handler


_OURS = ("<setup:", "<helper:")


def driver_error(exc: BaseException) -> ErrorInfo:
    """ErrorInfo of an exception in trusted code, with the student's frames if remote."""
    summary = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(_OURS)]
    remote: RemoteInfo | None = getattr(exc, "__grader_remote__", None)
    lines = ["Traceback (most recent call last):"] if summary or remote else []
    lines += "".join(traceback.format_list(summary)).splitlines()
    frames = [(f.filename, f.lineno or 0, f.name) for f in summary]
    if remote is not None:
        frames += [tuple(f) for f in remote.frames]  # type: ignore[misc]
        lines += [line for line in remote.traceback if not line.startswith("Traceback")]
        return ErrorInfo(remote.type_name, remote.message, lines, frames)  # type: ignore[arg-type]
    try:
        evalue = str(exc)
    except Exception:
        evalue = f"<unprintable {type(exc).__name__}>"
    lines += "".join(traceback.format_exception_only(type(exc), exc)).splitlines()
    return ErrorInfo(type(exc).__name__, evalue, lines, frames)  # type: ignore[arg-type]
