"""The self-check from inside Jupyter: `grader.check()`, `%grader check` and
`!grader check` in a real kernel (nbclient), on a notebook that contains those very
calls, so the check must not run itself again inside its sandbox."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from grader.export import build
from grader.notebook import ASK_FOR_PATH, SKIPPED, SelfCheck, check

BIN = Path(sys.executable).parent

# Added to the checked notebook. In the student's kernel the first three cells check
# the notebook; inside the check's sandbox they must do nothing. The unit test proves
# it from inside the sandbox (unit tests run there, and the check reports them).
SELF_CHECK_CELLS = [
    "import grader\ngrader.check()",
    "%load_ext grader\n%grader check",
    "!grader check training_dev.ipynb",
    '''def test_self_check_is_not_recursive():
    import os
    import grader
    assert os.environ.get("GRADER_SELF_CHECK") == "1"
    assert "skipped" in repr(grader.check())
    get_ipython().run_line_magic("load_ext", "grader")
    assert "skipped" in repr(get_ipython().run_line_magic("grader", "check"))
    # the console script exits at once when it can import grader (a pip install); an
    # editable install's sources are outside the sandbox, so there it cannot start at all
    out = get_ipython().getoutput("grader check training_dev.ipynb 2>&1; echo exit=$?")
    assert "visible tests" not in out.n, out.n
    assert ("skipped" in out.n and out.n.endswith("exit=0")
            or "No module named 'grader'" in out.n), out.n
''',
]


@pytest.fixture
def framework_env(course, monkeypatch):
    """A student's machine: the framework installed (here: the stage build on the path),
    grader's console script on PATH, and not inside any course folder."""
    stage = build(course, before="09_training")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(stage.path), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}")
    monkeypatch.delenv("GRADER_SELF_CHECK", raising=False)
    return stage


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs_of(cell) -> tuple[str, str, str]:
    """(html, plain text, stream text) of one executed cell."""
    html = plain = stream = ""
    for output in cell.outputs:
        if output.output_type in ("execute_result", "display_data"):
            html += output.data.get("text/html", "")
            plain += output.data.get("text/plain", "")
        elif output.output_type == "stream":
            stream += output.text
    return html, plain, stream


def test_check_in_a_kernel_finds_its_notebook_and_never_recurses(
        complete, framework_env, tmp_path, monkeypatch):
    folder = tmp_path / "student" / "09_training"
    folder.mkdir(parents=True)
    nb = nbformat.from_dict(complete)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in SELF_CHECK_CELLS]
    path = folder / "training_dev.ipynb"
    nbformat.write(nb, path)
    # jupyter_server names the notebook relative to its root; the kernel runs in its folder
    monkeypatch.setenv("JPY_SESSION_NAME", "student/09_training/training_dev.ipynb")

    executed = execute(nbformat.read(path, as_version=4), folder)

    cells = executed.cells[-len(SELF_CHECK_CELLS):]
    for cell in cells[:2]:          # grader.check() and %grader check: rich HTML
        html, plain, _ = outputs_of(cell)
        assert 'class="grader-check"' in html, cell.outputs
        assert "visible tests: 25 / 25 points" in html
        assert 'data-item="training-batch-size" data-status="answered"' in html
        assert 'data-test="test_self_check_is_not_recursive" data-status="passed"' in html, html
        assert "timeout" not in html
        assert "visible tests: 25 / 25 points" in plain       # the text/plain twin
    _, _, stream = outputs_of(cells[2])                        # !grader check: text
    stream = re.sub(r"\x1b\[[0-9;]*m", "", stream)             # Jupyter shows its colours
    assert "visible tests: 25 / 25 points" in stream, stream
    assert "test_self_check_is_not_recursive" in stream
    unit = next(line for line in stream.splitlines() if "test_self_check_is_not_recursive" in line)
    assert unit.split()[0] == "passed", stream


def test_check_by_path_from_a_kernel_shows_html(complete, framework_env, tmp_path, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nbformat.write(complete, tmp_path / "training_dev.ipynb")
    driver = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import grader\nresult = grader.check('training_dev.ipynb')\nassert result.passed\nresult")])
    html, plain, _ = outputs_of(execute(driver, tmp_path).cells[0])
    assert 'class="grader-check"' in html and "<style>" in html
    assert ".grader-check " in html.split("<style>")[1]         # styles scoped to the output
    assert "test-training-comprehensive" in html and "25 / 25" in html
    assert "Checked the file as last saved" in html
    assert plain.startswith("09_training: training_dev.ipynb")


def test_without_a_session_name_it_asks_for_the_path(monkeypatch, tmp_path):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("GRADER_SELF_CHECK", raising=False)
    monkeypatch.chdir(tmp_path)
    result = check()
    assert isinstance(result, SelfCheck) and not result.passed
    assert result.error == ASK_FOR_PATH
    assert 'grader.check("training_dev.ipynb")' in result._repr_html_().replace("&quot;", '"')
    assert "Pass its path" in repr(result)


def test_inside_a_check_every_entry_point_is_a_no_op(monkeypatch, tmp_path):
    import subprocess
    monkeypatch.setenv("GRADER_SELF_CHECK", "1")
    assert check(tmp_path / "does-not-exist.ipynb").note == SKIPPED
    proc = subprocess.run([str(BIN / "grader"), "check", str(tmp_path / "x.ipynb")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "skipped" in proc.stderr and proc.stdout == ""
