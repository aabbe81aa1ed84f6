"""Writing a file so that no reader ever sees half of it.

Every output grader rewrites in place (result.json, executed notebooks, feedback pages,
the dashboard, releases, exports, the reference cache) goes through `write_atomic`: the
bytes go to a temporary file in the same folder, are flushed to disk, and the file is
swapped in with os.replace. A reader sees the old file or the new one; a run killed
half-way leaves the old one (and at worst a stray `.NAME.*.tmp` beside it).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, data: str | bytes, *, mode: int | None = None) -> Path:
    """Replace `path` with `data` (text is written as UTF-8, newlines as given).

    The file gets the permissions a plain `open(path, "w")` would give (0666 less the
    umask) unless `mode` says otherwise. Missing parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it
    (/proc/self/status); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current
