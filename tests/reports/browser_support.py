"""Helpers of the browser tests: Debian's Chromium, a page that records requests, PNG size."""
from __future__ import annotations

import struct
from pathlib import Path

from support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (re-exported)


class RecordingPage:
    """A fresh page that remembers every request it made."""

    def __init__(self, browser, width: int = 1100, height: int = 900) -> None:
        # scripts stay off in the page (the pages have none); playwright's evaluate()
        # runs in its own world, so the layout checks below still work
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           java_script_enabled=False)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(("file://", "data:"))]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


# Elements whose text renders below this many CSS pixels (SVG text counts its drawn
# height, since a scaled chart shrinks its labels); hidden elements are skipped.
SMALL_TEXT_JS = """(minimum) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || el.closest('thead')) continue;
    const size = el instanceof SVGElement ? box.height : parseFloat(getComputedStyle(el).fontSize);
    if (size < minimum) small.push(`${el.tagName}.${el.className}: ${size}px "${node.textContent.trim().slice(0, 30)}"`);
  }
  return small;
}"""

# Elements that stick out past the right edge of the viewport (why a page scrolls sideways).
OVERFLOW_JS = """() => [...document.body.querySelectorAll('*')]
  .filter(e => !e.closest('thead') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 10).map(e => `${e.tagName}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`)"""


def assert_fits_phone(page, shot: Path) -> None:
    """No sideways scrolling, readable text, and a full-page screenshot to look at."""
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, (scroll, client, page.evaluate(OVERFLOW_JS))
    small = page.evaluate(SMALL_TEXT_JS, 11)
    assert small == [], small
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert png_size(shot)[0] == client
