"""The `grader lint` entry point behind the click command: find sources, lint, report."""
from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from grader.errors import ConfigError, GraderError
from grader.lint.fix import fix_file
from grader.lint.problems import Problem
from grader.lint.scan import UnreadableSource

SOURCE_SUFFIXES = (".py", ".ipynb")


def find_sources(*, course: Path, targets: Sequence[str]) -> list[Path]:
    """Files named by `targets` (MODULE names under course/source/, or paths).

    No targets means every source of every module. Raises ConfigError for a
    target that is neither an existing path nor a module, or a course with no source/.
    """
    source_root = course / "source"
    if not targets:
        if not source_root.is_dir():
            raise ConfigError(f"no source/ folder in {course}; name the modules or files to lint")
        return [path for module in sorted(source_root.iterdir()) if module.is_dir()
                for path in _sources_in(_shown(module))]
    paths: list[Path] = []
    for target in targets:
        given, module = Path(target), source_root / target
        if given.is_file():
            paths.append(given)
        elif given.is_dir():
            paths.extend(_sources_in(given))
        elif module.is_dir():
            paths.extend(_sources_in(_shown(module)))
        else:
            raise ConfigError(f"{target!r} is neither a file nor a module in {source_root}")
    return paths


def _sources_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and path.suffix in SOURCE_SUFFIXES and not path.name.startswith("."))


def _shown(path: Path) -> Path:
    """`path` relative to the working directory when it is below it (shorter messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def main(*, paths: Sequence[Path], fix: bool = False, out: TextIO | None = None,
         err: TextIO | None = None, color: bool | None = None) -> int:
    """Lint `paths` (after `--fix` when asked); print problems and a summary. Returns the exit status."""
    from grader.lint import lint_file

    out, err = out or sys.stdout, err or sys.stderr
    if fix:
        for path in paths:
            if path.suffix == ".ipynb":
                print(f"{path}: --fix leaves notebooks alone; fix the .py source", file=err)
                continue
            try:
                count = fix_file(path)
            except (UnreadableSource, OSError) as exc:
                print(f"{path}: not fixed: {exc}", file=err)
                continue
            if count:
                print(f"{path}: fixed metadata on {count} cell header{_s(count)}", file=err)
    problems = [found for path in paths for found in lint_file(path)]
    _print_problems(problems, out, out.isatty() if color is None else color)
    print(summary(problems, len(paths)), file=err)
    return 1 if any(p.is_error for p in problems) else 0


def summary(problems: Sequence[Problem], files: int) -> str:
    """`N errors, M warnings in K files` (K = files with problems) or `K files clean`."""
    if not problems:
        return f"{files} file{_s(files)} clean"
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    with_problems = len({p.path for p in problems})
    return (f"{errors} error{_s(errors)}, {warnings} warning{_s(warnings)} "
            f"in {with_problems} file{_s(with_problems)}")


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _print_problems(problems: Sequence[Problem], out: TextIO, color: bool) -> None:
    if not color:
        for found in problems:
            print(found.format(), file=out)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True, force_terminal=True)
    for found in problems:
        text = found.format()
        head = f"{found.path}:{found.line}:"
        styled = Text(text)
        styled.stylize("bold", 0, len(head))
        start = len(head) + 1
        styled.stylize("bold red" if found.is_error else "yellow", start, start + len(found.severity))
        console.print(styled)


def _errors(course: Path, path: Path) -> list[Problem]:
    """The source's lint errors; none, without linting, if this exact text linted clean
    before (build/lint, grader/cache.py). A clean result is remembered."""
    from grader import cache
    from grader.lint import lint_file
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    folder = _build_dir(course) / "lint"
    name = (f"{path.stem}-{cache.key(str(path.resolve()), hashlib.sha256(data).hexdigest())}"
            if data is not None else None)
    if name is not None and cache.read(folder, name) is not None:
        return []
    errors = [found for found in lint_file(path) if found.is_error]
    if name is not None and not errors:
        cache.write(folder, name, "clean", replaces=f"{path.stem}-")
    return errors


def _build_dir(course: Path) -> Path:
    from grader.course import COURSE_FILE, load_course
    try:
        return load_course(course).build_dir if (course / COURSE_FILE).is_file() else course / "build"
    except GraderError:
        return course / "build"


def refuse_on_errors(*, course: Path, module_ids: Sequence[str], command: str) -> None:
    """Lint every source of `module_ids` and raise SourceProblems on any error.

    `grader release` and `grader autograde` call this before they write anything: a
    misspelled marker would publish a solution, a duplicate grade_id would mix up
    two items. Warnings do not stop them.
    """
    from grader.errors import SourceProblems

    # the modules' folders by path: a same-named folder in the working directory (a
    # student's submitted/NAME/MODULE) must not be linted instead
    paths = []
    for module_id in module_ids:
        folder = course / "source" / module_id
        if not folder.is_dir():
            raise ConfigError(f"module {module_id!r} has no folder {folder}")
        paths += _sources_in(_shown(folder))
    errors = [found for path in paths for found in _errors(course, path)]
    if errors:
        files = len({found.path for found in errors})
        raise SourceProblems(
            f"{command} refused: {len(errors)} lint error{_s(len(errors))} in {files} "
            f"source{_s(files)}; fix {'it' if len(errors) == 1 else 'them'} "
            f"(`grader lint {' '.join(module_ids)}`) and run `grader {command}` again",
            [found.format() for found in errors])
