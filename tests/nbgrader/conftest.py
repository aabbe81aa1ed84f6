"""The nbgrader tests build on nbgrader's own example course: tests/support/nbgrader_example.py.

Import the helpers from there (`from support.nbgrader_example import copy_example`):
`from conftest import ...` gets whichever folder's conftest Python loaded first when
several test folders run together. The names stay here for tests not yet moved over.
"""
from support.nbgrader_example import copy_example, write_course_toml  # noqa: F401
