"""Tests of cloudpad.models.fleet: a fleet that keeps its SLO with a zone lost and a surge.

The example is the one of the How many replicas? article: 1,200 requests/s of 25 ms of CPU on
2-vCPU replicas, 99 % of requests waiting at most 10 ms, three zones and a 20 % surge.
"""

from __future__ import annotations

import numpy as np
import pytest

from cloudpad.models import cost, fleet, queueing

PEAK, MU, VCPU, WAIT_S, SHARE = 1200.0, 40.0, 2, 0.010, 0.99
DAY = dict(trough_ratio=0.25, peak_hour=20.0, step_minutes=15.0, commit_discount=0.3)


def planned(zones: int = 3, surge: float = 0.2, price: float = 0.1) -> fleet.FleetPlan:
    return fleet.plan(PEAK, 25.0, 10.0, SHARE, VCPU, price, zones=zones, surge=surge, **DAY)


def test_the_planned_fleet_keeps_the_slo_with_a_zone_lost_during_a_surge():
    p = planned()
    surge = PEAK * 1.2
    after = fleet.service_level_after_zone_loss(surge, MU, VCPU, p.replicas, WAIT_S, zones=3)
    assert after >= SHARE
    # The fleet sized for the peak alone, as the article sized it before, does not: spread over
    # three zones, its 19 replicas keep 12 after a loss, too few for the surge.
    assert p.replicas_at_peak == queueing.replicas_for(PEAK, MU, VCPU, WAIT_S, SHARE)
    old = fleet.service_level_after_zone_loss(surge, MU, VCPU, p.replicas_at_peak, WAIT_S, zones=3)
    assert old < SHARE
    # And no smaller even fleet would do: one replica fewer a zone misses the SLO.
    fewer = p.replicas - 3
    assert fleet.service_level_after_zone_loss(surge, MU, VCPU, fewer, WAIT_S, zones=3) < SHARE


def test_sizes_by_hand():
    p = planned()
    # After a loss the surge (1,440 requests/s, 36 Erlangs) needs n replicas; k = ceil(n / 2).
    n = queueing.replicas_for(1440.0, MU, VCPU, WAIT_S, SHARE)
    assert p.replicas_after_loss == n
    assert p.replicas_per_zone == -(-n // 2)
    assert p.replicas == 3 * p.replicas_per_zone
    assert p.peak_utilization == pytest.approx(30.0 / (VCPU * p.replicas))
    assert p.headroom_share == pytest.approx(p.replicas / p.replicas_at_peak - 1)
    # More zones need less headroom: each zone lost is a smaller share.
    assert planned(zones=6).replicas < p.replicas < planned(zones=2).replicas


def test_every_step_of_the_day_keeps_the_headroom():
    p = planned()
    assert p.hours.size == 96 and p.day_replicas.size == 96
    assert np.all(p.day_replicas % 3 == 0)
    assert p.day_replicas.max() == p.replicas
    levels = fleet.service_level_after_zone_loss(
        p.rate_per_s * 1.2, MU, VCPU, p.day_replicas, WAIT_S, zones=3
    )
    assert np.all(levels >= SHARE)


def test_costs_by_hand():
    p = planned(price=0.1)
    assert p.static_monthly_usd == pytest.approx(0.1 * p.replicas * 730)
    assert p.autoscaled_monthly_usd == pytest.approx(0.1 * p.day_replicas.mean() * 730)
    assert p.autoscaling_saving == pytest.approx(1 - p.day_replicas.mean() / p.replicas)
    assert p.committed_replicas == cost.optimal_commitment(p.day_replicas, 0.3)
    # Committing costs no more than buying everything on demand, nor than keeping the peak.
    assert p.committed_monthly_usd <= p.autoscaled_monthly_usd + 1e-9
    assert p.committed_monthly_usd <= p.static_monthly_usd
    # By hand: the committed replicas at 70 % of the price every hour, the rest on demand.
    hours = 0.25 * (
        p.committed_replicas * 0.7 * 96 + np.maximum(p.day_replicas - p.committed_replicas, 0).sum()
    )
    assert p.committed_monthly_usd == pytest.approx(0.1 * hours * 730 / 24)


def test_no_surge_and_no_zone_loss_is_the_plain_sizing():
    # One zone, nothing to lose and no surge: the fleet is the SLO's own.
    p = fleet.plan(PEAK, 25.0, 10.0, SHARE, VCPU, 0.1, zones=2, surge=0.0, **DAY)
    assert p.replicas_after_loss == p.replicas_at_peak
    k, total = fleet.replicas_with_headroom(PEAK, MU, VCPU, WAIT_S, SHARE, zones=1, surge=0.0,
                                            zones_lost=0)  # fmt: skip
    assert total == k == p.replicas_at_peak


def test_service_level_after_zone_loss_of_an_overloaded_fleet_is_zero():
    # 17 replicas (a 90 % utilisation target) keep 11 after a loss: 22 vCPUs for 36 Erlangs.
    levels = fleet.service_level_after_zone_loss(
        1440.0, MU, VCPU, np.array([17, 30, 60]), WAIT_S, zones=3
    )
    assert levels[0] == 0.0
    assert 0 < levels[1] < SHARE < levels[2] <= 1


def test_refuses_a_step_that_does_not_divide_the_day():
    with pytest.raises(ValueError, match="step_minutes must divide the 1,440 minutes"):
        fleet.plan(PEAK, 25.0, 10.0, SHARE, VCPU, 0.1, zones=3, surge=0.2,
                   **(DAY | {"step_minutes": 7.0}))  # fmt: skip
