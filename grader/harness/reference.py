"""Reference results: the source notebook run the way submissions are run.

Run twice; an assessment key whose value differs between the runs is volatile (it is
reported and not scored). Cached under build/reference/ keyed by the hash of the
source, the framework stage it runs against and the harness version. The cache lives
outside every sandbox's view: student code never sees a reference value.

This module only computes, loads and saves; building the stage and starting the
engine that runs the source is grader.harness.session's job (reference_for).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.course import Course
from grader.engine import Cell, Engine, Job, RunResult
from grader.files import write_atomic
from grader.harness.compare import shape_of
from grader.harness.plan import graded_calls, job_for, limits_of
from grader.module import Module

HARNESS_VERSION = "3"   # bump when reference results change meaning


@dataclass
class Reference:
    module: str
    digest: str
    answers: dict[str, Any]                       # assessment id -> JSON answer
    volatile: dict[str, list[str]]                # assessment id -> keys that changed
    calls: dict[str, dict[str, Any]]              # call key -> {"status", "message"}
    cells: dict[str, str] = field(default_factory=dict)   # cell key -> status
    duration_s: float = 0.0

    def shapes(self) -> dict[str, dict]:
        return {item: shape_of(value) for item, value in self.answers.items()}


def digest_for(module: Module, stage_digest: str) -> str:
    """The cache key: the source, the framework stage it runs against (its digest),
    the module's course.toml settings and the harness version."""
    assessments = ",".join(i.id for i in module.items if i.kind == "assessment")
    h = hashlib.sha256(f"{HARNESS_VERSION}:{module.source.sha256}:{stage_digest}:"
                       f"{','.join(module.skip_unit_tests)}:{assessments}".encode())
    return h.hexdigest()


def cache_path(course: Course, module: Module) -> Path:
    return course.build_dir / "reference" / f"{module.cache_key}.json"


def _same(a: Any, b: Any) -> bool:
    """Exactly the same JSON value (a deterministic computation repeats to the bit; a
    timestamp moves by less than any tolerance, so tolerances would hide it)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def volatile_keys(first: Any, second: Any) -> list[str]:
    if isinstance(first, dict) and isinstance(second, dict):
        return [k for k in first if k not in second or not _same(second[k], first[k])]
    return [] if _same(second, first) else ["(value)"]


def source_job(course: Course, module: Module) -> Job:
    cells = [Cell(key=c.key, source=c.source) for c in module.source.cells
             if c.cell.cell_type == "code"]
    calls = graded_calls(module, in_kernel=course.item_in_kernel.get(module.id, set()))
    return job_for(module, cells, calls, workdir=None, limits=limits_of(course.policy),
                   framework=course.framework)


def _summarise(run: RunResult) -> tuple[dict[str, Any], dict[str, dict], dict[str, str]]:
    answers = {c.key: c.value for c in run.calls if c.status == "passed" and c.value_error is None}
    calls = {c.key: {"status": c.status, "function": c.function,
                     "message": f"{c.error.ename}: {c.error.evalue}" if c.error else ""}
             for c in run.calls}
    return answers, calls, {c.key: c.status for c in run.cells}


def compute(course: Course, module: Module, engine: Engine, *, digest: str) -> Reference:
    """Run the source twice on `engine` (started on the module's stage build)."""
    job = source_job(course, module)
    first = engine.run(job)
    second = engine.run(job)
    answers, calls, cells = _summarise(first)
    again, _, _ = _summarise(second)
    assessments = {i.id for i in module.items if i.kind == "assessment"}
    answers = {k: v for k, v in answers.items() if k in assessments}
    volatile = {}
    for item, value in answers.items():
        keys = volatile_keys(value, again.get(item))
        if keys:
            volatile[item] = keys
    return Reference(module=module.cache_key, digest=digest, answers=answers,
                     volatile=volatile, calls=calls, cells=cells,
                     duration_s=first.duration_s)


def load_cached(course: Course, module: Module, digest: str) -> Reference | None:
    """The cached reference if it was computed for `digest`, else None."""
    path = cache_path(course, module)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ref = Reference(**data)
    except (ValueError, TypeError):
        return None
    return ref if ref.digest == digest else None


def save(course: Course, ref: Reference) -> None:
    write_atomic(course.build_dir / "reference" / f"{ref.module}.json",
                 json.dumps(asdict(ref), indent=1))
