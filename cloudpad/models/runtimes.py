"""Garbage-collection pauses in the latency tail, and what a runtime costs in replicas.

A model of a request-serving replica whose runtime stops the world for a
garbage-collection (GC) pause from time to time.  Conventions: latencies and
pauses in milliseconds (ms), rates per second, memory in MiB (2^20 bytes),
allocation in KiB per request or MiB per second.  Every pause length the
functions use by default is a *published goal or target* of the runtime's
authors, not a measurement; the constants below say which.

The model, in four parts:

1. **How often.**  A collector starts a cycle each time the program has
   allocated the heap *headroom* since the last one, so cycles come every
   ``headroom / allocation rate`` seconds.  Go sets the headroom with GOGC:
   ``target heap = live + (live + roots) * GOGC / 100`` (Go GC guide), and its
   runtime forces a cycle at least every 2 minutes (``forcegcperiod`` in
   ``runtime/proc.go``).  G1 collects the young generation when eden fills
   (eden at most ``G1MaxNewSizePercent`` = 60 % of the heap, and never more
   than the heap minus the live data); ZGC starts a cycle before the free heap
   runs out, so ``heap - live`` bounds its interval from above.
2. **How long.**  Each pause lasts a fixed ``pause_ms`` (Go: the 500 µs per
   cycle objective of Hudson 2018; G1: its default ``MaxGCPauseMillis`` =
   200 ms target; generational ZGC: "should not exceed 1 millisecond", JEP 439,
   three pauses per cycle).
3. **Who waits.**  A request that arrives while its replica is paused, or is
   still working off the backlog the pause left, waits; one in progress when a
   pause starts is stretched by the whole pause.  With ``r`` pauses per second,
   a pause of length ``D`` and CPU utilisation ``rho``, a fluid view of the
   backlog (work arrives at ``rho`` and drains at ``1 - rho`` once the pause
   ends) gives a *disturbed* share of time ``a = r D / (1 - rho)``, in which an
   arriving request waits a uniform time on ``[0, D]``, and a request of
   service latency ``s`` meets the start of a pause with probability ``r s``.
   :class:`PausedLatency` gives the exact distribution of ``S + W`` under these
   assumptions; :func:`simulate_paused_latency` walks a timeline of pauses to
   check it.
4. **What it costs.**  GC work per request (concurrent marking at an assumed
   scan rate for Go and ZGC, stop-the-world core time for every collector)
   and the CPU the collector's barriers add to each request lower the requests a
   replica can serve; memory per replica is the heap (Go: about twice the live
   heap with GOGC = 100, or what GOMEMLIMIT leaves; the JVM: ``-Xmx``) plus the
   runtime's memory outside it (:mod:`cloudpad.models.runtime_memory`);
   :func:`size_fleet` finds the replicas that meet a CPU-utilisation target and
   a latency percentile, and :func:`fleet_cost` packs them onto instances.

Sources: Go GC guide (go.dev/doc/gc-guide: heap target, 25 % of CPU while
marking, 4 MiB minimum heap, the cost model "fixed cost + cost per byte of live
heap"); R. Hudson, "Getting to Go" (ISMM 2018 keynote, go.dev/blog/ismmkeynote);
golang/go ``src/runtime/proc.go`` (``forcegcperiod``); OpenJDK HotSpot
``g1Arguments.cpp`` and the JVM's own ``-XX:+PrintFlagsFinal`` (MaxGCPauseMillis,
GCTimeRatio, G1MaxNewSizePercent); JEP 333 and JEP 439 (ZGC pause goals; JEP 333's
throughput goal against G1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, numeric, queueing
from cloudpad.models.latency import (
    Empirical,
    Exponential,
    LatencyDistribution,
    Lognormal,
    Mixture,
    PointMass,
    quantile_ci,
)
from cloudpad.models.runtime_memory import GoNonHeap, JvmNonHeap, container_memory_mib

__all__ = [
    "G1_GC_TIME_RATIO",
    "G1_MAX_NEW_FRACTION",
    "G1_PAUSE_TARGET_MS",
    "GOGC_DEFAULT",
    "GO_FORCED_GC_PERIOD_S",
    "GO_MARK_CPU_FRACTION",
    "GO_MIN_HEAP_MIB",
    "GO_PAUSE_SLO_MS",
    "GO_PAUSE_TYPICAL_MS",
    "ZGC_JDK11_PAUSE_GOAL_MS",
    "ZGC_JEP333_THROUGHPUT_LOSS",
    "ZGC_PAUSES_PER_CYCLE",
    "ZGC_PAUSE_GOAL_MS",
    "Fleet",
    "FleetCost",
    "GcSetting",
    "PausedLatency",
    "Workload",
    "compare_fleets",
    "fleet_cost",
    "g1",
    "gc_cpu_ms_per_request",
    "go",
    "go_heap_target_mib",
    "go_mark_phase",
    "latency_quantile_ms",
    "partial_mean_ms",
    "program_cpu_ms",
    "replica_capacity_rps",
    "replica_latency",
    "replica_profile",
    "scale_out_headroom",
    "simulate_paused_latency",
    "simulation_check",
    "size_fleet",
    "zgc",
]

# --------------------------------------------------------------------------- published figures
#: Go's 2018 objective: "500 microseconds stop the world pause per GC cycle" (Hudson, ISMM 2018).
GO_PAUSE_SLO_MS: float = 0.5
#: Go 1.8 release notes: pauses "usually under 100 microseconds and often as low as 10".
GO_PAUSE_TYPICAL_MS: float = 0.1
#: ``var forcegcperiod int64 = 2 * 60 * 1e9`` (ns) in golang/go ``src/runtime/proc.go``.
GO_FORCED_GC_PERIOD_S: float = 120.0
#: Default GOGC ("100 if the variable is not set", ``runtime/debug.SetGCPercent``).
GOGC_DEFAULT: float = 100.0
#: "the GC takes 25% of CPU resources when in the mark phase" (Go GC guide, Latency).
GO_MARK_CPU_FRACTION: float = 0.25
#: "the Go GC has a minimum total heap size of 4 MiB" (Go GC guide).
GO_MIN_HEAP_MIB: float = 4.0
#: G1's default pause-time *target*: ``FLAG_SET_DEFAULT(MaxGCPauseMillis, 200)`` (g1Arguments.cpp).
G1_PAUSE_TARGET_MS: float = 200.0
#: G1's default GCTimeRatio = 12, a goal of 1 / (1 + 12), about 8 %, of time in GC.
G1_GC_TIME_RATIO: float = 12.0
#: Default ``G1MaxNewSizePercent`` = 60: the young generation is at most 60 % of the heap.
G1_MAX_NEW_FRACTION: float = 0.60
#: JEP 439 (generational ZGC, JDK 21): "Pause times should not exceed 1 millisecond".
ZGC_PAUSE_GOAL_MS: float = 1.0
#: JEP 333 (ZGC, JDK 11): "GC pause times should not exceed 10ms".
ZGC_JDK11_PAUSE_GOAL_MS: float = 10.0
#: JEP 333 goal: "No more than 15% application throughput reduction compared to using G1".
ZGC_JEP333_THROUGHPUT_LOSS: float = 0.15
#: A ZGC cycle has three pauses: Pause Mark Start, Pause Mark End, Pause Relocate Start.
ZGC_PAUSES_PER_CYCLE: int = 3

_MIB_PER_KIB = 1.0 / 1024.0


# --------------------------------------------------------------------------- heap and cycles
def go_heap_target_mib(
    live_heap_mib: ArrayLike, gogc: ArrayLike = GOGC_DEFAULT, roots_mib: ArrayLike = 0.0
) -> float | np.ndarray:
    """Go's target heap size in MiB: ``live + (live + roots) * GOGC / 100``, at least 4 MiB.

    Source: "A Guide to the Go Garbage Collector" (go.dev/doc/gc-guide), section
    GOGC: "Target heap memory = Live heap + (Live heap + GC roots) * GOGC / 100",
    and its note on the 4 MiB minimum total heap.  GC roots are goroutine stacks
    and pointers in globals (counted since Go 1.18).
    """
    live = np.asarray(checks.non_negative("live_heap_mib", live_heap_mib))
    g = np.asarray(checks.positive("gogc", gogc))
    roots = np.asarray(checks.non_negative("roots_mib", roots_mib))
    target = live + (live + roots) * g / 100.0
    return numeric.scalar_or_array(np.maximum(target, GO_MIN_HEAP_MIB))


Collector = Literal["go", "g1", "zgc"]
NonHeap = JvmNonHeap | GoNonHeap
_NO_JVM_NON_HEAP = JvmNonHeap()
_NO_GO_NON_HEAP = GoNonHeap()


def _positive_or_inf(name: str, value: float) -> float:
    """``value`` as a float: ``inf`` (no limit) or a finite number > 0."""
    v = float(checks.as_float(name, value))
    return v if v == math.inf else float(checks.positive(name, v))


@dataclass(frozen=True)
class GcSetting:
    """A runtime's collector as the model sees it (made by :func:`go`, :func:`g1`, :func:`zgc`).

    ``pause_ms`` is the length of one stop-the-world pause and
    ``pauses_per_cycle`` how many a cycle has; ``headroom_mib`` is the
    allocation between cycles; ``heap_mib`` the peak heap; ``non_heap`` the
    runtime's memory outside the heap (:mod:`cloudpad.models.runtime_memory`) and
    ``memory_headroom_share`` the share of the container left free, which give
    :attr:`memory_mib`; ``max_interval_s`` the longest time between cycles (Go's
    forced GC); ``concurrent_mark`` whether marking runs beside the program (its
    CPU then comes from the scan rate); ``cpu_overhead`` the extra CPU per request
    the collector's barriers cost the program (a share of its CPU); ``max_eden_mib``
    the young generation G1's pause target allows; ``gogc`` and
    ``memory_limit_mib`` Go's settings (GOGC, GOMEMLIMIT).
    """

    collector: Collector
    label: str
    pause_ms: float
    pauses_per_cycle: int
    live_heap_mib: float
    heap_mib: float
    headroom_mib: float
    concurrent_mark: bool
    non_heap: NonHeap = _NO_JVM_NON_HEAP
    memory_headroom_share: float = 0.0
    max_interval_s: float = math.inf
    cpu_overhead: float = 0.0
    max_eden_mib: float = math.inf
    gogc: float = GOGC_DEFAULT
    memory_limit_mib: float = math.inf

    def __post_init__(self) -> None:
        checks.positive("pause_ms", self.pause_ms)
        checks.whole("pauses_per_cycle", self.pauses_per_cycle, minimum=1)
        checks.positive("headroom_mib", self.headroom_mib)
        checks.non_negative("cpu_overhead", self.cpu_overhead)
        if not self.max_interval_s > 0:
            raise InputError(
                f"max_interval_s must be > 0 (inf for none), got {self.max_interval_s!r}"
            )

    @property
    def non_heap_mib(self) -> float:
        """The runtime's memory outside the heap, MiB (:attr:`non_heap` at this heap)."""
        return self.non_heap.total_mib(self.heap_mib)

    @property
    def memory_mib(self) -> float:
        """Container memory per replica, MiB: ``(heap + non-heap) / (1 - headroom share)``.

        The heap is fixed by ``-Xmx`` (JVM) or the GOGC/GOMEMLIMIT target (Go); see
        :func:`cloudpad.models.runtime_memory.container_memory_mib`.
        """
        return container_memory_mib(self.heap_mib, self.non_heap_mib, self.memory_headroom_share)

    def memory_terms(self) -> dict[str, float]:
        """Heap, each non-heap term and the headroom, MiB; they add up to :attr:`memory_mib`."""
        terms = {"heap": self.heap_mib} | self.non_heap.terms(self.heap_mib)
        return terms | {"headroom": self.memory_mib - sum(terms.values())}

    def cycle_interval_s(self, alloc_mib_per_s: ArrayLike) -> float | np.ndarray:
        """Seconds between GC cycles: ``min(headroom / allocation rate, max_interval_s)``."""
        rate = np.asarray(checks.non_negative("alloc_mib_per_s", alloc_mib_per_s), dtype=float)
        with np.errstate(divide="ignore"):
            interval = np.where(rate > 0, self.headroom_mib / np.maximum(rate, 1e-300), np.inf)
        return numeric.scalar_or_array(np.minimum(interval, self.max_interval_s))

    def pauses_per_s(self, alloc_mib_per_s: ArrayLike) -> float | np.ndarray:
        """Stop-the-world pauses per second: ``pauses_per_cycle / cycle_interval_s``."""
        return numeric.scalar_or_array(
            self.pauses_per_cycle / np.asarray(self.cycle_interval_s(alloc_mib_per_s))
        )

    def with_heap_ratio(self, ratio: float) -> GcSetting:
        """The same collector with its peak heap at ``ratio`` times the live heap.

        Go: ``GOGC = (ratio - 1) * 100`` and no memory limit; Java: ``-Xmx = ratio *
        live``.  Pause length, label, non-heap model, headroom share, CPU overhead and
        G1's eden limit are kept.
        """
        x = float(checks.positive("ratio", ratio))
        if x <= 1.0:
            raise InputError(f"ratio must be > 1 (the heap holds the live data), got {x!r}")
        common = {
            "pause_ms": self.pause_ms,
            "label": self.label,
            "non_heap": self.non_heap,
            "memory_headroom_share": self.memory_headroom_share,
        }
        live = self.live_heap_mib
        if self.collector == "go":
            return go(live, (x - 1.0) * 100.0, **common)  # type: ignore[arg-type]
        java = {"cpu_overhead": self.cpu_overhead, **common}
        if self.collector == "g1":
            return g1(x * live, live, max_eden_mib=self.max_eden_mib, **java)  # type: ignore[arg-type]
        return zgc(x * live, live, **java)  # type: ignore[arg-type]


def go(
    live_heap_mib: float,
    gogc: float = GOGC_DEFAULT,
    *,
    pause_ms: float = GO_PAUSE_SLO_MS,
    non_heap: GoNonHeap = _NO_GO_NON_HEAP,
    memory_limit_mib: float = math.inf,
    memory_headroom_share: float = 0.0,
    label: str = "Go",
) -> GcSetting:
    """Go's collector: heap target from GOGC and GOMEMLIMIT, one pause per cycle, forced GC.

    Heap: :func:`go_heap_target_mib` with the goroutine stacks of ``non_heap`` as GC
    roots (``gogc = inf`` is GOGC=off); a ``memory_limit_mib`` (GOMEMLIMIT, which
    bounds all the memory the runtime manages) caps it at ``limit - non-heap``
    (Go GC guide, "Memory limit").  ``headroom_mib = heap - live``.  ``pause_ms``
    defaults to the 2018 objective of 500 µs per cycle (Hudson, ISMM 2018
    keynote), a goal, not a measurement.  Marking is concurrent and takes 25 % of
    GOMAXPROCS while it runs (Go GC guide); its cost is counted by the scan rate.
    """
    live = float(checks.positive("live_heap_mib", live_heap_mib))
    g = _positive_or_inf("gogc", gogc)
    limit = _positive_or_inf("memory_limit_mib", memory_limit_mib)
    roots = non_heap.stacks_mib
    heap = math.inf if math.isinf(g) else float(go_heap_target_mib(live, g, roots))
    if math.isfinite(limit):
        # non-heap terms that grow with the heap: solve heap + share * heap + fixed = limit
        fixed = non_heap.total_mib(0.0)
        heap = min(heap, (limit - fixed) / (1.0 + non_heap.runtime_share_of_heap))
    if not math.isfinite(heap):
        raise InputError("GOGC=off (gogc=inf) needs a finite memory_limit_mib (GOMEMLIMIT)")
    if heap <= live:
        raise InputError(
            f"memory_limit_mib {limit!r} leaves no room above the live heap ({live!r} MiB) "
            "beside the runtime's other memory: the collector would run without pause"
        )
    return GcSetting(
        collector="go",
        label=label,
        pause_ms=float(checks.positive("pause_ms", pause_ms)),
        pauses_per_cycle=1,
        live_heap_mib=live,
        heap_mib=heap,
        headroom_mib=heap - live,
        concurrent_mark=True,
        non_heap=non_heap,
        memory_headroom_share=float(memory_headroom_share),
        max_interval_s=GO_FORCED_GC_PERIOD_S,
        gogc=g,
        memory_limit_mib=limit,
    )


def _java_inputs(heap_mib: float, live_heap_mib: float) -> tuple[float, float]:
    heap = float(checks.positive("heap_mib", heap_mib))
    live = float(checks.positive("live_heap_mib", live_heap_mib))
    if live >= heap:
        raise InputError(f"heap_mib must be > live_heap_mib ({live!r}), got {heap!r}")
    return heap, live


def g1(
    heap_mib: float,
    live_heap_mib: float,
    *,
    pause_ms: float = G1_PAUSE_TARGET_MS,
    max_eden_mib: float = math.inf,
    non_heap: JvmNonHeap = _NO_JVM_NON_HEAP,
    memory_headroom_share: float = 0.0,
    cpu_overhead: float = 0.0,
    label: str = "Java G1",
) -> GcSetting:
    """HotSpot's G1 with ``-Xmx`` = ``heap_mib``: a stop-the-world pause each time eden fills.

    Eden is taken as ``min(0.6 heap, heap - live, max_eden_mib)``: at most
    ``G1MaxNewSizePercent`` = 60 % of the heap, room for the live data beside it,
    and no more than the young generation G1 chooses to meet its pause target
    (``max_eden_mib``, read from a GC log: G1 shrinks the young generation to keep
    pauses under ``MaxGCPauseMillis``, which makes them shorter and more frequent).
    ``pause_ms`` defaults to the *target* ``MaxGCPauseMillis`` = 200 ms, a ceiling
    G1 aims under, not a typical pause; pass a measured pause for your service.
    Old-generation marking is not counted.  The container holds the heap and
    ``non_heap`` (an explicit ``-Xmx`` overrides ``MaxRAMPercentage``).
    """
    heap, live = _java_inputs(heap_mib, live_heap_mib)
    eden = _positive_or_inf("max_eden_mib", max_eden_mib)
    return GcSetting(
        collector="g1",
        label=label,
        pause_ms=float(checks.positive("pause_ms", pause_ms)),
        pauses_per_cycle=1,
        live_heap_mib=live,
        heap_mib=heap,
        headroom_mib=min(G1_MAX_NEW_FRACTION * heap, heap - live, eden),
        concurrent_mark=False,
        non_heap=non_heap,
        memory_headroom_share=float(memory_headroom_share),
        cpu_overhead=float(cpu_overhead),
        max_eden_mib=eden,
    )


def zgc(
    heap_mib: float,
    live_heap_mib: float,
    *,
    pause_ms: float = ZGC_PAUSE_GOAL_MS,
    non_heap: JvmNonHeap = _NO_JVM_NON_HEAP,
    memory_headroom_share: float = 0.0,
    cpu_overhead: float = 0.0,
    label: str = "Java ZGC",
) -> GcSetting:
    """ZGC with ``-Xmx`` = ``heap_mib``: concurrent marking and relocation, three pauses a cycle.

    A cycle must finish before the free heap (``heap - live``) is used up, so
    ``headroom = heap - live`` gives the longest interval; ZGC's own heuristics
    start cycles earlier (more often).  ``pause_ms`` defaults to generational
    ZGC's goal of at most 1 ms per pause (JEP 439); JEP 333's 10 ms is the goal
    of the first, non-generational ZGC.  Marking runs concurrently; every cycle
    marks the whole live heap (a generational young collection marks less, so
    this overstates ZGC's marking).  ``cpu_overhead`` is the extra CPU its load
    and store barriers cost each request (JEP 333 allowed "No more than 15%
    application throughput reduction compared to using G1").
    """
    heap, live = _java_inputs(heap_mib, live_heap_mib)
    return GcSetting(
        collector="zgc",
        label=label,
        pause_ms=float(checks.positive("pause_ms", pause_ms)),
        pauses_per_cycle=ZGC_PAUSES_PER_CYCLE,
        live_heap_mib=live,
        heap_mib=heap,
        headroom_mib=heap - live,
        concurrent_mark=True,
        non_heap=non_heap,
        memory_headroom_share=float(memory_headroom_share),
        cpu_overhead=float(cpu_overhead),
    )


# --------------------------------------------------------------------------- latency with pauses
def partial_mean_ms(dist: LatencyDistribution, c: ArrayLike) -> float | np.ndarray:
    """``E[S; S <= c]``, the partial mean (ms) of a latency distribution below ``c`` ms.

    Closed forms: lognormal ``exp(mu + sigma^2 / 2) Phi((ln c - mu - sigma^2) / sigma)``;
    shifted exponential ``h (1 - e^{-x/m}) + m - (x + m) e^{-x/m}`` with
    ``x = c - h``; a point mass ``v 1{v <= c}``; an empirical sample the running
    sum; a mixture the weighted sum.  Other distributions raise ``InputError``.
    ``c = inf`` gives the mean.
    """
    c = np.asarray(checks.as_float("c", c), dtype=float)
    if isinstance(dist, Lognormal):
        mu, s = math.log(dist.median_ms), dist.sigma
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(c, 0.0)) - mu - s * s) / s
        out = math.exp(mu + 0.5 * s * s) * special.ndtr(z)
    elif isinstance(dist, Exponential):
        x = np.maximum(c - dist.shift_ms, 0.0)
        m, h = dist.mean_ms, dist.shift_ms
        e = np.exp(-x / m)
        out = np.where(c >= h, h * (1.0 - e) + m - (x + m) * e, 0.0)
    elif isinstance(dist, PointMass):
        out = np.where(c >= dist.value_ms, dist.value_ms, 0.0)
    elif isinstance(dist, Empirical):
        x = dist.samples_ms
        running = np.concatenate([[0.0], np.cumsum(x)])
        out = running[np.searchsorted(x, c, side="right")] / x.size
    elif isinstance(dist, Mixture):
        out = sum(
            w * np.asarray(partial_mean_ms(comp, c))
            for comp, w in zip(dist.components, dist.weights, strict=True)
        )
    else:
        raise InputError(
            "dist must be a Lognormal, Exponential, PointMass, Empirical or a Mixture of "
            f"them (a partial mean in closed form), got {type(dist).__name__}"
        )
    return numeric.scalar_or_array(out)


@dataclass(frozen=True)
class PausedLatency(LatencyDistribution):
    """Latency (ms) of a request on a replica that pauses ``pauses_per_s`` times a second.

    ``L = S + W`` with ``S ~ service`` (the latency without GC) and a GC wait
    ``W``.  Pauses of fixed length ``D = pause_ms`` come ``r = pauses_per_s``
    times per second.  Given ``S = s``:

    - with probability ``a = r D / (1 - rho)`` the request arrives while the
      replica is paused or draining the backlog the pause left (``rho`` =
      ``utilization``; fluid approximation) and waits ``U ~ Uniform[0, D]``;
    - with probability ``r s`` a pause starts while it is being served: ``W = D``;
    - otherwise ``W = 0``.

    Integrating over ``S``:
    ``sf(t) = (1 - a) sf_S(t) + a P(S + U > t) + r E[S; t - D < S <= t]`` with
    ``P(S + U > t) = (I(t) - I(t - D)) / D``, ``I(c) = E[min(S, c)]`` (``c`` for
    ``c < 0``).  Exact for a stationary pause process whose pauses are further
    apart than a disturbed window plus a service time (at most one pause touches
    a request), which :func:`simulate_paused_latency` checks.  ``service`` must
    have a closed-form partial mean (see :func:`partial_mean_ms`).  Requires
    ``a < 1``: otherwise the replica never catches up (GC-bound).
    """

    service: LatencyDistribution
    pause_ms: float
    pauses_per_s: float
    utilization: float = 0.0

    def __post_init__(self) -> None:
        checks.positive("pause_ms", self.pause_ms)
        checks.non_negative("pauses_per_s", self.pauses_per_s)
        rho = float(checks.in_range("utilization", self.utilization, 0.0, 1.0))
        if rho >= 1.0:
            raise InputError(f"utilization must be < 1, got {rho!r}")
        partial_mean_ms(self.service, 0.0)  # refuses a service without a partial mean
        if self.disturbed_fraction >= 1.0:
            raise InputError(
                f"pauses take the whole time: pauses_per_s * pause_ms / 1000 / (1 - utilization)"
                f" = {self.disturbed_fraction:.3g} must be < 1 (the replica is GC-bound)"
            )

    @property
    def _rate_per_ms(self) -> float:
        return self.pauses_per_s / 1000.0

    @property
    def pause_fraction(self) -> float:
        """Share of time the replica is stopped: ``r D``."""
        return self._rate_per_ms * self.pause_ms

    @property
    def disturbed_fraction(self) -> float:
        """Share of arrivals that wait for a pause or its backlog: ``r D / (1 - rho)``."""
        return self.pause_fraction / (1.0 - self.utilization)

    @property
    def hit_probability(self) -> float:
        """Share of requests delayed at all: ``a + r E[S]``."""
        mean = float(partial_mean_ms(self.service, np.inf))
        return self.disturbed_fraction + self._rate_per_ms * mean

    def _limited_mean(self, c: np.ndarray) -> np.ndarray:
        """``I(c) = E[min(S, c)]`` for ``c >= 0`` and ``c`` for ``c < 0``."""
        cc = np.maximum(c, 0.0)
        inside = np.asarray(partial_mean_ms(self.service, cc)) + cc * np.asarray(
            self.service.sf(cc)
        )
        return np.where(c < 0.0, c, inside)

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t), dtype=float)
        d, r, a = self.pause_ms, self._rate_per_ms, self.disturbed_fraction
        waited = (self._limited_mean(t) - self._limited_mean(t - d)) / d
        hit = np.asarray(partial_mean_ms(self.service, t)) - np.asarray(
            partial_mean_ms(self.service, t - d)
        )
        out = (1.0 - a) * np.asarray(self.service.sf(t)) + a * waited + r * hit
        return numeric.scalar_or_array(np.clip(out, 0.0, 1.0))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = np.asarray(checks.probability("p", p), dtype=float)
        shape = p.shape
        flat = p.ravel()
        lo = np.asarray(self.service.isf(flat), dtype=float).reshape(-1)
        hi = lo + self.pause_ms  # S <= L <= S + D on every path
        res = hi.copy()
        finite = np.isfinite(hi)
        if finite.any():
            pf, lf, hf = flat[finite], lo[finite], hi[finite]
            got = numeric.bisect(lambda t: np.asarray(self.sf(t)) > pf, lf, hf)
            res[finite] = np.where(np.asarray(self.sf(lf)) <= pf, lf, got)
        return numeric.scalar_or_array(res.reshape(shape))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        s = self.service._draw(size, rng)
        u = rng.random(size)
        a = self.disturbed_fraction
        in_flight = np.minimum(self._rate_per_ms * s, 1.0 - a)  # r s, capped so shares sum to 1
        wait = np.where(
            u < a, self.pause_ms * rng.random(size), np.where(u < a + in_flight, self.pause_ms, 0.0)
        )
        return s + wait


def simulate_paused_latency(
    service: LatencyDistribution,
    pause_ms: float,
    pauses_per_s: float,
    size: int,
    *,
    utilization: float = 0.0,
    process: Literal["periodic", "poisson"] = "periodic",
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Monte Carlo of ``size`` request latencies (ms) on a timeline of GC pauses.

    Pauses of ``pause_ms`` start every ``1000 / pauses_per_s`` ms (``periodic``,
    random phase) or as a Poisson process of that rate.  Work arrives at rate
    ``utilization`` and is served at rate 1 when the replica runs, so the
    backlog ``Y`` at the start of each pause follows Lindley's recursion
    ``Y_k = max(0, Y_{k-1} + rho D - (1 - rho) g_k)`` (``g_k`` the running time
    between pauses).  A request arriving at a uniform time ``t`` waits out the
    current pause and the work ahead of it, then needs its own latency
    ``s ~ service`` of running time; every pause that starts before it has
    finished adds ``D``.  This walks the mechanics directly (it does not use the
    formula of :class:`PausedLatency`), so the two can be compared.
    """
    d = float(checks.positive("pause_ms", pause_ms))
    rate = float(checks.positive("pauses_per_s", pauses_per_s))
    rho = float(checks.in_range("utilization", utilization, 0.0, 1.0))
    size = checks.whole("size", size, minimum=1)
    process = checks.choice("process", process, ("periodic", "poisson"))
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    gap = 1000.0 / rate  # ms between pause starts on average
    cycles = max(2000, size // 50)
    horizon = cycles * gap
    s = service._draw(size, rng)
    lead, tail = 20, 40 + int(np.ceil((float(s.max()) + 50 * d) / gap))
    if process == "periodic":
        starts = (np.arange(-lead, cycles + tail) + rng.random()) * gap
    else:
        starts = -lead * gap + np.cumsum(rng.exponential(gap, cycles + lead + tail))
    run = np.diff(starts) - d  # running time between the end of one pause and the next start
    step = np.concatenate([[0.0], rho * d - (1.0 - rho) * run])
    level = np.cumsum(step)
    backlog = level - np.minimum(np.minimum.accumulate(level), 0.0)  # Lindley, Y_0 = 0
    t = rng.random(size) * horizon
    k = np.searchsorted(starts, t, side="right") - 1
    since = t - starts[k]
    paused = since < d
    remaining = np.where(paused, d - since, 0.0)
    ahead = np.where(
        paused,
        backlog[k] + rho * since,
        np.maximum(backlog[k] + rho * d - (1.0 - rho) * (since - d), 0.0),
    )
    need = remaining + ahead + s  # wall time if no further pause starts
    finish = t + need
    for _ in range(100):  # each pass adds the pauses that start before the request finishes
        later = np.searchsorted(starts, finish, side="left") - (k + 1)
        updated = t + need + d * np.maximum(later, 0)
        if np.array_equal(updated, finish):
            break
        finish = updated
    return finish - t


def replica_latency(
    setting: GcSetting,
    service: LatencyDistribution,
    alloc_mib_per_s: float,
    utilization: float = 0.0,
) -> PausedLatency:
    """:class:`PausedLatency` of one replica that allocates ``alloc_mib_per_s`` MiB a second.

    Pauses of ``setting.pause_ms`` at ``setting.pauses_per_s(alloc_mib_per_s)``;
    raises ``InputError`` when the replica is GC-bound.
    """
    rate = float(setting.pauses_per_s(alloc_mib_per_s))
    return PausedLatency(service, setting.pause_ms, rate, utilization)


def latency_quantile_ms(
    setting: GcSetting,
    service: LatencyDistribution,
    alloc_mib_per_s: ArrayLike,
    q: float,
    utilization: float = 0.0,
) -> float | np.ndarray:
    """The ``q`` quantile (ms) of :func:`replica_latency`, ``inf`` where the replica is GC-bound.

    Vectorised over ``alloc_mib_per_s`` (one distribution per rate), for curves.
    """
    rates = np.atleast_1d(checks.non_negative("alloc_mib_per_s", alloc_mib_per_s)).ravel()
    out = np.full(rates.shape, np.inf)
    for i, rate in enumerate(rates):  # one small bisection per allocation rate
        try:
            out[i] = float(replica_latency(setting, service, rate, utilization).quantile(q))
        except InputError:
            continue  # GC-bound: left at inf
    shape = np.shape(alloc_mib_per_s)
    return numeric.scalar_or_array(out.reshape(shape))


def simulation_check(
    dist: PausedLatency,
    size: int,
    *,
    qs: tuple[float, ...] = (0.5, 0.99, 0.999),
    seed: int = 0,
    level: float = 0.95,
    samples: np.ndarray | None = None,
) -> pd.DataFrame:
    """The exact quantiles of ``dist`` next to a seeded :func:`simulate_paused_latency` run.

    One row per ``q``: ``exact_ms``, the simulated quantile ``simulated_ms`` and
    its distribution-free confidence interval ``low_ms``/``high_ms`` at
    ``level`` (:func:`cloudpad.models.latency.quantile_ci`), and ``inside``.
    Pass ``samples`` (latencies in ms from an earlier simulation of ``dist``)
    to reuse them; ``size`` and ``seed`` are then ignored.
    """
    if samples is None:
        sim = simulate_paused_latency(
            dist.service,
            dist.pause_ms,
            dist.pauses_per_s,
            size,
            utilization=dist.utilization,
            seed=seed,
        )
    else:
        sim = np.asarray(checks.non_negative("samples", samples), dtype=float)
    rows = []
    for q in qs:
        ci = quantile_ci(sim, q, level=level)
        exact = float(dist.quantile(q))
        rows.append(
            {
                "q": q,
                "exact_ms": exact,
                "simulated_ms": ci.value,
                "low_ms": ci.low,
                "high_ms": ci.high,
                "inside": bool(ci.contains(exact)),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- fleet
@dataclass(frozen=True)
class Workload:
    """The service being sized, the same whichever runtime serves it.

    ``service`` is the latency distribution without GC (ms); ``cpu_ms_per_request``
    the CPU time of one request on one core (ms); ``alloc_kib_per_request`` the
    heap it allocates (KiB); ``peak_rps`` the traffic (requests per second).
    """

    peak_rps: float
    service: LatencyDistribution
    cpu_ms_per_request: float
    alloc_kib_per_request: float

    def __post_init__(self) -> None:
        checks.positive("peak_rps", self.peak_rps)
        checks.positive("cpu_ms_per_request", self.cpu_ms_per_request)
        checks.non_negative("alloc_kib_per_request", self.alloc_kib_per_request)


def gc_cpu_ms_per_request(
    setting: GcSetting, alloc_kib_per_request: float, scan_mib_per_cpu_s: float, cores: float
) -> float:
    """Core time (ms) the collector costs per request: concurrent marking plus stopped cores.

    Cycles per request ``= alloc / headroom``.  Concurrent marking (Go, ZGC) costs
    ``live / scan rate`` CPU-seconds per cycle, the Go GC guide's cost model
    ("average CPU time cost per byte * live heap"; the scan rate is an input,
    the guide's own example rate is "made up").  Every pause stops all
    ``cores`` for ``pause_ms``.  Forced cycles of an idle replica are ignored.
    """
    alloc = float(checks.non_negative("alloc_kib_per_request", alloc_kib_per_request))
    scan = float(checks.positive("scan_mib_per_cpu_s", scan_mib_per_cpu_s))
    n = float(checks.positive("cores", cores))
    cycles = alloc * _MIB_PER_KIB / setting.headroom_mib
    mark_ms = 1000.0 * setting.live_heap_mib / scan if setting.concurrent_mark else 0.0
    return cycles * (mark_ms + setting.pauses_per_cycle * setting.pause_ms * n)


def replica_capacity_rps(
    setting: GcSetting, workload: Workload, cores: float, scan_mib_per_cpu_s: float
) -> float:
    """Requests per second one replica of ``cores`` cores serves at 100 % CPU.

    ``1000 cores / (program_cpu_ms + gc_cpu_ms_per_request)``.
    """
    gc = gc_cpu_ms_per_request(setting, workload.alloc_kib_per_request, scan_mib_per_cpu_s, cores)
    return 1000.0 * float(cores) / (program_cpu_ms(setting, workload) + gc)


def program_cpu_ms(setting: GcSetting, workload: Workload) -> float:
    """CPU time (ms) of one request's own work: ``cpu_ms_per_request * (1 + cpu_overhead)``.

    ``cpu_overhead`` is the share the collector's barriers add to the program's own
    code (0 unless the setting says otherwise; see :func:`zgc`).
    """
    return workload.cpu_ms_per_request * (1.0 + setting.cpu_overhead)


@dataclass(frozen=True)
class Fleet:
    """Replicas of one runtime sized for a CPU-utilisation target and a latency percentile.

    ``replicas`` is the fewest that meet both, or the CPU-sized count when the
    latency target cannot be met (``meets_slo`` false); ``cpu_replicas`` the
    count the utilisation target alone asks for.  Per replica at the peak:
    ``utilization``, ``pauses_per_s``, ``disturbed_fraction``; the latency at
    ``q`` is ``latency_ms`` (and ``p999_ms``); ``memory_mib`` per replica.
    """

    setting: GcSetting
    replicas: int
    cpu_replicas: int
    meets_slo: bool
    q: float
    latency_ms: float
    p999_ms: float
    utilization: float
    pauses_per_s: float
    disturbed_fraction: float
    capacity_rps: float
    gc_cpu_share: float

    @property
    def memory_mib(self) -> float:
        """Memory per replica (MiB), from the runtime's heap rule."""
        return self.setting.memory_mib


def _fleet_at(
    setting: GcSetting, workload: Workload, replicas: int, capacity: float
) -> PausedLatency | None:
    rps = workload.peak_rps / replicas
    rho = rps / capacity
    if rho >= 1.0:
        return None
    alloc = rps * workload.alloc_kib_per_request * _MIB_PER_KIB
    try:
        return replica_latency(setting, workload.service, alloc, rho)
    except InputError:
        return None  # GC-bound at this size


def replica_profile(
    setting: GcSetting,
    workload: Workload,
    *,
    cores: float,
    scan_mib_per_cpu_s: float,
    utilization: float,
) -> dict[str, float]:
    """One replica at CPU ``utilization``: its GC rhythm, latency percentiles and costs.

    The replica serves ``utilization * capacity`` requests per second
    (:func:`replica_capacity_rps`), so it allocates that times
    ``alloc_kib_per_request``.  Returns a dict (units in the keys): heap and
    memory per replica (MiB), requests and allocation per second, seconds
    between cycles, pauses per second, the share of requests delayed by GC, the
    p50 / p99 / p99.9 latency (ms) and the share of CPU the collector takes.
    Latencies are ``inf`` when the replica is GC-bound.
    """
    u = float(checks.in_range("utilization", utilization, 0.0, 1.0, closed=False))
    capacity = replica_capacity_rps(setting, workload, cores, scan_mib_per_cpu_s)
    rps = u * capacity
    alloc = rps * workload.alloc_kib_per_request * _MIB_PER_KIB
    gc = gc_cpu_ms_per_request(setting, workload.alloc_kib_per_request, scan_mib_per_cpu_s, cores)
    row = {
        "heap_mib": setting.heap_mib,
        "memory_mib": setting.memory_mib,
        "requests_per_s": rps,
        "alloc_mib_per_s": alloc,
        "cycle_interval_s": float(setting.cycle_interval_s(alloc)),
        "pauses_per_s": float(setting.pauses_per_s(alloc)),
        "gc_cpu_share": gc / (program_cpu_ms(setting, workload) + gc),
    }
    try:
        dist = replica_latency(setting, workload.service, alloc, u)
    except InputError:
        return row | dict.fromkeys(["delayed_share", "p50_ms", "p99_ms", "p999_ms"], math.inf)
    p50, p99, p999 = (float(v) for v in dist.quantile(np.array([0.5, 0.99, 0.999])))
    return row | {
        "delayed_share": dist.hit_probability,
        "p50_ms": p50,
        "p99_ms": p99,
        "p999_ms": p999,
    }


def size_fleet(
    setting: GcSetting,
    workload: Workload,
    *,
    cores: float,
    scan_mib_per_cpu_s: float,
    target_utilization: float,
    slo_ms: float,
    q: float = 0.99,
    max_replicas: int = 100_000,
) -> Fleet:
    """Fewest replicas with CPU utilisation <= target and latency percentile ``q`` <= ``slo_ms``.

    CPU: :func:`cloudpad.models.queueing.servers_for_utilization` on the capacity
    of :func:`replica_capacity_rps`.  Latency: more replicas mean less traffic,
    so less allocation and fewer pauses per replica, and lower utilisation, so
    the ``q`` quantile of :class:`PausedLatency` falls with the fleet size; the
    smallest size that meets ``slo_ms`` is found by doubling and bisection.  CPU
    queueing beyond the utilisation target is not in the latency (see the
    queueing article).  If ``max_replicas`` cannot meet the SLO, ``meets_slo`` is
    false and ``replicas`` is the CPU-sized count.
    """
    u = float(checks.in_range("target_utilization", target_utilization, 0.0, 1.0, closed=False))
    slo = float(checks.positive("slo_ms", slo_ms))
    q = float(checks.in_range("q", q, 0.0, 1.0, closed=False))
    capacity = replica_capacity_rps(setting, workload, cores, scan_mib_per_cpu_s)
    n_cpu = int(queueing.servers_for_utilization(workload.peak_rps, capacity, u))

    def ok(n: int) -> bool:
        dist = _fleet_at(setting, workload, n, capacity)
        return dist is not None and float(dist.quantile(q)) <= slo

    lo, hi = n_cpu, n_cpu
    while not ok(hi) and hi < max_replicas:
        lo, hi = hi, min(2 * hi, max_replicas)
    meets = ok(hi)
    if meets and hi > n_cpu:
        while hi - lo > 1:  # invariant: ok(hi), not ok(lo)
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    n = hi if meets else n_cpu
    dist = _fleet_at(setting, workload, n, capacity)
    if dist is None:
        lat = p999 = math.inf
        rate = a = math.nan
    else:
        lat, p999 = float(dist.quantile(q)), float(dist.quantile(0.999))
        rate, a = dist.pauses_per_s, dist.disturbed_fraction
    gc = gc_cpu_ms_per_request(setting, workload.alloc_kib_per_request, scan_mib_per_cpu_s, cores)
    return Fleet(
        setting=setting,
        replicas=n,
        cpu_replicas=n_cpu,
        meets_slo=meets,
        q=q,
        latency_ms=lat,
        p999_ms=p999,
        utilization=workload.peak_rps / n / capacity,
        pauses_per_s=rate,
        disturbed_fraction=a,
        capacity_rps=capacity,
        gc_cpu_share=gc / (program_cpu_ms(setting, workload) + gc),
    )


@dataclass(frozen=True)
class FleetCost:
    """Instances for a fleet and what they cost: ``nodes``, ``monthly_usd``, ``usd_per_million``."""

    nodes: int
    replicas_per_node: float
    monthly_usd: float
    usd_per_million: float


def fleet_cost(
    replicas: int,
    cores: float,
    memory_mib: float,
    *,
    node_vcpu: float,
    node_memory_gib: float,
    price_per_hour_usd: float,
    rps: float,
) -> FleetCost:
    """Pack ``replicas`` (``cores`` vCPU, ``memory_mib`` each) onto instances; cost per request.

    Packing: :func:`cloudpad.models.cost.pack_ffd` with nothing reserved on the
    instance (a VM per group of replicas; subtract a node reservation yourself
    for Kubernetes).  Monthly cost: :func:`cloudpad.models.cost.monthly_cost`
    (730-hour month).  ``usd_per_million = monthly / (rps * 3600 * 730) * 1e6``
    for a fleet serving ``rps`` requests per second all month.
    """
    n = checks.whole("replicas", replicas, minimum=1)
    packing = cost.pack_ffd(
        np.full(n, float(checks.positive("cores", cores))),
        np.full(n, float(checks.positive("memory_mib", memory_mib)) / 1024.0),
        node_vcpu,
        node_memory_gib,
        price_per_hour_usd=price_per_hour_usd,
        reserved_cpu=0.0,
        reserved_memory_gib=0.0,
    )
    monthly = float(cost.monthly_cost(price_per_hour_usd, packing.nodes))
    hours = float(cost.monthly_cost(1.0))  # the billing month's hours, as cost defines them
    requests = float(checks.positive("rps", rps)) * 3600.0 * hours
    return FleetCost(
        nodes=packing.nodes,
        replicas_per_node=n / packing.nodes,
        monthly_usd=monthly,
        usd_per_million=monthly / requests * 1e6,
    )


def compare_fleets(
    settings: Mapping[str, GcSetting],
    workload: Workload | Mapping[str, Workload],
    *,
    cores: float,
    scan_mib_per_cpu_s: float,
    target_utilization: float,
    slo_ms: float,
    node_vcpu: float,
    node_memory_gib: float,
    price_per_hour_usd: float,
    max_growth: int = 20,
) -> pd.DataFrame:
    """:func:`size_fleet` and :func:`fleet_cost` for each runtime, one row per key of ``settings``.

    ``workload`` is one :class:`Workload` for every runtime or one per key of
    ``settings`` (when a runtime's CPU or allocation per request differs).

    A fleet that would need more than ``max_growth`` times its CPU-sized count
    to meet the SLO is reported as not meeting it (``meets_slo`` false, sized by
    CPU).  Columns: ``replicas``, ``cpu_replicas``, ``meets_slo``, ``p99_ms``
    (the ``slo`` percentile, 0.99), ``p999_ms``, ``memory_mib`` per replica,
    ``replicas_per_node``, ``nodes``, ``monthly_usd``, ``usd_per_million``,
    ``gc_cpu_share``.
    """
    rows = {}
    for key, setting in settings.items():
        work = workload if isinstance(workload, Workload) else workload[key]
        sizing = {"cores": cores, "scan_mib_per_cpu_s": scan_mib_per_cpu_s}
        capacity = replica_capacity_rps(setting, work, cores, scan_mib_per_cpu_s)
        n_cpu = int(queueing.servers_for_utilization(work.peak_rps, capacity, target_utilization))
        fleet = size_fleet(
            setting,
            work,
            target_utilization=target_utilization,
            slo_ms=slo_ms,
            max_replicas=max(max_growth * n_cpu, n_cpu + 1),
            **sizing,
        )
        bill = fleet_cost(
            fleet.replicas,
            cores,
            setting.memory_mib,
            node_vcpu=node_vcpu,
            node_memory_gib=node_memory_gib,
            price_per_hour_usd=price_per_hour_usd,
            rps=work.peak_rps,
        )
        rows[key] = {
            "replicas": fleet.replicas,
            "cpu_replicas": fleet.cpu_replicas,
            "meets_slo": fleet.meets_slo,
            "p99_ms": fleet.latency_ms,
            "p999_ms": fleet.p999_ms,
            "memory_mib": setting.memory_mib,
            "replicas_per_node": bill.replicas_per_node,
            "nodes": bill.nodes,
            "monthly_usd": bill.monthly_usd,
            "usd_per_million": bill.usd_per_million,
            "gc_cpu_share": fleet.gc_cpu_share,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def scale_out_headroom(
    ramp_rps_per_s: ArrayLike, lead_time_s: ArrayLike, capacity_rps: ArrayLike
) -> float | np.ndarray:
    """Spare replicas needed to ride out a traffic ramp while new ones start.

    Traffic rising at ``ramp_rps_per_s`` grows by ``ramp * lead`` during the
    ``lead_time_s`` between deciding to add a replica and its serving (scheduling,
    image pull, process start-up); that growth must already be covered:
    ``ceil(ramp * lead / capacity)`` replicas of ``capacity_rps`` each.
    """
    ramp = np.asarray(checks.non_negative("ramp_rps_per_s", ramp_rps_per_s), dtype=float)
    lead = np.asarray(checks.non_negative("lead_time_s", lead_time_s), dtype=float)
    cap = np.asarray(checks.positive("capacity_rps", capacity_rps), dtype=float)
    return numeric.scalar_or_array(np.ceil(ramp * lead / cap - 1e-9).clip(min=0.0))


def go_mark_phase(
    setting: GcSetting,
    workload: Workload,
    *,
    cores: float,
    scan_mib_per_cpu_s: float,
    utilization: float,
) -> dict[str, float]:
    """Go's mark phase on one replica: how much of the time it runs, and the load meanwhile.

    While marking, "the GC takes 25% of CPU resources" (Go GC guide, Latency), so a mark
    of ``live / scan rate`` CPU-seconds lasts ``live / scan / (0.25 cores)`` seconds, and the
    program's own work, a share ``1 - gc_cpu_share`` of the replica's ``utilization``, runs
    on 75 % of the cores: ``program utilization / 0.75``.  GC assists (allocating goroutines
    made to mark) come on top and are not counted.  Returns ``mark_s``,
    ``marking_time_share`` (``mark_s / cycle interval``) and ``utilization_while_marking``.
    """
    if setting.collector != "go":
        raise InputError(f"go_mark_phase is for Go's collector, got {setting.collector!r}")
    row = replica_profile(
        setting,
        workload,
        cores=cores,
        scan_mib_per_cpu_s=scan_mib_per_cpu_s,
        utilization=utilization,
    )
    mark_s = setting.live_heap_mib / float(scan_mib_per_cpu_s) / (GO_MARK_CPU_FRACTION * cores)
    program = float(utilization) * (1.0 - row["gc_cpu_share"])
    return {
        "mark_s": mark_s,
        "marking_time_share": min(mark_s / row["cycle_interval_s"], 1.0),
        "utilization_while_marking": program / (1.0 - GO_MARK_CPU_FRACTION),
    }
