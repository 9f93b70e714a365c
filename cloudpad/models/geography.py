"""Distances on the Earth and the speed-of-light floor of a round trip through fibre.

Conventions: latitudes and longitudes in decimal degrees (WGS 84 coordinates
treated as points on a sphere), distances in km, times in ms.

Sources:

- Haversine great-circle distance on a sphere: R. W. Sinnott, "Virtues of the
  Haversine", *Sky and Telescope* 68(2), 159 (1984); the same formula and
  worked LAX-JFK example are in Ed Williams' *Aviation Formulary* (section
  "Distance between points").  A sphere of radius 6371.0 km (the mean radius)
  is within about 0.5 % of the geodesic on the WGS 84 ellipsoid.
- Speed of light in vacuum ``c = 299 792 458 m/s`` exactly, by definition of
  the metre (BIPM, *The International System of Units*, 9th edition, 2019).
- Group index of standard single-mode fibre: about 1.468 (Corning SMF-28 family:
  1.4682 at 1550 nm), which gives about 4.9 microseconds per km one way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

__all__ = [
    "EARTH_RADIUS_KM",
    "FIBER_GROUP_INDEX",
    "SPEED_OF_LIGHT_KM_PER_S",
    "distance_matrix_km",
    "fiber_rtt_ms",
    "great_circle_km",
    "stretch",
]

#: Speed of light in vacuum, km/s (exact; SI definition of the metre).
SPEED_OF_LIGHT_KM_PER_S: float = 299_792.458
#: Mean Earth radius used for great-circle distances, km.
EARTH_RADIUS_KM: float = 6371.0
#: Default group index of single-mode fibre (Corning SMF-28: 1.4682 at 1550 nm).
FIBER_GROUP_INDEX: float = 1.468


def great_circle_km(
    lat1: ArrayLike,
    lon1: ArrayLike,
    lat2: ArrayLike,
    lon2: ArrayLike,
    radius_km: float = EARTH_RADIUS_KM,
) -> float | np.ndarray:
    """Great-circle distance in km between (lat1, lon1) and (lat2, lon2), in degrees.

    Haversine formula (Sinnott 1984; Williams, *Aviation Formulary*)::

        a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2)
        d = 2 R · asin(√a)

    with φ latitude and λ longitude in radians and ``R = radius_km``.  ``a`` is
    clipped to [0, 1] so that rounding never makes antipodal points fail.
    Arrays broadcast against each other (NumPy rules); scalars in give a float.
    Latitudes must lie in [-90, 90] and longitudes in [-180, 180] degrees.
    The sphere is within about 0.5 % of the WGS 84 geodesic distance.  Next
    to the antipode the haversine is ill-conditioned (asin near 1); the
    rounding error there is of order ``R·√ε``, under a metre on the Earth.
    """
    phi1 = np.radians(checks.in_range("lat1", lat1, -90.0, 90.0))
    phi2 = np.radians(checks.in_range("lat2", lat2, -90.0, 90.0))
    lam1 = np.radians(checks.in_range("lon1", lon1, -180.0, 180.0))
    lam2 = np.radians(checks.in_range("lon2", lon2, -180.0, 180.0))
    radius = checks.positive("radius_km", radius_km)
    a = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    d = 2.0 * radius * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return numeric.scalar_or_array(d)


def fiber_rtt_ms(
    distance_km: ArrayLike, refractive_index: float = FIBER_GROUP_INDEX
) -> float | np.ndarray:
    """Round-trip time in ms for light through ``distance_km`` of fibre and back.

    Formula: ``rtt = 2 · distance_km · n / c · 1000`` with ``c = 299 792.458 km/s``
    (exact, SI) and ``n`` the fibre's group index (default 1.468; Corning
    SMF-28: 1.4682 at 1550 nm).  At n = 1.468 light takes about 4.90 µs per km
    one way, so 1,000 km of fibre costs about 9.8 ms of round trip.  This is
    the physical floor: no routing, queueing, equipment or processing delay,
    and a path as straight as the distance given.
    """
    d = checks.non_negative("distance_km", distance_km)
    n = checks.in_range("refractive_index", refractive_index, 1.0, 4.0)
    return numeric.scalar_or_array(np.asarray(2.0 * d * n / SPEED_OF_LIGHT_KM_PER_S * 1000.0))


def distance_matrix_km(
    lat_a: ArrayLike,
    lon_a: ArrayLike,
    lat_b: ArrayLike | None = None,
    lon_b: ArrayLike | None = None,
    radius_km: float = EARTH_RADIUS_KM,
) -> np.ndarray:
    """Matrix of great-circle distances in km, shape (len(a), len(b)).

    Entry ``[i, j]`` is :func:`great_circle_km` from point ``i`` of set *a* to
    point ``j`` of set *b*; without *b*, the pairwise matrix of *a* with itself
    (symmetric, zero diagonal).  Computed by broadcasting, no Python loop.
    """
    la = np.atleast_1d(np.asarray(lat_a, dtype=float))
    oa = np.atleast_1d(np.asarray(lon_a, dtype=float))
    if (lat_b is None) != (lon_b is None):
        raise InputError("lat_b and lon_b must be given together, got only one of them")
    lb = la if lat_b is None else np.atleast_1d(np.asarray(lat_b, dtype=float))
    ob = oa if lon_b is None else np.atleast_1d(np.asarray(lon_b, dtype=float))
    if la.shape != oa.shape or la.ndim != 1:
        raise InputError(
            f"lat_a and lon_a must be 1-D of the same length, got shapes {la.shape} and {oa.shape}"
        )
    if lb.shape != ob.shape or lb.ndim != 1:
        raise InputError(
            f"lat_b and lon_b must be 1-D of the same length, got shapes {lb.shape} and {ob.shape}"
        )
    return np.asarray(
        great_circle_km(la[:, None], oa[:, None], lb[None, :], ob[None, :], radius_km=radius_km)
    )


def stretch(
    measured_rtt_ms: ArrayLike,
    distance_km: ArrayLike,
    refractive_index: float = FIBER_GROUP_INDEX,
) -> float | np.ndarray:
    """Path stretch: measured round-trip time over the fibre floor of the same distance.

    Formula: ``measured_rtt_ms / fiber_rtt_ms(distance_km, refractive_index)``.
    1 means a straight fibre with no delay beyond propagation; real paths are
    longer than the great circle and add equipment and queueing delay, so the
    ratio is above 1 (the "latency inflation" of Singla et al., HotNets 2014,
    measured here against fibre rather than vacuum).  ``distance_km`` must be
    > 0 (the ratio is undefined at zero distance).
    """
    rtt = checks.non_negative("measured_rtt_ms", measured_rtt_ms)
    d = checks.positive("distance_km", distance_km)
    floor = np.asarray(fiber_rtt_ms(d, refractive_index))
    return numeric.scalar_or_array(np.asarray(rtt) / floor)
