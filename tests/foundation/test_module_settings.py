"""load_module takes the module's course.toml settings from the course it is given,
without reading course.toml again (export builds load every module per build)."""
from __future__ import annotations

from pathlib import Path

import grader.course
from grader.course import load_course
from grader.module import load_module

ROOT = Path(__file__).resolve().parents[2]
MODULE = "09_training"


def test_load_module_uses_the_course_it_is_given(monkeypatch):
    course = load_course(ROOT)
    expected = load_module(ROOT, MODULE)                  # reads course.toml itself

    def read_again(*args, **kwargs):
        raise AssertionError("course.toml was read again")

    monkeypatch.setattr(grader.course, "load_course", read_again)
    module = load_module(ROOT, MODULE, course=course)
    assert module.skip_unit_tests == expected.skip_unit_tests == \
        course.module(MODULE).skip_unit_tests != ()
    assert [(i.id, i.kind) for i in module.items] == [(i.id, i.kind) for i in expected.items]
    assert any(i.kind == "assessment" for i in module.items)    # declared in course.toml
