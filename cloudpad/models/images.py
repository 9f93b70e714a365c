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
  attempts is geometric, drawn by inverse transform from uniforms that every design shares
  (common random numbers, :func:`boot_attempts`).
* Spare capacity (:func:`compare`): without it a pod waits for the cluster autoscaler, which
  "checks for any unschedulable pods every 10 seconds (configurable by ``--scan-interval``
  flag)", and for a node to be provisioned, which "almost entirely depends on the cloud
  provider" (kubernetes/autoscaler, ``cluster-autoscaler/FAQ.md``); with it, pods land on room
  held by low-priority placeholder pods (the FAQ's overprovisioning) and VMs come from an EC2
  Auto Scaling warm pool of instances that "have already completed the bootup initialization
  process" (Amazon EKS and EC2 Auto Scaling user guides, warm pools).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import partial

import numpy as np
import pandas as pd
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
    return t_ok + (boot_attempts(uniform_draws(rng, (m, n)), q) - 1.0) * t_fail


def uniform_draws(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform draws on ``(0, 1]`` (``1 - U[0, 1)``), so that their logarithm is finite."""
    return 1.0 - rng.random(shape)


def boot_attempts(uniforms: ArrayLike, success_p: float) -> np.ndarray:
    """Attempts until a boot succeeds, one per uniform draw on ``(0, 1]`` (inverse transform).

    Formula: ``N = 1 + floor(ln U / ln(1 - q))``, so ``P(N > n) = P(U <= (1 - q)^n) =
    (1 - q)^n``, the geometric law of :func:`expected_ready_time_s`; ``q = 1`` gives 1.  The
    same draws give every design its attempts (common random numbers, a standard variance
    reduction): a design whose boot succeeds more often never needs more attempts in the same
    trial, so the difference between two designs carries no sampling noise of its own.
    """
    u = np.asarray(checks.as_float("uniforms", uniforms), dtype=float)
    if np.any((u <= 0) | (u > 1)):
        raise InputError("uniforms must lie within (0, 1]")
    q = float(checks.probability("success_p", success_p))
    if q <= 0:
        raise InputError(f"success_p must be > 0 (a boot that never succeeds), got {success_p!r}")
    if q >= 1:
        return np.ones(u.shape)
    return 1.0 + np.floor(np.log(u) / np.log1p(-q))


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


# --------------------------------------------------------------------------- like for like
#: The five ways of shipping compared, in the order of the article's tables.
WAYS: tuple[str, ...] = (
    "VM, configured at boot",
    "VM, baked image (Packer)",
    "container, unoptimised image",
    "container, distroless + app",
    "container, unoptimised, lazy pull",
)
#: Short names of :data:`WAYS` in the key results (``lost_boot``, ``ready_slim_s``, ...).
SHORT: dict[str, str] = dict(zip(WAYS, ("boot", "baked", "fat", "slim", "lazy"), strict=True))
#: Spare capacity kept running for a step: ``"none"`` (every new replica needs a machine) or
#: ``"warm"`` (the first ``warm_spare_replicas`` start on capacity already running).
CAPACITY: tuple[str, ...] = ("none", "warm")
#: The stages of :class:`StartPath`, in the order they run.
STAGES: tuple[str, ...] = (
    "scan_s",
    "provision_s",
    "join_s",
    "schedule_s",
    "pull_s",
    "install_s",
    "app_start_s",
)


@dataclass(frozen=True)
class StartPath:
    """The stages of one replica's start on one kind of capacity, in seconds, one after another.

    ``scan_s`` is the node autoscaler's scan interval when the start waits for a new node: the
    pods turn pending at a random moment between two scans, so the wait is uniform on
    ``[0, scan_s]``, mean ``scan_s / 2``.  ``remote_steps`` counts the remote services the
    start calls, each failing with the same probability (:func:`boot_success_probability`).
    """

    scan_s: float = 0.0
    provision_s: float = 0.0
    join_s: float = 0.0
    schedule_s: float = 0.0
    pull_s: float = 0.0
    install_s: float = 0.0
    app_start_s: float = 0.0
    remote_steps: int = 0

    @property
    def fixed_s(self) -> float:
        """Seconds of every stage but the scan wait."""
        return float(sum(getattr(self, name) for name in STAGES[1:]))

    @property
    def mean_ready_s(self) -> float:
        """Mean seconds from the scale-out decision to serving when no boot fails.

        Formula: ``fixed_s + scan_s / 2``.
        """
        return self.fixed_s + self.scan_s / 2.0


@dataclass(frozen=True)
class Way:
    """One way of shipping: its start on warm spare capacity and its start with none."""

    warm: StartPath
    cold: StartPath


@dataclass(frozen=True)
class Scenario:
    """The inputs of :func:`compare`: the article's parameters, the replica's vCPUs and price.

    Units are in the names (requests/s, ms, s, MiB, MiB/s, USD/hour); ``workers`` is the
    replica's vCPUs, one worker each, and ``price_per_hour_usd`` its on-demand price.  The
    meaning of each is declared once, in the article's parameters cell.
    """

    baseline_rps: float
    spike_rps: float
    service_ms: float
    target_utilization: float
    workers: int
    price_per_hour_usd: float
    decide_s: float
    vm_boot_s: float
    autoscaler_scan_s: float
    node_join_s: float
    pod_start_s: float
    install_s: float
    app_start_s: float
    app_mib: float
    fat_image_mib: float
    image_layers: int
    throughput_mib_per_s: float
    registry_rtt_ms: float
    boot_steps: int
    step_failure_p: float
    fail_detect_s: float
    slowed_wait_ms: float
    warm_spare_replicas: int
    horizon_s: float
    trials: int
    seed: int

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, object], **given: object) -> Scenario:
        """The scenario whose fields are ``given`` or read by name from ``namespace``.

        ``namespace`` is typically a notebook's ``globals()``; a field found in neither raises
        :class:`InputError` naming it.
        """
        values, missing = {}, []
        for f in fields(cls):
            if f.name in given:
                values[f.name] = given[f.name]
            elif f.name in namespace:
                values[f.name] = namespace[f.name]
            else:
                missing.append(f.name)
        if missing:
            raise InputError(f"no value for {', '.join(missing)} (fields of images.Scenario)")
        return cls(**values)


def ways_of_shipping(s: Scenario) -> dict[str, Way]:
    """The five :data:`WAYS` with their warm and cold starts (:class:`StartPath`), in seconds.

    * A VM configured at boot provisions and boots, installs (``install_s``) and starts, calling
      ``boot_steps`` remote services; a baked VM only boots and starts, one remote call.
    * A container pulls its image (:func:`pull_time_s`: the unoptimised image, the distroless
      base plus the application layer, or the unoptimised image lazily, Slacker's 6.4 %).
    * Warm: a VM comes from a warm pool, already booted and configured, and only starts its
      application, with nothing remote left to fail; a pod lands on room held for it, then is
      scheduled, pulls and starts (one remote call, the registry).
    * Cold: a pod waits for the node autoscaler's scan, a machine of the same boot as the VM's,
      and the node's join (``node_join_s``: kubelet registration, network plugin, daemon sets),
      then is scheduled, pulls onto an empty cache and starts.
    """
    pull = partial(
        pull_time_s,
        throughput_mib_per_s=s.throughput_mib_per_s,
        layers=s.image_layers,
        registry_latency_ms=s.registry_rtt_ms,
    )
    pulls = {
        WAYS[2]: pull(s.fat_image_mib),
        WAYS[3]: pull(DISTROLESS_STATIC_MIB + s.app_mib),
        WAYS[4]: pull(s.fat_image_mib, read_share=SLACKER_READ_SHARE),
    }
    pre_initialised = StartPath(app_start_s=s.app_start_s)
    boot = {"provision_s": s.vm_boot_s, "app_start_s": s.app_start_s}
    ways = {
        WAYS[0]: Way(
            pre_initialised,
            StartPath(**boot, install_s=s.install_s, remote_steps=s.boot_steps),
        ),
        WAYS[1]: Way(pre_initialised, StartPath(**boot, remote_steps=1)),
    }
    for name, pulled in pulls.items():
        pod = {"schedule_s": s.pod_start_s, "pull_s": float(pulled)}
        pod |= {"app_start_s": s.app_start_s, "remote_steps": 1}
        node = {"scan_s": s.autoscaler_scan_s, "provision_s": s.vm_boot_s, "join_s": s.node_join_s}
        ways[name] = Way(StartPath(**pod), StartPath(**node, **pod))
    return ways


def start_times_s(
    way: Way,
    warm_replicas: int,
    uniforms: np.ndarray,
    scan_phase: np.ndarray,
    step_failure_p: float,
    fail_detect_s: float,
) -> np.ndarray:
    """Seconds from the scale-out decision until each new replica serves, shape of ``uniforms``.

    ``uniforms`` (trials x new replicas, on ``(0, 1]``) and ``scan_phase`` (one per trial, on
    ``[0, 1)``) are the draws every design shares.  The first ``warm_replicas`` replicas take
    the warm path, the others the cold one; each takes ``fixed_s + phase * scan_s +
    (N - 1) fail_detect_s`` with ``N`` from :func:`boot_attempts`.
    """
    n_warm = checks.whole("warm_replicas", warm_replicas, minimum=0)
    u = np.atleast_2d(np.asarray(uniforms, dtype=float))
    phase = np.asarray(scan_phase, dtype=float)[:, None]
    out = np.empty(u.shape)
    for path, cols in ((way.warm, slice(0, n_warm)), (way.cold, slice(n_warm, None))):
        q = float(boot_success_probability(step_failure_p, path.remote_steps))
        tries = boot_attempts(u[:, cols], q)
        out[:, cols] = path.fixed_s + phase * path.scan_s + (tries - 1.0) * fail_detect_s
    return out


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare`: every way of shipping, with no spare and a warm spare.

    ``ready[(way, capacity)]`` holds the seconds after the step at which each new replica
    serves (trials x new replicas) and ``outcomes[(way, capacity)]`` the
    :class:`SpikeOutcome`; ``capacity`` is one of :data:`CAPACITY`.  ``n0`` and ``n1`` are the
    replicas before and after the step, ``excess_rps`` the traffic above the capacity in place,
    ``needed`` the replicas that carry the new traffic at 100 % utilisation, and
    ``spare_monthly_usd`` what the warm spare costs a month, the same for every way.
    """

    scenario: Scenario
    ways: dict[str, Way]
    n0: int
    n1: int
    service_rate_per_s: float
    excess_rps: float
    needed: int
    spare_monthly_usd: float
    t_s: np.ndarray
    ready: dict[tuple[str, str], np.ndarray] = field(repr=False)
    outcomes: dict[tuple[str, str], SpikeOutcome] = field(repr=False)

    def stages(self, capacity: str) -> pd.DataFrame:
        """Seconds per stage of each way's start (the scan wait at its mean), one row per way.

        Also ``ready_s`` (:attr:`StartPath.mean_ready_s`), ``remote_steps``, ``boot_ok``
        (:func:`boot_success_probability`) and ``mean_ready_s``, the mean with failed boots
        retried (:func:`expected_ready_time_s`).
        """
        checks.choice("capacity", capacity, CAPACITY)
        rows = {}
        for name, way in self.ways.items():
            path = way.warm if capacity == "warm" else way.cold
            ok = float(boot_success_probability(self.scenario.step_failure_p, path.remote_steps))
            row = {stage: getattr(path, stage) for stage in STAGES}
            row["scan_s"] = path.scan_s / 2.0
            row |= {"ready_s": path.mean_ready_s, "remote_steps": path.remote_steps}
            row["boot_ok"] = ok
            fail = self.scenario.fail_detect_s
            row["mean_ready_s"] = float(expected_ready_time_s(path.mean_ready_s, fail, ok))
            rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    def table(self) -> pd.DataFrame:
        """Means over the trials per (capacity, way): requests ``lost`` if shed, ``slowed``,
        ``queued`` instead and ``mean_queue_delay_s``, ``recovered_s`` (capacity covers the
        traffic) and ``full_fleet_s`` (the last new replica serves), in requests and seconds."""
        rows = {}
        for capacity, name in ((c, n) for c in CAPACITY for n in self.ways):
            run, summary = self.outcomes[name, capacity], self.outcomes[name, capacity].summary()
            row = {k: summary[f"{k}_mean"] for k in ("lost", "slowed", "queued")}
            row["mean_queue_delay_s"] = summary["mean_queue_delay_s_mean"]
            row["recovered_s"] = float(np.mean(run.recovered_s))
            row["full_fleet_s"] = float(self.ready[name, capacity].max(axis=1).mean())
            rows[capacity, name] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    def mean_capacity_rps(self, way: str, capacity: str) -> np.ndarray:
        """Mean capacity over the trials at each time of ``t_s``, requests/s."""
        replicas = replicas_over_time(self.t_s, self.n0, self.ready[way, capacity])
        return replicas.mean(axis=0) * self.scenario.workers * self.service_rate_per_s

    def key_results(self) -> dict[str, float]:
        """The numbers the article's conclusion rests on, by name.

        ``lost_<way>`` / ``lost_<way>_cold`` (no spare: VMs / containers), ``lost_<way>_warm``
        (warm spare), ``ready_<way>_s`` (VMs without spare, containers on spare room),
        ``ready_<container>_cold_s``, ``ready_vm_warm_s``; ``ratio_cold`` (configured at
        boot over distroless, both without spare) and ``ratio_unequal`` (configured at
        boot without spare over distroless with it, the unequal comparison); the fleet
        (``n0``, ``n1``, ``new``, ``needed_new``, ``workers``, ``excess_rps``, ``lost_floor``,
        the requests lost during the decision alone), ``delay_boot_s`` (mean queueing delay,
        configured at boot, no spare), ``full_boot_s``, ``full_baked_s`` and the spare
        (``spares``, ``spares_usd``, and ``spare_utilization``, the utilisation after the step
        once the spares serve and before any cold replica does).
        """
        table, s = self.table(), self.scenario
        out: dict[str, float] = {}
        for name, short in SHORT.items():
            vm = name.startswith("VM")
            out[f"lost_{short}" if vm else f"lost_{short}_cold"] = table.loc[("none", name), "lost"]
            out[f"lost_{short}_warm"] = table.loc[("warm", name), "lost"]
            if vm:
                out[f"ready_{short}_s"] = self.ways[name].cold.mean_ready_s
            else:
                out[f"ready_{short}_s"] = self.ways[name].warm.mean_ready_s
                out[f"ready_{short}_cold_s"] = self.ways[name].cold.mean_ready_s
        out["ready_vm_warm_s"] = self.ways[WAYS[1]].warm.mean_ready_s
        out["ratio_cold"] = out["lost_boot"] / out["lost_slim_cold"]
        out["ratio_unequal"] = out["lost_boot"] / out["lost_slim_warm"]
        out |= {"n0": self.n0, "n1": self.n1, "new": self.n1 - self.n0, "workers": s.workers}
        out |= {"needed_new": max(self.needed - self.n0, 0), "excess_rps": self.excess_rps}
        out["lost_floor"] = self.excess_rps * s.decide_s
        out["delay_boot_s"] = table.loc[("none", WAYS[0]), "mean_queue_delay_s"]
        out["full_boot_s"] = table.loc[("none", WAYS[0]), "full_fleet_s"]
        out["full_baked_s"] = table.loc[("none", WAYS[1]), "full_fleet_s"]
        out |= {"spares": s.warm_spare_replicas, "spares_usd": self.spare_monthly_usd}
        serving = (self.n0 + min(s.warm_spare_replicas, self.n1 - self.n0)) * s.workers
        out["spare_utilization"] = s.spike_rps / (serving * self.service_rate_per_s)
        return {k: float(v) if not isinstance(v, int) else v for k, v in out.items()}


def compare(s: Scenario) -> Comparison:
    """A step in traffic met by each way of shipping, with no spare capacity and a warm spare.

    The fleet holds ``target_utilization``
    (:func:`cloudpad.models.queueing.servers_for_utilization`), so the step takes it from
    ``n0`` to ``n1`` replicas of ``workers`` workers serving ``1000 / service_ms`` requests a
    second each.  The autoscaler decides ``decide_s`` after
    the step; each new replica then serves after :func:`start_times_s` (the first
    ``warm_spare_replicas`` warm, the rest cold), and :func:`spike_outcome` counts the requests
    lost, slowed or queued over ``horizon_s`` on a 1-second grid.  All designs and both
    capacities share one set of random draws (common random numbers): per trial and replica a
    uniform for the boot attempts, per trial the phase of the autoscaler's scan.  The warm
    spare costs ``price_per_hour_usd * warm_spare_replicas * 730`` USD a month
    (:func:`cloudpad.models.cost.monthly_cost`) whichever way uses it.  A step that the
    capacity in place already carries is refused (nothing to compare).
    """
    mu = 1000.0 / float(checks.positive("service_ms", s.service_ms))
    w = checks.whole("workers", s.workers, minimum=1)
    traffic = np.array([s.baseline_rps, s.spike_rps], dtype=float)
    n0, n1 = (
        int(n) for n in queueing.servers_for_utilization(traffic, w * mu, s.target_utilization)
    )
    excess = float(s.spike_rps) - n0 * w * mu
    if excess <= 0:
        raise InputError(
            f"spike_rps = {s.spike_rps:g} fits the {n0 * w * mu:g} requests/s already running; "
            "raise spike_rps above it to compare the ways of shipping"
        )
    spare = checks.whole("warm_spare_replicas", s.warm_spare_replicas, minimum=0)
    trials = checks.whole("trials", s.trials, minimum=1)
    rng = np.random.default_rng(checks.whole("seed", s.seed, minimum=0))
    uniforms, phase = uniform_draws(rng, (trials, n1 - n0)), rng.random(trials)
    t = np.arange(0.0, float(checks.positive("horizon_s", s.horizon_s)), 1.0)
    ways = ways_of_shipping(s)
    ready, outcomes = {}, {}
    for name, way in ways.items():
        for capacity, warm in zip(CAPACITY, (0, spare), strict=True):
            at = s.decide_s + start_times_s(
                way, warm, uniforms, phase, s.step_failure_p, s.fail_detect_s
            )
            replicas = replicas_over_time(t, n0, at)
            run = spike_outcome(t, s.spike_rps, replicas, w, mu, s.slowed_wait_ms / 1000.0)
            ready[name, capacity], outcomes[name, capacity] = at, run
    return Comparison(
        scenario=s,
        ways=ways,
        n0=n0,
        n1=n1,
        service_rate_per_s=mu,
        excess_rps=excess,
        needed=int(queueing.servers_for_utilization(s.spike_rps, w * mu, 1.0)),
        spare_monthly_usd=float(cost.monthly_cost(s.price_per_hour_usd, spare)),
        t_s=t,
        ready=ready,
        outcomes=outcomes,
    )


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
    "CAPACITY",
    "DEBIAN_MIB",
    "DISTROLESS_STATIC_MIB",
    "FARGATE_EXAMPLE_IMAGE_MB",
    "FARGATE_EXAMPLE_START_S",
    "MIB_PER_GB",
    "SHORT",
    "SLACKER_PULL_SHARE",
    "SLACKER_READ_SHARE",
    "STAGES",
    "WAYS",
    "Comparison",
    "Scenario",
    "SpikeOutcome",
    "StartPath",
    "Way",
    "blocked_scaleout_loss",
    "boot_attempts",
    "boot_success_probability",
    "compare",
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
    "start_times_s",
    "uniform_draws",
    "ways_of_shipping",
]
