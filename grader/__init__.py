"""grader: an autograder for notebook courses.

In a notebook: `import grader; grader.check()` or `%load_ext grader` then
`%grader check` (grader/notebook.py). `grader.notebook` imports only the standard
library, and is imported here on purpose: every grading sandbox forks from a process
that imported `grader`, so `grader.check()` is defined (and knows it must do nothing)
inside a notebook being checked, even where the sandbox cannot see grader's files.
"""
from grader.notebook import check, load_ipython_extension

__all__ = ["check", "load_ipython_extension"]
