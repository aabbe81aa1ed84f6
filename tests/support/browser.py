"""Debian's Chromium for the browser tests, started once per test process (tests/conftest.py
`browser`): Playwright's sync API cannot start a second instance while one runs."""
from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
