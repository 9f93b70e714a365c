"""Benchmark the dependency-tracking audit hook: what it adds to a notebook's kernel.

Two measurements:

1. Replay (precise): a fresh Python process does what an article's kernel does
   before its own model (import the scientific stack, the article API and four
   models, load two datasets) and records every audit event it raises.  The
   events are then replayed through the real hook (:func:`cloudpad.pipeline.
   tracking.make_hook`) and through a hook that does nothing, best of 20; the
   difference is what tracking costs per notebook start, beyond the cost of
   having any hook at all, and the total is the whole cost of the hook.
2. End to end (noisy): the same work in fresh processes with and without
   ``CLOUDPAD_DEPS_LOG``, best of 7, interleaved.

Goal (issue 8): the hook costs under 0.1 s a notebook.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_tracking.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cloudpad.pipeline.tracking import make_hook

ROOT = Path(__file__).resolve().parents[1]
WORK = """
import cloudpad
import numpy, pandas, scipy.stats, matplotlib.pyplot
from cloudpad import article, data
from cloudpad.models import availability, cost, latency, queueing
data.load("instance_prices")
data.load("azure_rtt_p95_ms")
"""
RECORD = """
import json, sys
events, on = [], [True]
def keep(event, args):
    if on[0]:
        events.append((event, args[0] if event == "open" and isinstance(args[0], str) else None))
sys.addaudithook(keep)
exec(compile(sys.argv[1], "<work>", "exec"))
on[0] = False  # audit hooks cannot be removed: stop recording before writing
json.dump(events, open(sys.argv[2], "w"))
"""


def recorded_events(env: dict[str, str]) -> list[tuple[str, tuple]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "events.json"
        subprocess.run([sys.executable, "-c", RECORD, WORK, str(out)], env=env, check=True)
        return [(e, (p,) if p is not None else ()) for e, p in json.loads(out.read_text())]


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def replay(events: list[tuple[str, tuple]]) -> tuple[float, float, int]:
    found: set[str] = set()
    hook = make_hook(str(ROOT / "cloudpad"), str(ROOT / "data"), found.add)

    def nothing(event: str, args: tuple) -> None:
        return None

    tracked = best(lambda: [hook(e, a) for e, a in events], 20)
    empty = best(lambda: [nothing(e, a) for e, a in events], 20)
    return tracked, empty, len(found)


def end_to_end(env: dict[str, str], rounds: int = 7) -> tuple[float, float]:
    def once(extra: dict[str, str]) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", WORK], env={**env, **extra}, check=True, cwd=ROOT)
        return time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        plain, hooked = [], []
        for _ in range(rounds):
            plain.append(once({}))
            hooked.append(once({"CLOUDPAD_DEPS_LOG": str(Path(tmp) / "deps.log")}))
    return min(plain), min(hooked)


def main() -> None:
    env = {**os.environ, "CLOUDPAD_DATA_DIR": str(ROOT / "data"), "MPLBACKEND": "Agg"}
    env.pop("CLOUDPAD_DEPS_LOG", None)
    events = recorded_events(env)
    opens = sum(e == "open" for e, _ in events)
    tracked, empty, found = replay(events)
    print(f"a kernel-like start raises {len(events):,} audit events, {opens:,} of them 'open'")
    print(f"replayed through the hook: {tracked * 1000:.1f} ms ({empty * 1000:.1f} ms do-nothing)")
    verdict = "met" if tracked < 0.1 else "NOT met"
    print(f"files recorded: {found}; goal under 100 ms a notebook: {verdict}")
    plain, hooked = end_to_end(env)
    print(
        f"end to end, best of 7 (noisy): without the hook {plain:.3f} s, with it {hooked:.3f} s "
        f"({hooked - plain:+.3f} s)"
    )


if __name__ == "__main__":
    main()
