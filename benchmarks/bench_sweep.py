"""Benchmark a parameter sweep: local worker pool vs Dask LocalCluster vs plain Papermill in a row.

A sweep of 16 runs of one article (``how-many-replicas``, the fastest article,
over ``commit_discount``, which changes only cost arithmetic and not the run
time), each on a fresh scratch copy of the book so nothing comes from the cache:

(a) plain Papermill, the notebook executed 16 times one after another in one
    process (what a script around ``papermill.execute_notebook`` does);
(b) ``cloudpad sweep --jobs N`` (local pool of N worker processes);
(c) ``cloudpad sweep --executor dask --jobs N`` (a Dask LocalCluster of N
    single-threaded worker processes, started by the command: its start-up is
    included).

N is the number of cores.  Prints the times, the ratios a/b, a/c and c/b, and
checks that (b) and (c) wrote the same table.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_sweep.py``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_pipeline import scratch_copy

BIN = Path(sys.executable).parent
ARTICLE = "notebooks/availability-latency/how-many-replicas.ipynb"
PARAMETER = "commit_discount"
VALUES = [round(0.04 * i, 2) for i in range(16)]  # 0.0, 0.04, ..., 0.6


#: (a) as a script: Papermill executes the notebook once per value, one after another.
PLAIN = """
import sys, papermill
notebook, out, name = sys.argv[1:4]
for i, value in enumerate(map(float, sys.argv[4:])):
    papermill.execute_notebook(notebook, f"{out}/run-{i}.ipynb", parameters={name: value},
                               kernel_name="python3", cwd=notebook.rsplit("/", 1)[0],
                               progress_bar=False)
"""


def plain_papermill(book: Path) -> float:
    """(a): a Python script running Papermill 16 times in a row (its start-up included)."""
    out = book / "_bench"
    out.mkdir()
    command = [sys.executable, "-c", PLAIN, str(book / ARTICLE), str(out), PARAMETER]
    env = {**os.environ, "CLOUDPAD_DATA_DIR": str(book / "data")}  # the copy's data
    return timed([*command, *map(str, VALUES)], book, env)


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"benchmark step failed: {' '.join(command[:6])} ...")
    return elapsed


def cloudpad_sweep(book: Path, jobs: int, *extra: str) -> tuple[float, list[dict[str, str]]]:
    """(b)/(c): ``cloudpad sweep`` of the same grid, run in the copy; returns time and table."""
    command = [str(BIN / "cloudpad"), "sweep", ARTICLE, "-p", PARAMETER, *map(str, VALUES)]
    elapsed = timed([*command, "--jobs", str(jobs), *extra], book)
    (table,) = (book / "_build" / "sweeps").glob("*/results.csv")
    with open(table, newline="") as handle:
        rows = [
            {k: v for k, v in row.items() if k != "executed_notebook"}
            for row in csv.DictReader(handle)
        ]
    return elapsed, rows


def main() -> None:
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="cloudpad-bench-sweep-") as tmp:
        books = [scratch_copy(Path(tmp) / name) for name in ("a", "b", "c")]
        print(f"sweep: {len(VALUES)} runs of {ARTICLE} over {PARAMETER}; {jobs} cores")
        a = plain_papermill(books[0])
        b, local_rows = cloudpad_sweep(books[1], jobs)
        c, dask_rows = cloudpad_sweep(books[2], jobs, "--executor", "dask")
    rows = [
        ("(a) plain Papermill, 16 runs one after another", a),
        (f"(b) cloudpad sweep, local pool of {jobs} processes", b),
        (f"(c) cloudpad sweep, Dask LocalCluster of {jobs} workers", c),
    ]
    print(f"{'step':<58} {'seconds':>8} {'s/run':>6}")
    for name, seconds in rows:
        print(f"{name:<58} {seconds:>8.1f} {seconds / len(VALUES):>6.2f}")
    print(f"a/b = {a / b:.2f}  (speed-up of the local pool over one after another)")
    print(f"a/c = {a / c:.2f}  (speed-up of Dask over one after another)")
    print(f"c/b = {c / b:.2f}  (Dask LocalCluster against the local pool; 1.0 = same)")
    same = local_rows == dask_rows and len(local_rows) == len(VALUES)
    print(f"local and Dask tables identical ({len(local_rows)} rows): {same}")
    if not same:
        raise SystemExit("the local and Dask sweeps gave different results")


if __name__ == "__main__":
    main()
