"""Tests of cloudpad.placement: weighted percentiles, user latency, greedy and exhaustive."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cloudpad.exceptions import InputError
from cloudpad.models.geography import fiber_rtt_ms, great_circle_km
from cloudpad.models.placement import (
    estimate_stretch,
    evaluate,
    exhaustive_placement,
    footprint_monthly_usd,
    greedy_placement,
    greedy_table,
    pair_table,
    plan,
    served_latency_ms,
    share_within,
    stretch_model_error,
    user_rtt_matrix_ms,
    weighted_percentile,
)

# --- weighted percentile ----------------------------------------------------------------------


def test_weighted_percentile_by_hand():
    # Values 10, 20, 30, 40 with weights 1, 1, 1, 7 (total 10): cumulative shares are
    # 0.1, 0.2, 0.3, 1.0.  p10 -> 10, p20 -> 20, p25 -> 30, p30 -> 30, p31 -> 40, p50 -> 40.
    v = [40.0, 10.0, 30.0, 20.0]
    w = [7.0, 1.0, 1.0, 1.0]
    got = weighted_percentile(v, w, [10, 20, 25, 30, 31, 50, 100])
    np.testing.assert_array_equal(got, [10, 20, 30, 30, 40, 40, 40])
    assert weighted_percentile(v, w, 0) == 10.0
    # Unit weights: the textbook median of 1..4 under definition 1 of Hyndman and Fan (1996),
    # the inverse of the empirical CDF, is 2.
    assert weighted_percentile([4, 3, 2, 1], [1, 1, 1, 1], 50) == 2.0


def test_weighted_percentile_zero_weights_are_ignored():
    assert weighted_percentile([1.0, 100.0, 5.0], [1.0, 0.0, 1.0], 99) == 5.0


def test_weighted_percentile_rows_share_weights():
    values = np.array([[1.0, 2.0, 3.0], [30.0, 20.0, 10.0]])
    got = weighted_percentile(values, [0.0, 1.0, 3.0], 50)
    np.testing.assert_array_equal(got, [3.0, 10.0])
    got_axis0 = weighted_percentile(values.T, [0.0, 1.0, 3.0], 50, axis=0)
    np.testing.assert_array_equal(got_axis0, [3.0, 10.0])


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=30),
    st.data(),
    st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_integer_weights_equal_repeated_values(values, data, q):
    weights = data.draw(
        st.lists(st.integers(0, 5), min_size=len(values), max_size=len(values)).filter(
            lambda ws: sum(ws) > 0
        )
    )
    expected = np.percentile(np.repeat(values, weights), q, method="inverted_cdf")
    assert weighted_percentile(values, weights, q) == expected


# --- user latency model -----------------------------------------------------------------------


def test_user_rtt_matrix_is_floor_times_stretch_plus_access():
    users_lat, users_lon = [0.0, 10.0], [0.0, 20.0]
    reg_lat, reg_lon = [0.0, 0.0, 45.0], [0.0, 90.0, -30.0]
    floor = user_rtt_matrix_ms(users_lat, users_lon, reg_lat, reg_lon)
    assert floor.shape == (2, 3)
    assert floor[0, 0] == 0.0
    assert floor[1, 2] == pytest.approx(fiber_rtt_ms(great_circle_km(10.0, 20.0, 45.0, -30.0)))
    model = user_rtt_matrix_ms(
        users_lat, users_lon, reg_lat, reg_lon, stretch_factor=1.8, access_ms=5.0
    )
    np.testing.assert_allclose(model, 5.0 + 1.8 * floor)


def test_estimate_stretch_recovers_a_known_factor():
    km = np.array([200.0, 1500.0, 3000.0, 8000.0, 12000.0])
    measured = 2.0 * np.asarray(fiber_rtt_ms(km))
    measured[0] = 40.0  # a short, detoured pair that min_distance_km leaves out
    assert estimate_stretch(measured, km) == pytest.approx(2.0)
    assert estimate_stretch(measured, km, quantile=1.0, min_distance_km=0) == pytest.approx(
        40.0 / fiber_rtt_ms(200.0)
    )


# --- placement: hand-checkable case -----------------------------------------------------------

# Three user groups and four candidate regions.  Region 3 is mediocre for everyone, regions
# 0, 1, 2 are each excellent for one group and bad for the others.
LAT = np.array(
    [
        [10.0, 200.0, 200.0, 60.0],
        [200.0, 10.0, 200.0, 60.0],
        [200.0, 200.0, 10.0, 60.0],
    ]
)
W = np.array([5.0, 3.0, 2.0])


def test_served_latency_and_evaluate_by_hand():
    np.testing.assert_array_equal(served_latency_ms(LAT, [0, 3]), [10.0, 60.0, 60.0])
    p = evaluate(LAT, W, [0, 3], objective="mean")
    # mean = (5*10 + 3*60 + 2*60) / 10 = 35; shares 0.5 at 10 ms, 1.0 at 60 ms.
    assert p.mean_ms == pytest.approx(35.0)
    assert p.p50_ms == 10.0
    assert p.p95_ms == 60.0
    assert p.value_ms == pytest.approx(35.0)
    assert p.k == 2


def test_greedy_by_hand():
    steps = greedy_placement(LAT, W, 3, objective="mean")
    # k=1: region 3 gives mean 60, region 0 gives (50 + 600 + 400)/10 = 105 -> region 3.
    # k=2: add 0 -> (50 + 180 + 120)/10 = 35; add 1 -> (300 + 30 + 120)/10 = 45 -> region 0.
    # k=3: add 1 -> (50 + 30 + 120)/10 = 20.
    assert [s.regions for s in steps] == [(3,), (3, 0), (3, 0, 1)]
    assert [s.mean_ms for s in steps] == pytest.approx([60.0, 35.0, 20.0])


def test_greedy_is_not_optimal_but_exhaustive_is():
    # k = 2, mean latency of each pair: {0,1} 48, {0,2} 67, {0,3} 35, {1,2} 105, {1,3} 45,
    # {2,3} 50, so the best pair is {0, 3}, the one greedy found.
    # k = 3: {0, 1, 2} gives 10 ms to everyone, better than greedy's {3, 0, 1} at 20 ms.
    best = exhaustive_placement(LAT, W, 3, objective="mean")
    assert best.regions == (0, 1, 2)
    assert best.mean_ms == pytest.approx(10.0)
    assert greedy_placement(LAT, W, 3, objective="mean")[-1].mean_ms == pytest.approx(20.0)
    assert exhaustive_placement(LAT, W, 2, objective="mean").regions == (0, 3)


def test_greedy_start_and_percentile_objective():
    steps = greedy_placement(LAT, W, 3, objective="p95", start=[0])
    assert [s.k for s in steps] == [2, 3]
    assert steps[0].regions[0] == 0
    assert steps[-1].p95_ms <= steps[0].p95_ms


# --- placement: properties --------------------------------------------------------------------

matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 6)),
    elements=st.floats(min_value=0, max_value=300, allow_nan=False),
)
objectives = st.sampled_from(["mean", "p50", "p95", "p99"])


def _weights(data, n):
    return np.array(
        data.draw(
            st.lists(st.integers(0, 9), min_size=n, max_size=n).filter(lambda ws: sum(ws) > 0)
        ),
        dtype=float,
    )


@settings(max_examples=120, deadline=None, derandomize=True)
@given(matrices, objectives, st.data())
def test_greedy_never_worse_than_any_single_region(lat, objective, data):
    w = _weights(data, lat.shape[0])
    k = data.draw(st.integers(1, lat.shape[1]))
    steps = greedy_placement(lat, w, k, objective=objective)
    singles = [evaluate(lat, w, [r], objective).value_ms for r in range(lat.shape[1])]
    assert len(steps) == k
    assert steps[0].value_ms == pytest.approx(min(singles))
    for step in steps:
        assert step.value_ms <= min(singles) + 1e-9
    values = [s.value_ms for s in steps]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(values))


@settings(max_examples=120, deadline=None, derandomize=True)
@given(matrices, objectives, st.data())
def test_exhaustive_never_worse_than_greedy_and_is_the_minimum(lat, objective, data):
    w = _weights(data, lat.shape[0])
    k = data.draw(st.integers(1, lat.shape[1]))
    greedy = greedy_placement(lat, w, k, objective=objective)[-1]
    best = exhaustive_placement(lat, w, k, objective=objective, block=3)
    assert best.k == k
    assert best.value_ms <= greedy.value_ms + 1e-9
    brute = min(
        evaluate(lat, w, list(c), objective).value_ms
        for c in itertools.combinations(range(lat.shape[1]), k)
    )
    assert best.value_ms == pytest.approx(brute)


def test_placement_on_a_globe_picks_one_region_per_cluster():
    # Users in two clusters (around London and around Sydney); candidates in both places and in
    # the Indian Ocean.  The best two regions are one per cluster; greedy on p95 first takes the
    # compromise in the ocean (the best single region) and is stuck with it.
    users_lat = np.array([51.5, 51.0, 52.0, -33.9, -34.5])
    users_lon = np.array([-0.1, 0.5, -1.0, 151.2, 150.5])
    reg_lat = np.array([51.5, -33.9, -20.0])
    reg_lon = np.array([-0.1, 151.2, 80.0])
    lat = user_rtt_matrix_ms(users_lat, users_lon, reg_lat, reg_lon, stretch_factor=1.5)
    w = np.ones(5)
    best = exhaustive_placement(lat, w, 2, objective="p95")
    assert best.regions == (0, 1)
    greedy = greedy_placement(lat, w, 2, objective="p95")
    assert greedy[0].regions == (2,)
    assert best.p95_ms < greedy[-1].p95_ms


def test_footprint_cost():
    # 730 h a month: 3 instances at 0.10 USD/h = 219 USD a month per region, plus 100 fixed.
    assert footprint_monthly_usd(1, 0.10, 3) == pytest.approx(219.0)
    np.testing.assert_allclose(footprint_monthly_usd(np.array([1, 4]), 0.10, 3, 100.0), [319, 1276])


def test_greedy_table_by_hand():
    # Steps {0}, {0, 1}, {0, 1, 2}: served [10, 200, 200], [10, 10, 200], [10, 10, 10] ms with
    # weights 5, 3, 2.  p95: 200, 200 (cumulative share 0.8 < 0.95 at 10 ms), 10 ms.
    steps = [evaluate(LAT, W, regions) for regions in ([0], [0, 1], [0, 1, 2])]
    t = greedy_table(LAT, W, steps, threshold_ms=10.0, region_monthly_usd=100.0)
    assert list(t.index) == [1, 2, 3] and t.index.name == "regions"
    assert list(t.added) == [0, 1, 2]
    np.testing.assert_allclose(t.p50_ms, [10.0, 10.0, 10.0])
    np.testing.assert_allclose(t.p95_ms, [200.0, 200.0, 10.0])
    np.testing.assert_allclose(t.share_within, [0.5, 0.8, 1.0])
    np.testing.assert_allclose(t.monthly_usd, [100.0, 200.0, 300.0])
    # the objective is p95: the second region saves none of it (infinite cost per ms), the
    # third saves 190 ms
    np.testing.assert_allclose(t.objective_ms, t.p95_ms)
    assert np.isnan(t.usd_per_ms.iloc[0]) and np.isinf(t.usd_per_ms.iloc[1])
    assert t.usd_per_ms.iloc[2] == pytest.approx(100.0 / 190.0)


def test_greedy_table_prices_the_objective_it_was_given():
    # The same steps placed for the weighted mean: 105, 48 and 10 ms ((5 x 10 + 3 x 200 + 2 x 200)
    # / 10, then (50 + 30 + 400) / 10, then 10), so the second region buys 57 ms and the third 38
    # ms of the mean. The cost per ms is of the objective minimised, not of the p95 (which the
    # first edition used whatever the objective).
    steps = [evaluate(LAT, W, regions, "mean") for regions in ([0], [0, 1], [0, 1, 2])]
    t = greedy_table(LAT, W, steps, threshold_ms=10.0, region_monthly_usd=100.0)
    np.testing.assert_allclose(t.objective_ms, [105.0, 48.0, 10.0])
    np.testing.assert_allclose(t.usd_per_ms.iloc[1:], [100.0 / 57.0, 100.0 / 38.0])
    np.testing.assert_allclose(t.p95_ms, [200.0, 200.0, 10.0])  # still shown alongside


def test_stretch_model_error_by_hand():
    # factor 2 on floors of 10 and 30 ms against measured 25 and 50 ms: -20 % and +20 %.
    np.testing.assert_allclose(stretch_model_error([25.0, 50.0], [10.0, 30.0], 2.0), [-0.2, 0.2])
    assert stretch_model_error(20.0, 10.0, 2.0) == 0.0
    with pytest.raises(ValueError, match="measured_rtt_ms and floor_ms must have the same shape"):
        stretch_model_error([1.0, 2.0], [1.0], 1.5)


def test_share_within_by_hand():
    # Served 10, 60, 60 ms with weights 5, 3, 2: half the users are within 10 ms, all within 60.
    assert share_within([10.0, 60.0, 60.0], W, 10.0) == pytest.approx(0.5)
    assert share_within([10.0, 60.0, 60.0], W, 59.9) == pytest.approx(0.5)
    assert share_within([10.0, 60.0, 60.0], W, 60.0) == pytest.approx(1.0)
    assert share_within([10.0, 60.0, 60.0], W, 5.0) == 0.0


def test_pair_table_joins_and_keeps_directions():
    regions = pd.DataFrame(
        {
            "display_name": ["A", "B", "C"],
            "latitude": [0.0, 0.0, 0.0],
            "longitude": [0.0, 90.0, 0.0],
        }
    )
    rtt = pd.DataFrame(
        {
            "source_region": ["A", "B", "A"],
            "destination_region": ["B", "A", "C"],
            "rtt_p95_ms": [150.0, 160.0, 3.0],
        }
    )
    t = pair_table(regions, rtt)
    quarter = np.pi * 6371.0 / 2
    np.testing.assert_allclose(t["distance_km"], [quarter, quarter, 0.0])
    floor = fiber_rtt_ms(quarter)
    np.testing.assert_allclose(t["stretch"][:2], [150.0 / floor, 160.0 / floor])
    assert np.isnan(t["stretch"][2])
    with pytest.raises(ValueError, match=r"regions must give coordinates .* got none for \['D'\]"):
        pair_table(regions, pd.concat([rtt, rtt.assign(destination_region="D")]))


# --- errors -----------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(ValueError, match=r"objective must be one of 'mean', 'p50'"):
        greedy_placement(LAT, W, 2, objective="p42")
    with pytest.raises(
        ValueError, match=r"k must be at most the number of candidate regions \(4\)"
    ):
        greedy_placement(LAT, W, 5)
    with pytest.raises(ValueError, match=r"k must be a whole number >= 1, got 0"):
        exhaustive_placement(LAT, W, 0)
    with pytest.raises(ValueError, match=r"k must keep C\(4, k\) within max_combinations=3"):
        exhaustive_placement(LAT, W, 2, max_combinations=3)
    with pytest.raises(ValueError, match=r"weights must have one weight per user \(3\)"):
        greedy_placement(LAT, [1.0, 2.0], 1)
    with pytest.raises(ValueError, match=r"weights must have a positive sum"):
        exhaustive_placement(LAT, [0.0, 0.0, 0.0], 1)
    with pytest.raises(
        ValueError, match=r"weights must be a finite number >= 0, got an array containing \[-1.0\]"
    ):
        evaluate(LAT, [1.0, -1.0, 1.0], [0])
    with pytest.raises(ValueError, match=r"latency_ms must be a number, got NaN"):
        evaluate(np.array([[np.nan]]), [1.0], [0])
    with pytest.raises(ValueError, match=r"latency_ms must be a 2-D matrix"):
        greedy_placement([1.0, 2.0], [1.0, 1.0], 1)
    with pytest.raises(ValueError, match=r"chosen must be region indices in \[0, 3\], got \[4\]"):
        evaluate(LAT, W, [4])
    with pytest.raises(ValueError, match=r"chosen must name at least one region"):
        served_latency_ms(LAT, [])
    with pytest.raises(ValueError, match=r"start must not repeat a region"):
        greedy_placement(LAT, W, 3, start=[1, 1])
    with pytest.raises(ValueError, match=r"k must exceed the number of start regions \(2\)"):
        greedy_placement(LAT, W, 2, start=[0, 1])
    with pytest.raises(ValueError, match=r"q must be within \[0.0, 100.0\], got 101"):
        weighted_percentile([1.0], [1.0], 101)
    with pytest.raises(ValueError, match=r"weights must be 1-D with one weight per value \(2\)"):
        weighted_percentile([1.0, 2.0], [1.0], 50)
    with pytest.raises(ValueError, match=r"values must be a non-empty array"):
        weighted_percentile([], [], 50)
    with pytest.raises(ValueError, match=r"stretch_factor must be a finite number >= 1, got 0.9"):
        user_rtt_matrix_ms([0], [0], [0], [0], stretch_factor=0.9)
    with pytest.raises(ValueError, match=r"access_ms must be a finite number >= 0"):
        user_rtt_matrix_ms([0], [0], [0], [0], access_ms=-1)
    with pytest.raises(ValueError, match=r"quantile must be within \[0, 1\], got 1.5"):
        estimate_stretch([10.0], [2000.0], quantile=1.5)
    with pytest.raises(ValueError, match=r"min_distance_km must leave at least one pair"):
        estimate_stretch([10.0], [500.0], min_distance_km=1000)
    with pytest.raises(
        ValueError, match=r"measured_rtt_ms and distance_km must have the same shape"
    ):
        estimate_stretch([10.0, 20.0], [500.0])
    with pytest.raises(ValueError, match=r"threshold_ms must be a finite number >= 0"):
        share_within([1.0], [1.0], -5)
    with pytest.raises(ValueError, match=r"weights must have one weight per user \(2\)"):
        share_within([1.0, 2.0], [1.0], 5)
    with pytest.raises(ValueError, match=r"regions must be a finite number >= 0, got -1"):
        footprint_monthly_usd(-1, 0.1, 3)


def test_plan_gathers_the_placements_the_article_reports():
    # Users weighted 5, 3, 2 (LAT above); regions 0-2 each 10 ms from one user, region 3 60 ms
    # from all. Greedy for the p95 starts with the compromise, region 3 (p95 60 ms), then adds
    # region 0 (the first with the lowest p95 and mean). The best pair by search is the same p95.
    result = plan(
        LAT,
        W,
        objective="p95",
        max_regions=3,
        exhaustive_max_k=2,
        target_rtt_ms=60.0,
        region_monthly_usd=100.0,
    )
    assert [p.regions for p in result.greedy] == [
        p.regions for p in greedy_placement(LAT, W, 3, "p95")
    ]
    assert [p.regions for p in result.exhaustive] == [
        exhaustive_placement(LAT, W, k, "p95").regions for k in (1, 2)
    ]
    assert result.everywhere.p95_ms == 10.0
    names = ["A", "B", "C", "D"]
    keys = result.key_results(names)
    assert keys["best_single_region"] == "D" and keys["one_region_p95_ms"] == 60.0
    assert keys["regions_for_target"] == "1 regions"  # region D alone is within 60 ms
    assert keys["max_regions_monthly_usd"] == 300.0 and keys["candidate_regions"] == 4
    assert keys["exhaustive_objective_ms"] == keys["exhaustive_p95_ms"]
    # A target no set reaches is said so, not hidden.
    far = plan(
        LAT,
        W,
        objective="p95",
        max_regions=2,
        exhaustive_max_k=1,
        target_rtt_ms=5.0,
        region_monthly_usd=1.0,
    )
    assert far.key_results(names)["regions_for_target"] == (
        "more regions than this provider has in the data"
    )


def test_plan_refuses_more_regions_than_candidates():
    # The candidates are known only once the data is read (and regions excluded), so the check
    # that the article's max_regions fits is made here, naming the parameter.
    with pytest.raises(InputError, match="max_regions = 5 exceeds the 4 candidate regions"):
        plan(
            LAT,
            W,
            objective="p95",
            max_regions=5,
            exhaustive_max_k=1,
            target_rtt_ms=50.0,
            region_monthly_usd=1.0,
        )
