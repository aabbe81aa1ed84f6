"""One `grader autograde` at a time per course.

Two runs on one course would grade the same submissions twice and race on the
framework builds (`build/*.tmp`) and result files. The lock is an advisory `flock`
on `<build_dir>/autograde.lock`: the kernel drops it when the holder exits, even on
SIGKILL, so a crashed run never leaves a stale lock. The file names the holder
(pid, command, start time) for the waiting run's message.
"""
from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.errors import ConfigError


class Busy(ConfigError):
    """Another run holds the lock and the caller would not wait (exit status 2)."""


def lock_path(build_dir: Path) -> Path:
    return build_dir / "autograde.lock"


@contextmanager
def course_lock(build_dir: Path, *, wait: bool = True,
                on_wait: Callable[[str], None] = lambda message: None) -> Iterator[None]:
    """Hold the course's autograde lock; wait for it (telling `on_wait` who holds it)
    or, with wait=False, raise Busy at once."""
    path = lock_path(build_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another process"
            if not wait:
                raise Busy(f"another grader autograde is running on this course ({holder}); "
                           "try again when it has finished, or leave out --no-wait to wait "
                           "for it", path=path) from None
            on_wait(f"another grader autograde is running on this course ({holder}); "
                    "waiting for it to finish (Ctrl-C to give up)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200]
        os.pwrite(fd, f"pid {os.getpid()}, `{command}`, since {started}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
