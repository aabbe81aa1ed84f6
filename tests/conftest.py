"""The whole suite runs with a private temp directory (TMPDIR) that it removes at the end.

Tests kill engines, zygotes and batches on purpose (SIGKILL, os._exit, timeouts); a
process killed that way cannot remove its `grader-job-*` / `grader-ipython-*` folder,
so without this they would pile up in /tmp. Every process the tests start inherits
TMPDIR. pytest's own `tmp_path` folders stay where pytest keeps them (it prunes them).
Folders grader itself left behind are listed at the end of the run, then removed; a
run that was killed leaves its folder, which the next run removes (its pid is gone).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SYSTEM_TMP = tempfile.gettempdir()
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", _SYSTEM_TMP)  # tmp_path: the usual place


def _sweep_abandoned(root: Path) -> None:
    """Remove the private folders of earlier runs that were killed (their pid is gone)."""
    for folder in root.glob("grader-tests-*-*"):
        try:
            pid = int(folder.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            pass


_sweep_abandoned(Path(_SYSTEM_TMP))
PRIVATE_TMP = Path(tempfile.mkdtemp(prefix=f"grader-tests-{os.getpid()}-", dir=_SYSTEM_TMP))
PRIVATE_TMP.chmod(0o1777)  # like /tmp: other users (postgres, the sandbox's uid) use it too
os.environ["TMPDIR"] = str(PRIVATE_TMP)
tempfile.tempdir = None  # tempfile caches the directory: read TMPDIR again


def pytest_unconfigure(config) -> None:
    left = sorted(p.name for p in PRIVATE_TMP.glob("grader-*"))
    if left:
        print(f"\n{len(left)} grader temp folder(s) were left behind and are removed now: "
              f"{', '.join(left[:6])}{' ...' if len(left) > 6 else ''}", file=sys.stderr)
    shutil.rmtree(PRIVATE_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium (Debian's) for every browser test of the process: the
    feedback pages, the dashboard, formgrade. Playwright's sync API cannot start a
    second instance while one is running in the same thread."""
    from support.browser import CHROMIUM, CHROMIUM_ARGS
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not installed; run scripts/system-deps.sh as root "
                    "(apt package `chromium`) to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
