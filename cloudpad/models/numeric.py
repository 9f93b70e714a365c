"""Numeric helpers the models share: one interval type, one bisection, scalar-in-scalar-out.

Every model that estimates something by simulation reports it as an
:class:`Interval` (value and a two-sided confidence interval); every model that
inverts a monotone function numerically uses :func:`bisect`; every model that
accepts a scalar or an array returns a Python ``float`` for a scalar through
:func:`scalar_or_array`.  Input checks are in :mod:`cloudpad.models.checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Halvings of the bracket in :func:`bisect` at most (exact to float precision well before).
MAX_BISECTIONS = 200


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval ``[low, high]`` at ``level``.

    The unit is the estimated quantity's (the function returning it says which).
    """

    value: float
    low: float
    high: float
    level: float = 0.95

    @property
    def half_width(self) -> float:
        """Half the width of the confidence interval, ``(high - low) / 2``."""
        return 0.5 * (self.high - self.low)

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies inside the closed interval ``[low, high]``."""
        return self.low <= x <= self.high


def scalar_or_array(x: ArrayLike) -> float | np.ndarray:
    """A Python float for a 0-d input, else a float array: scalars in, scalars out."""
    arr = np.asarray(x, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def bisect(
    exceeds: Callable[[np.ndarray], np.ndarray],
    lo: ArrayLike,
    hi: ArrayLike,
    *,
    rel_tol: float = 1e-12,
) -> np.ndarray:
    """Smallest ``t`` in ``[lo, hi]`` where the monotone predicate ``exceeds(t)`` turns false.

    Vectorised bisection: ``exceeds`` takes an array of points and returns a
    boolean array (true while ``t`` is still too small, e.g. ``sf(t) > p``).
    It needs ``exceeds(hi)`` false; the answer is ``hi`` of the final bracket,
    within ``rel_tol * max(1, |hi|)``.  Used for quantiles with no closed form
    (``isf`` of mixtures, hedged and retried latencies).
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    lo, hi = lo.copy(), hi.copy()
    for _ in range(MAX_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = np.asarray(exceeds(mid), dtype=bool)
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if np.all(hi - lo <= rel_tol * np.maximum(1.0, np.abs(hi))):
            break
    return hi
