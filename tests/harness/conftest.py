"""A copy of the demo course in a temp folder, and a warm grading context for the
Training module, shared by the harness tests of one worker (tests/support/demo_course.py)."""
from support.demo_course import complete, course, module, release, training  # noqa: F401
