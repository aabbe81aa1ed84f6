"""Instructor helpers the locked test calls run as the source defines them.

In the Training module the locked test calls `get_tensor_value`, defined in the
instructor cell `training-imports` (neither locked nor a test, so a submission may
edit it). DESIGN.md ("Trust model"): helper functions from the source's non-solution
cells are the driver's own, taken from the source's definitions only. Helpers that
the *student's* code calls (the reference MSE calls `extract_numpy_data`) are the
student's process's: changing them changes the student's own functions, honestly.
"""
from __future__ import annotations

import pytest

from grader.synth import append_code, edit, replace
from security_helpers import FULL, TEST, assert_honest, explain, items

ZERO_HELPER = '''
def get_tensor_value(tensor_obj):
    return 0.0
'''

HELPER_ATTACKS = {
    "redefined-in-a-new-cell": lambda nb: append_code(nb, ZERO_HELPER),
    "redefined-right-after-the-instructor-cell":
        lambda nb: append_code(nb, ZERO_HELPER, after="training-imports"),
    "instructor-cell-edited": lambda nb: edit(nb, "training-imports", replace(
        "def get_tensor_value(tensor_obj):\n",
        "def get_tensor_value(tensor_obj):\n    return 0.0\n")),
    "instructor-cell-extended": lambda nb: edit(
        nb, "training-imports", lambda s: s + "\n" + ZERO_HELPER),
    "rebound-during-the-graded-call": lambda nb: append_code(nb, '''
_orig_call = MeanSquaredError.__call__
def _call(self, y_pred, y_true):
    globals()["get_tensor_value"] = lambda tensor_obj: 0.0
    return _orig_call(self, y_pred, y_true)
MeanSquaredError.__call__ = _call
'''),
    "helper-code-object-swapped": lambda nb: append_code(nb, '''
get_tensor_value.__code__ = (lambda tensor_obj: 0.0).__code__
'''),
    "numpy-module-swapped-in-sys.modules": lambda nb: append_code(nb, '''
import sys, types, numpy
class _Numpy(types.ModuleType):
    def __getattr__(self, name):
        return getattr(numpy, name)
_fake = _Numpy("numpy")
def _array(*args, **kwargs):
    if sys._getframe(1).f_code.co_name == "get_tensor_value":
        return numpy.array(0.0)
    return numpy.array(*args, **kwargs)
_fake.array = _array
sys.modules["numpy"] = _fake      # `import numpy as np` inside the helper gets this
'''),
}


@pytest.mark.parametrize("name", list(HELPER_ATTACKS))
def test_changing_the_helper_the_test_calls_changes_nothing(training, grade, broken_mse, name):
    honest = grade.honest(training, broken_mse)
    result = grade(training, HELPER_ATTACKS[name](broken_mse))
    assert_honest(result, honest)
    assert items(result)[TEST]["score"] == 0


def test_sabotaging_the_helper_cannot_fail_a_correct_solution(training, grade, complete):
    """The flip side: the test's helper is the source's, so a complete solution whose
    notebook breaks get_tensor_value (returns 1.0) still passes the locked test. (A
    plain kernel would fail it; DESIGN.md takes the helper from the source.)"""
    nb = append_code(complete, "def get_tensor_value(tensor_obj):\n    return 1.0\n")
    result = grade(training, nb)
    assert result["score"] == FULL, explain(result)


def test_a_helper_the_students_code_calls_is_the_students(training, grade, complete):
    """The reference MSE calls extract_numpy_data from the student's process. A
    notebook that redefines it to always return 5.0 breaks its own MSE, exactly as it
    would in a plain kernel: loss 5.0, `abs(loss_value) < 1e-6` fails -> 15/40."""
    nb = append_code(complete, "import numpy as np\n"
                               "def extract_numpy_data(tensor_obj):\n"
                               "    return np.array(5.0)\n", after="training-imports")
    result = grade(training, nb)
    assert result["score"] == FULL - 25, explain(result)
    assert items(result)[TEST]["status"] in ("failed", "error")
