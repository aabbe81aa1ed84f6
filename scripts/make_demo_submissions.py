"""Generate the demo course's sample submissions under submitted/ from the releases.

Run from the course root after `grader release`:  python scripts/make_demo_submissions.py
The generated notebooks are committed, so `make demo` needs no generation step.

Who submits what (frank, on the roster, submits nothing: he shows up as an empty
row in the grade export):
- alice: complete solutions, on time
- bob:   partly wrong (a wrong constant in an assessment; a loss that breaks on
         class-index labels in 09)
- carol: the untouched release
- dave:  complete solutions, two and a half days late (timestamp.txt)
- erin:  complete, but edited the locked test cell and named the notebook oddly
"""
from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course import load_course  # noqa: E402
from grader.synth import edit, release_of, replace, solved, write_submission  # noqa: E402

MODULES = ["01_tensor", "07_optimizers", "09_training"]

# A realistic mistake per module for bob: (grade_id, old text, new text).
MISTAKES = {
    "01_tensor": [],
    "07_optimizers": [],
    "09_training": [
        ("training-batch-size", "activation_per_sample = 10 * 1000 * 4",
         "activation_per_sample = 10 * 1000 * 8"),
        # assumes one-hot labels: crashes on class indices
        ("crossentropy-loss", "        if len(true_data.shape) == 1:",
         "        true_data = true_data.argmax(axis=1)\n        if len(true_data.shape) == 1:"),
    ],
}


def main() -> None:
    course = load_course(ROOT)
    shutil.rmtree(course.submitted_dir, ignore_errors=True)
    for module_id in MODULES:
        module, release = release_of(course, module_id)
        due = course.module(module_id).due
        complete = solved(module, release)
        on_time = due - timedelta(hours=3) if due else None
        name = module.notebook_name

        write_submission(ROOT, "alice", module_id, complete, name=name, submitted_at=on_time)

        wrong = complete
        for grade_id, old, new in MISTAKES.get(module_id) or []:
            wrong = edit(wrong, grade_id, replace(old, new))
        if not MISTAKES.get(module_id):
            wrong = _first_assessment_wrong(module, complete)
        write_submission(ROOT, "bob", module_id, wrong, name=name, submitted_at=on_time)

        write_submission(ROOT, "carol", module_id, release, name=name, submitted_at=on_time)

        late = due + timedelta(days=2, hours=12) if due else None
        write_submission(ROOT, "dave", module_id, complete, name=name, submitted_at=late)

        test_item = next(i for i in module.items if i.kind == "test")
        tampered = edit(complete, test_item.id,
                        lambda s: "def " + s.split("def ", 1)[1].split("\n", 1)[0] + "\n    pass\n")
        write_submission(ROOT, "erin", module_id, tampered, name=f"{module.stem} (1).ipynb",
                         submitted_at=on_time)
        print(f"{module_id}: 5 submissions")


def _first_assessment_wrong(module, nb):
    """Change the first number literal returned by the first assessment."""
    item = next((i for i in module.items if i.kind == "assessment"), None)
    if item is None:   # no assessment: break the first solution line instead
        cell = next(c for c in module.source.cells if c.nbgrader.get("solution")
                    and "### BEGIN SOLUTION" in c.source)
        return edit(nb, cell.key, replace("### BEGIN SOLUTION",
                                          "### BEGIN SOLUTION\n        raise ValueError('todo')"))
    import re
    text = next(c.source for c in module.source.cells if c.key == item.id)
    body = text.split("### BEGIN SOLUTION", 1)[1]
    number = re.search(r"(?<![\w.])(\d+)(?![\w.])", body).group(1)
    old = body[: body.index(number) + len(number)]
    return edit(nb, item.id, replace(old, old[: -len(number)] + str(int(number) + 1)))


if __name__ == "__main__":
    main()
