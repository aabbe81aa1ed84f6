"""A failing cell's error output is built by the runner (server.error_info); IPython's
own formatted traceback is made only where it has effects a notebook shows
(kernel/shell.py, SandboxShell.showtraceback)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.engine import Cell, Engine, Job, Limits


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine(preload=["numpy"]) as e:
        yield e


def run(engine: Engine, *cells: str):
    job = Job(cells=[Cell(f"c{i}", src) for i, src in enumerate(cells)],
              limits=Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=1024))
    return engine.run(job).cells


def streams(cell, name: str) -> str:
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.get("output_type") == "stream" and o.get("name") == name)


def test_an_ordinary_error_is_not_formatted_by_ipython_but_keeps_its_traceback(engine) -> None:
    cells = run(engine,
                "ip = get_ipython()\ncalls = []\n"
                "ip.InteractiveTB.structured_traceback = lambda *a, **k: calls.append(a) or []",
                "def inner():\n    raise KeyError('k')\ninner()",
                "import sys\nprint(len(calls), type(sys.last_value).__name__)")
    assert cells[1].status == "error"
    assert cells[1].error.ename == "KeyError"
    text = "\n".join(cells[1].error.traceback)
    assert "in inner" in text and "<cell:c1>" in text
    assert cells[1].outputs[-1]["output_type"] == "error"
    # nothing called IPython's formatter, and the state it sets is still set
    assert streams(cells[2], "stdout") == "0 KeyError\n"


def test_exception_groups_custom_renderers_and_syntax_errors_keep_ipythons_effects(engine) -> None:
    cells = run(engine,
                "raise ExceptionGroup('many', [ValueError('a'), TypeError('b')])",
                "class Shown(Exception):\n    def _render_traceback_(self):\n"
                "        print('rendered by the exception')\n        return ['custom']\n"
                "raise Shown()",
                "def broken(:\n    pass")
    group, custom, syntax = cells
    assert group.status == "error" and group.error.ename == "ExceptionGroup"
    assert "ExceptionGroup" in streams(group, "stderr")   # IPython's print_exc fallback
    assert custom.status == "error"
    assert "rendered by the exception" in streams(custom, "stdout")
    assert syntax.status == "error" and syntax.error.ename == "SyntaxError"


def test_an_exception_whose_str_fails_still_gives_an_error_output(engine) -> None:
    cells = run(engine, "class Odd(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"
                        "raise Odd()", "'next cell runs'")
    assert cells[0].status == "error" and cells[0].error.ename == "Odd"
    assert cells[1].status == "ok"
