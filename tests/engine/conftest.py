from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.engine import Engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine(preload=["numpy"], interrupt_grace_s=1.0) as eng:
        yield eng
