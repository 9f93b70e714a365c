"""Availability models: allowed downtime, composite availability, and a failure/repair simulation.

Conventions follow the availability table of the SRE book (Beyer et al. 2016, Appendix A,
https://sre.google/sre-book/availability-table/): a 365-day year, a 90-day quarter, a 30-day
month.  An availability is a fraction in [0, 1] (0.999 is "three nines"), never a percentage.

Closed forms
------------
* :func:`downtime` - allowed downtime ``(1 - A) * period``.
* :func:`serial`, :func:`parallel`, :func:`k_of_n` - composite availability of independent
  components (Azure Architecture Center, "Composite SLAs"; Trivedi 2002, *Probability and
  Statistics with Reliability, Queuing and Computer Science Applications*, 2nd ed.).
* :func:`from_mtbf` - steady-state availability ``MTBF / (MTBF + MTTR)`` of an alternating
  renewal process.
* :func:`redundant` - ``k``-of-``n`` replicas with a failover (detection) delay, the closed form
  that :func:`simulate` is checked against.
* :func:`error_budget` - failed requests allowed by a request-based SLO (SRE book, ch. 3).

Simulation
----------
:func:`simulate` runs many independent trials of replicas that fail and are repaired
(exponential, deterministic, lognormal, Weibull or user-given durations), grouped in shared
failure domains (zones, regions) whose failure takes every member down at once, with a
failover delay after each replica loss.  It is vectorised with NumPy: each unit's up/down
renewal process is drawn for all trials at once in integer time quanta, and the system's state
comes from one sort of packed event keys and a cumulative sum (see :func:`simulate`).
:func:`one_region` and :func:`multi_region` build common deployments on it (replicas one per
zone of a region; two regions behind a global router, with a failure they share), with the
closed forms :func:`one_region_closed`, :func:`multi_region_closed` and
:func:`combined_failures`; :func:`summary` tabulates availabilities as nines, downtime and
error budget.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from cloudpad.exceptions import InputError
from cloudpad.models import checks

#: Hours in each period of the SRE book's availability table (365-day year, 90-day quarter,
#: 30-day month).
PERIOD_HOURS: dict[str, float] = {
    "year": 365 * 24.0,
    "quarter": 90 * 24.0,
    "month": 30 * 24.0,
    "week": 7 * 24.0,
    "day": 24.0,
    "hour": 1.0,
}


def _period_hours(period: str) -> float:
    checks.choice("period", period, PERIOD_HOURS)
    return PERIOD_HOURS[period]


def downtime(availability: ArrayLike, period: str = "year") -> _dt.timedelta | np.ndarray:
    """Allowed downtime in ``period`` for an ``availability`` in [0, 1].

    Formula: ``(1 - availability) * hours(period)`` with the SRE book's periods (Beyer et al.
    2016, Appendix A, Table A-1): year = 365 days, quarter = 90 days, month = 30 days, week,
    day, hour.  A scalar gives a :class:`datetime.timedelta`; an array gives a NumPy array of
    ``timedelta64[us]`` of the same shape (microsecond resolution), which
    ``array / np.timedelta64(1, "m")`` turns into minutes.
    """
    a = checks.probability("availability", availability)
    hours = _period_hours(period)
    if np.ndim(a) == 0:
        return _dt.timedelta(hours=(1.0 - float(a)) * hours)
    micro = np.rint((1.0 - np.asarray(a)) * hours * 3.6e9).astype(np.int64)
    return micro.astype("timedelta64[us]")


def downtime_minutes(availability: ArrayLike, period: str = "month") -> float | np.ndarray:
    """Allowed downtime in minutes in ``period``: ``(1 - availability) * hours(period) * 60``.

    Same conventions as :func:`downtime` (SRE book, Appendix A); plain floats in and out.
    """
    a = checks.probability("availability", availability)
    return (1.0 - a) * _period_hours(period) * 60.0


def downtime_table(
    availabilities: Sequence[float] = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999),
    periods: Sequence[str] = ("year", "quarter", "month", "week", "day", "hour"),
) -> pd.DataFrame:
    """Allowed downtime, in minutes, for each availability (rows) and period (columns).

    The layout and conventions of the SRE book's availability table (Appendix A); the values are
    :func:`downtime_minutes`.  The index is the availability as a percentage string.
    """
    a = np.asarray(checks.probability("availabilities", list(availabilities)), dtype=float)
    data = {p: downtime_minutes(a, p) for p in periods}
    index = pd.Index([f"{100 * x:.10g}%" for x in a], name="availability")
    return pd.DataFrame(data, index=index)


def summary(availabilities: dict[str, float], requests_per_month: float = 0.0) -> pd.DataFrame:
    """Table of availabilities: percent, nines, allowed downtime and error budget per month.

    Rows are the ``availabilities`` (name -> fraction); columns ``availability (%)``,
    ``nines`` (:func:`nines`), ``downtime (min/month)`` (:func:`downtime_minutes`, 30-day month,
    SRE book conventions) and ``error budget (requests/month)`` (:func:`error_budget` of
    ``requests_per_month``).
    """
    a = np.asarray(checks.probability("availabilities", list(availabilities.values())), float)
    return pd.DataFrame(
        {
            "availability (%)": 100 * a,
            "nines": nines(a),
            "downtime (min/month)": downtime_minutes(a, "month"),
            "error budget (requests/month)": error_budget(a, requests_per_month),
        },
        index=pd.Index(list(availabilities), name="design"),
    )


def nines(availability: ArrayLike) -> float | np.ndarray:
    """Number of nines of an availability: ``-log10(1 - availability)``.

    0.999 gives 3.0, 0.9995 gives about 3.3; an availability of exactly 1 gives ``inf``.
    """
    a = checks.probability("availability", availability)
    with np.errstate(divide="ignore"):
        out = -np.log10(1.0 - np.asarray(a, dtype=float))
    return float(out) if np.ndim(out) == 0 else out


def _components(name: str, a: tuple[ArrayLike, ...]) -> list[float | np.ndarray]:
    if not a:
        raise InputError(f"{name} needs at least one availability, got none")
    return [checks.probability(f"{name} argument {i + 1}", x) for i, x in enumerate(a)]


def serial(*a: ArrayLike) -> float | np.ndarray:
    """Availability of components that must all be up (a chain of dependencies).

    Formula: ``A = a1 * a2 * ... * an`` for independent components (Azure Architecture Center,
    "Composite SLAs": App Service 99.95% and SQL Database 99.99% give 99.94%).  Each argument is
    one component; arrays broadcast, so ``serial(x, y)`` with arrays evaluates many cases at once.
    """
    parts = _components("serial", a)
    out = parts[0]
    for x in parts[1:]:
        out = out * x
    return float(out) if np.ndim(out) == 0 else out


def parallel(*a: ArrayLike) -> float | np.ndarray:
    """Availability of redundant components of which at least one must be up.

    Formula: ``A = 1 - (1 - a1)(1 - a2)...(1 - an)`` for independent components (Azure
    Architecture Center, "Composite SLAs" and "SLAs for multiregion deployments").  Each argument is
    one component; arrays broadcast.  Independence is the strong assumption: shared failure
    domains (same zone, same region, same deployment) are what :func:`simulate` adds.
    """
    parts = _components("parallel", a)
    q = 1.0 - parts[0]
    for x in parts[1:]:
        q = q * (1.0 - x)
    out = 1.0 - q
    return float(out) if np.ndim(out) == 0 else out


def k_of_n(k: int, n: int, a: ArrayLike) -> float | np.ndarray:
    """Availability of ``n`` identical independent components of which at least ``k`` must be up.

    Formula: ``sum_{i=k}^{n} C(n, i) a^i (1 - a)^(n - i)``, the binomial survival function
    (Trivedi 2002, "k-out-of-n systems").  ``k = 1`` is :func:`parallel` of ``n``
    copies, ``k = n`` is :func:`serial` of ``n`` copies, ``k = 0`` is 1.
    """
    n = checks.whole("n", n, minimum=1)
    k = checks.whole("k", k, minimum=0)
    if k > n:
        raise InputError(f"k must be a whole number <= n = {n}, got {k}")
    p = checks.probability("a", a)
    out = stats.binom.sf(k - 1, n, p) if k > 0 else np.ones_like(np.asarray(p, dtype=float))
    return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)


def from_mtbf(mtbf_hours: ArrayLike, mttr_hours: ArrayLike) -> float | np.ndarray:
    """Steady-state availability of a component that fails and is repaired.

    Formula: ``A = MTBF / (MTBF + MTTR)``, the long-run fraction of time up of an alternating
    renewal process (any up/down distributions; renewal-reward theorem, Trivedi 2002).
    ``mtbf_hours`` is the mean up time (> 0), ``mttr_hours`` the mean time to restore (>= 0),
    both in hours.
    """
    up = checks.positive("mtbf_hours", mtbf_hours)
    down = checks.non_negative("mttr_hours", mttr_hours)
    return up / (up + down)


def error_budget(slo: ArrayLike, requests: ArrayLike) -> float | np.ndarray:
    """Failed requests allowed by a request-based availability SLO.

    Formula: ``(1 - slo) * requests`` (SRE book, ch. 3 "Embracing Risk": 2.5M requests a day at a
    99.99% daily target allow 250 errors).  Returned unrounded; the whole number of failures
    allowed is its floor.
    """
    s = checks.probability("slo", slo)
    r = checks.non_negative("requests", requests)
    return (1.0 - s) * r


def combined_failures(
    mtbf_hours: Sequence[float], mttr_hours: Sequence[float]
) -> tuple[float, float]:
    """MTBF and MTTR, in hours, of a component that is down whenever any independent cause is.

    A replica in its own zone is down when the replica or the zone has failed.  With failure
    rates ``1 / MTBF_i`` and availabilities ``A_i = from_mtbf(MTBF_i, MTTR_i)``, the time up
    between failures has mean ``MTBF = 1 / sum(1 / MTBF_i)`` (exact for exponential up times)
    and ``MTTR = MTBF * (1 - A) / A`` with ``A = prod(A_i)``, so that ``from_mtbf(MTBF, MTTR)``
    is the product of the availabilities (renewal-reward theorem).  Use the pair with
    :func:`redundant` for replicas spread one per zone.
    """
    if len(mtbf_hours) == 0 or len(mtbf_hours) != len(mttr_hours):
        raise InputError(
            f"mtbf_hours and mttr_hours must be non-empty and of equal length, got "
            f"{len(mtbf_hours)} and {len(mttr_hours)}"
        )
    up = np.asarray(checks.positive("mtbf_hours", list(mtbf_hours)), dtype=float)
    a = float(np.prod(from_mtbf(up, list(mttr_hours))))
    mtbf = float(1.0 / np.sum(1.0 / up))
    return mtbf, mtbf * (1.0 - a) / a


def redundant(
    mtbf_hours: ArrayLike,
    mttr_hours: ArrayLike,
    replicas: int,
    required: int = 1,
    failover_minutes: ArrayLike = 0.0,
) -> float | np.ndarray:
    """Availability of ``replicas`` independent replicas, ``required`` of which must be up,
    with a failover (detection and re-routing) delay after each replica loss.

    Formula: with ``a = MTBF / (MTBF + MTTR)``, ``N ~ Binomial(replicas, a)`` the replicas up and
    ``d`` the failover delay,

        ``A = P(N >= k) - (d / MTBF) * P(N >= k + 1)``.

    The first term is :func:`k_of_n`.  The second is the failover loss: replicas fail at rate
    ``c / MTBF`` when ``c`` are up; a loss that leaves at least ``k`` up still costs ``d`` for the
    ``1/c`` share of traffic the lost replica carried (active-active), or a full outage of ``d``
    with probability ``1/c`` (active-passive: the lost replica was the active one), so both give
    ``c / MTBF * d / c`` per unit time.  First order in ``d / MTBF``: it assumes failovers do not
    overlap, so it is meant for ``d`` much shorter than the MTBF (it is floored at 0).  This is
    the model :func:`simulate` reproduces for exponential durations.
    """
    up = checks.positive("mtbf_hours", mtbf_hours)
    a = from_mtbf(up, mttr_hours)
    n = checks.whole("replicas", replicas, minimum=1)
    k = checks.whole("required", required, minimum=1)
    if k > n:
        raise InputError(f"required must be a whole number <= replicas = {n}, got {k}")
    d_hours = checks.non_negative("failover_minutes", failover_minutes) / 60.0
    capacity = k_of_n(k, n, a)
    still_up = k_of_n(k + 1, n, a) if k < n else 0.0
    out = np.maximum(capacity - d_hours / up * still_up, 0.0)  # first order: floor at 0
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- simulation

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

    ``availability`` is the mean over trials of each trial's fraction of time up;
    ``ci_low``/``ci_high`` its normal-approximation confidence interval at ``confidence``;
    ``per_trial`` the availability of each trial (a trial is one ``horizon_hours`` of operation);
    ``samples`` the number of failure/repair cycles simulated; ``outages_per_trial`` the mean
    number of full outages (system down because too few replicas) per trial;
    ``outage_fraction`` and ``failover_fraction`` split the unavailability ``1 - availability``
    into time with too few replicas and traffic lost during failovers.
    """

    availability: float
    ci_low: float
    ci_high: float
    confidence: float
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
    def downtime_minutes_per_month(self) -> float:
        """Mean downtime in minutes per 30-day month implied by :attr:`availability`."""
        return (1.0 - self.availability) * PERIOD_HOURS["month"] * 60.0


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
    horizon_hours: float = PERIOD_HOURS["year"],
    trials: int = 2000,
    confidence: float = 0.95,
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
    normal-approximation confidence interval.  With exponential durations and no domains it
    agrees with :func:`redundant`; with one domain shared by all replicas it agrees with
    ``A_domain * k_of_n(...)``, which the independent closed forms cannot give.
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
    conf = float(checks.in_range("confidence", confidence, 0.0, 1.0, closed=False))
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
    z = statistics.NormalDist().inv_cdf(0.5 + conf / 2)
    half = float(z * per_trial.std(ddof=1) / math.sqrt(trials))
    return SimulationResult(
        availability=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        confidence=conf,
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
    ``redundant(MTBF, MTTR, regions, 1, failover_minutes) - regional.failover_fraction``.
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
        confidence=regional.confidence,
        seed=seed,
    )
    shift = regional.failover_fraction
    return dataclasses.replace(
        top,
        availability=top.availability - shift,
        ci_low=top.ci_low - shift,
        ci_high=top.ci_high - shift,
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
    form is :func:`one_region_closed`.
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


def one_region_closed(
    instances: int,
    instance: tuple[float, float],
    zone: tuple[float, float],
    region: tuple[float, float],
    *,
    shared: tuple[float, float] | None = None,
    failover_minutes: float = 0.0,
) -> float:
    """Closed form of :func:`one_region`.

    Formula: each replica with its zone is one component (:func:`combined_failures`), ``n`` of
    them in parallel with the failover loss (:func:`redundant`), in series with the region and
    the shared failure: ``A = redundant(...) * A_region * A_shared``.  First order in the failover
    time; exact otherwise for exponential durations.
    """
    n = checks.whole("instances", instances, minimum=1)
    mtbf, mttr = combined_failures([instance[0], zone[0]], [instance[1], zone[1]])
    a = redundant(mtbf, mttr, n, 1, failover_minutes) * from_mtbf(*region)
    return float(a * (from_mtbf(*shared) if shared is not None else 1.0))


def multi_region_closed(
    regional: SimulationResult,
    regions: int = 2,
    *,
    failover_minutes: float = 0.0,
    shared: tuple[float, float] | None = None,
) -> float:
    """Closed form of :func:`multi_region` with exponential regional outages.

    Formula: ``A = redundant(MTBF_r, MTTR_r, regions, 1, failover) * A_shared - L`` with
    ``(MTBF_r, MTTR_r) = regional.outage_process()`` and ``L = regional.failover_fraction``, the
    within-region failover loss.  The same for active-active and active-passive (see
    :func:`redundant`): they differ in their failover time, not in the formula.
    """
    mtbf, mttr = regional.outage_process()
    a = redundant(mtbf, mttr, regions, 1, failover_minutes)
    a *= from_mtbf(*shared) if shared is not None else 1.0
    return float(a - regional.failover_fraction)
