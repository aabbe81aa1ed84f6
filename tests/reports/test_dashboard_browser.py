"""reports/index.html in a real headless Chromium: charts, failure summaries, links."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from grader.course import load_course
from grader.gradebook import open_gradebook
from grader.reports import build_dashboard
from support.training_samples import MODULE, class_results, training_result
from browser_support import SMALL_TEXT_JS, assert_fits_phone, png_size

pytestmark = pytest.mark.browser


@pytest.fixture
def dashboard(make_course) -> Path:
    course = load_course(make_course())
    with open_gradebook(course.db_url) as gradebook:
        for record in class_results():
            gradebook.record(record)
        gradebook.record(training_result("dave", "partial"))
        path = build_dashboard(course, gradebook)
    assert path == course.reports_dir / "index.html"
    return path


def test_dashboard_in_browser(page, dashboard: Path, tmp_path: Path) -> None:
    p = page.page
    p.goto(dashboard.as_uri())
    section = p.locator(f'section[data-module="{MODULE}"]')
    assert section.is_visible()
    histogram = section.locator(".histogram")
    assert histogram.is_visible()
    box = histogram.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert histogram.locator(".bar").count() >= 5
    assert section.locator(".pass-rates").is_visible()
    assert section.locator('.pass-rates [data-item="training-batch-size"]').inner_text().endswith(
        "60% passed")                # alice, carol, mallory of five; bob and dave partly
    # most common failure per item, with how many students
    batch = section.locator('tr[data-item="training-batch-size"]')
    assert "2 students" in batch.inner_text()             # bob and dave, same message
    assert "1 of 3 values match" in batch.inner_text()
    assert "segmentation fault" in section.locator('tr[data-item="training-throughput"]').inner_text()
    # student x module table: roster first, unknown submitter flagged
    rows = p.locator("table.grades tbody tr")
    assert [rows.nth(n).get_attribute("data-student") for n in range(rows.count())] == [
        "alice", "bob", "carol", "dave", "mallory"]
    assert "not on roster" in p.locator('tr[data-student="mallory"]').inner_text()
    # every link into ../feedback resolves to an existing file
    hrefs = p.locator("table.grades a").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == 5
    for href in hrefs:
        target = Path(unquote(urlparse(href).path))
        assert target.is_file(), href
        assert "/feedback/" in href and target.suffix == ".html"
    # and following one lands on that student's feedback page
    p.locator('tr[data-student="bob"] a').click()
    assert p.url.endswith("/feedback/bob/09_training/training_dev.html")
    assert p.get_by_test_id("score").inner_text().startswith("16.67")
    assert page.foreign_requests() == []

    p.goto(dashboard.as_uri())
    shot = tmp_path / "screenshots" / "dashboard.png"
    shot.parent.mkdir()
    p.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1100 and 800 < height < 8000
    assert 30_000 < shot.stat().st_size < 5_000_000


def test_report_command_prints_where_the_dashboard_is(make_course) -> None:
    import subprocess
    import sys

    root = make_course()
    with open_gradebook(load_course(root).db_url) as gradebook:
        gradebook.record(training_result("alice"))
    run = subprocess.run([str(Path(sys.executable).parent / "grader"), "--course", str(root), "report"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(root / "reports" / "index.html")
    assert (root / "feedback" / "alice" / MODULE / "training_dev.html").is_file()
    assert "dashboard" in run.stderr


def test_dashboard_fits_a_phone(phone, dashboard: Path, tmp_path: Path) -> None:
    p = phone.page
    p.goto(dashboard.as_uri())
    assert_fits_phone(p, tmp_path / "screenshots" / "dashboard-390.png")
    # chart labels are page text at the page's size (an SVG scaled to 390 px drew them at 5 px)
    section = p.locator(f'section[data-module="{MODULE}"]')
    for chart in (".histogram", ".pass-rates"):
        assert section.locator(chart).evaluate(f"(el, js) => eval(js)(12)", SMALL_TEXT_JS.replace(
            "document.body", "el")) == [], chart
    axis = section.locator(".hist-axis span")
    assert axis.count() >= 5 and axis.last.inner_text() == "40"
    # the student x module table becomes one block per student, each score labelled
    bob = p.locator('tr[data-student="bob"]')
    assert bob.bounding_box()["width"] <= 390
    score = bob.locator(f'td[data-label="{MODULE}"]')
    assert score.inner_text().strip() == "16.67"
    assert score.evaluate("td => getComputedStyle(td, '::before').content") == f'"{MODULE}: "'
    # one number format: the module's mean as on the status line and the CLI
    # (40 + 16.67 + 32 + 35 + 16.67) / 5 = 28.068
    # the class mean: mallory, not on the roster, is listed but not counted
    assert "mean 29.56 / 40" in section.inner_text()

