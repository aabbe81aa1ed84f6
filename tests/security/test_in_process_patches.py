"""Patching, in the student's own process, the code that decides a verdict.

Every attack is one cell appended to a submission that honestly earns 15/40 (its MSE
or its Trainer is wrong, the three assessments are right). The locked test must still
fail: the harness, builtins, numpy and math the test relies on are the trusted
driver's, not the student's (DESIGN.md, "Trust model"; issue 10, point 1).
"""
from __future__ import annotations

import pytest

from grader.synth import append_code
from security_helpers import FORGE, TEST, items


RUNNER_SEND_VIA_SYS_MODULES = FORGE + '''
import sys
for _name, _mod in list(sys.modules.items()):
    if not _name.startswith("grader"):
        continue
    for _cls in list(vars(_mod).values()):
        if isinstance(_cls, type) and callable(getattr(_cls, "send", None)):
            def _patched(self, ev, _orig=_cls.send):
                return _orig(self, _forge(ev))
            try:
                _cls.send = _patched
            except Exception:
                pass
'''

RUNNER_VIA_SUBCLASSES = FORGE + '''
def _walk(cls, seen):
    try:
        subs = type.__subclasses__(cls)
    except TypeError:
        return
    for sub in subs:
        if sub not in seen:
            seen.add(sub)
            yield sub
            yield from _walk(sub, seen)

for _cls in list(_walk(object, set())):
    if _cls.__name__ == "Runner" or _modname(_cls).startswith("grader"):
        for _attr in ("send", "reply", "report", "emit"):
            _orig = _cls.__dict__.get(_attr)
            if callable(_orig):
                def _patched(self, ev, *rest, _orig=_orig):
                    return _orig(self, _forge(ev), *rest)
                try:
                    setattr(_cls, _attr, _patched)
                except Exception:
                    pass
'''

ENCODER_IN_MODULE_GLOBALS = FORGE + '''
import sys
for _name, _mod in list(sys.modules.items()):
    if _name.startswith("grader") and hasattr(_mod, "encode_event"):
        _orig = _mod.encode_event
        _mod.encode_event = lambda ev, _orig=_orig: _orig(_forge(ev))
'''

# Generic: wrap every function of every grader.* module so that any dict it is given
# or returns claims a pass, and any AssertionError it raises is swallowed.
EVERY_GRADER_FUNCTION = FORGE + '''
import sys, types, functools
def _wrap(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        args = tuple(_forge(a) for a in args)
        try:
            return _forge(fn(*args, **kwargs))
        except AssertionError:
            return None
    return inner
for _name, _mod in list(sys.modules.items()):
    if not _name.startswith("grader"):
        continue
    for _key, _val in list(vars(_mod).items()):
        if isinstance(_val, types.FunctionType) and _val.__module__ == _name:
            setattr(_mod, _key, _wrap(_val))
        elif isinstance(_val, type) and _val.__module__ == _name:
            for _k, _f in list(vars(_val).items()):
                if isinstance(_f, types.FunctionType) and not _k.startswith("__"):
                    try:
                        setattr(_val, _k, _wrap(_f))
                    except Exception:
                        pass
'''


@pytest.mark.parametrize("attack", [RUNNER_SEND_VIA_SYS_MODULES, RUNNER_VIA_SUBCLASSES,
                                    ENCODER_IN_MODULE_GLOBALS, EVERY_GRADER_FUNCTION],
                         ids=["sys.modules", "object.__subclasses__", "encode_event",
                              "every-grader-function"])
def test_patching_the_harness_in_the_kernel_forges_nothing(training, grade, broken_mse, attack):
    result = grade.attack(training, broken_mse, attack)
    assert items(result)[TEST]["score"] == 0


# The locked test does `assert abs(loss_value) < 1e-6` with loss_value from the helper
# get_tensor_value, which goes Variable -> Tensor -> ndarray -> memoryview ->
# np.array(...) -> float(...). Each patch below makes that chain say 0.
BUILTIN_PATCHES = {
    "builtins.abs": '''
import builtins
builtins.abs = lambda x: 0.0
''',
    "builtins.float": '''
import builtins, sys
_float = float
class _Float(_float):
    def __new__(cls, x=0.0):
        try:
            caller = sys._getframe(1).f_code.co_name
        except ValueError:
            caller = ""
        return _float.__new__(cls, 0.0 if caller == "get_tensor_value" else x)
builtins.float = _Float
''',
    "builtins.isinstance": '''
import builtins, sys
_isinstance = isinstance
def _lying_isinstance(obj, cls):
    if sys._getframe(1).f_code.co_name == "get_tensor_value":
        return False   # ... so get_tensor_value falls back to float(memoryview): 0.0
    return _isinstance(obj, cls)
builtins.isinstance = _lying_isinstance
''',
    "builtins.hasattr": '''
import builtins, sys
_hasattr = hasattr
def _lying_hasattr(obj, name):
    if sys._getframe(1).f_code.co_name == "get_tensor_value":
        return False   # ... so get_tensor_value ends in float(loss) -> TypeError -> 0.0
    return _hasattr(obj, name)
builtins.hasattr = _lying_hasattr
''',
    "numpy.array": '''
import numpy, sys
_array = numpy.array
def _lying_array(*args, **kwargs):
    if sys._getframe(1).f_code.co_name == "get_tensor_value":
        return _array(0.0)
    return _array(*args, **kwargs)
numpy.array = _lying_array
''',
    "test-globals-abs": '''
# the namespace the locked test is executed in is the notebook's: give it an abs
abs = lambda x: 0.0
''',
}


@pytest.mark.parametrize("name", list(BUILTIN_PATCHES))
def test_patching_builtins_and_numpy_does_not_pass_a_wrong_loss(training, grade, broken_mse, name):
    """The locked test's verdict never improves. (Some patches, e.g. replacing
    builtins.float, also break the kernel's own conversion of assessment answers: the
    student's process is theirs to break, so those may score less, never more.)"""
    honest = grade.honest(training, broken_mse)
    result = grade(training, append_code(broken_mse, BUILTIN_PATCHES[name]))
    assert items(result)[TEST]["score"] == 0, explain(result)
    assert result["score"] <= honest, explain(result)


LEN_PATCHES = {
    "builtins.len": '''
import builtins, sys
_len = len
def _lying_len(obj):
    if sys._getframe(1).f_code.co_name.startswith("test"):
        return 1
    return _len(obj)
builtins.len = _lying_len
''',
    "builtins.len-everywhere": '''
import builtins
_len = len
builtins.len = lambda obj: 1 if type(obj) is list and _len(obj) == 2 else _len(obj)
''',
}


@pytest.mark.parametrize("name", list(LEN_PATCHES))
def test_patching_len_does_not_pass_a_wrong_trainer(training, grade, broken_trainer, name):
    """`assert len(trainer.metrics) == 1`: the Trainer keeps two metrics."""
    grade.attack(training, broken_trainer, LEN_PATCHES[name])


NEUTRAL_PATCHES = {
    "builtins.AssertionError": '''
import builtins
builtins.AssertionError = type("AssertionError", (Warning,), {})
''',
    "AssertionError-in-every-module": '''
import sys
_Fake = type("AssertionError", (Warning,), {})
for _mod in list(sys.modules.values()):
    try:
        vars(_mod)["AssertionError"] = _Fake
    except Exception:
        pass
''',
    "numpy-and-math-comparisons": '''
import math, numpy, numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.testing.assert_array_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
''',
    "builtins.print-swallows": '''
import builtins
builtins.print = lambda *a, **k: None
''',
}


@pytest.mark.parametrize("name", list(NEUTRAL_PATCHES))
def test_patching_exceptions_and_comparisons_forges_nothing(training, grade, broken_mse, name):
    grade.attack(training, broken_mse, NEUTRAL_PATCHES[name])


def test_patching_the_helper_globals_through_the_frames_of_the_test(training, grade, broken_mse):
    """MSE.__call__ reaches the locked test's globals through its caller's frame and
    replaces abs and get_tensor_value there, before the test reads them."""
    attack = '''
import sys
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name.startswith("test"):
            frame.f_globals["abs"] = lambda x: 0.0
            frame.f_globals["get_tensor_value"] = lambda x: 0.0
            try:
                frame.f_builtins["abs"] = lambda x: 0.0
            except Exception:
                pass
        frame = frame.f_back
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''
    grade.attack(training, broken_mse, attack)
