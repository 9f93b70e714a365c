"""Tests of cloudpad.models.team: the SRE book's on-call arithmetic, Poisson shifts, DORA bands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cloudpad import data
from cloudpad.exceptions import InputError
from cloudpad.models import team

# Google, "Site Reliability Engineering" (O'Reilly 2016), ch. 11 "Being On-Call", section
# "Balanced On-Call", https://sre.google/sre-book/being-on-call/ (text read in full copies of
# the chapter, e.g. github.com/Pangjiping/google_sre at e608a66,
# src/part-3/chapter-11/balanced_on-call.md):
#   "dealing with the tasks involved in an on-call incident [...] takes 6 hours. It follows that
#    the maximum number of incidents per day is 2 per 12-hour on-call shift."
#   "no more than 25% can be spent on-call"
#   "Assuming that there are always two people on-call (primary and secondary, with different
#    duties), the minimum number of engineers needed for on-call duty from a single-site team is
#    eight: assuming week-long shifts, each engineer is on-call (primary or secondary) for one
#    week every month. For dual-site teams, a reasonable minimum size of each team is six, both
#    to honor the 25% rule and to ensure a substantial and critical mass of engineers"


@pytest.fixture(scope="module")
def dora():
    return data.load("dora_performance_levels")


# --------------------------------------------------------------------------- the SRE book


def test_six_hours_per_incident_gives_two_per_twelve_hour_shift():
    assert team.incidents_per_shift_limit(6, 12) == 2
    assert team.incidents_per_shift_limit() == team.SRE_MAX_INCIDENTS_PER_SHIFT == 2


def test_incident_limit_floors():
    assert team.incidents_per_shift_limit(5, 12) == 2  # 2.4 incidents do not fit
    assert team.incidents_per_shift_limit(4, 12) == 3
    assert team.incidents_per_shift_limit(13, 12) == 0


def test_twenty_five_percent_with_two_on_call_needs_eight_engineers():
    assert team.min_rotation(0.25, on_call_at_once=2, sites=1) == 8
    assert team.min_rotation() == team.SRE_MIN_ROTATION_SINGLE_SITE


def test_eight_engineers_are_on_call_one_week_a_month():
    # "each engineer is on-call (primary or secondary) for one week every month": 1 week in 4
    assert team.on_call_share(8, on_call_at_once=2) == pytest.approx(0.25)
    assert team.on_call_share(8) * 4 == pytest.approx(1.0)


def test_seven_engineers_break_the_twenty_five_percent_rule():
    assert team.on_call_share(7) > team.SRE_MAX_ON_CALL_SHARE


def test_dual_site_rule_minimum_is_within_the_books_six_per_site():
    # The book's six per site honours the 25 % rule, so the rule alone must ask for no more.
    per_site = team.min_rotation(0.25, on_call_at_once=2, sites=2)
    assert per_site == 4
    assert per_site <= team.SRE_MIN_ROTATION_PER_SITE_DUAL == 6
    # Six per site on two sites: each on call 2 / 12 of the time.
    assert team.on_call_share(12) == pytest.approx(1 / 6)


def test_min_rotation_with_primary_only():
    assert team.min_rotation(0.25, on_call_at_once=1) == 4


def test_weeks_on_call_per_year():
    assert team.weeks_on_call_per_year(8) == pytest.approx(365 / 7 / 4)
    assert team.weeks_on_call_per_year(5, on_call_at_once=1) == pytest.approx(365 / 7 / 5)


def test_fewer_engineers_than_positions_is_refused():
    with pytest.raises(InputError, match="engineers"):
        team.on_call_share(1, on_call_at_once=2)


# --------------------------------------------------------------------------- Poisson shifts


def test_shift_mean():
    assert team.shift_incident_mean(14.0) == pytest.approx(1.0)  # 14 a week = 1 per 12 h
    assert team.shift_incident_mean(7.0, shift_hours=24) == pytest.approx(1.0)


@pytest.mark.parametrize("m", [0.05, 0.3, 1.0, 2.0, 5.0])
def test_overload_probability_is_the_poisson_tail(m):
    rate = m * 168 / 12
    by_hand = 1 - math.exp(-m) * (1 + m + m * m / 2)
    assert team.shift_overload_probability(rate) == pytest.approx(by_hand, rel=1e-9, abs=1e-15)
    assert team.shift_overload_probability(rate, limit=0) == pytest.approx(1 - math.exp(-m))


def test_overload_probability_against_a_simulated_poisson_process():
    # Independent of scipy: exponential gaps between incidents, counted per 12-hour shift.
    rng = np.random.default_rng(7)
    rate_per_week, shifts = 10.0, 200_000
    gaps = rng.exponential(168 / rate_per_week, size=int(shifts * 12 * rate_per_week / 168 * 1.2))
    times = np.cumsum(gaps)
    times = times[times < shifts * 12]
    counts = np.bincount((times // 12).astype(int), minlength=shifts)
    observed = float(np.mean(counts > 2))
    p = team.shift_overload_probability(rate_per_week)
    se = math.sqrt(p * (1 - p) / shifts)
    assert abs(observed - p) < 4 * se


def test_overloaded_shifts_per_year():
    p = team.shift_overload_probability(3.0)
    assert team.overloaded_shifts_per_year(3.0) == pytest.approx(p * 730)


def test_max_incidents_per_week_inverts_the_overload_probability():
    top = team.max_incidents_per_week(0.05)
    assert team.shift_overload_probability(top) == pytest.approx(0.05, rel=1e-6)
    assert team.max_incidents_per_week(0.01) < top


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.0, 200.0),
    st.floats(0.0, 200.0),
    st.integers(0, 6),
)
def test_overload_probability_rises_with_rate_and_falls_with_limit(a, b, limit):
    lo, hi = sorted((a, b))
    assert team.shift_overload_probability(lo, limit=limit) <= team.shift_overload_probability(
        hi, limit=limit
    )
    assert team.shift_overload_probability(hi, limit=limit + 1) <= (
        team.shift_overload_probability(hi, limit=limit)
    )


def test_overload_probability_vectorised():
    rates = [0.0, 1.0, 100.0]
    out = team.shift_overload_probability(np.array(rates))
    assert out.shape == (3,) and out[0] == 0.0
    assert out.tolist() == pytest.approx([team.shift_overload_probability(r) for r in rates])
    assert isinstance(team.shift_overload_probability(1.0), float)


# --------------------------------------------------------------------------- incidents


def test_incident_sources_by_hand():
    sources = team.incident_sources(
        {"zones": (6, 0.5), "regions": team.Component(2, 0.1)},
        deploys_per_week=30,
        change_failure_rate=0.075,
    )
    weeks = 365 / 7
    assert sources["zones"] == pytest.approx(3 / weeks)
    assert sources["regions"] == pytest.approx(0.2 / weeks)
    assert sources["changes"] == pytest.approx(2.25)
    assert team.incidents_per_week(
        {"zones": (6, 0.5), "regions": (2, 0.1)}, 30, 0.075
    ) == pytest.approx(sources.sum())


def test_changes_is_a_reserved_name():
    with pytest.raises(InputError, match="changes"):
        team.incident_sources({"changes": (1, 1)})


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1e4), st.floats(0, 50), st.floats(0, 1e4), st.floats(0, 50))
def test_incidents_add_up_and_scale_with_counts(n1, r1, n2, r2):
    both = team.incidents_per_week({"a": (n1, r1), "b": (n2, r2)})
    one = team.incidents_per_week({"a": (n1, r1)}) + team.incidents_per_week({"b": (n2, r2)})
    assert both == pytest.approx(one, rel=1e-12, abs=1e-12)
    assert team.incidents_per_week({"a": (2 * n1, r1)}) == pytest.approx(
        2 * team.incidents_per_week({"a": (n1, r1)}), rel=1e-12, abs=1e-12
    )


# --------------------------------------------------------------------------- DORA bands


def test_dora_2018_change_failure_rates(dora):
    # DORA, Accelerate: State of DevOps 2018, p. 19 (dora.dev): "The mean between these two
    # ranges shows a 7.5 percent change failure rate for elite performers and 53 percent for low
    # performers ... seven times better"
    elite = team.change_failure_rate(dora, 2018, "elite")
    low = team.change_failure_rate(dora, 2018, "low")
    assert elite == pytest.approx(0.075)
    assert low == pytest.approx(0.53)
    assert round(low / elite) == 7


def test_dora_2016_change_failure_rates(dora):
    # 2016 State of DevOps Report, p. 17: "7.5 percent for high performers and 23 percent for low
    # performers ... three times lower change failure rates"
    high = team.change_failure_rate(dora, 2016, "high")
    low = team.change_failure_rate(dora, 2016, "low")
    assert (high, low) == pytest.approx((0.075, 0.23))
    assert round(low / high) == 3


def test_dora_2021_and_2023(dora):
    # 2021 report p. 9 table: low performers 16%-30%; 2023 infographic: top performers "5%".
    assert team.change_failure_rate(dora, 2021, "low") == pytest.approx(0.23)
    assert team.change_failure_rate(dora, 2023, "elite") == pytest.approx(0.05)


def test_dora_bands_are_consistent(dora):
    assert (dora.change_failure_rate_low_percent <= dora.change_failure_rate_high_percent).all()
    both = dora.dropna(subset=["deploys_per_week_low", "deploys_per_week_high"])
    assert (both.deploys_per_week_low <= both.deploys_per_week_high).all()
    assert set(dora.query("report_year == 2018").level) == {"elite", "high", "medium", "low"}


def test_unknown_dora_level_names_what_exists(dora):
    with pytest.raises(InputError, match="2018 elite"):
        team.change_failure_rate(dora, 2016, "elite")


# --------------------------------------------------------------------------- workload


def test_ops_hours_and_share():
    assert team.ops_hours_per_week(3, 10) == pytest.approx(28)  # 3 incidents x 6 h + 10 h toil
    assert team.ops_share(100, 5) == pytest.approx(0.5)
    assert team.min_team_for_ops(100) == 5
    assert team.min_team_for_ops(101) == 6
    assert team.min_team_for_ops(0) == 1


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 2000))
def test_min_team_for_ops_keeps_the_cap(hours):
    n = team.min_team_for_ops(hours)
    assert team.ops_share(hours, n) <= team.SRE_MAX_OPS_SHARE + 1e-12
    if n > 1:
        assert team.ops_share(hours, n - 1) > team.SRE_MAX_OPS_SHARE


# --------------------------------------------------------------------------- recovery


def test_recovery_adds_its_steps():
    r = team.Recovery.from_minutes([10, 5, 30, 20])
    assert r.total_minutes == 65
    assert list(r.steps.index) == ["detect", "respond", "diagnose", "mitigate"]
    with pytest.raises(InputError):
        team.Recovery.from_minutes([1, 2, 3])
    with pytest.raises(InputError):
        team.Recovery(1, -1, 1, 1)


def test_availability_from_incidents_by_hand():
    # One incident a week, a full outage of 60 minutes: up 168 h, down 1 h.
    assert team.availability_from_incidents(1, 60) == pytest.approx(168 / 169)
    # Half the requests fail for 60 minutes: the same as 30 minutes of full outage.
    assert team.availability_from_incidents(1, 60, 0.5) == pytest.approx(168 / 168.5)
    assert team.availability_from_incidents(0, 60) == 1.0
    assert team.availability_from_incidents(5, 60, 0.0) == 1.0


def test_budget_share():
    assert team.budget_share_used(0.999, 0.999) == pytest.approx(1.0)
    assert team.budget_share_used(0.9995, 0.999) == pytest.approx(0.5)
    with pytest.raises(InputError):
        team.budget_share_used(0.99, 1.0)


# --------------------------------------------------------------------------- releases


def test_deploys_allowed_by_hand():
    # 99.9 % of a 30-day month is 43.2 minutes (SRE book, Appendix A); each deploy costs
    # 0.15 * 10 = 1.5 minutes on average, so 28.8 deploys.
    assert team.deploys_allowed(0.999, 0.15, 10) == pytest.approx(43.2 / 1.5)
    assert team.deploys_allowed(0.999, 0.15, 10, other_minutes=13.2) == pytest.approx(20)
    assert team.deploys_allowed(0.999, 0.15, 10, other_minutes=100) == 0
    assert math.isinf(team.deploys_allowed(0.999, 0.0, 10))


@settings(max_examples=50, deadline=None)
@given(st.floats(0.9, 0.99999), st.floats(0.01, 1), st.floats(0.1, 600))
def test_allowed_deploys_spend_exactly_the_budget(slo, cfr, minutes):
    n = team.deploys_allowed(slo, cfr, minutes)
    assert n * cfr * minutes == pytest.approx((1 - slo) * 720 * 60, rel=1e-9)


# --------------------------------------------------------------------------- cost


def test_total_cost_and_break_even():
    assert team.total_cost_usd_per_month(1000, 10, 100) == pytest.approx(2000)
    rate = team.break_even_usd_per_hour(1000, 50, 2000, 10)
    assert rate == pytest.approx(25)
    assert team.total_cost_usd_per_month(1000, 50, rate) == pytest.approx(
        team.total_cost_usd_per_month(2000, 10, rate)
    )
    assert math.isinf(team.break_even_usd_per_hour(1000, 10, 2000, 10))


def test_engineer_hours_per_billing_month():
    assert team.engineer_hours_per_month(168) == pytest.approx(730)


# --------------------------------------------------------------------------- issue 17 mends
def test_a_page_costs_six_hours_only_with_a_postmortem():
    # SRE book ch. 11: an incident handled in full, postmortem included, takes 6 hours; the
    # old model costed every page at 6 hours (postmortem share 1).
    assert team.hours_per_page(1.0, 1.5) == pytest.approx(6.0)
    assert team.hours_per_page(0.5, 1.5) == pytest.approx(3.75)
    assert team.incidents_per_shift_limit(team.hours_per_page(0.5, 1.5)) == 3


def test_failed_changes_load_the_day_shift_of_a_deploy_day():
    # 1 other page and 2.5 failed changes a week, deploys on 5 days: 12/168 + 2.5/5 = 0.571.
    assert team.busiest_shift_mean(1.0, 2.5, 5) == pytest.approx(12 / 168 + 0.5)
    # spread evenly (the old single Poisson rate) the same pages give 3.5 * 12/168 = 0.25
    assert team.busiest_shift_mean(1.0, 2.5, 5) > team.shift_incident_mean(3.5)
    with pytest.raises(InputError, match="deploy_days_per_week"):
        team.busiest_shift_mean(1.0, 2.5, 0)


def test_max_shift_mean_inverts_the_poisson_tail():
    m = team.max_shift_mean(0.05, 2)
    assert stats.poisson.sf(2, m) == pytest.approx(0.05, abs=1e-6)
    assert team.max_shift_mean(0.05, 3) > m


def test_break_even_price_factor_equalises_the_totals():
    # 3,000 USD of instances, 100 h against 15 h a month at 100 USD/h: 1 + 8,500 / 3,000.
    f = team.break_even_price_factor(3000.0, 100.0, 15.0, 100.0)
    assert f == pytest.approx(1 + 85 * 100 / 3000)
    self_hosted = team.total_cost_usd_per_month(3000.0, 100.0, 100.0)
    assert team.total_cost_usd_per_month(f * 3000.0, 15.0, 100.0) == pytest.approx(self_hosted)
