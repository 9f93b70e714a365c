"""Monte Carlo simulation of availability: replicas that fail and are repaired.

:func:`simulate` runs many independent trials of replicas that fail and are repaired
(exponential, deterministic, lognormal, Weibull or user-given durations), grouped in shared
failure domains (zones, regions) whose failure takes every member down at once, with a
failover delay after each replica loss.  It is vectorised with NumPy: each unit's up/down
renewal process is drawn for all trials at once in integer time quanta, and the system's state
comes from one sort of packed event keys and a cumulative sum (see :func:`simulate`).
:func:`one_region` and :func:`multi_region` build common deployments on it (replicas one per
zone of a region; regions behind a global router, with a failure they share).  A
:class:`SimulationResult` reports the availability as a :class:`~cloudpad.models.numeric.Interval`.

The closed forms it is checked against (:func:`~cloudpad.models.availability.redundant`,
:func:`~cloudpad.models.availability.one_region_closed`,
:func:`~cloudpad.models.availability.multi_region_closed`) are in
:mod:`cloudpad.models.availability`, which does not depend on this module.  Times are in hours
unless a name says otherwise; "per SLA month" is the 30-day month of
:data:`cloudpad.models.availability.SLA_MONTH_HOURS`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import availability, checks, cost, numeric
from cloudpad.models.numeric import Interval

__all__ = [
    "DESIGNS",
    "Domain",
    "Durations",
    "Ladder",
    "Sampler",
    "SimulationResult",
    "ladder",
    "multi_region",
    "one_region",
    "simulate",
]

Sampler = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
_KINDS = ("exponential", "deterministic", "lognormal", "weibull")


@dataclass(frozen=True)
class Durations:
    """A distribution of up or down durations, in hours, with a given mean.

    ``kind`` is ``"exponential"`` (memoryless, the closed forms' assumption), ``"deterministic"``
    (always ``mean``), ``"lognormal"`` (``shape`` = coefficient of variation, e.g. 1.0) or
    ``"weibull"`` (``shape`` = Weibull k; k < 1 gives infant mortality, k > 1 wear-out).
    ``sampler`` overrides ``kind``: a function ``(rng, shape) -> array of hours``.
    """

    mean: float
    kind: str = "exponential"
    shape: float = 1.0
    sampler: Sampler | None = None

    def __post_init__(self) -> None:
        checks.positive("mean", self.mean)
        checks.choice("kind", self.kind, _KINDS)
        checks.positive("shape", self.shape)

    def draw(
        self, rng: np.random.Generator, size: tuple[int, ...], unit: float = 1.0
    ) -> np.ndarray:
        """Draw durations (method per ``kind``, scaled to ``mean``) in hours times ``unit``."""
        if self.sampler is not None:
            x = np.asarray(self.sampler(rng, size), dtype=float)
            if x.shape != size or not np.all(np.isfinite(x) & (x >= 0)):
                raise InputError(
                    f"sampler must return finite durations >= 0 of shape {size}, got shape "
                    f"{x.shape}"
                )
            return x * unit
        if self.kind == "exponential":
            x = rng.standard_exponential(size)
            x *= self.mean * unit
            return x
        if self.kind == "deterministic":
            return np.full(size, self.mean * unit)
        if self.kind == "lognormal":
            sigma2 = math.log1p(self.shape**2)
            mu = math.log(self.mean) - sigma2 / 2
            return rng.lognormal(mu, math.sqrt(sigma2), size) * unit
        scale = self.mean * unit / math.gamma(1.0 + 1.0 / self.shape)
        return scale * rng.weibull(self.shape, size)


@dataclass(frozen=True)
class Domain:
    """A shared failure domain level (zones, regions): when a domain is down, all its replicas are.

    ``members[i]`` is the domain index of replica ``i`` (``(0, 1, 2)``: one replica per zone;
    ``(0, 0, 0)``: all in one region).  ``up``/``down`` are the domain's own durations.
    """

    up: Durations
    down: Durations
    members: tuple[int, ...]

    def __post_init__(self) -> None:
        for i, m in enumerate(self.members):
            checks.whole(f"members[{i}]", m, minimum=0)


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`simulate`.

    ``availability`` is the mean over trials of each trial's fraction of time up, with its
    normal-approximation confidence interval (an :class:`~cloudpad.models.numeric.Interval`:
    ``.value``, ``.low``, ``.high``, ``.level``); ``per_trial`` the availability of each trial
    (a trial is one ``horizon_hours`` of operation); ``samples`` the number of failure/repair
    cycles simulated; ``outages_per_trial`` the mean number of full outages (system down because
    too few replicas) per trial; ``outage_fraction`` and ``failover_fraction`` split the
    unavailability ``1 - availability.value`` into time with too few replicas and traffic lost
    during failovers.
    """

    availability: Interval
    trials: int
    horizon_hours: float
    samples: int
    outages_per_trial: float
    outage_fraction: float
    failover_fraction: float
    per_trial: np.ndarray = field(repr=False)

    def outage_process(self) -> tuple[float, float]:
        """Mean time between outages and mean outage length, in hours: ``(MTBF, MTTR)``.

        ``MTTR = outage hours / outages`` and ``MTBF = (horizon - outage hours) / outages`` per
        trial, so that ``from_mtbf(MTBF, MTTR) = 1 - outage_fraction``: the whole system seen as
        one component, e.g. a region's deployment inside a multi-region design.
        """
        if self.outages_per_trial <= 0:
            raise InputError(
                f"outages_per_trial must be > 0 to estimate an outage process, got "
                f"{self.outages_per_trial}; simulate more trials or a longer horizon"
            )
        down = self.outage_fraction * self.horizon_hours
        return (self.horizon_hours - down) / self.outages_per_trial, down / self.outages_per_trial

    @property
    def downtime_minutes_per_sla_month(self) -> float:
        """Mean downtime in minutes per 30-day SLA month implied by the mean availability."""
        return (1.0 - self.availability.value) * availability.SLA_MONTH_HOURS * 60.0

    @property
    def downtime_minutes_per_trial(self) -> np.ndarray:
        """Downtime of each trial in minutes, ``(1 - per_trial) * horizon_hours * 60``.

        Outage time plus the traffic-weighted failover loss; with a one-year horizon, the
        downtime of each simulated year.
        """
        return (1.0 - self.per_trial) * self.horizon_hours * 60.0

    def downtime_exceedance(self, minutes: ArrayLike) -> float | np.ndarray:
        """Share of trials whose downtime exceeds ``minutes`` (scalar or array, >= 0)."""
        m = np.asarray(checks.non_negative("minutes", minutes), dtype=float)
        lost = np.sort(self.downtime_minutes_per_trial)
        above = lost.size - np.searchsorted(lost, m, side="right")
        return numeric.scalar_or_array(above / lost.size)


def _as_durations(name: str, x: float | Durations) -> Durations:
    if isinstance(x, Durations):
        return x
    return Durations(float(checks.positive(name, x)))


def _quanta(
    durations: Durations, rng: np.random.Generator, size: tuple[int, ...], unit: float
) -> np.ndarray:
    """Durations as whole time quanta (int64), ``unit`` quanta per hour.

    Exponential durations are drawn in single precision (relative error 6e-8, far below the
    sampling noise of any estimate) because it is faster; other kinds use :meth:`Durations.draw`.
    """
    if durations.sampler is None and durations.kind == "exponential":
        x = rng.standard_exponential(size, dtype=np.float32)
        x *= np.float32(durations.mean * unit)
        return x.astype(np.int64)
    return durations.draw(rng, size, unit).astype(np.int64)


def _event_keys(
    rng: np.random.Generator,
    up: Durations,
    down: Durations,
    codes: Sequence[int],
    trials: int,
    horizon: float,
    bits: int,
) -> tuple[np.ndarray, int]:
    """Packed event keys of the down intervals of units that share one pair of distributions.

    ``codes[j]`` is unit ``j``'s end code; its start code is ``codes[j] + 2**(bits - 1)``.  A key
    is ``(quantum << bits) | code`` with time quantum ``q = horizon / 2**30``; trial ``r`` spans
    quanta ``[(2 r + 0.5) 2**30, (2 r + 1.5) 2**30)``, so the empty gaps between trials keep their
    events apart and ``key >> (bits + 31)`` is the trial index.  Every unit starts in its
    stationary state: up with probability ``A = mean_up / (mean_up + mean_down)`` (a fresh up
    period: exact for exponential durations), else at the start of a repair.  Durations are drawn
    for all units and trials at once (one row per unit and trial) with enough cycles for almost
    every row; the few rows that fall short get more cycles (a loop that runs rarely, over those
    rows only).  Durations are rounded down to whole quanta (29 ms for a one-year horizon), so the
    cumulative sums are exact integers.  Returns the keys (unsorted) and the number of
    failure/repair cycles drawn.
    """
    cycle = up.mean + down.mean
    expected = horizon / cycle
    m = int(expected + 1.5 * math.sqrt(expected) + 2)
    n_rows = len(codes) * trials
    trial = np.tile(np.arange(trials, dtype=np.int64), len(codes))
    code = np.repeat(np.asarray(codes, dtype=np.int64), trials)
    base_key = ((trial << 31) + (1 << 29)) << bits  # the trial's start, in packed form
    end_add = base_key | code
    start_add = end_add | (1 << (bits - 1))
    inv_q = 2.0**30 / horizon
    horizon_q = 1 << 30
    rows = np.arange(n_rows)
    clock = np.zeros(n_rows, dtype=np.int64)
    first = rng.random(n_rows) >= up.mean / cycle
    parts = []
    cycles = 0
    while len(rows):
        # Durations in time quanta (integers), so that the cumulative sums are exact and fast.
        ups = _quanta(up, rng, (len(rows), m), inv_q)
        downs = _quanta(down, rng, (len(rows), m), inv_q)
        if first is not None:
            ups[first, 0] = 0  # these rows begin in a repair, exactly at the trial's start
            first = None
        # Row-wise cumulative sums as one flat cumulative sum (much faster than axis=1) minus
        # each row's running total before it.
        ends = np.cumsum(ups + downs).reshape(ups.shape)
        base = np.empty(len(rows), dtype=np.int64)
        base[0] = 0
        base[1:] = ends[:-1, -1]
        ends -= (base - clock)[:, None]
        starts = ends - downs
        last = ends[:, -1].copy()
        np.minimum(ends, horizon_q, out=ends)
        # Repairs shorter than one time quantum vanish (they would end before they start), and
        # so do repairs that would start after the horizon.
        keep = ends > starts
        for key, add in ((starts, start_add), (ends, end_add)):
            key <<= bits
            key += add[rows][:, None]
            parts.append(key[keep])
        cycles += len(parts[-1])
        short = last < horizon_q
        rows, clock = rows[short], last[short]
        m = int(3.0 * math.sqrt(expected) + 2)
    return np.concatenate(parts), cycles


def _count_table(replicas: int, flags: int) -> np.ndarray | None:
    """Replicas down for every packed state, or None when the state has more than 16 bits."""
    bits = replicas * flags
    if bits > 16:
        return None
    state = np.arange(1 << bits)
    mask = (1 << flags) - 1
    count = sum(((state >> (i * flags)) & mask) != 0 for i in range(replicas))
    return np.asarray(count, dtype=np.intp)


def _chunk(
    rng: np.random.Generator,
    units: list[tuple[Durations, Durations, int]],
    n: int,
    k: int,
    flags: int,
    table: np.ndarray | None,
    d: float,
    mode: str,
    trials: int,
    horizon: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Downtime, failover loss and outages per trial (hours, hours, count) for one chunk.

    Event times are packed with the event's code into one int64 key, ``(time / q) << bits | code``
    with ``q = horizon / 2**30`` (29 ms for a one-year horizon), so that one SIMD sort of plain
    integers orders all events; at equal times ends (codes ``0..U-1``) come before starts
    (``U..2U-1``).  Trial ``r`` spans quanta ``[(2 r + 0.5) 2**30, (2 r + 1.5) 2**30)``, so its
    index is ``key >> (bits + 31)``.
    """
    n_units = len(units)
    bits = max(1, (n_units - 1).bit_length()) + 1
    keys, samples = [], 0
    groups: dict[tuple[Durations, Durations], list[int]] = {}
    for u, (up, down, _) in enumerate(units):
        groups.setdefault((up, down), []).append(u)
    for (up, down), codes in groups.items():  # loop over kinds of unit, not samples
        key, c = _event_keys(rng, up, down, codes, trials, horizon, bits)
        keys.append(key)
        samples += c
    key = np.concatenate(keys)
    key.sort()
    masks = np.zeros(1 << (bits - 1), dtype=np.int64)
    masks[:n_units] = [m for _, _, m in units]
    step_of = np.concatenate([-masks, masks])  # end codes, then start codes
    state = np.cumsum(np.take(step_of, key & ((1 << bits) - 1)))
    before_after = np.arange((n + 1) ** 2)
    lost_now = before_after % (n + 1) - before_after // (n + 1)
    share_of = np.where(lost_now > 0, lost_now / np.maximum(n - before_after // (n + 1), 1), 0.0)
    if table is not None:
        n_down = np.take(table, state)
    else:
        lanes = (1 << flags) - 1
        n_down = sum((((state >> (i * flags)) & lanes) != 0).astype(np.intp) for i in range(n))
    tq = key >> bits  # time in quanta
    q = horizon / 2.0**30
    down = n_down > n - k
    where = np.flatnonzero(down)
    nxt = np.minimum(where + 1, len(tq) - 1)
    trial_of = tq[where] >> 31
    down_time = _per_trial(trial_of, (tq[nxt] - tq[where]) * q, trials)
    begins = where[(where == 0) | ~down[where - 1]]
    outages = _per_trial(tq[begins] >> 31, np.ones(len(begins)), trials)

    loss = np.zeros(trials)
    if d > 0:
        # Replica losses that leave the system up; n_down[-1] is 0 (all intervals have ended),
        # so n_down[fail - 1] is the count before the event even for fail = 0.
        rise = np.empty(len(n_down), bool)
        rise[0] = n_down[0] > 0
        np.greater(n_down[1:], n_down[:-1], out=rise[1:])
        rise &= ~down
        fail = np.flatnonzero(rise)
        tf = np.take(tq, fail)
        trial_f = tf >> 31
        after = np.take(n_down, fail)
        share = np.take(share_of, np.take(n_down, fail - 1) * (n + 1) + after)
        if mode == "active-passive":
            share = (rng.random(len(share)) < share).astype(float)
        share[(tf & ((1 << 31) - 1)) == 1 << 29] = 0.0  # the stationary start is no failure
        loss = d * np.bincount(trial_f, weights=share, minlength=trials)
        # A failover ends at the next outage or at the end of its trial, whichever is first.
        ends = (np.arange(trials, dtype=np.int64) << 31) + (3 << 29)
        barriers = np.sort(np.concatenate([tq[begins], ends]))
        previous = np.concatenate([[-(1 << 62)], barriers[:-1]])
        low = np.searchsorted(tf, np.maximum(barriers - math.ceil(d / q), previous), "right")
        idx, left = _cut(tf, barriers, low)
        if len(idx):
            loss -= np.bincount(trial_f[idx], weights=(d - left * q) * share[idx], minlength=trials)
    return down_time, loss, outages, samples


def _per_trial(trial: np.ndarray, weights: np.ndarray, trials: int) -> np.ndarray:
    """Sum ``weights`` per trial for a sorted array of trial indices (cumulative sums)."""
    total = np.concatenate([[0.0], np.cumsum(weights)])
    bounds = np.searchsorted(trial, np.arange(trials + 1))
    return np.diff(total[bounds])


def _cut(tf: np.ndarray, at: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Failovers cut short: indices ``i`` with ``low[j] <= i`` and ``tf[i] < at[j]`` for some
    ``j``, and the time left until ``at[j]`` (quanta).  Vectorised with ``np.repeat``.
    """
    high = np.searchsorted(tf, at, side="left")
    low = np.minimum(low, high)
    lengths = high - low
    total = int(lengths.sum())
    first = np.cumsum(lengths) - lengths
    idx = np.arange(total) - np.repeat(first - low, lengths)
    return idx, np.repeat(at, lengths) - tf[idx]


def simulate(
    mtbf_hours: float | Durations,
    mttr_hours: float | Durations,
    replicas: int = 1,
    required: int = 1,
    *,
    domains: Sequence[Domain] = (),
    failover_minutes: float = 0.0,
    mode: str = "active-active",
    horizon_hours: float = availability.PERIOD_HOURS["year"],
    trials: int = 2000,
    level: float = 0.95,
    seed: int | None = 0,
) -> SimulationResult:
    """Monte Carlo availability of ``replicas`` that fail and are repaired, ``required`` of
    which must be up, with shared failure domains and a failover delay.

    Model.  Each replica alternates up periods (``mtbf_hours``: a mean in hours, or a
    :class:`Durations`) and repairs (``mttr_hours``), independently.  Each :class:`Domain` level
    (zones, regions) has its own up/down process per domain; a replica is *effectively down* while
    it or any of its domains is down, so a zone outage takes all of its replicas at once
    (correlated failure).  The system is down while fewer than ``required`` replicas are
    effectively up.  When replicas are lost and at least ``required`` remain, the failover
    (detection and re-routing) takes ``failover_minutes``: in ``"active-active"`` mode the lost
    replicas' share of traffic (``lost / c``, ``c`` replicas up before) fails for that time; in
    ``"active-passive"`` mode the active replica was among the lost with probability ``lost / c``
    (exact for exponential up times) and then all traffic fails for that time.  A failover ends
    early only if the system goes down (then the outage counts) or the trial ends.

    Method.  Trials run in chunks (small enough to stay in the CPU cache).  Within a chunk every
    unit's (replica's or domain's) up/down renewal process is drawn for all trials at once
    (arrays of durations, cumulative sums), trial ``r`` placed at ``(2 r + 0.5) * horizon_hours``
    on one time axis.  Each interval start adds and each end removes the unit's bit mask in a
    packed state (one bit per replica and failure-domain level).  Events are packed with their
    time into int64 keys (time resolution ``horizon_hours / 2**30``, 29 ms for a year), so one
    integer sort and a cumulative sum give the exact state after every event, and a lookup
    table the number of replicas down.  Time with too few replicas and failover losses are
    summed per trial with ``np.bincount``.  No Python loop runs over samples.

    Returns a :class:`SimulationResult`: the mean of per-trial availabilities and its
    normal-approximation confidence interval at ``level``, as one ``Interval``.  With
    exponential durations and no domains it agrees with ``availability.redundant``; with one
    domain shared by all replicas it agrees with ``A_domain * k_of_n(...)``, which the
    independent closed forms cannot give.
    """
    up = _as_durations("mtbf_hours", mtbf_hours)
    down = _as_durations("mttr_hours", mttr_hours)
    n = checks.whole("replicas", replicas, minimum=1)
    k = checks.whole("required", required, minimum=1)
    if k > n:
        raise InputError(f"required must be a whole number <= replicas = {n}, got {k}")
    d = float(checks.non_negative("failover_minutes", failover_minutes)) / 60.0
    checks.choice("mode", mode, ("active-active", "active-passive"))
    horizon = float(checks.positive("horizon_hours", horizon_hours))
    trials = checks.whole("trials", trials, minimum=2)
    lvl = float(checks.in_range("level", level, 0.0, 1.0, closed=False))
    flags = 1 + len(domains)
    if n * flags > 62:
        raise InputError(
            f"replicas * (1 + len(domains)) must be <= 62, got {n} * {flags} = {n * flags}"
        )
    units: list[tuple[Durations, Durations, int]] = [(up, down, 1 << (i * flags)) for i in range(n)]
    for j, dom in enumerate(domains):
        if len(dom.members) != n:
            raise InputError(
                f"domains[{j}].members must give one domain per replica ({n}), "
                f"got {len(dom.members)}"
            )
        for index in sorted(set(dom.members)):
            mask = sum(1 << (i * flags + 1 + j) for i, m in enumerate(dom.members) if m == index)
            units.append((dom.up, dom.down, mask))
    table = _count_table(n, flags)
    rng = np.random.default_rng(seed)

    events_per_trial = sum(2.0 * horizon / (u.mean + dn.mean) + 2.0 for u, dn, _ in units)
    size = max(1, min(trials, int(_CHUNK_EVENTS / events_per_trial)))
    down_time, loss, outages, samples = [], [], [], 0
    for first in range(0, trials, size):  # loop over chunks of trials, not over samples
        part = _chunk(rng, units, n, k, flags, table, d, mode, min(size, trials - first), horizon)
        down_time.append(part[0])
        loss.append(part[1])
        outages.append(part[2])
        samples += part[3]
    lost_hours = np.concatenate(down_time) + np.concatenate(loss)
    per_trial = 1.0 - lost_hours / horizon
    mean = float(per_trial.mean())
    z = statistics.NormalDist().inv_cdf(0.5 + lvl / 2)
    half = float(z * per_trial.std(ddof=1) / math.sqrt(trials))
    return SimulationResult(
        availability=Interval(mean, mean - half, mean + half, lvl),
        trials=trials,
        horizon_hours=horizon,
        samples=samples,
        outages_per_trial=float(np.concatenate(outages).mean()),
        outage_fraction=float(np.concatenate(down_time).mean() / horizon),
        failover_fraction=float(np.concatenate(loss).mean() / horizon),
        per_trial=per_trial,
    )


#: Events per chunk of trials in :func:`simulate`: small enough to stay in cache.
_CHUNK_EVENTS = 32_768


def multi_region(
    regional: SimulationResult,
    regions: int = 2,
    *,
    failover_minutes: float = 0.0,
    mode: str = "active-active",
    shared: Domain | tuple[float, float] | None = None,
    trials: int = 2000,
    seed: int | None = 0,
) -> SimulationResult:
    """Availability of ``regions`` copies of a regional deployment, at least one needed.

    Two-level model.  ``regional`` is the simulation of one region's deployment (replicas,
    zones, the region itself); its outages are summarised by
    :meth:`SimulationResult.outage_process` as one component with that MTBF and MTTR
    (exponential up and down times: an approximation, the regional outages' real distribution
    is a mixture).  :func:`simulate` then runs ``regions`` such components with the cross-region
    ``failover_minutes`` and ``mode`` (``"active-passive"``: the region that fails is the active
    one with probability ``1/c``; ``"active-active"``: its share of traffic fails during the
    failover), and ``shared``, a pair ``(MTBF, MTTR)`` in hours or a :class:`Domain` whose
    ``members`` are all 0, adds a failure
    common to every region (a global control plane, DNS, a configuration pushed everywhere).
    Finally the within-region failover loss ``regional.failover_fraction`` is subtracted: traffic
    keeps flowing through regional load balancers whose replica losses cost the same share as in
    one region.  With exponential durations and no ``shared`` domain the result agrees with
    ``availability.multi_region_closed(MTBF, MTTR, regions, failover_minutes=...,
    regional_failover_loss=regional.failover_fraction)``.
    """
    n = checks.whole("regions", regions, minimum=1)
    mtbf, mttr = regional.outage_process()
    domains: list[Domain] = []
    if shared is not None and not isinstance(shared, Domain):
        shared = Domain(*_durations_pair("shared", shared), (0,))
    if shared is not None:
        if set(shared.members) != {0}:
            raise InputError(f"shared.members must all be 0, got {shared.members}")
        domains = [Domain(shared.up, shared.down, (0,) * n)]
    top = simulate(
        mtbf,
        mttr,
        n,
        1,
        domains=domains,
        failover_minutes=failover_minutes,
        mode=mode,
        horizon_hours=regional.horizon_hours,
        trials=trials,
        level=regional.availability.level,
        seed=seed,
    )
    shift = regional.failover_fraction
    a = top.availability
    return dataclasses.replace(
        top,
        availability=Interval(a.value - shift, a.low - shift, a.high - shift, a.level),
        failover_fraction=top.failover_fraction + shift,
        per_trial=top.per_trial - shift,
    )


def _durations_pair(name: str, pair: tuple[float, float]) -> tuple[Durations, Durations]:
    if len(pair) != 2:
        raise InputError(f"{name} must be a pair (mtbf_hours, mttr_hours), got {pair!r}")
    return Durations(float(checks.positive(f"{name} mtbf_hours", pair[0]))), Durations(
        float(checks.positive(f"{name} mttr_hours", pair[1]))
    )


def one_region(
    instances: int,
    instance: tuple[float, float],
    zone: tuple[float, float],
    region: tuple[float, float],
    *,
    shared: tuple[float, float] | None = None,
    failover_minutes: float = 0.0,
    trials: int = 2000,
    seed: int | None = 0,
) -> SimulationResult:
    """Simulate ``instances`` replicas spread one per zone of one region, one of them needed.

    Each argument pair is ``(MTBF, MTTR)`` in hours with exponential durations: ``instance`` for
    each replica, ``zone`` for each zone (a zone outage takes its replica), ``region`` for the
    region (its outage takes every zone: the correlated failure zone redundancy cannot mask), and
    ``shared`` for an optional failure common to everything (global control plane, DNS).
    ``failover_minutes`` is the load balancer's detection time.  See :func:`simulate`; the closed
    form is ``availability.one_region_closed``.
    """
    n = checks.whole("instances", instances, minimum=1)
    levels = [Domain(*_durations_pair("zone", zone), tuple(range(n)))]
    levels.append(Domain(*_durations_pair("region", region), (0,) * n))
    if shared is not None:
        levels.append(Domain(*_durations_pair("shared", shared), (0,) * n))
    up, down = _durations_pair("instance", instance)
    return simulate(
        up, down, n, 1, domains=levels, failover_minutes=failover_minutes, trials=trials, seed=seed
    )


# --------------------------------------------------------------------------- the ladder
#: The designs of :func:`ladder`, from the cheapest.
DESIGNS: tuple[str, ...] = (
    "single instance",
    "multi-zone",
    "two regions, active-passive",
    "two regions, active-active",
)


@dataclass(frozen=True)
class Ladder:
    """Four designs of one service, simulated and in closed form (see :func:`ladder`).

    ``runs`` and ``closed`` map each name of :data:`DESIGNS` to its simulation and its closed-form
    availability; ``regional`` is the one-region deployment whose outages the two-region designs
    are built from; ``instances`` gives each design's instances ``(primary region, second
    region)``, the same the availability model counts.
    """

    runs: dict[str, SimulationResult] = field(repr=False)
    regional: SimulationResult = field(repr=False)
    closed: dict[str, float]
    instances: dict[str, tuple[int, int]]

    @property
    def simulated(self) -> np.ndarray:
        """Simulated availability of each design, in :data:`DESIGNS` order."""
        return np.array([self.runs[d].availability.value for d in DESIGNS])

    def monthly_usd(self, primary_usd_per_hour: float, second_usd_per_hour: float) -> np.ndarray:
        """Instance cost of each design, USD per 730-hour month, in :data:`DESIGNS` order.

        ``primary * price_1 * 730 + second * price_2 * 730`` with the instances of
        :attr:`instances` and the hourly list prices of one instance in each region.
        """
        n = np.array([self.instances[d] for d in DESIGNS], dtype=float)
        return np.asarray(
            cost.monthly_cost(primary_usd_per_hour, n[:, 0])
            + cost.monthly_cost(second_usd_per_hour, n[:, 1])
        )

    def usd_per_nine(self, primary_usd_per_hour: float, second_usd_per_hour: float) -> np.ndarray:
        """USD per month for each added nine, step by step (:func:`availability.cost_per_nine`)."""
        usd = self.monthly_usd(primary_usd_per_hour, second_usd_per_hour)
        return availability.cost_per_nine(self.simulated, usd)


def ladder(
    instances_per_region: int,
    instance: tuple[float, float],
    zone: tuple[float, float],
    region: tuple[float, float],
    shared: tuple[float, float],
    *,
    lb_failover_minutes: float,
    ap_failover_minutes: float,
    aa_failover_minutes: float,
    trials: int,
    seed: int,
) -> Ladder:
    """The four designs of the extra-nine article, each simulated and in closed form.

    Pairs are ``(MTBF, MTTR)`` in hours.  ``single instance``: one instance
    (:func:`one_region`); ``multi-zone``: ``instances_per_region`` instances one per zone, each
    able to carry the load, behind a load balancer that fails over in ``lb_failover_minutes``;
    the two-region designs put two such regions behind a global router (:func:`multi_region`),
    failing over in ``ap_failover_minutes`` (active-passive) or ``aa_failover_minutes``
    (active-active).  The passive region of active-passive is modelled, and priced, as a full
    copy of the active one: a smaller warm standby would be cheaper, but would have less
    redundancy while passive and need scaling after a failover, which this model does not
    follow.  Every design includes the ``shared`` failure.  Seeds ``seed`` to ``seed + 4`` for
    the single instance, multi-zone, the region the two-region designs are built from,
    active-passive and active-active.
    """
    n = checks.whole("instances_per_region", instances_per_region, minimum=1)
    common = dict(shared=shared, trials=trials)
    layers = (instance, zone, region)
    runs = {DESIGNS[0]: one_region(1, *layers, **common, seed=seed)}
    runs[DESIGNS[1]] = one_region(
        n, *layers, failover_minutes=lb_failover_minutes, **common, seed=seed + 1
    )
    regional = one_region(n, *layers, failover_minutes=lb_failover_minutes, trials=trials,
                          seed=seed + 2)  # fmt: skip
    two = [(DESIGNS[2], "active-passive", ap_failover_minutes)]
    two.append((DESIGNS[3], "active-active", aa_failover_minutes))
    for i, (name, mode, minutes) in enumerate(two, start=3):
        runs[name] = multi_region(
            regional, failover_minutes=minutes, mode=mode, **common, seed=seed + i
        )
    outages = regional.outage_process()
    loss = regional.failover_fraction
    closed = {
        DESIGNS[0]: availability.one_region_closed(1, *layers, shared=shared),
        DESIGNS[1]: availability.one_region_closed(
            n, *layers, shared=shared, failover_minutes=lb_failover_minutes
        ),
    }
    for name, _, minutes in two:
        closed[name] = float(
            availability.multi_region_closed(
                *outages, failover_minutes=minutes, shared=shared, regional_failover_loss=loss
            )
        )
    instances = dict(zip(DESIGNS, [(1, 0), (n, 0), (n, n), (n, n)], strict=True))
    return Ladder(runs=runs, regional=regional, closed=closed, instances=instances)
