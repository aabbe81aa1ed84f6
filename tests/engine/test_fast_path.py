"""Plain-Python cells skip IPython's token transforms (issue "30x nbgrader's throughput"):
every output must be exactly what IPython's full run_cell path gives."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.engine import Cell, Engine, Job, Limits

CELLS = [
    "x = 1\ny = 2\nx + y",                                     # last line an expression
    "x",                                                       # single line (IPython prefilter)
    "\n\nz = x * 10\nz",                                       # leading blank lines
    "a = [1, 2]\n...\n",                                       # '...' line (IPython's prompt stripper)
    "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))\n'after'",
    "class Rich:\n    def _repr_html_(self):\n        return '<i>rich</i>'\n    def __repr__(self):\n"
    "        return 'Rich()'\nRich()",                          # a rich object
    "v = 3\nv;",                                               # ';' suppresses the result
    "def f():\n    return 1 / 0\nf()",                          # an exception in a function
    "q = 5\nraise ValueError('bad')",                          # an exception at top level
    "%precision 3\nw = 2 / 3\nw",                               # a line magic
    "!echo shell\nprint('after shell')",                       # a shell escape
    "out = !echo captured\nout",                               # a system assignment
    "import asyncio\nawait asyncio.sleep(0)\n'awaited'",        # top-level await
    "_ + 1 if isinstance(_, int) else Out",                    # the display hook's _ and Out
    "print('a')\nimport sys\nprint('b', file=sys.stderr)\n7",  # streams then a result
    "def g():\n    pass\nsyntax error here",                    # a syntax error
    "   indented = 1\n   indented",                             # IPython removes the indent
    "ran_first = 1\nprint('before')\nreturn 5",                 # fails only when compiled
    "print(ran_first)\nfor i in range(2):\n    print(i)\n1/0\nprint('never')",
    "from __future__ import annotations\ndef h(x: Undefined) -> None:\n    pass\nh.__annotations__",
    # where the last statement starts is told from the text (SandboxShell._compiled):
    "def k(a, b):\n    return a + b\nk(1,\n2)",                 # an expression over two lines
    "total = (1 +\n2)\ntotal",                                # a continuation line at column 0
    "if ran_first:\n    'then'\nelse:\n    'else'",            # ends with a compound statement
    "a = 1; a",                                               # two statements on the last line
    "a + 1  # a comment after the expression\n# and a comment line\n",
    "b = 2\na;",                                              # ';' on the last expression
    "s = '''\nx = 1\n'''\ns",                                 # code-like lines inside a string
    "def deco(f):\n    return f\n@deco\ndef decorated():\n    return 2\ndecorated()",
    "@deco\ndef last_decorated():\n    return 3",             # a decorated last statement
    "class Box:\n    '''doc'''\n    value = 4\nBox.value",
    "def gen():\n    yield 1\n(yield)",                         # yield outside a function
    "print('x')\nprint('y')",                                  # a call returning None
    "c = 0\nlambda: c",                                        # a lambda is an expression
    "match ran_first:\n    case 1:\n        'one'\n    case _:\n        'other'",
    "x = 1\n    y = 2",                                       # an indentation error
    ">>> doc = 5\n>>> doc",                                   # doctest prompts are stripped
    "'''first'''\n'''second'''",                              # two string statements
    "import math\nfrom math import pi as PI\n(PI,\n math.e)",  # a tuple over two lines
    "d = {1: 2}\n{k: v\nfor k, v in d.items()}",              # a comprehension at column 0
    # the display hook's ';' check reads only the last statement (CapturingDisplayHook.quiet)
    "import sys\nsys.displayhook(42)\nfor _i in range(1):\n    pass",
    "sys.displayhook(43)\nk(1,\n2);",                         # ';' ends a two-line statement
    "sys.displayhook(44)\nk(1,\n2)  # ;",                     # a ';' in a comment
    # IPython dedents the whole cell, emptying lines of only spaces and tabs, even in a
    # string (the fast path does it without textwrap when the first line is not indented)
    "ws = \'\'\'\n  \n\t\nend \'\'\'\nws",
    "  ws2 = \'\'\'\n  \n   \t\n  end\'\'\'\n  ws2",
]


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[Engine, Engine]]:
    with Engine(preload=["numpy"]) as fast, Engine(preload=["numpy"], fast_path=False) as full:
        yield fast, full


def outputs(engine: Engine, cells: list[str]):
    job = Job(cells=[Cell(f"c{i}", src) for i, src in enumerate(cells)],
              limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
    res = engine.run(job)
    return [(c.status, c.outputs, c.error.traceback if c.error else None) for c in res.cells]


def test_every_kind_of_cell_gives_the_same_outputs_on_both_paths(both) -> None:
    fast, full = both
    got, want = outputs(fast, CELLS), outputs(full, CELLS)
    for cell, a, b in zip(CELLS, got, want):
        assert a == b, f"cell {cell!r}:\nfast {a}\nfull {b}"
    # and the paths really differ in what they did: the fast path ran these cells
    assert any(o.get("output_type") == "execute_result" for o in got[0][1])


def test_the_demo_module_executes_identically_on_both_paths(both) -> None:
    """The Training module's source, every code cell, on both paths."""
    from pathlib import Path

    from grader.module import load_module
    root = Path(__file__).resolve().parents[2]
    module = load_module(root, "09_training")
    cells = [c.source for c in module.source.cells if c.cell.cell_type == "code"]
    fast, full = both
    assert outputs(fast, cells) == outputs(full, cells)


SETUPS = [
    "def test_a():\n    assert ran == 1\n",                    # plain Python
    "\n\n\ndef test_b():\n    assert ran == 2\n",                 # leading blank lines
    "    def test_c():\n        assert ran == 3\n",            # indented: IPython dedents
    "%precision 2\ndef test_d():\n    assert ran == 4\n",      # a magic
    ">>> def test_e():\n...     assert ran == 5\n",            # doctest prompts
    "def test_f(:\n    pass\n",                                # a syntax error
]


def test_in_kernel_setups_run_identically_on_both_paths(both, taught) -> None:
    """Test cells run in the kernel are compiled once when plain (KernelServer._run_setup),
    or ahead in the template when taught (Engine.learn): the same errors, line numbers
    and outputs as through IPython's transforms."""
    from grader.engine import Call
    calls = [Call(key=f"s{i}", setup=src, functions=[f"test_{'abcdef'[i]}"])
             for i, src in enumerate(SETUPS)]
    job = Job(cells=[Cell("c", "ran = 0")], calls=calls,
              limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
    fast, full = both
    want = full.run(job).calls
    for engine in (fast, taught):
        got = engine.run(job).calls
        assert [(c.status, c.error) for c in got] == [(c.status, c.error) for c in want]
        assert [c.status for c in got] == ["failed"] * 5 + ["error"]
        assert "line 2" in "".join(got[1].error.traceback)   # after the blank lines IPython drops


def test_most_cells_are_compiled_from_their_text(both) -> None:
    """Cells that need no tree are compiled from the text (the cheaper way); the
    others (';', a continued or decorated last statement ...) are parsed."""
    fast, _ = both
    record = ("seen = []\nip = get_ipython()\nip.events.register('post_run_cell', "
              "lambda result: seen.append(type(ip.compile.parsed[1].body).__name__))")
    cells = ["x = 1\ny = 2\nx + y", "def k(a, b):\n    return a + b\nk(1,\n2)", "a = 1; a",
             "total = (1 +\n2)\ntotal", "class C:\n    pass\nC", "@(lambda f: f)\ndef g():\n    pass"]
    res = outputs(fast, [record, *cells, "print(seen[1:])"])
    assert res[-1][1][0]["text"].strip() == str(
        ["Compiled", "list", "list", "Compiled", "Compiled", "list"])


# -- released cells compiled ahead, in the template (Engine.learn) --------------------------
PROBE = ("import sys\nhere = sys._getframe().f_code\n"
         "from_template = any(here is code for code in get_ipython().learned.values())\n"
         "from_template")


@pytest.fixture(scope="module")
def taught() -> Iterator[Engine]:
    with Engine(preload=["numpy"]) as engine:
        engine.learn([(f"c{i}", src) for i, src in enumerate(CELLS)],
                     [(f"s{i}", src) for i, src in enumerate(SETUPS)])
        yield engine


SETUP_PROBE = ("import sys\n_here = sys._getframe().f_code\n"
               "_from_template = any(isinstance(v, tuple) and _here is v[1]\n"
               "                     for v in get_ipython().learned.values())\n"
               "def test_probe():\n    assert _from_template\n")


def test_a_taught_in_kernel_setup_runs_from_the_template_s_code() -> None:
    from grader.engine import Call

    def status(engine: Engine, key: str, setup: str) -> str:
        job = Job(cells=[Cell("c", "1")], calls=[Call(key=key, setup=setup,
                                                      functions=["test_probe"])],
                  limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
        return engine.run(job).calls[0].status

    with Engine(preload=["numpy"]) as engine:
        assert status(engine, "unit:probe", SETUP_PROBE) == "failed"
        engine.learn([], [("unit:probe", SETUP_PROBE)])
        assert status(engine, "unit:probe", SETUP_PROBE) == "passed"
        assert status(engine, "unit:other", SETUP_PROBE) == "failed"
        assert status(engine, "unit:probe", SETUP_PROBE + "x = 1\n") == "failed"


def test_cells_compiled_ahead_give_the_same_outputs_as_the_full_path(both, taught) -> None:
    """Every kind of cell, taught to the template first: what a kernel runs from the
    template's code is what IPython's full path gives (errors, line numbers, results,
    a `from __future__` cell changing the cells after it)."""
    _, full = both
    got, want = outputs(taught, CELLS), outputs(full, CELLS)
    for cell, a, b in zip(CELLS, got, want):
        assert a == b, f"cell {cell!r}:\ntaught {a}\nfull {b}"


def _probe(engine: Engine, key: str, source: str) -> bool:
    job = Job(cells=[Cell("first", "1 + 1"), Cell(key, source)],
              limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
    cell = engine.run(job).cells[1]
    assert cell.status == "ok", cell.error
    return {"True": True, "False": False}[cell.outputs[0]["data"]["text/plain"]]


def test_a_kernel_runs_a_taught_cell_from_the_template_s_code_only_when_all_matches() -> None:
    with Engine(preload=["numpy"]) as engine:
        assert not _probe(engine, "probe", PROBE)          # nothing taught yet
        engine.learn([("probe", PROBE), ("future", "from __future__ import annotations\n"
                                                   "def h(x: Nope):\n    pass")])
        assert _probe(engine, "probe", PROBE)              # the next job's kernel has it
        assert not _probe(engine, "other", PROBE)          # another cell's name
        assert not _probe(engine, "probe", PROBE.replace("sys\n", "sys, os\n", 1))  # edited
        # compiled under other flags (a `from __future__` cell before it): not taken
        job = Job(cells=[Cell("f", "from __future__ import annotations\n1"),
                         Cell("probe", PROBE)],
                  limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
        assert engine.run(job).cells[1].outputs[0]["data"]["text/plain"] == "False"
        # a taught `from __future__` cell still changes how the cells after it compile
        job = Job(cells=[Cell("future", "from __future__ import annotations\n"
                                        "def h(x: Nope):\n    pass"),
                         Cell("after", "def k(x: Nope2):\n    pass\nk.__annotations__")],
                  limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
        cells = engine.run(job).cells
        assert [c.status for c in cells] == ["ok", "ok"]
        assert cells[1].outputs[0]["data"]["text/plain"] == "{'x': 'Nope2'}"


def test_a_restarted_template_learns_the_cells_again() -> None:
    with Engine(preload=["numpy"]) as engine:
        engine.learn([("probe", PROBE)])
        assert _probe(engine, "probe", PROBE)
        engine._terminate()   # as after a template that died: the next job starts one
        assert _probe(engine, "probe", PROBE)


def test_printed_output_is_not_also_kept_in_ipython_s_history(both) -> None:
    """IPython 9 copies every write to stdout/stderr into its history's outputs, past
    the output cap; the sandbox shell keeps none (SandboxShell._tee)."""
    fast, full = both
    cells = ["for i in range(20_000):\n    print('x' * 100)",
             "import sys\nhist = get_ipython().history_manager.outputs\n"
             "sum(len(s) for outs in hist.values() for o in outs\n"
             "    for s in o.bundle.get('stream', []))"]
    for engine in (fast, full):
        res = outputs(engine, cells)
        assert res[0][0] == "ok" and res[1][0] == "ok"
        assert res[1][1][0]["data"]["text/plain"] == "0"
