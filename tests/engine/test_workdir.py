"""The sandbox's working folder: a size-capped private copy (autograde) or the folder
itself read-only with private writes on top (grader check, issue "Nothing a newcomer
can trip over", point 4)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.engine import Cell, Engine, Job, Limits

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount namespaces)")
LIMITS = Limits(cell_timeout_s=20, memory_mb=1024, disk_mb=64)
PROBE = """
import os
print(open('data.csv').read().strip())
open('out.txt', 'w').write('mine')
print(sorted(os.listdir('.')))
print([line.split()[2] for line in open('/proc/mounts') if line.split()[1] == '/job'])
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "data.csv").write_text("a,b\n")
    with open(tmp_path / "big.bin", "wb") as f:   # sparse: 200 MB that cost no disk
        f.truncate(200 << 20)
    return tmp_path


def stdout(engine: Engine, folder: Path, mode: str) -> list[str]:
    res = engine.run(Job(cells=[Cell("c0", PROBE)], workdir=folder, workdir_mode=mode,
                         limits=LIMITS))
    cell = res.cells[0]
    assert cell.status == "ok", cell.error
    return "".join(o.get("text", "") for o in cell.outputs).splitlines()


@root_only
def test_check_sees_the_folder_without_copying_it_and_writes_privately(engine, folder):
    data, listing, fs = stdout(engine, folder, "overlay")
    assert data == "a,b" and listing == "['big.bin', 'data.csv', 'out.txt']"
    assert fs == "['overlay']"            # nothing copied: 200 MB beside a 64 MB cap is fine
    assert sorted(os.listdir(folder)) == ["big.bin", "data.csv"]   # the writes stayed inside


@root_only
def test_autograde_works_on_a_capped_copy(engine, folder):
    data, listing, fs = stdout(engine, folder, "copy")
    assert data == "a,b" and fs == "['tmpfs']"
    assert listing == "['data.csv', 'out.txt']"   # what does not fit the cap is left out
    assert sorted(os.listdir(folder)) == ["big.bin", "data.csv"]
