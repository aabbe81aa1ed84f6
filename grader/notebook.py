"""The self-check from inside Jupyter: `grader.check()` and the `%grader check` magic.

Both check the notebook's *saved* file exactly as `grader check PATH` does (same
sandbox, same report) and return a `SelfCheck` that Jupyter shows as HTML and a
terminal as plain text.

Which notebook: the path given, else the one the kernel runs for. jupyter_server
starts each kernel with `JPY_SESSION_NAME` (the notebook's path) and ipykernel
copies it into the user namespace as `__session__`; VS Code sets
`__vsc_ipynb_file__`. Without any of them the check asks for the path.

No recursion: `grader check` runs a guard cell first in its sandbox that sets
`GRADER_SELF_CHECK=1` in the sandbox's environment. While it is set,
`grader.check()` and `%grader check` return a note instead of checking, and the
`grader check` command (so `!grader check`) exits 0 at once; the variable is
inherited by every process the checked notebook starts.
"""
from __future__ import annotations

import html
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.self_check_guard import GUARD_ENV, inside_self_check

if TYPE_CHECKING:          # the module itself imports the standard library only
    from grader.result import Result

SKIPPED = ("skipped: this notebook is being self-checked right now, and a check inside "
           "the check would run it again")
ASK_FOR_PATH = ("grader.check() could not tell which notebook this kernel runs (no "
                "JPY_SESSION_NAME / __session__). Pass its path, e.g. "
                "grader.check(\"training_dev.ipynb\") or %grader check training_dev.ipynb")


class SelfCheck:
    """The result of a self-check as shown in a notebook (`_repr_html_`) or a terminal."""

    def __init__(self, result: Result | None = None, *, path: Path | None = None,
                 note: str = "", error: str = "") -> None:
        self.result, self.path, self.note, self.error = result, path, note, error

    @property
    def record(self) -> dict[str, Any] | None:
        """The self-check as JSON (what `grader check --json` prints)."""
        return self.result.to_json() if self.result is not None else None

    @property
    def passed(self) -> bool:
        """Every visible test and unit test passed (what `grader check` exits 0 on)."""
        from grader.reports.check_view import passed_everything
        return self.result is not None and passed_everything(self.result)

    def _checked(self) -> str:
        if self.path is None:
            return ""
        try:
            saved = datetime.fromtimestamp(self.path.stat().st_mtime).strftime("%H:%M:%S")
        except OSError:
            return f"Checked the saved file {self.path}."
        return (f"Checked the file as last saved ({saved}): save the notebook first to "
                "include newer edits.")

    def __repr__(self) -> str:
        if self.result is None:
            return f"grader check: {self.error or self.note}"
        from grader.reports.check_view import render_text
        width = shutil.get_terminal_size((88, 24)).columns
        return render_text(self.result, width=width) + ("\n" + self._checked() if self.path else "")

    def _repr_html_(self) -> str:
        if self.result is None:
            colour = "#9b2c2c" if self.error else "#616e7c"
            return (f'<div class="grader-check" style="border-left:4px solid {colour};'
                    f'padding:.4rem .8rem;color:{colour}">grader check: '
                    f"{html.escape(self.error or self.note)}</div>")
        from grader.reports.check_view import render_html
        return render_html(self.result, checked=self._checked())


def _namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def running_notebook() -> Path | None:
    """The saved notebook this kernel runs for, if Jupyter (or VS Code) said which."""
    namespace = _namespace()
    candidates = [namespace.get("__vsc_ipynb_file__"), namespace.get("__session__"),
                  os.environ.get("JPY_SESSION_NAME")]
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.endswith(".ipynb"):
            continue
        path = Path(candidate).expanduser()
        # absolute, or relative to the server root; the kernel runs in the notebook's folder
        for option in (path, Path.cwd() / path, Path.cwd() / path.name):
            if option.is_file():
                return option.resolve()
    return None


def check(notebook: str | os.PathLike[str] | None = None, *, timeout: float | None = None,
          course: str | os.PathLike[str] | None = None) -> SelfCheck:
    """Self-check the saved notebook (this one by default) as `grader check` would.

    `course` is the course folder, as `grader --course` (default: the working
    directory); `timeout` is seconds per cell. Returns a SelfCheck: shown as HTML in
    a notebook, as text in a terminal; `.passed` and `.record` for code.
    """
    if inside_self_check():
        return SelfCheck(note=SKIPPED)
    path = Path(notebook).expanduser().resolve() if notebook is not None else running_notebook()
    if path is None:
        return SelfCheck(error=ASK_FOR_PATH)
    from grader.check import check_notebook
    from grader.errors import GraderError
    try:
        report = check_notebook(path, course_root=Path(course or Path.cwd()).resolve(),
                                timeout_s=timeout)
    except GraderError as exc:
        return SelfCheck(path=path, error=str(exc))
    return SelfCheck(report.result, path=path)


def grader_magic(line: str) -> SelfCheck | None:
    """%grader check [NOTEBOOK] [--timeout S]"""
    words = line.split()
    if not words or words[0] != "check":
        print("usage: %grader check [NOTEBOOK.ipynb] [--timeout SECONDS]")
        return None
    words = words[1:]
    timeout = None
    if "--timeout" in words:
        at = words.index("--timeout")
        try:
            timeout = float(words[at + 1])
        except (IndexError, ValueError):
            print("usage: %grader check [NOTEBOOK.ipynb] [--timeout SECONDS]")
            return None
        del words[at:at + 2]
    notebook = " ".join(words).strip("'\"") or None
    return check(notebook, timeout=timeout)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext grader` registers the `%grader` line magic."""
    ipython.register_magic_function(grader_magic, magic_kind="line", magic_name="grader")
