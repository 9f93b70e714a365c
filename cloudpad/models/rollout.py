"""Making change safe: what a staged rollout costs a bad release, how fast it is caught, how often
a team can release through it.

A release goes out in *stages*: each stage puts the new version on a share of the traffic (its
*exposure*), waits (its *bake*), and is judged by comparing the canary's errors with those of a
baseline of the same size running the old version at the same time.  A bad release fails an extra
share ``delta`` of the requests it serves.  It is caught by that comparison at the end of some
evaluation, by the service's error-budget alerts, or by neither until it reaches everyone.  What
it costs users is the error budget it burns, counted as *full-outage minutes*: failing requests
divided by the request rate (one minute in which every request fails is one full-outage minute).

Sources
-------
* Canary comparison: the one-sided pooled two-sample test for proportions and its normal
  approximation of power, as R implements it in ``stats::power.prop.test`` (R Core Team, Peter
  Dalgaard; ``src/library/stats/R/power.R``): power ``= Phi((sqrt(n) |p1 - p0| - z_{1-alpha}
  sqrt(2 pbar qbar)) / sqrt(p0 q0 + p1 q1))`` with ``n`` requests in each group.  Its documented
  examples (n = 50, 0.50 vs 0.75 gives power 0.740; power 0.90 needs n = 76.7) are the tests.
* Compare against a baseline of the same size deployed at the same time, not against production;
  plan for canary analyses of several hours: Spinnaker, "Best practices for configuring canary".
* "Canarying is effectively an A/B testing process"; impact "is directly proportional to the
  amount of traffic exposed to defects" (5 % canary serving 20 % errors: 1 % overall); run one
  canary at a time: A. Warner, S. Davidovic, "Canarying Releases", *The Site Reliability
  Workbook* (O'Reilly 2018), ch. 16.
* Error-budget alerts: "the time taken for an alert to fire is ``(1 - SLO) / error ratio x
  alerting window size x burn rate``"; recommended pages at burn rate 14.4 over 1 hour and 6 over
  6 hours, a ticket at 1 over 3 days: S. Thurgood et al., "Alerting on SLOs", same book, ch. 5.
* Cells: "If a workload uses 10 cells to service 100 requests, when a failure occurs in one
  cell, 90% of the overall requests would be unaffected": AWS Well-Architected, "Reducing the
  Scope of Impact with Cell-Based Architecture".  Shuffle sharding: with eight workers "there are
  28 unique combinations of two workers": C. MacCarthaigh, "Workload isolation using
  shuffle-sharding", Amazon Builders' Library.

Conventions
-----------
Shares and error rates are fractions in [0, 1]; request rates per second; times in minutes
unless the name says otherwise.  The error-budget period is the 30-day month of
:mod:`cloudpad.models.availability`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special, stats

from cloudpad.exceptions import InputError
from cloudpad.models import availability, checks, numeric, team

#: Minutes in the 30-day month over which the error budget is counted.
MONTH_MINUTES: float = availability.PERIOD_HOURS["month"] * 60.0


# --------------------------------------------------------------------------- the comparison
def _rates(baseline_error_rate: ArrayLike, added_error_rate: ArrayLike) -> tuple:
    p0 = np.asarray(checks.probability("baseline_error_rate", baseline_error_rate), dtype=float)
    d = np.asarray(checks.probability("added_error_rate", added_error_rate), dtype=float)
    if np.any(p0 + d > 1):
        raise InputError(
            "baseline_error_rate + added_error_rate must be <= 1, got "
            f"{baseline_error_rate!r} + {added_error_rate!r}"
        )
    return p0, d


def _z(false_alarm: ArrayLike) -> np.ndarray:
    a = np.asarray(checks.in_range("false_alarm", false_alarm, 0.0, 1.0, closed=False))
    return -special.ndtri(a)  # the standard normal's upper quantile


def detection_power(
    requests_per_arm: ArrayLike,
    baseline_error_rate: ArrayLike,
    added_error_rate: ArrayLike,
    false_alarm: ArrayLike,
) -> float | np.ndarray:
    """Probability that the canary comparison flags a bad release after ``n`` requests per arm.

    The test: the canary's error proportion against the baseline's, one-sided (only a canary
    that is worse matters), pooled two-sample z-test at false-alarm rate ``false_alarm``, with
    ``n = requests_per_arm`` requests in each group (canary and baseline of the same size).
    Normal approximation of its power, as R's ``power.prop.test`` (``alternative="one.sided"``)::

        power = Phi((sqrt(n) * delta - z_{1-a} * sqrt(2 pbar (1 - pbar))) / sqrt(p0 q0 + p1 q1))

    with ``p1 = p0 + delta`` and ``pbar = (p0 + p1) / 2``.  R's two-sided test at level ``s``
    is this one at ``false_alarm = s / 2`` (its default ``strict=FALSE`` ignores the far tail).
    A good release (``delta = 0``) is flagged with probability ``false_alarm``.
    """
    n = np.asarray(checks.non_negative("requests_per_arm", requests_per_arm), dtype=float)
    p0, d = _rates(baseline_error_rate, added_error_rate)
    z = _z(false_alarm)
    p1 = p0 + d
    pbar = (p0 + p1) / 2.0
    spread = np.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    null = np.sqrt(2 * pbar * (1 - pbar))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (np.sqrt(n) * d - z * null) / spread
    # No variance at all (p0 = 0 and p1 in {0, 1}): a certain difference once any request is seen.
    certain = np.where(d > 0, np.where(n > 0, 1.0, 0.0), np.asarray(false_alarm, dtype=float))
    out = np.where(spread > 0, special.ndtr(score), certain)
    return numeric.scalar_or_array(out)


def requests_to_detect(
    baseline_error_rate: ArrayLike,
    added_error_rate: ArrayLike,
    false_alarm: ArrayLike,
    power: ArrayLike,
) -> float | np.ndarray:
    """Requests each arm (canary and baseline) must serve for the comparison to reach ``power``.

    The inverse of :func:`detection_power` in closed form (what ``power.prop.test`` finds by
    root-finding)::

        n = (z_{1-a} sqrt(2 pbar qbar) + z_{power} sqrt(p0 q0 + p1 q1))^2 / delta^2

    ``inf`` when ``added_error_rate`` is 0 (a release that is not worse cannot be told apart).
    """
    p0, d = _rates(baseline_error_rate, added_error_rate)
    za = _z(false_alarm)
    zb = special.ndtri(np.asarray(checks.in_range("power", power, 0.0, 1.0, closed=False)))
    p1 = p0 + d
    pbar = (p0 + p1) / 2.0
    top = za * np.sqrt(2 * pbar * (1 - pbar)) + zb * np.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(d > 0, np.maximum(top, 0.0) ** 2 / np.where(d > 0, d, 1.0) ** 2, np.inf)
    return numeric.scalar_or_array(n)


def min_detectable_increase(
    requests_per_arm: ArrayLike,
    baseline_error_rate: ArrayLike,
    false_alarm: ArrayLike,
    power: ArrayLike,
) -> float | np.ndarray:
    """Smallest added error rate the comparison detects with ``power`` after ``n`` requests per arm.

    Solves :func:`detection_power` ``= power`` for ``delta`` by bisection (power rises with
    ``delta``); ``1 - baseline`` (all requests failing) when even that is not detected.
    """
    n = np.asarray(checks.non_negative("requests_per_arm", requests_per_arm), dtype=float)
    p0 = np.asarray(checks.probability("baseline_error_rate", baseline_error_rate), dtype=float)
    target = np.asarray(checks.in_range("power", power, 0.0, 1.0, closed=False), dtype=float)
    a = np.asarray(false_alarm, dtype=float)
    n, p0, target, a = np.broadcast_arrays(n, p0, target, a)
    top = 1.0 - p0

    def too_small(d: np.ndarray) -> np.ndarray:
        return np.asarray(detection_power(n, p0, np.minimum(d, top), a)) < target

    found = numeric.bisect(too_small, np.zeros_like(top), top)
    return numeric.scalar_or_array(np.minimum(found, top))


def exact_detection_power(
    requests_per_arm: float,
    baseline_error_rate: float,
    added_error_rate: float,
    false_alarm: float,
) -> float:
    """Power of the exact conditional test for two Poisson counts (a check on the approximation).

    With rare errors each arm's error count is close to Poisson (mean ``n p0`` and ``n p1``).
    Given ``t`` errors in both arms together, the canary's count is binomial ``(t, p1 / (p0 +
    p1))``, and ``(t, 1/2)`` when the release is good; the test flags the canary when its count
    is at or above the smallest ``c`` with ``P(Binomial(t, 1/2) >= c) <= false_alarm`` (so its
    false-alarm rate is at most ``false_alarm``).  The power sums over ``t``.  This is the
    conditional test for two Poisson means, the "C-test" (Przyborowski and Wilenski, 1940, as
    cited by SciPy's ``poisson_means_test`` and Krishnamoorthy and Thomson, 2004).
    """
    n = float(checks.non_negative("requests_per_arm", requests_per_arm))
    p0, d = (float(x) for x in _rates(baseline_error_rate, added_error_rate))
    a = float(checks.in_range("false_alarm", false_alarm, 0.0, 1.0, closed=False))
    p1 = p0 + d
    mean = n * (p0 + p1)
    if mean == 0:
        return 0.0
    top = int(stats.poisson.isf(1e-12, mean)) + 1
    t = np.arange(1, top + 1)
    # smallest c with sf(c - 1) <= a, i.e. isf(a) + 1 rounded to the binomial support
    c = stats.binom.isf(a, t, 0.5) + 1
    c = np.where(stats.binom.sf(c - 2, t, 0.5) <= a, c - 1, c)  # guard against isf rounding
    reject = stats.binom.sf(c - 1, t, p1 / (p0 + p1))
    return float(np.sum(stats.poisson.pmf(t, mean) * reject))


# --------------------------------------------------------------------------- the alerts
def alert_minutes(
    added_error_rate: ArrayLike,
    slo: float,
    window_hours: float,
    burn_rate: float,
    baseline_error_rate: float = 0.0,
) -> float | np.ndarray:
    """Minutes until an error-budget burn-rate alert fires after a release adds errors.

    The alert fires when the error ratio averaged over the last ``window_hours`` exceeds
    ``burn_rate * (1 - slo)``.  If the ratio steps from ``p0`` to ``p0 + delta`` at time 0 and
    the window was clean before, the average after ``t`` is ``p0 + delta t / w``, so::

        t = w * (burn_rate (1 - slo) - p0) / delta

    the Site Reliability Workbook's ``(1 - SLO) / error ratio x window x burn rate`` when
    ``p0 = 0``.  ``inf`` when ``p0 + delta`` never reaches the threshold (the workbook: at
    burn rate 36 over an hour, "a 35x burn rate never alerts").  A baseline already at the
    threshold would keep the alert firing, and is refused.
    """
    d = np.asarray(checks.probability("added_error_rate", added_error_rate), dtype=float)
    s = float(checks.in_range("slo", slo, 0.0, 1.0, closed=False))
    w = float(checks.positive("window_hours", window_hours)) * 60.0
    b = float(checks.positive("burn_rate", burn_rate))
    p0 = float(checks.probability("baseline_error_rate", baseline_error_rate))
    threshold = b * (1.0 - s)
    if p0 >= threshold * (1 - 1e-9):  # (1 - 0.999 is not exactly 0.001)
        raise InputError(
            f"baseline_error_rate {p0!r} is already at the alert threshold burn_rate * (1 - slo) "
            f"= {threshold:g}: the alert would never stop firing"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p0 + d > threshold, w * (threshold - p0) / np.where(d > 0, d, 1.0), np.inf)
    return numeric.scalar_or_array(t)


def budget_exhaustion_hours(error_rate: ArrayLike, slo: float, period: str = "month") -> float:
    """Hours until a constant ``error_rate`` spends a whole ``period``'s error budget.

    Formula: ``period_hours / burn rate`` with burn rate ``error_rate / (1 - slo)``; the
    workbook's Table 5-4 (99.9 %, 30 days): 0.1 % errors last 30 days, 1 % three days, 100 %
    43 minutes.
    """
    e = np.asarray(checks.probability("error_rate", error_rate), dtype=float)
    s = float(checks.in_range("slo", slo, 0.0, 1.0, closed=False))
    hours = availability.PERIOD_HOURS[checks.choice("period", period, availability.PERIOD_HOURS)]
    with np.errstate(divide="ignore"):
        return numeric.scalar_or_array(np.where(e > 0, hours * (1 - s) / e, np.inf))


# --------------------------------------------------------------------------- cells
def blast_radius(cells: ArrayLike, cells_failed: ArrayLike = 1) -> float | np.ndarray:
    """Share of requests a failure reaches when it stays inside ``cells_failed`` of ``cells``
    equal cells: ``cells_failed / cells`` (AWS: 10 cells, one fails, 90 % unaffected).
    """
    n = np.asarray(checks.positive("cells", cells), dtype=float)
    k = np.asarray(checks.non_negative("cells_failed", cells_failed), dtype=float)
    if np.any(k > n):
        raise InputError(f"cells_failed must be <= cells, got {cells_failed!r} > {cells!r}")
    return numeric.scalar_or_array(k / n)


def shuffle_shards(workers: int, shard_size: int) -> int:
    """Distinct shuffle shards of ``shard_size`` workers among ``workers``: ``C(workers, size)``.

    A customer on its own shuffle shard shares all its workers with another customer's shard
    only if both drew the same combination; with clients that retry on another worker of their
    shard, a problem that takes out one shard's workers reaches ``1 / C`` of the customers.
    """
    n = checks.whole("workers", workers, minimum=1)
    k = checks.whole("shard_size", shard_size, minimum=1)
    if k > n:
        raise InputError(f"shard_size must be <= workers, got {shard_size!r} > {workers!r}")
    return math.comb(n, k)


def replicas_for_cells(
    replicas: ArrayLike, cells: int, min_replicas_per_cell: int
) -> float | np.ndarray:
    """Replicas each service needs to run in ``cells`` cells of at least ``min_replicas_per_cell``.

    Formula: ``max(replicas, cells * min_replicas_per_cell)`` per service: a cell is a whole
    copy of the stack, so every service needs its minimum in every cell, however little traffic
    the cell gets.  (The replicas of a cell can be smaller; this counts replicas, not cores.)
    """
    r = np.asarray(checks.non_negative("replicas", replicas), dtype=float)
    c = checks.whole("cells", cells, minimum=1)
    m = checks.whole("min_replicas_per_cell", min_replicas_per_cell, minimum=1)
    return numeric.scalar_or_array(np.maximum(r, c * m))


# --------------------------------------------------------------------------- the rollout
@dataclass(frozen=True)
class Stage:
    """One step of a rollout.

    ``exposure``: share of all traffic on the new version once the stage is live (cumulative).
    ``bake_minutes``: how long the stage runs before the next starts (the last stage, at
    exposure 1, has none: it is where the release stays).  ``blast``: share of the traffic that
    a fault reaching beyond the new version's own instances can harm during the stage (a schema
    change, a poisoned shared cache, a bad write to shared data): 1 when the stack is shared,
    the share of the cells it runs in when the stack is split into cells.
    """

    name: str
    exposure: float
    bake_minutes: float
    blast: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < float(checks.as_float(f"stage {self.name!r} exposure", self.exposure)) <= 1.0:
            raise InputError(
                f"stage {self.name!r} exposure must be in (0, 1], got {self.exposure!r}"
            )
        checks.non_negative(f"stage {self.name!r} bake_minutes", self.bake_minutes)
        if not 0.0 < float(checks.as_float(f"stage {self.name!r} blast", self.blast)) <= 1.0:
            raise InputError(f"stage {self.name!r} blast must be in (0, 1], got {self.blast!r}")
        if self.blast < self.exposure:
            raise InputError(
                f"stage {self.name!r}: blast {self.blast!r} must be >= exposure {self.exposure!r}"
            )


@dataclass(frozen=True)
class Rollout:
    """Stages in order, exposures rising to 1 (everyone), each deployed in ``deploy_minutes``."""

    name: str
    stages: tuple[Stage, ...]
    deploy_minutes: float = 0.0

    def __post_init__(self) -> None:
        if not self.stages:
            raise InputError(f"rollout {self.name!r} has no stages")
        exposures = [s.exposure for s in self.stages]
        if any(b <= a for a, b in itertools.pairwise(exposures)):
            raise InputError(f"rollout {self.name!r}: exposures must rise, got {exposures}")
        if exposures[-1] != 1.0:
            raise InputError(f"rollout {self.name!r}: the last stage must reach exposure 1")
        checks.non_negative(f"rollout {self.name!r} deploy_minutes", self.deploy_minutes)

    @property
    def lead_minutes(self) -> float:
        """Minutes from the first deploy to everyone: every stage's deploy and bake."""
        return float(sum(self.deploy_minutes + s.bake_minutes for s in self.stages))


def all_at_once(deploy_minutes: float = 0.0) -> Rollout:
    """Everyone at once: no canary, the alerts are the only judge."""
    return Rollout("all at once", (Stage("everyone", 1.0, 0.0),), deploy_minutes)


def canary_then_all(
    canary_share: float, canary_bake_minutes: float, deploy_minutes: float = 0.0
) -> Rollout:
    """A canary on ``canary_share`` of all traffic (in every region), then everyone."""
    stages = (Stage("canary", canary_share, canary_bake_minutes), Stage("everyone", 1.0, 0.0))
    return Rollout("canary, then everyone", stages, deploy_minutes)


def region_waves(
    regions: int,
    canary_share: float,
    canary_bake_minutes: float,
    region_bake_minutes: float,
    deploy_minutes: float = 0.0,
    cells_per_region: int | None = None,
) -> Rollout:
    """A canary in the first region, then one region at a time, each baked.

    Exposures: ``canary_share``, then ``k / regions`` for ``k = 1 .. regions`` (equal regions).
    With ``cells_per_region``, the stack is split into cells: the canary runs inside one cell,
    so a fault beyond its own instances reaches that cell (``1 / (regions * cells)``) rather
    than everyone, and each region wave reaches its regions only.  Without, every stage's blast
    is 1.  The exposures and bakes are the same either way.
    """
    n = checks.whole("regions", regions, minimum=1)
    in_cells = cells_per_region is not None
    cell = (
        1.0 / (n * checks.whole("cells_per_region", cells_per_region, minimum=1))
        if in_cells
        else 1.0
    )
    if in_cells and canary_share > cell:
        raise InputError(
            f"canary_share {canary_share!r} does not fit in one cell ({cell:g} of the traffic)"
        )
    stages = [Stage("canary", canary_share, canary_bake_minutes, cell)]
    for k in range(1, n + 1):
        share = k / n
        bake = region_bake_minutes if k < n else 0.0
        blast = share if in_cells else 1.0
        name = "everyone" if k == n else f"{k} of {n} regions"
        stages.append(Stage(name, share, bake, blast))
    name = "region by region" + (", in cells" if in_cells else "")
    return Rollout(name, tuple(stages), deploy_minutes)


def strategies(
    regions: int,
    canary_share: float,
    canary_bake_minutes: float,
    region_bake_minutes: float,
    deploy_minutes: float,
    cells_per_region: int,
) -> list[Rollout]:
    """The four rollouts the book compares, from the same few settings.

    :func:`all_at_once`; :func:`canary_then_all`; :func:`region_waves`; and the same region waves
    with the stack split into ``cells_per_region`` cells per region.  The last two have the same
    exposures, bakes and lead time, so they differ only in how far a fault beyond the new
    version's own instances reaches.
    """
    waves = (regions, canary_share, canary_bake_minutes, region_bake_minutes, deploy_minutes)
    return [
        all_at_once(deploy_minutes),
        canary_then_all(canary_share, canary_bake_minutes, deploy_minutes),
        region_waves(*waves),
        region_waves(*waves, cells_per_region=cells_per_region),
    ]


# --------------------------------------------------------------------------- judging a rollout
@dataclass(frozen=True)
class Conditions:
    """What every rollout compared faces: the same traffic, the same bad release, the same judge.

    ``traffic_rps``: requests per second of the service released; ``baseline_error_rate``: share
    failing before; ``added_error_rate``: the extra share a bad release fails on the traffic it
    reaches.  The canary comparison (:func:`detection_power`) runs every ``evaluation_minutes``
    during a stage's bake; the stage's false-alarm rate ``false_alarm`` is split evenly over its
    evaluations (Bonferroni), so a good release is halted by a stage with probability at most
    ``false_alarm``.  Alongside, the error-budget alerts (:func:`alert_minutes`, one per entry of
    ``alert_windows_hours`` / ``alert_burn_rates``) watch the whole service; after an alert a
    human responds (``alert_response_minutes`` of that alert), diagnoses and mitigates
    (:class:`cloudpad.models.team.Recovery`), while a failed comparison rolls back by itself in
    ``rollback_minutes``.  ``shared_fault_share``: share of bad releases whose harm reaches
    beyond the new version's instances (see :class:`Stage`).
    """

    traffic_rps: float
    baseline_error_rate: float
    added_error_rate: float
    false_alarm: float
    evaluation_minutes: float
    slo: float
    alert_windows_hours: tuple[float, ...]
    alert_burn_rates: tuple[float, ...]
    alert_response_minutes: tuple[float, ...]
    diagnose_minutes: float
    mitigate_minutes: float
    rollback_minutes: float
    shared_fault_share: float = 0.0

    def __post_init__(self) -> None:
        for name in ("alert_windows_hours", "alert_burn_rates", "alert_response_minutes"):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
        checks.positive("traffic_rps", self.traffic_rps)
        _rates(self.baseline_error_rate, self.added_error_rate)
        checks.in_range("false_alarm", self.false_alarm, 0.0, 1.0, closed=False)
        checks.positive("evaluation_minutes", self.evaluation_minutes)
        checks.in_range("slo", self.slo, 0.0, 1.0, closed=False)
        lengths = {
            len(self.alert_windows_hours),
            len(self.alert_burn_rates),
            len(self.alert_response_minutes),
        }
        if len(lengths) != 1 or 0 in lengths:
            raise InputError(
                "alert_windows_hours, alert_burn_rates and alert_response_minutes must be lists "
                f"of the same length >= 1, got {self.alert_windows_hours!r}, "
                f"{self.alert_burn_rates!r}, {self.alert_response_minutes!r}"
            )
        for name in ("diagnose_minutes", "mitigate_minutes", "rollback_minutes"):
            checks.non_negative(name, getattr(self, name))
        checks.non_negative("alert_response_minutes", list(self.alert_response_minutes))
        checks.probability("shared_fault_share", self.shared_fault_share)
        for w, b in zip(self.alert_windows_hours, self.alert_burn_rates, strict=True):
            alert_minutes(0.0, self.slo, w, b, self.baseline_error_rate)  # refuses a bad baseline

    def with_added_error_rate(self, added_error_rate: float) -> Conditions:
        """The same conditions for a bad release of another severity."""
        return dataclasses.replace(self, added_error_rate=added_error_rate)

    def human_fix_minutes(self, fired_minutes: float, rule: int) -> float:
        """Minutes from the start of harm to the fix when alert ``rule`` fired at ``fired_minutes``.

        The steps of :class:`cloudpad.models.team.Recovery`: detection (the alert), that
        alert's response, the diagnosis and the mitigation.
        """
        after = _after_detection(
            self.alert_response_minutes[rule], self.diagnose_minutes, self.mitigate_minutes
        )
        return fired_minutes + after


@functools.lru_cache(maxsize=256)
def _after_detection(respond: float, diagnose: float, mitigate: float) -> float:
    """Minutes of :class:`cloudpad.models.team.Recovery` after detection (its total with no
    detection time; the total is the sum of the steps).  Memoised: a sweep asks for the same
    few steps thousands of times."""
    return team.Recovery(0.0, respond, diagnose, mitigate).total_minutes


def _window_harm(t: np.ndarray, starts: np.ndarray, shares: np.ndarray, w: float) -> np.ndarray:
    """Integral of the harmed share over the window ``[t - w, t]`` (harm ``shares[i]`` from
    ``starts[i]`` until the next start, the last one for ever; none before 0)."""
    ends = np.append(starts[1:], np.inf)
    lo = np.maximum(t[..., None] - w, starts)
    hi = np.minimum(t[..., None], ends)
    return np.sum(np.clip(hi - lo, 0.0, None) * shares, axis=-1)


def _alert_fires(starts: np.ndarray, shares: np.ndarray, c: Conditions) -> list[float]:
    """Minutes after the first stage starts at which each alert fires, if nobody intervenes.

    The service's error rate over the last ``w`` minutes is ``p0 + delta * H(t) / w``, with
    ``H(t)`` the harmed share integrated over the window.  ``H`` is piecewise linear, bending
    only where a stage starts or leaves the window, and never falls (shares never fall), so the
    first time the rate reaches ``burn_rate * (1 - slo)`` lies on one linear piece and is found
    exactly by interpolation (``inf``: never).
    """
    fired = []
    rules = zip(c.alert_windows_hours, c.alert_burn_rates, strict=True)
    for hours, burn in rules:
        w = hours * 60.0
        need = (burn * (1.0 - c.slo) - c.baseline_error_rate) * w  # share-minutes x delta
        knots = np.unique(np.concatenate([starts, starts + w]))
        harm = c.added_error_rate * _window_harm(knots, starts, shares, w)
        above = np.flatnonzero(harm >= need)
        if above.size == 0:  # after the last knot the window no longer changes
            fired.append(math.inf)
            continue
        j = int(above[0])  # j > 0: nothing is harmed before the first stage starts
        t0, t1, h0, h1 = knots[j - 1], knots[j], harm[j - 1], harm[j]
        fired.append(float(t0 + (need - h0) * (t1 - t0) / (h1 - h0)))
    return fired


#: Columns of :attr:`Outcome.stages`, one row per stage: the share of traffic harmed, the bake,
#: the requests each arm of the comparison has served by the end of the bake, the chance that the
#: comparison or an alert stops a bad release there (given it got there), and that it got there.
STAGE_COLUMNS = (
    "harmed_share",
    "bake_minutes",
    "requests_per_arm",
    "caught_by_canary",
    "caught_by_alert",
    "reached",
)


def _harm(
    rollout: Rollout, shares: Sequence[float], c: Conditions, canary: bool = True
) -> tuple[float, list[tuple]]:
    """Expected full-outage minutes of a bad release, and what each stage does to it (rows of
    the stage name and :data:`STAGE_COLUMNS`).

    The timeline runs from the first stage's start; stage ``i`` harms ``shares[i]`` of the
    traffic from ``starts[i]`` (deploy time is left out: it only delays the next exposure).
    """
    bakes = np.array([s.bake_minutes for s in rollout.stages], dtype=float)
    h = np.asarray(shares, dtype=float)
    if np.any(np.diff(h) < 0):
        raise InputError(f"rollout {rollout.name!r}: harmed shares must not fall, got {list(h)}")
    starts = np.concatenate([[0.0], np.cumsum(bakes[:-1])])
    fired = _alert_fires(starts, h, c)
    first_alert = min(fired)
    alert_fix = min(
        (c.human_fix_minutes(f, i) for i, f in enumerate(fired) if math.isfinite(f)),
        default=math.inf,
    )
    done = np.concatenate([[0.0], np.cumsum(h[:-1] * bakes[:-1])])  # harm before each stage

    def harm_until(fix: np.ndarray, i: int) -> np.ndarray:  # share-minutes until a fix in stage i
        return done[i] + h[i] * (np.minimum(fix, starts[i] + MONTH_MINUTES) - starts[i])

    reach, lost, rows, last = 1.0, 0.0, [], len(h) - 1
    for i, stage in enumerate(rollout.stages):
        halted = first_alert < starts[i] + bakes[i] or i == last  # the alert halts promotion here
        arm_rps = min(h[i], 1.0 - h[i]) * c.traffic_rps if canary and i < last else 0.0
        m = max(1, math.ceil(bakes[i] / c.evaluation_minutes - 1e-9))
        times = starts[i] + np.minimum(np.arange(1, m + 1) * c.evaluation_minutes, bakes[i])
        n = arm_rps * 60.0 * (times - starts[i])
        power = detection_power(n, c.baseline_error_rate, c.added_error_rate, c.false_alarm / m)
        caught = np.maximum.accumulate(np.atleast_1d(power)) if arm_rps > 0 else np.zeros(m)
        first = np.diff(caught, prepend=0.0)  # flagged first at evaluation k
        flagged_fix = times + c.rollback_minutes
        by_canary = float(np.sum(first[(flagged_fix <= alert_fix) & (times <= first_alert)]))
        cost = np.sum(first * harm_until(np.minimum(flagged_fix, alert_fix), i))
        missed = 1.0 - float(caught[-1])
        if halted:  # nothing gets past: the alert (or, with none, the month) ends the harm
            cost += missed * harm_until(np.array(alert_fix), i)
            past = 0.0
        else:
            past = missed
        lost += reach * c.added_error_rate * float(cost)
        by_alert = (1.0 - by_canary - past) if math.isfinite(alert_fix) else 0.0
        rows.append((stage.name, h[i], bakes[i], float(n[-1]), by_canary, by_alert, reach))
        reach *= past
    return lost, rows


@dataclass(frozen=True)
class Outcome:
    """What a rollout does to one bad release, and what it asks of good ones.

    ``minutes_lost``: expected full-outage minutes a bad release costs, faults of the new
    version's own instances and faults beyond them mixed by ``shared_fault_share``
    (``minutes_lost_own`` and ``minutes_lost_shared`` apart); ``minutes_if_missed``: what an
    own-instance fault costs when no comparison flags it; ``caught_early``: the probability an
    own-instance fault is stopped before it reaches everyone; ``false_halt``: the probability a
    good release is halted by some stage's comparison (at most); ``stages``: per stage, for an
    own-instance fault, the chance of reaching it and of being caught there.
    """

    rollout: Rollout
    minutes_lost: float
    minutes_lost_own: float
    minutes_lost_shared: float
    minutes_if_missed: float
    caught_early: float
    false_halt: float
    stage_rows: tuple[tuple, ...] = field(repr=False)

    @property
    def stages(self) -> pd.DataFrame:
        """One row per stage reached, indexed by stage name, columns :data:`STAGE_COLUMNS`."""
        return pd.DataFrame(list(self.stage_rows), columns=["stage", *STAGE_COLUMNS]).set_index(
            "stage"
        )

    @property
    def lead_minutes(self) -> float:
        """Minutes from the first deploy to everyone."""
        return self.rollout.lead_minutes


def evaluate(rollout: Rollout, conditions: Conditions) -> Outcome:
    """Judge ``rollout`` under ``conditions`` (see :class:`Outcome`).

    A stage harms a share ``h`` of the traffic: its exposure for a fault of the new version's
    own instances, its blast for one beyond them.  The comparison's two arms serve ``min(h, 1 -
    h) * traffic_rps`` requests per second each (a baseline as large as the canary; none once
    everyone has the new version, nor when everything is harmed alike).  Evaluation ``k`` of the
    ``m`` in a bake flags the release with the power of a test at ``false_alarm / m`` on the
    requests so far; the chance it has been flagged by then is taken as the largest power so far
    (a lower bound: the evaluations see overlapping data).  The error-budget alerts watch the
    whole timeline (:func:`_alert_fires`); an alert halts the rollout where it is.  The harm lasts
    until the first fix: the automatic rollback after a flag, or the human fix after an alert;
    if neither comes, until the end of the month.  Cost: ``delta * (harmed share x minutes)``,
    summed over the stages weighted by the chance of reaching each.
    """
    c = conditions
    own, rows = _harm(rollout, [s.exposure for s in rollout.stages], c)
    reached_last = rows[-1][-1]
    shared, _ = _harm(rollout, [s.blast for s in rollout.stages], c)
    missed, _ = _harm(rollout, [s.exposure for s in rollout.stages], c, canary=False)
    compared = sum(1 for s in rollout.stages[:-1] if s.bake_minutes > 0)
    return Outcome(
        rollout=rollout,
        minutes_lost=(1 - c.shared_fault_share) * own + c.shared_fault_share * shared,
        minutes_lost_own=own,
        minutes_lost_shared=shared,
        minutes_if_missed=missed,
        caught_early=1.0 - reached_last,
        false_halt=1.0 - (1.0 - c.false_alarm) ** compared,
        stage_rows=tuple(rows),
    )


# --------------------------------------------------------------------------- pace
def releases_per_day(lead_minutes: ArrayLike, release_hours_per_day: float) -> float | np.ndarray:
    """Releases a pipeline can take a day with one release in flight at a time.

    Formula: ``release_hours_per_day * 60 / lead_minutes``.  One at a time, as the Site
    Reliability Workbook advises ("We strongly advise running only one canary deployment at a
    time"); ``release_hours_per_day`` is how long each day the pipeline may promote (a small team
    that wants someone awake when a stage goes out: its working day; a hands-off pipeline: 24).
    """
    lead = np.asarray(checks.positive("lead_minutes", lead_minutes), dtype=float)
    hours = float(checks.in_range("release_hours_per_day", release_hours_per_day, 0.0, 24.0))
    return numeric.scalar_or_array(hours * 60.0 / lead)


def compare(
    rollouts: Sequence[Rollout],
    conditions: Conditions,
    change_failure_rate: float,
    releases_per_month: float,
    release_hours_per_day: float,
) -> pd.DataFrame:
    """The rollouts side by side under the same conditions: one row each, indexed by name.

    Columns: ``lead_hours`` (first deploy to everyone), ``releases_per_day`` (through the
    pipeline, :func:`releases_per_day`), ``caught_early``, ``minutes_lost`` and
    ``minutes_if_missed`` per bad release (:class:`Outcome`), ``budget_share`` (share of the
    month's error budget the bad releases of ``releases_per_month`` releases spend:
    ``releases * change_failure_rate * minutes_lost / budget``), ``releases_allowed`` (releases a
    month the budget pays for, :func:`cloudpad.models.team.deploys_allowed`) and
    ``false_halts`` (good releases a month halted by a comparison: ``releases * (1 - cfr) *
    false_halt``, at most).
    """
    cfr = float(checks.probability("change_failure_rate", change_failure_rate))
    planned = float(checks.non_negative("releases_per_month", releases_per_month))
    budget = float(availability.downtime_minutes(conditions.slo, "month"))
    rows = {}
    for r in rollouts:
        out = evaluate(r, conditions)
        rows[r.name] = {
            "lead_hours": r.lead_minutes / 60.0,
            "releases_per_day": releases_per_day(r.lead_minutes, release_hours_per_day),
            "caught_early": out.caught_early,
            "minutes_lost": out.minutes_lost,
            "minutes_if_missed": out.minutes_if_missed,
            "budget_share": planned * cfr * out.minutes_lost / budget,
            "releases_allowed": team.deploys_allowed(conditions.slo, cfr, out.minutes_lost),
            "false_halts": planned * (1.0 - cfr) * out.false_halt,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
