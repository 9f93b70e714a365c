"""Measure G1 and ZGC pauses of GcProbe.java and write data/gc_pauses_measured.csv.

Run from the repository root with a JDK on the path or JAVA_HOME set (the book's
file was made with Temurin 25 on the project's two-core machine):

    python data/tools/measure_gc_pauses.py [--seconds 120] [--warmup 10] [--runs 3]

For each collector it compiles and runs ``gc_probe/GcProbe.java`` (a live set of
LIVE_MIB of 1 KiB entries, 1 % of it replaced per second, and 256 KiB allocated
per request at ALLOC_MIB_PER_S) with a fixed heap, logs the pauses with the
JVM's unified logging (``-Xlog:gc,gc+phases``) and summarises the pauses after
the warm-up.  A few runs per collector, alternating, on a shared machine: an
example of what the collectors do on this synthetic heap, not a benchmark of
your service.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "gc_pauses_measured.csv"
LIVE_MIB, ALLOC_MIB_PER_S, HEAP_MIB, CHURN_PER_S = 300, 150, 1200, 0.01
COLLECTORS = {"G1": ["-XX:+UseG1GC"], "ZGC": ["-XX:+UseZGC"]}
# "[12.845s] GC(4) Pause Young (Normal) (G1 Evacuation Pause) 801M->340M(1200M) 9.301ms"
# "[1.753s] GC(2) y: Pause Mark Start 0.009ms"
PAUSE = re.compile(r"^\[(?P<t>[\d.]+)s\] GC\((?P<gc>\d+)\) (?P<what>.*Pause.*?) (?P<ms>[\d.]+)ms$")


def java(tool: str) -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / tool) if home else shutil.which(tool)
    if not found:
        raise SystemExit(f"{tool} not found: set JAVA_HOME or put a JDK on the PATH")
    return found


def run(name: str, flags: list[str], seconds: float, warmup: float, work: Path, i: int) -> dict:
    log = work / f"{name}.log"
    cmd = [java("java"), *flags, f"-Xms{HEAP_MIB}m", f"-Xmx{HEAP_MIB}m", "-XX:+AlwaysPreTouch"]
    cmd += [f"-Xlog:gc,gc+phases:file={log}:uptime", "-cp", str(work), "GcProbe"]
    cmd += [str(LIVE_MIB), str(ALLOC_MIB_PER_S), str(seconds + warmup), str(CHURN_PER_S)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [m.groupdict() for line in log.read_text().splitlines() if (m := PAUSE.match(line))]
    kept = [r for r in rows if float(r["t"]) >= warmup]
    ms = np.array([float(r["ms"]) for r in kept])
    cycles = {int(r["gc"]) for r in kept}
    version = subprocess.run([java("java"), "-version"], capture_output=True, text=True).stderr
    return {
        "collector": name,
        "run": i,
        "jdk": re.search(r'version "([^"]+)"', version).group(1),
        "cpus": os.cpu_count(),
        "heap_mib": HEAP_MIB,
        "live_mib": LIVE_MIB,
        "alloc_mib_per_s": ALLOC_MIB_PER_S,
        "measured_s": seconds,
        "cycles": len(cycles),
        "pauses": ms.size,
        "pauses_per_s": round(ms.size / seconds, 3),
        "mean_cycle_interval_s": round(seconds / len(cycles), 3),
        "mean_pause_ms": round(float(ms.mean()), 3),
        "median_pause_ms": round(float(np.median(ms)), 3),
        "p99_pause_ms": round(float(np.quantile(ms, 0.99, method="inverted_cdf")), 3),
        "max_pause_ms": round(float(ms.max()), 3),
        "load_avg_1min": round(os.getloadavg()[0], 2),  # other work on the machine meanwhile
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [java("javac"), "-d", tmp, str(HERE / "gc_probe" / "GcProbe.java")], check=True
        )
        results = [
            run(n, f, args.seconds, args.warmup, work, i)
            for i in range(1, args.runs + 1)
            for n, f in COLLECTORS.items()
        ]
    with OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
