"""The feedback page in a real headless Chromium: visible content, no network."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import load_course
from grader.reports import write_feedback
from training_samples import training_result
from browser_support import png_size

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
    assert "not enforced" in p.locator(".isolation").inner_text()
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
