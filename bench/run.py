"""`make bench`: grade the same N Training submissions with grader and with nbgrader.

    python -m bench.run [--n 100] [--workers N] [--repeat 3] [--nbgrader-repeat 3]
                        [--no-nbgrader] [--no-profile]

Steps, all in one run on this machine (work files under bench/work/, ignored by git):
1. a copy of the demo course limited to 09_training (sources 01-09: module 09 runs
   against the framework stage built from 01-08) and N submissions built from the
   release with grader.synth: complete, partly wrong, untouched, failing;
2. `grader autograde 09_training --force`, `--repeat` times (the median's wall clock,
   every run's, and the highest peak memory of the process tree), with the fast path
   on and off;
3. the same notebooks through `nbgrader autograde ps1` in an nbgrader course made from
   the same source (tinytorch importable from the same stage build), `--nbgrader-repeat`
   times (the median, as for grader);
4. `grader check` against `nbgrader validate` on one complete notebook;
5. a cProfile of one batch (bench/profiling.py).
Writes bench/results.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results.json"
MODULE = "09_training"
ASSIGNMENT = "ps1"

# The mix, per 10 submissions: 4 complete, 3 partly wrong, 2 untouched release, 1 failing.
MIX = ["complete"] * 4 + ["wrong"] * 3 + ["untouched"] * 2 + ["failing"]
MISTAKES = [  # (grade_id, old, new): the demo's partly-wrong edits (scripts/make_demo_submissions.py)
    ("training-batch-size", "activation_per_sample = 10 * 1000 * 4",
     "activation_per_sample = 10 * 1000 * 8"),
    ("crossentropy-loss", "        if len(true_data.shape) == 1:",
     "        true_data = true_data.argmax(axis=1)\n        if len(true_data.shape) == 1:"),
]
CRASHING_LOSS = ("crossentropy-loss", "        ### BEGIN SOLUTION\n",
                 "        ### BEGIN SOLUTION\n        raise RuntimeError('loss not implemented yet')\n")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- the benchmark course ----------------------------------------------------------------------
def make_course(n: int) -> tuple[Path, dict[str, str]]:
    """bench/work/course: course.toml, sources 01..09, release 09, N submissions."""
    from grader.course import load_course
    from grader.synth import edit, release_of, replace, solved, write_submission

    course_root = WORK / "course"
    shutil.rmtree(course_root, ignore_errors=True)
    (course_root / "course").mkdir(parents=True)
    shutil.copy2(ROOT / "course" / "course.toml", course_root / "course" / "course.toml")
    course = load_course(course_root)
    ids = [m.id for m in course.modules]
    keep = ids[: ids.index(MODULE) + 1]
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for module_id in keep:
        shutil.copytree(ROOT / "source" / module_id, course_root / "source" / module_id,
                        ignore=ignore)
    shutil.copytree(ROOT / "release" / MODULE, course_root / "release" / MODULE, ignore=ignore)
    students = [f"s{i:03d}" for i in range(1, n + 1)]
    (course_root / "course" / "roster.csv").write_text(
        "id,name,email\n" + "".join(f"{s},Student {s},{s}@example.edu\n" for s in students),
        encoding="utf-8")

    module, release = release_of(course, MODULE)
    due = course.module(MODULE).due
    complete = solved(module, release)
    wrong = [edit(complete, *m[:1], replace(*m[1:])) for m in MISTAKES]
    failing = edit(complete, CRASHING_LOSS[0], replace(*CRASHING_LOSS[1:]))
    kinds: dict[str, str] = {}
    for i, student in enumerate(students):
        kind = MIX[i % len(MIX)]
        nb = {"complete": complete, "untouched": release, "failing": failing,
              "wrong": wrong[i % len(wrong)]}[kind]
        late = i % 7 == 3
        submitted = (due + timedelta(days=1, hours=2)) if late else (due - timedelta(hours=5))
        write_submission(course_root, student, MODULE, nb, name=module.notebook_name,
                         submitted_at=submitted)
        kinds[student] = kind
    return course_root, kinds


# -- measuring ---------------------------------------------------------------------------------
class TreeMemory:
    """Peak memory of a process and its descendants, sampled every 50 ms: resident (RSS,
    which counts a page shared by forked processes once per process) and proportional
    (PSS: a shared page split among its sharers, so the tree's sum is what it uses)."""

    def __init__(self, pid: int, interval_s: float = 0.05):
        import psutil
        self.psutil, self.root = psutil, psutil.Process(pid)
        self.interval_s, self.peak_bytes, self.peak_processes = interval_s, 0, 0
        self.peak_pss_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        tick = 0
        while not self._stop.is_set():
            total, pss, count = 0, 0, 0
            tick += 1   # PSS (page tables walked) every 4th sample: the sampler must not
            with_pss = tick % 4 == 1   # take much of the CPU it measures
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except self.psutil.Error:
                procs = []
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                    count += 1
                    pss += _pss(proc.pid) if with_pss else 0
                except self.psutil.Error:  # gone, or another uid we may not read
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
            self.peak_processes = max(self.peak_processes, count)
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int:
    """A process's proportional set size in bytes (0 if it is gone or not readable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
          memory: bool = False, check: bool = True) -> dict[str, Any]:
    log("$ " + " ".join(cmd))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sampler = TreeMemory(proc.pid) if memory else None
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if sampler:
        sampler.stop()
    if check and proc.returncode != 0:
        sys.stderr.write(out[-4000:] + err[-4000:])
        raise SystemExit(f"bench: {cmd[0]} ... failed with exit code {proc.returncode}")
    record: dict[str, Any] = {"seconds": round(seconds, 3), "exit_code": proc.returncode,
                              "stderr_tail": err[-2000:]}
    if sampler:
        record["peak_rss_mb"] = round(sampler.peak_bytes / 2**20, 1)
        record["peak_pss_mb"] = round(sampler.peak_pss_bytes / 2**20, 1)
        record["peak_processes"] = sampler.peak_processes
    return record


def repeated(n: int, cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None
             ) -> dict[str, Any]:
    """`timed` n times (a 2-core VM varies by a few percent from run to run): the median
    run's record, with every run's seconds, and the highest peak memory of all."""
    runs = [timed(cmd, cwd=cwd, env=env, memory=True) for _ in range(max(1, n))]
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**median, "runs_s": [r["seconds"] for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "peak_pss_mb": max(r["peak_pss_mb"] for r in runs),
            "peak_processes": max(r["peak_processes"] for r in runs)}


def grader_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from grader.cli import main; main()", *args]


def nbgrader_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "nbgrader", *args]


# -- nbgrader ----------------------------------------------------------------------------------
def nbgrader_env(stage: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stage), env.get("PYTHONPATH")]))
    # nbgrader runs `alembic` from PATH: the virtual environment's scripts must be on it
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_CONFIG_DIR"] = str(WORK / "jupyter-config")   # no user config leaks in
    (WORK / "jupyter-config").mkdir(parents=True, exist_ok=True)
    return env


def make_nbgrader_course(course_root: Path, students: list[str], env: dict[str, str]) -> Path:
    import jupytext
    import nbformat

    nb_root = WORK / "nbgrader"
    shutil.rmtree(nb_root, ignore_errors=True)
    (nb_root / "source" / ASSIGNMENT).mkdir(parents=True)
    (nb_root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(nb_root)!r}\n"
        "c.CourseDirectory.course_id = 'tinytorch-bench'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{nb_root / 'gradebook.db'}'\n",
        encoding="utf-8")
    source = course_root / "source" / MODULE / "training_dev.py"
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for cell in nb.cells:          # jupytext's formatting keys are not nbgrader's business
        for key in ("lines_to_next_cell", "cell_marker"):
            cell.metadata.pop(key, None)
    name = "training_dev.ipynb"
    nbformat.write(nb, nb_root / "source" / ASSIGNMENT / name)
    timed(nbgrader_cmd("generate_assignment", ASSIGNMENT, "--force"), cwd=nb_root, env=env)
    for student in students:
        src = course_root / "submitted" / student / MODULE
        dest = nb_root / "submitted" / student / ASSIGNMENT
        dest.mkdir(parents=True)
        shutil.copy2(src / name, dest / name)
        shutil.copy2(src / "timestamp.txt", dest / "timestamp.txt")
    return nb_root


def nbgrader_scores(nb_root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{nb_root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


# -- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="grader's parallel kernels (default: cores)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="grader batches timed (default 3): the median counts")
    parser.add_argument("--nbgrader-repeat", type=int, default=3,
                        help="nbgrader batches timed (default 3, ~2 min each): the median "
                             "counts, as for grader (nbgrader's own time varies by ~10%%)")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader (no ratio)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile batch")
    parser.add_argument("--profile-n", type=int, default=20, help="submissions profiled")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)

    from grader.course import load_course
    from grader.export import build
    from grader.harness.session import engine_for, reference_for
    from grader.module import load_module

    log(f"building {args.n} submissions of {MODULE} in {WORK}")
    course_root, kinds = make_course(args.n)
    students = sorted(kinds)
    course = load_course(course_root)
    stage = build(course, before=MODULE).path
    t0 = time.perf_counter()
    module = load_module(course.root, MODULE, course=course)
    reference_for(course, module, lambda: engine_for(course, MODULE))   # once per source
    # change, like nbgrader's generate_assignment
    reference_s = time.perf_counter() - t0
    results: dict[str, Any] = {
        "n": args.n, "module": MODULE, "workers": args.workers,
        "mix": {k: sum(1 for v in kinds.values() if v == k) for k in dict.fromkeys(MIX)},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "root": os.geteuid() == 0,
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "reference_s": round(reference_s, 2), "tools": {}}

    log("grading with grader, every cell through IPython's full run_cell (before the "
        "plain-Python fast path)")
    before = repeated(args.repeat, grader_cmd("--course", str(course_root), "autograde", MODULE,
                                              "--force", "--workers", str(args.workers)),
                      cwd=course_root, env={**os.environ, "GRADER_FAST_PATH": "0"})
    before.update(submissions=args.n, per_s=round(args.n / before["seconds"], 3))
    results["tools"]["grader_full_ipython_path"] = before
    log("grading with grader")
    g = repeated(args.repeat, grader_cmd("--course", str(course_root), "autograde", MODULE,
                                         "--force", "--workers", str(args.workers)),
                 cwd=course_root)
    scores = {}
    for s in students:
        r = json.loads((course_root / "autograded" / s / MODULE / "result.json").read_text())
        scores[s] = r["score"]
        g.setdefault("isolation", r.get("isolation", {}).get("mode"))
    g.update(submissions=args.n, per_s=round(args.n / g["seconds"], 3),
             mean_score=round(sum(scores.values()) / len(scores), 3))
    results["tools"]["grader"] = g

    env = nbgrader_env(stage)
    if not args.no_nbgrader:
        log("setting up the nbgrader course")
        nb_root = make_nbgrader_course(course_root, students, env)
        log("grading with nbgrader (sequential: nbgrader autograde has no parallel mode)")
        nbg = repeated(args.nbgrader_repeat, nbgrader_cmd("autograde", ASSIGNMENT, "--force"),
                       cwd=nb_root, env=env)
        nscores = nbgrader_scores(nb_root)
        nbg.update(submissions=args.n, per_s=round(args.n / nbg["seconds"], 3),
                   graded=len(nscores),
                   mean_score=round(sum(nscores.values()) / max(1, len(nscores)), 3))
        results["tools"]["nbgrader"] = nbg
        results["ratio"] = round(g["per_s"] / nbg["per_s"], 2)
        results["ratio_before_fast_path"] = round(before["per_s"] / nbg["per_s"], 2)

    # one notebook, the student's self-check against nbgrader's validate
    check_dir = WORK / "check"
    shutil.rmtree(check_dir, ignore_errors=True)
    check_dir.mkdir()
    first_complete = next(s for s in students if kinds[s] == "complete")
    notebook = check_dir / "training_dev.ipynb"
    shutil.copy2(course_root / "submitted" / first_complete / MODULE / notebook.name, notebook)
    c = timed(grader_cmd("--course", str(course_root), "check", str(notebook)), cwd=check_dir,
              check=False)
    results["check"] = {"grader_check_s": c["seconds"], "grader_check_exit": c["exit_code"]}
    if not args.no_nbgrader:
        v = timed(nbgrader_cmd("validate", str(notebook)), cwd=check_dir, env=env, check=False)
        results["check"].update(nbgrader_validate_s=v["seconds"],
                                nbgrader_validate_exit=v["exit_code"])

    if not args.no_profile:
        from bench.profiling import profile_batch
        log(f"profiling one batch of {min(args.profile_n, args.n)} submissions")
        results["profile"] = profile_batch(course, students[: args.profile_n],
                                           WORK / "profile.txt")

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for tool in results["tools"].values():
        tool.pop("stderr_tail", None)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print_table(results)
    log(f"wrote {RESULTS}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"\n{results['n']} submissions of {results['module']} "
          f"({', '.join(f'{v} {k}' for k, v in results['mix'].items())}) on {m['cores']} cores, "
          f"Python {m['python']}\n")
    print("| tool | seconds | submissions/s | peak memory (MB, tree RSS) | peak PSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    labels = {"grader": f"grader autograde --workers {results['workers']}",
              "grader_full_ipython_path": f"grader autograde --workers {results['workers']}, "
                                          "GRADER_FAST_PATH=0 (before)",
              "nbgrader": "nbgrader autograde"}
    for name, t in results["tools"].items():
        label = labels.get(name, name)
        runs = t.get("runs_s", [])
        seconds = f"{t['seconds']:.1f}" + (f" (median of {', '.join(f'{r:.1f}' for r in runs)})"
                                           if len(runs) > 1 else "")
        print(f"| {label} | {seconds} | {t['per_s']:.2f} | {t['peak_rss_mb']:.0f} | "
              f"{t.get('peak_pss_mb', 0):.0f} |")
    if "ratio" in results:
        print(f"\nratio (grader / nbgrader throughput): {results['ratio']:.1f}x")
    c = results["check"]
    line = f"one notebook: grader check {c['grader_check_s']:.2f} s"
    if "nbgrader_validate_s" in c:
        line += f", nbgrader validate {c['nbgrader_validate_s']:.2f} s"
    print(line)
    if "profile" in results:
        p = results["profile"]
        print(f"\nper submission on one worker: {p['per_submission_s'] * 1000:.0f} ms, of which "
              f"{p['overhead_per_submission_s'] * 1000:.0f} ms beyond the code's own compute")
        print("\nwhere the time goes (one batch, one worker):")
        for row in results["profile"]["breakdown"]:
            print(f"  {row['share']:5.1%}  {row['what']}")


if __name__ == "__main__":
    raise SystemExit(main())
