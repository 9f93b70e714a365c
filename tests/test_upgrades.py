"""Tests of cloudpad.models.upgrades: support windows, cadence, fees and hours.

Published values: Amazon EKS User Guide ("standard support ... for the first 14 months",
"extended support for the next 12 months"); AWS Containers blog, 2024 ("a total of $0.60 per
cluster per hour", "$0.10 per cluster per hour" in standard support); Google Cloud blog,
2024-07-17 ("up to 24 months"); Microsoft Learn, KubernetesSupportPlan ("a total of 2 years
of support"); KEP-2572 (three minor releases a year).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad import data
from cloudpad.exceptions import InputError
from cloudpad.models import upgrades as up


@pytest.fixture(scope="module")
def support():
    return data.load("kubernetes_support")


def test_support_windows_from_the_providers(support):
    rows = support.set_index("provider")
    # EKS User Guide: 14 months standard, then 12 months extended.
    assert (rows.loc["eks", "standard_months"], rows.loc["eks", "extended_months"]) == (14, 12)
    # Google Cloud blog, 2024-07-17: "stay on a GKE minor version for up to 24 months".
    assert rows.loc["gke", ["standard_months", "extended_months"]].sum() == 24
    # Microsoft Learn: LTS patches "for another 1 year, for a total of 2 years of support".
    assert rows.loc["aks", ["standard_months", "extended_months"]].sum() == 24
    # AWS Containers blog (2024): $0.10 in standard support, $0.60 in total in extended.
    assert (rows.loc["eks", "standard_usd_per_hour"], rows.loc["eks", "extended_usd_per_hour"]) == (
        0.10,
        0.60,
    )


def test_three_releases_a_year():
    # KEP-2572: "from 4 down to 3 releases per year" (from Kubernetes 1.22).
    assert up.RELEASES_PER_YEAR == 3


def test_worked_example_of_a_yearly_upgrade():
    # U = 12, P = 4, S = 14: the version passes 14 months only when the newest release was
    # 2..4 months old on upgrade day, on average (4 - 2)^2 / 2 / 4 = 0.5 month a year.
    shares = up.support_shares(12, 14, 12)
    assert shares.extended == pytest.approx(0.5 / 12, abs=1e-6)
    assert shares.unsupported == 0.0
    assert shares.standard + shares.extended + shares.unsupported == pytest.approx(1.0)


def test_longest_cadence_in_standard_support():
    # S - P - D: 14 - 4 - 1 = 9 months on EKS when waiting a month for patches.
    assert up.longest_standard_cadence(14, adopt_after_months=1) == 9
    assert up.support_shares(9, 14, 12, adopt_after_months=1).extended == 0.0
    assert up.support_shares(9.5, 14, 12, adopt_after_months=1).extended > 0.0


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 30), st.floats(1, 30), st.floats(0, 30), st.floats(0, 3))
def test_shares_sum_to_one_and_grow_with_the_interval(u, s, e, d):
    a = up.support_shares(u, s, e, adopt_after_months=d)
    b = up.support_shares(u + 1, s, e, adopt_after_months=d)
    assert a.standard + a.extended + a.unsupported == pytest.approx(1.0)
    assert b.standard <= a.standard + 1e-9


def test_fees_and_hours(support):
    frugal = up.yearly_costs(support, 4, hours_per_minor_upgrade=16, hours_per_window=8,
                             usd_per_engineer_hour=100).set_index("provider")  # fmt: skip
    # Always in standard support: $0.10 x 8,760 h = $876 a year on every provider.
    assert frugal["fee_usd"].tolist() == pytest.approx([876.0] * 3)
    # 3 minor upgrades a year (16 h each) and 3 windows (8 h each): 72 h, $7,200.
    assert frugal.loc["eks", "hours"] == pytest.approx(72.0)
    assert frugal.loc["eks", "total_usd"] == pytest.approx(876.0 + 7200.0)
    lazy = up.yearly_costs(support, 12, hours_per_minor_upgrade=16, hours_per_window=8,
                           usd_per_engineer_hour=100).set_index("provider")  # fmt: skip
    x = lazy.loc["eks", "extended_share"]
    assert lazy.loc["eks", "fee_usd"] == pytest.approx(8760 * (0.10 * (1 - x) + 0.60 * x))
    # AKS: long-term support comes with the Premium tier for as long as it is on.
    assert lazy.loc["aks", "fee_usd"] == pytest.approx(8760 * 0.60)
    assert lazy.loc["eks", "minors_per_window"] == pytest.approx(3.0)


def test_bad_support_table_is_refused(support):
    with pytest.raises(InputError, match="missing \\['extended_fee_applies'\\]"):
        hours = {"hours_per_minor_upgrade": 1, "hours_per_window": 1, "usd_per_engineer_hour": 1}
        up.yearly_costs(support.drop(columns="extended_fee_applies"), 6, **hours)
