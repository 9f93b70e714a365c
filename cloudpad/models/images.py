"""Shipping software as images: pull time, time to ready, scale-out under a spike, registry cost.

A replica that joins a fleet goes through stages whose times add up: the machine is provisioned
and boots, the image is pulled (a container) or the software is installed and configured (a
machine configured at boot), and the application starts.  This module puts numbers on each
stage, on what a slow stage costs while traffic waits for capacity, on how often a boot that
depends on remote services fails, and on what the registry costs a month.

Units are in the names: sizes in MiB (``_mib``, 2**20 bytes, the unit image tools print) or
GB (``_gb``, 10**9 bytes, the unit of provider price lists), times in seconds (``_s``) or
milliseconds (``_ms``), rates per second, money in USD (``_usd``).

Sources followed:

* Harter et al., "Slacker: Fast Distribution with Lazy Docker Containers", USENIX FAST '16:
  pulling is 76 % of container start time and only 6.4 % of the pulled data is read at start;
  Slacker speeds up the median deployment cycle 5x.  :func:`lazy_speedup` is the Amdahl form
  of those two shares.
* Docker's daemon pulls at most 3 layers of one image at a time by default
  (``dockerd --max-concurrent-downloads``, docker/cli ``docs/reference/commandline/dockerd.md``),
  the default of ``concurrent_downloads`` in :func:`pull_time_s`.
* Green and Kolesar (1991), "The pointwise stationary approximation for queues with
  nonstationary arrivals", Management Science 37(1): the waits while capacity changes are
  those of the stationary M/M/c queue at each instant (:func:`spike_outcome`, through
  :mod:`cloudpad.models.queueing`).
* Boot reliability is a serial system of the remote steps a boot depends on
  (:func:`cloudpad.models.availability.serial`); a failed boot is replaced, so the number of
  attempts is geometric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import availability, checks, cost, numeric, queueing

#: MiB in one GB: 10**9 / 2**20.  Image tools print MiB; provider price lists bill per GB.
MIB_PER_GB: float = 1e9 / 2**20

#: Share of container start time spent pulling, HelloBench's 57 images (Harter et al. 2016).
SLACKER_PULL_SHARE: float = 0.76
#: Share of the pulled data that containers read at start (Harter et al. 2016).
SLACKER_READ_SHARE: float = 0.064

#: The smallest distroless image, gcr.io/distroless/static-debian11, "is around 2 MiB"; the
#: ``debian`` base image is 124 MiB (GoogleContainerTools/distroless README).
DISTROLESS_STATIC_MIB: float = 2.0
DEBIAN_MIB: float = 124.0

#: One practitioner's AWS Fargate measurement: a 413 MB image took 57 s on average to start,
#: with no image cache between tasks (ElasticScale, "Reduce AWS Fargate pull times with SOCI",
#: 2024).
FARGATE_EXAMPLE_IMAGE_MB: float = 413.0
FARGATE_EXAMPLE_START_S: float = 57.0


def mib_to_gb(mib: ArrayLike) -> float | np.ndarray:
    """``mib * 2**20 / 10**9``: MiB (image tools) to GB (price lists)."""
    return numeric.scalar_or_array(checks.non_negative("mib", mib) / MIB_PER_GB)


# --------------------------------------------------------------------------- pulling an image
def pull_time_s(
    image_mib: ArrayLike,
    throughput_mib_per_s: ArrayLike,
    *,
    cache_hit_share: ArrayLike = 0.0,
    layers: ArrayLike = 1,
    registry_latency_ms: ArrayLike = 0.0,
    concurrent_downloads: int = 3,
    read_share: ArrayLike = 1.0,
) -> float | np.ndarray:
    """Seconds to pull an image of ``image_mib`` MiB onto a node, or to fetch the part read.

    Formula, with size ``S`` (MiB), effective throughput ``B`` (MiB/s, download and unpacking
    together), cache-hit share ``h`` (the share of the image's layers, and of its bytes,
    already on the node), ``L`` layers, registry round trip ``l`` (s), ``c`` layers fetched at
    once and ``r`` the share of the missing bytes fetched before the container starts:

        ``t = l + ((1 - h) L / c) l + r (1 - h) S / B``

    One round trip for the manifest, one per round of ``c`` missing layers (in expectation, if
    each layer is cached independently with probability ``h``), and the bytes.  ``r = 1`` is an
    ordinary pull; ``r = 0.064`` is lazy pulling as Slacker measured it (only the data read at
    start is fetched before the process runs; the rest arrives later, on first read).  Layers
    are downloaded ``c = 3`` at a time by default (``dockerd --max-concurrent-downloads``).
    The throughput is an assumption to measure: it folds in the registry's and the node's
    bandwidth, decompression and disk writes.
    """
    size = checks.non_negative("image_mib", image_mib)
    rate = checks.positive("throughput_mib_per_s", throughput_mib_per_s)
    h = checks.probability("cache_hit_share", cache_hit_share)
    n_layers = checks.non_negative("layers", layers)
    latency_s = checks.non_negative("registry_latency_ms", registry_latency_ms) / 1000.0
    c = checks.whole("concurrent_downloads", concurrent_downloads, minimum=1)
    r = checks.probability("read_share", read_share)
    missing = 1.0 - np.asarray(h)
    t = latency_s * (1.0 + missing * np.asarray(n_layers) / c) + np.asarray(r) * missing * (
        np.asarray(size) / np.asarray(rate)
    )
    return numeric.scalar_or_array(t)


def lazy_speedup(pull_share: ArrayLike, read_share: ArrayLike) -> float | np.ndarray:
    """Start-up speed-up from fetching only the data read at start (Amdahl's law).

    Formula: ``1 / ((1 - f) + f r)`` with ``f`` the share of start time spent pulling and ``r``
    the share of the pulled bytes read at start.  Slacker's measurements, ``f = 0.76`` and
    ``r = 0.064`` (Harter et al., FAST '16), give about 3.5; the paper reports its median
    deployment cycle 5x faster, because Slacker also changes the steps around the pull (its
    workers clone snapshots instead of unpacking layers), which this formula leaves out.  The
    upper bound as ``r -> 0`` is ``1 / (1 - f)``.
    """
    f = checks.probability("pull_share", pull_share)
    r = checks.probability("read_share", read_share)
    return numeric.scalar_or_array(1.0 / ((1.0 - np.asarray(f)) + np.asarray(f) * r))


def ready_time_s(
    provision_s: ArrayLike = 0.0,
    pull_s: ArrayLike = 0.0,
    install_s: ArrayLike = 0.0,
    app_start_s: ArrayLike = 0.0,
) -> float | np.ndarray:
    """Seconds from "add a replica" to "the replica serves", when its boot succeeds.

    Formula: ``provision_s + pull_s + install_s + app_start_s``: the stages run one after the
    other.  A container on a running node has ``provision_s`` = scheduling and container
    creation (the Kubernetes pod-startup SLO bounds that at 5 s at the 99th percentile,
    *excluding* the pull); a virtual machine has its provisioning and boot; ``install_s`` is the
    package installation and configuration a machine configured at boot runs (zero for a
    baked image).  Failed boots are added by :func:`expected_ready_time_s`.
    """
    parts = [
        checks.non_negative("provision_s", provision_s),
        checks.non_negative("pull_s", pull_s),
        checks.non_negative("install_s", install_s),
        checks.non_negative("app_start_s", app_start_s),
    ]
    total = np.asarray(parts[0], dtype=float)
    for part in parts[1:]:
        total = total + np.asarray(part)
    return numeric.scalar_or_array(total)


# --------------------------------------------------------------------------- boot reliability
def boot_success_probability(step_failure_p: ArrayLike, steps: int) -> float | np.ndarray:
    """Probability that a boot which runs ``steps`` remote steps succeeds: ``(1 - p)^k``.

    Each step (package mirror, configuration service, secret store, image registry) fails
    independently with probability ``p``; the boot needs all of them, a serial system
    (:func:`cloudpad.models.availability.serial` of ``k`` copies of ``1 - p``), so
    ``P(boot fails) = 1 - (1 - p)^k``.  ``steps = 0`` (nothing remote at boot) gives 1.
    Independence is the optimistic part: when a shared mirror is down, every boot in that
    window fails together.
    """
    p = checks.probability("step_failure_p", step_failure_p)
    k = checks.whole("steps", steps, minimum=0)
    if k == 0:
        return numeric.scalar_or_array(np.ones_like(np.asarray(p, dtype=float)))
    return numeric.scalar_or_array(availability.serial(*([1.0 - np.asarray(p)] * k)))


def _attempts(ready_s: ArrayLike, fail_detect_s: ArrayLike, success_p: ArrayLike) -> tuple:
    t_ok = checks.non_negative("ready_s", ready_s)
    t_fail = checks.non_negative("fail_detect_s", fail_detect_s)
    q = checks.probability("success_p", success_p)
    if np.any(np.asarray(q) <= 0):
        raise InputError(f"success_p must be > 0 (a boot that never succeeds), got {success_p!r}")
    return np.asarray(t_ok, dtype=float), np.asarray(t_fail, dtype=float), np.asarray(q)


def expected_ready_time_s(
    ready_s: ArrayLike, fail_detect_s: ArrayLike, success_p: ArrayLike
) -> float | np.ndarray:
    """Mean seconds until a replica is ready when failed boots are detected and retried.

    Each attempt succeeds with probability ``q`` (:func:`boot_success_probability`); a failed
    attempt costs ``fail_detect_s`` (until a health check gives up and a new attempt starts), a
    successful one ``ready_s``.  The number of attempts ``N`` is geometric, so the time is
    ``(N - 1) fail_detect_s + ready_s`` with mean ``ready_s + (1 - q) / q * fail_detect_s``.
    """
    t_ok, t_fail, q = _attempts(ready_s, fail_detect_s, success_p)
    return numeric.scalar_or_array(t_ok + (1.0 - q) / q * t_fail)


def ready_time_cdf(
    t_s: ArrayLike, ready_s: float, fail_detect_s: float, success_p: float
) -> float | np.ndarray:
    """``P(replica ready by t)`` for the retried boots of :func:`expected_ready_time_s`.

    Ready by ``t`` means some attempt ``n`` succeeded with ``(n - 1) fail_detect_s + ready_s <=
    t``: ``1 - (1 - q)^m`` with ``m = floor((t - ready_s) / fail_detect_s) + 1`` attempts that
    fit (0 before ``ready_s``; every attempt fits when ``fail_detect_s = 0``).
    """
    t = np.asarray(checks.as_float("t_s", t_s), dtype=float)
    t_ok, t_fail, q = (float(x) for x in _attempts(ready_s, fail_detect_s, success_p))
    with np.errstate(divide="ignore", invalid="ignore"):
        fits = np.floor((t - t_ok) / t_fail) + 1.0 if t_fail > 0 else np.full(t.shape, np.inf)
    fits = np.where(t >= t_ok, fits, 0.0)
    return numeric.scalar_or_array(np.where(fits > 0, 1.0 - (1.0 - q) ** fits, 0.0))


def sample_ready_times_s(
    replicas: int,
    ready_s: float,
    fail_detect_s: float,
    success_p: float,
    *,
    trials: int,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Random ready times (s) of ``replicas`` new replicas in each of ``trials`` scale-outs.

    Shape ``(trials, replicas)``; each entry is ``(N - 1) fail_detect_s + ready_s`` with ``N``
    geometric (success probability ``success_p``), independently.  Seeded, so deterministic.
    """
    n = checks.whole("replicas", replicas, minimum=0)
    m = checks.whole("trials", trials, minimum=1)
    t_ok, t_fail, q = (float(x) for x in _attempts(ready_s, fail_detect_s, success_p))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    attempts = rng.geometric(q, size=(m, n)) if q < 1 else np.ones((m, n))
    return t_ok + (attempts - 1.0) * t_fail


def blocked_scaleout_loss(
    excess_rps: ArrayLike,
    step_unavailability: ArrayLike,
    steps: int,
    mean_outage_s: ArrayLike,
) -> float | np.ndarray:
    """Expected requests lost per traffic step because a boot dependency is down (correlated).

    The other reading of a step's failure probability: each of the ``steps`` services a boot
    calls is down a share ``u`` of the time, and while it is down *every* boot fails, so a
    scale-out that starts then is blocked until the service is back.  The scale-out is blocked
    with probability ``1 - (1 - u)^k`` (:func:`boot_success_probability`), and for exponential
    outage durations the outage still has ``mean_outage_s`` to run on average (memoryless), so

        ``loss = (1 - (1 - u)^k) * excess_rps * mean_outage_s``

    with ``excess_rps`` the traffic above the capacity in place.  First order: it ignores two
    dependencies down at once and the time the scale-out needs after the outage.
    """
    blocked = 1.0 - np.asarray(boot_success_probability(step_unavailability, steps))
    excess = checks.non_negative("excess_rps", excess_rps)
    outage = checks.non_negative("mean_outage_s", mean_outage_s)
    return numeric.scalar_or_array(blocked * np.asarray(excess) * np.asarray(outage))


def fleet_availability(
    mtbf_hours: float,
    replace_s: float,
    replicas: int,
    required: int,
) -> float:
    """Steady-state availability of ``replicas`` replicas of which ``required`` must be up.

    A failed replica is replaced after ``replace_s`` seconds (detection plus the mean time to
    ready, :func:`expected_ready_time_s`), so each replica is up ``MTBF / (MTBF + MTTR)`` of the
    time; the fleet is :func:`cloudpad.models.availability.redundant` (k-of-n, independent
    replicas, no failover delay).
    """
    mttr_hours = checks.non_negative("replace_s", replace_s) / 3600.0
    return float(availability.redundant(mtbf_hours, mttr_hours, replicas, required))


# --------------------------------------------------------------------------- a step in traffic
def replicas_over_time(t_s: ArrayLike, base_replicas: int, ready_at_s: ArrayLike) -> np.ndarray:
    """Replicas serving at each time: ``base_replicas + #{new replicas ready by t}``.

    ``ready_at_s`` has shape ``(trials, new)`` (times since the traffic step at which each new
    replica starts serving); the result has shape ``(trials, len(t_s))``.
    """
    t = np.atleast_1d(np.asarray(checks.as_float("t_s", t_s), dtype=float))
    base = checks.whole("base_replicas", base_replicas, minimum=0)
    ready = np.sort(np.atleast_2d(np.asarray(checks.as_float("ready_at_s", ready_at_s))), axis=1)
    counts = np.stack([np.searchsorted(row, t, side="right") for row in ready])
    return base + counts


@dataclass(frozen=True)
class SpikeOutcome:
    """What a step in traffic does while replicas start (see :func:`spike_outcome`).

    Arrays with one value per trial: requests ``lost`` if the excess over capacity is shed;
    requests ``slowed`` (served, but waiting longer than the wait target in the M/M/c queue of
    the moment); if instead the excess queues, requests ``queued`` behind a backlog and the
    ``mean_queue_delay_s`` they wait; ``recovered_s``, when capacity first covers the traffic.
    """

    lost: np.ndarray
    slowed: np.ndarray
    queued: np.ndarray
    mean_queue_delay_s: np.ndarray
    recovered_s: np.ndarray

    def summary(self, q: float = 0.95) -> dict[str, float]:
        """Mean and ``q``-quantile over trials of every field, as ``{name_mean, name_pNN}``."""
        level = checks.in_range("q", q, 0.0, 1.0)
        out: dict[str, float] = {}
        for name in ("lost", "slowed", "queued", "mean_queue_delay_s", "recovered_s"):
            values = getattr(self, name)
            out[f"{name}_mean"] = float(np.mean(values))
            out[f"{name}_p{100 * level:g}"] = float(np.quantile(values, level))
        return out


def spike_outcome(
    t_s: ArrayLike,
    rate_rps: float,
    replicas: ArrayLike,
    workers_per_replica: int,
    service_rate_per_s: float,
    wait_target_s: float,
) -> SpikeOutcome:
    """Requests lost, slowed or queued while capacity catches up with a step in traffic.

    ``t_s`` is an evenly spaced grid from the step (s), ``rate_rps`` the traffic after it,
    ``replicas`` the serving replicas at each time, shape ``(trials, len(t_s))``.  Each replica
    has ``workers_per_replica`` workers serving ``service_rate_per_s`` requests a second each,
    so capacity is ``c(t) = replicas(t) w mu``.

    * Shed: requests above capacity are lost, ``sum max(lambda - c(t), 0) dt``.
    * Slowed: where ``lambda < c(t)``, the pointwise stationary approximation (Green and
      Kolesar 1991): the share waiting longer than ``wait_target_s`` is that of the M/M/c queue
      with ``c = replicas(t) w`` servers (:func:`cloudpad.models.queueing.mmc`), times the
      requests arriving in the step.  Where ``lambda >= c(t)`` every served request is counted
      as slowed.  Valid when capacity changes slowly next to a service time.
    * Queued: if the excess waits instead (a fluid backlog ``b' = lambda - c(t)`` while
      ``b > 0``), the requests arriving while ``b > 0`` and their mean extra wait, the area
      under ``b`` divided by their number.
    """
    t = np.asarray(checks.as_float("t_s", t_s), dtype=float)
    if t.ndim != 1 or t.size < 2 or np.any(np.diff(t) <= 0):
        raise InputError("t_s must be an increasing 1-D grid of at least two times")
    dt = float(t[1] - t[0])
    if not np.allclose(np.diff(t), dt):
        raise InputError("t_s must be evenly spaced")
    lam = float(checks.non_negative("rate_rps", rate_rps))
    w = checks.whole("workers_per_replica", workers_per_replica, minimum=1)
    mu = float(checks.positive("service_rate_per_s", service_rate_per_s))
    target = float(checks.non_negative("wait_target_s", wait_target_s))
    r = np.atleast_2d(np.asarray(checks.non_negative("replicas", replicas))).astype(np.int64)
    if r.shape[1] != t.size:
        raise InputError(f"replicas must have {t.size} columns (one per time), got {r.shape[1]}")
    capacity = r * w * mu
    lost = np.maximum(lam - capacity, 0.0).sum(axis=1) * dt
    # Share waiting longer than the target, one M/M/c per distinct replica count.
    counts = np.unique(r)
    late = np.ones(counts.shape)
    stable = counts * w * mu > lam
    if stable.any():
        queue = queueing.mmc(lam, mu, counts[stable] * w)
        late[stable] = 1.0 - np.asarray(queue.service_level(target))
    late_share = late[np.searchsorted(counts, r)]
    served = np.minimum(lam, capacity)
    slowed = (served * late_share).sum(axis=1) * dt
    backlog = np.zeros(r.shape[0])
    queued = np.zeros(r.shape[0])
    waited = np.zeros(r.shape[0])
    for j in range(t.size):  # the fluid backlog is sequential in time, vectorised over trials
        queued += np.where((backlog > 0) | (lam > capacity[:, j]), lam * dt, 0.0)
        backlog = np.maximum(backlog + (lam - capacity[:, j]) * dt, 0.0)
        waited += backlog * dt
    delay = np.divide(waited, queued, out=np.zeros_like(waited), where=queued > 0)
    covered = capacity >= lam
    recovered = np.where(covered.any(axis=1), t[np.argmax(covered, axis=1)], np.inf)
    return SpikeOutcome(lost, slowed, queued, delay, recovered)


# --------------------------------------------------------------------------- registry cost
def registry_storage_gb(
    base_mib: ArrayLike, app_mib: ArrayLike, services: int, versions_kept: int
) -> float | np.ndarray:
    """GB a registry stores for ``services`` services keeping ``versions_kept`` versions each.

    Formula: ``(base_mib + services * versions_kept * app_mib) / MIB_PER_GB``.  Registries store
    layers as content-addressed blobs, so a base layer shared by every image is stored once and
    each version adds only its own application layer (an assumption about your images: a
    version that rebuilds the base layers too stores them again).  Sizes are the compressed
    sizes the registry holds.
    """
    base = checks.non_negative("base_mib", base_mib)
    app = checks.non_negative("app_mib", app_mib)
    n = checks.whole("services", services, minimum=0)
    v = checks.whole("versions_kept", versions_kept, minimum=0)
    return mib_to_gb(np.asarray(base) + n * v * np.asarray(app))


def registry_monthly_cost_usd(
    stored_gb: ArrayLike, usd_per_gb_month: float, free_gb: float = 0.0
) -> float | np.ndarray:
    """Monthly storage bill in USD: ``max(stored_gb - free_gb, 0) * usd_per_gb_month``.

    Google Artifact Registry lists 0.5 GB free and 0.10 USD per GB-month above it
    (cloud.google.com/artifact-registry/pricing); pass your provider's figures.
    """
    stored = checks.non_negative("stored_gb", stored_gb)
    price = float(checks.non_negative("usd_per_gb_month", usd_per_gb_month))
    free = float(checks.non_negative("free_gb", free_gb))
    return numeric.scalar_or_array(np.maximum(np.asarray(stored) - free, 0.0) * price)


def pull_transfer_cost_usd(
    pulls: ArrayLike,
    image_mib: ArrayLike,
    tiers: list[tuple[float, float]],
    *,
    cache_hit_share: ArrayLike = 0.0,
) -> float | np.ndarray:
    """USD a month for the bytes of ``pulls`` pulls that leave the registry's location.

    Formula: :func:`cloudpad.models.cost.transfer_cost` of ``pulls (1 - h) image_mib`` converted
    to GB, under the provider's tiered per-GB prices ``tiers``.  Pulls to nodes in the
    registry's own region are free at the large providers (Artifact Registry: "Data moves
    within the same location ... Free"), so count only the pulls that cross regions or go to
    the internet.
    """
    n = checks.non_negative("pulls", pulls)
    size = checks.non_negative("image_mib", image_mib)
    h = checks.probability("cache_hit_share", cache_hit_share)
    gb = mib_to_gb(np.asarray(n) * (1.0 - np.asarray(h)) * np.asarray(size))
    return cost.transfer_cost(gb, tiers)


__all__ = [
    "DEBIAN_MIB",
    "DISTROLESS_STATIC_MIB",
    "FARGATE_EXAMPLE_IMAGE_MB",
    "FARGATE_EXAMPLE_START_S",
    "MIB_PER_GB",
    "SLACKER_PULL_SHARE",
    "SLACKER_READ_SHARE",
    "SpikeOutcome",
    "blocked_scaleout_loss",
    "boot_success_probability",
    "expected_ready_time_s",
    "fleet_availability",
    "lazy_speedup",
    "mib_to_gb",
    "pull_time_s",
    "pull_transfer_cost_usd",
    "ready_time_cdf",
    "ready_time_s",
    "registry_monthly_cost_usd",
    "registry_storage_gb",
    "replicas_over_time",
    "sample_ready_times_s",
    "spike_outcome",
]
