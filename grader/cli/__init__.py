"""The `grader` command line: a thin click layer over keyword-only entry points.

Each subcommand lives in its own module here and is registered below in the
order `grader --help` lists them.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
from importlib import import_module
from pathlib import Path
from typing import NoReturn

# jsonschema (imported by nbformat) loads the optional `rfc3987_syntax` for its "iri"
# format check, which builds a grammar at import: ~2 s of every command's start-up; and
# `isoduration` (with `arrow`) for "duration", ~20 ms. Notebook validation never checks
# formats, and nothing else imports them, so the CLI declines both imports.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
sys.modules.setdefault("isoduration", None)  # type: ignore[arg-type]

import click  # noqa: E402

from grader.errors import GraderError, SourceProblems  # noqa: E402

# command name -> (module in grader.cli, click command attribute), in pipeline order.
COMMANDS = {
    "init": ("init", "init"),
    "lint": ("lint", "lint"),
    "build": ("build", "build"),
    "release": ("release", "release"),
    "check": ("check", "check"),
    "autograde": ("autograde", "autograde"),
    "validate": ("validate", "validate"),
    "formgrade": ("formgrade", "formgrade"),
    "manual": ("manual", "manual"),
    "status": ("grades", "status"),
    "export": ("export", "export"),
    "report": ("grades", "report"),
    "mutants": ("mutants", "mutants"),
    "similarity": ("similarity", "similarity"),
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when it is used (keeps `--help` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(import_module(f"grader.cli.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
# cluster workers must run the coordinator's version: `grader --version` on each says which
@click.version_option(package_name="grader", prog_name="grader", message="%(prog)s %(version)s")
@click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Course root (holds course/course.toml).")
@click.pass_context
def cli(ctx: click.Context, course_dir: Path) -> None:
    """Autograde notebook courses: lint, release, check, autograde, validate, report."""
    ctx.obj = course_dir.resolve()


def _one_malloc_arena() -> None:
    """glibc gives each thread that allocates its own malloc arena; the batch's worker
    threads (which hold the GIL anyway) then leave memory scattered over several, ~5 MB
    more resident. One arena is enough for threads that take turns. No-op elsewhere."""
    import ctypes
    try:
        ctypes.CDLL(None).mallopt(ctypes.c_int(-8), ctypes.c_int(1))   # M_ARENA_MAX
    except (AttributeError, OSError):
        pass


def main() -> None:
    _one_malloc_arena()   # before any thread starts
    try:
        code = _run()
    except SystemExit as exc:
        code = exc.code
    _exit(code)


def _run() -> int:
    """The command's exit status (its errors printed as the user should see them)."""
    try:
        # standalone_mode=False returns ctx.exit()'s code instead of exiting.
        code = cli.main(standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except SourceProblems as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"grader: error: {exc.summary}", err=True)
        return 2
    except GraderError as exc:
        click.echo(f"grader: error: {exc}", err=True)
        return 2


def _exit(code: object) -> NoReturn:
    """Exit as Python does, without tearing the interpreter down object by object
    (~0.1 s after a batch, a tenth of `grader check`): the atexit handlers run and the
    standard streams are flushed, as at any exit; the commands close their own files,
    databases and engines before they return. With another thread still running (or
    an exit message), a normal exit, which waits for it."""
    if threading.active_count() == 1 and (code is None or isinstance(code, int)):
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                code = code or 1   # as Python's own exit when stdout cannot be flushed
        os._exit(code or 0)
    sys.exit(code)
