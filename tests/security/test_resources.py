"""Resource attacks cost the attacker only (issue 10, point 4; DESIGN.md "Isolation").

Each attack runs in a submission graded by one context while a neighbour (a complete
solution whose graded function forks, runs a subprocess, writes files and allocates
memory) is graded over and over by a second context at the same time. The neighbour
must keep 40/40 every time, nothing the attacker started may survive its grading,
and the host must be as it was (free disk, memory, process table).

Limits under test: a cgroup per sandbox with memory.max (counting tmpfs, memfd and
shmem) and pids.max, not shared with other sandboxes; a size-capped tmpfs working
folder (default 256 MiB).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from collections.abc import Iterator

import psutil
import pytest

from grader.harness.session import GradingContext, open_context
from grader.synth import append_code, edit, replace
from security_helpers import (FULL, MODULE, Grader, explain, needs_root, outputs_text,
                              wait_until)
from support.processes import no_process_with

pytestmark = [needs_root, pytest.mark.root]

MEMORY_MB = 1024          # the attacker's limit (smaller than the default: cheaper to test)
DISK_MB = 256             # the default size of the working folder (policy.disk_mb)
SLACK_MB = 64


@pytest.fixture(scope="module")
def attacker_ctx(course) -> Iterator[GradingContext]:
    with open_context(course, MODULE, timeout_s=6, memory_mb=MEMORY_MB) as ctx:
        yield ctx


@pytest.fixture
def grade(tmp_path: Path) -> Grader:
    """These tests grade their own neighbours (ones that need processes, disk, memory)."""
    return Grader(tmp_path)


@pytest.fixture(scope="module")
def neighbour_ctx(course) -> Iterator[GradingContext]:
    with open_context(course, MODULE, timeout_s=20) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def neighbour(complete):
    """A complete solution whose graded function needs processes, disk and memory."""
    return edit(complete, "training-batch-size", replace(
        "    num_parameters = 1_000_000\n",
        "    num_parameters = 1_000_000\n"
        "    import os, subprocess, tempfile\n"
        "    subprocess.run(['true'], check=True)\n"
        "    child = os.fork()\n"
        "    if child == 0:\n"
        "        os._exit(0)\n"
        "    os.waitpid(child, 0)\n"
        "    for path in ('scratch.bin', os.path.join(tempfile.gettempdir(), 'scratch.bin')):\n"
        "        with open(path, 'wb') as f:\n"
        "            f.write(b'x' * (8 << 20))\n"
        "        assert os.path.getsize(path) == 8 << 20\n"
        "        os.remove(path)\n"
        "    hold = np.ones((64 << 20) // 8)\n"
        "    del hold\n"))


def host_state() -> dict:
    return {"disk_free": shutil.disk_usage("/tmp").free,
            "mem_available": psutil.virtual_memory().available,
            "descendants": descendants()}


def descendants() -> int:
    """Processes below this test process: the engines' template processes and every
    sandbox they forked (orphans are reparented to the subreaper template)."""
    return len(descendant_names())


def descendant_names() -> list[str]:
    """pid:name:status (the engine names its processes by role) of each one below us."""
    found = []
    try:
        for proc in psutil.Process(os.getpid()).children(recursive=True):
            try:
                found.append(f"{proc.pid}:{proc.name()}:{proc.status()}")
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return found


def beside(grade, attacker_ctx, attack_nb, neighbour_ctx, neighbour_nb, delay_s: float = 1.5):
    """Grade the attack, and the neighbour in a loop alongside it (starting delay_s in)."""
    neighbours: list[dict] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def loop() -> None:
        time.sleep(delay_s)
        try:
            while not done.is_set() or not neighbours:
                neighbours.append(grade(neighbour_ctx, neighbour_nb, student="neighbour"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    graded = grade.graded(attacker_ctx, attack_nb, student="attacker")
    done.set()
    thread.join(timeout=180)
    assert not errors, errors
    assert neighbours, "the neighbour was never graded"
    return graded, neighbours


def assert_neighbours_unharmed(neighbours: list[dict]) -> None:
    for result in neighbours:
        assert result["score"] == FULL, "a neighbour lost points:\n" + explain(result)


def assert_host_recovered(before: dict) -> None:
    assert wait_until(lambda: descendants() <= before["descendants"], 10), (
        f"{descendants()} processes below the test process (before: {before['descendants']}): "
        f"{descendant_names()}")
    assert subprocess.run(["true"]).returncode == 0, "the host cannot start a process"
    # generous margins: other work may share this machine
    assert shutil.disk_usage("/tmp").free > before["disk_free"] - (1 << 30), "the host lost disk"
    assert wait_until(lambda: psutil.virtual_memory().available
                      > before["mem_available"] - (2 << 30), 10), "the host lost memory"


def written_mb(graded, label: str) -> float:
    m = re.findall(rf"{label} wrote (\d+) MiB", outputs_text(graded))
    return float(m[-1]) if m else 0.0


FILL = '''
import os, time
def _fill(folder, label, budget_s=4.0, cap=3 << 30):
    chunk = b"\\0" * (16 << 20)
    total, i, end = 0, 0, time.monotonic() + budget_s
    try:
        os.makedirs(folder, exist_ok=True)
        while total < cap and time.monotonic() < end:
            path = os.path.join(folder, f"fill{{i // 8}}.bin")   # files of 128 MiB
            with open(path, "ab") as f:
                f.write(chunk)
            total += len(chunk)
            i += 1
    except (OSError, MemoryError):
        pass
    print(f"{{label}} wrote {{total >> 20}} MiB", flush=True)
_fill({folder!r}, {label!r})
'''


@pytest.mark.parametrize("folder,label", [(".", "cwd"), ("/tmp/f", "tmp"), ("/dev/shm/f", "shm")])
def test_a_disk_filler_is_capped_and_harms_no_neighbour(attacker_ctx, neighbour_ctx, grade,
                                                        complete, neighbour, folder, label):
    before = host_state()
    nb = append_code(complete, FILL.format(folder=folder, label=label))
    graded, neighbours = beside(grade, attacker_ctx, nb, neighbour_ctx, neighbour)
    assert graded.result.status == "graded", explain(graded.result)
    assert_neighbours_unharmed(neighbours)
    wrote = written_mb(graded, label)
    limit = DISK_MB if label == "cwd" else MEMORY_MB
    assert wrote <= limit + SLACK_MB, f"the attacker wrote {wrote:.0f} MiB to {folder}"
    assert_host_recovered(before)


MEMFD = '''
import os, time
def _memfd(budget_s=4.0, cap=3 << 30):
    chunk = b"\\1" * (16 << 20)
    total, fds, end = 0, [], time.monotonic() + budget_s
    try:
        while total < cap and time.monotonic() < end:
            if total % (128 << 20) == 0:            # a new memfd per 128 MiB (RLIMIT_FSIZE)
                fds.append(os.memfd_create(f"filler{len(fds)}"))
            os.write(fds[-1], chunk)
            total += len(chunk)
    except (OSError, MemoryError):
        pass
    print(f"memfd wrote {total >> 20} MiB", flush=True)
    return fds
_keep = _memfd()
'''

SHM_MMAP = '''
import mmap, os, time
def _shm(budget_s=4.0, cap=3 << 30):
    total, maps, end = 0, [], time.monotonic() + budget_s
    try:
        while total < cap and time.monotonic() < end:
            fd = os.open(f"/dev/shm/filler{len(maps)}", os.O_RDWR | os.O_CREAT, 0o600)
            os.ftruncate(fd, 64 << 20)
            m = mmap.mmap(fd, 64 << 20)
            os.close(fd)
            m.write(b"\\2" * (64 << 20))
            maps.append(m)
            total += 64 << 20
    except (OSError, MemoryError, ValueError):
        pass
    print(f"shm wrote {total >> 20} MiB", flush=True)
    return maps
_keep = _shm()
'''


@pytest.mark.parametrize("code,label", [(MEMFD, "memfd"), (SHM_MMAP, "shm")],
                         ids=["memfd", "shm-mmap"])
def test_memory_outside_the_heap_counts_against_the_limit(attacker_ctx, neighbour_ctx, grade,
                                                          complete, neighbour, code, label):
    """memfd and shmem pages count against the sandbox's memory limit (a cgroup), so
    the attacker holds at most the limit (or is killed) and the neighbour is fine."""
    before = host_state()
    graded, neighbours = beside(grade, attacker_ctx, append_code(complete, code),
                                neighbour_ctx, neighbour)
    assert graded.result.status == "graded", explain(graded.result)
    assert_neighbours_unharmed(neighbours)
    wrote = written_mb(graded, label)
    assert wrote <= MEMORY_MB + SLACK_MB, f"the attacker held {wrote:.0f} MiB in {label}"
    assert_host_recovered(before)


FORK_BOMB = '''
import os, time
_kids = 0
_end = time.monotonic() + 4.5
while time.monotonic() < _end and _kids < 4000:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.01)          # at the limit: keep it full
        continue
    if pid == 0:
        try:
            time.sleep(60)
        finally:
            os._exit(0)
    _kids += 1
print(f"forked {_kids}", flush=True)
'''

SUBPROCESS_BOMB = '''
import subprocess, time
_kids = []
_end = time.monotonic() + 4.5
while time.monotonic() < _end and len(_kids) < 4000:
    try:
        _kids.append(subprocess.Popen(["sleep", "60"]))
    except OSError:
        time.sleep(0.01)
print(f"spawned {len(_kids)}", flush=True)
'''

THREAD_BOMB = '''
import threading, time
_threads = []
_end = time.monotonic() + 4.5
while time.monotonic() < _end and len(_threads) < 4000:
    try:
        t = threading.Thread(target=time.sleep, args=(60,), daemon=True)
        t.start()
        _threads.append(t)
    except (RuntimeError, MemoryError):
        time.sleep(0.01)
print(f"threads {len(_threads)}", flush=True)
'''


@pytest.mark.parametrize("code", [FORK_BOMB, SUBPROCESS_BOMB, THREAD_BOMB],
                         ids=["os.fork", "subprocess", "threads"])
def test_a_fork_bomb_harms_no_neighbour(attacker_ctx, neighbour_ctx, grade, complete, neighbour,
                                        code):
    """The attacker fills its own process limit and holds it; a neighbour graded at the
    same time still forks and runs subprocesses (no shared per-uid limit)."""
    before = host_state()
    graded, neighbours = beside(grade, attacker_ctx, append_code(complete, code),
                                neighbour_ctx, neighbour, delay_s=2.0)
    assert graded.result.status == "graded", explain(graded.result)
    assert_neighbours_unharmed(neighbours)
    assert_host_recovered(before)


DETACH = '''
import os, signal, subprocess
def _detach(marker):
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                os.execv("/bin/sleep", ["sleep", marker])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    subprocess.Popen(["sh", "-c", f"trap '' TERM HUP INT; nohup sleep {{marker}} >/dev/null 2>&1 &"],
                     start_new_session=True)
_detach({marker!r})
'''


@pytest.mark.parametrize("where", ["cell", "graded-call"])
def test_detached_processes_do_not_outlive_the_submission(attacker_ctx, neighbour_ctx, grade,
                                                          complete, neighbour, where):
    marker = f"{3000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    before = host_state()
    code = DETACH.format(marker=marker)
    if where == "cell":
        nb = append_code(complete, code)
    else:
        nb = append_code(complete, "_orig_call = MeanSquaredError.__call__\n"
                                   "def _call(self, y_pred, y_true):\n"
                                   + "\n".join("    " + ln for ln in code.splitlines()) + "\n"
                                   "    return _orig_call(self, y_pred, y_true)\n"
                                   "MeanSquaredError.__call__ = _call\n")
    graded, neighbours = beside(grade, attacker_ctx, nb, neighbour_ctx, neighbour, delay_s=0.5)
    assert graded.result.score == FULL, explain(graded.result)
    assert_neighbours_unharmed(neighbours)
    assert wait_until(lambda: no_process_with(f"sleep {marker}"), 5), "a detached process survived"
    assert_host_recovered(before)
