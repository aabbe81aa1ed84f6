"""Symbolic links in a submission folder (a student who can write their own submitted/
folder on a shared file system, e.g. a JupyterHub exchange).

The host reads the notebook and copies the folder into the sandbox as root: a link
must not make the host read another student's work for the attacker, and links copied
into the sandbox must point at nothing the sandbox can read.
"""
from __future__ import annotations

import json
import os
import uuid

import nbformat
import pytest

from grader.harness.grade import grade_submission
from grader.synth import append_code, edit, replace
from security_helpers import MODULE, NOTEBOOK, explain, items, needs_root, outputs_text

PREFIX = "QV1CT1M"


def write(folder, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / NOTEBOOK)
    return folder


@pytest.mark.parametrize("how", ["notebook-absolute", "notebook-relative", "folder"])
def test_a_notebook_linked_to_anothers_is_not_graded_as_the_attackers(training, complete,
                                                                      tmp_path, how):
    """submitted/attacker/09_training/training_dev.ipynb (or the whole 09_training
    folder) is a link to the victim's. The attacker submitted nothing of their own and
    may not even be able to read the victim's file (the grader reads it, as root): they
    must not get the victim's 40."""
    victim = write(tmp_path / "submitted" / "victim" / MODULE, complete)
    assert grade_submission(training, "victim", victim).result.score == 40
    attacker = tmp_path / "submitted" / "attacker" / MODULE
    if how == "folder":
        attacker.parent.mkdir(parents=True)
        os.symlink(victim, attacker)
    else:
        attacker.mkdir(parents=True)
        target = victim / NOTEBOOK
        os.symlink(os.path.relpath(target, attacker) if how == "notebook-relative" else target,
                   attacker / NOTEBOOK)
    result = grade_submission(training, "attacker", attacker).result.to_json()
    assert result["score"] == 0, explain(result)


READ_LINKS = r'''
import os, re
_PAT = re.compile(r"QV1CT1M[0-9a-f]{32}")
_GOT = []
for _name in sorted(os.listdir(".")):
    if not os.path.islink(_name):
        continue
    for _dir, _dirs, _files in os.walk(_name, followlinks=True):
        for _f in _files:
            try:
                _text = open(os.path.join(_dir, _f), errors="replace").read(1 << 20)
            except OSError:
                continue
            if _PAT.search(_text) or "root:" in _text:
                _GOT.append(os.path.join(_dir, _f))
    if os.path.isfile(_name):
        try:
            _text = open(_name, errors="replace").read(1 << 20)
            if _PAT.search(_text) or "root:" in _text:
                _GOT.append(_name)
        except OSError:
            pass
FOUND = ";".join(_GOT) or "nothing"
print("links gave:", FOUND)
'''


@needs_root
@pytest.mark.root
def test_links_in_the_submission_folder_reach_nothing(training, complete, tmp_path):
    marker = PREFIX + uuid.uuid4().hex
    victim_nb = append_code(complete, f"print({marker!r})\n")
    victim = write(tmp_path / "submitted" / "victim" / MODULE, victim_nb)
    grade_submission(training, "victim", victim)

    attacker_nb = append_code(complete, READ_LINKS)
    attacker_nb = edit(attacker_nb, "training-batch-size", replace(
        "        'training_memory_mb': training_memory / (1024**2),",
        "        'training_memory_mb': FOUND,"))
    attacker = write(tmp_path / "submitted" / "attacker" / MODULE, attacker_nb)
    os.symlink(victim / NOTEBOOK, attacker / "loot.ipynb")
    os.symlink(victim, attacker / "loot_dir")
    os.symlink(os.path.relpath(victim, attacker), attacker / "loot_rel")
    os.symlink("/etc/shadow" if os.path.exists("/etc/shadow") else "/etc/passwd",
               attacker / "loot_etc")
    graded = grade_submission(training, "attacker", attacker)
    got = {f["key"]: f["got"] for f in items(graded.result)["training-batch-size"]["fields"]}
    assert got.get("training_memory_mb") == "nothing", (
        f"links reached: {got.get('training_memory_mb')}\n" + explain(graded.result))
    assert marker not in outputs_text(graded)


def test_a_notebook_linked_to_a_private_file_leaks_nothing(training, tmp_path):
    """training_dev.ipynb -> a file only the grader may read (another student's notes,
    /etc/shadow ...). Grading must not copy any of its content into the attacker's
    result (an "invalid notebook" message that quotes the file's first bytes would)."""
    marker = PREFIX + uuid.uuid4().hex
    secret = tmp_path / "private" / "notes.txt"
    secret.parent.mkdir()
    secret.write_text(marker + " and more private text\n")
    secret.chmod(0o600)
    attacker = tmp_path / "submitted" / "attacker" / MODULE
    attacker.mkdir(parents=True)
    os.symlink(secret, attacker / NOTEBOOK)
    graded = grade_submission(training, "attacker", attacker)
    assert graded.result.score == 0
    assert marker[:12] not in json.dumps(graded.result.to_json()), \
        json.dumps(graded.result.to_json())[:1500]
