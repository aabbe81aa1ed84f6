"""Seconds per job for a 40-cell numpy job through a warm Engine (not a pytest module).

    .venv/bin/python tests/engine/bench_engine.py [--jobs N] [--isolation MODE]
"""
from __future__ import annotations

import argparse
import statistics
import time

from grader.engine import Call, Cell, Engine, Job, Limits


def make_job() -> Job:
    cells = [Cell("setup", "import numpy as np\nrng = np.random.default_rng(0)")]
    for i in range(1, 40):
        cells.append(Cell(f"cell-{i}", f"a{i} = rng.standard_normal((50, 50))\n"
                                       f"b{i} = a{i} @ a{i}.T\nprint(float(b{i}.trace()))\nb{i}.shape"))
    calls = [Call("value", "def answer():\n    return {'t': np.trace(b39), 'n': b39.shape}\n",
                  ["answer"], want_value=True)]
    return Job(cells=cells, calls=calls, workdir=None, limits=Limits())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--isolation", default="auto")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with Engine(preload=["numpy"], isolation=args.isolation) as engine:
        print(f"zygote start: {time.perf_counter() - t0:.3f} s, mode {engine.isolation.mode}")  # type: ignore[union-attr]
        job = make_job()
        times = []
        for _ in range(args.jobs):
            t = time.perf_counter()
            result = engine.run(job)
            times.append(time.perf_counter() - t)
            assert all(c.status == "ok" for c in result.cells), [c.error for c in result.cells if c.error]
            assert result.calls[0].status == "passed"
    print(f"per job (40 cells): median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {len(times)} jobs")


if __name__ == "__main__":
    main()
