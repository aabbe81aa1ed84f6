"""One submission never sees another's data (issue 10, point 3; DESIGN.md "Isolation").

A victim is graded first, with a unique marker in a cell's output, in a variable, in
files it writes (working folder, /tmp, /dev/shm), in its environment and in what an
answer function prints. Then an attacker graded by the same context (same engine,
same template process) searches everything its process can reach for the marker:
gc.get_objects(), its whole memory (/proc/self/maps + /proc/self/mem), open file
descriptors, the file system, other processes' environ/cmdline. It records what it
found in its own answer (the `training_memory_mb` field of training-batch-size) and
prints it; the test reads both and expects nothing.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from grader.harness.session import GradingContext, open_context
from grader.synth import append_code, edit, replace
from security_helpers import MODULE, explain, items, needs_root, outputs_text

PREFIX = "QV1CT1M"      # + 32 hex digits; the attacker's own code never holds a match

VICTIM_CELL = '''
import os
SECRET = "{marker}"
print("victim output", SECRET)
secret_box = {{"answer": SECRET, "bytes": SECRET.encode()}}
for path in ("victim_notes.txt", "/tmp/victim_notes.txt", "/dev/shm/victim_notes.txt"):
    try:
        with open(path, "w") as f:
            f.write(SECRET)
    except OSError:
        pass
os.environ["VICTIM_SECRET"] = SECRET
'''

SCAN_CELL = r'''
import gc, os, re, sys
_PAT = re.compile(rb"QV1CT1M[0-9a-f]{32}")
_SPAT = re.compile(r"QV1CT1M[0-9a-f]{32}")
_FOUND = []
def _note(where, match):
    entry = f"{where}:{match.decode() if isinstance(match, bytes) else match}"
    if entry not in _FOUND and len(_FOUND) < 50:
        _FOUND.append(entry)

# 1. every object the collector knows (the template's frozen ones too)
try:
    gc.unfreeze()
except AttributeError:
    pass
for _o in gc.get_objects():
    try:
        if isinstance(_o, dict):
            _vals = list(_o.keys()) + list(_o.values())
        elif isinstance(_o, (list, tuple, set, frozenset)):
            _vals = list(_o)
        else:
            continue
    except Exception:
        continue
    for _v in _vals:
        if isinstance(_v, str):
            _m = _SPAT.search(_v)
        elif isinstance(_v, (bytes, bytearray)):
            _m = _PAT.search(_v)
        else:
            continue
        if _m:
            _note("gc", _m.group(0))
del _o, _vals, _v

# 2. the whole address space (a process that changed uid is not dumpable: undo that)
try:
    import ctypes
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)      # PR_SET_DUMPABLE
except Exception:
    pass
try:
    with open("/proc/self/maps") as _maps, open("/proc/self/mem", "rb", 0) as _mem:
        for _line in _maps:
            _parts = _line.split()
            _lo, _hi = (int(x, 16) for x in _parts[0].split("-"))
            if "r" not in _parts[1] or _hi - _lo > (1 << 30) or _line.rstrip().endswith(("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            _at = _lo
            while _at < _hi:
                _n = min(16 << 20, _hi - _at)
                try:
                    _mem.seek(_at)
                    _chunk = _mem.read(_n + 64 if _at + _n < _hi else _n)
                except (OSError, ValueError, OverflowError):
                    break
                for _m in _PAT.finditer(_chunk):
                    _note("mem", _m.group(0))
                _at += _n
except OSError as exc:
    print("no /proc/self/mem:", exc)

# 3. files: working folder, /tmp, /dev/shm, home, and every open fd
def _scan_file(path, where):
    try:
        with open(path, "rb") as f:
            data = f.read(16 << 20)
    except (OSError, ValueError):
        return
    for _m in _PAT.finditer(data):
        _note(where + path, _m.group(0))
for _top in {os.getcwd(), "/tmp", "/dev/shm", "/var/tmp", "/run", os.path.expanduser("~"), "/job"}:
    for _dir, _dirs, _files in os.walk(_top):
        for _f in _files:
            _scan_file(os.path.join(_dir, _f), "file:")
for _fd in os.listdir("/proc/self/fd"):
    try:
        _target = os.readlink(f"/proc/self/fd/{_fd}")
    except OSError:
        continue
    if _target.startswith("/"):
        _scan_file(_target, f"fd{_fd}:")

# 4. every process we can see, and our own environment
for _pid in os.listdir("/proc"):
    if _pid.isdigit():
        for _what in ("environ", "cmdline"):
            _scan_file(f"/proc/{_pid}/{_what}", "proc:")
for _k, _v in os.environ.items():
    if _SPAT.search(_k + "=" + _v):
        _note("environ", _SPAT.search(_k + "=" + _v).group(0))

FOUND = ";".join(_FOUND) or "nothing"
print("attacker found:", FOUND)
'''


@pytest.fixture(scope="module")
def roomy(course) -> Iterator[GradingContext]:
    """20 s per cell: a memory scan of the whole process takes a few seconds."""
    with open_context(course, MODULE, timeout_s=20) as ctx:
        yield ctx


@needs_root
@pytest.mark.root
def test_an_attacker_finds_nothing_of_the_previous_submission(roomy, grade, complete):
    marker = PREFIX + uuid.uuid4().hex
    victim = append_code(complete, VICTIM_CELL.format(marker=marker), after="training-imports")
    victim = edit(victim, "training-batch-size", replace(
        "    num_parameters = 1_000_000\n",
        f"    num_parameters = 1_000_000\n    print('victim answer', {marker!r})\n"))
    graded = grade.graded(roomy, victim, student="victim")
    assert marker in outputs_text(graded), "the victim did not run as planned"
    assert graded.result.score == 40, explain(graded.result)

    attacker = append_code(complete, SCAN_CELL)
    attacker = edit(attacker, "training-batch-size", replace(
        "        'training_memory_mb': training_memory / (1024**2),",
        "        'training_memory_mb': FOUND,"))
    graded = grade.graded(roomy, attacker, student="attacker")
    batch = items(graded.result)["training-batch-size"]
    got = {f["key"]: f["got"] for f in batch["fields"]}
    assert got.get("training_memory_mb") == "nothing", (
        f"the attacker found the victim's data: {got.get('training_memory_mb')}\n"
        + explain(graded.result))
    text = outputs_text(graded)
    assert "attacker found: nothing" in text, text[-2000:]
    assert marker not in json.dumps(graded.result.to_json())


@needs_root
@pytest.mark.root
def test_the_scan_finds_the_submissions_own_data(roomy, grade, complete):
    """Control: the same scan, run in the victim's own process, does find the marker
    (so an empty finding above means isolation, not a blind scan)."""
    marker = PREFIX + uuid.uuid4().hex
    nb = append_code(complete, VICTIM_CELL.format(marker=marker), after="training-imports")
    nb = append_code(nb, SCAN_CELL)
    nb = edit(nb, "training-batch-size", replace(
        "        'training_memory_mb': training_memory / (1024**2),",
        "        'training_memory_mb': FOUND,"))
    graded = grade.graded(roomy, nb, student="self")
    got = {f["key"]: f["got"] for f in items(graded.result)["training-batch-size"]["fields"]}
    found = str(got.get("training_memory_mb"))
    entries = found.split(";")
    assert "gc:" + marker in entries, found[:2000]
    if "no /proc/self/mem" not in outputs_text(graded):   # an engine may forbid it
        assert "mem:" + marker in entries, found[:2000]
    assert any(e.startswith("file:") and e.endswith(marker) for e in entries), found[:2000]
