"""Data across regions: what a replicated write waits for, what losing a region costs, and the bill.

Conventions: round trips and write latencies in milliseconds (ms), replication lag in seconds
(s), recovery times in minutes, rates per second, sizes in bytes, GB = 10^9 bytes, money in USD
per 730-hour billing month (:data:`cloudpad.models.cost.BILLING_MONTH_HOURS`).

1. **What a write waits for.**  A leader commits a write after its own durable write
   (``local_ms``) and after ``acks`` followers have acknowledged it; a follower's acknowledgement
   arrives one round trip after the leader sent the write, so

   ``commit = local_ms + round_trips * RTT_(acks)``,

   the ``acks``-th smallest round trip among the followers whose acknowledgement counts
   (``RTT_(0) = 0``).  A :class:`Design` says which copies exist where, how many
   acknowledgements a commit waits for and whose count: followers in the leader's region
   (``local``: synchronous across zones, asynchronous across regions), in other regions
   (``remote``: semi-synchronous or synchronous replication to another region) or ``any``
   (a majority quorum).  Asynchronous replication across regions waits for no remote copy;
   semi-synchronous waits for one (MySQL: ``rpl_semi_sync_source_wait_for_replica_count``
   defaults to 1, "the source only waits for one replica to acknowledge receipt", MySQL 8.4
   Reference Manual, 19.4.10.2); a majority of ``n`` copies is ``floor(n/2) + 1`` including the
   leader, so it waits for ``floor(n/2)`` followers (Ongaro and Ousterhout, "In Search of an
   Understandable Consensus Algorithm", USENIX ATC 2014: five servers tolerate two failures);
   synchronous-to-all waits for every follower that counts.  Azure Cosmos DB's published rule for
   strong consistency across regions, "two times round-trip time (RTT) between any of the two
   farthest regions, plus 10 milliseconds at the 99th percentile" ("Consistency levels in Azure
   Cosmos DB", Microsoft Learn, 2025-08-28), is :func:`cosmos_strong_write_p99_ms`.

2. **Round trips vary.**  The measured data (``azure_rtt_p95_ms``) gives each path's 95th
   percentile only.  A path's round trip is modelled as a shifted exponential whose P95 is the
   measured one: a fixed part ``(1 - f) * P95`` plus an exponential part of mean
   ``f * P95 / ln 20`` (:func:`path_model`; ``f``, the variable share, is an assumption).  The
   time until the k-th of independent acknowledgements has ``P(T <= t) = P(N(t) >= k)`` with
   ``N(t)`` the number of paths done by ``t``, a Poisson-binomial count computed exactly
   (:class:`KthAck`).  With ``f = 0`` every path takes its P95 and :class:`KthAck` reduces to
   :func:`commit_ms`.

3. **Data at risk (RPO).**  A committed write is lost with the leader's region unless a copy
   outside that region acknowledged it (:attr:`Design.safe_on_region_loss`).  Otherwise the loss
   is the replication lag's worth of writes, ``writes_per_s * lag_s`` (:func:`writes_at_risk`), or
   everything since the last backup when there is no copy in another region.

4. **Recovery time (RTO).**  The stages of a failover by hand and of an automated one
   (:class:`RecoveryTimes`): noticing, deciding, promoting, redirecting.  For an outage whose
   duration ``D`` is exponential with mean ``M`` and a failover that restores service ``R``
   minutes after the outage starts, the service is down ``min(D, R)``, on average
   ``M (1 - exp(-R / M))`` (:func:`expected_outage_minutes`), and the switch happens at all
   (stranding the writes not yet copied) with probability ``exp(-t_switch / M)``
   (:func:`failover_probability`).  A region other than the leader's stops writes only if the
   design cannot commit without it (:func:`write_outage_minutes_per_year`).

5. **Cost.**  Every copy is a node at one hourly price; every write is shipped to every remote
   copy (priced per GB leaving the leader's region) and to every other copy in the leader's
   region (priced per GB where zone traffic is billed) (:func:`compare`).

6. **Which regions.**  :func:`partners` lists the regions a leader can wait for within a
   write-latency budget, :func:`frontier` the farthest pair any budget buys, :func:`quorum_sets`
   the three-region majority sets within a budget with their latency after losing the leader's
   region.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, numeric
from cloudpad.models.latency import Exponential, LatencyDistribution, PointMass

__all__ = [
    "COUNTS",
    "RECOVERIES",
    "Design",
    "KthAck",
    "RecoveryTimes",
    "RoundTrips",
    "Workload",
    "break_even_writes_per_s",
    "commit_distribution",
    "commit_ms",
    "compare",
    "cosmos_strong_write_p99_ms",
    "describe",
    "expected_outage_minutes",
    "failover_probability",
    "farthest_partner",
    "frontier",
    "majority",
    "majority_design",
    "partners",
    "path_model",
    "quorum_sets",
    "replicated_gb_per_month",
    "standard_designs",
    "tolerated_failures",
    "write_outage_minutes_per_year",
    "writes_at_risk",
]

#: Whose acknowledgements a commit counts: followers in the leader's region, in other regions, any.
COUNTS: tuple[str, ...] = ("local", "remote", "any")
#: How writes resume after the leader's region is lost: restore a backup elsewhere, promote a
#: copy in another region (by hand or automated), or elect a new leader among the survivors.
RECOVERIES: tuple[str, ...] = ("restore", "failover", "election")

#: Seconds in the 730-hour billing month.
_BILLING_MONTH_S = cost.BILLING_MONTH_HOURS * 3600.0
#: ln 20: an exponential's 95th percentile is ln 20 times its mean.
_LN20 = math.log(20.0)


# --------------------------------------------------------------------------- quorums
def majority(copies: int) -> int:
    """Copies in a majority of ``copies``: ``floor(copies / 2) + 1`` (the leader is one of them).

    Raft and Paxos commit an entry once a majority has it; Ongaro and Ousterhout (2014): "five
    is a typical number, which allows the system to tolerate two failures".
    """
    n = checks.whole("copies", copies, minimum=1)
    return n // 2 + 1


def tolerated_failures(copies: int) -> int:
    """Copies a majority quorum can lose and still commit: ``copies - majority(copies)``."""
    return checks.whole("copies", copies, minimum=1) - majority(copies)


def cosmos_strong_write_p99_ms(farthest_rtt_ms: ArrayLike) -> float | np.ndarray:
    """Azure Cosmos DB's published P99 write latency under strong consistency across regions (ms).

    Formula: ``2 * RTT + 10`` with RTT the round trip between the two farthest regions of the
    account.  Source: "Consistency levels in Azure Cosmos DB", Microsoft Learn (ms.date
    2025-08-28), "Write latency and Strong consistency".
    """
    rtt = checks.non_negative("farthest_rtt_ms", farthest_rtt_ms)
    return numeric.scalar_or_array(2.0 * np.asarray(rtt) + 10.0)


# --------------------------------------------------------------------------- round trips
class RoundTrips:
    """Measured round trips between regions (ms), looked up by ordered pair.

    Built from a table with columns ``source_region``, ``destination_region`` and
    ``rtt_p95_ms`` (the ``azure_rtt_p95_ms`` dataset, or
    :func:`cloudpad.models.placement.pair_table` of it).  The two directions of a pair are
    separate measurements and are kept apart: the leader's direction is the one looked up.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        needed = {"source_region", "destination_region", "rtt_p95_ms"}
        missing = sorted(needed - set(table.columns))
        if missing:
            raise InputError(
                f"round-trip table must have columns {sorted(needed)}, lacks {missing}"
            )
        keys = zip(table["source_region"], table["destination_region"], strict=True)
        self._ms = dict(zip(keys, table["rtt_p95_ms"].astype(float), strict=True))
        self.regions = tuple(sorted({r for pair in self._ms for r in pair}))

    def ms(self, source: str, destination: str) -> float:
        """The P95 round trip from ``source`` to ``destination`` in ms (a region to itself: 0)."""
        if source == destination:
            return 0.0
        try:
            return self._ms[(source, destination)]
        except KeyError:
            raise InputError(
                f"no measured round trip from {source!r} to {destination!r}; "
                f"regions measured: {', '.join(self.regions[:8])}, ..."
            ) from None


def path_model(p95_ms: float, variable_share: float) -> LatencyDistribution:
    """One path's round trip (ms) with the measured P95: fixed part plus exponential variation.

    ``T = (1 - f) * p95 + Exp(mean = f * p95 / ln 20)``, so ``P(T > p95) = 0.05`` exactly and
    the median is ``p95 * (1 - f * (1 - ln 2 / ln 20))``.  ``f = variable_share`` in [0, 1) is
    an assumption (the data holds no other percentile); ``f = 0`` is a constant ``p95``.
    """
    p = float(checks.non_negative("p95_ms", p95_ms))
    f = float(checks.in_range("variable_share", variable_share, 0.0, 1.0))
    if f >= 1.0:
        raise InputError(f"variable_share must be below 1, got {f!r}")
    if f == 0.0 or p == 0.0:
        return PointMass(p)
    return Exponential(mean_ms=f * p / _LN20, shift_ms=(1.0 - f) * p)


@dataclass(frozen=True)
class KthAck(LatencyDistribution):
    """Commit latency (ms): ``local_ms`` plus the time until ``k`` of independent paths answer.

    ``P(T <= t) = P(N >= k)`` where ``N``, the number of paths ``i`` with round trip at most
    ``t - local_ms``, is a sum of independent Bernoulli(``F_i(t - local_ms)``) variables (a
    Poisson-binomial count, computed exactly by dynamic programming over the paths).  ``k = 0``
    is the constant ``local_ms``.  Quantiles by bisection between ``local_ms`` and the point
    where every path has answered with probability ``1 - p / n``.
    """

    paths: tuple[LatencyDistribution, ...]
    k: int
    local_ms: float = 0.0

    def __post_init__(self) -> None:
        k = checks.whole("k", self.k)
        if k > len(self.paths):
            raise InputError(f"k must be at most the number of paths ({len(self.paths)}), got {k}")
        checks.non_negative("local_ms", self.local_ms)

    def _at_least_k(self, t: np.ndarray) -> np.ndarray:
        x = t - self.local_ms
        state = np.zeros((self.k + 1, *x.shape))
        state[0] = 1.0  # state[j] = P(count = j) for j < k; state[k] = P(count >= k)
        for path in self.paths:
            p = 1.0 - np.asarray(path.sf(x), dtype=float)
            new = state * (1.0 - p)
            new[1:] += state[:-1] * p
            new[self.k] += state[self.k] * p
            state = new
        return state[self.k]

    def sf(self, t: ArrayLike) -> float | np.ndarray:
        t = np.asarray(checks.as_float("t", t), dtype=float)
        if self.k == 0:
            return numeric.scalar_or_array(np.where(t < self.local_ms, 1.0, 0.0))
        return numeric.scalar_or_array(1.0 - self._at_least_k(t))

    def isf(self, p: ArrayLike) -> float | np.ndarray:
        p = np.asarray(checks.probability("p", p), dtype=float)
        if self.k == 0:
            return numeric.scalar_or_array(np.full(p.shape, float(self.local_ms)))
        floor = self.local_ms + np.sort([float(d.isf(1.0)) for d in self.paths])[self.k - 1]
        share = np.maximum(p, 1e-300) / len(self.paths)
        top = self.local_ms + np.max([np.asarray(d.isf(share)) for d in self.paths], axis=0)
        got = numeric.bisect(lambda t: np.asarray(self.sf(t)) > p, floor, np.maximum(top, floor))
        return numeric.scalar_or_array(np.where(p >= 1.0, floor, got))

    def _draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        if self.k == 0:
            return np.full(size, float(self.local_ms))
        draws = np.sort(np.stack([d._draw(size, rng) for d in self.paths]), axis=0)
        return self.local_ms + draws[self.k - 1]


# --------------------------------------------------------------------------- designs
@dataclass(frozen=True)
class Design:
    """Where the copies are and what a commit waits for.

    ``copies`` lists ``(region, number of copies)``, the leader's region first (one copy per
    zone within a region); a commit waits for ``acks`` acknowledgements from the followers that
    ``counts`` (:data:`COUNTS`); after the leader's region is lost, writes resume by
    ``recovery`` (:data:`RECOVERIES`).  When too few counted followers answer, the leader
    either waits until someone changes the rule (``fallback_s`` is ``None``) or, after
    ``fallback_s`` seconds, commits without them (MySQL's semi-synchronous replication reverts
    to asynchronous after ``rpl_semi_sync_source_timeout``, 10 s by default).
    """

    name: str
    copies: tuple[tuple[str, int], ...]
    acks: int
    counts: str
    recovery: str
    fallback_s: float | None = None

    def __post_init__(self) -> None:
        if not self.copies:
            raise InputError(f"design {self.name!r} must have copies in at least one region")
        regions = [region for region, _ in self.copies]
        if len(set(regions)) != len(regions):
            raise InputError(f"design {self.name!r} names a region twice: {regions}")
        for region, n in self.copies:
            checks.whole(f"copies in {region}", n, minimum=1)
        checks.choice("counts", self.counts, COUNTS)
        checks.choice("recovery", self.recovery, RECOVERIES)
        if self.fallback_s is not None:
            checks.non_negative("fallback_s", self.fallback_s)
        acks = checks.whole("acks", self.acks)
        if acks > self.eligible_followers:
            raise InputError(
                f"design {self.name!r} waits for {acks} acknowledgements but only "
                f"{self.eligible_followers} {self.counts} followers count"
            )

    @property
    def leader_region(self) -> str:
        """The region of the leader (the first of ``copies``)."""
        return self.copies[0][0]

    @property
    def total_copies(self) -> int:
        """Copies in all regions, the leader's included."""
        return sum(n for _, n in self.copies)

    @property
    def local_followers(self) -> int:
        """Followers in the leader's region (one per other zone)."""
        return self.copies[0][1] - 1

    @property
    def remote_copies(self) -> int:
        """Copies outside the leader's region."""
        return self.total_copies - self.copies[0][1]

    @property
    def eligible_followers(self) -> int:
        """Followers whose acknowledgement counts towards a commit."""
        counted = {"local": self.local_followers, "remote": self.remote_copies}
        return counted.get(self.counts, self.local_followers + self.remote_copies)

    @property
    def safe_on_region_loss(self) -> bool:
        """Whether every committed write has a copy outside the leader's region.

        True when the acknowledgements counted must include a remote one: ``counts`` is
        ``remote`` with at least one ack, or ``any`` with more acks than local followers.
        """
        if self.counts == "remote":
            return self.acks >= 1
        return self.counts == "any" and self.acks > self.local_followers

    def stalls_without(self, region: str) -> bool:
        """Whether commits stop when ``region`` (not the leader's) is unreachable.

        They stop when the counted followers left are fewer than ``acks``.
        """
        lost = dict(self.copies[1:]).get(region)
        if lost is None:
            raise InputError(f"design {self.name!r} has no follower region {region!r}")
        left = self.eligible_followers - (0 if self.counts == "local" else lost)
        return left < self.acks

    def follower_p95_ms(self, rtts: RoundTrips, zone_rtt_ms: float) -> np.ndarray:
        """P95 round trips (ms) from the leader to each follower whose acknowledgement counts."""
        zone = float(checks.non_negative("zone_rtt_ms", zone_rtt_ms))
        local = [zone] * self.local_followers
        remote = [rtts.ms(self.leader_region, r) for r, n in self.copies[1:] for _ in range(n)]
        chosen = {"local": local, "remote": remote, "any": local + remote}[self.counts]
        return np.asarray(chosen, dtype=float)

    def after_losing(self, region: str) -> Design | None:
        """The design once ``region`` is lost and writes resume, or ``None`` if they cannot.

        A majority design (``election``) keeps committing if the surviving copies still hold a
        majority of the original copies; the new leader is in the surviving region with most
        copies (the first listed on a tie) and waits for the same number of acknowledgements.
        Other designs resume only after a failover to the next region (``failover``), which
        then leads whatever copies survive with no remote acknowledgement, or not at all
        (``restore``).
        """
        left = tuple((r, n) for r, n in self.copies if r != region)
        if len(left) == len(self.copies):
            raise InputError(f"design {self.name!r} has no copies in {region!r}")
        if not left or self.recovery == "restore":
            return None
        if self.recovery == "election":
            if sum(n for _, n in left) < majority(self.total_copies):
                return None
            first = max(range(len(left)), key=lambda i: (left[i][1], -i))
            ordered = (left[first], *left[:first], *left[first + 1 :])
            return replace(self, name=f"{self.name}, without {region}", copies=ordered)
        acks = min(self.acks, left[0][1] - 1)
        name = f"{self.name}, failed over from {region}"
        return replace(self, name=name, copies=left, acks=acks, counts="local")


def standard_designs(
    primary: str, secondary: str, third: str, semi_sync_timeout_s: float = 10.0
) -> tuple[Design, ...]:
    """The five designs the article compares, leader in ``primary``.

    1. ``zones only``: three copies in three zones of one region, a majority (one follower)
       acknowledges; a region loss means restoring a backup elsewhere.
    2. ``async, 2 regions``: as 1 plus one copy in ``secondary`` replicated asynchronously.
    3. ``semi-sync, 2 regions``: as 2, but a commit waits for the ``secondary`` copy, and
       commits without it after ``semi_sync_timeout_s`` when it does not answer (MySQL's
       default ``rpl_semi_sync_source_timeout`` is 10 s).
    4. ``majority, 3 regions``: five copies, two in ``primary``, two in ``secondary``, one in
       ``third``; a commit waits for two followers (3 of 5), so no region holds a majority and a
       new leader is elected after a region loss.
    5. ``sync all, 3 regions``: three copies in ``primary`` and one in each other region; a
       commit waits for both remote copies.
    """
    names = [primary, secondary, third]
    if len(set(names)) != 3:
        raise InputError(f"primary, secondary and third must be three regions, got {names}")
    return (
        Design("zones only", ((primary, 3),), 1, "local", "restore"),
        Design("async, 2 regions", ((primary, 3), (secondary, 1)), 1, "local", "failover"),
        Design("semi-sync, 2 regions", ((primary, 3), (secondary, 1)), 1, "remote", "failover",
               semi_sync_timeout_s),
        majority_design(primary, secondary, third),
        Design("sync all, 3 regions", ((primary, 3), (secondary, 1), (third, 1)), 2, "remote",
               "failover"),
    )  # fmt: skip


def describe(designs: Sequence[Design]) -> pd.DataFrame:
    """A table of designs for readers: copies per region, what a commit waits for, the recovery.

    Columns: ``copies`` ("East US 2 ×3, Central US ×1"), ``commit waits for`` (how many
    acknowledgements, from which followers) and ``after losing the leader's region``.
    """
    whose = {"local": "in the leader's region", "remote": "in other regions", "any": "anywhere"}
    after = {
        "restore": "restore a backup elsewhere",
        "failover": "promote the copy in the next region",
        "election": "elect a new leader, no action",
    }
    rows = []
    for d in designs:
        copies = ", ".join(f"{region} ×{n}" for region, n in d.copies)
        waits = f"{d.acks} of {d.eligible_followers} followers {whose[d.counts]}"
        rows.append((d.name, copies, waits, after[d.recovery]))
    columns = ["design", "copies", "commit waits for", "after losing the leader's region"]
    return pd.DataFrame(rows, columns=columns).set_index("design")


def majority_design(primary: str, secondary: str, third: str) -> Design:
    """Five copies in three regions (2, 2, 1), a majority of three commits (two followers)."""
    copies = ((primary, 2), (secondary, 2), (third, 1))
    return Design("majority, 3 regions", copies, majority(5) - 1, "any", "election")


def commit_ms(
    design: Design, rtts: RoundTrips, zone_rtt_ms: float, local_ms: float, round_trips: int = 1
) -> float:
    """Commit latency (ms) from the P95 round trips: ``local_ms + round_trips * RTT_(acks)``.

    ``RTT_(acks)`` is the ``acks``-th smallest P95 round trip among the followers that count
    (0 for ``acks = 0``).  This is the write's latency if every path took its P95 round trip.
    """
    local = float(checks.non_negative("local_ms", local_ms))
    trips = checks.whole("round_trips", round_trips, minimum=1)
    if design.acks == 0:
        return local
    waits = np.sort(design.follower_p95_ms(rtts, zone_rtt_ms))
    return local + trips * float(waits[design.acks - 1])


def commit_distribution(
    design: Design, rtts: RoundTrips, zone_rtt_ms: float, local_ms: float, variable_share: float
) -> KthAck:
    """The commit latency's distribution (ms) with each follower path from :func:`path_model`."""
    paths = tuple(path_model(p, variable_share) for p in design.follower_p95_ms(rtts, zone_rtt_ms))
    return KthAck(paths, design.acks, float(checks.non_negative("local_ms", local_ms)))


# --------------------------------------------------------------------------- RPO and RTO
def writes_at_risk(writes_per_s: ArrayLike, lag_s: ArrayLike) -> float | np.ndarray:
    """Writes committed but not yet copied to another region: ``writes_per_s * lag_s``.

    The data lost when the leader's region is lost with asynchronous replication lagging
    ``lag_s`` behind (the RPO as time is the lag).
    """
    rate = checks.non_negative("writes_per_s", writes_per_s)
    lag = checks.non_negative("lag_s", lag_s)
    return numeric.scalar_or_array(np.asarray(rate) * np.asarray(lag))


def expected_outage_minutes(
    mean_outage_minutes: ArrayLike, recovery_minutes: ArrayLike
) -> float | np.ndarray:
    """Mean minutes of downtime per outage when recovery restores service ``R`` minutes in.

    With the outage's duration ``D`` exponential of mean ``M`` the service is down
    ``min(D, R)``, whose mean is ``M (1 - exp(-R / M))``; ``R = inf`` (never fail over) gives
    ``M``.
    """
    m = np.asarray(checks.positive("mean_outage_minutes", mean_outage_minutes))
    r = np.asarray(checks.as_float("recovery_minutes", recovery_minutes))
    if np.any(r < 0):
        raise InputError(f"recovery_minutes must be >= 0, got {r.min()!r}")
    return numeric.scalar_or_array(m * -np.expm1(-r / m))


def failover_probability(
    mean_outage_minutes: ArrayLike, switch_minutes: ArrayLike
) -> float | np.ndarray:
    """Probability an outage outlasts the switch to another copy: ``exp(-t_switch / M)``.

    The switch (a promotion, or the end of a restore) strands the writes not yet copied; an
    outage that ends first loses none, since the leader's region comes back with its data.
    """
    m = np.asarray(checks.positive("mean_outage_minutes", mean_outage_minutes))
    d = np.asarray(checks.non_negative("switch_minutes", switch_minutes))
    return numeric.scalar_or_array(np.exp(-d / m))


class _NonNegative:
    """Mixin for dataclasses of quantities: every field must be a finite number >= 0."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            checks.non_negative(name, value)


@dataclass(frozen=True)
class RecoveryTimes(_NonNegative):
    """The stages (minutes) of resuming writes after the leader's region is lost.

    By hand: an alert fires (``detect``), the on-call engineer responds (``respond``), confirms
    a regional outage and decides to fail over (``decide``), promotes the copy (``promote``)
    and points the application at it (``redirect``).  Automated: a health check notices
    (``auto_detect``), waits out a grace period (``auto_grace``), then promotes and redirects.
    A majority quorum elects a leader (``election_seconds``); with no copy in another region the
    database is restored from a geo-replicated backup (``restore_hours``).
    """

    detect: float
    respond: float
    decide: float
    promote: float
    redirect: float
    auto_detect: float
    auto_grace: float
    election_seconds: float
    restore_hours: float

    def decision(self, automated: bool) -> float:
        """Minutes from the outage's start until someone (or something) decides to act."""
        if automated:
            return self.auto_detect + self.auto_grace
        return self.detect + self.respond + self.decide

    def minutes(self, recovery: str, automated: bool) -> float:
        """Minutes from the outage's start until writes resume (the RTO)."""
        checks.choice("recovery", recovery, RECOVERIES)
        if recovery == "election":
            return self.election_seconds / 60.0
        if recovery == "restore":
            return self.decision(automated=False) + 60.0 * self.restore_hours
        return self.decision(automated) + self.promote + self.redirect

    def breakdown(self) -> pd.DataFrame:
        """Minutes of each stage of resuming writes, one row per way of recovering.

        Rows: failover by hand, automated failover, majority election, restore from backup;
        columns ``notice``, ``respond and decide``, ``grace period``, ``act`` (promote and
        redirect, elect, or restore) and ``total`` (equal to :meth:`minutes`).
        """
        act = self.promote + self.redirect
        rows = {
            "failover by hand": (self.detect, self.respond + self.decide, 0.0, act),
            "automated failover": (self.auto_detect, 0.0, self.auto_grace, act),
            "majority election": (0.0, 0.0, 0.0, self.election_seconds / 60.0),
            "restore from backup": (self.detect, self.respond + self.decide, 0.0,
                                    60.0 * self.restore_hours),
        }  # fmt: skip
        columns = ["notice", "respond and decide", "grace period", "act"]
        table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        table["total"] = table.sum(axis=1)
        return table

    def point_of_no_return(self, recovery: str, automated: bool) -> float:
        """Minutes from the outage's start until the switch to another copy is irreversible.

        A failover is once the copy is promoted (``decision + promote``); a restore can still
        be called off until the application is switched to it (Azure SQL: "If the datacenter
        comes back online before you switch your application over to the recovered database,
        you can cancel the recovery"), so at its end; an election at once.
        """
        if recovery == "failover":
            return self.decision(automated) + self.promote
        return self.minutes(recovery, automated)

    def reconfigure(self, automated: bool) -> float:
        """Minutes until an unreachable follower is dropped from the commit rule by hand or tool."""
        return self.decision(automated) + self.promote


# --------------------------------------------------------------------------- cost
def replicated_gb_per_month(
    writes_per_s: ArrayLike, bytes_per_write: ArrayLike, copies: ArrayLike = 1
) -> float | np.ndarray:
    """GB (10^9 bytes) shipped to ``copies`` copies in a 730-hour month.

    Formula: ``writes_per_s * bytes_per_write * 730 * 3600 * copies / 1e9``.
    """
    rate = np.asarray(checks.non_negative("writes_per_s", writes_per_s))
    size = np.asarray(checks.non_negative("bytes_per_write", bytes_per_write))
    n = np.asarray(checks.non_negative("copies", copies))
    return numeric.scalar_or_array(rate * size * _BILLING_MONTH_S * n / 1e9)


def break_even_writes_per_s(
    usd_per_month: ArrayLike, bytes_per_write: ArrayLike, usd_per_gb: ArrayLike, copies: int = 1
) -> float | np.ndarray:
    """Write rate (writes/s) whose replication to ``copies`` copies costs ``usd_per_month``.

    The inverse of :func:`replicated_gb_per_month` times the price:
    ``usd_per_month * 1e9 / (bytes_per_write * 730 * 3600 * copies * usd_per_gb)``.
    """
    usd = np.asarray(checks.non_negative("usd_per_month", usd_per_month))
    size = np.asarray(checks.positive("bytes_per_write", bytes_per_write))
    price = np.asarray(checks.positive("usd_per_gb", usd_per_gb))
    n = checks.whole("copies", copies, minimum=1)
    return numeric.scalar_or_array(usd * 1e9 / (size * _BILLING_MONTH_S * n * price))


@dataclass(frozen=True)
class Workload(_NonNegative):
    """Write traffic: ``peak_writes_per_s`` (data at risk), ``mean_writes_per_s`` (bills and
    expected losses) and ``bytes_per_write`` (replicated bytes per write, log overhead in)."""

    peak_writes_per_s: float
    mean_writes_per_s: float
    bytes_per_write: float


def write_outage_minutes_per_year(
    design: Design,
    times: RecoveryTimes,
    *,
    outages_per_region_per_year: float,
    mean_outage_minutes: float,
    automated: bool,
) -> float:
    """Expected minutes a year in which writes cannot commit because a whole region is down.

    Every region of the design fails ``outages_per_region_per_year`` times a year, each outage
    exponential with mean ``mean_outage_minutes`` (M).  Losing the leader's region stops writes
    until recovery (``R = times.minutes``): ``M (1 - exp(-R / M))`` per outage
    (:func:`expected_outage_minutes`).  Losing another region stops them only if the design
    :meth:`Design.stalls_without` it, until the leader falls back by itself
    (``design.fallback_s``) or the follower is dropped (:meth:`RecoveryTimes.reconfigure`).
    """
    rate = float(checks.non_negative("outages_per_region_per_year", outages_per_region_per_year))
    m = float(checks.positive("mean_outage_minutes", mean_outage_minutes))
    minutes = float(expected_outage_minutes(m, times.minutes(design.recovery, automated)))
    for region, _ in design.copies[1:]:
        if design.stalls_without(region):
            fallback = design.fallback_s
            stall = times.reconfigure(automated) if fallback is None else fallback / 60.0
            minutes += float(expected_outage_minutes(m, stall))
    return rate * minutes


def _price_to(usd_per_gb: float | Mapping[str, float], region: str) -> float:
    """The price per GB to ``region``: one price for all, or the region's from a mapping."""
    if isinstance(usd_per_gb, Mapping):
        if region not in usd_per_gb:
            raise InputError(
                f"region_usd_per_gb has no price to {region!r}; it prices {sorted(usd_per_gb)}"
            )
        usd_per_gb = usd_per_gb[region]
    return float(checks.non_negative(f"region_usd_per_gb to {region}", usd_per_gb))


def compare(
    designs: Sequence[Design],
    rtts: RoundTrips,
    *,
    zone_rtt_ms: float,
    local_ms: float,
    variable_share: float,
    lag_s: float,
    backup_rpo_s: float,
    workload: Workload,
    times: RecoveryTimes,
    outages_per_region_per_year: float,
    mean_outage_minutes: float,
    node_usd_per_hour: float,
    region_usd_per_gb: float | Mapping[str, float],
    zone_usd_per_gb: float = 0.0,
) -> pd.DataFrame:
    """One row per design: write latency, data at risk, recovery time and monthly cost.

    Columns: ``copies``, ``regions``; ``commit_at_p95_rtt_ms`` (:func:`commit_ms`),
    ``commit_median_ms`` and ``commit_p95_ms`` (:func:`commit_distribution`); ``safe`` (no
    committed write lost with the leader's region), ``rpo_s`` (0, ``lag_s`` or
    ``backup_rpo_s``), ``writes_at_risk`` at the peak rate; for recovery by hand and automated
    (suffixes ``by_hand`` and ``automated``): ``rto_*_min`` (:meth:`RecoveryTimes.minutes`),
    ``downtime_*_min_per_year`` (:func:`write_outage_minutes_per_year`) and
    ``lost_*_per_year``, the writes lost a year at the mean rate (outages a year times the
    probability an outage outlasts :meth:`RecoveryTimes.point_of_no_return` times
    ``mean_writes_per_s * rpo_s``); ``nodes_usd`` (every copy a node at ``node_usd_per_hour``),
    ``region_gb`` and ``region_usd`` (bytes to remote copies, at ``region_usd_per_gb``: one
    price, or a price per destination region), ``zone_usd`` (bytes to the other copies in the
    leader's region), ``total_usd``, all per 730-hour month.
    """
    lag = float(checks.non_negative("lag_s", lag_s))
    backup = float(checks.non_negative("backup_rpo_s", backup_rpo_s))
    node = float(checks.non_negative("node_usd_per_hour", node_usd_per_hour))
    zone_price = float(checks.non_negative("zone_usd_per_gb", zone_usd_per_gb))
    outages = dict(
        outages_per_region_per_year=outages_per_region_per_year,
        mean_outage_minutes=mean_outage_minutes,
    )
    gb = replicated_gb_per_month(workload.mean_writes_per_s, workload.bytes_per_write)
    rows = []
    for d in designs:
        dist = commit_distribution(d, rtts, zone_rtt_ms, local_ms, variable_share)
        rpo = 0.0 if d.safe_on_region_loss else backup if d.recovery == "restore" else lag
        row = {
            "design": d.name,
            "copies": d.total_copies,
            "regions": len(d.copies),
            "commit_at_p95_rtt_ms": commit_ms(d, rtts, zone_rtt_ms, local_ms),
            "commit_median_ms": float(dist.quantile(0.5)),
            "commit_p95_ms": float(dist.quantile(0.95)),
            "safe": d.safe_on_region_loss,
            "rpo_s": rpo,
            "writes_at_risk": float(writes_at_risk(workload.peak_writes_per_s, rpo)),
        }
        for mode, automated in (("by_hand", False), ("automated", True)):
            switch = times.point_of_no_return(d.recovery, automated)
            switched = failover_probability(mean_outage_minutes, switch)
            row[f"rto_{mode}_min"] = times.minutes(d.recovery, automated)
            row[f"downtime_{mode}_min_per_year"] = write_outage_minutes_per_year(
                d, times, automated=automated, **outages
            )
            row[f"lost_{mode}_per_year"] = float(
                outages_per_region_per_year * switched * workload.mean_writes_per_s * rpo
            )
        row["nodes_usd"] = float(cost.monthly_cost(node, d.total_copies))
        row["region_gb"] = gb * d.remote_copies
        row["region_usd"] = gb * sum(
            n * _price_to(region_usd_per_gb, region) for region, n in d.copies[1:]
        )
        row["zone_usd"] = gb * d.local_followers * zone_price
        row["total_usd"] = row["nodes_usd"] + row["region_usd"] + row["zone_usd"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("design")


# --------------------------------------------------------------------------- which regions
def _pair_columns(pairs: pd.DataFrame) -> None:
    needed = {"source_region", "destination_region", "rtt_p95_ms", "distance_km"}
    missing = sorted(needed - set(pairs.columns))
    if missing:
        raise InputError(
            f"pairs must have columns {sorted(needed)} (placement.pair_table), lacks {missing}"
        )


def partners(
    pairs: pd.DataFrame, primary: str, *, budget_ms: float, local_ms: float, min_km: float
) -> pd.DataFrame:
    """Regions a leader in ``primary`` can wait for, nearest first.

    ``pairs`` is :func:`cloudpad.models.placement.pair_table` (round trips with great-circle
    distances).  Columns: ``region``, ``distance_km``, ``rtt_out_ms`` (leader to follower),
    ``rtt_back_ms`` (the reverse measurement), ``commit_ms`` (``local_ms + rtt_out_ms``) and
    ``fits`` (within ``budget_ms`` and at least ``min_km`` away).
    """
    _pair_columns(pairs)
    budget = float(checks.non_negative("budget_ms", budget_ms))
    local = float(checks.non_negative("local_ms", local_ms))
    far = float(checks.non_negative("min_km", min_km))
    out = pairs[pairs.source_region == primary]
    if out.empty:
        raise InputError(f"primary {primary!r} has no measured round trips in pairs")
    back = pairs.set_index(["source_region", "destination_region"])["rtt_p95_ms"]
    table = pd.DataFrame(
        {
            "region": out.destination_region.to_numpy(),
            "distance_km": out.distance_km.to_numpy(float),
            "rtt_out_ms": out.rtt_p95_ms.to_numpy(float),
            "rtt_back_ms": [back.get((d, primary), np.nan) for d in out.destination_region],
        }
    )
    table["commit_ms"] = local + table.rtt_out_ms
    table["fits"] = (table.commit_ms <= budget) & (table.distance_km >= far)
    return table.sort_values(["rtt_out_ms", "region"]).reset_index(drop=True)


def farthest_partner(table: pd.DataFrame) -> pd.Series:
    """The row of :func:`partners` that fits and is farthest away.

    Raises :class:`InputError` when no region fits, naming the budget and the separation to
    relax.
    """
    fits = table[table["fits"]]
    if fits.empty:
        nearest = table.iloc[0] if len(table) else None
        hint = (
            f"; the nearest, {nearest.region}, is {nearest.distance_km:,.0f} km away at "
            f"{nearest.commit_ms:g} ms"
            if nearest is not None
            else ""
        )
        raise InputError(
            "no region fits the write-latency budget and the least separation: raise the "
            f"budget or lower the separation{hint}"
        )
    return fits.loc[fits["distance_km"].idxmax()]


def frontier(pairs: pd.DataFrame, budgets_ms: Iterable[float], *, local_ms: float) -> pd.DataFrame:
    """For each write-latency budget, the ordered pairs that fit and the farthest of them.

    A pair fits when ``local_ms + rtt_p95_ms <= budget``.  Columns: ``budget_ms``,
    ``pairs`` (count), ``farthest_km`` (0 when none fits).
    """
    _pair_columns(pairs)
    local = float(checks.non_negative("local_ms", local_ms))
    commit = local + pairs.rtt_p95_ms.to_numpy(float)
    km = pairs.distance_km.to_numpy(float)
    rows = []
    for b in budgets_ms:
        fit = commit <= float(checks.non_negative("budget_ms", b))
        rows.append((float(b), int(fit.sum()), float(km[fit].max()) if fit.any() else 0.0))
    return pd.DataFrame(rows, columns=["budget_ms", "pairs", "farthest_km"])


def quorum_sets(
    pairs: pd.DataFrame,
    primary: str,
    *,
    budget_ms: float,
    local_ms: float,
    zone_rtt_ms: float,
    min_km: float,
    top: int = 5,
) -> pd.DataFrame:
    """Three-region majority sets (:func:`majority_design`) led from ``primary`` within a budget.

    Every ordered choice of a second region (two copies) and a third (one copy) whose three
    regions are pairwise at least ``min_km`` apart is scored by its commit latency
    (:func:`commit_ms`) and by the commit latency after the leader's region is lost (the new
    leader in the second region).  Sets within ``budget_ms`` are returned, best post-loss
    latency first, at most ``top`` of them.  Columns: ``second``, ``third``, ``commit_ms``,
    ``commit_after_loss_ms``, ``closest_km``.
    """
    _pair_columns(pairs)
    budget = float(checks.non_negative("budget_ms", budget_ms))
    far = float(checks.non_negative("min_km", min_km))
    rtts = RoundTrips(pairs)
    km = pairs.set_index(["source_region", "destination_region"])["distance_km"].to_dict()
    others = [r for r in rtts.regions if r != primary and (primary, r) in km]
    rows = []
    for second, third in itertools.permutations(others, 2):
        gaps = [km.get(p, np.nan) for p in ((primary, second), (primary, third), (second, third))]
        if not np.all(np.asarray(gaps) >= far):  # NaN (unmeasured) fails too
            continue
        design = majority_design(primary, second, third)
        now = commit_ms(design, rtts, zone_rtt_ms, local_ms)
        if now > budget:
            continue
        after = design.after_losing(primary)
        later = commit_ms(after, rtts, zone_rtt_ms, local_ms) if after else np.inf
        rows.append((second, third, now, later, min(gaps)))
    columns = ["second", "third", "commit_ms", "commit_after_loss_ms", "closest_km"]
    if not rows:
        raise InputError(
            f"no three regions led from {primary!r} fit budget_ms = {budget:g} with every pair at "
            f"least min_km = {far:g} km apart: raise the budget or lower the separation"
        )
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["commit_after_loss_ms", "commit_ms", "second", "third"])
    return table.head(checks.whole("top", top, minimum=1)).reset_index(drop=True)
