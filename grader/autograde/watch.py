"""`grader autograde --watch`: grade each new or changed submission as it lands.

File-system events under submitted/ (the watchdog library: inotify on Linux) mark the
submission folder they touch as pending; once a folder has been quiet for the settle
delay (a copy or an unzip in progress must finish first), the same idempotent batch as
`grader autograde` grades the pending students of that module (unchanged submissions
are skipped as always) and the dashboard is rebuilt. Ctrl-C stops watching.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class PendingSubmissions(FileSystemEventHandler):
    """(student, module) -> when its folder last changed, for the watched modules."""

    def __init__(self, submitted: Path, modules: list[str]) -> None:
        self.submitted, self.modules = submitted.resolve(), set(modules)
        self.pending: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            try:
                parts = path.resolve().relative_to(self.submitted).parts
            except (ValueError, OSError):
                continue
            if len(parts) >= 2 and parts[1] in self.modules:
                with self.lock:
                    self.pending[(parts[0], parts[1])] = time.monotonic()

    def settled(self, settle_s: float) -> dict[str, list[str]]:
        """Take the folders quiet for settle_s: module -> students."""
        now = time.monotonic()
        ready: dict[str, list[str]] = {}
        with self.lock:
            for (student, module), last in list(self.pending.items()):
                if now - last >= settle_s:
                    ready.setdefault(module, []).append(student)
                    del self.pending[(student, module)]
        return {m: sorted(s) for m, s in ready.items()}


def watch(submitted: Path, modules: list[str], *, settle_s: float,
          grade: Callable[[str, list[str]], None], stop: threading.Event | None = None,
          on_start: Callable[[], None] | None = None, poll_s: float = 0.25) -> None:
    """Call grade(module, students) for settled changes until `stop` is set (or Ctrl-C)."""
    submitted.mkdir(parents=True, exist_ok=True)
    events = PendingSubmissions(submitted, modules)
    observer = Observer()
    observer.schedule(events, str(submitted), recursive=True)
    observer.start()
    stop = stop or threading.Event()
    try:
        if on_start is not None:
            on_start()
        while not stop.wait(poll_s):
            for module, students in events.settled(settle_s).items():
                grade(module, students)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)
