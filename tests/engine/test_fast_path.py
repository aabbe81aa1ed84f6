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
