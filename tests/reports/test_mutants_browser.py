"""reports/mutants/MODULE.html (`grader mutants`) in headless Chromium: the surviving
mutants per item, at desktop and phone width, and the dashboard's link to the page."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import load_course
from grader.gradebook import open_gradebook
from grader.mutants.run import run_mutants
from grader.reports import build_dashboard
from grader.reports.mutants_page import write_mutants_page
from browser_support import assert_fits_phone
from support.scale_course import line_of, write_scale_course

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mutants_page(tmp_path_factory) -> tuple[Path, Path]:
    root = write_scale_course(tmp_path_factory.mktemp("scale") / "course")
    course = load_course(root)
    report = run_mutants(course, "01_scale", max_mutants=6, workers=1, timeout_s=2)
    return root, write_mutants_page(course, report.as_dict())


def test_mutants_page_lists_survivors(page, mutants_page) -> None:
    root, path = mutants_page
    assert path == root / "reports" / "mutants" / "01_scale.html"
    p = page.page
    p.goto(path.as_uri())
    weak = p.locator('section[data-survivors="test-scale-weak"]')
    assert weak.is_visible()
    zero = weak.locator('tr[data-mutant^="scale-double:"]', has_text="return 0")
    assert zero.count() == 1
    text = zero.inner_text()
    assert f"source/01_scale/scale_dev.py:{line_of(root, 'return 2 * x')}" in text
    assert "- return 2 * x" in text and "+ return 0" in text
    row = p.locator('tr[data-item="scale-facts"]')
    assert row.locator('td[data-label="score"]').inner_text().strip() == "100%"
    assert p.locator('section[data-survivors="scale-facts"]').count() == 0
    assert page.foreign_requests() == []


def test_mutants_page_fits_a_phone(phone, mutants_page, tmp_path: Path) -> None:
    _, path = mutants_page
    phone.page.goto(path.as_uri())
    assert_fits_phone(phone.page, tmp_path / "screenshots" / "mutants-390.png")
    cell = phone.page.locator('section[data-survivors="test-scale-weak"] td[data-label="change"]').first
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"change: "'


def test_dashboard_links_the_mutants_page(page, mutants_page) -> None:
    root, path = mutants_page
    course = load_course(root)
    with open_gradebook(course.db_url) as gradebook:
        dashboard = build_dashboard(course, gradebook)
    p = page.page
    p.goto(dashboard.as_uri())
    link = p.locator("ul.tools a", has_text="weak tests")
    assert link.count() == 1
    link.click()
    assert p.url == path.as_uri()
