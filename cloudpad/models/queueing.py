"""Queueing models for capacity planning: Erlang B/C, the M/M/c queue, and its simulation.

Units: SI seconds throughout, and every name says its unit.  Rates are per
second (``arrival_rate_per_s``: requests per second; ``service_rate_per_s``:
completions per second per server), times are in seconds (``target_wait_s``,
``mean_wait_s``, ``wait_percentile_s``).  Offered load
``A = arrival_rate_per_s / service_rate_per_s`` is in Erlangs (the mean number
of busy servers) and utilisation is ``rho = A / servers``.  Articles that think
in milliseconds convert at the call (``service_ms / 1000``) and the two
display tables (:meth:`MMC.summary`, :func:`compare`) show milliseconds and
percentages, with the unit in each label.

Sources followed:

* Erlang B recursion ``B(0, A) = 1``, ``B(k, A) = A B(k-1, A) / (k + A B(k-1, A))``
  and ``C(c, A) = c B(c, A) / (c - A (1 - B(c, A)))``: the standard numerically
  stable route to Erlang C (no factorials, no overflow for thousands of
  servers); see e.g. Larson and Odoni, *Urban Operations Research* (1981),
  chapter 4, and Kleinrock, *Queueing Systems* Vol. 1 (1975), chapter 3 (M/M/m).
* M/M/c waiting-time distribution under FCFS ``P(W <= t) = 1 - C exp(-(c mu - lambda) t)``
  (Kleinrock 1975, chapter 3; Gross, Shortle, Thompson and Harris, *Fundamentals of
  Queueing Theory*, 4th ed. 2008, chapter 2).
* Square-root staffing ``c = A + beta sqrt(A)`` (Halfin and Whitt 1981).
* Simulation: Lindley's recursion for one server (Lindley 1952) and the
  Kiefer–Wolfowitz workload vector for ``c`` servers (Kiefer and Wolfowitz 1955).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric
from cloudpad.models.numeric import Interval

__all__ = [
    "MMC",
    "QueueSimulation",
    "compare",
    "diurnal_rate",
    "erlang_b",
    "erlang_c",
    "mmc",
    "replicas_for",
    "servers_for",
    "servers_for_utilization",
    "simulate_mmc",
    "square_root_beta",
    "square_root_utilization",
]


# --------------------------------------------------------------------------- helpers
def _servers(value: ArrayLike, name: str = "servers") -> int | np.ndarray:
    """Validate a server count (int or array of whole numbers >= 1)."""
    if np.ndim(value) == 0:
        return checks.whole(
            name, value.item() if isinstance(value, np.ndarray) else value, minimum=1
        )
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{name} must be whole numbers >= 1, got {value!r}")
    f = arr.astype(float)
    bad = np.isnan(f) | (f != np.round(f)) | (f < 1)
    if bad.any():
        raise InputError(f"{name} must be whole numbers >= 1, got {f[bad][:5].tolist()}")
    return arr.astype(np.int64)


def _stable(name_values: str, rho: float | np.ndarray) -> None:
    """Raise if any utilisation is >= 1 (the queue grows without bound)."""
    r = np.asarray(rho)
    if np.any(r >= 1):
        bad = r[r >= 1] if r.ndim else r
        raise InputError(
            f"utilization must be < 1 for a stable queue ({name_values}), "
            f"got {np.ravel(bad)[:5].tolist() if r.ndim else float(bad)}"
        )


# --------------------------------------------------------------------------- Erlang B / C
def erlang_b(servers: ArrayLike, offered_load_erlangs: ArrayLike) -> float | np.ndarray:
    """Erlang B blocking probability of ``servers`` servers offered ``offered_load_erlangs``.

    Method: the recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))`` run to
    ``k = servers`` (numerically stable for any number of servers; no factorials).
    Vectorised over both arguments (broadcast); the Python loop runs over ``k``,
    not over samples.  Source: Larson and Odoni (1981), chapter 4.
    """
    c = _servers(servers)
    a = checks.non_negative("offered_load_erlangs", offered_load_erlangs)
    c_arr, a_arr = np.broadcast_arrays(np.asarray(c), np.asarray(a, dtype=float))
    b = np.ones(a_arr.shape)
    out = np.empty(a_arr.shape)
    kmax = int(c_arr.max()) if c_arr.size else 0
    for k in range(1, kmax + 1):
        b = a_arr * b / (k + a_arr * b)
        hit = c_arr == k
        if hit.any():
            out[hit] = b[hit]
    return numeric.scalar_or_array(out)


def erlang_c(servers: ArrayLike, offered_load_erlangs: ArrayLike) -> float | np.ndarray:
    """Erlang C: probability that an arriving request waits in an M/M/c queue.

    ``C(c, A) = c B(c, A) / (c - A (1 - B(c, A)))`` with ``B`` from :func:`erlang_b`,
    equivalent to the textbook ``(A^c / c!) (c / (c - A)) / (sum_{k<c} A^k/k! +
    (A^c / c!) (c / (c - A)))``.  ``A = arrival_rate_per_s / service_rate_per_s`` in
    Erlangs; requires ``A < servers`` (utilisation < 1), otherwise
    ``InputError``.  Sources: Erlang (1917); Kleinrock (1975), chapter 3.
    """
    c = _servers(servers)
    a = checks.non_negative("offered_load_erlangs", offered_load_erlangs)
    rho = np.asarray(a) / np.asarray(c)
    _stable("offered_load_erlangs / servers", rho)
    b = np.asarray(erlang_b(c, a))
    c_arr = np.asarray(c, dtype=float)
    return numeric.scalar_or_array(c_arr * b / (c_arr - np.asarray(a) * (1.0 - b)))


# --------------------------------------------------------------------------- M/M/c model
def _phi(x: np.ndarray) -> np.ndarray:
    """``(1 - exp(-x)) / x`` computed stably (1 at x = 0)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-10
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - x / 2.0, -np.expm1(-safe) / safe)


def _ms(seconds: float) -> float:
    """Seconds to milliseconds, for the display tables."""
    return 1000.0 * float(seconds)


@dataclass(frozen=True)
class MMC:
    """An M/M/c FCFS queue in steady state (build it with :func:`mmc`).

    ``arrival_rate_per_s`` (requests per second), ``service_rate_per_s`` (completions
    per second per server) and ``servers``; every derived time is in seconds (its
    name ends in ``_s``), the rest are probabilities, Erlangs or counts.  Arrays are
    accepted and broadcast.
    """

    arrival_rate_per_s: float | np.ndarray
    service_rate_per_s: float | np.ndarray
    servers: int | np.ndarray

    @property
    def offered_load_erlangs(self) -> float | np.ndarray:
        """``A = lambda / mu`` in Erlangs (mean number of busy servers)."""
        return numeric.scalar_or_array(
            np.asarray(self.arrival_rate_per_s) / np.asarray(self.service_rate_per_s)
        )

    @property
    def utilization(self) -> float | np.ndarray:
        """``rho = lambda / (c mu)``: fraction of time a server is busy."""
        return numeric.scalar_or_array(
            np.asarray(self.offered_load_erlangs) / np.asarray(self.servers)
        )

    @property
    def p_wait(self) -> float | np.ndarray:
        """Probability that a request waits at all, ``C(c, A)`` (Erlang C)."""
        return erlang_c(self.servers, self.offered_load_erlangs)

    @property
    def _decay_per_s(self) -> np.ndarray:
        """Rate ``c mu - lambda`` (per second) of the exponential tail of the wait."""
        return np.asarray(self.servers) * np.asarray(self.service_rate_per_s) - np.asarray(
            self.arrival_rate_per_s
        )

    @property
    def mean_wait_s(self) -> float | np.ndarray:
        """Mean time in queue ``W_q = C / (c mu - lambda)``, seconds (Kleinrock 1975, ch. 3)."""
        return numeric.scalar_or_array(np.asarray(self.p_wait) / self._decay_per_s)

    @property
    def mean_response_s(self) -> float | np.ndarray:
        """Mean time in system ``W = W_q + 1 / mu``, seconds."""
        return numeric.scalar_or_array(
            np.asarray(self.mean_wait_s) + 1.0 / np.asarray(self.service_rate_per_s)
        )

    @property
    def mean_queue_length(self) -> float | np.ndarray:
        """Mean number of requests waiting ``L_q = lambda W_q`` (Little's law)."""
        return numeric.scalar_or_array(
            np.asarray(self.arrival_rate_per_s) * np.asarray(self.mean_wait_s)
        )

    def service_level(self, target_wait_s: ArrayLike) -> float | np.ndarray:
        """Fraction of requests that wait at most ``target_wait_s`` seconds in the queue.

        ``P(W <= t) = 1 - C exp(-(c mu - lambda) t)`` for ``t >= 0`` (FCFS;
        Kleinrock 1975, chapter 3).
        """
        tt = checks.non_negative("target_wait_s", target_wait_s)
        return numeric.scalar_or_array(
            1.0 - np.asarray(self.p_wait) * np.exp(-self._decay_per_s * np.asarray(tt))
        )

    def wait_percentile_s(self, q: ArrayLike) -> float | np.ndarray:
        """The ``q``-quantile of the time in queue, seconds (``q`` in [0, 1)).

        Inverts :meth:`service_level`: 0 when ``q <= 1 - C``, otherwise
        ``ln(C / (1 - q)) / (c mu - lambda)``.
        """
        qq = checks.in_range("q", q, 0.0, 1.0)
        _below_one(qq)
        c = np.asarray(self.p_wait)
        ratio = np.maximum(c / (1.0 - np.asarray(qq)), 1.0)
        return numeric.scalar_or_array(np.log(ratio) / self._decay_per_s)

    def response_cdf(self, t_s: ArrayLike) -> float | np.ndarray:
        """``P(T <= t_s)`` for the response time ``T = W + S`` (wait plus own service), seconds.

        Under FCFS a request's service time ``S ~ Exp(mu)`` is independent of its
        wait ``W``, which is 0 with probability ``1 - C`` and ``Exp(theta)`` with
        ``theta = c mu - lambda`` otherwise, so
        ``P(T > t) = (1 - C) e^{-mu t} + C e^{-mu t} (1 + mu t phi((theta - mu) t))``
        with ``phi(x) = (1 - e^{-x}) / x`` (the hypoexponential tail; Erlang-2 when
        ``theta = mu``).  Source: Gross et al. (2008), chapter 2 (M/M/c).
        """
        tt = np.asarray(checks.non_negative("t_s", t_s), dtype=float)
        mu = np.asarray(self.service_rate_per_s, dtype=float)
        c = np.asarray(self.p_wait)
        theta = self._decay_per_s
        tail = np.exp(-mu * tt) * (1.0 + c * mu * tt * _phi((theta - mu) * tt))
        return numeric.scalar_or_array(1.0 - tail)

    def response_percentile_s(self, q: ArrayLike) -> float | np.ndarray:
        """The ``q``-quantile of the response time (wait + service), seconds, ``q`` in [0, 1).

        Exact up to floating point: :meth:`response_cdf` is inverted by
        :func:`cloudpad.models.numeric.bisect` on ``[0, ln(2 / (1 - q)) (1/mu + 1/theta)]``,
        an interval that contains the quantile because ``P(S > s) + P(W > w) <= 1 - q``
        at its upper end.
        """
        qq = np.asarray(checks.in_range("q", q, 0.0, 1.0), dtype=float)
        _below_one(qq)
        mu = np.asarray(self.service_rate_per_s, dtype=float)
        hi = np.log(2.0 / (1.0 - qq)) * (1.0 / mu + 1.0 / self._decay_per_s)
        hi = np.broadcast_to(hi, np.broadcast(hi, qq).shape)
        below = lambda t: np.asarray(self.response_cdf(t)) < qq  # noqa: E731
        return numeric.scalar_or_array(numeric.bisect(below, np.zeros(hi.shape), hi, rel_tol=1e-15))

    def summary(self, target_wait_s: float) -> pd.Series:
        """The figures a capacity review asks for, as a Series (scalar queues only).

        For display, with the unit in each label: offered load (Erlangs), servers,
        utilisation (%), P(wait > 0) (%), mean wait, p99 wait and p99 response (ms),
        and the share of requests that wait at most ``target_wait_s`` seconds (%).
        """
        t = float(checks.non_negative("target_wait_s", target_wait_s))
        return pd.Series(
            {
                "offered load (Erlangs)": float(self.offered_load_erlangs),
                "servers": int(self.servers),
                "utilisation (%)": 100.0 * float(self.utilization),
                "P(wait > 0) (%)": 100.0 * float(self.p_wait),
                "mean wait (ms)": _ms(self.mean_wait_s),
                "p99 wait (ms)": _ms(self.wait_percentile_s(0.99)),
                "p99 response (ms)": _ms(self.response_percentile_s(0.99)),
                _share_label(t): 100.0 * float(self.service_level(t)),
            }
        )


def _share_label(target_wait_s: float) -> str:
    return f"share waiting ≤ {1000 * target_wait_s:g} ms (%)"


def _below_one(q: ArrayLike) -> None:
    if np.any(np.asarray(q) >= 1.0):
        raise InputError(f"q must be within [0, 1) (the 1-quantile is infinite), got {q!r}")


def mmc(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike) -> MMC:
    """The M/M/c queue: Poisson arrivals at ``arrival_rate_per_s`` requests per second,
    exponential service at ``service_rate_per_s`` per second per server, ``servers``
    servers, FCFS.

    Raises :class:`~cloudpad.exceptions.InputError` for negative or NaN rates, a
    non-integer or zero server count, and an unstable queue
    (``arrival_rate_per_s >= servers * service_rate_per_s``).
    """
    lam = checks.non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = checks.positive("service_rate_per_s", service_rate_per_s)
    c = _servers(servers)
    _stable(
        "arrival_rate_per_s / (servers * service_rate_per_s)",
        np.asarray(lam) / (np.asarray(c) * np.asarray(mu)),
    )
    return MMC(arrival_rate_per_s=lam, service_rate_per_s=mu, servers=c)


# --------------------------------------------------------------------------- sizing
def servers_for(
    arrival_rate_per_s: ArrayLike,
    service_rate_per_s: ArrayLike,
    target_wait_s: ArrayLike,
    target_fraction: ArrayLike,
) -> int | np.ndarray:
    """Fewest servers ``c`` with ``P(W <= target_wait_s) >= target_fraction`` in an M/M/c queue.

    ``target_wait_s`` is the allowed time in queue in seconds (0 means "no wait"),
    ``target_fraction`` in (0, 1) the share of requests that must meet it (e.g.
    0.99 for "99 % wait less than 20 ms").  Method: run the Erlang B recursion
    upwards from ``k = 1`` and stop at the first stable ``k`` whose service level
    ``1 - C(k, A) exp(-(k mu - lambda) t)`` meets the target; the service level
    rises with ``k``, so the first hit is the minimum.  Vectorised over all
    arguments.  Returns an int (scalar inputs) or an int array.
    """
    lam = checks.non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = checks.positive("service_rate_per_s", service_rate_per_s)
    t = checks.non_negative("target_wait_s", target_wait_s)
    f = checks.in_range("target_fraction", target_fraction, 0.0, 1.0, closed=False)
    lam_a, mu_a, t_a, f_a = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (lam, mu, t, f))
    )
    a = lam_a / mu_a
    result = np.zeros(a.shape, dtype=np.int64)
    todo = np.ones(a.shape, dtype=bool)
    b = np.ones(a.shape)
    k = 0
    while todo.any():
        k += 1
        b = a * b / (k + a * b)
        stable = a < k
        with np.errstate(divide="ignore", invalid="ignore"):
            c_wait = np.where(stable, k * b / (k - a * (1.0 - b)), 1.0)
            level = np.where(stable, 1.0 - c_wait * np.exp(-(k * mu_a - lam_a) * t_a), 0.0)
        hit = todo & stable & (level >= f_a)
        result[hit] = k
        todo &= ~hit
    return int(result) if result.ndim == 0 else result


def replicas_for(
    arrival_rate_per_s: ArrayLike,
    service_rate_per_s: ArrayLike,
    servers_per_replica: int,
    target_wait_s: ArrayLike,
    target_fraction: ArrayLike,
) -> int | np.ndarray:
    """Fewest whole replicas of ``servers_per_replica`` servers (e.g. vCPUs) meeting the target.

    ``ceil(servers_for(...) / servers_per_replica)``: the servers of all replicas form
    one pool (one shared FCFS queue, as behind a least-loaded balancer), so the
    service level only rises when the pool is rounded up to whole replicas.
    ``service_rate_per_s`` is per server.  Vectorised like :func:`servers_for`.
    """
    v = checks.whole("servers_per_replica", servers_per_replica, minimum=1)
    c = np.asarray(
        servers_for(arrival_rate_per_s, service_rate_per_s, target_wait_s, target_fraction)
    )
    n = -(-c // v)
    return int(n) if n.ndim == 0 else n


def servers_for_utilization(
    arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, target_utilization: ArrayLike
) -> int | np.ndarray:
    """Replicas a utilisation-target autoscaler settles on: ``ceil(lambda / (mu u*))``.

    This is the steady state of the Kubernetes Horizontal Pod Autoscaler rule
    ``desired = ceil(current * currentUtilization / targetUtilization)`` when the
    measured utilisation is the offered load ``lambda / mu`` spread over the
    replicas; pass the service rate of one replica (per second) to get replicas.
    ``target_utilization`` in (0, 1].  A tiny tolerance (1e-9) keeps exact
    multiples from rounding up through floating-point error.
    """
    lam = checks.non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = checks.positive("service_rate_per_s", service_rate_per_s)
    u = checks.in_range("target_utilization", target_utilization, 0.0, 1.0)
    if np.any(np.asarray(u) <= 0):
        raise InputError(f"target_utilization must be within (0, 1], got {u!r}")
    n = np.ceil(np.asarray(lam) / (np.asarray(mu) * np.asarray(u)) - 1e-9).astype(np.int64)
    n = np.maximum(n, 1)
    return int(n) if n.ndim == 0 else n


def square_root_beta(servers: ArrayLike, offered_load_erlangs: ArrayLike) -> float | np.ndarray:
    """Safety margin ``beta = (c - A) / sqrt(A)`` of ``servers`` serving ``A`` Erlangs.

    Square-root staffing writes a pool as ``c = A + beta sqrt(A)`` (Halfin and
    Whitt 1981): with ``beta`` fixed, the probability of waiting tends to a
    constant as ``A`` grows, so ``beta`` fitted at one load carries a service
    level to others (approximately, for large pools).  ``A > 0``.
    """
    c = np.asarray(_servers(servers), dtype=float)
    a = np.asarray(checks.positive("offered_load_erlangs", offered_load_erlangs), dtype=float)
    return numeric.scalar_or_array((c - a) / np.sqrt(a))


def square_root_utilization(offered_load_erlangs: ArrayLike, beta: ArrayLike) -> float | np.ndarray:
    """Utilisation ``A / (A + beta sqrt(A))`` of a pool staffed by the square-root rule.

    Rises towards 1 as the offered load ``A`` (Erlangs, > 0) grows: big pools can
    run hot at the same service level (Halfin and Whitt 1981).  ``beta >= 0``.
    """
    a = np.asarray(checks.positive("offered_load_erlangs", offered_load_erlangs), dtype=float)
    b = np.asarray(checks.non_negative("beta", beta), dtype=float)
    return numeric.scalar_or_array(a / (a + b * np.sqrt(a)))


def diurnal_rate(
    hour: ArrayLike, peak_rate_per_s: float, trough_ratio: float, peak_hour: float = 20.0
) -> float | np.ndarray:
    """A smooth daily traffic curve (an assumed shape, not measured data), requests per second.

    ``rate(h) = trough + (peak - trough) (1 + cos(2 pi (h - peak_hour) / 24)) / 2`` with
    ``trough = trough_ratio * peak_rate_per_s``: the peak at ``peak_hour`` (hours, 0-24),
    the trough twelve hours away.  A one-harmonic caricature of the day-night cycle
    of user-facing traffic; replace it with your own measured curve where you have one.
    """
    h = checks.as_float("hour", hour)
    peak = float(checks.non_negative("peak_rate_per_s", peak_rate_per_s))
    ratio = float(checks.probability("trough_ratio", trough_ratio))
    ph = float(checks.in_range("peak_hour", peak_hour, 0.0, 24.0))
    trough = ratio * peak
    shape = 0.5 * (1.0 + np.cos(2.0 * np.pi * (np.asarray(h) - ph) / 24.0))
    return numeric.scalar_or_array(trough + (peak - trough) * shape)


# --------------------------------------------------------------------------- simulation
def _batch_interval(per_stream: np.ndarray, pooled: float, level: float) -> Interval:
    """Confidence interval from independent streams: Student t on the stream statistics."""
    r = per_stream.size
    se = float(np.std(per_stream, ddof=1)) / math.sqrt(r)
    h = float(stats.t.ppf(0.5 + level / 2.0, r - 1)) * se
    return Interval(value=float(pooled), low=float(pooled) - h, high=float(pooled) + h, level=level)


def _quantile_interval(x: np.ndarray, q: float, level: float) -> Interval:
    """Pooled ``q``-quantile of ``x`` (customers x streams) with a batch CI.

    The share of each stream at or below the pooled quantile gives a Student-t
    interval ``q +- h`` for the probability; the quantile's interval is the pooled
    empirical quantiles at ``q - h`` and ``q + h`` (inverting the CDF interval),
    which keeps its coverage where per-stream quantiles of short streams are biased.
    """
    value = float(np.quantile(x, q))
    share = _batch_interval((x <= value).mean(axis=0), q, level)
    low = float(np.quantile(x, max(share.low, 0.0)))
    high = float(np.quantile(x, min(share.high, 1.0)))
    return Interval(value=value, low=min(low, value), high=max(high, value), level=level)


def _share_above(x: np.ndarray, t: ArrayLike) -> float | np.ndarray:
    """Share of the samples ``x`` strictly greater than each ``t`` (empirical survival)."""
    ordered = np.sort(x, axis=None)
    above = ordered.size - np.searchsorted(ordered, np.asarray(t, dtype=float), side="right")
    return numeric.scalar_or_array(above / ordered.size)


@dataclass(frozen=True)
class QueueSimulation:
    """Waits and service times of a simulated FCFS queue (from :func:`simulate_mmc`).

    ``waits_s`` and ``services_s`` have shape ``(customers_per_stream, streams)``
    (seconds, warm-up removed; one column per stream).  Streams are independent
    replications, so each estimate's confidence interval comes from the spread of the per-stream
    statistics (Student t with ``streams - 1`` degrees of freedom), which is valid
    although successive waits within a stream are correlated.  Estimates are
    :class:`~cloudpad.models.numeric.Interval` at ``level``.
    """

    arrival_rate_per_s: float
    service_rate_per_s: float
    servers: int
    waits_s: np.ndarray = field(repr=False)
    services_s: np.ndarray = field(repr=False)
    level: float = 0.95

    @property
    def customers(self) -> int:
        """Number of measured customers (all streams, after warm-up)."""
        return int(self.waits_s.size)

    @property
    def streams(self) -> int:
        """Number of independent streams (replications)."""
        return int(self.waits_s.shape[1])

    def mean_wait_s(self) -> Interval:
        """Mean time in queue, seconds."""
        return _batch_interval(self.waits_s.mean(axis=0), self.waits_s.mean(), self.level)

    def mean_response_s(self) -> Interval:
        """Mean time in system (wait + service), seconds."""
        t = self.waits_s + self.services_s
        return _batch_interval(t.mean(axis=0), t.mean(), self.level)

    def p_wait(self) -> Interval:
        """Fraction of requests that waited at all (compare with Erlang C)."""
        w = self.waits_s > 0
        return _batch_interval(w.mean(axis=0), w.mean(), self.level)

    def service_level(self, target_wait_s: float) -> Interval:
        """Fraction of requests that waited at most ``target_wait_s`` seconds."""
        w = self.waits_s <= float(checks.non_negative("target_wait_s", target_wait_s))
        return _batch_interval(w.mean(axis=0), w.mean(), self.level)

    def wait_percentile_s(self, q: float) -> Interval:
        """``q``-quantile of the wait, seconds (pooled); CI inverted from that of ``P(W <= x)``."""
        qq = float(checks.in_range("q", q, 0.0, 1.0))
        return _quantile_interval(self.waits_s, qq, self.level)

    def response_percentile_s(self, q: float) -> Interval:
        """``q``-quantile of the response time in seconds (pooled); CI as for the wait."""
        qq = float(checks.in_range("q", q, 0.0, 1.0))
        return _quantile_interval(self.waits_s + self.services_s, qq, self.level)

    def wait_sf(self, t_s: ArrayLike) -> float | np.ndarray:
        """Share of simulated requests that waited longer than ``t_s`` seconds (vectorised)."""
        return _share_above(self.waits_s, checks.non_negative("t_s", t_s))

    def response_sf(self, t_s: ArrayLike) -> float | np.ndarray:
        """Share of simulated requests whose response took longer than ``t_s`` seconds."""
        return _share_above(self.waits_s + self.services_s, checks.non_negative("t_s", t_s))


def _waits_one_server(inter: np.ndarray, serv: np.ndarray) -> np.ndarray:
    """Lindley waits for c = 1, all streams at once (arrays shaped (customers, streams)).

    ``W_1 = 0``, ``W_{n+1} = max(0, W_n + S_n - T_{n+1})`` unrolls to
    ``W_n = X_n - min_{k <= n} X_k`` with ``X`` the cumulative sum of
    ``S_{n-1} - T_n`` (``X_1 = 0``): one ``cumsum`` and one running minimum.
    """
    x = np.zeros_like(inter)
    np.cumsum(serv[:-1] - inter[1:], axis=0, out=x[1:])
    return x - np.minimum(np.minimum.accumulate(x, axis=0), 0.0)


def _waits_many_servers(
    arrivals: np.ndarray, serv: np.ndarray, servers: int, initial: np.ndarray | None = None
) -> np.ndarray:
    """FCFS waits for c servers via the sorted vector of server-free times.

    Kiefer–Wolfowitz: keep each stream's ``c`` server-free times sorted.  The next
    customer takes the earliest (column 0), starts at ``max(arrival, free_0)`` and
    frees that server at ``start + S``; re-sorting is an insertion of one value
    ``x`` into the sorted remaining times, done without a sort as
    ``new_0 = min(free_1, x)``, ``new_j = max(free_j, min(free_{j+1}, x))`` with
    ``free_c = +inf``.  The loop runs over customers; every step is a few
    NumPy operations on all streams at once.  ``initial`` (shape ``(c, streams)``,
    sorted along axis 0) gives the server-free times at time 0; default all zero.
    """
    r = arrivals.shape[1]
    c = servers
    # One row per server rank, one column per stream: free[0] <= ... <= free[c-1],
    # then a row of +inf (so the last rank's "next" is infinite).  Two buffers swap
    # roles each step, so a step is four NumPy calls on precomputed views.
    buf_a = np.zeros((c + 1, r))
    if initial is not None:
        buf_a[:c] = initial
    buf_b = np.empty((c + 1, r))
    buf_a[c] = buf_b[c] = np.inf
    views = [
        (cur[0], cur[1:], nxt[:c], cur[1:c], nxt[1:c])
        for cur, nxt in ((buf_a, buf_b), (buf_b, buf_a))
    ]
    starts = np.empty_like(arrivals)
    x = np.empty(r)
    for k, (a, s, start) in enumerate(zip(arrivals, serv, starts, strict=True)):
        first, rest, new_all, mid, new_mid = views[k & 1]
        np.maximum(a, first, out=start)  # takes the earliest-free server
        np.add(start, s, out=x)  # which is free again at x
        np.minimum(rest, x, out=new_all)  # new_j = min(free_{j+1}, x); new_0 final
        np.maximum(mid, new_mid, out=new_mid)  # new_j = max(free_j, ...), j >= 1
    starts -= arrivals
    return starts


def simulate_mmc(
    arrival_rate_per_s: float,
    service_rate_per_s: float,
    servers: int,
    customers: int = 1_000_000,
    *,
    streams: int | None = None,
    warmup: int | None = None,
    seed: int = 0,
    level: float = 0.95,
) -> QueueSimulation:
    """Discrete-event simulation of the M/M/c FCFS queue, ``customers`` measured requests.

    The requests are split over ``streams`` independent replications; with
    several servers each starts with ``round(lambda / mu)`` servers busy (the
    mean number busy, by Little's law) on exponential residual times, one server
    starts empty; the first ``warmup`` customers of each are discarded.  Default
    warm-up: ten relaxation times, ``10 lambda / (c mu (1 - sqrt(rho))^2)``
    customers (at least 200), the M/M/1 relaxation time of Morse (1955) scaled
    to ``c`` servers as in heavy-traffic theory; default ``streams``: enough
    that each stream measures at least four warm-ups, clipped to [20, 1000].
    Interarrival and service times are exponential (rates per second); waits
    come from Lindley's recursion (one server, fully vectorised) or the
    Kiefer–Wolfowitz server-free-time vector (several servers, vectorised
    across streams).  Deterministic for a given
    ``seed``.  Returns a :class:`QueueSimulation` whose estimates carry
    ``level`` confidence intervals.
    """
    lam = float(checks.positive("arrival_rate_per_s", arrival_rate_per_s))
    mu = float(checks.positive("service_rate_per_s", service_rate_per_s))
    c = _servers(servers)
    _stable("arrival_rate_per_s / (servers * service_rate_per_s)", lam / (c * mu))
    n_total = checks.whole("customers", customers, minimum=2)
    rho = lam / (c * mu)
    relax = 1.0 / (c * mu * (1.0 - math.sqrt(rho)) ** 2)  # seconds
    w0 = max(200, math.ceil(10.0 * lam * relax)) if warmup is None else warmup
    w0 = checks.whole("warmup", w0)
    if streams is None:
        streams = min(1000, max(20, n_total // (4 * max(w0, 1))))
    r = checks.whole("streams", streams, minimum=2)
    lvl = float(checks.in_range("level", level, 0.0, 1.0, closed=False))
    per = -(-n_total // r)
    n = per + w0
    rng = np.random.default_rng(checks.whole("seed", seed))
    inter = rng.standard_exponential((n, r))
    inter /= lam
    serv = rng.standard_exponential((n, r))
    serv /= mu
    if c == 1:
        waits = _waits_one_server(inter, serv)
    else:
        # Start with round(A) servers busy (A = lambda / mu is the mean number busy, by
        # Little's law) and exponential residual service (memoryless): close to the
        # steady state without using the Erlang C result the simulation checks.
        busy = min(c, round(lam / mu))
        initial = np.zeros((c, r))
        initial[c - busy :] = np.sort(rng.standard_exponential((busy, r)) / mu, axis=0)
        initial.sort(axis=0)
        waits = _waits_many_servers(np.cumsum(inter, axis=0, out=inter), serv, c, initial)
    keep = slice(w0, n)
    return QueueSimulation(
        arrival_rate_per_s=lam,
        service_rate_per_s=mu,
        servers=c,
        waits_s=waits[keep],
        services_s=serv[keep],
        level=lvl,
    )


def compare(model: MMC, sim: QueueSimulation, target_wait_s: float) -> pd.DataFrame:
    """Closed form against simulation: one row per figure, with the simulated CI.

    Rows, each labelled with its unit: P(wait > 0) (%), mean wait (ms), p99 wait
    (ms), share waiting at most ``target_wait_s`` seconds (%), p99 response (ms).
    Columns: ``closed form``, ``simulated``, ``CI low``, ``CI high`` (the
    simulation's confidence interval at ``sim.level``) and ``inside CI`` (whether
    the closed form lies in it).
    """
    t = float(checks.non_negative("target_wait_s", target_wait_s))
    rows = {
        "P(wait > 0) (%)": (model.p_wait, sim.p_wait(), 100.0),
        "mean wait (ms)": (model.mean_wait_s, sim.mean_wait_s(), 1000.0),
        "p99 wait (ms)": (model.wait_percentile_s(0.99), sim.wait_percentile_s(0.99), 1000.0),
        _share_label(t): (model.service_level(t), sim.service_level(t), 100.0),
        "p99 response (ms)": (
            model.response_percentile_s(0.99),
            sim.response_percentile_s(0.99),
            1000.0,
        ),
    }
    table = pd.DataFrame(
        {
            name: {
                "closed form": scale * float(exact),
                "simulated": scale * est.value,
                "CI low": scale * est.low,
                "CI high": scale * est.high,
                "inside CI": est.contains(float(exact)),
            }
            for name, (exact, est, scale) in rows.items()
        }
    ).T
    numbers = {c: float for c in ("closed form", "simulated", "CI low", "CI high")}
    return table.astype({**numbers, "inside CI": bool})
