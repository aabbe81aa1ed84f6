"""course/extensions.csv: per-student deadlines used by the late policy, shown in the
result, the feedback page and the exports; bad rows are extensions.csv:LINE errors."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

from grader.autograde.batch import late_checker
from grader.course import load_course
from grader.errors import ConfigError
from grader.extensions import load_extensions
from grader.synth import release_of, solved, write_submission
from support.scale_course import write_scale_course

GRADER = Path(sys.executable).parent / "grader"
HEADER = "student,module,due,days,reason\n"


def write_extensions(root: Path, text: str) -> Path:
    path = root / "course" / "extensions.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_give_a_new_due_date_or_extra_days(course_dir: Path) -> None:
    write_extensions(course_dir, HEADER + "alice,09_training,,3,illness\n"
                                          "bob,09_training,2026-11-12,,travel\n"
                                          "carol,01_tensor,2026-09-20T12:00:00+02:00,,\n")
    found = load_extensions(load_course(course_dir))
    assert found[("alice", "09_training")].due == datetime(2026, 11, 12, 23, 59, tzinfo=timezone.utc)
    assert found[("alice", "09_training")].reason == "illness"
    # a date alone is the end of that day (in the course's timezone, UTC here)
    assert found[("bob", "09_training")].due == datetime(2026, 11, 12, 23, 59, tzinfo=timezone.utc)
    assert found[("carol", "01_tensor")].due == datetime(2026, 9, 20, 10, 0, tzinfo=timezone.utc)
    assert found[("carol", "01_tensor")].line == 4


@pytest.mark.parametrize("row, message", [
    ("alice,09_training,2026-11-12,2,x", "give either a new due date (due) or extra days (days), not both"),
    ("alice,09_training,,,x", "give either a new due date (due) or extra days (days), not neither"),
    ("alice,09_trainig,,2,x", "module '09_trainig' is not in course.toml (did you mean '09_training'?)"),
    ("alcie,09_training,,2,x", "student 'alcie' is not in roster.csv and has no submissions "
                               "(did you mean 'alice'?)"),
    ("alice,09_training,someday,,x", "due: not a timestamp: 'someday'"),
    ("alice,09_training,,-1,x", "days must be more than 0, not -1"),
    ("alice,09_training,,two,x", "days must be a number, not 'two'"),
    ("alice,09_training,2026-11-01,,x", "due 2026-11-01 23:59 UTC is not after the module's "
                                        "due date 2026-11-09 23:59 UTC"),
])
def test_bad_rows_are_file_line_errors(course_dir: Path, row: str, message: str) -> None:
    path = write_extensions(course_dir, HEADER + "bob,09_training,,1,ok\n" + row + "\n")
    with pytest.raises(ConfigError) as info:
        load_extensions(load_course(course_dir))
    assert str(info.value).startswith(f"{path}:3: ") and message in str(info.value)


def test_duplicate_and_headerless_files(course_dir: Path) -> None:
    path = write_extensions(course_dir, HEADER + "bob,09_training,,1,\nbob,09_training,,2,\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: a second extension for bob in "
                                          r"09_training \(the first is on line 2\)"):
        load_extensions(load_course(course_dir))
    write_extensions(course_dir, "alice,09_training,,2,x\n")
    with pytest.raises(ConfigError, match=r"extensions.csv:1: needs a header row"):
        load_extensions(load_course(course_dir))


def test_late_policy_counts_from_the_extended_due_date(course_dir: Path) -> None:
    write_extensions(course_dir, HEADER + "alice,09_training,,2,illness\n")
    course = load_course(course_dir)
    check = late_checker(course, "09_training")
    for student in ("alice", "bob"):
        folder = course_dir / "submitted" / student / "09_training"
        (folder / "timestamp.txt").write_text("2026-11-11 11:59:00.000000 UTC\n")  # +1.5 days
    _, days, fraction, notice = check(course_dir / "submitted" / "alice" / "09_training")
    assert (days, fraction) == (0.0, 0.0)
    assert notice == ("extension: due 2026-11-11 23:59 UTC instead of 2026-11-09 23:59 UTC; "
                      "lateness is counted from then")
    _, days, fraction, notice = check(course_dir / "submitted" / "bob" / "09_training")
    assert fraction == pytest.approx(0.20) and notice is None


def test_autograde_feedback_and_export_with_an_extension(tmp_path: Path) -> None:
    """The real batch: a late submission is penalised; an extension granted afterwards
    makes the next run grade it again (no --force), without the penalty, and says so."""
    root = write_scale_course(tmp_path / "course",
                              extra_toml="\n[late]\npenalty_per_day = 0.25\nmax_penalty = 1.0\n")
    (root / "course" / "roster.csv").write_text("id,name,email\nzoe,Zoe Z,z@x\n")
    course = load_course(root)
    module, release = release_of(course, "01_scale")
    write_submission(root, "zoe", "01_scale", solved(module, release), name=module.notebook_name,
                     submitted_at=datetime(2026, 9, 15, 12, 0, tzinfo=timezone.utc))  # 0.5 d late

    def autograde() -> dict:
        run = subprocess.run([str(GRADER), "--course", str(root), "autograde", "01_scale"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        return json.loads((root / "autograded" / "zoe" / "01_scale" / "result.json").read_text())

    first = autograde()
    assert first["late_penalty"] == 1.25 and first["score"] == 3.75      # 25% of 5 points
    write_extensions(root, HEADER + "zoe,01_scale,,1,family emergency\n")
    second = autograde()
    assert second["late_penalty"] == 0.0 and second["score"] == 5.0 and second["days_late"] == 0.0
    [notice] = [n for n in second["notices"] if n["kind"] == "late"]
    assert notice["message"].startswith("extension: due 2026-09-15 23:59 UTC instead of "
                                        "2026-09-14 23:59 UTC")
    page = (root / "feedback" / "zoe" / "01_scale" / "scale_dev.html").read_text()
    assert "extension: due 2026-09-15 23:59 UTC" in page
    assert "family emergency" not in page           # the reason stays with the instructor
    run = subprocess.run([str(GRADER), "--course", str(root), "export"], capture_output=True,
                         text=True, timeout=120)
    [row] = list(csv.DictReader(io.StringIO(run.stdout)))
    assert row["extensions"] == ("01_scale: extension: due 2026-09-15 23:59 UTC instead of "
                                 "2026-09-14 23:59 UTC")
    # a broken extensions.csv stops the batch before anything is graded
    write_extensions(root, HEADER + "zoe,01_scale,,,\n")
    run = subprocess.run([str(GRADER), "--course", str(root), "autograde", "01_scale"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "extensions.csv:2: give either" in run.stderr


def test_due_for_a_student(course_dir: Path) -> None:
    from grader.extensions import due_for
    write_extensions(course_dir, HEADER + "alice,09_training,,0.5,\n")
    course = load_course(course_dir)
    assert due_for(course, "09_training", "alice") == datetime(2026, 11, 10, 11, 59,
                                                               tzinfo=timezone.utc)
    assert due_for(course, "09_training", "bob") == course.module("09_training").due


def test_manual_grades_keep_the_extended_due_date(course_dir: Path) -> None:
    """Applying a manual grade works the late penalty out again: from the student's
    extended due date, not the module's."""
    from grader.gradebook.manual import Grade, apply_manual
    from support.training_samples import training_record
    write_extensions(course_dir, HEADER + "carol,09_training,,2,illness\n")
    result = training_record("carol", "full")
    result.submitted_at = "2026-11-11T12:00:00+00:00"      # 1.5 days after the due date
    item = result.items[0]
    grade = Grade("carol", "09_training", result.notebook, item.id, item.points,
                  reason="checked by hand")
    graded = apply_manual(result, {("carol", result.notebook, item.id): grade},
                          load_course(course_dir))
    assert graded.late_penalty == 0.0 and graded.score == result.max_score
    # without the extension the same grade costs two started days
    (course_dir / "course" / "extensions.csv").unlink()
    graded = apply_manual(result, {("carol", result.notebook, item.id): grade},
                          load_course(course_dir))
    assert graded.late_penalty == 0.2 * result.max_score
