"""reports/similarity/MODULE.html (`grader similarity`) in headless Chromium: the pair,
its matching lines side by side, the copy of the reference, at desktop and phone width."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import load_course
from grader.gradebook import open_gradebook
from grader.reports import build_dashboard
from grader.reports.similarity_page import write_similarity_page
from grader.similarity.run import run_similarity
from browser_support import assert_fits_phone
from support.stats_course import write_stats_course

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def similarity_page(tmp_path_factory) -> tuple[Path, Path]:
    root = write_stats_course(tmp_path_factory.mktemp("stats") / "course")
    course = load_course(root)
    return root, write_similarity_page(course, run_similarity(course, "01_stats").as_dict())


def test_similarity_page_shows_the_pair_side_by_side(page, similarity_page) -> None:
    root, path = similarity_page
    p = page.page
    p.goto(path.as_uri())
    rows = p.locator("tr[data-pair]")
    assert rows.count() == 1 and "Alice A · Bob B" in rows.first.inner_text()
    detail = p.locator('section[data-pair-detail="alice|bob"] [data-cell="stats-summary"]')
    left, right = detail.locator("pre").nth(0), detail.locator("pre").nth(1)
    assert any("total += x" in t for t in left.locator("mark").all_inner_texts())
    assert any("acc   +=   item" in t for t in right.locator("mark").all_inner_texts())
    # side by side on a desktop: the right column starts level with the left one
    assert abs(left.bounding_box()["y"] - right.bounding_box()["y"]) < 2
    assert left.bounding_box()["x"] < right.bounding_box()["x"]
    dave = p.locator('tr[data-reference="dave"]')
    assert "exact copy" in dave.inner_text()
    assert page.foreign_requests() == []

    course = load_course(root)
    with open_gradebook(course.db_url) as gradebook:
        dashboard = build_dashboard(course, gradebook)
    p.goto(dashboard.as_uri())
    p.locator("ul.tools a", has_text="similar solutions").click()
    assert p.url == path.as_uri()


def test_similarity_page_fits_a_phone(phone, similarity_page, tmp_path: Path) -> None:
    _, path = similarity_page
    phone.page.goto(path.as_uri())
    assert_fits_phone(phone.page, tmp_path / "screenshots" / "similarity-390.png")
    detail = phone.page.locator('section[data-pair-detail="alice|bob"] [data-cell="stats-scale"]')
    left, right = detail.locator("pre").nth(0), detail.locator("pre").nth(1)
    assert right.bounding_box()["y"] > left.bounding_box()["y"]      # stacked on a phone
