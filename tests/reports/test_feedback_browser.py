"""The feedback page in a real headless Chromium: visible content, no network."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import load_course
from grader.reports import write_feedback
from support.training_samples import training_result
from browser_support import OVERFLOW_JS, assert_fits_phone, png_size

pytestmark = pytest.mark.browser


def open_feedback(page, course_root: Path, result: dict) -> Path:
    path = write_feedback(load_course(course_root), result)
    page.page.goto(path.as_uri())
    return path


def test_feedback_page_in_browser(page, make_course, tmp_path: Path) -> None:
    root = make_course()
    open_feedback(page, root, training_result("bob", "partial"))
    p = page.page
    assert p.title().startswith("Training feedback")
    score = p.get_by_test_id("score")
    assert score.is_visible() and score.inner_text().split() == ["16.67", "/", "40", "points"]
    items = p.locator("article.item")
    assert items.count() == 4
    statuses = {items.nth(n).get_attribute("data-item"): items.nth(n).get_by_test_id("item-status").inner_text()
                for n in range(4)}
    assert statuses == {"test-training-comprehensive": "Failed", "training-batch-size": "Partly correct",
                        "training-convergence": "Passed", "training-throughput": "Passed"}
    batch = p.locator('[data-item="training-batch-size"]')
    assert batch.get_by_test_id("item-points").inner_text() == "1.67 / 5"
    assert batch.locator("thead th").all_inner_texts() == ["KEY", "YOUR VALUE", "MATCH"]
    row = batch.locator("tbody tr").first
    assert row.locator("td").all_inner_texts()[:3] == ["model_memory_mb", "4.0", "✗ differs"]
    assert "3.8147" not in p.locator("body").inner_text()
    # the traceback is folded away until asked for
    failing = p.locator('[data-item="test-training-comprehensive"]')
    trace = failing.locator("details pre")
    assert not trace.is_visible()
    failing.locator("summary").click()
    assert trace.is_visible() and "AssertionError" in trace.inner_text()
    assert p.locator("table.unit-tests tbody tr").count() == 2
    assert p.locator('[data-notice="tampered"]').is_visible()
    isolation = p.locator(".isolation")
    assert "apart from everyone else's work" in isolation.inner_text()
    assert "no network" in isolation.locator('[data-guarantee="no_network"]').inner_text()
    assert "not here" in isolation.locator('[data-guarantee="unprivileged_uid"]').inner_text()
    assert "userns" not in isolation.inner_text()           # folded into "technical details"
    assert page.foreign_requests() == []
    assert all(url.startswith("file://") for url in page.requests)

    shot = tmp_path / "screenshots" / "feedback.png"
    shot.parent.mkdir()
    p.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1100 and 1200 < height < 6000
    assert 30_000 < shot.stat().st_size < 5_000_000


def test_feedback_shows_expected_when_the_course_allows(page, make_course) -> None:
    root = make_course(show_expected=True)
    open_feedback(page, root, training_result("bob", "partial"))
    batch = page.page.locator('[data-item="training-batch-size"]')
    assert batch.locator("thead th").all_inner_texts() == ["KEY", "YOUR VALUE", "EXPECTED", "MATCH"]
    cells = batch.locator("tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["model_memory_mb", "4.0", "3.8147", "✗ differs"]
    assert page.foreign_requests() == []


def test_late_penalty_is_visible(page, make_course) -> None:
    open_feedback(page, make_course(), training_result("carol", "late"))
    penalty = page.page.get_by_test_id("late-penalty")
    assert penalty.is_visible()
    assert "−8 points" in penalty.inner_text() and "1.5 days late" in penalty.inner_text()
    assert page.page.get_by_test_id("score").inner_text().startswith("32")


def long_result() -> dict:
    """Bob's partial result plus everything that widened pages: long ids, unbroken
    messages and values, a real traceback through the student's cells, notices."""
    result = training_result("bob", "partial")
    path = "/home/student/" + "very_long_folder_name_" * 6 + "training_dev.ipynb"
    result["items"][0].update(
        id="test-training-comprehensive-with-a-rather-long-grade-id-for-phones",
        message=f"FileNotFoundError: {path} — in cell 12 ('trainer-class'), line 3 (fit)",
        traceback=["Traceback (most recent call last):",
                   '  File "<setup:test-training-comprehensive>", line 14, in test_module_training',
                   "    loss = mse(y_pred, y_true)",
                   '  File "<cell:mse-loss>", line 53, in __call__',
                   "    raise NotImplementedError()",
                   "NotImplementedError"])
    result["items"][1]["fields"].append({"key": "a_really_long_key_name_" * 3, "ok": False,
                                         "got": list(range(60)), "expected": [0]})
    result["unit_tests"].append({"name": "test_unit_" + "binary_crossentropy_" * 4, "status": "error",
                                 "message": "ValueError: " + "x" * 150})
    result["notices"] += [
        {"kind": "renamed", "cell": None, "message": f"expected training_dev.ipynb but found {path}"},
        {"kind": "isolation", "cell": None,
         "message": "isolation mode rlimits: not guaranteed: private_filesystem, unprivileged_uid. "
                    "no user namespaces (uid 1000)"}]
    return result


@pytest.mark.parametrize("variant", ["full", "partial", "crashed", "late", "error", "missing", "long"])
def test_feedback_fits_a_phone(phone, make_course, tmp_path: Path, variant: str) -> None:
    result = long_result() if variant == "long" else training_result("bob", variant)
    open_feedback(phone, make_course(), result)
    p = phone.page
    assert_fits_phone(p, tmp_path / "screenshots" / f"feedback-{variant}-390.png")
    text = p.locator("body").inner_text()
    assert "source line" not in text and "<cell:" not in text
    notices = p.locator("#notices")
    if result["notices"]:
        # notices come right after the score, above the graded items
        first_item = p.locator("article.item").first
        assert notices.bounding_box()["y"] < first_item.bounding_box()["y"]
    else:
        assert notices.count() == 0
    assert page_fits_desktop(p) is True


def page_fits_desktop(p) -> bool:
    p.set_viewport_size({"width": 1100, "height": 900})
    fits = p.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    return fits or p.evaluate(OVERFLOW_JS)


def test_traceback_names_the_students_cells_and_plain_isolation(phone, make_course) -> None:
    open_feedback(phone, make_course(), long_result())
    p = phone.page
    failing = p.locator("article.item").first
    assert failing.locator("summary").inner_text() == "Traceback (where it failed in your notebook)"
    failing.locator("summary").click()
    trace = failing.locator("pre").inner_text()
    assert "Cell 'mse-loss', line 53, in __call__" in trace
    assert "The test code of cell 'test-training-comprehensive', line 14" in trace
    assert "<cell:" not in trace and "<setup:" not in trace
    # the engine's isolation notice speaks of uids; the student reads what it means
    isolation = p.locator('#notices [data-notice="isolation"]').inner_text()
    assert "uid" not in isolation and "does not change your score" in isolation
    box = p.locator(".isolation")
    assert "namespace" not in box.inner_text().lower(), box.inner_text()
    assert box.locator('[data-guarantee="private_filesystem"]').inner_text().endswith(
        "It saw only a private copy of your submission folder, never the course's solutions "
        "or other students' work.")
