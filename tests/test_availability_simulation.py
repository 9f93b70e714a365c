"""Tests of cloudpad.models.availability_simulation against the closed forms it must reproduce."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cloudpad.models import availability as av
from cloudpad.models import availability_simulation as sim
from cloudpad.models.numeric import Interval


def _inside(res: sim.SimulationResult, value: float) -> bool:
    return res.availability.contains(value)


def test_simulation_single_replica_matches_mtbf_formula():
    res = sim.simulate(200.0, 5.0, trials=3000, seed=1)
    assert _inside(res, av.from_mtbf(200.0, 5.0))
    assert res.samples > 3000 * 8760 / 205 * 0.9
    assert res.availability.low < res.availability.value < res.availability.high


def test_simulation_k_of_n_with_failover_matches_closed_form():
    res = sim.simulate(200.0, 5.0, 3, 2, failover_minutes=10.0, trials=3000, seed=2)
    assert _inside(res, av.redundant(200.0, 5.0, 3, 2, 10.0))
    # and the failover really costs something: the plain k-of-n value is outside the interval
    assert res.availability.high < av.k_of_n(2, 3, av.from_mtbf(200.0, 5.0))


def test_simulation_active_passive_has_the_same_mean_as_active_active():
    closed = av.redundant(100.0, 4.0, 2, 1, 30.0)
    res = sim.simulate(100.0, 4.0, 2, 1, failover_minutes=30.0, mode="active-passive", seed=3)
    assert _inside(res, closed)


def test_simulation_one_zone_per_replica_is_independent():
    zones = sim.Domain(sim.Durations(1000.0), sim.Durations(10.0), (0, 1))
    res = sim.simulate(200.0, 5.0, 2, 1, domains=[zones], trials=3000, seed=4)
    a = av.from_mtbf(200.0, 5.0) * av.from_mtbf(1000.0, 10.0)
    assert _inside(res, av.parallel(a, a))


def test_simulation_shared_region_is_a_correlated_failure():
    region = sim.Domain(sim.Durations(1000.0), sim.Durations(10.0), (0, 0))
    res = sim.simulate(200.0, 5.0, 2, 1, domains=[region], trials=3000, seed=5)
    a = av.from_mtbf(200.0, 5.0)
    correlated = av.from_mtbf(1000.0, 10.0) * av.parallel(a, a)
    assert _inside(res, correlated)
    # the independent closed form (region availability as one more parallel factor) is wrong
    naive = av.parallel(a * av.from_mtbf(1000.0, 10.0), a * av.from_mtbf(1000.0, 10.0))
    assert res.availability.high < naive


def test_simulation_with_other_distributions_keeps_the_mean_formula():
    # Long-run availability depends on the means only (renewal-reward theorem; Trivedi 2002,
    # Probability and Statistics with Reliability, Queuing and Computer Science Applications).
    repair = sim.Durations(5.0, "lognormal", shape=1.5)
    res = sim.simulate(200.0, repair, trials=3000, seed=6)
    assert _inside(res, av.from_mtbf(200.0, 5.0))
    wear = sim.Durations(200.0, "weibull", shape=2.0)
    res = sim.simulate(wear, sim.Durations(5.0, "deterministic"), trials=3000, seed=7)
    assert abs(res.availability.value - av.from_mtbf(200.0, 5.0)) < 1e-3


def test_simulation_accepts_a_given_sampler():
    def two_point(rng, size):
        return np.where(rng.random(size) < 0.5, 1.0, 9.0)  # mean 5 h

    res = sim.simulate(200.0, sim.Durations(5.0, sampler=two_point), trials=2000, seed=8)
    assert _inside(res, av.from_mtbf(200.0, 5.0))


def test_simulation_is_deterministic_for_a_seed():
    a = sim.simulate(50.0, 2.0, 2, 1, failover_minutes=5.0, trials=200, seed=9)
    b = sim.simulate(50.0, 2.0, 2, 1, failover_minutes=5.0, trials=200, seed=9)
    assert a.availability == b.availability
    np.testing.assert_array_equal(a.per_trial, b.per_trial)
    assert a.downtime_minutes_per_sla_month == pytest.approx((1 - a.availability.value) * 43200)


def test_simulation_counts_outages():
    res = sim.simulate(100.0, 1.0, trials=500, horizon_hours=1000.0, seed=10)
    # a single replica fails about horizon / (MTBF + MTTR) times per trial
    assert res.outages_per_trial == pytest.approx(1000.0 / 101.0, rel=0.05)


def test_simulation_inputs_are_checked():
    with pytest.raises(ValueError, match="mode must be one of 'active-active', 'active-passive'"):
        sim.simulate(100.0, 1.0, mode="hot-standby")
    with pytest.raises(ValueError, match=r"required must be a whole number <= replicas = 2"):
        sim.simulate(100.0, 1.0, 2, 3)
    with pytest.raises(ValueError, match="failover_minutes must be a finite number >= 0"):
        sim.simulate(100.0, 1.0, failover_minutes=-1.0)
    with pytest.raises(ValueError, match=r"domains\[0\].members must give one domain per replica"):
        sim.simulate(
            100.0, 1.0, 2, domains=[sim.Domain(sim.Durations(1.0), sim.Durations(1.0), (0,))]
        )
    with pytest.raises(ValueError, match="kind must be one of"):
        sim.Durations(5.0, "gamma")
    with pytest.raises(ValueError, match="mean must be a finite number > 0"):
        sim.Durations(float("inf"))
    with pytest.raises(ValueError, match="sampler must return finite durations"):
        sim.simulate(100.0, sim.Durations(1.0, sampler=lambda rng, size: -np.ones(size)))


def test_outage_process_recovers_the_inputs_and_splits_unavailability():
    res = sim.simulate(200.0, 5.0, trials=2000, seed=11)
    mtbf, mttr = res.outage_process()
    assert mtbf == pytest.approx(200.0, rel=0.03)
    assert mttr == pytest.approx(5.0, rel=0.03)
    assert res.failover_fraction == 0.0
    both = sim.simulate(200.0, 5.0, 2, 1, failover_minutes=20.0, trials=500, seed=12)
    total = both.outage_fraction + both.failover_fraction
    assert total == pytest.approx(1 - both.availability.value, rel=1e-9)
    assert both.failover_fraction > 0
    with pytest.raises(ValueError, match="outages_per_trial must be > 0"):
        sim.simulate(1e9, 1.0, trials=2, horizon_hours=1.0, seed=0).outage_process()


def test_multi_region_two_level_model_matches_closed_form():
    regional = sim.simulate(500.0, 2.0, 2, 1, failover_minutes=1.0, trials=2000, seed=13)
    mtbf, mttr = regional.outage_process()
    both = sim.multi_region(regional, 2, failover_minutes=15.0, trials=4000, seed=14)
    closed = av.redundant(mtbf, mttr, 2, 1, 15.0) - regional.failover_fraction
    assert _inside(both, closed)
    # A failure shared by both regions caps the result at the shared domain's availability.
    shared = sim.Domain(sim.Durations(5000.0), sim.Durations(5.0), (0,))
    capped = sim.multi_region(regional, 2, failover_minutes=15.0, shared=shared, seed=15)
    assert capped.availability.low <= av.from_mtbf(5000.0, 5.0) * (
        closed + regional.failover_fraction
    )
    assert capped.availability.high < both.availability.low
    with pytest.raises(ValueError, match="shared.members must all be 0"):
        sim.multi_region(regional, shared=sim.Domain(sim.Durations(1.0), sim.Durations(1.0), (1,)))


def test_simulation_of_zones_matches_combined_failures():
    mtbf, mttr = av.combined_failures([200.0, 1000.0], [5.0, 10.0])
    zones = sim.Domain(sim.Durations(1000.0), sim.Durations(10.0), (0, 1, 2))
    res = sim.simulate(200.0, 5.0, 3, 2, domains=[zones], failover_minutes=5.0, seed=16)
    assert _inside(res, av.redundant(mtbf, mttr, 3, 2, 5.0))


def test_one_region_and_multi_region_helpers_agree_with_their_closed_forms():
    inst, zone, region, shared = (300.0, 2.0), (2000.0, 6.0), (5000.0, 8.0), (20000.0, 3.0)
    # A 95% interval: with a fixed seed the check is deterministic, but about one seed in twenty
    # would put the closed form just outside it (seed 17 does, by 1.1e-5).
    res = sim.one_region(2, inst, zone, region, shared=shared, failover_minutes=2.0, seed=0)
    closed = av.one_region_closed(2, inst, zone, region, shared=shared, failover_minutes=2.0)
    assert _inside(res, closed)
    regional = sim.one_region(2, inst, zone, region, failover_minutes=2.0, trials=4000, seed=18)
    both = sim.multi_region(regional, 2, failover_minutes=20.0, mode="active-passive", seed=19)
    outage, loss = regional.outage_process(), regional.failover_fraction
    closed_ap = av.multi_region_closed(
        *outage, 2, failover_minutes=20.0, regional_failover_loss=loss
    )
    assert _inside(both, closed_ap)
    capped = sim.multi_region(regional, 2, failover_minutes=20.0, shared=shared, seed=20)
    limit = av.multi_region_closed(
        *outage, 2, failover_minutes=20.0, shared=shared, regional_failover_loss=loss
    )
    assert _inside(capped, limit)
    with pytest.raises(ValueError, match=r"zone must be a pair \(mtbf_hours, mttr_hours\)"):
        sim.one_region(2, inst, (1.0,), region)
    with pytest.raises(ValueError, match="region mttr_hours must be a finite number > 0"):
        sim.one_region(2, inst, zone, (100.0, -1.0))


def test_result_reports_an_interval_and_yearly_downtime():
    res = sim.simulate(200.0, 5.0, 2, 1, failover_minutes=10.0, trials=300, seed=21)
    assert isinstance(res.availability, Interval)
    assert res.availability.level == 0.95
    assert res.availability.low < res.availability.value < res.availability.high
    assert res.availability.value == pytest.approx(res.per_trial.mean())
    minutes = res.downtime_minutes_per_trial
    np.testing.assert_allclose(minutes, (1 - res.per_trial) * 8760 * 60)
    grid = np.array([0.0, np.median(minutes), minutes.max()])
    np.testing.assert_allclose(res.downtime_exceedance(grid), [(minutes > g).mean() for g in grid])
    assert res.downtime_exceedance(minutes.max()) == 0.0


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    mtbf=st.floats(min_value=20.0, max_value=2000.0),
    mttr=st.floats(min_value=0.5, max_value=20.0),
    n=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_simulation_contains_the_closed_form(mtbf, mttr, n, data):
    # Property: for any exponential k-of-n system with a short failover, the simulation's
    # interval contains the closed form.  A 99.99% interval (about 3.9 standard errors) keeps
    # the check deterministic (derandomized examples, fixed seed) without being loose.
    # The interval is a normal approximation over trials, so it needs enough outages: systems
    # expected to be down for fewer than 20 repair times in all 400 simulated years are left out
    # (with under 5, e.g. 4 replicas of MTBF 43 h and MTTR 1 h, 1 needed, it misses about half
    # the time: a handful of outages in 400 years cannot give a 3.9-sigma interval).
    k = data.draw(st.integers(min_value=1, max_value=n))
    failover = data.draw(st.floats(min_value=0.0, max_value=0.01 * mtbf * 60))
    closed = av.redundant(mtbf, mttr, n, k, failover)
    assume((1 - closed) * 400 * av.PERIOD_HOURS["year"] >= 20 * mttr)
    res = sim.simulate(mtbf, mttr, n, k, failover_minutes=failover, trials=400, level=0.9999)
    assert _inside(res, closed)


def test_ladder_prices_the_standby_it_models():
    """The passive region is modelled as a full copy of the active one, and priced so.

    The article used to price a standby of one instance while the availability model treated the
    passive region as a full zone-redundant one after failover: unequal designs.
    """
    layers = dict(instance=(1000.0, 1.0), zone=(8760.0, 4.0), region=(17520.0, 6.0))
    lad = sim.ladder(
        2, **layers, shared=(87600.0, 2.0), lb_failover_minutes=1.0, ap_failover_minutes=30.0,
        aa_failover_minutes=2.0, trials=300, seed=7,
    )  # fmt: skip
    assert list(lad.runs) == list(sim.DESIGNS) == list(lad.closed)
    assert lad.instances["two regions, active-passive"] == (2, 2)
    assert lad.instances["two regions, active-active"] == (2, 2)
    # By hand: 0.1 USD/h in the first region, 0.12 in the second, 730 h a month.
    assert lad.monthly_usd(0.1, 0.12) == pytest.approx([73.0, 146.0, 321.2, 321.2])
    per_nine = lad.usd_per_nine(0.1, 0.12)
    assert np.isnan(per_nine[0])
    assert per_nine[3] == 0.0  # active-active adds nines at no extra instance cost
    # The building blocks are the article's, with its seeds: the multi-zone design is
    # one_region with seed + 1, and each closed form lies near its simulation.
    again = sim.one_region(2, **layers, shared=(87600.0, 2.0), failover_minutes=1.0, trials=300,
                           seed=8)  # fmt: skip
    assert lad.runs["multi-zone"].availability.value == again.availability.value
    for name in sim.DESIGNS:
        assert abs(lad.closed[name] - lad.runs[name].availability.value) < 2e-4
