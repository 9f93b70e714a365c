"""Tests of cloudpad.models.availability (closed forms) against published values and properties."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.models import availability as av

# --------------------------------------------------------------------------- published values

# Beyer, Jones, Petoff, Murphy (eds.), "Site Reliability Engineering", O'Reilly 2016,
# Appendix A "Availability Table", Table A-1 (https://sre.google/sre-book/availability-table/):
# allowed unavailability window per year / quarter / month / week / day / hour.  Each value is
# written as printed; the tolerance is one unit of its last printed digit (the table rounds
# 0.864 s, 99.999% per day, up to 0.87 s, so half a unit would be too strict).
SRE_TABLE_A1 = [
    # (availability, period, value, unit, printed decimals)
    (0.90, "year", 36.5, "days", 1),
    (0.90, "quarter", 9, "days", 0),
    (0.90, "month", 3, "days", 0),
    (0.90, "week", 16.8, "hours", 1),
    (0.90, "day", 2.4, "hours", 1),
    (0.90, "hour", 6, "minutes", 0),
    (0.95, "year", 18.25, "days", 2),
    (0.95, "hour", 3, "minutes", 0),
    (0.99, "year", 3.65, "days", 2),
    (0.99, "quarter", 21.6, "hours", 1),
    (0.99, "month", 7.2, "hours", 1),
    (0.99, "week", 1.68, "hours", 2),
    (0.99, "day", 14.4, "minutes", 1),
    (0.99, "hour", 36, "seconds", 0),
    (0.995, "year", 1.83, "days", 2),
    (0.995, "week", 50.4, "minutes", 1),
    (0.999, "year", 8.76, "hours", 2),
    (0.999, "quarter", 2.16, "hours", 2),
    (0.999, "month", 43.2, "minutes", 1),
    (0.999, "week", 10.1, "minutes", 1),
    (0.999, "day", 1.44, "minutes", 2),
    (0.999, "hour", 3.6, "seconds", 1),
    (0.9995, "year", 4.38, "hours", 2),
    (0.9995, "month", 21.6, "minutes", 1),
    (0.9995, "day", 43.2, "seconds", 1),
    (0.9999, "year", 52.6, "minutes", 1),
    (0.9999, "quarter", 12.96, "minutes", 2),
    (0.9999, "month", 4.32, "minutes", 2),
    (0.9999, "week", 60.5, "seconds", 1),
    (0.9999, "day", 8.64, "seconds", 2),
    (0.9999, "hour", 0.36, "seconds", 2),
    (0.99999, "year", 5.26, "minutes", 2),
    (0.99999, "quarter", 1.30, "minutes", 2),
    (0.99999, "month", 25.9, "seconds", 1),
    (0.99999, "week", 6.05, "seconds", 2),
    (0.99999, "day", 0.87, "seconds", 2),
    (0.99999, "hour", 0.04, "seconds", 2),
]
SECONDS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}


@pytest.mark.parametrize(("a", "period", "value", "unit", "decimals"), SRE_TABLE_A1)
def test_downtime_matches_sre_book_table_a1(a, period, value, unit, decimals):
    got = av.downtime(a, period)
    assert isinstance(got, dt.timedelta)
    unit_of_last_digit = 10.0**-decimals
    assert got.total_seconds() / SECONDS[unit] == pytest.approx(value, abs=unit_of_last_digit)


def test_downtime_sre_book_chapter_3_worked_number():
    # SRE book, ch. 3 "Embracing Risk", "Measuring Service Risk": a 99.99% target allows
    # 52.56 minutes of downtime in a year.
    assert av.downtime(0.9999, "year").total_seconds() / 60 == pytest.approx(52.56)


def test_error_budget_sre_book_chapter_3():
    # SRE book, ch. 3 "Embracing Risk": "a system that serves 2.5M requests in a day with a daily
    # availability target of 99.99% can serve up to 250 errors and still hit its target".
    assert av.error_budget(0.9999, 2_500_000) == pytest.approx(250.0)


def test_downtime_matches_azure_requirements_table():
    # Azure Architecture Center, "Developing requirements for resilient Azure applications",
    # table of cumulative downtime per SLA (MicrosoftDocs/architecture-center@311baa00,
    # docs/reliability/requirements.md): 99.95% -> 5 minutes a week, 21.6 minutes a month;
    # 99.99% -> 52.56 minutes a year; 99.999% -> 6 seconds a week.
    assert av.downtime_minutes(0.9995, "week") == pytest.approx(5.0, abs=0.05)
    assert av.downtime_minutes(0.9995, "month") == pytest.approx(21.6)
    assert av.downtime_minutes(0.9999, "year") == pytest.approx(52.56)
    assert av.downtime(0.99999, "week").total_seconds() == pytest.approx(6.0, abs=0.05)


def test_composite_sla_azure_worked_example():
    # Azure Architecture Center, same page, section "Composite SLAs": App Service web app 99.95%
    # writing to SQL Database 99.99% -> "99.95% x 99.99% = 99.94%"; with a queue (99.9%) as a
    # fallback path, "Database or queue = 1.0 - (0.0001 x 0.001) = 99.99999%" and
    # "Web app and (database or queue) = 99.95% x 99.99999% = ~99.95%".
    assert av.serial(0.9995, 0.9999) == pytest.approx(0.9994, abs=0.5e-6 * 100)
    db_or_queue = av.parallel(0.9999, 0.999)
    assert db_or_queue == pytest.approx(0.9999999, abs=1e-12)
    assert av.serial(0.9995, db_or_queue) == pytest.approx(0.9995, abs=0.5e-4)


def test_multiregion_sla_azure_worked_example():
    # Same page, "SLAs for multiregion deployments": single-region SLA 99.95% ->
    # two regions 1 - (1 - 0.9995)^2 = 99.999975%, four regions = 99.999999% (printed cut to
    # six decimals of a percent; the exact value is 1 - 0.0005^4).
    assert av.parallel(0.9995, 0.9995) == pytest.approx(0.99999975, abs=1e-12)
    assert av.k_of_n(1, 2, 0.9995) == pytest.approx(0.99999975, abs=1e-12)
    four = av.parallel(*[0.9995] * 4)
    assert math.floor(four * 1e8) / 1e8 == pytest.approx(0.99999999, abs=1e-15)
    assert four == pytest.approx(1 - 0.0005**4, abs=1e-15)


def test_from_mtbf_textbook():
    # A = MTBF / (MTBF + MTTR): 999 h up for every 1 h down is three nines.
    assert av.from_mtbf(999.0, 1.0) == pytest.approx(0.999)
    assert av.nines(0.999) == pytest.approx(3.0)
    assert av.nines(1.0) == math.inf


def test_downtime_table_layout():
    table = av.downtime_table()
    assert list(table.columns) == ["year", "quarter", "month", "week", "day", "hour"]
    assert table.loc["99.9%", "month"] == pytest.approx(43.2)
    assert table.loc["99.999%", "year"] == pytest.approx(5.256)


# --------------------------------------------------------------------------- arrays


def test_downtime_array_gives_timedelta64():
    got = av.downtime(np.array([0.99, 0.999]), "month")
    assert got.dtype == np.dtype("timedelta64[us]")
    minutes = got / np.timedelta64(1, "m")
    np.testing.assert_allclose(minutes, [432.0, 43.2])


def test_functions_accept_arrays():
    a = np.array([0.9, 0.99, 0.999])
    np.testing.assert_allclose(av.serial(a, 0.5), a * 0.5)
    np.testing.assert_allclose(av.parallel(a, a), 1 - (1 - a) ** 2)
    np.testing.assert_allclose(av.k_of_n(2, 3, a), 3 * a**2 * (1 - a) + a**3)
    np.testing.assert_allclose(av.from_mtbf(np.array([9.0, 99.0]), 1.0), [0.9, 0.99])
    np.testing.assert_allclose(av.error_budget(a, 1000), (1 - a) * 1000)
    np.testing.assert_allclose(av.nines(a), [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- properties

prob = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(prob, min_size=1, max_size=6))
def test_parallel_at_least_best_and_serial_at_most_worst(parts):
    assert av.parallel(*parts) >= max(parts) - 1e-12
    assert av.serial(*parts) <= min(parts) + 1e-12


@settings(max_examples=200, deadline=None)
@given(prob, st.integers(min_value=1, max_value=8))
def test_k_of_n_edges_are_parallel_and_serial(a, n):
    assert av.k_of_n(1, n, a) == pytest.approx(av.parallel(*[a] * n), abs=1e-12)
    assert av.k_of_n(n, n, a) == pytest.approx(av.serial(*[a] * n), abs=1e-12)
    assert av.k_of_n(0, n, a) == 1.0


@settings(max_examples=100, deadline=None)
@given(prob, st.integers(min_value=2, max_value=8))
def test_k_of_n_falls_as_k_grows(a, n):
    values = [av.k_of_n(k, n, a) for k in range(1, n + 1)]
    assert all(x >= y - 1e-12 for x, y in itertools.pairwise(values))


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=1e-3, max_value=1e6),
    st.floats(min_value=0.0, max_value=1e4),
    st.floats(min_value=0.0, max_value=60.0),
)
def test_redundant_is_k_of_n_minus_failover(mtbf, mttr, failover):
    a = av.from_mtbf(mtbf, mttr)
    assert av.redundant(mtbf, mttr, 3, 2) == pytest.approx(av.k_of_n(2, 3, a), abs=1e-12)
    assert 0.0 <= av.redundant(mtbf, mttr, 3, 2, failover) <= av.k_of_n(2, 3, a) + 1e-12


@settings(max_examples=100, deadline=None)
@given(prob, st.sampled_from(list(av.PERIOD_HOURS)))
def test_downtime_scales_with_period(a, period):
    hours = av.downtime(a, period).total_seconds() / 3600
    assert hours == pytest.approx((1 - a) * av.PERIOD_HOURS[period], abs=1e-6)


def test_sla_month_is_thirty_days_not_the_billing_month():
    # SRE book Table A-1 counts a month as 30 days (99.9% -> 43.2 minutes a month); the
    # providers' pricing calculators bill a 730-hour month (cost.BILLING_MONTH_HOURS).
    assert av.SLA_MONTH_HOURS == 720.0
    assert av.PERIOD_HOURS["month"] == av.SLA_MONTH_HOURS
    assert av.downtime_minutes(0.999) == pytest.approx(43.2)


def test_closed_forms_do_not_import_the_simulation():
    code = (
        "import sys, cloudpad.models.availability; "
        "sys.exit('cloudpad.models.availability_simulation' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_availability_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="availability must be"):
        av.downtime(bad)
    with pytest.raises(ValueError, match="serial argument 2 must be"):
        av.serial(0.9, bad)
    with pytest.raises(ValueError, match="parallel argument 1 must be"):
        av.parallel(bad)
    with pytest.raises(ValueError, match="slo must be"):
        av.error_budget(bad, 100)
    with pytest.raises(ValueError, match="at least one availability"):
        av.serial()


def test_k_greater_than_n_is_refused():
    with pytest.raises(ValueError, match=r"k must be a whole number <= n = 3, got 4"):
        av.k_of_n(4, 3, 0.9)
    with pytest.raises(ValueError, match=r"required must be a whole number <= replicas = 2"):
        av.redundant(100.0, 1.0, 2, 3)
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        av.k_of_n(1, 0, 0.9)


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match=r"period must be one of 'year', 'quarter'.*got 'decade'"):
        av.downtime(0.999, "decade")


def test_negative_hours_are_refused():
    with pytest.raises(ValueError, match=r"mttr_hours must be a finite number >= 0, got -1.0"):
        av.from_mtbf(100.0, -1.0)
    with pytest.raises(ValueError, match=r"mtbf_hours must be a finite number > 0, got 0.0"):
        av.from_mtbf(0.0, 1.0)
    with pytest.raises(ValueError, match="requests must be a finite number >= 0"):
        av.error_budget(0.99, -5)
    with pytest.raises(ValueError, match="failover_minutes must be a finite number >= 0"):
        av.redundant(100.0, 1.0, 2, 1, failover_minutes=-1.0)


# --------------------------------------------------------------------------- compositions


def test_combined_failures_is_the_product_of_availabilities():
    mtbf, mttr = av.combined_failures([200.0, 1000.0], [5.0, 10.0])
    assert mtbf == pytest.approx(1 / (1 / 200 + 1 / 1000))
    assert av.from_mtbf(mtbf, mttr) == pytest.approx(
        av.from_mtbf(200.0, 5.0) * av.from_mtbf(1000.0, 10.0)
    )
    with pytest.raises(ValueError, match="equal length"):
        av.combined_failures([1.0], [])


def test_one_region_closed_is_replica_and_zone_in_parallel_times_region():
    inst, zone, region, shared = (300.0, 2.0), (2000.0, 6.0), (5000.0, 8.0), (20000.0, 3.0)
    # no failover: n copies of (instance x zone) in parallel, in series with region and shared
    a = av.from_mtbf(*inst) * av.from_mtbf(*zone)
    expected = av.parallel(a, a) * av.from_mtbf(*region) * av.from_mtbf(*shared)
    assert av.one_region_closed(2, inst, zone, region, shared=shared) == pytest.approx(expected)
    slower = av.one_region_closed(2, inst, zone, region, shared=shared, failover_minutes=5.0)
    assert slower < expected


def test_multi_region_closed_formula_and_vectorised_failover():
    mtbf, mttr, loss = 4000.0, 5.0, 1e-5
    minutes = np.array([0.0, 15.0, 60.0])
    got = av.multi_region_closed(mtbf, mttr, failover_minutes=minutes, regional_failover_loss=loss)
    expected = [av.redundant(mtbf, mttr, 2, 1, m) - loss for m in minutes]
    np.testing.assert_allclose(got, expected)
    assert np.all(np.diff(got) < 0)  # slower failover, lower availability
    capped = av.multi_region_closed(mtbf, mttr, failover_minutes=0.0, shared=(20000.0, 3.0))
    assert capped == pytest.approx(av.parallel(*[av.from_mtbf(mtbf, mttr)] * 2) * (20000 / 20003))
    # Azure Architecture Center, "SLAs for multiregion deployments": two regions of 99.95%
    # in parallel give 99.999975% (no failover time, no shared failure).
    two = av.multi_region_closed(9995.0, 5.0)
    assert two == pytest.approx(0.99999975, abs=1e-12)


def test_cost_per_nine():
    # 99% for 100 USD, 99.9% for 300, 99.99% for 600: 200 USD and 300 USD per added nine.
    per = av.cost_per_nine([0.99, 0.999, 0.9999], [100.0, 300.0, 600.0])
    assert np.isnan(per[0])
    np.testing.assert_allclose(per[1:], [200.0, 300.0])
    assert np.isnan(av.cost_per_nine([0.999, 0.99], [100.0, 200.0])[1])  # no nine bought
    with pytest.raises(ValueError, match="equal length"):
        av.cost_per_nine([0.9, 0.99], [1.0])


def test_summary_table():
    table = av.summary({"three nines": 0.999, "four nines": 0.9999}, requests_per_sla_month=2.5e6)
    assert list(table.index) == ["three nines", "four nines"]
    # SRE book Table A-1: 43.2 and 4.32 minutes a month
    np.testing.assert_allclose(table["downtime (min per 30-day month)"], [43.2, 4.32])
    np.testing.assert_allclose(table["nines"], [3.0, 4.0])
    np.testing.assert_allclose(table["error budget (requests per 30-day month)"], [2500.0, 250.0])
    with pytest.raises(ValueError, match="availabilities must be within"):
        av.summary({"bad": 1.2})
