"""Where to put the regions of a global service: user-weighted latency and region placement.

The model (documented here once, used by the article "Where should the regions be?"):

1. **Latency from a user to a region.**  Nobody publishes round-trip times from
   every city to every cloud region, so the user's round trip is modelled as
   the speed-of-light floor through fibre along the great circle
   (:func:`cloudpad.models.geography.fiber_rtt_ms`) times a *path-stretch factor*,
   plus an optional fixed access time::

       rtt[u, r] = access_ms + stretch · fiber_rtt_ms(great_circle_km(u, r))

   The stretch factor is estimated from a measured matrix of round trips
   between regions (:func:`estimate_stretch`: a quantile of measured / floor
   over pairs at least ``min_distance_km`` apart), so the model inherits how
   far real backbone paths run above the floor.  Measured user-to-region
   times, where someone has them, can be passed in directly instead: every
   placement function below takes any latency matrix.
2. **Serving.**  Each user point is served by the region of the chosen set
   with the lowest round trip to it (anycast or latency-based DNS routing at
   its best; no capacity limits, no failover).
3. **Objective.**  Users are weighted (by population); the objective is the
   weighted mean or a weighted percentile (:func:`weighted_percentile`) of the
   served round trip.
4. **Placement.**  The *k*-median / facility-location problem is NP-hard in
   general, so :func:`greedy_placement` adds, one at a time, the region that
   most improves the objective (the standard greedy heuristic for facility
   location, e.g. Qiu, Padmanabhan and Voelker, "On the placement of Web
   server replicas", IEEE INFOCOM 2001), and :func:`exhaustive_placement`
   checks every set of *k* regions, vectorised over blocks of combinations,
   for small *k*.  Ties in the objective are broken by the weighted mean and
   then by the lowest region index, so results are deterministic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, numeric
from cloudpad.models.geography import (
    FIBER_GROUP_INDEX,
    distance_matrix_km,
    fiber_rtt_ms,
    great_circle_km,
    stretch,
)

__all__ = [
    "OBJECTIVES",
    "Placement",
    "Plan",
    "estimate_stretch",
    "evaluate",
    "exhaustive_placement",
    "footprint_monthly_usd",
    "greedy_placement",
    "greedy_table",
    "pair_table",
    "plan",
    "served_latency_ms",
    "share_within",
    "stretch_model_error",
    "user_rtt_matrix_ms",
    "weighted_percentile",
]

#: Objectives a placement can minimise: the weighted mean or a weighted percentile.
OBJECTIVES: tuple[str, ...] = ("mean", "p50", "p75", "p90", "p95", "p99")

#: Relative tolerance when comparing cumulative weights with a percentile's share,
#: so that float rounding of the weight sums never moves a percentile by one point.
_REL_TOL = 1e-12


def weighted_percentile(
    values: ArrayLike, weights: ArrayLike, q: ArrayLike, axis: int = -1
) -> float | np.ndarray:
    """Weighted percentile ``q`` (0-100) of ``values`` along ``axis``, with ``weights``.

    Method: the inverse of the weighted empirical distribution function.  Sort
    the values, accumulate their weights ``W_i``, and return the smallest value
    whose cumulative share ``W_i / W`` reaches ``q / 100``.  With equal weights
    this is NumPy's ``percentile(..., method="inverted_cdf")`` (Hyndman and Fan
    1996, definition 1); with integer weights it equals that percentile of the
    values repeated ``weight`` times.  The result is always one of the values
    with a positive weight (a value of zero weight is never returned).

    ``weights`` has the length of ``values`` along ``axis`` and is shared by
    every other index (for example one weight per user, one row per candidate
    placement).  ``q`` may be a scalar or a 1-D array; an array of ``q`` adds a
    leading axis to the result.  Weights must be >= 0 with a positive sum.
    """
    v = np.asarray(checks.as_float("values", values))
    if v.ndim == 0 or v.shape[axis] == 0:
        raise InputError(f"values must be a non-empty array, got shape {v.shape}")
    w = np.atleast_1d(np.asarray(checks.non_negative("weights", weights), dtype=float))
    if w.ndim != 1 or w.size != v.shape[axis]:
        raise InputError(
            f"weights must be 1-D with one weight per value ({v.shape[axis]}), got shape {w.shape}"
        )
    total = float(w.sum())
    if total <= 0:
        raise InputError(f"weights must have a positive sum, got {total!r}")
    qs = checks.in_range("q", q, 0.0, 100.0)
    q_arr = np.atleast_1d(np.asarray(qs, dtype=float))
    v = np.moveaxis(v, axis, -1)
    order = np.argsort(v, axis=-1, kind="stable")
    sorted_v = np.take_along_axis(v, order, axis=-1)
    cum = np.cumsum(w[order], axis=-1)
    out = []
    for qi in q_arr:  # a handful of percentiles, never a loop over samples
        threshold = qi * total / 100.0 * (1.0 - _REL_TOL)
        idx = np.argmax((cum >= threshold) & (cum > 0), axis=-1)
        out.append(np.take_along_axis(sorted_v, idx[..., None], axis=-1)[..., 0])
    return numeric.scalar_or_array(np.stack(out) if np.ndim(qs) else out[0])


def user_rtt_matrix_ms(
    user_lat: ArrayLike,
    user_lon: ArrayLike,
    region_lat: ArrayLike,
    region_lon: ArrayLike,
    stretch_factor: float = 1.0,
    access_ms: float = 0.0,
    refractive_index: float = FIBER_GROUP_INDEX,
) -> np.ndarray:
    """Modelled round trip in ms from every user point to every region, shape (users, regions).

    Formula: ``access_ms + stretch_factor · fiber_rtt_ms(great_circle_km(user, region))``.
    ``stretch_factor = 1`` and ``access_ms = 0`` give the speed-of-light floor
    through fibre; :func:`estimate_stretch` gives a factor calibrated on measured
    inter-region round trips.  ``stretch_factor`` must be >= 1 (no path beats
    the floor) and ``access_ms`` >= 0.
    """
    factor = checks.as_float("stretch_factor", stretch_factor)
    if not (np.isfinite(factor) and factor >= 1.0):
        raise InputError(f"stretch_factor must be a finite number >= 1, got {stretch_factor!r}")
    access = checks.non_negative("access_ms", access_ms)
    km = distance_matrix_km(user_lat, user_lon, region_lat, region_lon)
    return access + factor * np.asarray(fiber_rtt_ms(km, refractive_index))


def estimate_stretch(
    measured_rtt_ms: ArrayLike,
    distance_km: ArrayLike,
    quantile: float = 0.5,
    min_distance_km: float = 1000.0,
    refractive_index: float = FIBER_GROUP_INDEX,
) -> float:
    """Path-stretch factor: the ``quantile`` of measured RTT / fibre floor over distant pairs.

    Method: for every measured pair at least ``min_distance_km`` apart compute
    :func:`cloudpad.models.geography.stretch` and return its ``quantile`` (0-1, linear
    interpolation, NumPy's default).  Short pairs are left out because a fixed
    delay (equipment, a detour to a distant exchange) dominates them and would
    inflate a factor that is later applied to long paths too.  The median
    (0.5) gives a typical path; a higher quantile a pessimistic one.
    """
    rtt = np.atleast_1d(np.asarray(checks.non_negative("measured_rtt_ms", measured_rtt_ms)))
    km = np.atleast_1d(np.asarray(checks.non_negative("distance_km", distance_km)))
    if rtt.shape != km.shape:
        raise InputError(
            f"measured_rtt_ms and distance_km must have the same shape, got {rtt.shape} "
            f"and {km.shape}"
        )
    qq = checks.probability("quantile", quantile)
    min_km = checks.non_negative("min_distance_km", min_distance_km)
    keep = (km >= min_km) & (km > 0)
    if not keep.any():
        raise InputError(
            f"min_distance_km must leave at least one pair, got {min_km!r} "
            f"(longest distance {float(km.max())!r} km)"
        )
    ratios = np.asarray(stretch(rtt[keep], km[keep], refractive_index))
    return float(np.quantile(ratios, qq))


def stretch_model_error(
    measured_rtt_ms: ArrayLike, floor_ms: ArrayLike, stretch_factor: float
) -> float | np.ndarray:
    """Relative error of the one-factor path model against measured round trips.

    Formula: ``(stretch_factor · floor_ms - measured_rtt_ms) / measured_rtt_ms``, positive
    where the model overstates the measured round trip.  ``floor_ms`` is the fibre
    floor of each pair (:func:`~cloudpad.models.geography.fiber_rtt_ms`);
    ``measured_rtt_ms`` must be > 0.
    """
    rtt = np.asarray(checks.positive("measured_rtt_ms", measured_rtt_ms))
    floor = np.asarray(checks.non_negative("floor_ms", floor_ms))
    factor = checks.positive("stretch_factor", stretch_factor)
    if rtt.shape != floor.shape:
        raise InputError(
            f"measured_rtt_ms and floor_ms must have the same shape, got {rtt.shape} "
            f"and {floor.shape}"
        )
    return numeric.scalar_or_array((factor * floor - rtt) / rtt)


def _objective_q(objective: str) -> float | None:
    checks.choice("objective", objective, OBJECTIVES)
    return None if objective == "mean" else float(objective[1:])


def _check_problem(latency_ms: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(checks.non_negative("latency_ms", latency_ms), dtype=float)
    if lat.ndim != 2 or lat.shape[0] == 0 or lat.shape[1] == 0:
        raise InputError(
            f"latency_ms must be a 2-D matrix (users x candidate regions), got shape {lat.shape}"
        )
    w = np.atleast_1d(np.asarray(checks.non_negative("weights", weights), dtype=float))
    if w.shape != (lat.shape[0],):
        raise InputError(
            f"weights must have one weight per user ({lat.shape[0]}), got shape {w.shape}"
        )
    if w.sum() <= 0:
        raise InputError(f"weights must have a positive sum, got {float(w.sum())!r}")
    return lat, w


def served_latency_ms(latency_ms: ArrayLike, chosen: Sequence[int]) -> np.ndarray:
    """Round trip each user sees when served by the fastest of the ``chosen`` regions.

    Formula: ``served[u] = min over r in chosen of latency_ms[u, r]``.
    ``latency_ms`` is a (users x candidate regions) matrix; ``chosen`` lists
    column indices (at least one, each within range).
    """
    lat = np.asarray(checks.non_negative("latency_ms", latency_ms), dtype=float)
    if lat.ndim != 2:
        raise InputError(f"latency_ms must be a 2-D matrix, got shape {lat.shape}")
    idx = _check_chosen(chosen, lat.shape[1])
    return lat[:, idx].min(axis=1)


def _check_chosen(chosen: Sequence[int], n: int) -> np.ndarray:
    idx = np.asarray(list(chosen))
    if idx.size == 0:
        raise InputError("chosen must name at least one region, got an empty selection")
    if not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n:
        raise InputError(f"chosen must be region indices in [0, {n - 1}], got {list(chosen)!r}")
    return idx.astype(int)


@dataclass(frozen=True)
class Placement:
    """A set of regions and the user latency it gives.

    ``regions`` are column indices of the latency matrix, in the order they
    were chosen (greedy) or ascending (exhaustive); the latencies are
    weighted statistics of the served round trip in ms; ``objective`` names
    the statistic that was minimised and ``value_ms`` its value.
    """

    regions: tuple[int, ...]
    objective: str
    value_ms: float
    mean_ms: float
    p50_ms: float
    p95_ms: float

    @property
    def k(self) -> int:
        """Number of regions."""
        return len(self.regions)


def evaluate(
    latency_ms: ArrayLike, weights: ArrayLike, chosen: Sequence[int], objective: str = "p95"
) -> Placement:
    """Weighted mean, p50 and p95 of the served round trip for the regions ``chosen``.

    See :func:`served_latency_ms` and :func:`weighted_percentile`.
    """
    lat, w = _check_problem(latency_ms, weights)
    q = _objective_q(objective)
    served = served_latency_ms(lat, chosen)
    return _placement(tuple(int(c) for c in chosen), objective, q, served, w)


def _placement(
    regions: tuple[int, ...], objective: str, q: float | None, served: np.ndarray, w: np.ndarray
) -> Placement:
    mean = float(np.dot(w, served) / w.sum())
    p50, p95 = np.asarray(weighted_percentile(served, w, [50.0, 95.0]))
    value = mean if q is None else float(weighted_percentile(served, w, q))
    return Placement(regions, objective, value, mean, float(p50), float(p95))


def _scores(served: np.ndarray, w: np.ndarray, q: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Objective and weighted mean for each row of ``served`` (candidates x users)."""
    mean = served @ w / w.sum()
    if q is None:
        return mean, mean
    return np.asarray(weighted_percentile(served, w, q, axis=-1)), mean


def _best(objective_values: np.ndarray, means: np.ndarray) -> int:
    # lexsort sorts by the last key first: objective, then mean, then position (stable).
    return int(np.lexsort((means, objective_values))[0])


def greedy_placement(
    latency_ms: ArrayLike,
    weights: ArrayLike,
    k: int,
    objective: str = "p95",
    start: Sequence[int] = (),
) -> list[Placement]:
    """Greedy placement: add, one region at a time, the one that most lowers the objective.

    Method: starting from ``start`` (regions already in service, possibly none),
    at each step evaluate every region not yet chosen added to the current set
    (vectorised: one (candidates x users) matrix per step), keep the one with
    the lowest objective (ties: lowest weighted mean, then lowest index), and
    repeat until the set has ``k`` regions.  Returns one :class:`Placement`
    per step, for set sizes ``len(start) + 1`` to ``k`` (a prefix of the same
    ordered list each time).  The greedy set of size 1 is the best single
    region, and the objective never rises as regions are added.
    """
    lat, w = _check_problem(latency_ms, weights)
    q = _objective_q(objective)
    n = lat.shape[1]
    chosen = [int(c) for c in _check_chosen(start, n)] if len(start) else []
    if len(set(chosen)) != len(chosen):
        raise InputError(f"start must not repeat a region, got {list(start)!r}")
    k = checks.whole("k", k, minimum=1)
    if k > n:
        raise InputError(f"k must be at most the number of candidate regions ({n}), got {k}")
    if k <= len(chosen):
        raise InputError(f"k must exceed the number of start regions ({len(chosen)}), got {k}")
    current = lat[:, chosen].min(axis=1) if chosen else np.full(lat.shape[0], np.inf)
    results: list[Placement] = []
    while len(chosen) < k:
        remaining = np.setdiff1d(np.arange(n), chosen)
        served = np.minimum(current[None, :], lat[:, remaining].T)
        obj, mean = _scores(served, w, q)
        pick = int(remaining[_best(obj, mean)])
        chosen.append(pick)
        current = np.minimum(current, lat[:, pick])
        results.append(_placement(tuple(chosen), objective, q, current, w))
    return results


def exhaustive_placement(
    latency_ms: ArrayLike,
    weights: ArrayLike,
    k: int,
    objective: str = "p95",
    max_combinations: int = 2_000_000,
    block: int = 4096,
) -> Placement:
    """The best set of exactly ``k`` regions, by checking every combination.

    Method: enumerate the C(n, k) sets of ``k`` of the ``n`` candidate regions
    in blocks of ``block``; for each block build the (sets x users) matrix of
    served round trips in one NumPy step and score it; keep the lowest
    objective (ties: lowest weighted mean, then first in lexicographic order).
    Exact, so never worse than :func:`greedy_placement` for the same ``k``.
    Refuses problems with more than ``max_combinations`` sets, where greedy is
    the practical choice.
    """
    lat, w = _check_problem(latency_ms, weights)
    q = _objective_q(objective)
    n = lat.shape[1]
    k = checks.whole("k", k, minimum=1)
    if k > n:
        raise InputError(f"k must be at most the number of candidate regions ({n}), got {k}")
    count = math.comb(n, k)
    limit = checks.whole("max_combinations", max_combinations, minimum=1)
    if count > limit:
        raise InputError(
            f"k must keep C({n}, k) within max_combinations={limit}, got k={k} "
            f"({count} combinations); use greedy_placement"
        )
    block = checks.whole("block", block, minimum=1)
    lat_t = np.ascontiguousarray(lat.T)  # (regions, users)
    combos = itertools.combinations(range(n), k)
    best_key: tuple[float, float] | None = None
    best_set: tuple[int, ...] = ()
    while True:
        flat = np.fromiter(
            itertools.chain.from_iterable(itertools.islice(combos, block)), dtype=np.intp
        )
        if flat.size == 0:
            break
        sets = flat.reshape(-1, k)
        served = lat_t[sets].min(axis=1)  # (sets, users)
        obj, mean = _scores(served, w, q)
        i = _best(obj, mean)
        key = (float(obj[i]), float(mean[i]))
        if best_key is None or key < best_key:
            best_key, best_set = key, tuple(int(s) for s in sets[i])
    served = lat[:, list(best_set)].min(axis=1)
    return _placement(best_set, objective, q, served, w)


def greedy_table(
    latency_ms: ArrayLike,
    weights: ArrayLike,
    steps: Sequence[Placement],
    threshold_ms: float,
    region_monthly_usd: float,
) -> pd.DataFrame:
    """One row per step of a greedy placement: region added, user round trip, share, cost.

    ``steps`` is the list :func:`greedy_placement` returns.  Row ``k`` (index
    ``regions``, the set size) has ``added`` (column index of the region added
    at that step), ``p50_ms`` and ``p95_ms`` (weighted, from the step's
    :class:`Placement`), ``objective_ms`` (the value of the objective the steps
    minimised, :attr:`Placement.value_ms`), ``share_within`` (:func:`share_within`
    of the served round trip at ``threshold_ms``, 0-1), ``monthly_usd = k ·
    region_monthly_usd`` and ``usd_per_ms``, the added region's monthly cost over
    the milliseconds of the objective it saves, ``region_monthly_usd /
    (objective_{k-1} - objective_k)``: NaN on the first row (nothing to compare
    with), infinite where the step saves nothing.
    """
    lat, w = _check_problem(latency_ms, weights)
    if not steps:
        raise InputError("steps must hold at least one placement, got none")
    limit = checks.non_negative("threshold_ms", threshold_ms)
    usd = checks.non_negative("region_monthly_usd", region_monthly_usd)
    k = np.array([p.k for p in steps])
    value = np.array([p.value_ms for p in steps])
    saved = -np.diff(value, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_ms = np.where(saved > 0, usd / saved, np.where(np.isnan(saved), np.nan, np.inf))
    return pd.DataFrame(
        {
            "added": [p.regions[-1] for p in steps],
            "p50_ms": [p.p50_ms for p in steps],
            "p95_ms": [p.p95_ms for p in steps],
            "objective_ms": value,
            "share_within": [
                share_within(served_latency_ms(lat, p.regions), w, limit) for p in steps
            ],
            "monthly_usd": k * usd,
            "usd_per_ms": per_ms,
        },
        index=pd.Index(k, name="regions"),
    )


@dataclass(frozen=True)
class Plan:
    """Every placement the article reports for one latency matrix (see :func:`plan`).

    ``greedy`` holds the greedy steps for 1 to ``max_regions`` regions, ``exhaustive`` the
    best sets of 1 to ``exhaustive_max_k`` regions, ``everywhere`` every candidate in service,
    and ``steps`` the :func:`greedy_table` of the greedy steps; latencies in ms, cost in USD a
    month.
    """

    objective: str
    target_rtt_ms: float
    region_monthly_usd: float
    greedy: list[Placement]
    exhaustive: list[Placement]
    everywhere: Placement
    steps: pd.DataFrame
    share_within_everywhere: float

    def regions_for_target(self) -> str:
        """The fewest greedy regions whose objective is within the target, as words.

        ``"N regions"``; or, when no greedy step reaches it, whether every candidate
        together would (``"more than MAX regions"``) or not (``"more regions than this
        provider has in the data"``).
        """
        reached = self.steps.index[self.steps.objective_ms <= self.target_rtt_ms]
        if len(reached):
            return f"{reached[0]} regions"
        if self.everywhere.value_ms > self.target_rtt_ms:
            return "more regions than this provider has in the data"
        return f"more than {len(self.greedy)} regions"

    def key_results(self, region_names: Sequence[str]) -> dict[str, float | str]:
        """The numbers the article's conclusion rests on, by name; ``region_names`` names the
        candidate regions (the latency matrix's columns) in order."""
        names = list(region_names)

        def named(regions: tuple[int, ...]) -> str:
            return ", ".join(names[i] for i in regions)

        steps, largest = self.steps, self.exhaustive[-1]
        at_k = self.greedy[largest.k - 1]
        return {
            "objective": self.objective,
            "target_rtt_ms": self.target_rtt_ms,
            "max_regions": len(self.greedy),
            "exhaustive_max_k": len(self.exhaustive),
            "candidate_regions": len(names),
            "best_single_region": named(self.greedy[0].regions),
            "greedy_order": named(self.greedy[-1].regions),
            "exhaustive_set": named(largest.regions),
            "exhaustive_k": largest.k,
            "exhaustive_p95_ms": largest.p95_ms,
            "greedy_p95_ms_at_exhaustive_k": at_k.p95_ms,
            "exhaustive_objective_ms": largest.value_ms,
            "greedy_objective_ms_at_exhaustive_k": at_k.value_ms,
            "regions_for_target": self.regions_for_target(),
            "all_regions_p95_ms": self.everywhere.p95_ms,
            "all_regions_share_within_target": self.share_within_everywhere,
            "one_region_p50_ms": float(steps.p50_ms.iloc[0]),
            "one_region_p95_ms": float(steps.p95_ms.iloc[0]),
            "one_region_share_within_target": float(steps.share_within.iloc[0]),
            "two_regions_p50_ms": float(steps.p50_ms.iloc[1]),
            "max_regions_p50_ms": float(steps.p50_ms.iloc[-1]),
            "max_regions_p95_ms": float(steps.p95_ms.iloc[-1]),
            "max_regions_share_within_target": float(steps.share_within.iloc[-1]),
            "max_regions_monthly_usd": float(steps.monthly_usd.iloc[-1]),
            "region_monthly_usd": self.region_monthly_usd,
            "second_region_usd_per_ms": float(steps.usd_per_ms.iloc[1]),
            "last_region_usd_per_ms": float(steps.usd_per_ms.iloc[-1]),
        }


def plan(
    latency_ms: ArrayLike,
    weights: ArrayLike,
    *,
    objective: str,
    max_regions: int,
    exhaustive_max_k: int,
    target_rtt_ms: float,
    region_monthly_usd: float,
) -> Plan:
    """The article's placements in one call: greedy, exhaustive, everywhere, the step table.

    :func:`greedy_placement` up to ``max_regions`` (at least 2, so that the second region's
    gain exists), :func:`exhaustive_placement` for 1 to ``exhaustive_max_k`` regions,
    :func:`evaluate` of every candidate together, and :func:`greedy_table` with the target
    and the footprint cost of one region.  ``max_regions`` above the number of candidates (the
    matrix's columns, known only once the data is read and regions are excluded) is refused in
    one sentence naming it.
    """
    lat, w = _check_problem(latency_ms, weights)
    n = lat.shape[1]
    k_max = checks.whole("max_regions", max_regions, minimum=2)
    if k_max > n:
        raise InputError(
            f"max_regions = {k_max} exceeds the {n} candidate regions left in the data (after "
            "any regions excluded); lower max_regions or exclude fewer regions"
        )
    k_search = checks.whole("exhaustive_max_k", exhaustive_max_k, minimum=1)
    greedy = greedy_placement(lat, w, k_max, objective)
    exhaustive = [exhaustive_placement(lat, w, k, objective) for k in range(1, k_search + 1)]
    target = float(checks.non_negative("target_rtt_ms", target_rtt_ms))
    usd = float(checks.non_negative("region_monthly_usd", region_monthly_usd))
    everywhere = evaluate(lat, w, range(n), objective)
    within = share_within(served_latency_ms(lat, range(n)), w, target)
    steps = greedy_table(lat, w, greedy, target, usd)
    return Plan(objective, target, usd, greedy, exhaustive, everywhere, steps, within)


def footprint_monthly_usd(
    regions: ArrayLike,
    price_per_hour_usd: float,
    instances_per_region: float,
    fixed_per_region_usd: float = 0.0,
) -> float | np.ndarray:
    """Monthly cost in USD of a fixed footprint in each of ``regions`` regions.

    Formula: ``regions · (monthly_cost(price_per_hour_usd, instances_per_region)
    + fixed_per_region_usd)``, with :func:`cloudpad.models.cost.monthly_cost` (730 h a
    month).  The footprint is the minimum a region needs whatever its share of
    the traffic (e.g. one instance per availability zone); traffic-proportional
    capacity is the same in total however many regions serve it, so it is left
    out.  Data transfer between regions is not included.
    """
    n = checks.non_negative("regions", regions)
    fixed = checks.non_negative("fixed_per_region_usd", fixed_per_region_usd)
    per_region = cost.monthly_cost(price_per_hour_usd, instances_per_region) + fixed
    return numeric.scalar_or_array(np.asarray(n) * per_region)


def share_within(served_ms: ArrayLike, weights: ArrayLike, threshold_ms: float) -> float:
    """Weighted share (0-1) of users whose served round trip is at most ``threshold_ms``.

    Formula: ``sum(w[served <= threshold]) / sum(w)``.
    """
    served = np.atleast_1d(np.asarray(checks.non_negative("served_ms", served_ms)))
    w = np.atleast_1d(np.asarray(checks.non_negative("weights", weights), dtype=float))
    if w.shape != served.shape:
        raise InputError(
            f"weights must have one weight per user ({served.size}), got shape {w.shape}"
        )
    if w.sum() <= 0:
        raise InputError(f"weights must have a positive sum, got {float(w.sum())!r}")
    limit = checks.non_negative("threshold_ms", threshold_ms)
    return float(w[served <= limit].sum() / w.sum())


def pair_table(
    regions: pd.DataFrame,
    rtt: pd.DataFrame,
    refractive_index: float = FIBER_GROUP_INDEX,
) -> pd.DataFrame:
    """Measured round trips between regions next to their great-circle floor.

    ``regions`` has columns ``display_name``, ``latitude``, ``longitude`` (one
    row per region; the ``cloud_regions`` dataset filtered to one provider) and
    ``rtt`` has ``source_region``, ``destination_region``, ``rtt_p95_ms`` (the
    ``azure_rtt_p95_ms`` dataset).  Returns one row per measured ordered pair
    (directions kept apart; the measurements are asymmetric) with
    ``distance_km`` (:func:`~cloudpad.models.geography.great_circle_km`),
    ``floor_ms`` (:func:`~cloudpad.models.geography.fiber_rtt_ms`) and ``stretch``
    (measured / floor; NaN where two regions share coordinates).  Every region
    named in ``rtt`` must appear in ``regions``.
    """
    pos = regions.drop_duplicates("display_name").set_index("display_name")
    names = pd.unique(pd.concat([rtt["source_region"], rtt["destination_region"]]))
    missing = sorted(set(names) - set(pos.index))
    if missing:
        raise InputError(
            f"regions must give coordinates for every region in rtt, got none for {missing[:5]}"
        )
    src = pos.loc[rtt["source_region"]]
    dst = pos.loc[rtt["destination_region"]]
    km = np.asarray(
        great_circle_km(
            src["latitude"].to_numpy(float),
            src["longitude"].to_numpy(float),
            dst["latitude"].to_numpy(float),
            dst["longitude"].to_numpy(float),
        )
    )
    measured = rtt["rtt_p95_ms"].to_numpy(float)
    floor = np.asarray(fiber_rtt_ms(km, refractive_index))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(km > 0, measured / floor, np.nan)
    return pd.DataFrame(
        {
            "source_region": rtt["source_region"].to_numpy(),
            "destination_region": rtt["destination_region"].to_numpy(),
            "distance_km": km,
            "floor_ms": floor,
            "rtt_p95_ms": measured,
            "stretch": ratio,
        }
    )
