"""`ast.parse` for code that may run in several threads at once (the batch's workers).

CPython before 3.11.8 / 3.12.2 converts a parse tree to Python objects with a recursion
counter shared by all threads (gh-106905), so two threads parsing at once can fail with
"SystemError: AST constructor recursion depth mismatch". Every parse in grader's own
process goes through this lock; the sandbox and the supervisor are single-threaded.
"""
from __future__ import annotations

import ast
import functools
import threading
from typing import Any

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>", mode: str = "exec", **kwargs: Any) -> Any:
    with _LOCK:
        return ast.parse(source, filename, mode, **kwargs)


@functools.lru_cache(maxsize=1)
def ipython_transformer() -> Any:
    """IPython's cell transformer (magics and `!` lines to calls), imported on first use:
    IPython takes ~30 ms and ~5 MB to import, and most commands never need it."""
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager()
