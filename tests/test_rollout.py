"""Tests of cloudpad.models.rollout: the canary comparison, burn-rate alerts, cells, rollouts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cloudpad.exceptions import InputError
from cloudpad.models import availability, rollout, team

# R's documented examples of power.prop.test (R Core Team, src/library/stats/man/
# power.prop.test.Rd, read in wch/r-source at 0c26529e807a9b1dd65f7324958c17bf72e1de1a,
# 2024-10-22), two-sided at sig.level 0.05 unless given, strict = FALSE:
#   power.prop.test(n = 50, p1 = .50, p2 = .75)      ## => power = 0.740
#   power.prop.test(p1 = .50, p2 = .75, power = .90) ## =>     n = 76.7
#   power.prop.test(n = 50, p1 = .5, power = .90)    ## =>    p2 = 0.8026
#   power.prop.test(p1 = .5, p2 = 0.501, sig.level=.001, power=0.90)  ## => n = 10451937
#   power.prop.test(      p1=0.90, p2= 1.0, power=0.8) ##-> n = 73.37
# The non-strict two-sided test at level s is the one-sided test at s / 2.


def test_power_of_r_example():
    assert rollout.detection_power(50, 0.50, 0.25, 0.05 / 2) == pytest.approx(0.740, abs=5e-4)


def test_requests_of_r_example():
    assert rollout.requests_to_detect(0.50, 0.25, 0.05 / 2, 0.90) == pytest.approx(76.7, abs=0.05)


def test_detectable_increase_of_r_example():
    p2 = 0.5 + rollout.min_detectable_increase(50, 0.5, 0.05 / 2, 0.90)
    assert p2 == pytest.approx(0.8026, abs=5e-5)


def test_tiny_difference_of_r_example():
    n = rollout.requests_to_detect(0.5, 0.001, 0.001 / 2, 0.90)
    assert n == pytest.approx(10_451_937, abs=1)


def test_certain_second_group_of_r_example():
    assert rollout.requests_to_detect(0.90, 0.10, 0.05 / 2, 0.8) == pytest.approx(73.37, abs=0.005)


def test_good_release_is_flagged_at_the_false_alarm_rate():
    assert rollout.detection_power(1e6, 0.001, 0.0, 0.01) == pytest.approx(0.01)


def test_no_requests_no_detection_beyond_false_alarms():
    assert rollout.detection_power(0, 0.001, 0.01, 0.01) <= 0.01


def test_a_release_that_is_not_worse_cannot_be_detected():
    assert rollout.requests_to_detect(0.001, 0.0, 0.01, 0.9) == math.inf


@settings(max_examples=60, deadline=None)
@given(
    p0=st.floats(1e-4, 0.2),
    d=st.floats(1e-4, 0.5),
    a=st.floats(1e-3, 0.2),
    power=st.floats(0.5, 0.99),
)
def test_requests_to_detect_inverts_power(p0, d, a, power):
    n = rollout.requests_to_detect(p0, d, a, power)
    assert rollout.detection_power(n, p0, d, a) == pytest.approx(power, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(n=st.floats(10, 1e7), p0=st.floats(1e-4, 0.1), a=st.floats(1e-3, 0.2))
def test_detectable_increase_inverts_power(n, p0, a):
    d = rollout.min_detectable_increase(n, p0, a, 0.9)
    if d < 1 - p0:
        assert rollout.detection_power(n, p0, d, a) == pytest.approx(0.9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(k=st.floats(1, 1e4), p0=st.floats(1e-4, 0.1), d=st.floats(1e-4, 0.5), a=st.floats(1e-3, 0.2))
def test_power_rises_with_requests_and_with_the_increase(k, p0, d, a):
    # Where the normal approximation holds: at least 10 errors expected in each arm.  (With one
    # request and no baseline errors it is not even monotone in the increase.)
    n = k * 10 / p0
    base = rollout.detection_power(n, p0, d, a)
    assert rollout.detection_power(2 * n, p0, d, a) >= base - 1e-12
    assert rollout.detection_power(n, p0, min(2 * d, 1 - p0), a) >= base - 1e-12


@pytest.mark.parametrize("p0, d", [(0.0005, 0.0005), (0.001, 0.002), (0.01, 0.01)])
def test_normal_approximation_agrees_with_the_exact_conditional_test(p0, d):
    # The exact test for two Poisson counts, conditional on their sum, at the sample size the
    # approximation asks for: rare errors, the regime of canaries.
    n = rollout.requests_to_detect(p0, d, 0.01, 0.9)
    assert rollout.exact_detection_power(n, p0, d, 0.01) == pytest.approx(0.9, abs=0.03)


def test_exact_power_agrees_with_summing_scipy_binomial_tests():
    # Brute force: for each total t, the canary's count c is flagged when SciPy's one-sided
    # binomial test of c out of t against 1/2 has a p-value at most the false-alarm rate.
    n, p0, d, a = 4000.0, 0.001, 0.002, 0.05
    p1 = p0 + d
    total = stats.poisson(n * (p0 + p1))
    power = 0.0
    for t in range(1, 60):
        flagged = [c for c in range(t + 1) if stats.binomtest(c, t, 0.5, "greater").pvalue <= a]
        if flagged:
            power += total.pmf(t) * stats.binom.sf(min(flagged) - 1, t, p1 / (p0 + p1))
    assert rollout.exact_detection_power(n, p0, d, a) == pytest.approx(power, abs=1e-9)


def test_exact_test_keeps_its_false_alarm_rate():
    assert rollout.exact_detection_power(1e6, 0.001, 0.0, 0.01) <= 0.01


def test_rates_that_do_not_add_up_are_refused():
    with pytest.raises(InputError, match="baseline_error_rate \\+ added_error_rate"):
        rollout.detection_power(100, 0.6, 0.5, 0.01)
    with pytest.raises(InputError, match="false_alarm"):
        rollout.requests_to_detect(0.01, 0.01, 0.0, 0.9)


# The Site Reliability Workbook (O'Reilly 2018), ch. 5 "Alerting on SLOs" (S. Thurgood et al.),
# https://sre.google/workbook/alerting-on-slos/ (read in a full copy of the chapter's text):
#   "Now, the detection time is: (1 - SLO) / error ratio x alerting window size" for the
#    36-hour window at 0.1 %: "Detection time is still good: 2 minutes and 10 seconds for a
#    complete outage."
#   "For burn rate-based alerts, the time taken for an alert to fire is: (1 - SLO) / error
#    ratio x alerting window size x burn rate"; "Five percent of a 30-day error budget spend
#    over one hour requires a burn rate of 36"; "Low recall: A 35x burn rate never alerts".
#   Table 5-4 (99.9 %): burn rate 1 (0.1 %) 30 days, 2 (0.2 %) 15 days, 10 (1 %) 3 days,
#    1,000 (100 %) 43 minutes.


def test_thirty_six_hour_window_detects_a_complete_outage_in_two_minutes_ten():
    assert rollout.alert_minutes(1.0, 0.999, 36, 1.0) * 60 == pytest.approx(130, abs=0.5)


def test_burn_rate_thirty_six_over_an_hour_detects_as_fast():
    assert rollout.alert_minutes(1.0, 0.999, 1, 36) * 60 == pytest.approx(129.6)


def test_a_thirty_five_times_burn_never_alerts_at_thirty_six():
    assert rollout.alert_minutes(35 * 0.001, 0.999, 1, 36) == math.inf


@pytest.mark.parametrize(
    "error_rate, hours",
    [(0.001, 30 * 24), (0.002, 15 * 24), (0.01, 3 * 24), (1.0, 43.2 / 60)],
)
def test_budget_exhaustion_of_workbook_table(error_rate, hours):
    assert rollout.budget_exhaustion_hours(error_rate, 0.999) == pytest.approx(hours)


def test_baseline_errors_bring_the_alert_forward():
    clean = rollout.alert_minutes(0.02, 0.999, 1, 14.4)
    assert rollout.alert_minutes(0.02, 0.999, 1, 14.4, baseline_error_rate=0.0005) < clean


def test_a_baseline_already_at_the_threshold_is_refused():
    with pytest.raises(InputError, match="already at the alert threshold"):
        rollout.alert_minutes(0.01, 0.999, 72, 1.0, baseline_error_rate=0.001)


# AWS Well-Architected, "Reducing the Scope of Impact with Cell-Based Architecture", "What is a
# cell-based architecture?": "If a workload uses 10 cells to service 100 requests, when a
# failure occurs in one cell, 90% of the overall requests would be unaffected by the failure."
# C. MacCarthaigh, "Workload isolation using shuffle-sharding", Amazon Builders' Library: "If we
# divide the fleet into 4 shards of workers" (25 % impact); "With eight workers, there are 28
# unique combinations of two workers [...] the scope of impact due to a problem is just 1/28th.
# That's 7 times better than regular sharding."; Route 53: "2048 virtual name servers", a
# shuffle shard of four per domain, "a staggering 730 billion possible shuffle shards".


def test_ten_cells_leave_ninety_percent_unaffected():
    assert 1 - rollout.blast_radius(10) == pytest.approx(0.90)


def test_eight_workers_in_pairs_give_twenty_eight_shuffle_shards():
    shards = rollout.shuffle_shards(8, 2)
    assert shards == 28
    assert rollout.blast_radius(4) / (1 / shards) == pytest.approx(7)


def test_route_53_has_about_730_billion_shuffle_shards():
    assert rollout.shuffle_shards(2048, 4) == pytest.approx(730e9, rel=0.002)


def test_cells_raise_the_replica_floor():
    floor = rollout.replicas_for_cells([1, 3, 9], cells=4, min_replicas_per_cell=2)
    assert list(floor) == [8, 8, 9]


def test_more_cells_failed_than_cells_is_refused():
    with pytest.raises(InputError, match="cells_failed"):
        rollout.blast_radius(4, 5)


# --------------------------------------------------------------------------- rollouts


def conditions(**changes) -> rollout.Conditions:
    values = {
        "traffic_rps": 125.0,
        "baseline_error_rate": 0.0005,
        "added_error_rate": 0.1,
        "false_alarm": 0.01,
        "evaluation_minutes": 5.0,
        "slo": 0.999,
        "alert_windows_hours": (1.0, 6.0, 72.0),
        "alert_burn_rates": (14.4, 6.0, 1.0),
        "alert_response_minutes": (5.0, 5.0, 960.0),
        "diagnose_minutes": 10.0,
        "mitigate_minutes": 5.0,
        "rollback_minutes": 5.0,
        "shared_fault_share": 0.0,
    }
    return rollout.Conditions(**(values | changes))


def test_a_five_percent_canary_serving_twenty_percent_errors_costs_one_percent():
    # Site Reliability Workbook ch. 16 "Canarying Releases": "If we instead use a canary
    # population of 5%, we serve 20% errors for 5% of traffic, resulting in a 1% overall error
    # rate"; "impact on the budget is directly proportional to the amount of traffic exposed to
    # defects."  A flag at the first evaluation (5 min) and an instant rollback: 1 % of the
    # requests failing for 5 minutes, 0.05 full-outage minutes.
    c = conditions(traffic_rps=1e5, added_error_rate=0.2, rollback_minutes=0.0)
    out = rollout.evaluate(rollout.canary_then_all(0.05, 60), c)
    assert out.minutes_lost == pytest.approx(0.01 * 5, rel=1e-6)
    assert out.caught_early == pytest.approx(1.0)


def test_all_at_once_costs_the_alert_and_the_human_fix():
    c = conditions(added_error_rate=0.999)
    fired = rollout.alert_minutes(0.999, 0.999, 1, 14.4, baseline_error_rate=0.0005)
    fix = team.Recovery(fired, 5, 10, 5).total_minutes
    out = rollout.evaluate(rollout.all_at_once(10), c)
    assert out.minutes_lost == pytest.approx(0.999 * fix, rel=1e-9)
    assert out.minutes_if_missed == pytest.approx(out.minutes_lost)
    assert out.caught_early == 0.0
    assert out.false_halt == 0.0


def test_a_regression_no_alert_sees_lasts_the_month():
    c = conditions(added_error_rate=0.0004)  # 0.05 % + 0.04 % stays under the 0.1 % budget rate
    out = rollout.evaluate(rollout.all_at_once(), c)
    assert out.minutes_lost == pytest.approx(0.0004 * rollout.MONTH_MINUTES)


def test_a_canary_never_costs_more_than_all_at_once():
    for d in (0.0005, 0.005, 0.05, 0.5):
        c = conditions(added_error_rate=d)
        once = rollout.evaluate(rollout.all_at_once(), c).minutes_lost
        assert rollout.evaluate(rollout.canary_then_all(0.05, 60), c).minutes_lost <= once


@settings(max_examples=25, deadline=None)
@given(rps=st.floats(1, 1e4), d=st.floats(1e-4, 0.9), bake=st.floats(5, 600))
def test_more_traffic_never_costs_a_bad_release_more(rps, d, bake):
    r = rollout.region_waves(2, 0.05, bake, 120)
    low = rollout.evaluate(r, conditions(traffic_rps=rps, added_error_rate=d)).minutes_lost
    high = rollout.evaluate(r, conditions(traffic_rps=2 * rps, added_error_rate=d)).minutes_lost
    assert high <= low * (1 + 1e-9) + 1e-12


@settings(max_examples=25, deadline=None)
@given(d=st.floats(1e-4, 0.9), share=st.floats(0, 1))
def test_cells_never_cost_more_than_a_shared_stack(d, share):
    c = conditions(added_error_rate=d, shared_fault_share=share)
    shared = rollout.evaluate(rollout.region_waves(2, 0.05, 60, 120), c).minutes_lost
    cells = rollout.region_waves(2, 0.05, 60, 120, cells_per_region=4)
    assert rollout.evaluate(cells, c).minutes_lost <= shared * (1 + 1e-9) + 1e-12


def test_shared_faults_in_a_shared_stack_cost_what_all_at_once_costs():
    c = conditions(shared_fault_share=1.0)
    once = rollout.evaluate(rollout.all_at_once(), c).minutes_lost
    staged = rollout.evaluate(rollout.region_waves(3, 0.05, 60, 120), c)
    assert staged.minutes_lost == pytest.approx(once)
    assert staged.minutes_lost_own < once


def test_false_halts_grow_with_the_compared_stages():
    c = conditions()
    assert rollout.evaluate(rollout.canary_then_all(0.05, 60), c).false_halt == pytest.approx(0.01)
    waves = rollout.evaluate(rollout.region_waves(3, 0.05, 60, 60), c)
    assert waves.false_halt == pytest.approx(1 - 0.99**3)


def test_region_waves_have_the_documented_exposures_and_lead_time():
    r = rollout.region_waves(2, 0.05, 60, 120, deploy_minutes=10, cells_per_region=4)
    assert [s.exposure for s in r.stages] == [0.05, 0.5, 1.0]
    assert [s.blast for s in r.stages] == [0.125, 0.5, 1.0]
    assert r.lead_minutes == 3 * 10 + 60 + 120
    assert rollout.releases_per_day(r.lead_minutes, 10) == pytest.approx(600 / 210)


def test_a_canary_larger_than_a_cell_is_refused():
    with pytest.raises(InputError, match="does not fit in one cell"):
        rollout.region_waves(2, 0.2, 60, 120, cells_per_region=4)


def test_exposures_must_rise_to_everyone():
    with pytest.raises(InputError, match="must rise"):
        rollout.Rollout("x", (rollout.Stage("a", 0.5, 10), rollout.Stage("b", 0.5, 0)))
    with pytest.raises(InputError, match="must reach exposure 1"):
        rollout.Rollout("x", (rollout.Stage("a", 0.5, 10),))
    with pytest.raises(InputError, match="blast"):
        rollout.Stage("a", 0.5, 10, blast=0.1)


def test_alert_lists_of_different_lengths_are_refused():
    with pytest.raises(InputError, match="same length"):
        conditions(alert_burn_rates=(14.4, 6.0))


def test_compare_prices_the_budget_with_the_small_team_model():
    c = conditions()
    rollouts = [rollout.all_at_once(10), rollout.canary_then_all(0.05, 60, 10)]
    table = rollout.compare(rollouts, c, 0.075, 4.3, 10)
    lost = table.loc["all at once", "minutes_lost"]
    budget = availability.downtime_minutes(0.999, "month")
    assert table.loc["all at once", "budget_share"] == pytest.approx(4.3 * 0.075 * lost / budget)
    allowed = team.deploys_allowed(0.999, 0.075, lost)
    assert table.loc["all at once", "releases_allowed"] == pytest.approx(allowed)
    assert table.loc["canary, then everyone", "lead_hours"] == pytest.approx(80 / 60)
    halts = table.loc["canary, then everyone", "false_halts"]
    assert halts == pytest.approx(4.3 * 0.925 * 0.01)
    assert np.all(table["minutes_lost"] > 0)
