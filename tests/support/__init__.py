"""Helpers shared by several test folders: `from support.training_samples import ...`.

Importable as `support` because pytest puts tests/ on sys.path for the root
tests/conftest.py (tests/ has no __init__.py); no test edits sys.path itself.
- training_samples: Training-module result records and a temp course to hold them
  (gradebook, exports, feedback and dashboard tests);
- scale_course: a small course whose mutants are known (grader mutants tests);
- stats_course: a course with five students' submissions, one a renamed copy of another
  and one the reference (grader similarity tests, the similarity page);
- nbgrader_example: nbgrader's own example course in a temp folder (tests/nbgrader).
Helpers used by one folder only stay there (lint_helpers, security_helpers,
browser_support, postgres_server).
"""
