"""Tail latency: fan-out, the slowest of n servers, hedged and tied requests, timeouts and retries.

Conventions: times in milliseconds (ms), probabilities in [0, 1].  Every
latency distribution here is a small object with ``cdf(t)``, ``sf(t)``
(``P(T > t)``), ``quantile(q)``, ``isf(p)`` (the latency exceeded with
probability ``p``, accurate for tiny ``p``) and ``sample(size, seed)``; they
accept NumPy arrays wherever a scalar is allowed.  Composite distributions
(:class:`Hedged`, :class:`MaxOfN`, :class:`TimeoutRetry`) give *exact*
percentiles from their CDF, and the ``simulate_*`` functions draw the same
thing by Monte Carlo so that the two can be checked against each other.

Sources:

- J. Dean and L. A. Barroso, "The Tail at Scale", *Communications of the ACM*
  56(2), 74-80 (2013): fan-out amplification (the probability that a request
  waits on at least one slow server), hedged requests (a second copy after a
  delay, take the first answer) and tied requests (copies enqueued on two
  servers, the first to start cancels the other).
- Order statistics of independent draws: the maximum of ``n`` i.i.d. draws has
  CDF ``F(t)^n``; the k-th smallest has ``F(X_(k)) ~ Beta(k, n - k + 1)``
  (H. A. David and H. N. Nagaraja, *Order Statistics*, 3rd ed., Wiley 2003,
  chapter 2).  The distribution-free confidence interval for a quantile
  from the order statistics of a sample is in W. J. Conover, *Practical
  Nonparametric Statistics*, 3rd ed., Wiley 1999, chapter 3.
- Retry amplification across layers: B. Beyer et al. (eds.), *Site Reliability
  Engineering*, O'Reilly 2016, chapter 22 "Addressing Cascading Failures"
  (three layers of 4 attempts give 4^3 = 64 attempts); M. Brooker, "Timeouts,
  retries, and backoff with jitter", Amazon Builders' Library (timeout at the
  latency percentile matching an acceptable false-timeout rate).

The paper's own figures that the book reproduces are :data:`DEAN_BARROSO_2013` (with the
lognormal leaf and benchmark read they imply); the two retry examples are
:data:`SRE_BOOK_RETRY_ATTEMPTS` and :data:`BROOKER_RETRY_ATTEMPTS`.

The great-circle distance and the fibre round-trip floor live in
:mod:`cloudpad.models.geography` (not re-exported here, so a notebook that uses
only one of the two modules depends only on that one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special, stats

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

__all__ = [
    "BROOKER_RETRY_ATTEMPTS",
    "DEAN_BARROSO_2013",
    "SRE_BOOK_RETRY_ATTEMPTS",
    "Empirical",
    "Exponential",
    "HedgeResult",
    "Hedged",
    "LatencyDistribution",
    "Lognormal",
    "MaxOfN",
    "Mixture",
    "PointMass",
    "SimulatedLatency",
    "TailAtScalePaper",
    "TiedResult",
    "TimeoutRetry",
    "fanout_for_latency",
    "fanout_slow_probability",
    "fanout_summary",
    "hedging_tradeoff",
    "kth_of_n_quantile",
    "max_of_n_check",
    "max_of_n_quantile",
    "mmc_wait",
    "quantile_ci",
    "retry_amplification",
    "retry_hedge_tradeoff",
    "simulate_hedged",
    "simulate_tied",
    "with_slow_mode",
]

#: Largest number of random values drawn at once; bigger simulations run in chunks of rows.
_CHUNK_VALUES = 4_000_000


# --------------------------------------------------------------------------- helpers
def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    """A Generator from an int seed (reproducible) or the Generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(checks.whole("seed", seed))


def _counts(name: str, value: ArrayLike, minimum: int = 1) -> int | np.ndarray:
    """Whole numbers >= minimum, scalar or array (fan-outs, k, attempts)."""
    x = checks.as_float(name, value)
    arr = np.asarray(x)
    ok = np.isfinite(arr) & (arr >= minimum) & (arr == np.floor(arr))
    if not np.all(ok):
        bad = arr if arr.ndim == 0 else arr[~ok]
        shown = repr(bad.item()) if bad.ndim == 0 else str(bad.ravel()[:5].tolist())
        raise InputError(f"{name} must be a whole number >= {minimum}, got {shown}")
    return int(arr) if arr.ndim == 0 else arr.astype(np.int64)


def _solve_isf(
    sf: Callable[[np.ndarray], np.ndarray], p: ArrayLike, lo: ArrayLike, hi: ArrayLike
) -> float | np.ndarray:
    """``isf`` by bisection on ``[lo, hi]``; an infinite ``hi`` stays infinite."""
    p, lo, hi = (np.asarray(a, dtype=float) for a in (p, lo, hi))
    shape = np.broadcast_shapes(p.shape, lo.shape, hi.shape)
    p, lo, hi = (np.broadcast_to(a, shape).ravel() for a in (p, lo, hi))
    res = hi.copy()
    finite = np.isfinite(hi)
    if finite.any():
        pf, lf, hf = p[finite], lo[finite], hi[finite]
        got = numeric.bisect(lambda t: sf(t) > pf, lf, hf)
        res[finite] = np.where(np.asarray(sf(lf)) <= pf, lf, got)
    return numeric.scalar_or_array(res.reshape(shape))


def quantile_ci(samples: ArrayLike, q: float, level: float = 0.95) -> numeric.Interval:
    """The ``q`` quantile of a sample with a distribution-free confidence interval at ``level``.

    Method (Conover 1999, chapter 3, confidence interval for a quantile): with
    ``N`` i.i.d. draws sorted as ``x_(1) <= ... <= x_(N)``, the number of draws
    below the true quantile is Binomial(N, q); the ranks ``r = B^{-1}((1 - c)/2)`` and
    ``s = B^{-1}((1 + c)/2) + 1`` of that binomial give
    ``P(x_(r) <= quantile <= x_(s)) >= c`` for any continuous distribution.
    Returns an :class:`~cloudpad.models.numeric.Interval` in the sample's units
    with ``low = x_(r)``, ``high = x_(s)`` and ``level = c``; a side the sample is
    too small to bound at this level (``r < 1`` or ``s > N``) is infinite.
    ``value`` is the sample quantile ``x_(ceil(qN))`` (NumPy's
    ``method="inverted_cdf"``, as :meth:`Empirical.quantile`), which always lies
    in the interval because the binomial's median is ``floor(qN)`` or ``ceil(qN)``.
    """
    x = np.sort(np.ravel(checks.as_float("samples", samples)))
    if x.size == 0:
        raise InputError("samples must hold at least one value, got an empty array")
    q = float(checks.in_range("q", q, 0.0, 1.0, closed=False))
    c = float(checks.in_range("level", level, 0.0, 1.0, closed=False))
    n = x.size
    r = int(stats.binom.ppf((1.0 - c) / 2.0, n, q))
    s = int(stats.binom.ppf((1.0 + c) / 2.0, n, q)) + 1
    low = float(x[r - 1]) if r >= 1 else -np.inf
    high = float(x[s - 1]) if s <= n else np.inf
    return numeric.Interval(float(np.quantile(x, q, method="inverted_cdf")), low, high, c)


# --------------------------------------------------------------------------- distributions
class LatencyDistribution:
    """Base class of the latency distributions (ms).  Subclasses give ``sf``, ``isf``, ``_draw``.

    ``cdf(t) = 1 - sf(t)``; ``quantile(q) = isf(1 - q)``, the smallest ``t`` with
    ``P(T <= t) >= q`` (the inverse of a right-continuous CDF).  ``sample``
    draws ``size`` independent latencies with a seeded generator.
    """

    def sf(self, t: ArrayLike) -> float | np.ndarray:  # pragma: no cover - abstract
        """``P(T > t)`` for ``t`` in ms."""
        raise NotImplementedError

    def isf(self, p: ArrayLike) -> float | np.ndarray:  # pragma: no cover - abstract
        """Smallest latency in ms exceeded with probability at most ``p``."""
        raise NotImplementedError

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def cdf(self, t: ArrayLike) -> float | np.ndarray:
        """``P(T <= t)`` for ``t`` in ms."""
        return numeric.scalar_or_array(1.0 - np.asarray(self.sf(t)))

    def quantile(self, q: ArrayLike) -> float | np.ndarray:
        """Latency in ms at quantile ``q`` in [0, 1] (``q = 0.99`` is the p99)."""
        q = checks.probability("q", q)
        return self.isf(1.0 - np.asarray(q))

    def sample(self, size: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        """``size`` independent latencies in ms drawn with ``seed`` (an int or a Generator)."""
        size = checks.whole("size", size, minimum=1)
        return self._draw(size, _rng(seed))


def _p(p: ArrayLike) -> np.ndarray:
    return np.asarray(checks.probability("p", p), dtype=float)


@dataclass(frozen=True)
class Lognormal(LatencyDistribution):
    """Lognormal latency: ``ln T ~ Normal(ln median_ms, sigma^2)``.

    ``sf(t) = Phi(-(ln t - ln median) / sigma)`` and
    ``isf(p) = median * exp(sigma * Phi^{-1}(1 - p))`` (computed with
    ``-ndtri(p)`` so tiny ``p`` stay accurate).  A common model of service
    latency with a long right tail; :meth:`from_percentiles` fixes it by its
    median and one upper percentile.
    """

    median_ms: float
    sigma: float

    def __post_init__(self) -> None:
        checks.positive("median_ms", self.median_ms)
        checks.positive("sigma", self.sigma)

    @classmethod
    def from_percentiles(cls, median_ms: float, tail_ms: float, q: float = 0.99) -> Lognormal:
        """The lognormal with the given median and ``q``-quantile (default p99), both in ms.

        ``sigma = ln(tail_ms / median_ms) / Phi^{-1}(q)``; requires
        ``tail_ms > median_ms`` and ``0.5 < q < 1``.
        """
        m = float(checks.positive("median_ms", median_ms))
        t = float(checks.positive("tail_ms", tail_ms))
        q = float(checks.in_range("q", q, 0.5, 1.0, closed=False))
        if t <= m:
            raise InputError(f"tail_ms must be > median_ms ({m!r}), got {t!r}")
        return cls(m, float(np.log(t / m) / special.ndtri(q)))

    @classmethod
    def through(cls, t1_ms: float, q1: float, t2_ms: float, q2: float) -> Lognormal:
        """The lognormal whose ``q1`` quantile is ``t1_ms`` and ``q2`` quantile is ``t2_ms``.

        ``sigma = ln(t2 / t1) / (z2 - z1)`` and ``median = t1 / exp(sigma z1)`` with
        ``z = Phi^{-1}(q)`` (``z2`` from ``isf(1 - q2)`` so that quantiles very
        close to 1 keep their precision).  Requires ``q1 < q2`` and ``t1 < t2``.
        """
        t1 = float(checks.positive("t1_ms", t1_ms))
        t2 = float(checks.positive("t2_ms", t2_ms))
        q1 = float(checks.in_range("q1", q1, 0.0, 1.0, closed=False))
        q2 = float(checks.in_range("q2", q2, 0.0, 1.0, closed=False))
        if not (q1 < q2 and t1 < t2):
            raise InputError(
                f"q1 < q2 and t1_ms < t2_ms are required, got q1={q1!r}, q2={q2!r}, "
                f"t1_ms={t1!r}, t2_ms={t2!r}"
            )
        z1, z2 = float(special.ndtri(q1)), float(-special.ndtri(1.0 - q2))
        sigma = float(np.log(t2 / t1) / (z2 - z1))
        return cls(t1 / float(np.exp(sigma * z1)), sigma)

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(t, 0.0)) - np.log(self.median_ms)) / self.sigma
        return numeric.scalar_or_array(special.ndtr(-z))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        return numeric.scalar_or_array(self.median_ms * np.exp(-self.sigma * special.ndtri(p)))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return rng.lognormal(np.log(self.median_ms), self.sigma, size)


@dataclass(frozen=True)
class Exponential(LatencyDistribution):
    """Shifted exponential latency: ``T = shift_ms + Exp(mean_ms)``.

    ``sf(t) = exp(-(t - shift) / mean)`` for ``t >= shift`` (1 below), so
    ``isf(p) = shift - mean * ln p``.  The M/M/c waiting time given that a
    request waits is exponential (see :func:`mmc_wait`).
    """

    mean_ms: float
    shift_ms: float = 0.0

    def __post_init__(self) -> None:
        checks.positive("mean_ms", self.mean_ms)
        checks.non_negative("shift_ms", self.shift_ms)

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        return numeric.scalar_or_array(np.exp(-np.maximum(t - self.shift_ms, 0.0) / self.mean_ms))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        with np.errstate(divide="ignore"):
            return numeric.scalar_or_array(
                self.shift_ms - self.mean_ms * np.log(np.minimum(p, 1.0))
            )

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.shift_ms + rng.exponential(self.mean_ms, size)


@dataclass(frozen=True)
class PointMass(LatencyDistribution):
    """A latency that is always ``value_ms`` (a constant; e.g. no queueing wait)."""

    value_ms: float

    def __post_init__(self) -> None:
        checks.non_negative("value_ms", self.value_ms)

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        return numeric.scalar_or_array(np.where(t < self.value_ms, 1.0, 0.0))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        return numeric.scalar_or_array(np.where(p < 1.0, self.value_ms, 0.0))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(size, float(self.value_ms))


@dataclass(frozen=True)
class Mixture(LatencyDistribution):
    """A mixture: with probability ``weights[i]`` the latency comes from ``components[i]``.

    ``sf(t) = sum_i w_i sf_i(t)``; quantiles by bisection between the smallest
    and largest component quantile (the mixture's quantile lies between them).
    Weights must be >= 0 and sum to 1.
    """

    components: tuple[LatencyDistribution, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.components) == 0 or len(self.components) != len(self.weights):
            raise InputError(
                "components and weights must be non-empty and of the same length, got "
                f"{len(self.components)} components and {len(self.weights)} weights"
            )
        for comp in self.components:
            if not isinstance(comp, LatencyDistribution):
                raise InputError(f"components must be latency distributions, got {comp!r}")
        w = np.asarray(checks.probability("weights", list(self.weights)))
        if abs(w.sum() - 1.0) > 1e-9:
            raise InputError(f"weights must sum to 1, got {w.tolist()} (sum {w.sum()!r})")

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        total = sum(
            w * np.asarray(c.sf(t)) for c, w in zip(self.components, self.weights, strict=True)
        )
        return numeric.scalar_or_array(total)

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        ends = np.stack([np.asarray(c.isf(p), dtype=float) for c in self.components])
        return _solve_isf(lambda t: np.asarray(self.sf(t)), p, ends.min(axis=0), ends.max(axis=0))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        which = rng.choice(len(self.components), size=size, p=np.asarray(self.weights))
        out = np.empty(size)
        for i, comp in enumerate(self.components):  # loop over components, not samples
            mask = which == i
            if mask.any():
                out[mask] = comp._draw(int(mask.sum()), rng)
        return out


def with_slow_mode(
    base: LatencyDistribution, p_slow: float, slow_median_ms: float, slow_sigma: float = 0.25
) -> Mixture:
    """``base`` most of the time, and with probability ``p_slow`` a slow episode.

    The slow mode is lognormal with median ``slow_median_ms`` and log-sd
    ``slow_sigma``: a model of the "temporary high-latency episodes" (garbage
    collection, background daemons, maintenance) that Dean and Barroso (2013)
    list as sources of tail latency.  Returns
    ``Mixture((base, Lognormal(slow_median_ms, slow_sigma)), (1 - p_slow, p_slow))``.
    """
    p = float(checks.probability("p_slow", p_slow))
    return Mixture((base, Lognormal(slow_median_ms, slow_sigma)), (1.0 - p, p))


@dataclass(frozen=True, eq=False)
class Empirical(LatencyDistribution):
    """The empirical distribution of measured latencies (ms), each value equally likely.

    ``cdf(t)`` = fraction of values <= t; ``quantile(q)`` is the lower (inverted-CDF)
    quantile ``x_(ceil(q N))``, NumPy's ``method="inverted_cdf"``, so that the
    exact quantile of the maximum of n draws (:class:`MaxOfN`) is a value of the
    sample.  Sampling draws values with replacement (bootstrap).
    """

    samples_ms: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        x = np.ravel(checks.non_negative("samples_ms", self.samples_ms)).astype(float)
        if x.size == 0:
            raise InputError("samples_ms must hold at least one value, got an empty array")
        object.__setattr__(self, "samples_ms", np.sort(x))

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        x = self.samples_ms
        return numeric.scalar_or_array(1.0 - np.searchsorted(x, t, side="right") / x.size)

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        x = self.samples_ms
        n = x.size
        # smallest x_(k) with (n - k) / n <= p, i.e. k >= n (1 - p); rounding guarded.
        k = np.ceil(n * (1.0 - p) - 1e-9 * n).astype(np.int64)
        return numeric.scalar_or_array(x[np.clip(k, 1, n) - 1])

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.samples_ms[rng.integers(0, self.samples_ms.size, size)]


@dataclass(frozen=True)
class MaxOfN(LatencyDistribution):
    """Latency of a request that waits for all of ``n`` independent sub-requests (the slowest).

    Order statistics (David and Nagaraja 2003, ch. 2): ``P(max <= t) = F(t)^n``,
    so ``sf = 1 - (1 - sf_base)^n`` and the ``q`` quantile of the maximum is the
    base quantile at ``q^(1/n)``: ``isf(p) = isf_base(1 - (1 - p)^(1/n))``.
    Assumes the ``n`` latencies are independent and identically distributed;
    Dean and Barroso's fan-out example makes the same assumption.
    """

    base: LatencyDistribution
    n: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", checks.whole("n", self.n, minimum=1))

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        s = np.asarray(self.base.sf(t))
        with np.errstate(divide="ignore"):
            return numeric.scalar_or_array(-np.expm1(self.n * np.log1p(-s)))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        with np.errstate(divide="ignore"):
            per_draw = -np.expm1(np.log1p(-p) / self.n)
        return self.base.isf(per_draw)

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        rows = max(1, _CHUNK_VALUES // self.n)
        parts = []
        for start in range(0, size, rows):  # chunks of rows bound memory, not a per-sample loop
            m = min(rows, size - start)
            parts.append(self.base._draw(m * self.n, rng).reshape(m, self.n).max(axis=1))
        return np.concatenate(parts)


def fanout_slow_probability(p_slow: ArrayLike, fanout: ArrayLike) -> float | np.ndarray:
    """Probability that a request fanned out to ``fanout`` servers waits on at least one slow one.

    ``P = 1 - (1 - p_slow)^fanout`` (computed as ``-expm1(fanout * log1p(-p_slow))``),
    for independent servers each slow with probability ``p_slow``.  Dean and
    Barroso (2013, "Component-level variability amplified by scale"): with
    1 request in 100 slow at one server, a request to 100 servers is slow 63 %
    of the time.  Arrays broadcast; ``fanout`` must be a whole number >= 1.
    """
    p = np.asarray(checks.probability("p_slow", p_slow))
    n = np.asarray(_counts("fanout", fanout))
    with np.errstate(divide="ignore"):
        return numeric.scalar_or_array(-np.expm1(n * np.log1p(-p)))


def max_of_n_quantile(dist: LatencyDistribution, n: ArrayLike, q: ArrayLike) -> float | np.ndarray:
    """The ``q`` quantile (ms) of the slowest of ``n`` independent draws from ``dist``.

    Exact order-statistic formula ``F^{-1}(q^(1/n))`` (see :class:`MaxOfN`);
    ``n`` and ``q`` broadcast, so one call gives a curve over fan-outs.
    """
    n = np.asarray(_counts("n", n))
    q = np.asarray(checks.probability("q", q))
    with np.errstate(divide="ignore"):
        per_draw = -np.expm1(np.log(q) / n)
    return dist.isf(per_draw)


def fanout_for_latency(
    dist: LatencyDistribution, latency_ms: ArrayLike, q: float
) -> float | np.ndarray:
    """The smallest fan-out ``n`` whose ``q`` quantile of the slowest draw reaches ``latency_ms``.

    From ``F(t)^n <= q``: ``n = ceil(ln q / ln F(t))`` with ``F = dist.cdf``;
    1 when one draw already reaches it, ``inf`` when ``F(t) = 1`` (never
    reached).  Answers "how wide must the fan-out be before the ``q``
    percentile of a user request is ``latency_ms``?" under independent draws.
    """
    t = checks.non_negative("latency_ms", latency_ms)
    q = float(checks.in_range("q", q, 0.0, 1.0, closed=False))
    s = np.asarray(dist.sf(t), dtype=float)
    with np.errstate(divide="ignore"):
        n = np.ceil(np.log(q) / np.log1p(-s) * (1 - 1e-12))
    return numeric.scalar_or_array(np.where(s >= 1.0, 1.0, np.maximum(n, 1.0)))


def kth_of_n_quantile(
    dist: LatencyDistribution, n: ArrayLike, k: ArrayLike, q: ArrayLike
) -> float | np.ndarray:
    """The ``q`` quantile (ms) of the time until ``k`` of ``n`` independent sub-requests finish.

    The k-th order statistic satisfies ``F(X_(k)) ~ Beta(k, n - k + 1)``
    (David and Nagaraja 2003, ch. 2), so its ``q`` quantile is
    ``F^{-1}(BetaInv(q; k, n - k + 1))``.  ``k = n`` is the slowest (waiting for
    all), ``k = ceil(0.95 n)`` the "95 % of leaves finish" row of Dean and
    Barroso's Table 1.  Requires ``1 <= k <= n``.
    """
    n = np.asarray(_counts("n", n))
    k = np.asarray(_counts("k", k))
    if np.any(k > n):
        raise InputError(f"k must be <= n, got k = {k.tolist()} for n = {n.tolist()}")
    q = np.asarray(checks.probability("q", q))
    per_draw = special.betaincinv(k, n - k + 1, q)
    return dist.isf(1.0 - per_draw)


def max_of_n_check(
    dist: LatencyDistribution,
    sizes: Mapping[int, int],
    quantiles: Sequence[float],
    level: float = 0.99,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Exact percentiles of the slowest of ``n`` draws next to a simulation's confidence interval.

    For each fan-out ``n`` in ``sizes`` (ascending), draws ``sizes[n]`` user
    requests of :class:`MaxOfN` ``(dist, n)`` with ``seed`` (the same int seed
    for every ``n``, so each fan-out is reproducible on its own), and for each
    ``q`` in ``quantiles`` compares the exact order-statistic quantile
    (:func:`max_of_n_quantile`) with the sample's :func:`quantile_ci` at
    ``level``.  About ``1 - level`` of the intervals miss by chance.  Returns
    one row per (n, q) with columns ``servers``, ``q``, ``draws``,
    ``exact_ms``, ``simulated_ms``, ``ci_low_ms``, ``ci_high_ms`` and
    ``inside`` (the exact value lies in the interval).
    """
    rows = []
    for n, size in sorted(sizes.items()):
        n = checks.whole("n", n, minimum=1)
        draws = MaxOfN(dist, n).sample(size, seed=seed)
        for q in quantiles:
            ci = quantile_ci(draws, q, level)
            exact = float(max_of_n_quantile(dist, n, q))
            rows.append(
                (n, float(q), draws.size, exact, ci.value, ci.low, ci.high, ci.contains(exact))
            )
    columns = ["servers", "q", "draws", "exact_ms", "simulated_ms", "ci_low_ms", "ci_high_ms"]
    return pd.DataFrame(rows, columns=[*columns, "inside"])


# --------------------------------------------------------------------------- hedged requests
@dataclass(frozen=True)
class Hedged(LatencyDistribution):
    """Latency of a hedged request: a second copy goes out after ``delay_ms``; first answer wins.

    With independent copies ``X1, X2 ~ base``, the latency is ``X1`` if
    ``X1 <= d`` and ``min(X1, d + X2)`` otherwise, so
    ``sf(t) = sf_base(t)`` for ``t < d`` and ``sf_base(t) * sf_base(t - d)``
    for ``t >= d``.  The extra load, the fraction of requests that send a
    second copy, is ``sf_base(d)`` (Dean and Barroso 2013, "Hedged requests":
    deferring the hedge to the 95th-percentile latency limits the extra load to
    about 5 %).  Assumes the copies' latencies are independent, i.e. the cause
    of slowness is not the request itself and the hedge adds no queueing.
    """

    base: LatencyDistribution
    delay_ms: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "delay_ms", float(checks.non_negative("delay_ms", self.delay_ms)))

    @property
    def extra_load(self) -> float:
        """Fraction of requests that send a second copy: ``P(X1 > delay_ms)``."""
        return float(self.base.sf(self.delay_ms))

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        first = np.asarray(self.base.sf(t))
        second = np.where(t >= self.delay_ms, np.asarray(self.base.sf(t - self.delay_ms)), 1.0)
        return numeric.scalar_or_array(first * second)

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        # the hedged latency is never above the unhedged one, so base.isf(p) brackets it
        return _solve_isf(lambda t: np.asarray(self.sf(t)), p, 0.0, self.base.isf(p))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        first = self.base._draw(size, rng)
        second = self.base._draw(size, rng)
        return np.where(first > self.delay_ms, np.minimum(first, self.delay_ms + second), first)


@dataclass(frozen=True, eq=False)
class SimulatedLatency:
    """Simulated user latencies (ms) with a technique and without it, from the same draws.

    ``latency_ms`` and ``baseline_ms`` come from common random numbers, so
    their difference is the technique's effect alone.  :meth:`percentile` and
    :meth:`baseline_percentile` are sample quantiles with NumPy's default linear
    interpolation; :meth:`percentile_ci` is :func:`quantile_ci` (inverted-CDF
    value and a distribution-free interval).
    """

    latency_ms: np.ndarray = field(repr=False)
    baseline_ms: np.ndarray = field(repr=False)

    def percentile(self, q: ArrayLike) -> float | np.ndarray:
        """Latency in ms at quantile ``q`` with the technique."""
        return numeric.scalar_or_array(np.quantile(self.latency_ms, checks.probability("q", q)))

    def baseline_percentile(self, q: ArrayLike) -> float | np.ndarray:
        """Latency in ms at quantile ``q`` without it (same primary draws)."""
        return numeric.scalar_or_array(np.quantile(self.baseline_ms, checks.probability("q", q)))

    def percentile_ci(self, q: float, level: float = 0.95) -> numeric.Interval:
        """Latency in ms at quantile ``q`` with the technique, and its ``level`` interval."""
        return quantile_ci(self.latency_ms, q, level)


@dataclass(frozen=True, eq=False)
class HedgeResult(SimulatedLatency):
    """Simulated hedged requests: user-level latencies (ms) with and without the hedge.

    ``extra_load`` is the fraction of sub-requests that sent a second copy,
    ``delay_ms`` the hedge delay and ``fanout`` the sub-requests per user request.
    """

    extra_load: float
    delay_ms: float
    fanout: int


def simulate_hedged(
    dist: LatencyDistribution,
    delay_ms: float,
    size: int,
    fanout: int = 1,
    seed: int | np.random.Generator = 0,
) -> HedgeResult:
    """Monte Carlo of ``size`` user requests, each fanned out to ``fanout`` hedged sub-requests.

    Each sub-request draws a primary latency ``X1``; if ``X1 > delay_ms`` a
    second copy is sent at ``delay_ms`` with its own latency ``X2`` and the
    sub-request finishes at ``min(X1, delay_ms + X2)``.  The user request
    finishes with its slowest sub-request.  Vectorised over all draws (chunks of
    rows bound memory).  The exact counterpart is
    ``MaxOfN(Hedged(dist, delay_ms), fanout)``.
    """
    d = float(checks.non_negative("delay_ms", delay_ms))
    size = checks.whole("size", size, minimum=1)
    fanout = checks.whole("fanout", fanout, minimum=1)
    rng = _rng(seed)
    rows = max(1, _CHUNK_VALUES // fanout)
    hedged, base, sent = [], [], 0
    for start in range(0, size, rows):
        m = min(rows, size - start)
        x1 = dist._draw(m * fanout, rng).reshape(m, fanout)
        x2 = dist._draw(m * fanout, rng).reshape(m, fanout)
        late = x1 > d
        sent += int(late.sum())
        hedged.append(np.where(late, np.minimum(x1, d + x2), x1).max(axis=1))
        base.append(x1.max(axis=1))
    return HedgeResult(
        latency_ms=np.concatenate(hedged),
        baseline_ms=np.concatenate(base),
        extra_load=sent / (size * fanout),
        delay_ms=d,
        fanout=fanout,
    )


def hedging_tradeoff(
    dist: LatencyDistribution, delays_ms: ArrayLike, q: float, fanout: int = 1
) -> pd.DataFrame:
    """Exact trade-off between the hedge delay, the extra load and the ``q`` latency percentile.

    For each delay ``d``: ``extra_load = sf(d)`` (fraction of sub-requests that
    send a second copy) and ``latency_ms``, the ``q`` quantile of the slowest of
    ``fanout`` hedged sub-requests (:class:`MaxOfN` of :class:`Hedged`).  The
    row ``unhedged_ms`` repeats the latency without hedging for reference.
    Returns a DataFrame with columns ``delay_ms``, ``extra_load``,
    ``latency_ms``, ``unhedged_ms``.
    """
    delays = np.atleast_1d(checks.non_negative("delays_ms", delays_ms)).astype(float)
    q = float(checks.in_range("q", q, 0.0, 1.0, closed=False))
    fanout = checks.whole("fanout", fanout, minimum=1)
    unhedged = float(MaxOfN(dist, fanout).quantile(q))
    latency = [float(MaxOfN(Hedged(dist, d), fanout).quantile(q)) for d in delays]
    return pd.DataFrame(
        {
            "delay_ms": delays,
            "extra_load": np.asarray(dist.sf(delays), dtype=float),
            "latency_ms": latency,
            "unhedged_ms": unhedged,
        }
    )


# --------------------------------------------------------------------------- tied requests
def mmc_wait(utilization: float, mean_service_ms: float, servers: int = 1) -> Mixture:
    """Waiting time in queue (ms) of an M/M/c server at the given utilisation.

    FCFS M/M/c (Kleinrock 1975, eq. 3.40; Gross and Harris, 2.3): the request
    waits with the Erlang C probability ``C(c, c rho)`` and, if it waits, for an
    exponential time of mean ``s / (c (1 - rho))`` with ``s`` the mean service
    time.  Returned as ``Mixture((PointMass(0), Exponential(mean)), (1 - C, C))``.
    Requires ``0 < utilization < 1``.
    """
    from cloudpad.models.queueing import erlang_c

    rho = float(checks.in_range("utilization", utilization, 0.0, 1.0, closed=False))
    s = float(checks.positive("mean_service_ms", mean_service_ms))
    c = checks.whole("servers", servers, minimum=1)
    p_wait = float(erlang_c(c, c * rho))
    return Mixture((PointMass(0.0), Exponential(s / (c * (1.0 - rho)))), (1.0 - p_wait, p_wait))


@dataclass(frozen=True, eq=False)
class TiedResult(SimulatedLatency):
    """Simulated tied requests (ms): latency with ties, without (same draws), and duplicate work.

    ``baseline_ms`` is a single copy on the first server.  ``duplicate_fraction``
    is the fraction of requests whose two copies both started executing (the
    cancellation arrived too late): the extra server work the tie costs.
    """

    duplicate_fraction: float


def simulate_tied(
    wait: LatencyDistribution,
    service: LatencyDistribution,
    size: int,
    delay_ms: float = 1.0,
    message_delay_ms: float = 0.5,
    seed: int | np.random.Generator = 0,
) -> TiedResult:
    """Monte Carlo of tied requests (Dean and Barroso 2013, "Tied requests").

    The client enqueues the request on server A at time 0 and a tied copy on
    server B at ``delay_ms``.  Each copy waits in its server's queue (``W_A``,
    ``W_B ~ wait``, independent) and then runs for a service time
    (``~ service``).  The copy that starts first sends a cancellation that
    reaches the other server ``message_delay_ms`` later; if the other copy has
    started by then, both run (duplicate work) and the first to finish answers.
    So with ``a = W_A`` and ``b = delay_ms + W_B`` (start times):

    - latency ``= min(a, b) + S`` when ``|a - b| >= message_delay_ms``;
    - latency ``= min(a + S_A, b + S_B)`` otherwise (both executed);
    - baseline (no tie) ``= W_A + S_A`` with the same draws.

    Assumptions (stated, not measured): the two queues are independent and in
    their stationary state; a cancelled copy leaves its queue without using
    the server, so ties do not lengthen other requests' waits except through
    the duplicates counted in ``duplicate_fraction``; network delay from the
    client is the same to both servers and left out.  The paper's client delay
    of about two message delays is why ``delay_ms`` defaults to twice
    ``message_delay_ms``.
    """
    size = checks.whole("size", size, minimum=1)
    d = float(checks.non_negative("delay_ms", delay_ms))
    m = float(checks.non_negative("message_delay_ms", message_delay_ms))
    rng = _rng(seed)
    w_a, w_b = wait._draw(size, rng), wait._draw(size, rng)
    s_a, s_b = service._draw(size, rng), service._draw(size, rng)
    a, b = w_a, d + w_b
    both = np.abs(a - b) < m
    winner_service = np.where(a <= b, s_a, s_b)
    single = np.minimum(a, b) + winner_service
    latency = np.where(both, np.minimum(a + s_a, b + s_b), single)
    return TiedResult(
        latency_ms=latency, baseline_ms=w_a + s_a, duplicate_fraction=float(both.mean())
    )


# --------------------------------------------------------------------------- timeouts, retries
@dataclass(frozen=True)
class TimeoutRetry(LatencyDistribution):
    """Latency of a call that times out after ``timeout_ms`` and retries, up to ``attempts`` tries.

    Each try is an independent draw ``X ~ base``; it succeeds if
    ``X <= timeout_ms``, otherwise the client gives up on it at ``timeout_ms``,
    waits ``backoff_ms`` and tries again.  With ``s = sf_base(T)`` and
    ``G = a T + (a - 1) b`` the time at which the last try is abandoned:

    ``P(L <= t) = sum_{k=0}^{a-1} s^k F_base(min(T, t - k (T + b)))`` over the
    ``k`` with ``t >= k (T + b)``, plus ``s^a`` once ``t >= G`` (a failed request
    ends with an error at ``G``).

    ``success_probability = 1 - s^a``; ``mean_attempts = (1 - s^a) / (1 - s)``
    (``a`` if ``s = 1``) is the load amplification: abandoned tries still run on
    the server unless it learns of the cancellation.  Brooker (Amazon Builders'
    Library) sets the timeout at the downstream percentile matching an
    acceptable false-timeout rate, e.g. p99.9 for 0.1 %.
    """

    base: LatencyDistribution
    timeout_ms: float
    attempts: int = 2
    backoff_ms: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "timeout_ms", float(checks.positive("timeout_ms", self.timeout_ms))
        )
        object.__setattr__(self, "attempts", checks.whole("attempts", self.attempts, minimum=1))
        object.__setattr__(
            self, "backoff_ms", float(checks.non_negative("backoff_ms", self.backoff_ms))
        )

    @property
    def timeout_probability(self) -> float:
        """Probability that one try exceeds the timeout, ``sf_base(timeout_ms)``."""
        return float(self.base.sf(self.timeout_ms))

    @property
    def give_up_ms(self) -> float:
        """Time (ms) at which a request whose every try timed out fails."""
        return self.attempts * self.timeout_ms + (self.attempts - 1) * self.backoff_ms

    @property
    def success_probability(self) -> float:
        """Probability that one of the tries answers in time: ``1 - s^attempts``."""
        return 1.0 - self.timeout_probability**self.attempts

    @property
    def failure_probability(self) -> float:
        """Probability that every try times out and the call fails: ``s^attempts``."""
        return self.timeout_probability**self.attempts

    @property
    def mean_attempts(self) -> float:
        """Expected tries per request (load amplification): ``sum_{k<a} s^k``."""
        s = self.timeout_probability
        return float(sum(s**k for k in range(self.attempts)))

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t))
        s = self.timeout_probability
        period = self.timeout_ms + self.backoff_ms
        total = np.zeros(np.shape(t))
        for k in range(self.attempts):  # loop over tries (a handful), vectorised over t
            local = t - k * period
            f = np.asarray(self.base.cdf(np.minimum(np.maximum(local, 0.0), self.timeout_ms)))
            total = total + np.where(local >= 0, s**k * f, 0.0)
        total = total + np.where(t >= self.give_up_ms, s**self.attempts, 0.0)
        return numeric.scalar_or_array(np.clip(1.0 - total, 0.0, 1.0))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = _p(p)
        return _solve_isf(lambda t: np.asarray(self.sf(t)), p, 0.0, self.give_up_ms)

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.simulate(size, rng)[0]

    def simulate(
        self, size: int, seed: int | np.random.Generator = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Monte Carlo of ``size`` calls: (latency_ms, succeeded, attempts) arrays.

        Draws ``size x attempts`` latencies at once; the first try within the
        timeout answers; failed calls end at :attr:`give_up_ms`.
        """
        size = checks.whole("size", size, minimum=1)
        rng = _rng(seed)
        x = self.base._draw(size * self.attempts, rng).reshape(size, self.attempts)
        ok = x <= self.timeout_ms
        succeeded = ok.any(axis=1)
        first = np.where(succeeded, ok.argmax(axis=1), self.attempts - 1)
        answer = x[np.arange(size), first]
        latency = np.where(
            succeeded,
            first * (self.timeout_ms + self.backoff_ms) + answer,
            self.give_up_ms,
        )
        return latency, succeeded, first + 1


def retry_hedge_tradeoff(
    dist: LatencyDistribution, delays_ms: ArrayLike, q: float, attempts: int = 2
) -> pd.DataFrame:
    """Timeout-and-retry against a hedge at the same delays: extra requests and the ``q`` latency.

    For each delay ``d``, a :class:`TimeoutRetry` with timeout ``d`` and
    ``attempts`` tries sends ``mean_attempts - 1`` extra requests per call, and
    a :class:`Hedged` request with delay ``d`` sends ``sf(d)``; both give the
    exact ``q`` quantile of one call.  Returns columns ``delay_ms``,
    ``retry_extra_load``, ``retry_ms``, ``hedge_extra_load``, ``hedge_ms``
    (extra loads as fractions of calls, latencies in ms).  A retry abandons
    the first try, a hedge keeps it alive; a call whose every try timed out
    counts at :attr:`TimeoutRetry.give_up_ms`, as a failure.
    """
    delays = np.atleast_1d(checks.positive("delays_ms", delays_ms)).astype(float)
    q = float(checks.in_range("q", q, 0.0, 1.0, closed=False))
    retries = [TimeoutRetry(dist, d, attempts) for d in delays]
    hedges = [Hedged(dist, d) for d in delays]
    return pd.DataFrame(
        {
            "delay_ms": delays,
            "retry_extra_load": [r.mean_attempts - 1.0 for r in retries],
            "retry_ms": [float(r.quantile(q)) for r in retries],
            "hedge_extra_load": [h.extra_load for h in hedges],
            "hedge_ms": [float(h.quantile(q)) for h in hedges],
        }
    )


def retry_amplification(p_fail: ArrayLike, attempts: int | Sequence[int]) -> float | np.ndarray:
    """Expected calls reaching the bottom dependency per top-level request, with retries per layer.

    ``attempts`` is the number of tries at each layer, from the top (client)
    down to the layer that calls the failing dependency (an int for one layer).
    Each call to the dependency fails independently with probability
    ``p_fail``; a layer's call fails when all its tries fail.  Going up from the
    bottom, layer ``i`` with ``a_i`` tries and per-call failure ``p_i`` makes
    ``E_i = (1 - p_i^a_i) / (1 - p_i)`` calls on average (``a_i`` when
    ``p_i = 1``) and fails with ``p_{i+1} = p_i^a_i``; the amplification is
    ``prod_i E_i``.  With a total outage (``p_fail = 1``) it is ``prod_i a_i``:
    the SRE book's 3 layers of 4 attempts give 4^3 = 64 (Beyer et al. 2016,
    ch. 22), Brooker's five layers of three tries 3^5 = 243.
    """
    p = np.asarray(checks.probability("p_fail", p_fail), dtype=float)
    tries = [attempts] if np.ndim(attempts) == 0 else list(attempts)
    if not tries:
        raise InputError("attempts must name at least one layer, got an empty sequence")
    tries = [checks.whole("attempts", a, minimum=1) for a in tries]
    total = np.ones_like(p)
    for a in reversed(tries):  # loop over layers (bottom first), vectorised over p_fail
        k = np.arange(a)
        total = total * (p[..., None] ** k).sum(axis=-1)
        p = p**a
    return numeric.scalar_or_array(total)


# --------------------------------------------------------------------------- published figures
@dataclass(frozen=True)
class TailAtScalePaper:
    """Figures published by J. Dean and L. A. Barroso, "The Tail at Scale", CACM 56(2), 2013.

    Page numbers are the printed ones.  Fan-out (p. 76, and the two points marked in the figure
    on p. 77): with one call in ``slow_rate`` slow (1 in 100), "63% of user requests" to
    ``servers`` (100) such servers are slow; with one in ``rare_slow_rate`` (1 in 10,000), "almost
    one in five" requests to ``many_servers`` (2,000); the figure draws the curves for one call in
    ``figure_slow_rates`` (100, 1,000 and 10,000) slow.  Table 1 (p. 77), a large fan-out service
    tree: one random leaf finishes with a median of ``leaf_p50_ms`` (1 ms), a 95th percentile of
    ``leaf_p95_ms`` (5 ms) and a 99th of ``leaf_p99_ms`` (10 ms); all leaves finish with a 99th
    percentile of ``all_leaves_p99_ms`` (140 ms), ``most_leaves_share`` (95%) of them with
    ``most_leaves_p99_ms`` (70 ms); every latency of the table is a ``table_quantile`` (99th
    percentile) but the leaf's median and 95th.  The table gives no leaf count.
    Hedged requests (p. 77): a Google benchmark reads ``benchmark_reads`` (1,000) values from
    BigTable; a hedge after ``benchmark_hedge_ms`` (10 ms) sends ``benchmark_extra_load`` (2%)
    more requests and cuts the ``benchmark_quantile`` (99.9th percentile) latency of all reads
    from ``benchmark_unhedged_ms`` (1,800 ms) to ``benchmark_hedged_ms`` (74 ms).
    """

    slow_rate: float = 0.01
    servers: int = 100
    rare_slow_rate: float = 1e-4
    many_servers: int = 2000
    figure_slow_rates: tuple[float, ...] = (0.01, 0.001, 0.0001)
    leaf_p50_ms: float = 1.0
    leaf_p95_ms: float = 5.0
    leaf_p99_ms: float = 10.0
    all_leaves_p99_ms: float = 140.0
    most_leaves_share: float = 0.95
    most_leaves_p99_ms: float = 70.0
    table_quantile: float = 0.99
    benchmark_reads: int = 1000
    benchmark_hedge_ms: float = 10.0
    benchmark_extra_load: float = 0.02
    benchmark_quantile: float = 0.999
    benchmark_unhedged_ms: float = 1800.0
    benchmark_hedged_ms: float = 74.0

    def leaf(self) -> Lognormal:
        """One random leaf of Table 1: the lognormal through its median and 99th percentile."""
        return Lognormal.from_percentiles(self.leaf_p50_ms, self.leaf_p99_ms, q=0.99)

    def benchmark_read(self) -> Lognormal:
        """One read of the hedging benchmark: the lognormal through its two *unhedged* facts.

        A stated assumption, not a fit to the hedged answer: a hedge goes out for every read
        slower than the delay, so ``P(read > benchmark_hedge_ms) = benchmark_extra_load``; and
        the ``benchmark_quantile`` of the slowest of ``benchmark_reads`` independent reads is
        ``benchmark_unhedged_ms``, so one read stays below it with probability
        ``benchmark_quantile ** (1 / benchmark_reads)``.  ``benchmark_hedged_ms`` is not used.
        """
        per_read = self.benchmark_quantile ** (1 / self.benchmark_reads)
        delay, unhedged = self.benchmark_hedge_ms, self.benchmark_unhedged_ms
        return Lognormal.through(delay, 1 - self.benchmark_extra_load, unhedged, per_read)


def fanout_summary(
    server: LatencyDistribution,
    *,
    fanout: int,
    p_slow: float,
    user_quantile: float,
    hedge_at: float,
    attempts: int,
    layers: int,
) -> dict[str, float | str]:
    """The numbers the article "The tail at scale" concludes with, for one server and fan-out.

    ``slow_share_at_fanout`` (:func:`fanout_slow_probability` of ``p_slow``), the server's
    median ``server_p50_ms`` and the user request's ``user_p50_ms`` and ``user_tail_ms`` (the
    ``user_quantile`` of the slowest of ``fanout``, :func:`max_of_n_quantile`, labelled
    ``user_tail_label``, e.g. ``"p99"``); a hedge after the server's ``hedge_at`` quantile
    (``hedge_delay_ms``, ``hedge_percentile``): the user quantile it leaves
    (``hedged_tail_ms``, :class:`Hedged` inside :class:`MaxOfN`), ``hedge_speedup`` and
    ``hedge_extra_load``; and ``outage_amplification``, the calls a total outage meets with
    ``attempts`` tries at each of ``layers`` layers (:func:`retry_amplification`).  Latencies
    in ms; independent servers and copies throughout.
    """
    n = _counts("fanout", fanout)
    q = float(checks.in_range("user_quantile", user_quantile, 0.0, 1.0))
    delay = float(server.quantile(float(checks.in_range("hedge_at", hedge_at, 0.0, 1.0))))
    hedge = Hedged(server, delay)
    tail = float(max_of_n_quantile(server, n, q))
    hedged = float(MaxOfN(hedge, n).quantile(q))
    layers_ = checks.whole("layers", layers, minimum=1)
    return {
        "fanout": n,
        "p_slow_pct": 100.0 * float(checks.probability("p_slow", p_slow)),
        "slow_share_at_fanout": float(fanout_slow_probability(p_slow, n)),
        "server_p50_ms": float(server.quantile(0.5)),
        "user_p50_ms": float(max_of_n_quantile(server, n, 0.5)),
        "user_tail_ms": tail,
        "user_tail_label": f"p{100 * q:g}",
        "hedge_delay_ms": delay,
        "hedge_percentile": 100.0 * hedge_at,
        "hedged_tail_ms": hedged,
        "hedge_speedup": tail / hedged,
        "hedge_extra_load": float(hedge.extra_load),
        "attempts": attempts,
        "layers": layers_,
        "outage_amplification": float(retry_amplification(1.0, [attempts] * layers_)),
    }


#: The figures of Dean and Barroso (2013) that the book's article "The tail at scale" uses.
DEAN_BARROSO_2013 = TailAtScalePaper()

#: Tries per layer in the SRE book's example (Beyer et al. 2016, ch. 22): backend, frontend and
#: JavaScript layers each make 4 attempts, 4^3 = 64 on the database when it is down.
SRE_BOOK_RETRY_ATTEMPTS: tuple[int, ...] = (4, 4, 4)

#: Tries per layer in Brooker's example ("Timeouts, retries, and backoff with jitter", Amazon
#: Builders' Library): a five-deep stack with three tries at each layer, 3^5 = 243.
BROOKER_RETRY_ATTEMPTS: tuple[int, ...] = (3, 3, 3, 3, 3)
