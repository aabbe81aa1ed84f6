"""grader.checksum agrees with nbgrader's own checksum on every released cell."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum as nbgrader_checksum

from grader.checksum import compute_checksum

ROOT = Path(__file__).resolve().parents[2]


def test_the_checksum_is_nbgraders_on_every_released_cell() -> None:
    compared = 0
    for path in sorted((ROOT / "release").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "nbgrader" not in cell.metadata or "grade_id" not in cell.metadata.nbgrader:
                continue
            assert compute_checksum(cell) == nbgrader_checksum(cell), (path.name, cell.metadata)
            edited = nbformat.from_dict({**cell, "source": cell.source + "\n# edited"})
            assert compute_checksum(edited) == nbgrader_checksum(edited) != compute_checksum(cell)
            compared += 1
    assert compared > 50
