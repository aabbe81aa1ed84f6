"""What grading one module needs, built once and reused for every submission.

A GradingContext holds the module model, its release (to tell edited locked cells
from released ones), the reference results, the limits and a warm Engine whose
framework is the module's stage build (the modules before it, never its own
solution). The reference cache (grader.harness.reference) is filled from here: this
module builds the stage and starts the engine that runs the source.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ContextManager

from nbformat import NotebookNode

from grader.course import Course
from grader.engine import Engine, Limits
from grader.export import build
from grader.harness.merge import released_cells, released_code
from grader.harness.plan import graded_calls, limits_of
from grader.harness.reference import Reference, compute, digest_for, load_cached, save
from grader.module import Module, load_module
from grader.release import release_for_grading


def engine_for(course: Course, module_id: str, *, isolation: str = "auto") -> Engine:
    stage = build(course, before=module_id)
    return Engine(framework_path=stage.path,
                  preload=["numpy", *stage.preload(course.framework)],
                  isolation=isolation, hide=[course.root])


def reference_digest(course: Course, module: Module) -> str:
    """The reference cache key, against the module's stage (built if stale)."""
    return digest_for(module, build(course, before=module.id).digest)


def reference_for(course: Course, module: Module,
                  engine_factory: Callable[[], ContextManager[Engine]]) -> Reference:
    """The cached reference, computed (with an engine from `engine_factory()`) if stale."""
    digest = reference_digest(course, module)
    cached = load_cached(course, module, digest)
    if cached is not None:
        return cached
    with engine_factory() as engine:
        ref = compute(course, module, engine, digest=digest)
    save(course, ref)
    return ref


def answer_shapes_for(course: Course, module: Module) -> dict[str, Any]:
    """Assessment answer shapes for the release; runs the reference if needed."""
    if not any(i.kind == "assessment" for i in module.items):
        return {}
    return reference_for(course, module, lambda: engine_for(course, module.id)).shapes()


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

    def teach(self) -> None:
        """Have the engine compile ahead the released code cells, and the test cells
        run in the kernel whose text is released: a submission's cells that are as
        released then run in its kernel without being compiled there."""
        given = released_code(self.released)
        calls = graded_calls(self.module,
                             in_kernel=self.course.item_in_kernel.get(self.module.id, set()))
        self.engine.learn(released_cells(self.module, self.released),
                          [(c.key, c.setup) for c in calls
                           if c.mode == "kernel" and c.setup and c.setup in given])

    def __enter__(self) -> "GradingContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_context(course: Course, module_id: str, *, timeout_s: float | None = None,
                 memory_mb: int | None = None, isolation: str = "auto",
                 reference: Reference | None = None, engine: Engine | None = None,
                 teach: bool = True) -> GradingContext:
    """Start an engine for the module (or take `engine`, launched already, to own it);
    compute (or load) the reference with it. `teach=False`: the caller teaches the
    engine (GradingContext.teach) once it knows the release the students were given."""
    module = load_module(course.root, module_id, course=course)
    engine = engine or engine_for(course, module_id, isolation=isolation)
    engine.start()
    try:
        ref = reference or reference_for(course, module, lambda: _Borrowed(engine))
    except BaseException:
        engine.close()
        raise
    ctx = GradingContext(course=course, module=module,
                         released=release_for_grading(course, module, ref.shapes()),
                         reference=ref,
                         limits=limits_of(course.policy, timeout_s=timeout_s,
                                          memory_mb=memory_mb),
                         engine=engine)
    if teach:
        ctx.teach()
    return ctx


class _Borrowed:
    """Lend a running engine to reference_for without letting it close it."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *exc: object) -> None:
        return None
