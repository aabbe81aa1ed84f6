"""The command line exits without tearing the interpreter down (grader.cli._exit):
nothing a normal exit gives may be lost: atexit handlers, buffered output, the exit
status, and a thread still at work."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(f"""
        import atexit, sys, threading, time
        from pathlib import Path
        from grader.cli import _exit
        out = Path({str(tmp_path)!r})
        atexit.register(lambda: (out / "atexit").write_text("ran"))
    """) + textwrap.dedent(body)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}   # buffered
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)


def test_atexit_handlers_buffered_output_and_the_status_survive_the_quick_exit(tmp_path):
    proc = run("""
        for i in range(5000):           # the last few kB wait in stdout's buffer
            sys.stdout.write(f"{i}\\n")
        sys.stderr.write("to stderr")   # no newline: waits in stderr's buffer
        _exit(3)
    """, tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == "".join(f"{i}\n" for i in range(5000))
    assert proc.stderr == "to stderr"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_thread_still_running_is_waited_for(tmp_path):
    proc = run("""
        def late():
            time.sleep(0.5)
            (out / "thread").write_text("done")
        threading.Thread(target=late).start()
        _exit(0)
    """, tmp_path)
    assert proc.returncode == 0
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_an_exit_message_is_printed_as_python_does(tmp_path):
    proc = run("""_exit("grader: stopped")""", tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip() == "grader: stopped"
