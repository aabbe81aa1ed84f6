"""Reaching the objects that decide a verdict from inside the student's process: through
the SIGINT handler, the garbage collector, the stack of a graded call, trace functions
and a thread that tampers while the graded calls run.

The submission honestly earns 15/40 (its MSE is off by one); every attack must leave
it at 15 (DESIGN.md, "Trust model": nothing trusted is reachable from student code).
"""
from __future__ import annotations

import json

import pytest

from grader.synth import append_code
from security_helpers import FORGE, TEST, items, outputs_text

# What an attacker does with any grader object it gets hold of: make it report passes.
TAMPER = FORGE + '''
def _tamper(obj):
    """Patch an object that reports results (the runner today) to report passes."""
    for attr in ("send", "reply", "report", "emit"):
        orig = getattr(obj, attr, None)
        if callable(orig) and not getattr(orig, "_tampered", False):
            def patched(ev, *rest, _orig=orig):
                return _orig(_forge(ev), *rest)
            patched._tampered = True
            try:
                setattr(obj, attr, patched)
            except Exception:
                pass
    for attr in ("status", "verdict", "passed"):
        try:
            if attr in vars(obj):
                setattr(obj, attr, "passed" if attr != "passed" else True)
        except Exception:
            pass
'''

VIA_SIGNAL_HANDLER = TAMPER + '''
import signal
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGUSR1, signal.SIGUSR2):
    _h = signal.getsignal(_sig)
    _owner = getattr(_h, "__self__", None)
    if _owner is not None:
        _tamper(_owner)
'''

VIA_GC = TAMPER + '''
import gc
try:
    gc.unfreeze()
except AttributeError:
    pass
for _obj in gc.get_objects():
    if _modname(type(_obj)).startswith("grader") and not isinstance(_obj, type):
        _tamper(_obj)
'''

# MSE.__call__, called by the locked test, walks up the stack and tampers with every
# grader object in every frame (`self` of the runner today).
VIA_THE_STACK_OF_A_GRADED_CALL = TAMPER + '''
import inspect
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    for info in inspect.stack(0):
        for value in list(info.frame.f_locals.values()):
            if _modname(type(value)).startswith("grader"):
                _tamper(value)
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''

# Jump over assert lines: a local trace function on the frame of the locked test.
JUMPER = '''
import sys, linecache
def _jumper(frame, event, arg):
    if event == "line":
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        if line.startswith("assert"):
            try:
                frame.f_lineno = frame.f_lineno + 1
            except ValueError:
                pass
    return _jumper
def _global_tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name.startswith("test"):
        return _jumper
    return None
'''

VIA_F_TRACE_FROM_A_GRADED_CALL = JUMPER + '''
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name.startswith("test"):
            frame.f_trace = _jumper
            frame.f_trace_lines = True
        frame = frame.f_back
    sys.settrace(lambda *a: None)    # tracing must be on for f_trace to fire
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''

VIA_SYS_SETTRACE = JUMPER + '''
sys.settrace(_global_tracer)
'''

# only threads started from now on are traced: matters to a driver that calls the
# student's code from a thread of the student's process
VIA_THREADING_SETTRACE = JUMPER + '''
import threading
threading.settrace(_global_tracer)
threading.setprofile(lambda *a: None)
'''

VIA_SETPROFILE_AND_SETTRACE_IN_A_CALL = JUMPER + '''
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    sys.settrace(_global_tracer)
    frame = sys._getframe(1)
    while frame is not None:
        frame.f_trace = _jumper
        frame = frame.f_back
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''

# A thread started in a cell keeps tampering while the graded calls run: every frame of
# every other thread, the grader objects in them, their globals.
BACKGROUND_THREAD = TAMPER + JUMPER + '''
import threading, time, gc
sys.setswitchinterval(1e-5)
def _tamper_forever():
    end = time.monotonic() + 30
    while time.monotonic() < end:
        for ident, frame in list(sys._current_frames().items()):
            if ident == threading.get_ident():
                continue
            f = frame
            while f is not None:
                for value in list(f.f_locals.values()):
                    if _modname(type(value)).startswith("grader"):
                        _tamper(value)
                if f.f_code.co_name.startswith("test"):
                    f.f_globals["get_tensor_value"] = lambda x: 0.0
                    f.f_trace = _jumper
                f = f.f_back
        time.sleep(0.0002)
threading.Thread(target=_tamper_forever, daemon=True).start()
'''

ATTACKS = {
    "signal.getsignal": VIA_SIGNAL_HANDLER,
    "gc.get_objects": VIA_GC,
    "inspect.stack-in-graded-call": VIA_THE_STACK_OF_A_GRADED_CALL,
    "f_trace-from-graded-call": VIA_F_TRACE_FROM_A_GRADED_CALL,
    "sys.settrace": VIA_SYS_SETTRACE,
    "threading.settrace": VIA_THREADING_SETTRACE,
    "settrace-inside-graded-call": VIA_SETPROFILE_AND_SETTRACE_IN_A_CALL,
    "background-thread": BACKGROUND_THREAD,
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_reaching_grader_objects_forges_nothing(training, grade, broken_mse, name):
    result = grade.attack(training, broken_mse, ATTACKS[name])
    assert items(result)[TEST]["score"] == 0


def test_editing_the_callers_locals_from_a_graded_call(training, grade, broken_mse):
    """MSE.__call__ rewrites the locals of every frame above it (PyFrame_LocalsToFast):
    any local named like a verdict becomes a pass (does not forge today either: kept
    as a regression test for a driver that keeps verdict state in frames)."""
    attack = '''
import sys, ctypes
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    frame = sys._getframe(1)
    while frame is not None:
        loc = frame.f_locals
        changed = False
        for key in list(loc):
            if key in ("status", "verdict", "passed", "ok", "failed", "err", "error"):
                loc[key] = {"status": "passed", "verdict": "passed", "passed": True,
                            "ok": True, "failed": False}.get(key)
                changed = True
        if changed:
            ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(1))
        frame = frame.f_back
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''
    grade.attack(training, broken_mse, attack)


def test_what_the_template_compiled_ahead_holds_no_solution(training, grade, release):
    """Every kernel inherits the code the template compiled ahead (Engine.learn). A
    student who prints all of it, texts and constants of the code objects, finds only
    what the release already gave them: no line of any solution."""
    dump = '''
import json
def _texts(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _texts(x)
    elif hasattr(obj, "co_consts"):
        yield from _texts(obj.co_consts)
_found = [t for key, value in get_ipython().learned.items() for t in _texts((key, value))]
print("LEARNED", json.dumps(_found))
'''
    graded = grade.graded(training, append_code(release, dump))
    line = next(l for l in outputs_text(graded).splitlines() if l.startswith("LEARNED "))
    learned = "\n".join(json.loads(line[len("LEARNED "):]))
    assert "class MeanSquaredError" in learned        # the released cells are there
    given = "\n".join(c.source for c in release.cells)
    solutions = []
    for cell in training.module.source.cells:
        text = cell.source
        while "### BEGIN SOLUTION" in text:
            body, _, text = text.split("### BEGIN SOLUTION", 1)[1].partition("### END SOLUTION")
            solutions += [s.strip() for s in body.splitlines()
                          if len(s.strip()) > 12 and s.strip() not in given]
    assert len(solutions) > 20
    leaked = [s for s in solutions if s in learned]
    assert not leaked, f"solution lines a student can read in the kernel: {leaked[:5]}"
