"""`grader formgrade`: a local web app for manual grading (grader/formgrade/app.py)."""
