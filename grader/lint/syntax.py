"""Parse a code cell the way IPython would run it, keeping file line numbers.

IPython syntax (`%magic`, `!shell`, `obj?`) is turned into Python with IPython's
own TransformerManager before compiling, so only real syntax errors remain.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from grader import pyast

# top-level `await` is legal in IPython cells
_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


@dataclass(frozen=True)
class CellSyntaxError:
    offset: int          # 0-based body line of the error
    message: str


def parse_cell(lines: tuple[str, ...]) -> ast.Module | CellSyntaxError | None:
    """The cell's AST, its syntax error, or None for a cell magic (`%%bash` bodies are not Python)."""
    lead = 0
    while lead < len(lines) and not lines[lead].strip():
        lead += 1  # IPython drops leading blank lines; keep count to map line numbers back
    body = lines[lead:]
    if not body:
        return ast.Module(body=[], type_ignores=[])
    if body[0].lstrip().startswith("%%"):
        return None
    text = "\n".join(body) + "\n"
    try:
        text = pyast.ipython_transformer().transform_cell(text)
    except Exception:  # IPython gives up on some broken input; let compile() say why
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for invalid escapes
            return compile(text, "<cell>", "exec", flags=_FLAGS, dont_inherit=True)
    except SyntaxError as exc:
        lineno = min(max(exc.lineno or 1, 1), len(body))
        return CellSyntaxError(offset=lead + lineno - 1, message=f"{type(exc).__name__}: {exc.msg}")
    except ValueError as exc:  # e.g. null bytes in the source
        return CellSyntaxError(offset=lead, message=f"cannot compile: {exc}")


def harness_test_names(tree: ast.Module) -> list[str]:
    """Top-level functions the harness calls: names starting with `test`."""
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")]


_CAN_FAIL = (ast.Assert, ast.Raise, ast.Call)


def can_fail(tree: ast.Module) -> bool:
    """Whether a test cell can fail: an assert, raise or call that runs (at the top level,
    or inside a `test*` function the harness calls). Bodies of other functions and
    classes are not counted: nothing runs them."""
    runs: list[ast.AST] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("test"):
                runs.extend(node.body)
            runs.extend(node.decorator_list)
        elif isinstance(node, ast.ClassDef):
            runs.extend(node.decorator_list)
        else:
            runs.append(node)
    return any(isinstance(sub, _CAN_FAIL) for node in runs for sub in ast.walk(node))
