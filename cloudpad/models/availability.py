"""Availability in closed form: allowed downtime, composite availability, failure and repair.

Conventions follow the availability table of the SRE book (Beyer et al. 2016, Appendix A,
https://sre.google/sre-book/availability-table/): a 365-day year, a 90-day quarter and a 30-day
month, :data:`SLA_MONTH_HOURS` = 720 h, the month of every "per month" in this module.  It is not
the 730-hour *billing* month of :data:`cloudpad.models.cost.BILLING_MONTH_HOURS`: a table that
shows downtime and cost side by side mixes the two and must say so.  An availability is a fraction
in [0, 1] (0.999 is "three nines"), never a percentage.

* :func:`downtime`, :func:`downtime_minutes`, :func:`downtime_table` - allowed downtime
  ``(1 - A) * period``; :func:`nines`; :func:`error_budget` - failed requests allowed by a
  request-based SLO (SRE book, ch. 3); :func:`summary` tabulates availabilities as nines,
  downtime and error budget.
* :func:`serial`, :func:`parallel`, :func:`k_of_n` - composite availability of independent
  components (Azure Architecture Center, "Composite SLAs"; Trivedi 2002, *Probability and
  Statistics with Reliability, Queuing and Computer Science Applications*, 2nd ed.).
* :func:`from_mtbf` - steady-state availability ``MTBF / (MTBF + MTTR)`` of an alternating
  renewal process; :func:`combined_failures` - one component down whenever any cause is.
* :func:`redundant` - ``k``-of-``n`` replicas with a failover (detection) delay;
  :func:`one_region_closed` and :func:`multi_region_closed` - replicas one per zone of a region,
  and regions behind a global router with a failure they share.
* :func:`cost_per_nine` - what each added nine costs, from availabilities and costs.

The Monte Carlo simulation these closed forms are checked against is in
:mod:`cloudpad.models.availability_simulation`; this module does not import it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

#: Hours in the SLA month of the SRE book's availability table: 30 days.  Downtime and error
#: budgets "per month" use it; the billing month (730 h) is ``cost.BILLING_MONTH_HOURS``.
SLA_MONTH_HOURS: float = 30 * 24.0

#: Hours in each period of the SRE book's availability table (365-day year, 90-day quarter,
#: 30-day month).
PERIOD_HOURS: dict[str, float] = {
    "year": 365 * 24.0,
    "quarter": 90 * 24.0,
    "month": SLA_MONTH_HOURS,
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


def summary(availabilities: dict[str, float], requests_per_sla_month: float = 0.0) -> pd.DataFrame:
    """Table of availabilities: percent, nines, allowed downtime and error budget per SLA month.

    Rows are the ``availabilities`` (name -> fraction); columns ``availability (%)``,
    ``nines`` (:func:`nines`), ``downtime (min per 30-day month)`` (:func:`downtime_minutes`,
    SRE book conventions, :data:`SLA_MONTH_HOURS`) and ``error budget (requests per 30-day
    month)`` (:func:`error_budget` of ``requests_per_sla_month``, the requests of 720 hours).
    """
    a = np.asarray(checks.probability("availabilities", list(availabilities.values())), float)
    return pd.DataFrame(
        {
            "availability (%)": 100 * a,
            "nines": nines(a),
            "downtime (min per 30-day month)": downtime_minutes(a, "month"),
            "error budget (requests per 30-day month)": error_budget(a, requests_per_sla_month),
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
    return numeric.scalar_or_array(out)


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
    return numeric.scalar_or_array(out)


def parallel(*a: ArrayLike) -> float | np.ndarray:
    """Availability of redundant components of which at least one must be up.

    Formula: ``A = 1 - (1 - a1)(1 - a2)...(1 - an)`` for independent components (Azure
    Architecture Center, "Composite SLAs" and "SLAs for multiregion deployments").  Each argument is
    one component; arrays broadcast.  Independence is the strong assumption: shared failure
    domains (same zone, same region, same deployment) are what the simulation adds.
    """
    parts = _components("parallel", a)
    q = 1.0 - parts[0]
    for x in parts[1:]:
        q = q * (1.0 - x)
    out = 1.0 - q
    return numeric.scalar_or_array(out)


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
    return numeric.scalar_or_array(out)


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
    the model ``availability_simulation.simulate`` reproduces for exponential durations.
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
    return numeric.scalar_or_array(out)


def one_region_closed(
    instances: int,
    instance: tuple[float, float],
    zone: tuple[float, float],
    region: tuple[float, float],
    *,
    shared: tuple[float, float] | None = None,
    failover_minutes: float = 0.0,
) -> float:
    """Closed form of ``availability_simulation.one_region``: replicas one per zone of a region.

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
    regional_mtbf_hours: float,
    regional_mttr_hours: float,
    regions: int = 2,
    *,
    failover_minutes: ArrayLike = 0.0,
    shared: tuple[float, float] | None = None,
    regional_failover_loss: float = 0.0,
) -> float | np.ndarray:
    """Availability of ``regions`` copies of a regional deployment, at least one needed.

    Formula: ``A = redundant(MTBF_r, MTTR_r, regions, 1, failover) * A_shared - L``.  Each region
    is one component whose outages come every ``regional_mtbf_hours`` and last
    ``regional_mttr_hours`` on average (exponential; e.g. the outage process of a simulated
    region, ``SimulationResult.outage_process()``), ``failover_minutes`` (scalar or array) is the
    cross-region failover, ``shared`` an optional ``(MTBF, MTTR)`` pair in hours of a failure
    every region shares, and ``L = regional_failover_loss`` the fraction of traffic lost to
    failovers inside the serving region.  The same for active-active and active-passive (see
    :func:`redundant`): they differ in their failover time, not in the formula.
    """
    a = redundant(regional_mtbf_hours, regional_mttr_hours, regions, 1, failover_minutes)
    a = np.asarray(a) * (from_mtbf(*shared) if shared is not None else 1.0)
    loss = checks.probability("regional_failover_loss", regional_failover_loss)
    return numeric.scalar_or_array(a - loss)


def cost_per_nine(availabilities: ArrayLike, monthly_cost_usd: ArrayLike) -> np.ndarray:
    """USD per month paid for each added nine, from one design to the next.

    Formula: ``(cost_i - cost_{i-1}) / (nines_i - nines_{i-1})`` for designs ordered from the
    cheapest; NaN for the first design and wherever a step adds no nines (nothing was bought).
    ``availabilities`` and ``monthly_cost_usd`` are 1-D and of equal length.
    """
    a = np.atleast_1d(np.asarray(checks.probability("availabilities", availabilities), float))
    usd = np.atleast_1d(np.asarray(checks.non_negative("monthly_cost_usd", monthly_cost_usd)))
    if a.ndim != 1 or a.shape != usd.shape:
        raise InputError(
            f"availabilities and monthly_cost_usd must be 1-D of equal length, got "
            f"{a.shape} and {usd.shape}"
        )
    step = np.diff(np.asarray(nines(a), dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(step > 0, np.diff(usd) / step, np.nan)
    return np.concatenate([[np.nan], per])
