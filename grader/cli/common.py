"""Small helpers the subcommands share: the course, the consoles, module arguments."""
from __future__ import annotations

import sys

import click
from rich.console import Console

from grader.course import Course, load_course

# Machine-readable output goes to stdout alone; logs, progress and warnings to stderr.
# Piped output (logs, CI) gets a wide fixed width so tables do not fold names.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def course_of(ctx: click.Context) -> Course:
    return load_course(ctx.find_root().obj)


def module_ids(course: Course, given: tuple[str, ...]) -> list[str]:
    """Validate MODULE arguments (folder names) against course.toml; none means all."""
    for module_id in given:
        course.module(module_id)
    return list(given) or [m.id for m in course.modules]
