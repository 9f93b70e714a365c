"""Measure G1 and ZGC pauses and memory of GcProbe.java; write data/gc_pauses_measured.csv.

Run from the repository root with a JDK on the path or JAVA_HOME set (the book's
file was made with Temurin 25 on the project's two-core machine):

    python data/tools/measure_gc_pauses.py [--seconds 120] [--warmup 10] [--runs 3]

For each setting (G1 at its default pause target of 200 ms, G1 with
``-XX:MaxGCPauseMillis=20``, generational ZGC) it compiles and runs
``gc_probe/GcProbe.java`` (a live set of LIVE_MIB of 1 KiB entries, 1 % of it
replaced per second, and 256 KiB allocated per request at ALLOC_MIB_PER_S) with
a fixed heap, logs the pauses with the JVM's unified logging
(``-Xlog:gc,gc+phases``) and summarises the pauses after the warm-up.  Memory:
the process's peak resident set (``VmHWM`` in ``/proc/PID/status``, polled) and
the JVM's own account of its committed memory by category, printed at exit by
Native Memory Tracking (``-XX:NativeMemoryTracking=summary
-XX:+PrintNMTStatistics``; its own bookkeeping is left out).  A few runs per
setting, alternating, on a shared machine: an example of what the collectors do
on this synthetic heap, not a benchmark of your service.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "gc_pauses_measured.csv"
LIVE_MIB, ALLOC_MIB_PER_S, HEAP_MIB, CHURN_PER_S = 300, 150, 1200, 0.01
# (collector, MaxGCPauseMillis or None, flags): G1's default target stated explicitly
SETTINGS = [
    ("G1", 200, ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=200"]),
    ("G1", 20, ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]),
    ("ZGC", None, ["-XX:+UseZGC"]),
]
NMT = ["-XX:NativeMemoryTracking=summary", "-XX:+UnlockDiagnosticVMOptions"]
NMT += ["-XX:+PrintNMTStatistics"]
# "-                        GC (reserved=22493751, committed=22493751)" (bytes; KB/MB/GB scaled)
CATEGORY = re.compile(
    r"^-\s+(?P<name>[A-Za-z ]+?) \(reserved=\d+\w*, committed=(?P<n>\d+)(?P<u>\w*)"
)
TOTAL = re.compile(r"^Total: reserved=\d+\w*, committed=(?P<n>\d+)(?P<u>\w*)")
SCALE = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
# "[12.845s] GC(4) Pause Young (Normal) (G1 Evacuation Pause) 801M->340M(1200M) 9.301ms"
# "[1.753s] GC(2) y: Pause Mark Start 0.009ms"
PAUSE = re.compile(r"^\[(?P<t>[\d.]+)s\] GC\((?P<gc>\d+)\) (?P<what>.*Pause.*?) (?P<ms>[\d.]+)ms$")


def java(tool: str) -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / tool) if home else shutil.which(tool)
    if not found:
        raise SystemExit(f"{tool} not found: set JAVA_HOME or put a JDK on the PATH")
    return found


def mib(n: str, unit: str) -> float:
    return round(int(n) * SCALE[unit] / 2**20, 1)


def committed_mib(nmt: str) -> dict[str, float]:
    """Committed MiB per Native Memory Tracking category, and 'Total'."""
    out = {}
    for line in nmt.splitlines():
        if m := TOTAL.match(line.strip()):
            out["Total"] = mib(m["n"], m["u"])
        elif m := CATEGORY.match(line.strip()):
            out[m["name"].strip()] = mib(m["n"], m["u"])
    return out


def peak_rss_mib(proc: subprocess.Popen) -> float:
    """Poll VmHWM (peak resident set) of a running process until it exits; MiB."""
    peak = 0.0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            break
        time.sleep(0.5)
    return round(peak, 1)


def run(
    name: str,
    target: int | None,
    flags: list[str],
    seconds: float,
    warmup: float,
    work: Path,
    i: int,
) -> dict:
    log = work / f"{name}-{target}.log"
    cmd = [java("java"), *flags, *NMT, f"-Xms{HEAP_MIB}m", f"-Xmx{HEAP_MIB}m"]
    cmd += ["-XX:+AlwaysPreTouch", f"-Xlog:gc,gc+phases:file={log}:uptime", "-cp", str(work)]
    cmd += ["GcProbe", str(LIVE_MIB), str(ALLOC_MIB_PER_S), str(seconds + warmup), str(CHURN_PER_S)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = peak_rss_mib(proc)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{name} run {i} failed ({proc.returncode}): {err.strip()[-400:]}")
    nmt = committed_mib(out)
    parts = {k: nmt.get(k, 0.0) for k in ("Java Heap", "GC", "Class", "Code", "Thread")}
    other = nmt["Total"] - sum(parts.values()) - nmt.get("Native Memory Tracking", 0.0)
    rows = [m.groupdict() for line in log.read_text().splitlines() if (m := PAUSE.match(line))]
    kept = [r for r in rows if float(r["t"]) >= warmup]
    ms = np.array([float(r["ms"]) for r in kept])
    cycles = {int(r["gc"]) for r in kept}
    version = subprocess.run([java("java"), "-version"], capture_output=True, text=True).stderr
    return {
        "collector": name,
        "flags": " ".join(flags),
        "pause_target_ms": target if target is not None else "",
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
        "peak_rss_mib": rss,
        "heap_committed_mib": parts["Java Heap"],
        "gc_committed_mib": parts["GC"],
        "class_committed_mib": parts["Class"],
        "code_committed_mib": parts["Code"],
        "thread_committed_mib": parts["Thread"],
        "other_committed_mib": round(other, 1),
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
            run(n, t, f, args.seconds, args.warmup, work, i)
            for i in range(1, args.runs + 1)
            for n, t, f in SETTINGS
        ]
    with OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
