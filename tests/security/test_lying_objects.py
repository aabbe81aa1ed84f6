"""Objects that lie. What the student's own objects do is theirs: a lie may pass the
check it decides, exactly as it would in a plain kernel, and never more. Each case
below states the plain-kernel verdict of the locked test, worked out by hand from
test_module_training and get_tensor_value (source/09_training/training_dev.py):

    loss_value = get_tensor_value(mse(...));  assert abs(loss_value) < 1e-6
    acc = accuracy(...);                      assert acc == 1.0
    assert trainer.loss_function is loss_fn; assert len(trainer.metrics) == 1

get_tensor_value unwraps `.data` while hasattr says so, then ndarray/memoryview ->
float(...), numbers -> float(x), anything else -> float(x), and returns 0.0 when that
raises ValueError or TypeError. The rest of each submission is the reference solution,
so the verdict of the locked test decides between 40 (passes) and 15 (fails); the
honest baseline (the same part wrong without any lie) is 15.

DESIGN.md ("What the driver must get right"): special methods are looked up on the
type, `__bool__`/`__len__`/`__hash__` come back as real bool/int or fail, identity is
remote identity, built-in exceptions arrive as the same built-in type.
"""
from __future__ import annotations

import pytest

from grader.synth import edit, replace
from security_helpers import FULL, TEST, explain, items

PASSES, FAILS = FULL, FULL - 25

MSE_RETURN = ("        loss = Variable(mean_data, requires_grad=y_pred.requires_grad)\n"
              "        return loss\n")
ACC_RETURN = "        return float(accuracy)\n"
TRAINER_METRICS = "        self.metrics = metrics or []\n"
TRAINER_LOSS = "        self.loss_function = loss_function\n"


def lying(nb, grade_id: str, old: str, classes: str, new: str):
    """nb with `old` replaced by `new` in cell grade_id, and `classes` defined first."""
    nb = edit(nb, grade_id, replace(old, new))
    return edit(nb, grade_id, lambda s: classes + "\n" + s)


MSE_LIES = {
    # name: (classes, returned expression, plain-kernel verdict)
    "__float__-says-0": ("""
class _Loss:
    def __float__(self):
        return 0.0
""", "_Loss()", PASSES),
    "__float__-raises-TypeError-so-the-helper-says-0": ("""
class _Loss:
    def __float__(self):
        raise TypeError("no float for you")
""", "_Loss()", PASSES),
    "__float__-returns-an-int-TypeError-so-the-helper-says-0": ("""
class _Loss:
    def __float__(self):
        return 0
""", "_Loss()", PASSES),
    "__float__-raises-a-TypeError-subclass": ("""
class _NoFloat(TypeError):
    pass
class _Loss:
    def __float__(self):
        raise _NoFloat("caught by the helper's `except (ValueError, TypeError)`")
""", "_Loss()", PASSES),
    # plain data only when the type is exactly int/float: a subclass is the student's
    # object, and float() of it calls its own __float__
    "int-subclass-whose-__float__-says-0": ("""
class _Loss(int):
    def __float__(self):
        return 0.0
""", "_Loss(5)", PASSES),
    "float-subclass-whose-__float__-says-0": ("""
class _Loss(float):
    def __float__(self):
        return 0.0
""", "_Loss(5.0)", PASSES),
    "__abs__-__lt__-__eq__-lie-but-__float__-says-5": ("""
class _Loss:
    def __abs__(self):
        return 0.0
    def __lt__(self, other):
        return True
    def __le__(self, other):
        return True
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
    def __bool__(self):
        return False
    def __float__(self):
        return 5.0
""", "_Loss()", FAILS),
    "__float__-raises-SystemExit": ("""
class _Loss:
    def __float__(self):
        raise SystemExit(0)
""", "_Loss()", FAILS),
    "__float__-raises-KeyboardInterrupt": ("""
class _Loss:
    def __float__(self):
        raise KeyboardInterrupt
""", "_Loss()", FAILS),
    "data-property-raises-RuntimeError": ("""
class _Loss:
    @property
    def data(self):
        raise RuntimeError("boom")
    def __float__(self):
        return 0.0
""", "_Loss()", FAILS),
    "data-is-itself-forever": ("""
class _Loss:
    @property
    def data(self):
        return self        # get_tensor_value recurses until RecursionError
    def __float__(self):
        return 0.0
""", "_Loss()", FAILS),
    "__class__-claims-ndarray": ("""
import numpy as _np
class _Loss:
    __class__ = property(lambda self: _np.ndarray)   # isinstance(x, ndarray) -> True
    size = 1
    def item(self):
        return 5.0
    def __float__(self):
        return 5.0
""", "_Loss()", FAILS),
}

RAISES = {
    "fake-AssertionError-class": ("class AssertionError(Exception):\n    pass\n",
                                  "AssertionError('fake')"),
    "fake-AssertionError-BaseException": ("class AssertionError(BaseException):\n    pass\n",
                                          "AssertionError('fake')"),
    "SystemExit": ("", "SystemExit(0)"),
    "KeyboardInterrupt": ("", "KeyboardInterrupt()"),
    "GeneratorExit": ("", "GeneratorExit()"),
    "StopIteration": ("", "StopIteration()"),
    "exception-whose-str-raises": ("""
class _Weird(Exception):
    def __str__(self):
        raise SystemExit(0)
    def __repr__(self):
        raise SystemExit(0)
""", "_Weird()"),
}

ACCURACY_LIES = {
    "__eq__-always-True": ("""
class _Acc:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
""", PASSES),
    "__eq__-returns-object-whose-__bool__-is-True": ("""
class _Yes:
    def __bool__(self):
        return True
class _Acc:
    def __eq__(self, other):
        return _Yes()
    __hash__ = object.__hash__
""", PASSES),
    "__bool__-returns-a-str": ("""
class _Yes:
    def __bool__(self):
        return "yes"      # TypeError: __bool__ should return bool
class _Acc:
    def __eq__(self, other):
        return _Yes()
    __hash__ = object.__hash__
""", FAILS),
    "__bool__-returns-an-int": ("""
class _Yes:
    def __bool__(self):
        return 1
class _Acc:
    def __eq__(self, other):
        return _Yes()
    __hash__ = object.__hash__
""", FAILS),
    "__bool__-returns-numpy-bool": ("""
import numpy as _np
class _Yes:
    def __bool__(self):
        return _np.bool_(True)
class _Acc:
    def __eq__(self, other):
        return _Yes()
    __hash__ = object.__hash__
""", FAILS),
    "__eq__-NotImplemented": ("""
class _Acc:
    def __eq__(self, other):
        return NotImplemented     # float's reflected __eq__ too: identity -> False
    __hash__ = object.__hash__
""", FAILS),
    "__eq__-raises-SystemExit": ("""
class _Acc:
    def __eq__(self, other):
        raise SystemExit(0)
    __hash__ = object.__hash__
""", FAILS),
    "__eq__-on-the-instance-only": ("""
class _Acc:
    def __init__(self):
        self.__eq__ = lambda other: True     # special methods are looked up on the type
""", FAILS),
    "ndarray-subclass-__eq__": ("""
import numpy as _np
class _Acc(_np.ndarray):
    def __eq__(self, other):
        return _np.True_
def _make():
    return _np.array(0.5).view(_Acc)
""", PASSES),
}

METRICS_LENGTHS = {
    # __len__ of the Trainer's metrics container, which holds the metric twice
    "1": PASSES, "True": PASSES, "__import__('numpy').int64(1)": PASSES,
    "2**100": FAILS, "-1": FAILS, "1.0": FAILS, "'1'": FAILS, "None": FAILS,
}


@pytest.mark.parametrize("name", list(MSE_LIES))
def test_a_loss_that_lies_gets_the_plain_kernel_verdict(training, grade, complete, broken_mse, name):
    classes, expr, verdict = MSE_LIES[name]
    assert grade.honest(training, broken_mse) == FAILS
    result = grade(training, lying(complete, "mse-loss", MSE_RETURN, classes,
                                   f"        return {expr}\n"))
    assert result["score"] == verdict, explain(result)


@pytest.mark.parametrize("name", list(RAISES))
def test_a_loss_that_raises_anything_fails_the_test(training, grade, complete, broken_mse, name):
    classes, expr = RAISES[name]
    assert grade.honest(training, broken_mse) == FAILS
    result = grade(training, lying(complete, "mse-loss", MSE_RETURN, classes,
                                   f"        raise {expr}\n"))
    assert result["score"] == FAILS, explain(result)
    assert items(result)[TEST]["status"] in ("failed", "error")


@pytest.mark.parametrize("name", list(ACCURACY_LIES))
def test_an_accuracy_that_lies_gets_the_plain_kernel_verdict(training, grade, complete, name):
    """`assert acc == 1.0`. Honest baseline: Accuracy returns 0.5 -> 15/40.
    ndarray-subclass-__eq__: in a plain kernel the subclass's __eq__ runs (40); a
    driver that rebuilds every ndarray instance as a plain array would say 15 -- the
    student's subclass is the student's object, so its behaviour counts."""
    baseline = edit(complete, "accuracy-metric", replace(ACC_RETURN, "        return 0.5\n"))
    assert grade.honest(training, baseline) == FAILS
    classes, verdict = ACCURACY_LIES[name]
    expr = "_make()" if "def _make" in classes else "_Acc()"
    result = grade(training, lying(complete, "accuracy-metric", ACC_RETURN, classes,
                                   f"        return {expr}\n"))
    assert result["score"] == verdict, explain(result)


@pytest.mark.parametrize("length", list(METRICS_LENGTHS))
def test_a_metrics_container_whose_len_lies(training, grade, complete, broken_trainer, length):
    """`assert len(trainer.metrics) == 1` with the metric stored twice. len() accepts
    only an int-like >= 0 that fits in Py_ssize_t (True and numpy ints are int-like)."""
    assert grade.honest(training, broken_trainer) == FAILS
    classes = f"""
class _Metrics:
    def __init__(self, metrics):
        self._items = list(metrics) * 2
    def __iter__(self):
        return iter(self._items)
    def __len__(self):
        return {length}
"""
    result = grade(training, lying(complete, "trainer-class", TRAINER_METRICS, classes,
                                   "        self.metrics = _Metrics(metrics or [])\n"))
    assert result["score"] == METRICS_LENGTHS[length], explain(result)


IMPOSTORS = {
    # the Trainer stores, instead of the loss it was given, ...
    "an-equal-object-with-the-same-hash": ("""
class _Impostor:
    def __init__(self, real):
        self._real = real
    def __eq__(self, other):
        return True
    def __hash__(self):
        return hash(self._real)
    def __call__(self, *a):
        return self._real(*a)
""", "_Impostor(loss_function)"),
    "an-object-claiming-its-class": ("""
class _Impostor:
    def __init__(self, real):
        self._real = real
    __class__ = property(lambda self: type(self._real))
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
""", "_Impostor(loss_function)"),
    "a-copy": ("import copy as _copy\n", "_copy.copy(loss_function)"),
}


@pytest.mark.parametrize("name", list(IMPOSTORS))
def test_identity_is_remote_identity(training, grade, complete, name):
    """`assert trainer.loss_function is loss_fn`: only the very object passes."""
    classes, expr = IMPOSTORS[name]
    result = grade(training, lying(complete, "trainer-class", TRAINER_LOSS, classes,
                                   f"        self.loss_function = {expr}\n"))
    assert result["score"] == FAILS, explain(result)


def test_objects_with_a_broken_hash_and_eq_keep_their_identity(training, grade, complete):
    """A loss class whose __hash__ returns a str and whose __eq__ raises: `is` never
    calls them, so the plain-kernel verdict is a pass (40). A driver must not key its
    one-proxy-per-object table on the student's __hash__/__eq__."""
    nb = edit(complete, "mse-loss", replace(
        "    def __init__(self):\n        \"\"\"Initialize MSE loss function.\"\"\"\n",
        "    def __hash__(self):\n        return 'not an int'\n"
        "    def __eq__(self, other):\n        raise SystemExit('eq called')\n"
        "    def __init__(self):\n        \"\"\"Initialize MSE loss function.\"\"\"\n"))
    result = grade(training, nb)
    assert result["score"] == PASSES, explain(result)
