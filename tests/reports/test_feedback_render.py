"""Feedback pages as HTML text: what is shown, what is hidden, escaping, overrides."""
from __future__ import annotations

import re
from pathlib import Path

from grader.course import load_course
from grader.reports import feedback_path, render_feedback, write_feedback
from grader.result import ItemResult
from support.training_samples import MODULE, NOTEBOOK, training_result


def test_expected_values_only_with_show_expected(make_course) -> None:
    result = training_result("bob", "partial")
    hidden = render_feedback(load_course(make_course()), result)
    shown = render_feedback(load_course(make_course(show_expected=True, name="shown")), result)
    # 3.814697265625 (reference) vs 4.0 (bob's)
    assert "3.8147" not in hidden and "171603" not in hidden and ">expected<" not in hidden
    assert "3.8147" in shown and "171603" in shown and ">expected<" in shown
    for page in (hidden, shown):
        assert "16.67" in page and "/ 40 points" in page
        assert "Partly correct" in page and "✗ differs" in page


def test_page_is_self_contained(make_course) -> None:
    html = render_feedback(load_course(make_course()), training_result("bob", "partial"))
    assert "<style>" in html and "<script" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_student_text_is_escaped(make_course) -> None:
    result = training_result("bob", "partial")
    result["items"][0]["message"] = "<script>alert('x')</script> & <b>bold</b>"
    result["items"][1]["fields"][0]["got"] = "</td><img src=x>"
    html = render_feedback(load_course(make_course()), result)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x>" not in html


def test_late_manual_error_and_missing_variants(make_course) -> None:
    course = load_course(make_course())
    late = render_feedback(course, training_result("carol", "late"))
    assert "Late penalty: −8 points" in late and "1.5 days late" in late and "40 before the penalty" in late
    assert "Late penalty" not in render_feedback(course, training_result("alice"))

    manual = training_result("alice")
    manual["items"].append(ItemResult("training-reflection", "manual", 5.0, 0.0, "manual",
                                      "").to_json())
    html = render_feedback(course, manual)
    assert "Needs manual grading" in html and "– / 5" in html

    error = render_feedback(course, training_result("dave", "error"))
    # the harness gives the reason per item (a result has no message of its own)
    assert "could not be graded" in error and "grading failed: the kernel did not start" in error
    missing = training_result("erin", "missing")
    assert "No notebook was found" in render_feedback(course, missing)
    # a missing notebook's result names the notebook it expected (as the harness writes it)
    assert feedback_path(course, missing) == (course.feedback_dir / "erin" / MODULE
                                              / f"{Path(NOTEBOOK).stem}.html")


def test_write_feedback_path_and_course_override(make_course) -> None:
    root = make_course()
    course = load_course(root)
    path = write_feedback(course, training_result("alice"))
    assert path == root / "feedback" / "alice" / MODULE / f"{Path(NOTEBOOK).stem}.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # course/templates/ overrides the package's templates (here: the stylesheet)
    (root / "course" / "templates").mkdir()
    (root / "course" / "templates" / "style.css").write_text("body { color: rebeccapurple; }\n")
    html = render_feedback(course, training_result("alice"))
    assert "rebeccapurple" in html and "--accent" not in html
