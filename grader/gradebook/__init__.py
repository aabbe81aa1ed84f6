"""The gradebook: every graded submission, in any SQLAlchemy database.

`open_gradebook(url)` is the entry point; `Gradebook.record(result)` stores one
result record (DESIGN.md "Result of one submission") and `results()` gives the
records back. Exports (CSV/JSON) and the status table read from here.
"""
from grader.gradebook.store import Gradebook, open_gradebook

__all__ = ["Gradebook", "open_gradebook"]
