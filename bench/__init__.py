"""Throughput benchmark: `grader autograde` against `nbgrader autograde` (run `make bench`).

See bench/run.py and the README section "Benchmark".
"""
