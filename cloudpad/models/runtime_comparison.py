"""Go or Java for a low-latency service: each runtime as its practitioners would run it.

One function, :func:`compare`, turns the article's parameters (by name, as in its
``parameters`` cell) and the book's GC measurements into the numbers the article
concludes from: replicas, memory per replica, latency and cost per million requests
for each runtime.  The settings compared (:func:`settings`):

* ``go``: Go with GOGC at its default of 100 (heap twice the live data);
* ``go_limit``: Go given the same container as the ZGC replica, with GOMEMLIMIT at
  that container less the headroom share and GOGC off, the Go GC guide's advice for a
  program that owns its container ("Do take advantage of the memory limit");
* ``g1_measured``: G1 at its default pause target of 200 ms, with the mean pause
  measured for this book (eden by G1's 60 % rule);
* ``g1_tuned``: G1 with ``-XX:MaxGCPauseMillis`` set to ``g1_pause_target_ms``, with the
  mean pause and the young generation (eden) measured at that target;
* ``zgc``: generational ZGC (JDK 21+) at its published pause goal.

Every JVM has ``-Xmx`` = ``java_heap_ratio`` times the live heap and a container of
that heap plus its non-heap memory (:mod:`cloudpad.models.runtime_memory`); the GC's
own structures and the rest of the JVM are the committed memory that Native Memory
Tracking reported in the measured runs (``data/gc_pauses_measured.csv``).  Every
runtime keeps the same share of its container free (``memory_headroom_share``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cloudpad.exceptions import InputError
from cloudpad.models import checks, runtimes
from cloudpad.models.latency import Lognormal
from cloudpad.models.runtime_memory import GoNonHeap, JvmNonHeap, metaspace_mib

__all__ = [
    "NAMES",
    "MeasuredJvm",
    "break_even_overhead",
    "compare",
    "measured_jvm",
    "settings",
    "workloads",
]

#: The settings compared, as the article names them.
NAMES: dict[str, str] = {
    "go": "Go, GOGC 100",
    "go_limit": "Go, GOMEMLIMIT",
    "g1_measured": "G1, default target",
    "g1_tuned": "G1, tuned target",
    "zgc": "ZGC",
}


@dataclass(frozen=True)
class MeasuredJvm:
    """What the measured runs of one JVM setting show (means over the runs).

    ``pause_ms``: mean stop-the-world pause; ``eden_mib``: allocation between
    cycles (allocation rate times the mean interval between cycles);
    ``gc_share_of_heap``: the collector's committed native memory over the heap
    (NMT ``GC``); ``other_mib``: the rest of the JVM, the larger of its other committed
    memory (NMT categories other than heap, GC, class, code and thread) and the peak
    resident set beyond those tracked categories; ``runs``: how many runs.
    """

    pause_ms: float
    eden_mib: float
    gc_share_of_heap: float
    other_mib: float
    runs: int


def _rest_of_jvm_mib(rows: pd.DataFrame) -> pd.Series:
    """Per run: the JVM's memory beside its heap, GC, class, code and thread memory, MiB.

    The larger of what Native Memory Tracking calls the other categories and what the peak
    resident set holds beyond the tracked categories: ZGC's process was resident well beyond
    its tracked memory in the book's runs, G1's was not.
    """
    tracked = (
        rows[
            ["heap_committed_mib", "gc_committed_mib", "class_committed_mib", "code_committed_mib"]
        ].sum(axis=1)
        + rows["thread_committed_mib"]
    )
    return np.maximum(rows["other_committed_mib"], rows["peak_rss_mib"] - tracked)


def measured_jvm(
    measured: pd.DataFrame, collector: str, pause_target_ms: float | None = None
) -> MeasuredJvm:
    """Means over the rows of ``gc_pauses_measured`` for ``collector`` (and its pause target)."""
    rows = measured[measured["collector"] == collector]
    if pause_target_ms is not None:
        rows = rows[np.isclose(rows["pause_target_ms"].astype(float), float(pause_target_ms))]
    if rows.empty:
        pairs = zip(measured["collector"], measured["pause_target_ms"], strict=True)
        known = sorted({(c, t) for c, t in pairs}, key=str)
        raise InputError(
            f"no measured runs of {collector} with pause target {pause_target_ms!r}; "
            f"the data has (collector, pause_target_ms): {known}"
        )
    return MeasuredJvm(
        pause_ms=float(rows["mean_pause_ms"].mean()),
        eden_mib=float((rows["alloc_mib_per_s"] * rows["mean_cycle_interval_s"]).mean()),
        gc_share_of_heap=float((rows["gc_committed_mib"] / rows["heap_committed_mib"]).mean()),
        other_mib=float(_rest_of_jvm_mib(rows).mean()),
        runs=len(rows),
    )


def _jvm_non_heap(p: Mapping[str, Any], m: MeasuredJvm) -> JvmNonHeap:
    return JvmNonHeap(
        metaspace_mib=metaspace_mib(p["jvm_loaded_classes"]),
        code_cache_mib=p["jvm_code_cache_mib"],
        threads=p["jvm_threads"],
        stack_kib_per_thread=p["jvm_stack_kib_per_thread"],
        gc_share_of_heap=m.gc_share_of_heap,
        direct_buffers_mib=p["jvm_direct_buffers_mib"],
        other_mib=m.other_mib,
    )


def settings(p: Mapping[str, Any], measured: pd.DataFrame) -> dict[str, runtimes.GcSetting]:
    """The collectors compared (keys of :data:`NAMES`), built from the parameters ``p``."""
    live, share = float(p["live_heap_mib"]), float(p["memory_headroom_share"])
    java_heap = float(p["java_heap_ratio"]) * live
    go_rest = GoNonHeap(
        goroutines=p["go_goroutines"],
        stack_kib_per_goroutine=p["go_stack_kib_per_goroutine"],
        runtime_share_of_heap=p["go_runtime_share_of_heap"],
        fixed_mib=p["go_fixed_mib"],
    )
    go = dict(pause_ms=p["go_pause_ms"], non_heap=go_rest, memory_headroom_share=share)
    default = measured_jvm(measured, "G1", runtimes.G1_PAUSE_TARGET_MS)
    tuned = measured_jvm(measured, "G1", p["g1_pause_target_ms"])
    z = measured_jvm(measured, "ZGC")
    jvm = dict(memory_headroom_share=share)
    out = {
        "go": runtimes.go(live, 100.0 * (float(p["go_heap_ratio"]) - 1.0), **go),
        "g1_measured": runtimes.g1(
            java_heap, live, pause_ms=default.pause_ms, non_heap=_jvm_non_heap(p, default), **jvm
        ),
        "g1_tuned": runtimes.g1(
            java_heap,
            live,
            pause_ms=tuned.pause_ms,
            max_eden_mib=tuned.eden_mib,
            non_heap=_jvm_non_heap(p, tuned),
            **jvm,
        ),
        "zgc": runtimes.zgc(
            java_heap,
            live,
            pause_ms=p["zgc_pause_ms"],
            non_heap=_jvm_non_heap(p, z),
            cpu_overhead=p["zgc_cpu_overhead"],
            **jvm,
        ),
    }
    limit = out["zgc"].memory_mib * (1.0 - share)  # GOMEMLIMIT in ZGC's container
    out["go_limit"] = runtimes.go(live, float("inf"), memory_limit_mib=limit, **go)
    return {key: out[key] for key in NAMES}


def workloads(p: Mapping[str, Any]) -> dict[str, runtimes.Workload]:
    """The service each setting serves: the same traffic and latency, each runtime's own
    CPU and allocation per request (``go_...`` and ``java_..._per_request``)."""
    service = Lognormal.from_percentiles(p["service_median_ms"], p["service_p99_ms"])
    per = {
        lang: runtimes.Workload(
            p["peak_rps"],
            service,
            p[f"{lang}_cpu_ms_per_request"],
            p[f"{lang}_alloc_kib_per_request"],
        )
        for lang in ("go", "java")
    }
    return {key: per["go" if key.startswith("go") else "java"] for key in NAMES}


def compare(
    p: Mapping[str, Any],
    measured: pd.DataFrame,
    *,
    node_vcpu: float,
    node_memory_gib: float,
    price_per_hour_usd: float,
    only: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The article's conclusion: one row per setting of :data:`NAMES` (or of ``only``).

    :func:`cloudpad.models.runtimes.compare_fleets` (replicas for the CPU target and the
    p99 objective, instances, cost) on :func:`settings` and :func:`workloads`, with the
    heap, the non-heap memory and the pause of each replica added.  ``p`` holds the
    article's parameters by name (other keys are ignored); ``measured`` is the dataset
    ``gc_pauses_measured``; the instance's vCPU, memory and hourly price price the fleet.
    """
    checks.positive("node_vcpu", node_vcpu)
    built = settings(p, measured)
    if only is not None:
        built = {key: built[checks.choice("only", key, tuple(NAMES))] for key in only}
    table = runtimes.compare_fleets(
        built,
        workloads(p),
        cores=p["cores_per_replica"],
        scan_mib_per_cpu_s=p["scan_mib_per_cpu_s"],
        target_utilization=p["target_utilization"],
        slo_ms=p["slo_p99_ms"],
        node_vcpu=node_vcpu,
        node_memory_gib=node_memory_gib,
        price_per_hour_usd=price_per_hour_usd,
    )
    table["heap_mib"] = [s.heap_mib for s in built.values()]
    table["non_heap_mib"] = [s.non_heap_mib for s in built.values()]
    table["pause_ms"] = [s.pause_ms for s in built.values()]
    return table


def break_even_overhead(
    p: Mapping[str, Any],
    measured: pd.DataFrame,
    *,
    against: str,
    upper: float,
    node_vcpu: float,
    node_memory_gib: float,
    price_per_hour_usd: float,
    tolerance: float = 1e-3,
) -> float:
    """Smallest ``zgc_cpu_overhead`` at which ZGC costs at least as much as ``against``.

    The cost per million requests of :func:`compare` is a step function of the
    overhead (whole replicas, whole instances) that never falls as it grows, so a
    bisection on ``[0, upper]`` finds the first step to ``tolerance``.  Returns 0 if
    ZGC is not cheaper without any overhead and ``inf`` if it is still cheaper at
    ``upper``.
    """
    top = float(checks.positive("upper", upper))
    market = dict(
        node_vcpu=node_vcpu, node_memory_gib=node_memory_gib, price_per_hour_usd=price_per_hour_usd
    )

    def dearer(overhead: float) -> bool:
        table = compare(
            {**p, "zgc_cpu_overhead": overhead}, measured, only=("zgc", against), **market
        )
        usd = table["usd_per_million"]
        return bool(usd["zgc"] >= usd[against] - 1e-12)

    if dearer(0.0):
        return 0.0
    if not dearer(top):
        return float("inf")
    lo, hi = 0.0, top
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if dearer(mid) else (mid, hi)
    return hi
