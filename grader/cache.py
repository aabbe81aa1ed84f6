"""Results kept under the course's build folder between runs.

An entry's key is a digest of what it was computed from and of grader's own source
code, so editing either makes it a different entry: a stale one is never read back.
`grader autograde` reads the module's source (jupytext: ~0.4 s with its import) and
lints it (~0.25 s) on every run; with these entries an unchanged source costs neither.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from grader.files import write_atomic

PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of every .py file of the grader package (read once per process)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def key(*parts: Any) -> str:
    """The entry name for `parts` (JSON-able) under this version of grader's code."""
    return hashlib.sha256((code_digest() + json.dumps(parts, default=str)).encode()
                          ).hexdigest()[:32]


def read(folder: Path, name: str) -> Any | None:
    """The JSON value of entry `name`, or None (missing or unreadable)."""
    try:
        return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(folder: Path, name: str, value: Any, *, replaces: str | None = None) -> None:
    """Store entry `name`; entries whose names start with `replaces` go (superseded)."""
    try:
        if replaces:
            for old in folder.glob(f"{replaces}*.json"):
                old.unlink(missing_ok=True)
        write_atomic(folder / f"{name}.json", json.dumps(value))
    except OSError:
        pass   # a read-only build folder: the value is computed again next time
