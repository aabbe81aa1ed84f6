"""Loading course/course.toml and roster.csv: clear errors naming the file, key, line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.course import load_course, load_roster
from grader.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "course", tmp_path / "course")
    return tmp_path


def write_toml(root: Path, text: str) -> None:
    (root / "course" / "course.toml").write_text(text, encoding="utf-8")


def test_demo_course_loads_nine_modules_in_order():
    course = load_course(ROOT)
    assert [m.id for m in course.modules][:2] == ["01_tensor", "02_activations"]
    assert course.modules[-1].id == "09_training"
    assert len(course.modules) == 9
    assert course.module("09_training").due.tzinfo is not None
    assert course.policy.memory_mb == 2048
    assert {s.id for s in course.roster()} >= {"alice", "bob", "frank"}


def test_missing_course_file_says_where_to_run(tmp_path):
    with pytest.raises(ConfigError, match="no course here.*course.toml"):
        load_course(tmp_path)


def test_malformed_toml_names_file_and_line(course_dir):
    write_toml(course_dir, '[course]\nid = "x"\n\n[[modules]\nid = "01"\n')
    with pytest.raises(ConfigError) as info:
        load_course(course_dir)
    assert "course.toml:4" in str(info.value)


@pytest.mark.parametrize("text,needle", [
    ('[course]\nid="x"\n', "no modules"),
    ('[course]\nid="x"\n[[modules]]\ntitle="t"\n', "has no `id`"),
    ('[course]\nid="x"\n[[modules]]\nid="a"\ndue="next tuesday"\n', "a.due"),
    ('[course]\nid="x"\n[[modules]]\nid="a"\ncolour="red"\n', "unknown key(s) colour"),
    ('[course]\nid="x"\n[policy]\nmemory_mb="lots"\n[[modules]]\nid="a"\n',
     "[policy] memory_mb must be int"),
    ('[course]\nid="x"\n[late]\nfine=1\n[[modules]]\nid="a"\n', "[late] has unknown key(s) fine"),
    ('[course]\nid="x"\n[[modules]]\nid="a"\n[[modules]]\nid="a"\n', "listed twice"),
    ('[course]\nid="x"\n[[modules]]\nid="a"\n[items.b.q]\nrel_tol=0.1\n', "[items.b]"),
])
def test_bad_configuration_names_the_key(course_dir, text, needle):
    write_toml(course_dir, text)
    with pytest.raises(ConfigError) as info:
        load_course(course_dir)
    assert needle in str(info.value)
    assert "course.toml" in str(info.value)


def test_item_overrides_fall_back_to_the_defaults(course_dir):
    write_toml(course_dir, '[course]\nid="x"\n[assessment]\nrel_tol=0.01\n[[modules]]\nid="a"\n'
                           '[items.a.q1]\nall_or_nothing=true\n')
    course = load_course(course_dir)
    assert course.tolerance_for("a", "q1").all_or_nothing is True
    assert course.tolerance_for("a", "q1").rel_tol == 0.01
    assert course.tolerance_for("a", "q2").all_or_nothing is False


@pytest.mark.parametrize("text,line,needle", [
    ("name,email\nA,a@x\n", 1, "`id` column"),
    ("id,name\nalice,A\n,B\n", 3, "empty student id"),
    ("id,name\nalice,A\nbob,B\nalice,C\n", 4, "listed twice (first on line 2)"),
])
def test_bad_roster_names_the_line(tmp_path, text, line, needle):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_roster(path)
    assert f"roster.csv:{line}:" in str(info.value)
    assert needle in str(info.value)
