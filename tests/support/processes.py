"""What the tests look for among the machine's processes (leftovers of a sandbox)."""
from __future__ import annotations

import psutil


def no_process_with(marker: str) -> bool:
    """True when no process has `marker` in its command line."""
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []):
                return False
        except psutil.Error:
            continue
    return True
