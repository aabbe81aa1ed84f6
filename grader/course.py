"""The course on disk: course/course.toml and course/roster.csv.

Loading is strict: a missing file, an unknown module key or a malformed date is a
ConfigError naming the file, the key and (for the roster) the line.
"""
from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader import course_schema
from grader.errors import ConfigError

COURSE_FILE = Path("course") / "course.toml"
ROSTER_FILE = Path("course") / "roster.csv"


@dataclass(frozen=True)
class Tolerance:
    """How an assessment item compares answers (DESIGN.md, graded items 2)."""

    rel_tol: float = 1e-3
    abs_tol: float = 1e-9
    all_or_nothing: bool = False


@dataclass(frozen=True)
class Policy:
    cell_timeout_s: float = 30.0
    item_timeout_s: float = 60.0
    submission_timeout_s: float = 900.0   # wall clock for one submission, all items
    memory_mb: int = 2048
    disk_mb: int = 256                    # the sandbox's working folder (tmpfs)
    pids_max: int = 256                   # processes and threads per sandbox
    seed: int = -1                        # >= 0: random and numpy.random re-seeded before
    # every cell (deterministic outputs and answers); -1: not seeded, as in Jupyter
    output_cap_bytes: int = 1_000_000
    show_expected: bool = False


@dataclass(frozen=True)
class LatePolicy:
    penalty_per_day: float = 0.0   # fraction of max score per started day late
    max_penalty: float = 1.0       # cap, fraction of max score
    grace_minutes: float = 0.0


@dataclass(frozen=True)
class ModuleConfig:
    id: str                        # folder name, e.g. "09_training"
    title: str
    due: datetime | None
    skip_unit_tests: tuple[str, ...] = ()   # test* functions the harness must not call
    # graded solution code cells scored as computational assessments: "all" or grade_ids
    # (any other graded solution code cell is a manual answer, as in nbgrader)
    assessments: str | tuple[str, ...] = ()


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    # optional roster columns an LMS matches students by (`grader export --format canvas|lms`)
    sis_id: str = ""           # Canvas "SIS User ID"
    login_id: str = ""         # Canvas "SIS Login ID", Moodle/Blackboard username
    section: str = ""
    lms_id: str = ""           # the LMS's own user id (Canvas "ID")


@dataclass
class Course:
    root: Path
    id: str
    title: str
    framework: str
    build_dir: Path
    modules: list[ModuleConfig]
    policy: Policy = field(default_factory=Policy)
    tolerance: Tolerance = field(default_factory=Tolerance)
    late: LatePolicy = field(default_factory=LatePolicy)
    item_overrides: dict[str, dict[str, Tolerance]] = field(default_factory=dict)
    item_assessments: dict[str, dict[str, bool]] = field(default_factory=dict)
    # test items the course runs inside the student's process ([items.M.ID] in_kernel =
    # true): only for tests the trusted driver cannot carry; their results say so
    item_in_kernel: dict[str, set[str]] = field(default_factory=dict)
    database_url: str | None = None

    # -- paths -----------------------------------------------------------------
    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded_dir(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.root / "feedback"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def templates_dir(self) -> Path:
        return self.root / "course" / "templates"

    @property
    def db_url(self) -> str:
        # grader.db, never nbgrader's gradebook.db: the two must not share a file
        return self.database_url or f"sqlite:///{self.root / 'grader.db'}"

    # -- lookups ---------------------------------------------------------------
    def module(self, module_id: str) -> ModuleConfig:
        for module in self.modules:
            if module.id == module_id:
                return module
        known = ", ".join(m.id for m in self.modules)
        raise ConfigError(f"unknown module {module_id!r}; course.toml lists: {known}",
                          path=self.root / COURSE_FILE)

    def modules_before(self, module_id: str) -> list[ModuleConfig]:
        index = [m.id for m in self.modules].index(self.module(module_id).id)
        return self.modules[:index]

    def is_assessment(self, module_id: str, item_id: str) -> bool:
        """Whether a graded solution code cell is a computational assessment: declared
        per item (`[items.MODULE.ID] assessment = true|false`, which wins) or per module
        (`[[modules]] assessments = "all"` or a list of grade_ids)."""
        declared = self.item_assessments.get(module_id, {}).get(item_id)
        if declared is not None:
            return declared
        config = next((m for m in self.modules if m.id == module_id), None)
        if config is None:
            return False
        return config.assessments == "all" or item_id in config.assessments

    def runs_in_kernel(self, module_id: str, item_id: str) -> bool:
        return item_id in self.item_in_kernel.get(module_id, set())

    def tolerance_for(self, module_id: str, item_id: str) -> Tolerance:
        return self.item_overrides.get(module_id, {}).get(item_id, self.tolerance)

    def roster(self) -> list[Student]:
        return load_roster(self.root / ROSTER_FILE)


def _parse_due(value: Any, *, key: str, path: Path, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        due = value
    elif isinstance(value, str):
        try:
            due = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{key}: {value!r} is not an ISO date "
                              "(write e.g. 2026-09-14T23:59:00Z)", path=path) from None
    else:
        raise ConfigError(f"{key}: expected a date string, got {type(value).__name__}", path=path)
    return due if due.tzinfo else due.replace(tzinfo=tz)


def _section(data: dict[str, Any], name: str, cls: type, path: Path) -> Any:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table", path=path)
    known = set(cls.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"[{name}] has unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(known))}", path=path)
    defaults = cls()
    values = {}
    for key, value in raw.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected):
            raise ConfigError(f"[{name}] {key} must be {expected.__name__}, got {value!r}", path=path)
        values[key] = value
    return cls(**values)


# course.toml's plain tables and their keys ([[modules]] and [items] are checked apart)
SECTIONS: dict[str, tuple[str, ...]] = {
    "course": ("id", "title", "framework", "build_dir", "timezone"),
    "policy": tuple(Policy.__dataclass_fields__),
    "assessment": tuple(Tolerance.__dataclass_fields__),
    "late": tuple(LatePolicy.__dataclass_fields__),
    "database": ("url",),
}


def load_course(root: Path | str = ".") -> Course:
    """Read `<root>/course/course.toml`. Raises ConfigError with file and key."""
    root = Path(root).resolve()
    path = root / COURSE_FILE
    if not path.is_file():
        raise ConfigError(f"no course here: {path} does not exist "
                          "(run from the course root or pass --course DIR)")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error carries the position only in its text: "(at line 4, column 10)"
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        raise ConfigError(f"not valid TOML: {exc}", path=path, line=line) from None
    course_schema.verify(data, text, path, sections=SECTIONS,
                         module_keys=tuple(ModuleConfig.__dataclass_fields__))
    head = data.get("course")
    if not isinstance(head, dict) or "id" not in head:
        raise ConfigError("missing [course] table with an `id`", path=path)
    try:
        tz = ZoneInfo(head.get("timezone", "UTC"))
    except ZoneInfoNotFoundError:
        raise ConfigError(f"[course] timezone {head.get('timezone')!r} is unknown", path=path) from None

    raw_modules = data.get("modules")
    if not isinstance(raw_modules, list) or not raw_modules:
        raise ConfigError("no modules: add [[modules]] tables with id, title, due", path=path)
    modules: list[ModuleConfig] = []
    for n, raw in enumerate(raw_modules, start=1):
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ConfigError(f"[[modules]] #{n} has no `id`", path=path)
        unknown = set(raw) - {"id", "title", "due", "skip_unit_tests", "assessments"}
        if unknown:
            raise ConfigError(f"[[modules]] {raw['id']}: unknown key(s) {', '.join(sorted(unknown))}",
                              path=path)
        if raw["id"] in {m.id for m in modules}:
            raise ConfigError(f"[[modules]] {raw['id']} is listed twice", path=path)
        skip = raw.get("skip_unit_tests", [])
        if not isinstance(skip, list) or not all(isinstance(n, str) for n in skip):
            raise ConfigError(f"[[modules]] {raw['id']}: skip_unit_tests must be a list of "
                              "function names", path=path)
        assessments = raw.get("assessments", [])
        if not (assessments == "all" or isinstance(assessments, list)
                and all(isinstance(n, str) for n in assessments)):
            raise ConfigError(f"[[modules]] {raw['id']}: assessments must be \"all\" or a list "
                              "of grade_ids", path=path)
        modules.append(ModuleConfig(id=str(raw["id"]), title=str(raw.get("title", raw["id"])),
                                    due=_parse_due(raw.get("due"), key=f"{raw['id']}.due",
                                                   path=path, tz=tz),
                                    skip_unit_tests=tuple(skip),
                                    assessments=("all" if assessments == "all"
                                                 else tuple(assessments))))

    overrides: dict[str, dict[str, Tolerance]] = {}
    declared: dict[str, dict[str, bool]] = {}
    in_kernel: dict[str, set[str]] = {}
    tolerance = _section(data, "assessment", Tolerance, path)
    for module_id, items in (data.get("items") or {}).items():
        if module_id not in {m.id for m in modules}:
            raise ConfigError(f"[items.{module_id}] names a module not in [[modules]]", path=path)
        for item_id, raw in items.items():
            raw = dict(raw)
            if "in_kernel" in raw:
                flag = raw.pop("in_kernel")
                if not isinstance(flag, bool):
                    raise ConfigError(f"[items.{module_id}.{item_id}] in_kernel must be true or "
                                      f"false, got {flag!r}", path=path)
                if flag:
                    in_kernel.setdefault(module_id, set()).add(item_id)
            if "assessment" in raw:
                flag = raw.pop("assessment")
                if not isinstance(flag, bool):
                    raise ConfigError(f"[items.{module_id}.{item_id}] assessment must be true or "
                                      f"false, got {flag!r}", path=path)
                declared.setdefault(module_id, {})[item_id] = flag
            merged = {**tolerance.__dict__, **raw}
            overrides.setdefault(module_id, {})[item_id] = _section(
                {"item": merged}, "item", Tolerance, path)

    database = data.get("database", {})
    return Course(
        root=root,
        id=str(head["id"]),
        title=str(head.get("title", head["id"])),
        framework=str(head.get("framework", "tinytorch")),
        build_dir=root / str(head.get("build_dir", "build")),
        modules=modules,
        policy=_section(data, "policy", Policy, path),
        tolerance=tolerance,
        late=_section(data, "late", LatePolicy, path),
        item_overrides=overrides,
        item_assessments=declared,
        item_in_kernel=in_kernel,
        database_url=database.get("url") if isinstance(database, dict) else None,
    )


LMS_COLUMNS = ("sis_id", "login_id", "section", "lms_id")


def load_roster(path: Path) -> list[Student]:
    """Read roster.csv: grader's columns (id, name, email) or nbgrader's (id, first_name,
    last_name, email), and optionally sis_id, login_id, section, lms_id (how an LMS knows
    the student). A missing roster is an empty class."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "id" not in reader.fieldnames:
            raise ConfigError("roster needs a header row with an `id` column", path=path, line=1)
        students: list[Student] = []
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            student_id = (row.get("id") or "").strip()
            if not student_id:
                raise ConfigError("empty student id", path=path, line=line)
            if student_id in seen:
                raise ConfigError(f"student {student_id!r} listed twice (first on line {seen[student_id]})",
                                  path=path, line=line)
            seen[student_id] = line
            name = (row.get("name") or "").strip() or " ".join(
                part for part in ((row.get("first_name") or "").strip(),
                                  (row.get("last_name") or "").strip()) if part)
            students.append(Student(id=student_id, name=name,
                                    email=(row.get("email") or "").strip(),
                                    **{key: (row.get(key) or "").strip() for key in LMS_COLUMNS}))
    return students


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
