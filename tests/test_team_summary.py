"""Tests of cloudpad.models.team_summary: the small-team article's one conclusion function."""

from __future__ import annotations

import pandas as pd
import pytest

from cloudpad import data
from cloudpad.models import availability, team, team_summary

SERVICES = pd.DataFrame({"service": ["a", "b", "c", "d"], "replicas": [2, 3, 3, 2]})
PARAMS = dict(
    engineers=5,
    regions=2,
    zones_per_region=3,
    stateful_components_per_region=2,
    deploys_per_service_week=2.0,
    deploy_days_per_week=5.0,
    dora_year=2018,
    dora_level="elite",
    paged_share_of_failed_changes=1.0,
    service_failures_per_year=1.0,
    pod_failures_per_year=0.0,
    zone_failures_per_year=0.0,
    region_failures_per_year=0.0,
    self_hosted_failures_per_year=2.0,
    managed_failures_per_year=0.5,
    postmortem_share=1.0,
    hours_without_postmortem=1.0,
    service_toil_hours_per_week=0.5,
    self_hosted_toil_hours_per_week=4.0,
    managed_toil_hours_per_week=0.5,
    manual_detect_minutes=10.0,
    manual_respond_minutes=5.0,
    manual_diagnose_minutes=30.0,
    manual_mitigate_minutes=20.0,
    automated_detect_minutes=3.0,
    automated_respond_minutes=5.0,
    automated_diagnose_minutes=10.0,
    automated_mitigate_minutes=5.0,
    impact=0.1,
    failed_change_impact=0.1,
    slo=0.999,
    tolerated_overload_share=0.05,
    nodes_per_stateful_cluster=3,
    managed_price_factor=1.7,
    usd_per_engineer_hour=100.0,
)


@pytest.fixture(scope="module")
def levels():
    return data.load("dora_performance_levels")


def test_pages_and_hours_by_hand(levels):
    out = team_summary.summary(PARAMS, SERVICES, levels, node_usd_per_hour=0.25)
    # 8 service pages and 4 * 0.5 managed stateful pages a year; 8 deploys a week at 7.5 %
    other = (8 * 1.0 + 4 * 0.5) / team.WEEKS_PER_YEAR
    assert out["incidents_per_week"] == pytest.approx(other + 8 * 0.075)
    # every page handled in full (the SRE book's 6 hours), plus toil of 2 h and 2 h a week
    assert out["ops_hours"] == pytest.approx(out["incidents_per_week"] * 6 + 2.0 + 2.0)
    assert out["incidents_per_shift_limit"] == 2
    assert out["busiest_shift_mean"] == pytest.approx(other * 12 / 168 + 8 * 0.075 / 5)


def test_failed_changes_are_rolled_back_before_diagnosis(levels):
    # The old model restored a failed change in the full 65 minutes; a rollback skips the
    # 30 minutes of diagnosis, so a failed change costs 35 minutes at its own impact.
    out = team_summary.summary(PARAMS, SERVICES, levels, node_usd_per_hour=0.25)
    assert out["manual_rollback_minutes"] == pytest.approx(35.0)
    other = (8 * 1.0 + 4 * 0.5) / team.WEEKS_PER_YEAR
    weeks = availability.PERIOD_HOURS["month"] / team.WEEK_HOURS
    lost = (other * 65 * 0.1 + 8 * 0.075 * 35 * 0.1) * weeks
    assert out["budget_used_manual"] == pytest.approx(lost / out["budget_minutes"])
    half = team_summary.summary(
        {**PARAMS, "paged_share_of_failed_changes": 0.5}, SERVICES, levels, 0.25
    )
    assert half["change_incidents_per_week"] == pytest.approx(8 * 0.075 * 0.5)
    assert half["allowed_manual"] == pytest.approx(2 * out["allowed_manual"])


def test_managed_break_even(levels):
    out = team_summary.summary(PARAMS, SERVICES, levels, node_usd_per_hour=0.25)
    assert out["nodes_total"] == 12
    assert out["bill_self"] == pytest.approx(12 * 0.25 * 730)
    f = out["break_even_price_factor"]
    at_f = team_summary.summary({**PARAMS, "managed_price_factor": f}, SERVICES, levels, 0.25)
    assert at_f["total_managed"] == pytest.approx(at_f["total_self"])
