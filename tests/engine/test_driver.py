"""The trusted driver (DESIGN.md, "What the driver must get right"): locked tests run in
the supervisor, on proxies of objects that live in a real sandbox kernel."""
from __future__ import annotations

import pytest

from grader.engine import Call, Cell, Engine, Job, Limits

FAST = Limits(cell_timeout_s=2.0, call_timeout_s=2.0, memory_mb=1024, output_cap_bytes=100_000)

STUDENT = '''
import numpy as np

class Box:
    """A student object exercising every protocol the proxy carries."""
    def __init__(self, v):
        self.v = v
        self.items = [1, 2, 3]
    def __add__(self, o): return Box(self.v + (o.v if isinstance(o, Box) else o))
    def __radd__(self, o): return Box(o + self.v)
    def __sub__(self, o): return Box(self.v - o)
    def __rsub__(self, o): return Box(o - self.v)
    def __mul__(self, o): return Box(self.v * o)
    def __rmul__(self, o): return Box(o * self.v)
    def __truediv__(self, o): return Box(self.v / o)
    def __matmul__(self, o): return self.v * o.v
    def __neg__(self): return Box(-self.v)
    def __abs__(self): return abs(self.v)
    def __eq__(self, o): return isinstance(o, Box) and o.v == self.v
    def __lt__(self, o): return self.v < (o.v if isinstance(o, Box) else o)
    def __hash__(self): return hash(self.v)
    def __len__(self): return len(self.items)
    def __bool__(self): return self.v != 0
    def __getitem__(self, i): return self.items[i]
    def __setitem__(self, i, x): self.items[i] = x
    def __contains__(self, x): return x in self.items
    def __iter__(self): return iter(self.items)
    def __float__(self): return float(self.v)
    def __int__(self): return int(self.v)
    def __index__(self): return int(self.v)
    def __str__(self): return f"Box({self.v})"
    def __repr__(self): return f"<Box {self.v}>"
    def __format__(self, spec): return format(self.v, spec)
    def __array__(self, dtype=None, copy=None): return np.full(3, self.v, dtype=float)
    def __enter__(self): self.entered = True; return self
    def __exit__(self, *exc): self.exited = exc[0] is not None; return True
    def __call__(self, k=1): return self.v * k
    def scale(self, k): self.v *= k; return self

class Holder:
    def __init__(self, thing): self.thing = thing

class MyError(ValueError):
    pass

def raise_mine(): raise MyError("my message")
def raise_index(): return [][1]
def data(): return np.arange(4.0).reshape(2, 2)
def mixed(): return {"a": 1.5, "b": [1, 2], "c": (3, "x"), "d": np.float32(2.5)}
def apply(fn): return fn(2)
'''


def driver_job(engine: Engine, test: str, *, cells: tuple[str, ...] = (STUDENT,),
               helpers: list[tuple[str, str, bool]] | None = None, limits: Limits = FAST,
               functions: list[str] | None = None):
    job = Job(cells=[Cell(f"c{i}", src) for i, src in enumerate(cells)],
              calls=[Call("t", test, functions if functions is not None else ["test_it"],
                          mode="driver")],
              limits=limits, helpers=helpers or [], framework="tinytorch")
    return engine.run(job)


def passes(engine: Engine, test: str, **kw) -> None:
    res = driver_job(engine, test, **kw)
    call = res.calls[0]
    assert call.status == "passed", (call.error.traceback if call.error else call, call.output)


def test_every_operator_and_protocol_runs_on_the_remote_object(engine: Engine) -> None:
    passes(engine, '''
def test_it():
    b = Box(2)
    assert (b + 1).v == 3 and (1 + b).v == 3 and (b - 1).v == 1 and (5 - b).v == 3
    assert (b * 3).v == 6 and (3 * b).v == 6 and (b / 2).v == 1.0 and (b @ Box(4)) == 8
    assert (-b).v == -2 and abs(Box(-3)) == 3
    assert b == Box(2) and b != Box(3) and b < 3 and not (b < 1)
    assert hash(b) == hash(2) and len(b) == 3 and bool(b) and not bool(Box(0))
    assert b[0] == 1 and 2 in b and 9 not in b and list(b) == [1, 2, 3]
    b[0] = 7
    assert b.items == [7, 2, 3] and [x for x in b] == [7, 2, 3]
    assert float(b) == 2.0 and int(b) == 2 and [0, 1, 2, 3][b] == 2
    assert str(b) == "Box(2)" and repr(b) == "<Box 2>" and f"{b:.2f}" == "2.00"
    import numpy as np
    arr = np.asarray(b)
    assert type(arr) is np.ndarray and arr.tolist() == [2.0, 2.0, 2.0]
    with b as inside:
        assert inside is b
    assert b.entered is True and b.exited is False
    assert b() == 2 and b(k=5) == 10
    b.w = 11
    assert b.w == 11
    b += 1
    assert b.v == 3
    assert isinstance(b, Box) and not isinstance(Holder(1), Box) and not isinstance(3, Box)
    assert issubclass(MyError, ValueError)
''')


def test_identity_and_in_place_updates_behave_as_in_a_kernel(engine: Engine) -> None:
    passes(engine, '''
def test_it():
    thing = Box(1)
    holder = Holder(thing)
    assert holder.thing is thing          # one proxy per remote object
    assert holder.thing is holder.thing
    same = thing.scale(5)                 # a method that updates in place
    assert same is thing and thing.v == 5 and holder.thing.v == 5
''')


def test_plain_data_comes_back_as_trusted_values(engine: Engine) -> None:
    passes(engine, '''
import numpy as np
def test_it():
    d = data()
    assert type(d) is np.ndarray and d.shape == (2, 2) and d.dtype == np.float64
    assert np.allclose(d, [[0, 1], [2, 3]])
    m = mixed()
    assert type(m) is dict and m["a"] == 1.5 and m["b"] == [1, 2] and m["c"] == (3, "x")
    assert type(m["d"]) is np.float32 and m["d"] == 2.5
''')


def test_exceptions_arrive_as_the_same_builtin_type_or_one_remote_type(engine: Engine) -> None:
    res = driver_job(engine, '''
def test_it():
    try:
        raise_index()
    except IndexError as exc:
        assert "list index out of range" in str(exc)
    else:
        raise AssertionError("IndexError was not raised")
    try:
        raise_mine()
    except ValueError as exc:              # the student's subclass of ValueError
        assert type(exc).__name__ == "RemoteError" and "MyError: my message" in str(exc)
    it = iter(Box(1))
    assert [next(it), next(it), next(it)] == [1, 2, 3]
    try:
        next(it)
    except StopIteration:
        pass
    raise_mine()
''')
    call = res.calls[0]
    assert call.status == "error"
    assert call.error.ename == "MyError" and call.error.evalue == "my message"
    files = [f[0] for f in call.error.frames]
    assert "<setup:t>" in files and "<cell:c0>" in files   # the test's line and the student's


@pytest.mark.parametrize("method, body, use", [
    ("__bool__", "return 1", "bool(liar)"),
    ("__len__", "return -5", "len(liar)"),
    ("__hash__", "return 'h'", "hash(liar)"),
    ("__str__", "return 5", "str(liar)"),
])
def test_protocol_results_of_the_wrong_type_fail(engine: Engine, method, body, use) -> None:
    liar = f"class Liar:\n    def {method}(self):\n        {body}\nliar = Liar()\n"
    res = driver_job(engine, f"def test_it():\n    {use}\n", cells=(STUDENT, liar))
    call = res.calls[0]
    assert call.status == "error" and call.error.ename in ("TypeError", "ValueError"), call.error


def test_helpers_come_from_the_source_and_other_names_from_the_kernel(engine: Engine) -> None:
    helper = ("helpers", "import math\nLIMIT = 99\ndef value_of(box):\n    return box.v\n", True)
    student = STUDENT + "\ndef value_of(box):\n    return 0\nLIMIT = 5\nimport math\nmath.pi = 3\n"
    passes(engine, '''
def test_it():
    assert value_of(Box(4)) == 4          # the source's helper, not the student's redefinition
    assert LIMIT == 5                     # a non-function name is the student's
    assert math.pi > 3.14                 # the driver's own math
''', cells=(student,), helpers=[helper])


def test_trusted_callbacks_are_never_passed_to_student_code(engine: Engine) -> None:
    res = driver_job(engine, '''
def test_it():
    apply(lambda x: x * 2)
''')
    call = res.calls[0]
    assert call.status == "error" and "cannot be passed to student code" in call.error.evalue
    assert "in_kernel = true" in call.error.evalue


def test_a_reply_cannot_hand_the_driver_a_raw_memory_view(engine: Engine) -> None:
    """numpy would read (or write) the memory an __array_interface__ points at: the driver
    never fetches such attributes from the kernel, whatever the student's class says."""
    passes(engine, '''
import numpy as np
def test_it():
    arr = Pointer()
    assert not hasattr(arr, "__array_interface__") and not hasattr(arr, "__array_struct__")
    assert arr.ok == 1
''', cells=(STUDENT + '''
class Pointer:
    ok = 1
    __array_interface__ = {"shape": (1 << 20,), "typestr": "<f8", "data": (8, False), "version": 3}
''',))


def test_a_remote_call_that_hangs_is_cut_and_the_next_item_runs(engine: Engine) -> None:
    job = Job(cells=[Cell("c0", STUDENT + "\ndef hang():\n    while True:\n        pass\n"),
                     Cell("c1", "after = 42")],
              calls=[Call("hangs", "def test_it():\n    hang()\n", ["test_it"], mode="driver"),
                     Call("after", "def test_it():\n    assert after == 42 and Box(2).v == 2\n",
                          ["test_it"], mode="driver")],
              limits=Limits(cell_timeout_s=2, call_timeout_s=1.0, memory_mb=1024),
              helpers=[], framework=None)
    res = engine.run(job)
    assert [c.status for c in res.calls] == ["timeout", "passed"], res.calls


def test_a_test_that_catches_everything_still_fails_when_the_kernel_dies(engine: Engine) -> None:
    res = driver_job(engine, '''
def test_it():
    try:
        die()
    except BaseException:
        pass
''', cells=(STUDENT + "\nimport os\ndef die():\n    os._exit(0)\n",))
    assert res.calls[0].status == "crashed"


def test_top_level_checks_in_a_test_cell_are_verdicts_too(engine: Engine) -> None:
    res = driver_job(engine, "assert Box(1) + 1 == Box(3)\n", functions=[])
    assert res.calls[0].status == "failed"
    passes(engine, "assert Box(1) + 1 == Box(2)\n", functions=[])


@pytest.mark.parametrize("op, lie, use", [
    ("bool", "1", "bool(Box(1))"),
    ("len", "-5", "len(Box(1))"),
    ("len", "10**30", "len(Box(1))"),
    ("hash", "'h'", "hash(Box(1))"),
    ("str", "5", "str(Box(1))"),
    ("isinstance", "'yes'", "isinstance(Box(1), Box)"),
])
def test_a_kernel_that_lies_about_protocol_results_gets_a_type_error(engine: Engine, op, lie,
                                                                      use) -> None:
    """The student's process can replace the kernel server's operations: the driver still
    holds every protocol result to the type Python requires."""
    patch = ("import sys\n"
             f"sys.modules['grader.engine.kernel.server'].OPS[{op!r}] = lambda *a: {lie}\n")
    res = driver_job(engine, f"def test_it():\n    {use}\n", cells=(STUDENT, patch))
    call = res.calls[0]
    assert call.status == "error" and call.error.ename in ("TypeError", "ValueError"), call.error


def test_a_test_can_remove_and_restore_a_students_name(engine: Engine) -> None:
    """nbgrader's idiom for "sum_of_squares uses squares": the test deletes the name from
    the student's namespace, expects a NameError, and puts it back."""
    student = ("def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
               "def sum_of_squares(n):\n    return sum(squares(n))\n")
    test = ('orig_squares = squares\ndel squares\ntry:\n    sum_of_squares(1)\n'
            'except NameError:\n    pass\nelse:\n    raise AssertionError("does not use squares")\n'
            'finally:\n    squares = orig_squares\n')
    job = Job(cells=[Cell("c0", student)],
              calls=[Call("uses", test, [], mode="driver"),
                     Call("after", "assert sum_of_squares(3) == 14\n", [], mode="driver")],
              limits=FAST, helpers=[], framework=None)
    assert [c.status for c in engine.run(job).calls] == ["passed", "passed"]
    cheat = student.replace("sum(squares(n))", "sum(i * i for i in range(1, n + 1))")
    job.cells = [Cell("c0", cheat)]
    assert [c.status for c in engine.run(job).calls] == ["failed", "passed"]


def test_numpy_dtypes_and_scalar_types_cross_as_the_drivers_own(engine: Engine) -> None:
    passes(engine, '''
import numpy as np
def test_it():
    labels = make()
    assert np.issubdtype(labels.dtype, np.integer) and labels.dtype == np.int64
    assert convert(np.float32).dtype == np.float32
''', cells=(STUDENT + '''
class Labels:
    dtype = np.arange(3).dtype
def make(): return Labels()
def convert(dt): return np.zeros(2, dtype=dt)
''',))


def test_values_the_test_computes_never_reach_the_students_namespace(engine: Engine) -> None:
    """A student who defines `expected` hoping the test's own `expected = ...` lands in
    their namespace (as it would in a kernel) reads their own value, not the test's."""
    student = ("expected = None\n"
               "def total(xs):\n    return expected\n")
    res = driver_job(engine, "expected = sum([1, 2, 3])\nassert total([1, 2, 3]) == expected\n",
                     cells=(student,), functions=[])
    assert res.calls[0].status == "failed"


def test_a_value_that_makes_the_test_allocate_without_bound_fails_the_item(engine: Engine) -> None:
    """The student's len() makes trusted code build a huge list: the supervisor's own
    memory cap turns that into a MemoryError (the item fails), the job goes on."""
    res = driver_job(engine, "def test_it():\n    xs = [0] * len(Box(1)) * 10**9\n",
                     cells=(STUDENT,))
    assert res.calls[0].status == "error" and res.calls[0].error.ename == "MemoryError"


def test_a_supervisor_stuck_in_trusted_code_is_ended_by_the_engine() -> None:
    """A test that swallows every interruption keeps the supervisor busy forever; past the
    submission budget the engine ends the job with an error and starts afresh."""
    from grader.engine import EngineError
    stuck = ("def test_it():\n    while True:\n        try:\n            while True:\n"
             "                pass\n        except BaseException:\n            pass\n")
    limits = Limits(cell_timeout_s=2, call_timeout_s=0.5, submission_timeout_s=1.0,
                    memory_mb=1024)
    with Engine(preload=[], watchdog_slack_s=1.0) as engine:
        with pytest.raises(EngineError, match="did not finish"):
            engine.run(Job(cells=[Cell("c", "x = 1")],
                           calls=[Call("t", stuck, ["test_it"], mode="driver")], limits=limits))
        again = engine.run(Job(cells=[Cell("c", "x = 1")],
                               calls=[Call("t", "assert x == 1\n", [], mode="driver")],
                               limits=limits))
        assert again.calls[0].status == "passed"
