"""A fleet of replicas sized for a queueing SLO, with headroom for a lost zone and a surge.

The replicas of a service form one M/M/c pool (:mod:`cloudpad.models.queueing`; ``v`` servers,
e.g. vCPUs, a replica) spread evenly over ``Z`` zones.  Sized for the SLO alone, the pool has the
fewest replicas ``r`` whose wait meets the target at the peak with every zone up
(:func:`cloudpad.models.queueing.replicas_for`).  Sized with headroom
(:func:`replicas_with_headroom`), the zones left after losing one must meet the same SLO at the
peak times ``1 + s``: ``n = replicas_for(peak (1 + s))`` replicas after the loss, so
``k = ceil(n / (Z - 1))`` a zone and ``Z k`` in all (:mod:`cloudpad.models.headroom`).
:func:`service_level_after_zone_loss` checks any fleet the same way (a fleet sized by a
utilisation target, say).  :func:`plan` is the sizing and costing of a whole day: the fleet at
the peak, the autoscaled fleet step by step over an assumed daily curve
(:func:`cloudpad.models.queueing.diurnal_rate`), and its monthly cost on demand and with the
cost-optimal commitment (:mod:`cloudpad.models.cost`).

Units: rates per second, the article's times in milliseconds (``service_ms``, ``slo_wait_ms``;
converted to the queueing model's seconds here), prices in USD per hour, costs in USD per
730-hour billing month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, headroom, numeric, queueing

__all__ = ["FleetPlan", "plan", "replicas_with_headroom", "service_level_after_zone_loss"]


def replicas_with_headroom(
    arrival_rate_per_s: ArrayLike,
    service_rate_per_s: float,
    servers_per_replica: int,
    target_wait_s: float,
    target_fraction: float,
    *,
    zones: int,
    surge: float,
    zones_lost: int = 1,
) -> tuple[int | np.ndarray, int | np.ndarray]:
    """Replicas per zone and in all so that losing ``zones_lost`` zones keeps the SLO at a surge.

    Formula: ``n = replicas_for(lambda (1 + s), mu, v, t, f)``, ``k = ceil(n / (Z - L))``, fleet
    ``Z k``.  Returns ``(k, Z k)``; vectorised over the arrival rate (requests per second).
    """
    load = headroom.surge_load(arrival_rate_per_s, surge)
    needed = queueing.replicas_for(
        load, service_rate_per_s, servers_per_replica, target_wait_s, target_fraction
    )
    k = headroom.per_zone(needed, zones, zones_lost)
    return k, headroom.total(needed, zones, zones_lost)


def service_level_after_zone_loss(
    arrival_rate_per_s: ArrayLike,
    service_rate_per_s: float,
    servers_per_replica: int,
    replicas: ArrayLike,
    target_wait_s: float,
    *,
    zones: int,
    zones_lost: int = 1,
) -> float | np.ndarray:
    """Share of requests within ``target_wait_s`` once the fleet's fullest zones are lost.

    The fleet of ``replicas`` is spread with a skew of at most one
    (:func:`cloudpad.models.headroom.left_after_zone_loss`); what is left serves
    ``arrival_rate_per_s`` as one M/M/c pool.  A pool that cannot keep up
    (``lambda >= c mu``) has a queue that grows without bound: its share is 0.
    Vectorised over the rate and the replicas (broadcast).
    """
    v = checks.whole("servers_per_replica", servers_per_replica, minimum=1)
    mu = float(checks.positive("service_rate_per_s", service_rate_per_s))
    lam = np.asarray(checks.non_negative("arrival_rate_per_s", arrival_rate_per_s), dtype=float)
    left = np.asarray(headroom.left_after_zone_loss(replicas, zones, zones_lost))
    lam, servers = np.broadcast_arrays(lam, left * v)
    out = np.zeros(lam.shape)
    ok = lam < servers * mu
    if ok.any():
        out[ok] = np.atleast_1d(queueing.mmc(lam[ok], mu, servers[ok]).service_level(target_wait_s))
    return numeric.scalar_or_array(out)


@dataclass(frozen=True)
class FleetPlan:
    """The fleet of :func:`plan`: sizes, its day, and its monthly costs (USD per 730 h).

    ``replicas_at_peak``: the SLO at the peak with every zone up and no surge;
    ``replicas_after_loss``: what the SLO needs at the surge with a zone lost (``n``);
    ``replicas_per_zone`` and ``replicas``: the fleet with headroom (``k`` and ``Z k``);
    ``peak_utilization``: that fleet's utilisation at the peak, every zone up.  ``hours``,
    ``rate_per_s`` and ``day_replicas`` are the steps of the day (start hour, traffic, fleet
    with headroom); ``static_monthly_usd`` keeps the peak's fleet all day,
    ``autoscaled_monthly_usd`` follows ``day_replicas`` on demand, and
    ``committed_monthly_usd`` commits to ``committed_replicas`` (the cost-optimal level,
    :func:`cloudpad.models.cost.optimal_commitment`) and buys the rest on demand.
    """

    replicas_at_peak: int
    replicas_after_loss: int
    replicas_per_zone: int
    replicas: int
    peak_utilization: float
    static_monthly_usd: float
    autoscaled_monthly_usd: float
    committed_replicas: int
    committed_monthly_usd: float
    hours: np.ndarray = field(repr=False)
    rate_per_s: np.ndarray = field(repr=False)
    day_replicas: np.ndarray = field(repr=False)

    @property
    def autoscaling_saving(self) -> float:
        """``1 - autoscaled / static``: what following the day saves over the peak's fleet."""
        return 1.0 - self.autoscaled_monthly_usd / self.static_monthly_usd

    @property
    def headroom_share(self) -> float:
        """``replicas / replicas_at_peak - 1``: the fleet added for the lost zone and the surge."""
        return self.replicas / self.replicas_at_peak - 1.0


def plan(
    peak_rps: float,
    service_ms: float,
    slo_wait_ms: float,
    slo_fraction: float,
    vcpu_per_replica: int,
    price_per_hour_usd: float,
    *,
    zones: int,
    surge: float,
    trough_ratio: float,
    peak_hour: float,
    step_minutes: float,
    commit_discount: float,
) -> FleetPlan:
    """Size a service's fleet with headroom at the peak and over a day, and price it.

    A replica has ``vcpu_per_replica`` vCPUs, each serving one request at a time at
    ``1000 / service_ms`` requests per second; the SLO is ``slo_fraction`` of requests waiting
    at most ``slo_wait_ms``.  Every step of ``step_minutes`` (a whole number of steps a day) the
    fleet is resized to :func:`replicas_with_headroom` at that step's traffic
    (:func:`cloudpad.models.queueing.diurnal_rate` with ``trough_ratio`` and ``peak_hour``):
    an ideal autoscaler that knows the queueing model and keeps a lost zone's and a surge's
    headroom.  See :class:`FleetPlan` for what is returned.
    """
    mu = 1000.0 / float(checks.positive("service_ms", service_ms))
    wait_s = float(checks.non_negative("slo_wait_ms", slo_wait_ms)) / 1000.0
    step = float(checks.in_range("step_minutes", step_minutes, 0.0, 1440.0, closed=False))
    if abs(1440.0 / step - round(1440.0 / step)) > 1e-9:
        raise InputError(f"step_minutes must divide the 1,440 minutes of a day, got {step:g}")
    v = checks.whole("vcpu_per_replica", vcpu_per_replica, minimum=1)
    sizing = dict(zones=zones, surge=surge)
    at_peak = queueing.replicas_for(peak_rps, mu, v, wait_s, slo_fraction)
    after_loss = queueing.replicas_for(
        headroom.surge_load(peak_rps, surge), mu, v, wait_s, slo_fraction
    )
    k, fleet = replicas_with_headroom(peak_rps, mu, v, wait_s, slo_fraction, **sizing)
    hours = np.arange(0.0, 24.0, step / 60.0)
    rate = np.asarray(queueing.diurnal_rate(hours, peak_rps, trough_ratio, peak_hour))
    day = np.asarray(replicas_with_headroom(rate, mu, v, wait_s, slo_fraction, **sizing)[1])
    price = float(checks.non_negative("price_per_hour_usd", price_per_hour_usd))
    committed = cost.optimal_commitment(day, commit_discount)
    per_day = cost.commitment_cost(day, price * step / 60.0, committed, commit_discount)
    return FleetPlan(
        replicas_at_peak=int(at_peak),
        replicas_after_loss=int(after_loss),
        replicas_per_zone=int(k),
        replicas=int(fleet),
        peak_utilization=float(queueing.mmc(peak_rps, mu, fleet * v).utilization),
        static_monthly_usd=float(cost.monthly_cost(price, fleet)),
        autoscaled_monthly_usd=float(cost.monthly_cost(price, day.mean())),
        committed_replicas=int(committed),
        committed_monthly_usd=float(per_day * cost.BILLING_MONTH_HOURS / 24.0),
        hours=hours,
        rate_per_s=rate,
        day_replicas=day,
    )
