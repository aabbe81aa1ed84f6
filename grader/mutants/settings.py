"""course.toml's `[mutants]` table (checked by course_schema; read only by the mutants
commands, so a course without it loads exactly as before)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

from grader.course import COURSE_FILE, Course
from grader.course_schema import TomlLines
from grader.errors import ConfigError


@dataclass(frozen=True)
class MutantSettings:
    min_score: float | None = None     # `grader validate --mutants` fails below this
    max: int = 60                      # mutants graded per module
    seed: int = 0
    timeout_s: float = 10.0            # per cell and per graded call of a mutant


def mutant_settings(course: Course) -> MutantSettings:
    path = course.root / COURSE_FILE
    text = path.read_text(encoding="utf-8")
    table = tomllib.loads(text).get("mutants", {})
    types = {"min_score": (int, float), "max": (int,), "seed": (int,), "timeout_s": (int, float)}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, types[key]):
            raise ConfigError(f"[mutants] {key} must be a number, not {value!r}", path=path,
                              line=TomlLines(text).line("mutants", key))
    return MutantSettings(**table)
