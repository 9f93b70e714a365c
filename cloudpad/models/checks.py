"""Input checks shared by the models.

Each check raises :class:`~cloudpad.exceptions.InputError` (a ``ValueError``) with a message
of the form
``"<name> must be <rule>, got <value>"`` so that a wrong input is reported with
what was found and what is allowed.  Checks accept Python scalars and NumPy
arrays alike and return the input as a float or a float array.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError


def _describe(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    return f"an array containing {arr.ravel()[:5].tolist()}{'...' if arr.size > 5 else ''}"


def as_float(name: str, value: ArrayLike) -> float | np.ndarray:
    """Return ``value`` as a float (scalar in) or float array (array in); refuse NaN and text."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if np.isnan(arr).any():
        raise InputError(f"{name} must be a number, got NaN ({_describe(value)})")
    return float(arr) if arr.ndim == 0 else arr


def _check(name: str, value: ArrayLike, ok: np.ndarray, rule: str) -> None:
    if not np.all(ok):
        arr = np.asarray(value, dtype=float)
        bad = arr if arr.ndim == 0 else arr[~np.asarray(ok)]
        raise InputError(f"{name} must be {rule}, got {_describe(bad)}")


def probability(name: str, value: ArrayLike) -> float | np.ndarray:
    """Check that ``value`` lies in the closed interval [0, 1] (an availability, a probability)."""
    x = as_float(name, value)
    _check(name, x, (np.asarray(x) >= 0) & (np.asarray(x) <= 1), "within [0, 1]")
    return x


def positive(name: str, value: ArrayLike) -> float | np.ndarray:
    """Check that ``value`` is finite and strictly greater than zero."""
    x = as_float(name, value)
    _check(name, x, np.isfinite(x) & (np.asarray(x) > 0), "a finite number > 0")
    return x


def non_negative(name: str, value: ArrayLike) -> float | np.ndarray:
    """Check that ``value`` is finite and greater than or equal to zero."""
    x = as_float(name, value)
    _check(name, x, np.isfinite(x) & (np.asarray(x) >= 0), "a finite number >= 0")
    return x


def in_range(
    name: str, value: ArrayLike, low: float, high: float, *, closed: bool = True
) -> float | np.ndarray:
    """Check ``low <= value <= high`` (or the open interval when ``closed`` is false)."""
    x = as_float(name, value)
    arr = np.asarray(x)
    ok = (arr >= low) & (arr <= high) if closed else (arr > low) & (arr < high)
    rule = f"within [{low}, {high}]" if closed else f"within ({low}, {high})"
    _check(name, x, ok, rule)
    return x


def whole(name: str, value: Any, *, minimum: int = 0) -> int:
    """Check that ``value`` is an integer (not a bool) of at least ``minimum``; return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value
