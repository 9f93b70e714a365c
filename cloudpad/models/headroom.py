"""Headroom: the capacity a replicated service keeps for a lost zone and a surge of traffic.

A service whose replicas are spread evenly over ``Z`` zones (one VM group per zone, or a
Kubernetes topology spread constraint on ``topology.kubernetes.io/zone`` with ``maxSkew: 1``,
which keeps the zones' counts within one of each other) loses the replicas of one zone when the
zone fails.  Sized for that failure ("N+1 zones"), the ``Z - L`` zones left after losing ``L``
must still carry the design load, the peak times ``1 + s`` for a surge ``s`` the service must
absorb before anything scales:

    k = ceil(n / (Z - L)) replicas per zone, Z k in all,

where ``n`` is what the design load needs (replicas, or any unit of capacity that adds up:
vCPUs, pods).  With replicas that each serve a fixed rate, ``n = r (1 + s)`` for the ``r``
replicas of the peak (:func:`replicas_per_zone`); a queue whose waiting time depends on the pool
size needs ``n`` from its own model at the surge's rate (e.g.
``cloudpad.models.queueing.replicas_for(peak * (1 + s), ...)``, :func:`surge_load`).  The
converse, :func:`left_after_zone_loss`, is what an evenly spread fleet of ``R`` keeps when the
fullest zones fail: ``R - L ceil(R / Z)``.

Sources: Kubernetes documentation, "Pod Topology Spread Constraints" (``maxSkew`` is the
largest permitted difference between the number of matching pods in any two domains); Google
Cloud, "Regional clusters" (a regional node pool has the same number of nodes in each zone).
The combination of a lost zone and a surge at the same time is this book's design rule, the
stricter of the two; a surge absorbed by autoscaling needs no standing headroom (``s = 0``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

__all__ = ["left_after_zone_loss", "per_zone", "replicas_per_zone", "surge_load", "total"]

#: Slack for floating-point error in ``n / (Z - L)`` before rounding up (6 / 2 * 1.0 stays 3).
_EPS = 1e-9


def _zones(zones: int, zones_lost: int) -> tuple[int, int]:
    z = checks.whole("zones", zones, minimum=1)
    lost = checks.whole("zones_lost", zones_lost, minimum=0)
    if lost >= z:
        raise InputError(
            f"zones_lost must be below zones ({z}) so that a zone is left to serve, got {lost}; "
            "with one zone no zone loss can be survived: pass zones_lost=0"
        )
    return z, lost


def surge_load(peak: ArrayLike, surge: float) -> float | np.ndarray:
    """The design load ``peak * (1 + surge)``, in the unit of ``peak`` (requests/s, replicas).

    ``surge`` is the fraction of traffic above the peak that the capacity standing by must
    carry (0.2: 20 % more than the peak), >= 0.
    """
    p = np.asarray(checks.non_negative("peak", peak), dtype=float)
    s = float(checks.non_negative("surge", surge))
    return numeric.scalar_or_array(p * (1.0 + s))


def per_zone(needed: ArrayLike, zones: int, zones_lost: int = 1) -> int | np.ndarray:
    """Replicas (or capacity units) per zone so that ``zones - zones_lost`` zones hold ``needed``.

    Formula: ``k = ceil(needed / (Z - L))``; ``needed`` >= 0 may be fractional (``r (1 + s)``),
    ``zones`` = Z >= 1, ``zones_lost`` = L in ``0 .. Z - 1`` (refused otherwise).  Vectorised over
    ``needed``.  Example: 6 replicas with a 20 % surge in 3 zones, one lost: ``ceil(7.2 / 2) = 4``
    a zone, 12 in all, of which the 8 left after a zone loss carry the 7.2 needed.
    """
    n = np.asarray(checks.non_negative("needed", needed), dtype=float)
    z, lost = _zones(zones, zones_lost)
    k = np.ceil(n / (z - lost) - _EPS).astype(np.int64)
    return int(k) if k.ndim == 0 else k


def total(needed: ArrayLike, zones: int, zones_lost: int = 1) -> int | np.ndarray:
    """Replicas of the whole fleet: ``zones * per_zone(needed, zones, zones_lost)``."""
    k = np.asarray(per_zone(needed, zones, zones_lost))
    out = checks.whole("zones", zones, minimum=1) * k
    return int(out) if out.ndim == 0 else out


def replicas_per_zone(
    replicas: ArrayLike, zones: int, surge: float, zones_lost: int = 1
) -> int | np.ndarray:
    """Per zone, for ``replicas`` that each serve a fixed rate: ``per_zone(r (1 + s), Z, L)``.

    ``replicas`` (whole, >= 1) is what the peak needs with every zone up; ``surge`` >= 0.
    Example: 6 replicas, 3 zones, a 20 % surge: 4 per zone.
    """
    r = np.asarray(replicas)
    if r.ndim == 0:
        checks.whole("replicas", r.item(), minimum=1)
    elif r.size and (np.any(r != np.round(r)) or np.any(r < 1)):
        raise InputError(f"replicas must be whole numbers >= 1, got {r.tolist()[:5]}")
    return per_zone(surge_load(r, surge), zones, zones_lost)


def left_after_zone_loss(replicas: ArrayLike, zones: int, zones_lost: int = 1) -> int | np.ndarray:
    """Replicas an evenly spread fleet keeps when its ``zones_lost`` fullest zones fail.

    Spread with a skew of at most one, ``R`` replicas put ``ceil(R / Z)`` in the fullest zones,
    so ``R - L ceil(R / Z)`` are left (never below 0).  Vectorised over ``replicas`` (whole,
    >= 0).  Example: 17 replicas in 3 zones (6, 6, 5) keep 11.
    """
    r = np.asarray(checks.non_negative("replicas", replicas))
    if np.any(r != np.round(r)):
        raise InputError(f"replicas must be whole numbers, got {np.ravel(r).tolist()[:5]}")
    z, lost = _zones(zones, zones_lost)
    r = r.astype(np.int64)
    left = np.maximum(r - lost * (-(-r // z)), 0)
    return int(left) if left.ndim == 0 else left
