"""Tests of cloudpad.models.headroom: replicas per zone for a lost zone and a surge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudpad.models import headroom


def test_worked_example_of_the_docstring():
    # 6 replicas, 20 % surge, 3 zones, one lost: 7.2 needed on 2 zones, so 4 a zone, 12 in all;
    # after the loss 8 are left for the 7.2 needed.
    assert headroom.replicas_per_zone(6, 3, 0.2) == 4
    assert headroom.total(6 * 1.2, 3) == 12
    assert headroom.left_after_zone_loss(12, 3) == 8
    # No surge: 2 replicas in 3 zones need 1 a zone; one zone: nothing to lose but the surge.
    assert headroom.replicas_per_zone(2, 3, 0.0) == 1
    assert headroom.replicas_per_zone(3, 1, 0.0, zones_lost=0) == 3
    # A multiple stays a multiple: 6 needed on 2 zones is 3 a zone, not 4.
    assert headroom.per_zone(6.0, 3) == 3


def test_uneven_fleet_loses_its_fullest_zone():
    # 17 replicas spread with a skew of one are 6, 6 and 5: losing a 6 leaves 11.
    assert headroom.left_after_zone_loss(17, 3) == 11
    assert headroom.left_after_zone_loss(np.array([17, 18, 2]), 3).tolist() == [11, 12, 1]
    assert headroom.left_after_zone_loss(19, 4, zones_lost=2) == 9  # 5, 5, 5, 4


@given(
    needed=st.floats(0, 500, allow_nan=False),
    zones=st.integers(2, 8),
    lost=st.integers(1, 3),
)
def test_per_zone_is_the_least_that_survives(needed, zones, lost):
    if lost >= zones:
        return
    k = headroom.per_zone(needed, zones, lost)
    assert (zones - lost) * k >= needed - 1e-6
    assert k == 0 or (zones - lost) * (k - 1) < needed
    # The fleet of Z k, evenly spread, keeps what is needed after losing its fullest zones.
    assert headroom.left_after_zone_loss(headroom.total(needed, zones, lost), zones, lost) >= (
        needed - 1e-6
    )


def test_surge_load():
    assert headroom.surge_load(1200.0, 0.2) == pytest.approx(1440.0)
    assert headroom.surge_load(np.array([1.0, 2.0]), 0.0).tolist() == [1.0, 2.0]


def test_refuses_what_cannot_survive_a_zone_loss():
    with pytest.raises(ValueError, match=r"zones_lost must be below zones \(1\).*zones_lost=0"):
        headroom.per_zone(3, 1)
    with pytest.raises(ValueError, match="zones must be a whole number >= 1"):
        headroom.total(3, 0)
    with pytest.raises(ValueError, match="surge must be a finite number >= 0"):
        headroom.surge_load(10, -0.1)
    with pytest.raises(ValueError, match="replicas must be a whole number >= 1"):
        headroom.replicas_per_zone(0, 3, 0.2)
    with pytest.raises(ValueError, match="replicas must be whole numbers"):
        headroom.left_after_zone_loss(2.5, 3)
