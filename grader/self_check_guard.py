"""The guard against a self-check inside a self-check (standard library only).

`grader check` runs a guard cell first in its sandbox that sets `GRADER_SELF_CHECK=1`;
while it is set, `grader.check()`, `%grader check` and the `grader check` command do
nothing (grader/notebook.py explains why). Both grader/check.py (which sets it) and
grader/notebook.py (which reads it) import it from here, so neither imports the other
at load time.
"""
from __future__ import annotations

import os

GUARD_ENV = "GRADER_SELF_CHECK"


def inside_self_check() -> bool:
    return os.environ.get(GUARD_ENV) == "1"
