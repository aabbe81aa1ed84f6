"""Reading what students submitted, without following their links.

A submission folder is the student's: a symbolic link in it could point at another
student's notebook (and earn that grade) or at a file only the grader can read (and
leak it through an error message). The host therefore reads submitted notebooks and
timestamps only as regular files reached without a link (O_NOFOLLOW), refuses a
submission folder or student folder that is itself a link, and skips links when it
hashes a folder. Inside the sandbox links are harmless: they resolve in its own root.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 << 20


class UnsafeFile(ValueError):
    """A submitted path the grader will not read (a link, a device, too large)."""


def linked_folder(folder: Path) -> str | None:
    """Why `folder` (submitted/STUDENT/MODULE) must not be graded, if it or the student's
    folder is a symbolic link."""
    for part in (folder, folder.parent):
        if part.is_symlink():
            return (f"{part.name} is a symbolic link, not a folder: it was not followed "
                    "(submit the files themselves)")
    return None


def read_regular(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a regular file reached without following a final symbolic link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(f"{path.name} is a symbolic link, not a file: it was not "
                             "followed (submit the file itself)") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"{path.name} is larger than {limit >> 20} MB")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnsafeFile(f"{path.name} is larger than {limit >> 20} MB")
        return data
    finally:
        os.close(fd)


def regular_files(folder: Path) -> list[Path]:
    """Regular files under `folder`, not through links (for digests), sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):   # os.walk does not follow links
        for name in filenames:
            path = Path(dirpath) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                found.append(path)
    return sorted(found)
