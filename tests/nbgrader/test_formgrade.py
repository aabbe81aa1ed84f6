"""`grader formgrade` in a real headless Chromium: open with the token, grade with the
keyboard (range-checked, saved as typed), override an autograded score with a reason,
reload and see the saved values and the updated totals."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from support.nbgrader_example import copy_example, write_course_toml
from grader.autograde.batch import Outputs, grade_module
from grader.course import load_course
from grader.formgrade.app import make_app
from grader.gradebook.store import open_gradebook

pytestmark = pytest.mark.browser
TOKEN = "test-token-3f9a"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn
    root = copy_example(tmp_path_factory.mktemp("formgrade"))
    write_course_toml(root)
    course = load_course(root)
    gradebook = open_gradebook(course.db_url)
    grade_module(course, "ps1", workers=1, outputs=Outputs(course, gradebook))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app_server = uvicorn.Server(uvicorn.Config(make_app(course, gradebook, TOKEN),
                                               log_level="warning", lifespan="off"))
    thread = threading.Thread(target=app_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app_server.started
    yield course, gradebook, f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(timeout=10)
    gradebook.close()


def test_every_request_needs_the_token(server):
    _, _, base = server
    for url in (f"{base}/", f"{base}/?token=wrong", f"{base}/item/ps1/problem2.ipynb/part-b"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url)
        assert caught.value.code == 403
    assert urllib.request.urlopen(f"{base}/?token={TOKEN}").status == 200


def result_of(course, student):
    return json.loads((course.autograded_dir / student / "ps1" / "result.json").read_text())


def test_grade_with_the_keyboard_reload_and_see_it_saved(server, browser):
    course, gradebook, base = server
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/?token={TOKEN}")
    row = page.locator("tr[data-item='part-b']")
    assert row.locator("[data-testid=waiting]").inner_text() == "2"
    row.locator("a").click()
    page.wait_for_selector("section.card")
    cards = page.locator("section.card")
    assert [cards.nth(n).get_attribute("data-student") for n in range(cards.count())] == [
        "bitdiddle", "hacker"]
    # the first score field has the focus: type, Tab to the comment, back, Enter: next
    page.keyboard.type("1.5")
    page.keyboard.press("Tab")
    page.keyboard.type("Half right: the base case is missing.")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    first = cards.nth(0)
    first.locator(".state.saved").wait_for()
    assert first.locator("[data-testid=total]").inner_text() == "3"         # 1.5 + 1.5
    # the second card now has the focus: out of range is refused, not saved
    assert page.evaluate("document.activeElement.closest('section').dataset.student") == "hacker"
    page.keyboard.type("5")
    second = cards.nth(1)
    second.locator(".state.error").wait_for()
    assert "0 to 2" in second.locator(".state").inner_text()
    page.keyboard.press("Backspace")
    page.keyboard.type("2")
    second.locator(".state.saved").wait_for()
    assert second.locator("[data-testid=total]").inner_text() == "5"        # 3 + 2
    page.reload()
    page.wait_for_selector("section.card")
    cards = page.locator("section.card")
    values = {cards.nth(n).get_attribute("data-student"): (
        cards.nth(n).locator("input.score").input_value(),
        cards.nth(n).locator("textarea").input_value(),
        cards.nth(n).locator("[data-testid=total]").inner_text()) for n in range(cards.count())}
    assert values == {"bitdiddle": ("1.5", "Half right: the base case is missing.", "3"),
                      "hacker": ("2", "", "5")}
    # the math of a markdown answer is rendered (MathML), the student's HTML is not run
    page.goto(f"{base}/item/ps1/problem1.ipynb/sum_of_squares_equation")
    assert page.locator("section.card math").count() >= 1
    assert result_of(course, "hacker")["score"] == 5.0
    assert [i for i in result_of(course, "bitdiddle")["items"]
            if i["id"] == "part-b"][0]["manual"]["comment"].startswith("Half right")
    context.close()


def test_override_an_autograded_score_with_a_reason(server, browser):
    course, _, base = server
    before = result_of(course, "hacker")["score"]
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/submission/ps1/hacker?token={TOKEN}")
    card = page.locator("section.card[data-item='correct_squares']")
    card.locator("input.score").fill("0.5")
    card.locator(".state.error").wait_for()
    assert "needs a reason" in card.locator(".state").inner_text()
    card.locator("input.reason").fill("hard-coded the expected lists")
    card.locator(".state.saved").wait_for()
    assert card.locator("[data-testid=total]").inner_text() == f"{before - 0.5:g}"
    page.reload()
    card = page.locator("section.card[data-item='correct_squares']")
    assert card.locator("input.reason").input_value() == "hard-coded the expected lists"
    item = [i for i in result_of(course, "hacker")["items"] if i["id"] == "correct_squares"][0]
    assert (item["score"], item["auto"]["score"], item["status"]) == (0.5, 1.0, "partial")
    context.close()
