"""Grade a module's submissions on a Dask distributed cluster.

The coordinator (the machine running `grader autograde --scheduler ADDRESS`) does
what needs the whole course: it finds the submissions, decides which are up to date,
computes the reference and the framework stage build. It then packs what a worker
needs into one in-memory tar.gz (course.toml, the sources up to the module, the stage
build and the reference results), scatters it to every worker once, and submits one
task per submission carrying that submission folder's files as bytes.

A worker needs only the installed package: it unpacks the course bundle once per
process (cached by digest), keeps one warm AssignmentContext (engine + zygote) per
thread, unpacks the submission into a temporary folder and calls grade_submission,
exactly as the local batch does. It returns the result record and the executed
notebook; the coordinator alone writes outputs (gradebook, result.json, feedback),
so the gradebook keeps a single writer and a crash loses nothing already written.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from grader.autograde.batch import ModuleSummary, Outputs, error_result, late_checker, plan_module
from grader.autograde.discover import Submission, folder_digest
from grader.course import COURSE_FILE, Course, load_course
from grader.extensions import EXTENSIONS_FILE
from grader.errors import ConfigError
from grader.export import build
from grader.harness.assignment import (AssignmentContext, AssignmentGraded, grade_assignment,
                                       open_assignment)
from grader.harness.grade import executed_text
from grader.harness.reference import Reference, cache_path
from grader.module import load_notebooks
from grader.result import Result

BUNDLE_BUILD = "build"           # where the bundle puts the build folder, whatever course.toml says
IN_FLIGHT_PER_THREAD = 4         # tasks submitted ahead per worker thread (bounds coordinator memory)


# -- packing (coordinator side) --------------------------------------------------------------
def _add_tree(tar: tarfile.TarFile, folder: Path, arcname: str) -> None:
    """Add a folder with sorted entries and fixed metadata, so the bytes are reproducible."""
    for path in [folder, *sorted(folder.rglob("*"))]:
        if path.name == "__pycache__" or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(folder)
        info = tar.gettarinfo(str(path), arcname=str(Path(arcname) / rel) if rel.parts else arcname)
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        if path.is_file():
            with path.open("rb") as fh:
                tar.addfile(info, fh)
        elif path.is_dir():
            tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def pack_course(course: Course, module_id: str) -> bytes:
    """What a worker needs to grade `module_id`: course.toml, the sources of the module
    and the modules before it (the stage build is checked against them), the stage build,
    the cached reference and course/extensions.csv if there is one. Nothing else (no
    roster, no submissions, no gradebook)."""
    notebooks = load_notebooks(course.root, module_id, course=course)
    ref_paths = {m.cache_key: cache_path(course, m) for m in notebooks}   # one per notebook
    stage = course.build_dir / "stages" / module_id
    for ref_path in [*ref_paths.values(), stage]:
        if not ref_path.exists():
            raise ConfigError(f"the reference or the stage build of {module_id} is missing "
                              f"(expected {ref_path})")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        _add_bytes(tar, str(COURSE_FILE), (course.root / COURSE_FILE).read_bytes())
        if (course.root / EXTENSIONS_FILE).is_file():     # the late policy reads it
            _add_bytes(tar, str(EXTENSIONS_FILE), (course.root / EXTENSIONS_FILE).read_bytes())
        for config in [*course.modules_before(module_id), course.module(module_id)]:
            folder = course.source_dir / config.id
            if folder.is_dir():
                _add_tree(tar, folder, f"source/{config.id}")
        if (course.release_dir / module_id).is_dir():   # what students were handed (handed_out)
            _add_tree(tar, course.release_dir / module_id, f"release/{module_id}")
        _add_tree(tar, stage, f"{BUNDLE_BUILD}/stages/{module_id}")
        for key, ref_path in ref_paths.items():
            _add_bytes(tar, f"{BUNDLE_BUILD}/reference/{key}.json", ref_path.read_bytes())
    return buf.getvalue()


def pack_folder(folder: Path) -> dict[str, bytes]:
    """Every file of a submission folder, by path relative to it."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- worker side -------------------------------------------------------------------------------
_lock = threading.Lock()
_courses: dict[str, Path] = {}            # bundle digest -> unpacked course root
_local = threading.local()                # .key, .ctx: this thread's warm grading context
_contexts: list[AssignmentContext] = []      # every context opened in this process (closed at exit)


def _safe_extract(data: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")


def _course_root(bundle: bytes, digest: str) -> Path:
    with _lock:
        root = _courses.get(digest)
        if root is None:
            if hashlib.sha256(bundle).hexdigest() != digest:
                raise ConfigError("the course bundle is corrupt (digest mismatch)")
            root = Path(tempfile.mkdtemp(prefix="grader-course-"))
            _safe_extract(bundle, root)
            _courses[digest] = root
        return root


def _context(bundle: bytes, digest: str, module_id: str, timeout_s: float | None,
             memory_mb: int | None, isolation: str) -> AssignmentContext:
    key = (digest, module_id, timeout_s, memory_mb, isolation)
    if getattr(_local, "key", None) == key and _local.ctx is not None:
        return _local.ctx
    if getattr(_local, "ctx", None) is not None:      # a new course version: retire the old engine
        _local.ctx.close()
        with _lock:
            _contexts.remove(_local.ctx)
        _local.key = _local.ctx = None
    root = _course_root(bundle, digest)
    course = load_course(root)
    course.build_dir = root / BUNDLE_BUILD
    references = [Reference(**json.loads((course.build_dir / "reference" / f"{m.cache_key}.json")
                                         .read_text("utf-8")))
                  for m in load_notebooks(root, module_id, course=course)]
    ctx = open_assignment(course, module_id, timeout_s=timeout_s, memory_mb=memory_mb,
                          isolation=isolation, references=references)
    with _lock:
        _contexts.append(ctx)
    _local.key, _local.ctx = key, ctx
    return ctx


@atexit.register
def _close_all() -> None:
    with _lock:
        contexts, _contexts[:] = list(_contexts), []
        roots = list(_courses.values())
        _courses.clear()
    for ctx in contexts:
        try:
            ctx.close()
        except Exception:
            pass
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


def grade_remote(bundle: bytes, digest: str, module_id: str, student: str,
                 files: dict[str, bytes], timeout_s: float | None = None,
                 memory_mb: int | None = None, isolation: str = "auto"
                 ) -> tuple[dict[str, Any], dict[str, str]]:
    """The task: grade one submission on a worker; (result.json's object, executed
    notebooks' JSON by file name): plain data across the wire."""
    ctx = _context(bundle, digest, module_id, timeout_s, memory_mb, isolation)
    with tempfile.TemporaryDirectory(prefix="grader-sub-") as tmp:
        folder = Path(tmp) / student / module_id
        folder.mkdir(parents=True)
        for rel, data in files.items():
            path = (folder / rel).resolve()
            if not path.is_relative_to(folder.resolve()):
                raise ValueError(f"submission file outside its folder: {rel!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        graded = grade_assignment(ctx, student, folder, late=late_checker(ctx.course, module_id))
    # every executed notebook of the assignment, by file name
    return graded.result.to_json(), {name: executed_text(nb)
                                     for name, nb in graded.executed_all.items()}


# -- coordinator -------------------------------------------------------------------------------
def grade_module_on_cluster(course: Course, module_id: str, *, scheduler: Any,
                            students: list[str] | None = None, timeout_s: float | None = None,
                            memory_mb: int | None = None, force: bool = False,
                            outputs: Outputs,
                            on_progress: Callable[[str, int, int], None] = lambda *a: None,
                            isolation: str = "auto") -> ModuleSummary:
    """Like batch.grade_module, with the grading done by the cluster's workers.
    `scheduler` is an address ("tcp://host:8786") or a distributed.Client."""
    from distributed import Client, as_completed

    plan = plan_module(course, module_id, students=students, force=force, isolation=isolation)
    module, summary, todo_list = plan.module, plan.summary, plan.todo
    on_progress(module_id, 0, len(todo_list))
    if not todo_list:
        return plan.finish()
    build(course, before=module_id)
    bundle = pack_course(course, module_id)
    digest = hashlib.sha256(bundle).hexdigest()

    own_client = not isinstance(scheduler, Client)
    client = Client(scheduler) if own_client else scheduler
    futures: dict[Any, tuple[Submission, str]] = {}
    try:
        [bundle_future] = client.scatter([bundle], broadcast=True, hash=False)
        threads = sum(client.nthreads().values()) or 1
        pending = iter(todo_list)

        def submit_next() -> Any | None:
            submission = next(pending, None)
            if submission is None:
                return None
            future = client.submit(grade_remote, bundle_future, digest, module_id,
                                   submission.student, pack_folder(submission.folder),
                                   timeout_s, memory_mb, isolation, pure=False,
                                   key=f"grade-{module_id}-{submission.student}-{time.time_ns()}")
            futures[future] = (submission, folder_digest(submission.folder))
            return future

        first = [f for f in (submit_next() for _ in range(threads * IN_FLIGHT_PER_THREAD)) if f]
        running = as_completed(first)
        for count, future in enumerate(running, start=1):
            submission, sub_digest = futures.pop(future)
            try:
                result, executed = future.result()
                notebooks = {name: nbformat.reads(text, as_version=4)
                             for name, text in executed.items()}
                graded = AssignmentGraded(result=Result.from_json(result),
                                          executed=next(iter(notebooks.values()), None),
                                          executed_all=notebooks)
                graded.result.folder_digest = sub_digest
            except Exception as exc:   # a worker lost or a harness bug: this submission only
                graded = error_result(module, submission, exc)
            nxt = submit_next()
            if nxt is not None:
                running.add(nxt)
            outputs.write(submission, graded)
            summary.count(graded.result)
            on_progress(module_id, count, len(todo_list))
    finally:
        outputs.flush()                  # also when interrupted: what was graded is kept
        if futures:                      # interrupted: do not leave work queued on the cluster
            client.cancel(list(futures))
        if own_client:
            client.close()
    return plan.finish()
