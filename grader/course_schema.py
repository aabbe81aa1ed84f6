"""What course/course.toml may hold, checked before anything is built from it.

A misspelled section (`[lateness]` for `[late]`) or key would otherwise be ignored
and change grades silently, and a number out of range (`penalty_per_day = 10`,
`rel_tol = -1`) would be applied as written. Every mistake is a ConfigError naming
`course.toml:LINE`. `TomlLines` finds those lines (tomllib keeps no positions).
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.errors import ConfigError

Key = tuple[str | int, ...]

# section -> (what a valid value is, low, high, low inclusive); None bounds are open
RANGES: dict[tuple[str, str], tuple[str, float | None, float | None, bool]] = {
    ("policy", "cell_timeout_s"): ("seconds, more than 0", 0, None, False),
    ("policy", "item_timeout_s"): ("seconds, more than 0", 0, None, False),
    ("policy", "memory_mb"): ("megabytes, more than 0", 0, None, False),
    ("policy", "submission_timeout_s"): ("seconds, more than 0", 0, None, False),
    ("policy", "disk_mb"): ("megabytes, more than 0", 0, None, False),
    ("policy", "pids_max"): ("a number of processes, 8 or more", 8, None, True),
    ("policy", "seed"): ("a seed, 0 or more (or -1: no seeding)", -1, None, True),
    ("policy", "output_cap_bytes"): ("bytes, more than 0", 0, None, False),
    ("assessment", "rel_tol"): ("a relative tolerance, 0 or more", 0, None, True),
    ("assessment", "abs_tol"): ("an absolute tolerance, 0 or more", 0, None, True),
    ("late", "penalty_per_day"): ("a fraction of the max score per started day, from 0 to 1 "
                                  "(0.1 is 10%)", 0, 1, True),
    ("late", "max_penalty"): ("a fraction of the max score, from 0 to 1 (0.5 is half)", 0, 1, True),
    ("late", "grace_minutes"): ("minutes, 0 or more", 0, None, True),
    ("mutants", "min_score"): ("a fraction of the mutants killed, from 0 to 1", 0, 1, True),
    ("mutants", "max"): ("a number of mutants, 1 or more", 1, None, True),
    ("mutants", "timeout_s"): ("seconds, more than 0", 0, None, False),
}
# sections read by one command each (not by load_course): `grader mutants` and
# `grader validate --mutants` read [mutants] (grader/mutants/settings.py)
COMMAND_SECTIONS: dict[str, tuple[str, ...]] = {
    "mutants": ("min_score", "max", "seed", "timeout_s"),
}
ITEM_SECTION = "assessment"       # per-item tables take the [assessment] keys ...
ITEM_EXTRA_KEYS = ("assessment", "in_kernel")  # ... whether the item is an assessment, and
# whether a test item runs inside the student's process (tests the driver cannot carry)


class TomlLines:
    """1-based line of each table header and key in a TOML text, by dotted path.

    `[[modules]]` tables are numbered (("modules", 0), ("modules", 1) ...). Good
    enough for course.toml: keys inside multi-line strings may be mistaken for keys.
    """

    def __init__(self, text: str):
        self.lines: dict[Key, int] = {}
        table: Key = ()
        arrays: dict[Key, int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            header = re.match(r"^(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$", line)
            if header:
                path = _split_key(header.group(2))
                if header.group(1) == "[[":
                    arrays[path] = arrays.get(path, -1) + 1
                    table = (*path, arrays[path])
                else:
                    table = self._resolve(path, arrays)
                for n in range(1, len(table) + 1):  # `[a.b.c]` also defines a and a.b
                    self.lines.setdefault(table[:n], number)
                continue
            key = re.match(r"""^((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
                           r"""(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=""", line)
            if key:
                self.lines.setdefault((*table, *_split_key(key.group(1))), number)

    @staticmethod
    def _resolve(path: Key, arrays: dict[Key, int]) -> Key:
        """`[modules.x]` after `[[modules]]` belongs to the last modules table."""
        for n in range(len(path), 0, -1):
            if path[:n] in arrays:
                return (*path[:n], arrays[path[:n]], *path[n:])
        return path

    def line(self, *path: str | int) -> int | None:
        """The line of `path`, else of its nearest enclosing table that has one."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None


def _split_key(text: str) -> Key:
    parts = re.findall(r"""\s*("[^"]*"|'[^']*'|[^.]+?)\s*(?:\.|$)""", text)
    return tuple(part[1:-1] if part[:1] in "\"'" else part for part in parts)


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def item_lines(path: Path) -> dict[tuple[str, str], int]:
    """Line of each [items."MODULE"."ID"] table in course.toml (for `grader validate`)."""
    found: dict[tuple[str, str], int] = {}
    for key, number in TomlLines(path.read_text(encoding="utf-8")).lines.items():
        if len(key) >= 3 and key[0] == "items":
            item = (str(key[1]), str(key[2]))
            found[item] = min(number, found.get(item, number))
    return found


def verify(data: Mapping[str, Any], text: str, path: Path,
           sections: Mapping[str, tuple[str, ...]], module_keys: tuple[str, ...]) -> None:
    """Raise ConfigError at the first unknown section or key, or number out of range.

    `sections` maps each plain table ([course], [policy] ...) to its keys; [[modules]]
    tables take `module_keys`; [items."MODULE"."ID"] tables the [assessment] keys.
    """
    lines = TomlLines(text)
    sections = {**sections, **COMMAND_SECTIONS}

    def fail(message: str, *where: str | int) -> None:
        raise ConfigError(message, path=path, line=lines.line(*where))

    known_sections = [*sections, "modules", "items"]
    for name in data:
        if name not in known_sections:
            fail(f"unknown section [{name}]{_hint(name, known_sections)}; "
                 f"known: {', '.join(f'[{s}]' for s in known_sections)}", name)
    for name, keys in sections.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            fail(f"[{name}] must be a table", name)
        _refuse_unknown_keys(table, list(keys), f"[{name}]", (name,), fail)
        _refuse_out_of_range(table, name, f"[{name}]", (name,), fail)
    for index, module in enumerate(data.get("modules") or []):
        if isinstance(module, dict):
            label = f"[[modules]] {module.get('id', f'#{index + 1}')}:"
            _refuse_unknown_keys(module, list(module_keys), label, ("modules", index), fail)
    items = data.get("items", {})
    if not isinstance(items, dict):
        fail("[items] must hold tables [items.\"MODULE\".\"GRADE_ID\"]", "items")
    item_keys = [*sections.get(ITEM_SECTION, ()), *ITEM_EXTRA_KEYS]
    module_ids = [m.get("id") for m in data.get("modules") or [] if isinstance(m, dict)]
    for module_id, table in items.items():
        if module_id not in module_ids:
            fail(f"[items.{module_id}] names a module not in [[modules]]"
                 f"{_hint(module_id, [str(m) for m in module_ids])}", "items", module_id)
        if not isinstance(table, dict):
            fail(f"items.{module_id} is not a table: per-item settings go in "
                 f"[items.\"MODULE\".\"GRADE_ID\"]", "items", module_id)
        for item_id, settings in table.items():
            where = ("items", module_id, item_id)
            label = f"[items.{module_id}.{item_id}]"
            if not isinstance(settings, dict):
                fail(f"{label} is not a table: per-item settings go in "
                     f"[items.\"{module_id}\".\"GRADE_ID\"] (a key {item_id!r} was given "
                     f"directly under [items.{module_id}])", *where)
            _refuse_unknown_keys(settings, item_keys, label, where, fail)
            _refuse_out_of_range(settings, ITEM_SECTION, label, where, fail)


def _refuse_unknown_keys(table: Mapping[str, Any], known: list[str], label: str, where: Key,
                fail) -> None:
    for key in table:
        if key not in known:
            fail(f"{label} has unknown key(s) {key}{_hint(key, known)}; "
                 f"known: {', '.join(sorted(known))}", *where, key)


def _refuse_out_of_range(table: Mapping[str, Any], section: str, label: str, where: Key,
                  fail) -> None:
    for key, value in table.items():
        rule = RANGES.get((section, key))
        if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # not range-checked, or the wrong type (the loader says so)
        meaning, low, high, low_inclusive = rule
        below = low is not None and (value < low or (value == low and not low_inclusive))
        above = high is not None and value > high
        if not math.isfinite(value) or below or above:
            fail(f"{label} {key} = {value!r} is out of range: {meaning}", *where, key)
