"""`grader lint --fix`: rewrite mechanical metadata problems in `.py` sources in place.

Only the `nbgrader={...}` value on `# %%` header lines is rewritten; cell bodies,
line endings and the rest of each header are left byte-identical. What is fixed:
metadata written as a Python dict (single quotes, trailing commas, True/False),
missing boolean keys (nbgrader reads a missing one as false), and old-schema
metadata (no schema_version or < 3) converted to schema 3.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.lint.rules import BOOLEAN_KEYS, SCHEMA_VERSION
from grader.lint.scan import lenient_object, scan_source, split_lines


def fix_file(path: Path) -> int:
    """Rewrite fixable metadata in `path`; return how many header lines changed."""
    path = Path(path)
    if path.suffix == ".ipynb":
        return 0  # notebooks are generated; fix the .py source instead
    source = scan_source(path)
    raw = split_lines(path.read_bytes().decode("utf-8"))
    fixed = 0
    for cell in source.cells:
        if cell.meta_text is None or cell.meta_span is None:
            continue
        meta = cell.meta if cell.meta is not None else lenient_object(cell.meta_text)
        if meta is None:
            continue  # not mechanically repairable; L001 stays
        upgraded = upgrade_metadata(meta)
        if cell.meta is not None and upgraded == meta and list(upgraded) == list(meta):
            continue
        index = cell.header_line - 1
        start, end = cell.meta_span
        line = raw[index]
        raw[index] = line[:start] + json.dumps(upgraded, sort_keys=True, ensure_ascii=False) + line[end:]
        fixed += 1
    if fixed:
        path.write_bytes("\n".join(raw).encode("utf-8"))
    return fixed


def upgrade_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Schema-3 metadata meaning the same as `meta` (nbgrader's own upgrade, minus deletions)."""
    new = dict(meta)
    for key in BOOLEAN_KEYS:
        new.setdefault(key, False)
    version = new.get("schema_version")
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if not isinstance(version, int) or isinstance(version, bool) or version < SCHEMA_VERSION:
        # schema 0/1 stored points as strings ("" meaning 0)
        points = new.get("points")
        if new.get("grade") is True and isinstance(points, str):
            try:
                value = float(points) if points.strip() else 0.0
            except ValueError:
                pass
            else:
                if value >= 0:
                    new["points"] = int(value) if value.is_integer() else value
        version = SCHEMA_VERSION
    new["schema_version"] = version
    return dict(sorted(new.items()))
