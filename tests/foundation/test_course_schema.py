"""course.toml is checked completely: unknown sections and keys, numbers out of range and
per-item tables for unknown modules are errors at `course.toml:LINE`, on the demo's own
course.toml edited in a temp copy and through the real `grader` command."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import load_course
from grader.course_schema import TomlLines
from grader.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "course", tmp_path / "course")
    return tmp_path


def edit(root: Path, old: str, new: str) -> int:
    """Replace `old` (unique) in course.toml; the line where `new` starts."""
    path = root / "course" / "course.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text[:text.index(new)].count("\n") + 1


def append(root: Path, text: str) -> int:
    """Append `text` to course.toml; the line of its first non-blank line."""
    path = root / "course" / "course.toml"
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    lead = len(text) - len(text.lstrip("\n"))
    return before.count("\n") + lead + 1


def error_of(root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_course(root)
    return str(info.value)


@pytest.mark.parametrize("old,new,needle", [
    ("[late]", "[lateness]", "unknown section [lateness] (did you mean 'late'?)"),
    ("[policy]", "[policies]", "unknown section [policies] (did you mean 'policy'?)"),
    ('framework = "tinytorch"', 'frameworks = "tinytorch"',
     "[course] has unknown key(s) frameworks (did you mean 'framework'?)"),
    ("penalty_per_day = 0.10", "penalty_per_day = 10",
     "[late] penalty_per_day = 10 is out of range: a fraction of the max score per started "
     "day, from 0 to 1"),
    ("max_penalty = 0.50", "max_penalty = 1.5", "[late] max_penalty = 1.5 is out of range"),
    ("max_penalty = 0.50", "max_penalty = -0.5", "[late] max_penalty = -0.5 is out of range"),
    ("grace_minutes = 15", "grace_minutes = -15", "[late] grace_minutes = -15 is out of range"),
    ("rel_tol = 1e-3", "rel_tol = -1", "[assessment] rel_tol = -1 is out of range: a relative "
                                        "tolerance, 0 or more"),
    ("abs_tol = 1e-9", "abs_tol = nan", "[assessment] abs_tol = nan is out of range"),
    ("cell_timeout_s = 30", "cell_timeout_s = 0", "[policy] cell_timeout_s = 0 is out of range: "
                                                  "seconds, more than 0"),
    ("item_timeout_s = 60", "item_timeout_s = -1", "[policy] item_timeout_s = -1 is out of range"),
    ("memory_mb = 2048", "memory_mb = 0", "[policy] memory_mb = 0 is out of range"),
    ('id = "09_training"\n', 'id = "09_training"\ncolour = "red"\n',
     "[[modules]] 09_training: has unknown key(s) colour"),
])
def test_mistakes_name_the_line(course_dir, old, new, needle):
    line = edit(course_dir, old, new)
    if "\n" in new:
        line += 1  # the added key is on the second line of `new`
    message = error_of(course_dir)
    assert needle in message
    assert f"course.toml:{line}: " in message


@pytest.mark.parametrize("table,needle,offset", [
    ('\n[items."09_training"."training-batch-size"]\nrel_tol = -0.1\n',
     '[items.09_training.training-batch-size] rel_tol = -0.1 is out of range', 1),
    ('\n[items."09_training"."training-batch-size"]\nrel_tolerance = 0.1\n',
     "[items.09_training.training-batch-size] has unknown key(s) rel_tolerance "
     "(did you mean 'rel_tol'?)", 1),
    ('\n[items."09_trainin"."training-batch-size"]\nrel_tol = 0.1\n',
     "[items.09_trainin] names a module not in [[modules]] (did you mean '09_training'?)", 0),
    ('\n[items."09_training"]\nrel_tol = 0.1\n',
     "[items.09_training.rel_tol] is not a table: per-item settings go in "
     '[items."09_training"."GRADE_ID"]', 1),
])
def test_per_item_tables_are_checked(course_dir, table, needle, offset):
    line = append(course_dir, table)
    message = error_of(course_dir)
    assert needle in message
    assert f"course.toml:{line + offset}: " in message


def test_a_valid_per_item_table_loads(course_dir):
    append(course_dir, '\n[items."09_training"."training-batch-size"]\nrel_tol = 0.05\n'
                       'all_or_nothing = true\n')
    course = load_course(course_dir)
    assert course.tolerance_for("09_training", "training-batch-size").rel_tol == 0.05
    assert course.late.penalty_per_day == 0.10


def test_toml_lines_knows_headers_keys_and_module_tables():
    lines = TomlLines('[course]\nid = "x"\n\n[[modules]]\nid = "a"\n[[modules]]\nid = "b"\n'
                      'due = "2026-01-01"\n[items."b".\'q-1\']\nrel_tol = 0.1\n'
                      "[items.b]\nq2 = { abs_tol = 1 }\n")
    assert lines.line("course", "id") == 2
    assert lines.line("modules", 1, "due") == 8
    assert lines.line("modules", 0) == 4
    assert lines.line("items", "b", "q-1", "rel_tol") == 10
    assert lines.line("items", "b", "q2") == 12
    assert lines.line("nowhere") is None


def test_the_command_line_reports_the_mistake_and_exits_2(course_dir):
    line = edit(course_dir, "[late]", "[lateness]")
    proc = subprocess.run([str(GRADER), "--course", str(course_dir), "status"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"grader: error: {course_dir}/course/course.toml:{line}: unknown section [lateness] "
        "(did you mean 'late'?); known: [course], [policy], [assessment], [late], [database], "
        "[mutants], [modules], [items]")
