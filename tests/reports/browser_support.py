"""Helpers of the browser tests: Debian's Chromium, a page that records requests, PNG size."""
from __future__ import annotations

import struct
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class RecordingPage:
    """A fresh page that remembers every request it made."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1100, "height": 900},
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
