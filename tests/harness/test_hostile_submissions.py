"""Hostile and broken code costs at most the affected item, finishes within the
timeouts and leaves no process behind (issue: isolation of the grading harness)."""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import nbformat
import pytest

from grader.harness.grade import grade_submission
from grader.synth import append_code, edit, replace
from support.processes import no_process_with

TEST = "test-training-comprehensive"


def grade(ctx, nb, folder):
    """Grade nb as folder/training_dev.ipynb; whatever it does, the submitted file is
    left byte for byte as it was."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "training_dev.ipynb"
    nbformat.write(nb, path)
    submitted = path.read_bytes()
    started = time.monotonic()
    result = grade_submission(ctx, "student", folder).result.to_json()
    seconds = time.monotonic() - started
    assert path.read_bytes() == submitted, "grading changed the submitted notebook"
    return result, seconds


def scores(result):
    return {i["id"]: i["score"] for i in result["items"]}


def test_infinite_loop_in_a_cell_costs_nothing_else(training, complete, tmp_path):
    nb = append_code(complete, "while True:\n    pass\n", after="mse-loss")
    result, seconds = grade(training, nb, tmp_path)
    assert result["score"] == 40
    assert any(n["kind"] == "timeout" for n in result["notices"])
    assert seconds < 60


def test_infinite_loop_in_a_graded_function_costs_that_item(training, complete, tmp_path):
    nb = edit(complete, "training-convergence", replace(
        "    num_classes = 10\n", "    num_classes = 10\n    while True:\n        pass\n"))
    result, seconds = grade(training, nb, tmp_path)
    by_id = {i["id"]: i for i in result["items"]}
    assert by_id["training-convergence"]["status"] == "timeout"
    assert by_id["training-convergence"]["score"] == 0
    assert result["score"] == 35
    assert seconds < 120


def test_huge_allocation_fails_with_memory_error(training, complete, tmp_path):
    nb = append_code(complete, "import numpy as np\nbig = np.ones(6 * 2**30 // 8)\n",
                     after="mse-loss")
    result, _ = grade(training, nb, tmp_path)
    assert result["score"] == 40


def test_huge_allocation_in_a_graded_call_costs_that_item(training, complete, tmp_path):
    nb = edit(complete, "training-batch-size", replace(
        "    num_parameters = 1_000_000\n",
        "    num_parameters = 1_000_000\n    hog = np.ones(6 * 2**30 // 8)\n"))
    result, _ = grade(training, nb, tmp_path)
    batch = next(i for i in result["items"] if i["id"] == "training-batch-size")
    assert batch["score"] == 0 and "MemoryError" in batch["message"]
    assert result["score"] == 35


@pytest.mark.parametrize("code", ["import os\nos._exit(3)\n", "raise SystemExit(1)\n",
                                  "import ctypes\nctypes.string_at(0)\n"])
def test_process_killers_in_a_cell_cost_nothing_else(training, complete, tmp_path, code):
    result, _ = grade(training, append_code(complete, code, after="mse-loss"), tmp_path)
    assert result["score"] == 40


def test_os_exit_inside_a_graded_call_costs_that_item(training, complete, tmp_path):
    nb = edit(complete, "training-throughput", replace(
        "    total_samples = 1_000_000\n", "    import os\n    os._exit(0)\n"))
    result, _ = grade(training, nb, tmp_path)
    by_id = {i["id"]: i for i in result["items"]}
    assert by_id["training-throughput"]["status"] == "crashed"
    assert result["score"] == 35


def test_200_mb_of_prints_is_capped(training, complete, tmp_path):
    nb = append_code(complete, "for _ in range(200_000):\n    print('x' * 1000)\n",
                     after="mse-loss")
    path = tmp_path / "training_dev.ipynb"
    nbformat.write(nb, path)
    submitted = path.read_bytes()
    started = time.monotonic()
    graded = grade_submission(training, "student", tmp_path)
    assert time.monotonic() - started < 60
    assert graded.result.score == 40
    assert any(n.kind == "truncated_output" for n in graded.result.notices)
    # the output went into the executed notebook, capped (1 MB per cell by default) ...
    assert len(nbformat.writes(graded.executed)) < 3_000_000
    # ... and never back into the submission, which grading leaves byte for byte as it was
    assert path.read_bytes() == submitted


def test_detached_processes_do_not_outlive_the_submission(training, complete, tmp_path):
    marker = f"{1000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    nb = append_code(complete, "import subprocess\n"
                               f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
                               f"subprocess.Popen('sleep {marker} &', shell=True)\n",
                     after="mse-loss")
    result, _ = grade(training, nb, tmp_path)
    assert result["score"] == 40
    deadline = time.monotonic() + 5
    while not no_process_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert no_process_with(f"sleep {marker}")


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and an unprivileged uid need root")
def test_submission_cannot_find_the_reference_or_the_gradebook(training, course):
    (course.root / "grader.db").write_text("secret gradebook")
    probe = (
        "import os\nfound = []\n"
        "for top, dirs, files in os.walk('/'):\n"
        "    if top.startswith('/proc') or top.startswith('/sys'):\n"
        "        dirs[:] = []\n        continue\n"
        "    for f in files:\n"
        "        if f in ('training_dev.py', 'grader.db', '09_training.json'):\n"
        "            path = os.path.join(top, f)\n"
        "            try:\n                text = open(path, errors='replace').read()\n"
        "            except OSError:\n                continue\n"
        "            if 'secret gradebook' in text or 'BEGIN SOLUTION' in text or "
        "'\"answers\"' in text:\n"
        "                found.append(path)\n"
        f"readable = []\n"
        f"for p in [{str(course.root / 'source/09_training/training_dev.py')!r}, "
        f"{str(course.root / 'grader.db')!r}, "
        f"{str(course.build_dir / 'reference/09_training.json')!r}]:\n"
        "    try:\n        open(p).read(10); readable.append(p)\n    except OSError:\n        pass\n"
        "assert not found, found\nassert not readable, readable\n"
        "assert os.getuid() != 0\n")
    # The probe runs in the grading context's own sandbox, exactly as a submission does.
    from grader.engine import Call, Job
    run = training.engine.run(Job(cells=[], calls=[Call(key="probe", setup=probe, functions=[])],
                                  limits=training.limits))
    assert run.calls[0].status == "passed", run.calls[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")
def test_submission_cannot_reach_a_local_server(training, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    from grader.engine import Call, Job
    code = ("import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    connected = True\nexcept OSError:\n    connected = False\n"
            "assert not connected, 'reached the host'\n")
    run = training.engine.run(Job(cells=[], calls=[Call(key="net", setup=code, functions=[])],
                                  limits=training.limits))
    assert run.calls[0].status == "passed", run.calls[0]
    time.sleep(0.2)
    assert not accepted
    server.close()
