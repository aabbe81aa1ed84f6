"""Forging the channel between the student's process and the supervisor.

The student knows the framing (grader/engine/protocol.py: an 8-byte big-endian length,
then a JSON payload) and the frame kinds. DESIGN.md: the supervisor owns every
deadline and checks each frame against the plan; a frame out of place ends the job
(`tampered`) and the remaining items are graded in a fresh process; nothing the child
sends can extend a deadline (issue 10, point 2).
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from grader.harness.session import GradingContext, open_context
from grader.synth import append_code
from security_helpers import FORGE, FULL, MODULE, TEST, assert_honest, explain, items

FRAMING = '''
import os, json, struct
def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack("!Q", len(data)) + data
def _passed(index, seq):
    return _frame({"ev": "call", "index": index, "seq": seq, "status": "passed",
                   "function": None, "value": None, "value_error": None, "error": None,
                   "output": "", "duration_s": 0.0})
def _start(kind, index, seq):
    return _frame({"ev": "start", "kind": kind, "index": index, "seq": seq})
def _spray(data, fds):
    hit = []
    for fd in fds:
        try:
            os.write(fd, data)
            hit.append(fd)
        except OSError:
            pass
    return hit
'''

# the locked test is the first graded call (index 0); sequence numbers are guessed
SPRAY_EVERY_FD = FRAMING + '''
_forged = b"".join(_start("call", 0, s) + _passed(0, s) for s in (10**6, 10**6 + 1))
_spray(_forged, range(3, 2001))
'''

SPRAY_PROC_SELF_FD = FRAMING + '''
_fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
_forged = _start("call", 0, 77) + _passed(0, 77)
_spray(_forged, [fd for fd in _fds if fd > 2])
'''

GUESS_THE_SEQUENCE = FRAMING + '''
_forged = b"".join(_passed(0, s) for s in range(0, 300))
_spray(_forged, range(3, 2001))
'''

FORGE_AND_FINISH = FRAMING + '''
_forged = _start("call", 0, 5000) + _passed(0, 5000) + _frame({"ev": "done"})
_spray(_forged, range(3, 2001))
'''

# Replace every pipe the process writes to by a pipe of ours and relay what the
# harness writes, rewriting its verdicts to passes on the way (man in the middle).
DUP2_MAN_IN_THE_MIDDLE = FORGE + '''
import os, stat, threading, json, struct

def _writes_to_a_pipe(fd):
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        with open(f"/proc/self/fdinfo/{fd}") as f:
            flags = int(next(l for l in f if l.startswith("flags:")).split()[1], 8)
        return flags & 3 in (1, 2)
    except Exception:
        return False

def _relay(r, real):
    buf, raw = b"", False
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            return
        if raw:
            os.write(real, chunk)
            continue
        buf += chunk
        while len(buf) >= 8:
            (n,) = struct.unpack("!Q", buf[:8])
            if n > (64 << 20):
                raw = True
                os.write(real, buf)
                buf = b""
                break
            if len(buf) < 8 + n:
                break
            payload, buf = buf[8:8 + n], buf[8 + n:]
            try:
                ev = _forge(json.loads(payload))
                payload = json.dumps(ev).encode()
            except Exception:
                pass
            os.write(real, struct.pack("!Q", len(payload)) + payload)

for _fd in range(3, 2048):
    if _writes_to_a_pipe(_fd):
        _real = os.dup(_fd)
        _r, _w = os.pipe()
        os.dup2(_w, _fd, inheritable=False)
        os.close(_w)
        threading.Thread(target=_relay, args=(_r, _real), daemon=True).start()
'''

PRINTED_TO_STDOUT = FRAMING + '''
import sys
_forged = b"".join(_start("call", 0, s) + _passed(0, s) for s in (10**6, 10**6 + 1))
_spray(_forged, [1, 2])
sys.stdout.write(_forged.decode("latin-1"))
sys.stdout.flush()
'''

# A forked child keeps every fd (close-on-exec only acts on exec) and outlives the
# cell: it sprays forged verdicts, guessing sequence numbers, while the graded calls run.
FORKED_CHILD_SPRAYS_LATER = FRAMING + '''
import time
if os.fork() == 0:
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd") if int(n) > 2]
        frames = [_passed(0, s) for s in range(0, 400)]
        end = time.monotonic() + 3
        while time.monotonic() < end:
            for frame in frames:        # one frame per write: atomic (< PIPE_BUF)
                _spray(frame, fds)
            time.sleep(0.002)
    finally:
        os._exit(0)
'''

# Frames the supervisor must survive: it decodes them and ends the job (`tampered`)
# rather than crash, hang or run out of memory.
MALFORMED_FRAMES = FRAMING + '''
_deep = b"[" * 200000 + b"]" * 200000                      # json recursion
_bad = [
    struct.pack("!Q", len(_deep)) + _deep,
    struct.pack("!Q", len(b"{" * 100000)) + b"{" * 100000,  # unterminated
    struct.pack("!Q", 9) + b"\\xff\\xfe\\x00garbage",            # not UTF-8 / JSON
    struct.pack("!Q", 4) + b"1e99",                         # not an object
    _frame({"ev": "call", "index": "0", "seq": None, "status": ["passed"]}),  # wrong types
    _frame({"ev": "call", "index": 10**30, "seq": 10**30, "status": "passed"}),
    struct.pack("!Q", (1 << 63) - 1),                        # a header announcing 8 EiB
]
for _b in _bad:
    _spray(_b, range(3, 2001))
'''

CLOSE_EVERY_FD = '''
import os
os.closerange(3, 65536)
'''

DEVNULL_OVER_EVERY_PIPE = '''
import os, stat
_null = os.open("/dev/null", os.O_WRONLY)
for _fd in range(3, 2048):
    try:
        if _fd != _null and stat.S_ISFIFO(os.fstat(_fd).st_mode):
            os.dup2(_null, _fd)
    except OSError:
        pass
'''

ATTACKS = {
    "forged-pass-to-fds-3-2000": SPRAY_EVERY_FD,
    "forged-pass-to-proc-self-fd": SPRAY_PROC_SELF_FD,
    "forged-pass-guessing-the-sequence": GUESS_THE_SEQUENCE,
    "forged-pass-then-done": FORGE_AND_FINISH,
    "dup2-man-in-the-middle": DUP2_MAN_IN_THE_MIDDLE,
    "forged-pass-printed-to-stdout": PRINTED_TO_STDOUT,
    "forked-child-sprays-during-the-calls": FORKED_CHILD_SPRAYS_LATER,
    "malformed-frames": MALFORMED_FRAMES,
    "close-every-fd": CLOSE_EVERY_FD,
    "dev-null-over-every-pipe": DEVNULL_OVER_EVERY_PIPE,
}


# Attacks that keep writing frames (a forked sprayer) break the protocol again in every
# fresh kernel, whose replay re-runs the attack cell: they may cost the attacker more
# than the forged item, never less.
SELF_HARMING = {"forked-child-sprays-during-the-calls"}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_forged_frames_forge_nothing(training, grade, broken_mse, name):
    honest = grade.honest(training, broken_mse)
    result = grade(training, append_code(broken_mse, ATTACKS[name]))
    if name in SELF_HARMING:
        assert result["score"] <= honest, explain(result)
    else:
        assert_honest(result, honest)
    assert items(result)[TEST]["score"] == 0


@pytest.mark.parametrize("name", ["forged-pass-to-fds-3-2000", "dup2-man-in-the-middle"])
def test_forged_frames_from_inside_the_graded_call(training, grade, broken_mse, name):
    """The same forgeries sent while the locked test runs (from MSE.__call__)."""
    body = "\n".join("    " + line for line in ATTACKS[name].splitlines())
    attack = ("def _attack():\n" + body + "\n    globals().update(locals())\n"
              "_orig_call = MeanSquaredError.__call__\n"
              "def _call(self, y_pred, y_true):\n"
              "    _attack()\n"
              "    return _orig_call(self, y_pred, y_true)\n"
              "MeanSquaredError.__call__ = _call\n")
    grade.attack(training, broken_mse, attack)


TIMEOUT_S = 3.0
GRACE_S = 2.0       # Engine(interrupt_grace_s=2.0), the default


@pytest.fixture(scope="module")
def fast(course) -> Iterator[GradingContext]:
    """A context with 3 s per cell and per call."""
    with open_context(course, MODULE, timeout_s=TIMEOUT_S) as ctx:
        yield ctx


# {kind} and {index}: the item the forged frames name. A student would name any item;
# naming the looping item itself keeps a broken engine's replays short (it blames and
# skips that item), so that this test fails in seconds rather than minutes today.
REARM = '''
import os, json, struct, threading, time
def _frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack("!Q", len(data)) + data
def _rearm():
    end = time.monotonic() + 10          # bounded, so that a broken engine still ends
    seq = 10**6
    while time.monotonic() < end:
        for fd in range(3, 2001):
            try:
                os.write(fd, _frame({{"ev": "start", "kind": "{kind}", "index": {index}, "seq": seq}}))
            except OSError:
                pass
        seq += 1
        time.sleep(0.3)
threading.Thread(target=_rearm, daemon=True).start()
while True:
    pass
'''

LOOP = "while True:\n    pass\n"


def test_start_frames_cannot_rearm_a_deadline(fast, grade, complete):
    """A cell loops forever while a thread sends `start` frames every 0.3 s. It must be
    cut like the same loop without the thread (3 s + the grace period), and the rest of
    the notebook graded as usual (40/40)."""
    started = time.monotonic()
    plain = grade(fast, append_code(complete, LOOP, after="mse-loss"))
    plain_s = time.monotonic() - started
    assert plain["score"] == FULL, explain(plain)
    assert plain_s < TIMEOUT_S + GRACE_S + 10

    attack = append_code(complete, "# placeholder\n", after="mse-loss")
    code_cells = [c for c in attack.cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(code_cells) if c.source == "# placeholder\n")
    code_cells[index].source = REARM.format(kind="cell", index=index)
    started = time.monotonic()
    result = grade(fast, attack)
    attacked_s = time.monotonic() - started
    assert attacked_s <= plain_s + 3.0, (
        f"the looping cell ran {attacked_s:.1f} s (without the forged frames: {plain_s:.1f} s)")
    assert result["score"] == FULL, explain(result)
    assert any(n["kind"] in ("timeout", "tampered") for n in result["notices"]), explain(result)


def test_start_frames_cannot_rearm_a_graded_call(fast, grade, broken_mse):
    """The same inside the locked test's call: MSE.__call__ starts the re-arming
    thread and loops. The call times out within 3 s + grace; the score stays 15."""
    attack = ("import numpy as _np\n"
              "_orig_call = MeanSquaredError.__call__\n"
              "def _call(self, y_pred, y_true):\n"
              "    # only the locked test's call (unit tests call MSE with other data)\n"
              "    if (_np.asarray(y_pred.data).tolist() == [[1.0, 2.0]]\n"
              "            and _np.asarray(y_true.data).tolist() == [[1.0, 2.0]]):\n"
              + "\n".join("        " + line
                           for line in REARM.format(kind="call", index=0).splitlines()) + "\n"
              "    return _orig_call(self, y_pred, y_true)\n"
              "MeanSquaredError.__call__ = _call\n")
    honest = grade.honest(fast, broken_mse)
    started = time.monotonic()
    baseline_nb = append_code(broken_mse, "pass\n")
    grade(fast, baseline_nb)
    baseline_s = time.monotonic() - started
    started = time.monotonic()
    result = grade(fast, append_code(broken_mse, attack))
    attacked_s = time.monotonic() - started
    assert_honest(result, honest)
    assert attacked_s <= baseline_s + TIMEOUT_S + GRACE_S + 3.0, (
        f"grading took {attacked_s:.1f} s; without the attack {baseline_s:.1f} s")


def test_the_submission_budget_bounds_many_slow_cells(fast, grade, complete):
    """Eight cells that each loop until their 3 s deadline: without a budget for the
    whole submission that is 8 x (3 s + grace). With policy.submission_timeout_s = 8
    (issue 10, point 2), grading ends within 8 s + the grace period."""
    budget = 8.0
    limits = dataclasses.replace(fast.limits, submission_timeout_s=budget)
    ctx = dataclasses.replace(fast, limits=limits)
    nb = complete
    for _ in range(8):
        nb = append_code(nb, LOOP, after="mse-loss")
    started = time.monotonic()
    result = grade(ctx, nb)
    seconds = time.monotonic() - started
    assert result["status"] in ("graded", "error"), explain(result)
    assert seconds <= budget + GRACE_S + 4.0, f"grading took {seconds:.1f} s"
    assert any(n["kind"] == "timeout" for n in result["notices"]), explain(result)
