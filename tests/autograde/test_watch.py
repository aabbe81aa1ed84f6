"""`grader autograde --watch`: a submission that lands while the command runs is graded
(once it has settled) and the dashboard follows; an unchanged one is not graded again."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader.course import load_course
from grader.synth import release_of, solved, write_submission

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"
MODULE = "09_training"


def wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_watch_grades_each_submission_as_it_lands(tmp_path: Path) -> None:
    for name in ("course", "source", "release"):
        shutil.copytree(ROOT / name, tmp_path / name)
    course = load_course(tmp_path)
    module, release = release_of(course, MODULE)
    write_submission(tmp_path, "early", MODULE, release, name="training_dev.ipynb")
    log = (tmp_path / "watch.log").open("w")
    proc = subprocess.Popen([str(GRADER), "--course", str(tmp_path), "autograde", MODULE,
                             "--watch", "--settle", "0.5", "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        result = tmp_path / "autograded" / "late-comer" / MODULE / "result.json"
        assert wait_for(lambda: "watching" in (tmp_path / "watch.log").read_text(), 240), \
            (tmp_path / "watch.log").read_text()
        first = (tmp_path / "autograded" / "early" / MODULE / "result.json").stat().st_mtime
        write_submission(tmp_path, "late-comer", MODULE, solved(module, release),
                         name="training_dev.ipynb")
        assert wait_for(result.is_file, 240), (tmp_path / "watch.log").read_text()
        assert json.loads(result.read_text())["score"] == 40
        dashboard = tmp_path / "reports" / "index.html"
        assert wait_for(lambda: dashboard.is_file() and "late-comer" in dashboard.read_text(), 60)
        # the early submission did not change: the batch skipped it
        assert (tmp_path / "autograded" / "early" / MODULE / "result.json").stat().st_mtime == first
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0, (tmp_path / "watch.log").read_text()
