"""Tests of cloudpad.geography: great-circle distances, the fibre floor, stretch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.models.geography import (
    distance_matrix_km,
    fiber_rtt_ms,
    great_circle_km,
    stretch,
)

lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.tuples(lats, lons)

# --- published values -------------------------------------------------------------------------


def test_aviation_formulary_lax_jfk_central_angle():
    # Ed Williams, "Aviation Formulary" V1.46, section "Worked examples": LAX (33°57'N, 118°24'W)
    # to JFK (40°38'N, 73°47'W) is d = 0.623585 radians = 2144 nm (1 nm = 1 arc-minute).
    # Mirror read: wohenbushuang/Ed-Williams-Aviation-page, avform.md, worked example.
    lax = (33 + 57 / 60, -(118 + 24 / 60))
    jfk = (40 + 38 / 60, -(73 + 47 / 60))
    angle = great_circle_km(*lax, *jfk, radius_km=1.0)
    assert angle == pytest.approx(0.623585, abs=1e-6)
    nm = great_circle_km(*lax, *jfk, radius_km=180 * 60 / math.pi)
    assert round(nm) == 2144


def test_rosetta_code_bna_lax():
    # Rosetta Code, task "Haversine formula" (https://rosettacode.org/wiki/Haversine_formula):
    # Nashville BNA (36.12, -86.67) to Los Angeles LAX (33.94, -118.40).  The task text (note by
    # user Kaimbridge) gives 6371.0 km -> 2886.44444283798... km and 6372.8 km -> 2887.25995060711
    # km; the task's solutions print 2887.2599506071106 km for R = 6372.8 km.
    assert great_circle_km(36.12, -86.67, 33.94, -118.40) == pytest.approx(2886.444442837983, 1e-9)
    d = great_circle_km(36.12, -86.67, 33.94, -118.40, radius_km=6372.8)
    assert d == pytest.approx(2887.2599506071106, rel=1e-9)


def test_sphere_within_half_percent_of_ellipsoid_lax_jfk():
    # sbooth/geodesic README (Karney's algorithm on WGS 84): LAX (33.9424964, -118.4080486) to
    # JFK (40.6399278, -73.7786925) is approx. 3,982,961 m.  Great Circle Mapper FAQ
    # (gcmap.com/faq/gccalc) gives LAX-JFK 2151 nm on WGS 84.  A sphere of radius 6371 km is
    # good to about 0.5 %, the tolerance used here.
    d = great_circle_km(33.9424964, -118.4080486, 40.6399278, -73.7786925)
    assert d == pytest.approx(3982.961, rel=0.005)
    assert d == pytest.approx(2151 * 1.852, rel=0.005)


def test_speed_of_light_in_fibre_is_about_4_9_microseconds_per_km():
    # c = 299 792 458 m/s exactly (BIPM, SI Brochure, 9th ed., 2019, section 2.3.1).
    # Corning SMF-28 group index 1.4682 at 1550 nm (quoted by ephotonics' fibre latency
    # calculator); mapyourtech "The 5-microsecond rule" gives 4.897 µs/km at 1550 nm and
    # "1,000 km of fiber adds roughly 10 ms of round-trip delay".
    one_way_us_per_km = fiber_rtt_ms(1000.0, refractive_index=1.4682) / 2 / 1000 * 1000
    assert one_way_us_per_km == pytest.approx(4.897, abs=0.001)
    assert 4.85 <= fiber_rtt_ms(1.0) / 2 * 1000 <= 5.0
    assert fiber_rtt_ms(1000.0) == pytest.approx(10.0, rel=0.03)


def test_fiber_rtt_in_vacuum_is_distance_over_c():
    # Light crosses 299 792.458 km of vacuum in exactly one second (SI definition of the metre).
    assert fiber_rtt_ms(299_792.458, refractive_index=1.0) == pytest.approx(2000.0, rel=1e-12)


def test_quarter_and_half_circumference():
    r = 6371.0
    assert great_circle_km(0, 0, 0, 90) == pytest.approx(math.pi * r / 2, rel=1e-12)
    assert great_circle_km(90, 0, -90, 0) == pytest.approx(math.pi * r, rel=1e-12)
    assert great_circle_km(0, -180, 0, 180) == pytest.approx(0.0, abs=1e-6)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True)
@given(points, points)
def test_symmetric_and_bounded(a, b):
    d_ab = great_circle_km(*a, *b)
    d_ba = great_circle_km(*b, *a)
    assert d_ab == pytest.approx(d_ba, abs=1e-6)
    assert 0.0 <= d_ab <= math.pi * 6371.0 + 1e-6


@settings(max_examples=200, deadline=None, derandomize=True)
@given(points, points, points)
def test_triangle_inequality(a, b, c):
    assert great_circle_km(*a, *c) <= great_circle_km(*a, *b) + great_circle_km(*b, *c) + 1e-6


@settings(max_examples=200, deadline=None, derandomize=True)
@given(lats, st.floats(min_value=-180, max_value=0, allow_nan=False))
def test_antipodes_are_half_a_circumference_apart(lat, lon):
    # The haversine loses precision next to the antipode (asin near 1): the error is of order
    # R * sqrt(machine epsilon), well under a metre, so 1 m is the tolerance.
    d = great_circle_km(lat, lon, -lat, lon + 180.0)
    assert d == pytest.approx(math.pi * 6371.0, abs=1e-3)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(points, min_size=1, max_size=8))
def test_distance_matrix_symmetric_zero_diagonal_matches_pairs(pts):
    lat = np.array([p[0] for p in pts])
    lon = np.array([p[1] for p in pts])
    m = distance_matrix_km(lat, lon)
    assert m.shape == (len(pts), len(pts))
    np.testing.assert_allclose(np.diag(m), 0.0, atol=1e-6)
    np.testing.assert_allclose(m, m.T, atol=1e-6)
    i, j = len(pts) - 1, 0
    assert m[i, j] == pytest.approx(great_circle_km(lat[i], lon[i], lat[j], lon[j]), abs=1e-9)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.floats(min_value=0, max_value=20_000, allow_nan=False),
    st.floats(min_value=0, max_value=20_000, allow_nan=False),
)
def test_fiber_rtt_linear_in_distance(d1, d2):
    assert fiber_rtt_ms(d1 + d2) == pytest.approx(fiber_rtt_ms(d1) + fiber_rtt_ms(d2), abs=1e-9)


# --- vectorisation ----------------------------------------------------------------------------


def test_broadcasting_and_types():
    d = great_circle_km(0.0, 0.0, np.array([0.0, 0.0]), np.array([90.0, 180.0]))
    assert isinstance(d, np.ndarray) and d.shape == (2,)
    assert isinstance(great_circle_km(0, 0, 1, 1), float)
    assert isinstance(fiber_rtt_ms(100), float)
    grid = great_circle_km(np.zeros((3, 1)), 0.0, 0.0, np.array([0.0, 10.0, 20.0, 30.0]))
    assert grid.shape == (3, 4)
    m = distance_matrix_km([0, 10], [0, 0], [0, 0, 0], [0, 1, 2])
    assert m.shape == (2, 3)


def test_stretch_of_the_floor_is_one_and_scales():
    assert stretch(fiber_rtt_ms(1234.5), 1234.5) == pytest.approx(1.0, rel=1e-12)
    s = stretch(np.array([20.0, 40.0]), np.array([1000.0, 1000.0]))
    assert s[1] == pytest.approx(2 * s[0])
    assert s[0] == pytest.approx(20.0 / (2 * 1000 * 1.468 / 299_792.458 * 1000))


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(lat1=91, lon1=0, lat2=0, lon2=0), r"lat1 must be within \[-90.0, 90.0\], got 91"),
        (dict(lat1=0, lon1=0, lat2=-90.5, lon2=0), r"lat2 must be within"),
        (dict(lat1=0, lon1=181, lat2=0, lon2=0), r"lon1 must be within \[-180.0, 180.0\]"),
        (dict(lat1=0, lon1=0, lat2=0, lon2=float("nan")), r"lon2 must be a number, got NaN"),
        (
            dict(lat1=0, lon1=0, lat2=0, lon2=0, radius_km=0),
            r"radius_km must be a finite number > 0",
        ),
        (dict(lat1="north", lon1=0, lat2=0, lon2=0), r"lat1 must be a number"),
    ],
)
def test_great_circle_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        great_circle_km(**kwargs)


def test_fiber_and_stretch_errors():
    with pytest.raises(ValueError, match=r"distance_km must be a finite number >= 0, got -1"):
        fiber_rtt_ms(-1.0)
    with pytest.raises(ValueError, match=r"refractive_index must be within \[1.0, 4.0\], got 0.5"):
        fiber_rtt_ms(10.0, refractive_index=0.5)
    with pytest.raises(ValueError, match=r"distance_km must be a finite number > 0, got 0"):
        stretch(10.0, 0.0)
    with pytest.raises(ValueError, match=r"measured_rtt_ms must be a finite number >= 0"):
        stretch(-3.0, 100.0)
    with pytest.raises(ValueError, match=r"lat_b and lon_b must be given together"):
        distance_matrix_km([0], [0], [1])
    with pytest.raises(ValueError, match=r"lat_a and lon_a must be 1-D of the same length"):
        distance_matrix_km([0, 1], [0])
