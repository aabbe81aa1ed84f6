"""grader.files.write_atomic: the one way grader rewrites a file in place."""
from __future__ import annotations

import os
import stat

import pytest

from grader.files import write_atomic


def test_replaces_the_file_whole_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "deep" / "result.json"
    write_atomic(target, "first\n")
    write_atomic(target, "sécond\r\n")           # text: UTF-8, newlines as given
    assert target.read_bytes() == "sécond\r\n".encode()
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert os.listdir(target.parent) == ["result.json"]


def test_permissions_follow_the_umask_unless_given(tmp_path):
    old = os.umask(0o027)
    try:
        plain = write_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640
    page = write_atomic(tmp_path / "page.html", "x", mode=0o644)
    assert stat.S_IMODE(page.stat().st_mode) == 0o644


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["index.html"]
