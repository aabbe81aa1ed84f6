"""The isolated execution engine, through real Jobs in real sandboxes (no mocks)."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest

from grader.engine import Call, Cell, Engine, Job, Limits

FAST = Limits(cell_timeout_s=1.0, call_timeout_s=1.0, memory_mb=1024, output_cap_bytes=100_000)
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def run(engine: Engine, *sources: str, calls: list[Call] | None = None, limits: Limits = FAST,
        workdir: Path | None = None):
    cells = [Cell(f"c{i}", src) for i, src in enumerate(sources)]
    return engine.run(Job(cells=cells, calls=calls or [], workdir=workdir, limits=limits))


def stdout_of(cell) -> str:
    return "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout")


def test_outputs_execute_result_and_display(engine: Engine) -> None:
    res = run(engine, "import numpy as np\nprint('hello')\nnp.arange(3)",
              "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))\nimport sys; print('err', file=sys.stderr)")
    a, b = res.cells
    assert a.status == "ok" and stdout_of(a) == "hello\n"
    assert a.outputs[-1]["output_type"] == "execute_result"
    assert a.outputs[-1]["data"]["text/plain"] == "array([0, 1, 2])"
    assert b.outputs[0]["output_type"] == "display_data" and b.outputs[0]["data"]["text/html"] == "<b>x</b>"
    assert b.outputs[1] == {"output_type": "stream", "name": "stderr", "text": "err\n"}
    assert res.restarts == 0 and res.isolation.mode in ("namespaces", "userns", "rlimits")


def test_magic_and_shell_lines(engine: Engine) -> None:
    res = run(engine, "print('a')\n!echo hi-from-shell\nimport os\n_ = os.system('echo via-system')\nprint('c')",
              "%timeit -n1 -r1 sum(range(10))\nx = 5", "x")
    a, b, c = res.cells
    assert stdout_of(a) == "a\nhi-from-shell\nvia-system\nc\n"
    assert b.status == "ok" and "loop" in stdout_of(b)
    assert c.outputs[0]["data"]["text/plain"] == "5"


def test_error_then_next_cells_run(engine: Engine) -> None:
    res = run(engine, "x = 1", "def g():\n    return 1 / 0\ng()", "x + 1", "def (")
    assert [c.status for c in res.cells] == ["ok", "error", "ok", "error"]
    err = res.cells[1].error
    assert err is not None and err.ename == "ZeroDivisionError"
    assert err.frames == [("<cell:c1>", 3, "<module>"), ("<cell:c1>", 2, "g")]
    assert not any("\x1b[" in line for line in err.traceback)
    assert res.cells[1].outputs[-1]["output_type"] == "error"
    assert res.cells[2].outputs[0]["data"]["text/plain"] == "2"
    assert res.cells[3].error is not None and res.cells[3].error.ename == "SyntaxError"


def test_infinite_loop_times_out_and_run_goes_on(engine: Engine) -> None:
    res = run(engine, "x = 41", "while True:\n    pass", "x + 1")
    assert [c.status for c in res.cells] == ["ok", "timeout", "ok"]
    assert res.restarts == 0  # the interrupt worked: same process
    assert res.cells[1].error is not None and res.cells[1].error.ename == "TimeoutError"
    assert res.cells[2].outputs[0]["data"]["text/plain"] == "42"


SWALLOW = "import time\nwhile True:\n    try:\n        time.sleep(0.01)\n    except BaseException:\n        pass"


def test_swallowed_interrupt_is_killed_and_restarted(engine: Engine) -> None:
    res = run(engine, "x = 41\nprint('first')", SWALLOW, "x + 1")
    assert [c.status for c in res.cells] == ["ok", "timeout", "ok"]
    assert res.restarts == 1
    assert stdout_of(res.cells[0]) == "first\n"  # first outputs kept after the silent replay
    assert res.cells[2].outputs[0]["data"]["text/plain"] == "42"


def test_os_exit_in_cell_and_in_call(engine: Engine) -> None:
    res = run(engine, "x = 1", "import os; os._exit(3)", "y = x + 1",
              "import os\ndef boom():\n    os._exit(3)\ndef ok():\n    return y",
              calls=[Call("boom", None, ["boom"]), Call("ok", None, ["ok"], want_value=True)])
    assert [c.status for c in res.cells] == ["ok", "crashed", "ok", "ok"]
    assert "status 3" in (res.cells[1].error.evalue if res.cells[1].error else "")
    assert res.calls[0].status == "crashed" and res.calls[0].function == "boom"
    assert res.calls[1].status == "passed" and res.calls[1].value == 2
    assert res.restarts == 2


def test_segfault_is_a_crash(engine: Engine) -> None:
    res = run(engine, "import ctypes\nctypes.string_at(0)", "print('after')")
    assert res.cells[0].status == "crashed"
    assert "SIGSEGV" in res.cells[0].error.evalue  # type: ignore[union-attr]
    assert stdout_of(res.cells[1]) == "after\n"


def test_system_exit_and_keyboard_interrupt_are_errors(engine: Engine) -> None:
    res = run(engine, "raise SystemExit(2)", "raise KeyboardInterrupt", "print('still here')",
              "def a():\n    raise SystemExit(1)\ndef b():\n    raise KeyboardInterrupt",
              calls=[Call("a", None, ["a"]), Call("b", None, ["b"])])
    assert [c.status for c in res.cells] == ["error", "error", "ok", "ok"]
    assert res.cells[0].error.ename == "SystemExit"  # type: ignore[union-attr]
    assert [c.status for c in res.calls] == ["error", "error"]
    assert res.calls[1].error.ename == "KeyboardInterrupt" and res.restarts == 0  # type: ignore[union-attr]


def test_memory_limit_raises_memory_error(engine: Engine) -> None:
    res = run(engine, "import numpy\na = numpy.ones(6 * 2**30 // 8)", "print('ok')")
    assert res.cells[0].status == "error"
    assert res.cells[0].error.ename == "MemoryError"  # type: ignore[union-attr]
    assert res.cells[1].status == "ok"


def test_huge_output_is_truncated_quickly(engine: Engine) -> None:
    t0 = time.monotonic()
    res = run(engine, "line = 'x' * 99\nfor _ in range(2_000_000):\n    print(line)",
              "import os\nos.write(1, b'y' * 5_000_000)\nprint('z')", "print('small')",
              limits=Limits(cell_timeout_s=60, output_cap_bytes=1_000_000))
    assert time.monotonic() - t0 < 30  # finished instead of hanging
    big, cflood, small = res.cells
    assert big.status == "ok" and big.truncated
    assert sum(len(o.get("text", "")) for o in big.outputs) < 1_100_000
    assert "output truncated" in big.outputs[-1]["text"]
    assert cflood.truncated and sum(len(o.get("text", "")) for o in cflood.outputs) < 1_100_000
    assert not small.truncated and stdout_of(small) == "small\n"


def _sleepers() -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if (p.info["cmdline"] or [])[:2] == ["sleep", "1000"]:
            found.append(p)
    return found


DETACH = ("import subprocess, os\n"
          "subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
          "if os.fork() == 0:\n"
          "    os.setsid()\n"
          "    if os.fork() == 0:\n"
          "        os.execvp('sleep', ['sleep', '1000'])\n"
          "    os._exit(0)\n")


def _gone_soon(seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while _sleepers():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_no_process_outlives_the_job(engine: Engine) -> None:
    """The reply comes first and the sandbox is killed right after (supervisor.serve_job):
    its processes are gone moments later, and always before the engine's next job."""
    assert not _sleepers()
    res = run(engine, DETACH, "import time; time.sleep(0.2)")
    assert res.cells[0].status == "ok"
    assert _gone_soon()
    res = run(engine, DETACH, "import time; time.sleep(0.2)")
    run(engine, "1")                      # the next job starts once they are gone
    assert not _sleepers()


def test_no_process_outlives_the_job_rlimits_mode() -> None:
    with Engine(preload=[], isolation="rlimits", interrupt_grace_s=1.0) as eng:
        assert eng.isolation is not None and eng.isolation.mode == "rlimits"
        assert not eng.isolation.guarantees["private_filesystem"]
        res = run(eng, DETACH, "import time; time.sleep(0.2)", "while True:\n    pass", "print(1)")
        assert [c.status for c in res.cells] == ["ok", "ok", "timeout", "ok"]
    assert not _sleepers()


def test_call_values_are_json(engine: Engine) -> None:
    src = ("import numpy as np\n"
           "def answer():\n"
           "    return {'i': np.int64(3), 'f': np.float32(0.5), 'b': np.bool_(True), 'a': np.arange(3),\n"
           "            't': (1, 2.5), 1: float('nan'), 'm': np.eye(2)}\n"
           "def bad():\n    return object()\n"
           "def scalar():\n    return np.float64(2.25)\n")
    res = run(engine, src, calls=[Call("v", None, ["answer"], want_value=True),
                                  Call("bad", None, ["bad"], want_value=True),
                                  Call("s", None, ["scalar"], want_value=True)])
    v = res.calls[0]
    assert v.status == "passed"
    nan = v.value.pop("1")
    assert nan != nan
    assert v.value == {"i": 3, "f": 0.5, "b": True, "a": [0, 1, 2], "t": [1, 2.5], "m": [[1.0, 0.0], [0.0, 1.0]]}
    assert type(v.value["i"]) is int and type(v.value["b"]) is bool
    assert res.calls[1].value is None and "object" in (res.calls[1].value_error or "")
    assert res.calls[2].value == 2.25


def test_failing_call_and_setup(engine: Engine) -> None:
    setup = "def test_one():\n    print('checking')\n    assert 1 + 1 == 3, 'math is broken'\ndef test_two():\n    pass\n"
    res = run(engine, "x = 1", calls=[Call("t", setup, ["test_two", "test_one"]),
                                      Call("missing", None, ["nope"])])
    t, missing = res.calls
    assert t.status == "failed" and t.function == "test_one"
    assert t.error is not None and t.error.evalue == "math is broken"
    assert t.error.frames[-1] == ("<setup:t>", 3, "test_one")
    assert t.output == "checking\n"
    assert missing.status == "error" and missing.error.ename == "NameError"  # type: ignore[union-attr]


def test_call_timeout_then_next_call(engine: Engine) -> None:
    res = run(engine, "def slow():\n    while True:\n        pass\ndef fast():\n    return 7\n"
              "import time\ndef stubborn():\n    while True:\n        try:\n            time.sleep(0.01)\n"
              "        except BaseException:\n            pass",
              calls=[Call("slow", None, ["slow"]), Call("fast", None, ["fast"], want_value=True),
                     Call("stubborn", None, ["stubborn"]), Call("fast2", None, ["fast"], want_value=True)])
    assert [c.status for c in res.calls] == ["timeout", "passed", "timeout", "passed"]
    assert res.calls[1].value == 7 and res.calls[3].value == 7
    assert res.calls[2].function == "stubborn" and res.restarts == 1


def test_workdir_files_are_copied(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("payload")
    res = run(engine, "print(open('data.txt').read())\nopen('out.txt', 'w').write('ok')", workdir=tmp_path)
    assert res.cells[0].status == "ok", res.cells[0].error
    assert stdout_of(res.cells[0]) == "payload\n"
    assert not (tmp_path / "out.txt").exists()  # the caller's folder is not touched


# -- root only: namespaces ---------------------------------------------------------------

@root_only
def test_course_files_are_invisible(engine: Engine, tmp_path: Path) -> None:
    assert engine.isolation is not None and engine.isolation.mode == "namespaces"
    course = tmp_path / "course"
    course.mkdir()
    marker = course / "SECRET_MARKER_7f3a.txt"
    marker.write_text("secret")
    src = (f"import os\nfound = []\nfor d, _, files in os.walk('/'):\n"
           f"    if d.startswith('/proc') or d.startswith('/sys'):\n        continue\n"
           f"    found += [os.path.join(d, f) for f in files if 'SECRET_MARKER' in f]\n"
           f"print(found)\ntry:\n    open({str(marker)!r}).read()\n    print('READ')\n"
           f"except OSError as e:\n    print(type(e).__name__)")
    res = run(engine, src, limits=Limits(cell_timeout_s=30))
    assert stdout_of(res.cells[0]) == "[]\nFileNotFoundError\n"


@root_only
def test_no_network_to_host_localhost(engine: Engine) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:   # closed at the end of the test: nothing connected
            pass
    threading.Thread(target=accept, daemon=True).start()
    try:
        src = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
               f"    print('CONNECTED')\nexcept OSError as e:\n    print('blocked')")
        res = run(engine, src, limits=Limits(cell_timeout_s=10))
        assert stdout_of(res.cells[0]) == "blocked\n"
        assert not accepted
    finally:
        server.close()


@root_only
def test_unprivileged_uid(engine: Engine) -> None:
    res = run(engine, "import os\nprint(os.getuid(), os.geteuid(), os.getgid())\nopen('/etc/shadow')")
    assert stdout_of(res.cells[0]) == "65534 65534 65534\n"
    assert res.cells[0].error is not None and res.cells[0].error.ename in ("FileNotFoundError", "PermissionError")
    assert engine.isolation is not None and all(engine.isolation.guarantees.values())


@root_only
def test_user_namespace_mode_smoke() -> None:
    with Engine(preload=[], isolation="userns", interrupt_grace_s=1.0) as eng:
        assert eng.isolation is not None and eng.isolation.mode == "userns"
        res = run(eng, "import os\nprint(os.getcwd())", DETACH, "import os; os._exit(1)", "print('ok')")
        assert [c.status for c in res.cells] == ["ok", "ok", "crashed", "ok"]
        assert stdout_of(res.cells[0]) == "/job\n"
    assert not _sleepers()


def test_framework_path_and_preload(tmp_path: Path) -> None:
    fw = tmp_path / "build"
    (fw / "fwpkg").mkdir(parents=True)
    (fw / "fwpkg" / "__init__.py").write_text("VALUE = 42\n")
    with Engine(framework_path=fw, preload=["numpy", "fwpkg", "no_such_module_xyz"]) as eng:
        assert any("no_such_module_xyz" in w for w in eng.preload_warnings)
        res = run(eng, "import fwpkg, sys\nprint(fwpkg.VALUE, sys.path[0] == %r)" % str(fw))
        assert stdout_of(res.cells[0]) == "42 True\n"


@root_only
def test_hidden_path_inside_allow_list_is_masked(tmp_path: Path) -> None:
    with Engine(preload=[], hide=[Path("/usr/share/doc")]) as eng:
        res = run(eng, "import os\nprint(os.listdir('/usr/share/doc'), os.path.isdir('/usr/share'))")
        assert stdout_of(res.cells[0]) == "[] True\n"


def test_temp_folders_of_killed_engines_are_removed(tmp_path, monkeypatch) -> None:
    """A supervisor or template killed before its own cleanup leaves its temp folder; the
    next template removes the folders of processes that are gone."""
    import subprocess
    import tempfile
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = Path(tempfile.gettempdir()) / f"grader-job-{gone.pid}-stale"
    stale.mkdir()
    (stale / "work").mkdir()
    mine = Path(tempfile.gettempdir()) / f"grader-job-{os.getpid()}-alive"
    mine.mkdir()
    try:
        with Engine(preload=[]) as eng:
            eng.run(Job(cells=[Cell("c", "1")], limits=FAST))
        assert not stale.exists()
        assert mine.exists()     # its owner (this process) is alive
    finally:
        import shutil
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (cgroups)")
def test_each_sandbox_has_its_own_limited_cgroup_and_stale_groups_go(tmp_path) -> None:
    """The sandbox child is forked ahead of need into a fresh cgroup (engine/spares.py);
    the job's limits are on it before a cell runs, no two sandboxes share one, and the
    groups of a template that is gone are removed by the next one."""
    import subprocess

    from grader.engine import cgroups
    layout, why = cgroups.probe()
    if layout is None:
        pytest.skip(why)
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = cgroups.Cgroup.create(layout, f"sandbox-{gone.pid}-1")
    show = ("import re\n"
            "line = [l for l in open('/proc/self/cgroup').read().splitlines()\n"
            "        if l.split(':')[1] in ('', 'memory') or 'memory' in l.split(':')[1].split(',')][0]\n"
            "print(line.rsplit('/', 1)[-1])")
    limits = Limits(cell_timeout_s=10, call_timeout_s=10, memory_mb=300)
    with Engine(preload=[]) as eng:
        assert not any(os.path.isdir(f) for f in stale.folders)
        names = [eng.run(Job(cells=[Cell("c", show)], limits=limits)).cells[0]
                 for _ in range(3)]
        groups = [c.outputs[0]["text"].strip() for c in names]
    assert all(g.startswith("sandbox-") for g in groups), groups
    assert len(set(groups)) == 3
    # the group's memory limit holds: memfd pages count there, not in RLIMIT_AS
    hog = ("import os\nchunk = b'x' * (1 << 20)\nfds = []\n"
           "for n in range(400):\n    if n % 50 == 0:\n        fds.append(os.memfd_create('hog'))\n"
           "    os.write(fds[-1], chunk)\nprint('wrote 400 MB')")
    with Engine(preload=[]) as eng:
        res = eng.run(Job(cells=[Cell("c", hog)], limits=limits))
    assert res.cells[0].status == "crashed", res.cells[0]


def test_unseeded_randomness_differs_between_sandboxes(engine: Engine) -> None:
    """numpy.random is loaded once in the template, but every child reseeds it (and
    Python's random) from the OS after the fork: no two sandboxes draw the same numbers."""
    draw = "import numpy as np\nprint(np.random.rand())"
    seen = {stdout_of(run(engine, draw).cells[0]) for _ in range(3)}
    assert len(seen) == 3, seen


@root_only
def test_the_template_forks_the_kernel_into_its_own_pid_namespace() -> None:
    """As root the template forks the kernel itself, as PID 1 of a new PID namespace
    (engine/spares.py): while a job runs, the template's children are the supervisor,
    the kernel and the next spare, and no intermediate process. Only the kernels leave
    the template's namespace: its supervisors stay in it, and each kernel gets a new one."""
    probe = "import os, time\nprint(os.getpid(), os.readlink('/proc/self/ns/pid'))\ntime.sleep(0.6)"
    with Engine(preload=[]) as eng:
        assert eng._proc is not None
        template = psutil.Process(eng._proc.pid)
        seen: list[dict[str, str]] = []

        def look() -> None:
            time.sleep(0.3)
            seen.append({p.name(): os.readlink(f"/proc/{p.pid}/ns/pid")
                         for p in template.children()})
        kernels = []
        for _ in range(2):
            looker = threading.Thread(target=look)
            looker.start()
            res = run(eng, probe, limits=Limits(cell_timeout_s=5, call_timeout_s=5))
            looker.join()
            kernels.append(stdout_of(res.cells[0]).split())
        own = os.readlink(f"/proc/{template.pid}/ns/pid")
    for children in seen:
        assert sorted(children) == ["grader-kernel", "grader-spare", "grader-super"], children
        assert children["grader-super"] == own
        assert own not in (children["grader-kernel"], children["grader-spare"])
        assert children["grader-kernel"] != children["grader-spare"]
    assert [k[0] for k in kernels] == ["1", "1"]
    assert kernels[0][1] != kernels[1][1]


@root_only
def test_the_intermediate_child_path_still_isolates_and_reports() -> None:
    """Where the template cannot be the kernel's parent (user namespaces, no pidfds), an
    intermediate child C forks it and reports its pid and exit: the same isolation,
    crash reports and clean-up, exercised here as root."""
    probe = "import os, time\nprint(os.getpid(), os.getuid())\ntime.sleep(0.6)"
    with Engine(preload=[], direct_spares=False, interrupt_grace_s=1.0) as eng:
        assert eng._proc is not None
        template = psutil.Process(eng._proc.pid)
        seen: list[list[str]] = []

        def look() -> None:
            time.sleep(0.3)
            seen.append(sorted(p.name() for p in template.children(recursive=True)))
        looker = threading.Thread(target=look)
        looker.start()
        res = run(eng, probe, "import os\nos._exit(3)", "print('after')",
                  limits=Limits(cell_timeout_s=5, call_timeout_s=5))
        looker.join()
    assert seen == [["grader-kernel", "grader-spare", "grader-spare", "grader-super"]]
    assert stdout_of(res.cells[0]).split() == ["1", "65534"]
    assert res.cells[1].status == "crashed" and "status 3" in res.cells[1].error.evalue
    assert stdout_of(res.cells[2]) == "after\n"
    assert not _sleepers()


@root_only
@pytest.mark.parametrize("direct", [True, False], ids=["template-forks-kernel", "intermediate"])
def test_the_kernel_holds_no_descriptor_of_the_grader(direct: bool) -> None:
    """Whoever forks it, the kernel keeps only its stdio and its two command pipes: not
    the template's sockets, its PID namespace handle, the pid pipe (its exit status is
    reported by its parent) nor any other job's ends."""
    src = ("import os\nfds = {}\nfor n in os.listdir('/proc/self/fd'):\n    try:\n"
           "        fds[int(n)] = os.readlink(f'/proc/self/fd/{n}')\n    except OSError:\n"
           "        pass   # the listing's own descriptor, closed by now\nprint(sorted(fds.items()))")
    with Engine(preload=[], direct_spares=direct) as eng:
        res = run(eng, src, limits=Limits(cell_timeout_s=5, call_timeout_s=5))
    import ast
    fds = dict(ast.literal_eval(stdout_of(res.cells[0])))
    assert sorted(fds) == [0, 1, 2, 1000, 1001], fds
    assert fds[0] == "/dev/null" and "memfd:grader-stdout" in fds[1]
    assert fds[1000].startswith("pipe:") and fds[1001].startswith("pipe:")


def test_descendants_are_every_process_below_including_those_forked_by_threads() -> None:
    """isolation.descendants reads /proc/PID/task/TID/children (every thread's): the same
    processes as scanning all of /proc, psutil agreeing, a child forked by a thread and
    a grandchild in its own session included."""
    import subprocess
    import sys

    from grader.engine import isolation
    script = ("import os, threading, time\n"
              "def fork():\n"
              "    if os.fork() == 0:\n"
              "        if os.fork() == 0:\n"
              "            os.setsid(); time.sleep(30)\n"
              "        time.sleep(30)\n"
              "t = threading.Thread(target=fork); t.start(); t.join()\n"
              "print('ready', flush=True); time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        end = time.monotonic() + 10   # the grandchild is forked by the child, meanwhile
        while len(psutil.Process(proc.pid).children(recursive=True)) < 2:
            assert time.monotonic() < end
            time.sleep(0.01)
        me = os.getpid()
        found = sorted(isolation.descendants(me))
        assert found == sorted(isolation._descendants_by_scan(me))
        assert found == sorted(p.pid for p in psutil.Process(me).children(recursive=True))
        below = isolation.descendants(proc.pid)
        assert len(below) == 2 and set(below) <= set(found)
    finally:
        for pid in isolation.descendants(proc.pid):
            os.kill(pid, 9)
        proc.kill()
        proc.wait()
