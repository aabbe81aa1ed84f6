"""What grading one module needs, built once and reused for every submission.

A GradingContext holds the module model, its release (to tell edited locked cells
from released ones), the reference results, the limits and a warm Engine whose
framework is the module's stage build (the modules before it, never its own
solution).
"""
from __future__ import annotations

from dataclasses import dataclass

from nbformat import NotebookNode

from grader.course import Course
from grader.engine import Engine, Limits
from grader.export import build
from grader.harness.plan import limits_of
from grader.harness.reference import Reference, reference_for
from grader.module import Module, load_module
from grader.release import build_release


def engine_for(course: Course, module_id: str, *, isolation: str = "auto") -> Engine:
    stage = build(course, before=module_id)
    return Engine(framework_path=stage.path,
                  preload=["numpy", *stage.preload(course.framework)],
                  isolation=isolation, hide=[course.root])


@dataclass
class GradingContext:
    course: Course
    module: Module
    released: NotebookNode
    reference: Reference | None
    limits: Limits
    engine: Engine

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> "GradingContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_context(course: Course, module_id: str, *, timeout_s: float | None = None,
                 memory_mb: int | None = None, isolation: str = "auto",
                 reference: Reference | None = None) -> GradingContext:
    """Start an engine for the module; compute (or load) the reference with it."""
    module = load_module(course.root, module_id)
    engine = engine_for(course, module_id, isolation=isolation)
    engine.start()
    try:
        ref = reference or reference_for(course, module, lambda: _Borrowed(engine))
    except BaseException:
        engine.close()
        raise
    return GradingContext(course=course, module=module,
                          released=build_release(course, module, ref.shapes()),
                          reference=ref,
                          limits=limits_of(course.policy, timeout_s=timeout_s,
                                           memory_mb=memory_mb),
                          engine=engine)


class _Borrowed:
    """Lend a running engine to reference_for without letting it close it."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *exc: object) -> None:
        return None
