"""CPU limits as Linux enforces them: CFS bandwidth control and what it does to a latency tail.

A container's CPU limit of ``L`` cores becomes a CFS quota ``q = L * p`` of CPU time per
period ``p``.  Within each period the container's threads together may run for at most ``q``;
once it is spent, every one of them is throttled until the next period starts, when the quota
is refilled (unused quota is not carried over).

* :func:`quota_ms`, :func:`limit_cores` -- the arithmetic of quota and period;
* :func:`stall_ms` -- the longest a period can leave the container frozen: ``k`` runnable
  threads spend ``q`` in ``q / k`` of wall time, then wait ``p - q / k``;
* :func:`burst_ms` -- the wall time of a burst of CPU work under a quota;
* :func:`limit_for_stall` -- the limit that keeps the worst stall within a budget;
* :func:`simulate` -- a discrete-event simulation of a multi-threaded server (Poisson
  arrivals, exponential CPU work per request, ``threads`` requests served at once, FCFS)
  under a quota: the response times and the share of periods that throttled.

Sources: Linux kernel documentation, "CFS Bandwidth Control"
(``Documentation/scheduler/sched-bwc.rst``): "Within each given "period" (microseconds), a
task group is allocated up to "quota" microseconds of CPU time. [...] Throttled threads will not
be able to run again until the next period when the quota is replenished", with the default
``cpu.cfs_period_us=100ms``; Kubernetes documentation, "Resource Management for Pods and
Containers": "cpu limits are enforced by CPU throttling".

What the model leaves out: the kernel hands quota to CPUs in slices (5 ms by default) and may
let an unused remainder of at most 1 ms per CPU carry over; ``cpu.cfs_burst_us`` (Linux 5.14+)
lets a group bank unused quota; a request here is one burst of CPU on one thread (no I/O
wait, no parallelism inside a request) and the node has an idle core for every runnable
thread.  Times in milliseconds, limits in cores (1 core = 1,000 millicores).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

#: Default CFS period, ms ("cpu.cfs_period_us=100ms", sched-bwc.rst; the kubelet's
#: ``cpuCFSQuotaPeriod`` default is the same 100 ms).
DEFAULT_PERIOD_MS: float = 100.0

_EPS = 1e-9


def quota_ms(limit_cores: ArrayLike, period_ms: float = DEFAULT_PERIOD_MS) -> float | np.ndarray:
    """CPU time a limit of ``limit_cores`` allows per period: ``q = L * p`` (ms)."""
    limit = checks.positive("limit_cores", limit_cores)
    period = float(checks.positive("period_ms", period_ms))
    return numeric.scalar_or_array(np.asarray(limit) * period)


def limit_cores(quota: ArrayLike, period_ms: float) -> float | np.ndarray:
    """Cores of CPU a quota of ``quota`` ms per ``period_ms`` allows: ``L = q / p``.

    The kernel documentation's examples: 250 ms per 250 ms is 1 CPU, 1,000 ms per 500 ms is
    2 CPUs, 10 ms per 50 ms is 20 % of one CPU.
    """
    q = checks.positive("quota", quota)
    period = float(checks.positive("period_ms", period_ms))
    return numeric.scalar_or_array(np.asarray(q) / period)


def stall_ms(
    limit: ArrayLike, threads: ArrayLike, period_ms: float = DEFAULT_PERIOD_MS
) -> float | np.ndarray:
    """Longest time one period leaves a container frozen: ``p - q / k`` when ``k > L``, else 0.

    ``threads`` (``k``) threads that can all run at once (GOMAXPROCS, a JVM's GC or request
    threads on a node with that many idle cores) burn the quota ``q = L p`` in ``q / k`` ms
    of wall time; the rest of the period they wait.  With ``k <= L`` the quota cannot run out.
    """
    lim = np.asarray(checks.positive("limit", limit), dtype=float)
    k = np.asarray(checks.positive("threads", threads), dtype=float)
    period = float(checks.positive("period_ms", period_ms))
    out = np.where(k > lim, period * (1.0 - lim / k), 0.0)
    return numeric.scalar_or_array(out)


def burst_ms(
    work_ms: float, threads: int, limit: float | None, period_ms: float = DEFAULT_PERIOD_MS
) -> float:
    """Wall time of ``work_ms`` of CPU work shared evenly by ``threads`` threads under a quota.

    The burst starts at a period boundary with the whole quota ``q = limit * period`` and no
    other load.  Without a limit, or with ``threads <= limit``, it takes ``W / k``.  Otherwise
    each period does ``q`` of work in ``q / k`` ms: with ``n = ceil(W / q) - 1`` full periods
    and ``r = W - n q`` left, it ends at ``n p + r / k``.  Worked example: 200 ms of CPU on 4
    threads under a 1-core limit take 125 ms (100 ms of CPU in the first 25 ms, throttled
    75 ms, the rest in 25 ms) instead of 50 ms.
    """
    w = float(checks.positive("work_ms", work_ms))
    k = checks.whole("threads", threads, minimum=1)
    period = float(checks.positive("period_ms", period_ms))
    if limit is None or k <= float(checks.positive("limit", limit)):
        return w / k
    q = float(limit) * period
    full = math.ceil(w / q - _EPS) - 1
    return full * period + (w - full * q) / k


def limit_for_stall(
    threads: ArrayLike, max_stall_ms: ArrayLike, period_ms: float = DEFAULT_PERIOD_MS
) -> float | np.ndarray:
    """Smallest limit (cores) whose worst stall is at most ``max_stall_ms``: ``k (1 - s / p)``.

    Inverts :func:`stall_ms`; at ``s = 0`` it is ``k``, the limit at which ``k`` threads can
    never exhaust the quota.  ``max_stall_ms`` at or above the period gives 0 (any limit).
    """
    k = np.asarray(checks.positive("threads", threads), dtype=float)
    s = np.asarray(checks.non_negative("max_stall_ms", max_stall_ms), dtype=float)
    period = float(checks.positive("period_ms", period_ms))
    return numeric.scalar_or_array(k * np.clip(1.0 - s / period, 0.0, 1.0))


@dataclass(frozen=True)
class ThrottleSimulation:
    """Result of :func:`simulate`: response times (ms) and how often the quota ran out."""

    response_ms: np.ndarray = field(repr=False)
    periods: int
    throttled_periods: int
    cpu_cores_used: float

    @property
    def throttled_share(self) -> float:
        """``nr_throttled / nr_periods`` as ``cpu.stat`` reports it: periods that throttled."""
        return self.throttled_periods / self.periods if self.periods else 0.0

    @property
    def p99_ms(self) -> float:
        """The 99th percentile of the simulated response times, ms."""
        return self.percentile_ms(0.99)

    def percentile_ms(self, q: float) -> float:
        """The ``q``-quantile (0..1) of the simulated response times, ms."""
        qq = float(checks.in_range("q", q, 0.0, 1.0))
        return float(np.quantile(self.response_ms, qq))


def simulate(
    arrival_rate_per_s: float,
    mean_work_ms: float,
    threads: int,
    limit: float | None,
    *,
    burst: int = 1,
    period_ms: float = DEFAULT_PERIOD_MS,
    requests: int = 20_000,
    warmup: int = 1_000,
    seed: int = 0,
) -> ThrottleSimulation:
    """Discrete-event simulation of one container serving requests under a CFS quota.

    Requests arrive as a Poisson process (``arrival_rate_per_s``), each needs an exponential
    amount of CPU time (mean ``mean_work_ms``) on one thread.  They come ``burst`` at a time
    (a caller fanning out, e.g. one call per item of a page), the bursts a Poisson process at
    ``arrival_rate_per_s / burst``; up to ``threads`` requests run at once, the rest wait in
    FIFO order (with ``burst = 1`` and no ``limit``, an M/M/c queue with ``c = threads``).
    With a ``limit`` (cores), the running threads together consume the quota
    ``limit * period_ms`` of each period; when it is gone all of them stop until the period
    ends.  The first ``warmup`` requests are dropped.  Exact event by event (arrivals,
    completions, quota exhaustion, period ends); deterministic for a ``seed``.
    """
    lam = float(checks.positive("arrival_rate_per_s", arrival_rate_per_s))
    mean = float(checks.positive("mean_work_ms", mean_work_ms))
    k = checks.whole("threads", threads, minimum=1)
    period = float(checks.positive("period_ms", period_ms))
    q = math.inf if limit is None else float(checks.positive("limit", limit)) * period
    if lam * mean / 1000.0 >= min(k, q / period):
        raise InputError(
            f"the load {lam * mean / 1000.0:.3g} cores must stay below the threads ({k}) and "
            f"the limit ({'none' if limit is None else limit}) or the queue grows without bound"
        )
    b = checks.whole("burst", burst, minimum=1)
    total = checks.whole("requests", requests, minimum=1) + checks.whole("warmup", warmup)
    bursts = -(-total // b)
    rng = np.random.default_rng(checks.whole("seed", seed))
    arrivals = np.repeat(np.cumsum(rng.exponential(1000.0 * b / lam, bursts)), b)
    work = rng.exponential(mean, arrivals.size)
    response = _run(arrivals.tolist(), work.tolist(), k, q, period)
    return ThrottleSimulation(
        response_ms=np.asarray(response.times[warmup:]),
        periods=response.periods,
        throttled_periods=response.throttled,
        cpu_cores_used=float(work.sum() / arrivals[-1]),
    )


@dataclass
class _Outcome:
    times: list[float]
    periods: int
    throttled: int


def _run(arrivals: list[float], work: list[float], k: int, q: float, period: float) -> _Outcome:
    """The event loop of :func:`simulate` (plain Python lists: at most ``k`` requests run)."""
    n = len(arrivals)
    limited = math.isfinite(q)
    times = [0.0] * n
    remaining: list[float] = []  # CPU work left of each running request
    running: list[int] = []  # their indices
    waiting: deque[int] = deque()
    t, left, period_end = 0.0, q, period if limited else math.inf
    throttled, i, done, periods, throttled_periods = False, 0, 0, 0, 0
    while done < n:
        next_arrival = arrivals[i] if i < n else math.inf
        busy = len(running)
        if throttled:
            step = min(next_arrival, period_end) - t
        else:
            step = min(next_arrival - t, period_end - t)
            if busy:
                step = min(step, min(remaining), left / busy if limited else math.inf)
                remaining = [r - step for r in remaining]
                left -= busy * step
        t += step
        if busy and not throttled and min(remaining) <= _EPS:
            keep = [j for j, r in enumerate(remaining) if r > _EPS]
            for j, r in enumerate(remaining):
                if r <= _EPS:
                    times[running[j]] = t - arrivals[running[j]]
                    done += 1
            remaining = [remaining[j] for j in keep]
            running = [running[j] for j in keep]
        if t >= period_end - _EPS:
            periods += 1
            left, period_end, throttled = q, period_end + period, False
        elif limited and not throttled and running and left <= _EPS:
            throttled = True
            throttled_periods += 1
        if i < n and arrivals[i] <= t + _EPS:
            waiting.append(i)
            i += 1
        while waiting and len(running) < k:
            j = waiting.popleft()
            running.append(j)
            remaining.append(work[j])
    return _Outcome(times, periods, throttled_periods)


def limit_sweep(
    arrival_rate_per_s: float,
    mean_work_ms: float,
    limits: list[float],
    *,
    threads: int | None,
    burst: int = 1,
    period_ms: float = DEFAULT_PERIOD_MS,
    requests: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """p50, p99 and throttled share of :func:`simulate` for each CPU limit in ``limits``.

    ``threads`` is how many threads can run at once: a number for a runtime that sizes itself
    to the node (its cores), or None for exclusive cores, where the container runs on exactly
    ``limit`` whole CPUs with no quota (the CPU manager's static policy; ``limit`` must then be
    a whole number).  Every limit is simulated with the same ``seed`` (common random numbers),
    so the curves differ by the limit only.  Returns one row per limit: ``limit``,
    ``p50_ms``, ``p99_ms``, ``throttled_share``.
    """
    rows = []
    for lim in limits:
        if threads is None:
            cores = checks.whole("limit (exclusive cores)", lim, minimum=1)
            sim = simulate(arrival_rate_per_s, mean_work_ms, cores, None, burst=burst,
                           period_ms=period_ms, requests=requests, seed=seed)  # fmt: skip
        else:
            sim = simulate(arrival_rate_per_s, mean_work_ms, threads, lim, burst=burst,
                           period_ms=period_ms, requests=requests, seed=seed)  # fmt: skip
        rows.append(
            {
                "limit": float(lim),
                "p50_ms": sim.percentile_ms(0.5),
                "p99_ms": sim.percentile_ms(0.99),
                "throttled_share": sim.throttled_share,
            }
        )
    return pd.DataFrame(rows)


def smallest_limit(sweep: pd.DataFrame, p99_target_ms: float) -> float | None:
    """Smallest ``limit`` of a :func:`limit_sweep` whose p99 meets ``p99_target_ms``, or None.

    Taken as the first limit from which every larger limit of the sweep also meets it.
    """
    target = float(checks.positive("p99_target_ms", p99_target_ms))
    rows = sweep.sort_values("limit")
    ok = (rows["p99_ms"] <= target).to_numpy()
    if not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return float(rows["limit"].iloc[0 if bad.size == 0 else bad[-1] + 1])
