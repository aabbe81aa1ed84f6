from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import err


@click.command()
@click.option("--from-nbgrader", "nbgrader_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The nbgrader course folder (holds source/, maybe gradebook.db).")
@click.option("--force", is_flag=True, help="Replace an existing course/course.toml.")
def init(nbgrader_dir: Path, force: bool) -> None:
    """Make an nbgrader course a grader course: write DIR/course/course.toml and
    DIR/course/roster.csv (assignments from source/, due dates and students from
    gradebook.db), touching none of nbgrader's files."""
    from grader.course import load_course
    from grader.from_nbgrader import init_from_nbgrader
    written = init_from_nbgrader(nbgrader_dir, force=force)
    course = load_course(nbgrader_dir)
    for path in written:
        err.print(f"wrote {path}")
    err.print(f"{len(course.modules)} assignment(s): {', '.join(m.id for m in course.modules)}; "
              f"{len(course.roster())} student(s). Next: grader --course {nbgrader_dir} "
              f"autograde {course.modules[0].id}")
