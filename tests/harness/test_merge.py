"""harness/merge.py: a submission merged with its source by grade_id (DESIGN.md,
"Submissions are merged with the source"). Submissions are built from the demo
course's Layers module and its release, whose locked test cell has hidden tests."""
from __future__ import annotations

import copy

import pytest

from grader.harness.merge import Merged, merge, released_cells
from grader.synth import append_code, cell, delete, edit, release_of

MODULE = "03_layers"
LOCKED = "test-layers-comprehensive"     # graded, locked, with hidden tests in the source
ANSWER = "linear-class"                  # a solution cell
HIDDEN_LINE = "Batched Linear should match numpy"


@pytest.fixture(scope="module")
def layers(course):
    return release_of(course, MODULE)     # (module, release notebook)


def by_key(merged: Merged, key: str):
    (found,) = [c for c in merged.cells if c.key == key]
    return found


def source_keys(merged: Merged) -> list[str]:
    return [c.key for c in merged.cells if c.origin is not None]


def notices(merged: Merged) -> list[tuple[str, str | None]]:
    return [(n.kind, n.cell) for n in merged.notices]


def test_the_untouched_release_merges_without_notices(layers):
    module, release = layers
    merged = merge(module, release, release)
    assert notices(merged) == []
    assert source_keys(merged) == [c.key for c in module.source.cells if c.grade_id]
    assert merged.present == {c.key for c in module.source.cells if c.grade_id}


def test_an_edited_locked_cell_is_restored_with_a_tampered_notice(layers):
    module, release = layers
    submission = edit(release, LOCKED, lambda text: text.replace("assert ", "assert True or ", 1))
    merged = merge(module, submission, release)
    assert by_key(merged, LOCKED).cell.source == cell(release, LOCKED).source
    assert notices(merged) == [("tampered", LOCKED)]


def test_locked_cells_carry_the_released_text_so_hidden_tests_never_reach_the_kernel(layers):
    module, release = layers
    source_text = module.item(LOCKED).cell.source
    assert HIDDEN_LINE in source_text and HIDDEN_LINE not in cell(release, LOCKED).source
    for submission in (release, edit(release, LOCKED, lambda _: source_text)):
        merged = merge(module, submission, release)
        assert by_key(merged, LOCKED).cell.source == cell(release, LOCKED).source
        assert not any(HIDDEN_LINE in c.cell.source or "HIDDEN TESTS" in c.cell.source
                       for c in merged.code_cells())
    # pasting the source's text (hidden tests included) is an edit of the released cell
    assert notices(merged) == [("tampered", LOCKED)]


def test_the_engine_is_taught_only_released_text(layers):
    """The template compiles ahead (Engine.learn) exactly the cells an untouched
    submission sends the kernel, all of them released text: no solution, no hidden
    test, even where merge falls back to the source's text for a locked cell the
    release lacks."""
    module, release = layers
    taught = released_cells(module, release)
    assert taught == [(c.key, c.cell.source) for c in merge(module, release, release).code_cells()]
    given = {c.source for c in release.cells if c.cell_type == "code"}
    assert taught and all(text in given for _, text in taught)
    (solution,) = [c.source for c in module.source.cells if c.key == ANSWER]
    assert "### BEGIN SOLUTION" in solution and all(text != solution for _, text in taught)
    without_locked = delete(release, LOCKED)
    assert any(HIDDEN_LINE in c.cell.source
               for c in merge(module, without_locked, without_locked).code_cells())
    assert LOCKED not in dict(released_cells(module, without_locked))
    assert not any(HIDDEN_LINE in text for _, text in released_cells(module, without_locked))


def test_a_deleted_locked_cell_is_put_back_where_the_source_has_it(layers):
    module, release = layers
    merged = merge(module, delete(release, LOCKED), release)
    assert source_keys(merged) == [c.key for c in module.source.cells if c.grade_id]
    restored = by_key(merged, LOCKED)
    assert restored.student_index is None and restored.cell.source == cell(release, LOCKED).source
    assert LOCKED in merged.present
    assert notices(merged) == [("restored", LOCKED)]


def test_student_added_cells_keep_their_place(layers):
    module, release = layers
    submission = append_code(release, "helper = 42", after="matmul-function")
    submission = append_code(submission, "print('the end')")
    merged = merge(module, submission, release)
    keys = [c.key for c in merged.cells]
    added = keys[keys.index("matmul-function") + 1]
    assert added.startswith("student-") and by_key(merged, added).cell.source == "helper = 42"
    assert by_key(merged, added).origin is None
    assert merged.cells[-1].cell.source == "print('the end')"
    assert notices(merged) == []


def test_a_deleted_answer_cell_is_absent_and_not_put_back(layers):
    module, release = layers
    merged = merge(module, delete(release, ANSWER), release)
    assert ANSWER not in merged.present
    assert ANSWER not in [c.key for c in merged.cells]
    assert notices(merged) == []


def test_what_a_submission_says_about_points_and_locking_is_ignored(layers):
    module, release = layers
    submission = copy.deepcopy(release)
    locked = cell(submission, LOCKED)
    locked.metadata["nbgrader"].update(locked=False, grade=False, solution=True, points=1000)
    locked.source = "pass"
    answer = cell(submission, ANSWER)
    answer.metadata["nbgrader"].update(locked=True, points=99)
    answer.source = "class Linear:\n    pass"
    merged = merge(module, submission, release)
    # the locked test stays the source's locked test, restored as released
    assert by_key(merged, LOCKED).cell.metadata["nbgrader"] == module.item(LOCKED).cell.nbgrader
    assert by_key(merged, LOCKED).cell.source == cell(release, LOCKED).source
    assert notices(merged) == [("tampered", LOCKED)]
    # the answer stays the student's, with the source's metadata
    kept = by_key(merged, ANSWER)
    assert kept.cell.source == "class Linear:\n    pass"
    assert kept.cell.metadata["nbgrader"] == module.cell_by_key()[ANSWER].nbgrader


def test_a_copy_of_a_locked_cell_is_the_students_own(layers):
    module, release = layers
    submission = copy.deepcopy(release)
    copied = copy.deepcopy(cell(submission, LOCKED))
    copied.source = "print('my copy')"
    submission.cells.append(copied)
    merged = merge(module, submission, release)
    assert merged.cells[-1].origin is None and merged.cells[-1].cell.source == "print('my copy')"
    assert "nbgrader" not in merged.cells[-1].cell.metadata
    assert notices(merged) == []


def test_in_kernel_test_cells_are_taught_only_when_released_text(course, layers):
    """GradingContext.teach: an in-kernel test item's setup is its source text, hidden
    tests included, so the template is not taught it; the unit tests' cells are."""
    import dataclasses

    from grader.harness.session import GradingContext

    class Recorder:   # what the context hands its engine (Engine.learn)
        def learn(self, cells, setups=()):
            self.cells, self.setups = list(cells), list(setups)

    module, release = layers
    in_kernel = dataclasses.replace(course, item_in_kernel={MODULE: {LOCKED}})
    for c in (course, in_kernel):
        ctx = GradingContext(course=c, module=module, released=release, reference=None,
                             limits=None, engine=Recorder())
        ctx.teach()
        assert ctx.engine.cells == released_cells(module, release)
        assert ctx.engine.setups == [("unit:" + t.name, t.cell.source)
                                     for t in module.unit_tests]
        assert not any(HIDDEN_LINE in text for _, text in ctx.engine.setups)
    assert module.unit_tests and LOCKED in {i.id for i in module.items}
