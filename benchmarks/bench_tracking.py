"""Benchmark the dependency-tracking audit hook: what it adds to a kernel's work.

Runs, in fresh Python processes, what an article's kernel does before its own
model: import ``cloudpad`` (which installs the hook when the runner asks for it),
the scientific stack, the article API and a few models, and load two datasets.
Each variant runs ``ROUNDS`` times, interleaved, and the best time of each is
compared: the same work with the hook (``CLOUDPAD_DEPS_LOG`` set) and without.
Goal (issue 8): the hook costs under 0.1 s a notebook.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_tracking.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 7
WORK = """
import cloudpad
import numpy, pandas, scipy.stats, matplotlib.pyplot
from cloudpad import article, data
from cloudpad.models import availability, cost, latency, queueing
data.load("instance_prices")
data.load("azure_rtt_p95_ms")
"""


def once(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", WORK], env=env, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    base = {**os.environ, "CLOUDPAD_DATA_DIR": str(ROOT / "data"), "MPLBACKEND": "Agg"}
    base.pop("CLOUDPAD_DEPS_LOG", None)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "deps.log"
        tracked = {**base, "CLOUDPAD_DEPS_LOG": str(log)}
        plain_times, hook_times = [], []
        for _ in range(ROUNDS):
            plain_times.append(once(base))
            log.unlink(missing_ok=True)
            hook_times.append(once(tracked))
        recorded = len(log.read_text().splitlines())
    plain, hook = min(plain_times), min(hook_times)
    print(f"kernel-like start, best of {ROUNDS}: without the hook {plain:.3f} s, with {hook:.3f} s")
    print(f"the hook adds {hook - plain:+.3f} s ({hook / plain:.3f}x); files recorded: {recorded}")
    print(f"goal: under 0.1 s a notebook: {'met' if hook - plain < 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
